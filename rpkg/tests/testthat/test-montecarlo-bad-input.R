test_that("aiscv rejects bad input with messages naming the argument", {
  n01 <- input_law(mc_normal())
  expect_error(aiscv(function(x) x^2, n01, budget = 50, seed = 1), "`budget` = 50",
               class = "tessera_invalid_argument")
  expect_error(aiscv(function(x) { y <- x^2; y[8] <- NaN; y }, n01, budget = 1000, seed = 1),
               "NaN at row 8", class = "tessera_invalid_argument")
  expect_error(aiscv(function(x) { y <- x^2; y[3] <- Inf; y }, n01, budget = 1000, seed = 1),
               "infinite value at row 3", class = "tessera_invalid_argument")
  expect_error(aiscv(function(x) cbind(x, x, x), n01, budget = 1000, n_outputs = 2, seed = 1),
               "100 x 2", class = "tessera_invalid_argument")
  expect_error(aiscv(function(x) x[-1, ], n01, budget = 1000, seed = 1), "one row per point")
  expect_error(aiscv(function(x) cbind(x^2, x^4), n01, budget = 1000, weights = c(1, 0), seed = 1),
               "`weights` must be positive", class = "tessera_invalid_argument")
  expect_error(aiscv(function(x) cbind(x^2, x^4), n01, budget = 1000, weights = c(1, -2), seed = 1),
               "entry 2")
  expect_error(aiscv(function(x) x[, 1], list(n01, input_law(mc_normal(), mc_normal())), budget = 1000, seed = 1),
               "dimension", class = "tessera_invalid_argument")
  expect_error(aiscv(function(x) x^2, "normal", budget = 1000), "`inputs` must be")
  expect_error(aiscv(function(x) x^2, n01, budget = -5), "`budget`")
  expect_error(aiscv(function(x) x^2, n01, batch_frac = 2), "`batch_frac`")
  expect_error(aiscv(function(x) x^2, n01, family = "t"), "should be one of")
  expect_error(aiscv(42, n01), "`phi` must be a function")
  expect_error(aiscv(function(x) x * 0, n01, budget = 1000, seed = 1), "zero at all",
               class = "tessera_invalid_argument")
  expect_error(aiscv(function(x) rep("a", nrow(x)), n01, budget = 1000, seed = 1), "numeric")
})

test_that("degenerate control variates and singular covariances are handled and reported", {
  # J = 1 without the defensive component: g_1 / g_alpha is constant
  fit <- aiscv(function(x) x^2, input_law(mc_normal()), budget = 1000, defensive = 0, seed = 1)
  expect_true(fit$cv_degenerate[[1]])
  expect_true(is.finite(coef(fit)))
  expect_output(print(summary(fit)), "Control variate not identified")
  # points on a line: every fitted covariance is singular; the jitter grows and is reported
  line <- input_law(sample = function(n) { z <- rnorm(n); cbind(z, z) }, dim = 2,
                    log_density = function(x) dnorm(x[, 1], log = TRUE))
  f2 <- aiscv(function(x) x[, 1]^2, line, budget = 1000, jitter = 0, shrinkage = FALSE, adapt_frac = 0.2,
              seed = 2)
  expect_gt(f2$history$jitter[1], 0)
})

test_that("input laws and sobol_aiscv reject bad input", {
  expect_error(mc_normal(sd = 0), "`sd`")
  expect_error(mc_uniform(1, 0), "`max`")
  expect_error(mc_gamma(-1), "`shape`")
  expect_error(mc_lognormal(mean = 1, cv = -1), "`cv`")
  expect_error(input_law(), "at least one marginal")
  expect_error(input_law(mc_normal(), 3), "input 2")
  expect_error(input_law(mc_normal(), mc_normal(), correlation = diag(3)), "2 x 2")
  bad_cor <- input_law(mc_normal(), mc_normal(), correlation = matrix(c(1, 2, 2, 1), 2))
  expect_error(aiscv(function(x) x[, 1], bad_cor, budget = 1000, seed = 1), "positive definite")
  u2 <- input_law(a = mc_uniform(), b = mc_uniform())
  expect_error(sobol_aiscv(function(x) x[, 1], u2, budget = 300, seed = 1), "use at least 400 model runs",
               class = "tessera_invalid_argument")
  expect_error(sobol_aiscv(function(x) rep(1, nrow(x)), u2, budget = 2000, seed = 1), "no variance",
               class = "tessera_invalid_argument")
  expect_error(sobol_aiscv(function(x) { y <- x[, 1]; y[4] <- NA; y }, u2, budget = 2000, seed = 1), "row 4")
  expect_error(sobol_aiscv(function(x) x, u2, budget = 2000, seed = 1), "numeric vector")
  expect_error(sobol_aiscv(function(x) x[, 1], u2, budget = 2000, bogus = 1), "bogus")
  expect_error(sobol_aiscv(function(x) x[, 1], list(u2)), "independent built-in marginals")
})

test_that("the stability options and tell() reject bad input", {
  n01 <- input_law(mc_normal())
  expect_error(aiscv(function(x) x^2, n01, budget = 1000, defensive = 1), "`defensive`")
  expect_error(aiscv(function(x) x^2, n01, budget = 1000, defensive = -0.1), "`defensive`")
  expect_error(aiscv(function(x) x^2, n01, budget = 1000, shrinkage = "yes"), "`shrinkage`")
  expect_error(sobol_aiscv(function(x) x[, 1], input_law(a = mc_normal(), b = mc_normal()), budget = 2000,
                           defensive = NA), "`defensive`")
  expect_error(aiscv(function(x) cbind(x^2, x^4), n01, budget = 1000, weights = c(1, 1, 1), seed = 1),
               "one entry per expectation", class = "tessera_invalid_argument")
  req <- aiscv(NULL, n01, budget = 1000, seed = 1)
  expect_error(tell(req), "`y` is missing")
  expect_error(tell(req, req$X[-1, ]), "one row per point")
  expect_error(tell(req, cbind(req$X^2, NaN)), "NaN at row 1")
  expect_error(tell(42, 1), "must be a request")
  sreq <- sobol_aiscv(NULL, input_law(a = mc_normal(), b = mc_normal()), budget = 2000, seed = 1)
  expect_error(tell(sreq, sreq$X[-1, 1]), "one value per row")
  y <- sreq$X[, 1]
  y[5] <- Inf
  expect_error(tell(sreq, y), "infinite value at row 5")
})
