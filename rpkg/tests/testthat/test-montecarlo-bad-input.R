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
  fit <- aiscv(function(x) x^2, input_law(mc_normal()), budget = 1000, seed = 1)
  expect_true(fit$cv_degenerate[[1]])  # J = 1: g_1 / g_alpha is constant
  expect_true(is.finite(coef(fit)))
  expect_output(print(summary(fit)), "Control variate not identified")
  # points on a line: every fitted covariance is singular; the jitter grows and is reported
  line <- input_law(sample = function(n) { z <- rnorm(n); cbind(z, z) }, dim = 2,
                    log_density = function(x) dnorm(x[, 1], log = TRUE))
  f2 <- aiscv(function(x) x[, 1]^2, line, budget = 1000, jitter = 0, adapt_frac = 0.2, seed = 2)
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
