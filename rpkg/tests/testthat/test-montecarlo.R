test_that("aiscv estimates Gaussian moments within 4 standard errors", {
  fit <- aiscv(function(x) cbind(x^2, x^4, x^6), input_law(mc_normal()), budget = 3000, seed = 1)
  expect_s3_class(fit, c("aiscv", "tessera_fit"))
  truth <- c(1, 3, 15)
  expect_true(all(abs(coef(fit) - truth) < 4 * fit$se))
  expect_equal(dim(vcov(fit)), c(3, 3))
  expect_equal(nobs(fit), 3000)
  ci <- confint(fit)
  expect_true(all(ci[, 1] < coef(fit) & coef(fit) < ci[, 2]))
  expect_equal(nrow(tidy(fit)), 3)
  expect_equal(glance(fit)$n_adapt + glance(fit)$n_final, 3000)
  expect_output(print(fit), "aISCV: 3 expectation")
  expect_output(print(summary(fit)), "Adaptation history")
  pdf(NULL); on.exit(dev.off())
  expect_invisible(plot(fit))
})

test_that("set.seed makes aiscv repeatable and the deferred mode gives the same fit", {
  phi <- function(x) cbind(x[, 1]^2, exp(x[, 2]))
  inputs <- input_law(a = mc_normal(), b = mc_beta(2, 3))
  set.seed(3); f1 <- aiscv(phi, inputs, budget = 1500)
  set.seed(3); f2 <- aiscv(phi, inputs, budget = 1500)
  expect_identical(coef(f1), coef(f2))
  req <- aiscv(NULL, inputs, budget = 1500, seed = 9)
  expect_s3_class(req, "aiscv_request")
  expect_output(print(req), "tell")
  expect_equal(colnames(req$X), c("a", "b"))
  while (inherits(req, "aiscv_request")) req <- tell(req, phi(req$X))
  expect_identical(coef(req), coef(aiscv(phi, inputs, budget = 1500, seed = 9)))
  # E[exp(B)], B ~ Beta(2, 3), by numerical integration
  truth <- integrate(function(b) exp(b) * dbeta(b, 2, 3), 0, 1)$value
  expect_true(abs(coef(req)[2] - truth) < 4 * req$se[2])
})

test_that("aiscv with one law per expectation, a copula and a user law", {
  laws <- lapply(c(-1, 0, 2), function(m) input_law(mc_normal(m, 1)))
  fit <- aiscv(function(x) x[, 1]^2, laws, budget = 3000, seed = 2)
  expect_true(all(abs(coef(fit) - (1 + c(-1, 0, 2)^2)) < 4 * fit$se))
  cop <- input_law(mc_normal(), mc_normal(), correlation = matrix(c(1, 0.5, 0.5, 1), 2))
  fc <- aiscv(function(x) x[, 1] * x[, 2] + 1, cop, budget = 2000, seed = 4)
  expect_true(abs(coef(fc) - 1.5) < 4 * fc$se)
  user <- input_law(sample = function(n) matrix(rexp(n)), dim = 1,
                    log_density = function(x) dexp(x[, 1], log = TRUE))
  fu <- aiscv(function(x) x^2, user, budget = 2000, seed = 5)
  expect_true(abs(coef(fu) - 2) < 4 * fu$se)
})

test_that("sobol_aiscv recovers the Ishigami indices and supports the deferred mode", {
  a <- 7; b <- 0.1
  V1 <- 0.5 * (1 + b * pi^4 / 5)^2; V2 <- a^2 / 8; V13 <- b^2 * pi^8 * (1 / 18 - 1 / 50)
  V <- V1 + V2 + V13
  ishigami <- function(x) sin(x[, 1]) + a * sin(x[, 2])^2 + b * x[, 3]^4 * sin(x[, 1])
  inputs <- input_law(x1 = mc_uniform(-pi, pi), x2 = mc_uniform(-pi, pi), x3 = mc_uniform(-pi, pi))
  fit <- sobol_aiscv(ishigami, inputs, budget = 2e4, seed = 11)
  expect_s3_class(fit, "sobol_aiscv")
  expect_true(all(abs(fit$first - c(V1, V2, 0) / V) < 4 * fit$first_se + 1e-9))
  expect_true(all(abs(fit$total - c(V1 + V13, V2, V13) / V) < 4 * fit$total_se + 1e-9))
  expect_named(coef(fit), c("S_x1", "S_x2", "S_x3", "T_x1", "T_x2", "T_x3"))
  expect_equal(nrow(tidy(fit)), 6)
  expect_output(print(fit), "Sobol' indices by aISCV")
  expect_output(print(summary(fit)), "Underlying expectations")
  pdf(NULL); on.exit(dev.off())
  expect_invisible(plot(fit))
  req <- sobol_aiscv(NULL, inputs, budget = 4000, total = FALSE, seed = 3)
  while (inherits(req, "sobol_aiscv_request")) req <- tell(req, ishigami(req$X))
  direct <- sobol_aiscv(ishigami, inputs, budget = 4000, total = FALSE, seed = 3)
  expect_identical(req$first, direct$first)
  expect_length(req$total_lower, 0)
})

test_that("tell() works whichever of tessera and sensitivity is attached last", {
  skip_if_not_installed("sensitivity")
  suppressPackageStartupMessages(requireNamespace("sensitivity"))
  inputs <- input_law(a = mc_normal(), b = mc_normal())
  model <- function(x) x[, 1] + 2 * x[, 2]
  direct <- sobol_aiscv(model, inputs, budget = 1500, total = FALSE, seed = 4)
  # A bare tell() as typed at the console, looked up on the search path.
  run_deferred <- function() {
    req <- sobol_aiscv(NULL, inputs, budget = 1500, total = FALSE, seed = 4)
    while (inherits(req, "sobol_aiscv_request")) {
      req <- eval(quote(tell(r, v)), list(r = req, v = model(req$X)), globalenv())
    }
    req
  }
  on.exit(if ("package:sensitivity" %in% search()) detach("package:sensitivity"), add = TRUE)
  # sensitivity attached after tessera: its generic comes first on the search path
  library(sensitivity, pos = 2, warn.conflicts = FALSE, quietly = TRUE)
  expect_identical(environment(get("tell", envir = globalenv())), asNamespace("sensitivity"))
  expect_identical(run_deferred()$first, direct$first)
  detach("package:sensitivity")
  # sensitivity attached before tessera: tessera's generic comes first
  if ("package:tessera" %in% search()) {
    library(sensitivity, pos = match("package:tessera", search()) + 1, warn.conflicts = FALSE, quietly = TRUE)
    expect_identical(environment(get("tell", envir = globalenv())), asNamespace("tessera"))
    expect_identical(run_deferred()$first, direct$first)
  }
  # Either generic on a tessera request, and tessera's generic on a sensitivity design.
  req <- aiscv(NULL, input_law(mc_normal()), budget = 1000, seed = 2)
  expect_s3_class(sensitivity::tell(req, req$X^2), "aiscv_request")
  X1 <- data.frame(a = rnorm(50), b = rnorm(50))
  X2 <- data.frame(a = rnorm(50), b = rnorm(50))
  des <- sensitivity::soboljansen(model = NULL, X1 = X1, X2 = X2, nboot = 0)
  des2 <- des
  tessera::tell(des, model(as.matrix(des$X)))      # updates `des` in place, as sensitivity does
  sensitivity::tell(des2, model(as.matrix(des2$X)))
  expect_false(is.null(des$S))
  expect_equal(des$S, des2$S)
})
