test_that("ldp_sparse_lm rejects bad privacy parameters and bounds", {
  set.seed(1)
  x <- matrix(rnorm(300), 100, 3)
  y <- rnorm(100)
  ok <- function(...) ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = 2, ...)
  for (eps in list(0, -1, NA, Inf, c(1, 2), "a")) {
    expect_error(ldp_sparse_lm(x, y, epsilon = eps, delta = 1e-6, tau_x = 2, tau_y = 2), "epsilon")
  }
  for (delta in list(0, 1, -0.5, 2, NA)) {
    expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = delta, tau_x = 2, tau_y = 2), "delta")
  }
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, tau_x = 2, tau_y = 2), "`delta` is required")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_y = 2), "`tau_x`.*required")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_x = 2), "`tau_y`.*required")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_x = 0, tau_y = 2), "tau_x")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = -1), "tau_y")
  for (tau in list(NA, Inf, -Inf, NaN, c(1, 2), "1")) {
    expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_x = tau, tau_y = 2), "tau_x")
    expect_error(ldp_sparse_lm(x, y, epsilon = 1, method = "interactive", sparsity = 1, tau_x = 2, tau_y = tau), "tau_y")
  }
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, method = "public", x_public = x, tau_x = 2, tau_y = 2,
                             mechanism = "laplace", control = ldp_control(calibration = "classic")), NA)
  expect_error(ldp_sparse_lm(x, y, epsilon = -2, method = "interactive", sparsity = 1, tau_x = 2, tau_y = 2), "epsilon")
  expect_error(ok(control = ldp_control(calibration = "classic", not_pd = "eigen_floor")), NA)
  expect_error(ldp_sparse_lm(x, y, epsilon = 4, delta = 1e-6, tau_x = 2, tau_y = 2,
                             control = ldp_control(calibration = "classic", not_pd = "eigen_floor")),
               "classic", class = "tessera_invalid_argument")
  expect_error(ldp_control(covariance_share = 1), "covariance_share")
  expect_error(ldp_control(covariance_share = 0), "covariance_share")
  expect_error(ok(control = list()), "ldp_control")
  expect_error(ok(seed = -1), "seed")
})

test_that("ldp_sparse_lm rejects bad data and says how many users are needed", {
  set.seed(1)
  x <- matrix(rnorm(300), 100, 3)
  y <- rnorm(100)
  xn <- x; xn[3, 2] <- NA
  expect_error(ldp_sparse_lm(xn, y, epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = 2),
               "finite", class = "tessera_invalid_argument")
  yi <- y; yi[1] <- Inf
  expect_error(ldp_sparse_lm(x, yi, epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = 2), "finite")
  expect_error(ldp_sparse_lm(x, y[-1], epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = 2), "one response per user")
  # d too large for n: the error says how many users are needed (sd1 from the classic calibration).
  sd1 <- 2 * 3 * 2^2 * sqrt(2 * log(1.25 / 5e-7)) / 0.5
  err <- tryCatch(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = 2), error = identity)
  expect_s3_class(err, "tessera_invalid_argument")
  n_needed <- as.numeric(sub(".*at least ([0-9.e+]+) users are needed.*", "\\1", conditionMessage(err)))
  expect_equal(n_needed, ceiling(4 * sd1^2 * 3), tolerance = 0.01)
  xo <- x; xo[1, 1] <- NaN
  expect_error(ldp_sparse_lm(xo, y, epsilon = 1, method = "interactive", sparsity = 1, tau_x = 2, tau_y = 2), "finite")
  f <- ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = 2, seed = 1,
                     control = ldp_control(not_pd = "eigen_floor"))
  expect_false(f$covariance_pd)
  expect_true(f$n_users_needed > 100)
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, method = "interactive", tau_x = 2, tau_y = 2), "sparsity")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, method = "interactive", tau_x = 2, tau_y = 2, sparsity = 4),
               "at most the number of covariates")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, method = "interactive", tau_x = 2, tau_y = 2, sparsity = 1,
                             control = ldp_control(rounds = 200)), "users", class = "tessera_invalid_argument")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, method = "public", tau_x = 2, tau_y = 2), "x_public")
  expect_error(ldp_sparse_lm(x, y, epsilon = 1, delta = 1e-6, method = "public", tau_x = 2, tau_y = 2,
                             x_public = x[1:2, ]), "x_public", class = "tessera_invalid_argument")
  expect_error(truncated_sparse_lm(x[1:3, ], y[1:3], tau_x = 1, tau_y = 1), "n > d")
})

test_that("mechanisms and the client/server functions reject bad input", {
  expect_error(ldp_gaussian(1, sensitivity = 0, epsilon = 1, delta = 1e-5), "sensitivity")
  expect_error(ldp_gaussian(1, sensitivity = 1, epsilon = 1, delta = 0), "delta")
  expect_error(ldp_gaussian(1, sensitivity = 1, epsilon = 2, delta = 1e-5, calibration = "classic"), "analytic")
  expect_error(ldp_laplace(NA_real_, 1, 1), "finite")
  expect_error(ldp_laplace("a", 1, 1), "numeric")
  expect_error(ldp_duchi(c(3, 4), radius = 1, epsilon = 1), "radius")
  expect_error(ldp_duchi(c(0.1, 0.1), radius = 1, epsilon = -1), "epsilon")
  expect_error(gaussian_sigma(1, 0, 1e-5), "epsilon")
  expect_error(ldp_aggregate(), "at least one")
  expect_error(ldp_aggregate(list()), "ldp_report")
  r1 <- ldp_report(c(1, 2), 1, epsilon = 1, delta = 1e-6, tau_x = 1, tau_y = 1)
  r2 <- ldp_report(c(1, 2), 1, epsilon = 2, delta = 1e-6, tau_x = 1, tau_y = 1)
  expect_error(ldp_aggregate(r1, r2), "different settings")
  expect_error(ldp_estimate(r1), "ldp_aggregate")
  expect_error(ldp_estimate(ldp_aggregate(r1), x_public = diag(2)), "public = TRUE")
  expect_error(predict(truncated_sparse_lm(matrix(rnorm(40), 20, 2), rnorm(20), tau_x = 3, tau_y = 3),
                       matrix(0, 2, 3)), "columns")
})
