sim_ldp <- function(n, d, beta, sd = 0.5, seed = 1) {
  set.seed(seed)
  x <- matrix(rnorm(n * d), n, d, dimnames = list(NULL, paste0("x", seq_len(d))))
  list(x = x, y = drop(x %*% beta) + rnorm(n, sd = sd), beta = beta)
}

test_that("gaussian_sigma matches the classic formula and Balle-Wang's equation", {
  expect_equal(gaussian_sigma(2, 0.5, 1e-5, "classic"), 2 * sqrt(2 * log(1.25e5)) / 0.5, tolerance = 1e-14)
  for (eps in c(0.3, 1, 5)) {
    s <- gaussian_sigma(1.5, eps, 1e-6)
    bw <- pnorm(1.5 / (2 * s) - eps * s / 1.5) - exp(eps) * pnorm(-1.5 / (2 * s) - eps * s / 1.5)
    expect_equal(bw, 1e-6, tolerance = 1e-5)
  }
  expect_error(gaussian_sigma(1, 2, 1e-5, "classic"), "analytic", class = "tessera_invalid_argument")
})

test_that("mechanisms: shapes, grid, unbiased Duchi with norm B, distinct rows, OS default", {
  z <- ldp_gaussian(matrix(0, 3, 4), sensitivity = 1, epsilon = 1, delta = 1e-6, seed = 1)
  expect_equal(dim(z), c(3L, 4L))
  info <- attr(z, "mechanism")
  expect_equal(info$calibration, "classic")
  expect_true(all(z / info$grid == round(z / info$grid)))
  expect_false(any(duplicated(as.vector(z))))
  expect_identical(z, ldp_gaussian(matrix(0, 3, 4), sensitivity = 1, epsilon = 1, delta = 1e-6, seed = 1))
  expect_false(identical(ldp_laplace(rep(0, 5), 1, 1), ldp_laplace(rep(0, 5), 1, 1)))
  n <- 20000
  v <- c(0.3, -0.4, 0.2)
  d <- ldp_duchi(matrix(v, n, 3, byrow = TRUE), radius = 1, epsilon = 1, seed = 2)
  B <- attr(d, "mechanism")$output_norm
  expect_equal(B, (exp(1) + 1) / (exp(1) - 1) * 2, tolerance = 1e-12)  # d = 3: E|u1| = 1/2
  expect_equal(sqrt(rowSums(d^2)), rep(B, n), tolerance = 1e-12)
  se <- apply(d, 2, sd) / sqrt(n)
  expect_true(all(abs(colMeans(d) - v) < 4.5 * se))
})

test_that("ldp_sparse_lm recovers a sparse signal (non-interactive, public, interactive)", {
  s <- sim_ldp(2e5, 3, c(0.8, 0, -0.6))
  fit <- ldp_sparse_lm(s$x, s$y, epsilon = 16, delta = 1e-6, tau_x = 3, tau_y = 4, seed = 1)
  expect_s3_class(fit, c("ldp_sparse_lm", "tessera_fit"))
  sd1 <- sqrt((fit$noise_sd[["xy"]]^2 + 2 * fit$noise_sd[["covariance"]]^2) / 2e5)
  expect_true(max(abs(fit$coefficients_unthresholded - s$beta)) < 4.5 * sd1 + 0.02)
  expect_identical(names(coef(fit)), colnames(s$x))
  expect_equal(nobs(fit), 2e5)
  expect_equal(predict(fit, s$x[1:5, ]), drop(s$x[1:5, ] %*% coef(fit)))
  expect_match(privacy_guarantee(fit), "\\(16, 1e-06\\)-local differential privacy")
  expect_equal(attr(privacy_guarantee(fit), "messages_per_user"), 1)
  pub <- sim_ldp(3000, 3, c(0, 0, 0), seed = 2)$x
  fp <- ldp_sparse_lm(s$x, s$y, epsilon = 4, delta = 1e-6, method = "public", tau_x = 3, tau_y = 4,
                      x_public = pub, seed = 1)
  expect_true(max(abs(fp$coefficients_unthresholded - s$beta)) < 4.5 * fp$noise_sd[["xy"]] / sqrt(2e5) + 0.05)
  fi <- ldp_sparse_lm(s$x, s$y, epsilon = 8, method = "interactive", tau_x = 1.5, tau_y = 2,
                      sparsity = 2, seed = 1)
  expect_equal(fi$guarantee$delta, 0)
  expect_identical(fi$support, c(1L, 3L))
  noise <- fi$interactive$duchi_norm / sqrt(3 * fi$interactive$group_size)
  expect_true(sqrt(sum((coef(fi) - s$beta)^2)) < 3 * sqrt(2) * noise)
  expect_output(print(summary(fi)), "Rounds T")
  expect_output(print(fit), "Nonzero coefficients")
  expect_output(print(summary(fit)), "Users needed")
  expect_equal(nrow(tidy(fit)), 3)
  expect_equal(glance(fit)$epsilon, 16)
})

test_that("client/server split: any order and chunking give the same sums and fit", {
  s <- sim_ldp(30000, 2, c(1, 0))
  args <- list(epsilon = 16, delta = 1e-6, tau_x = 3, tau_y = 4, seed = 4)
  r1 <- do.call(ldp_report, c(list(s$x[1:10000, ], s$y[1:10000]), args))
  r2 <- do.call(ldp_report, c(list(s$x[10001:30000, ], s$y[10001:30000], first_user = 10000), args))
  rall <- do.call(ldp_report, c(list(s$x, s$y), args))
  expect_identical(rbind(r1$xy, r2$xy), rall$xy)
  a <- ldp_aggregate(r1, r2)
  b <- ldp_aggregate(r2, ldp_aggregate(r1))
  expect_identical(a$cov_sum, b$cov_sum)
  expect_identical(a$xy_sum, b$xy_sum)
  fit_a <- ldp_estimate(a, control = ldp_control(not_pd = "eigen_floor"))
  expect_identical(coef(fit_a), coef(ldp_estimate(b, control = ldp_control(not_pd = "eigen_floor"))))
  one <- ldp_report(c(0.5, -0.2), 1, epsilon = 1, delta = 1e-6, tau_x = 1, tau_y = 1)
  expect_equal(dim(one$cov_upper), c(1L, 3L))
  expect_output(print(one), "LDP reports of 1 user")
  expect_match(privacy_guarantee(one), "operating system's secure generator", fixed = TRUE)
})

test_that("the by-product estimator is OLS on truncated data, thresholded", {
  s <- sim_ldp(5000, 4, c(1, 0, 0, -0.5), sd = 1)
  fit <- truncated_sparse_lm(s$x, s$y, tau_x = 10, tau_y = 20, threshold = "none")
  expect_equal(unname(coef(fit)), unname(coef(lm(s$y ~ s$x - 1))), tolerance = 1e-8)
  fs <- truncated_sparse_lm(s$x, s$y, tau_x = 10, tau_y = 20)
  expect_identical(fs$support, c(1L, 4L))
  expect_error(privacy_guarantee(fs), "not private")
})

test_that("the formula interface builds the design of model.matrix and predicts on data frames", {
  set.seed(5)
  n <- 3000
  df <- data.frame(a = rnorm(n), b = rnorm(n), g = factor(sample(c("u", "v", "w"), n, TRUE)))
  df$y <- 0.8 * df$a - 0.5 * (df$g == "w") + rnorm(n, sd = 0.5)
  df$a[c(4, 9)] <- NA
  pub <- data.frame(a = rnorm(500), b = rnorm(500), g = factor(sample(c("u", "v", "w"), 500, TRUE)))
  args <- list(epsilon = 4, delta = 1e-6, method = "public", tau_x = 3, tau_y = 4, seed = 3)
  ff <- do.call(ldp_sparse_lm, c(list(y ~ a + b + g, data = df, x_public = pub), args))
  # Independent construction: model.matrix on the complete cases, without the intercept.
  cc <- df[stats::complete.cases(df), ]
  X <- stats::model.matrix(~ a + b + g, cc)[, -1]
  Xp <- stats::model.matrix(~ a + b + g, pub)[, -1]
  fm <- do.call(ldp_sparse_lm, c(list(X, cc$y, x_public = Xp), args))
  expect_identical(coef(ff), coef(fm))
  expect_identical(names(coef(ff)), c("a", "b", "gv", "gw"))
  expect_equal(nobs(ff), n - 2)
  nd <- data.frame(a = c(1, NA, 0), b = c(0, 1, 2), g = factor(c("w", "u", "v"), levels = c("u", "v", "w")))
  expect_equal(predict(ff, nd), c(`1` = sum(coef(ff)[c("a", "gw")]), `2` = NA, `3` = 2 * coef(ff)[["b"]] + coef(ff)[["gv"]]))
  fs <- do.call(ldp_sparse_lm, c(list(y ~ a, data = df, subset = df$b > 0, x_public = pub), args))
  sub <- df[df$b > 0 & !is.na(df$a), ]
  expect_identical(unname(coef(fs)), unname(coef(do.call(ldp_sparse_lm, c(list(sub["a"], sub$y, x_public = pub["a"]), args)))))
  # Matrix fits predict on data frames by column name.
  expect_equal(predict(fm, as.data.frame(X)[1:2, c(4, 3, 2, 1)]), drop(X[1:2, ] %*% coef(fm)), ignore_attr = TRUE)
})

test_that("the formula interface rejects bad input", {
  set.seed(6)
  df <- data.frame(y = rnorm(200), a = rnorm(200), s = letters[1:4][sample(4, 200, TRUE)])
  ok <- list(epsilon = 4, method = "interactive", tau_x = 2, tau_y = 2, sparsity = 1, seed = 1)
  expect_error(do.call(ldp_sparse_lm, c(list(y ~ a, data = as.matrix(df[1:2])), ok)), "data frame")
  expect_error(do.call(ldp_sparse_lm, c(list(~ a, data = df), ok)), "response")
  expect_error(do.call(ldp_sparse_lm, c(list(s ~ a, data = df), ok)), "numeric")
  expect_error(do.call(ldp_sparse_lm, c(list(y ~ 1, data = df), ok)), "no covariates")
  expect_error(do.call(ldp_sparse_lm, c(list(y ~ a, data = df, epsilom = 1), ok)), "epsilom")
  expect_error(do.call(ldp_sparse_lm, c(list(y ~ a + zz, data = df), ok)), "zz")
  f <- do.call(ldp_sparse_lm, c(list(y ~ a, data = df), ok))
  expect_error(predict(f, as.matrix(df["a"])), "data frame")
  expect_error(predict(f, df["y"]), "lacks the variable")
  expect_error(predict(f), "required")
  expect_error(ldp_sparse_lm(as.matrix(df["a"])), "`y`")
})
