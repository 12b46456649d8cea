test_that("presto rejects bad data with messages that name the argument", {
  set.seed(1)
  x <- matrix(rnorm(80), 40, 2)
  y <- factor(rep(1:4, 10), ordered = TRUE)
  expect_error(presto(x, factor(rep(1:2, 20), ordered = TRUE)), "at least 3 levels")
  xn <- x; xn[3, 2] <- NA
  expect_error(presto(xn, y), "`x` must contain only finite values", class = "tessera_invalid_argument")
  xi <- x; xi[1, 1] <- Inf
  expect_error(presto(xi, y), "infinite", class = "tessera_invalid_argument")
  xc <- x; xc[, 2] <- 1
  expect_error(presto(xc, y), "column 2", class = "tessera_invalid_argument")
  # n < K is impossible without empty levels, which are named.
  expect_error(presto(x[1:3, ], factor(1:3, levels = 1:4, ordered = TRUE)), "empty level")
  expect_error(presto(data.frame(a = 1:40, b = letters[1:40]), y), "Non-numeric column")
  expect_error(presto("a", y), "numeric matrix")
  yna <- y; yna[2] <- NA
  expect_error(presto(x, yna), "missing values")
  expect_error(presto(x, y[1:10]), "one value per row")
  expect_error(presto(x, list(1, 2)), "factor, numbers or strings")
})

test_that("presto rejects bad tuning parameters", {
  set.seed(1)
  x <- matrix(rnorm(80), 40, 2)
  y <- factor(rep(1:4, 10), ordered = TRUE)
  expect_error(presto(x, y, lambda = c(0.1, -1)), "`lambda` must hold finite values >= 0")
  expect_error(presto(x, y, lambda = NA), "lambda")
  expect_error(presto(x, y, alpha = 2), "`alpha`")
  expect_error(presto(x, y, nlambda = 0), "nlambda")
  expect_error(presto(x, y, lambda.min.ratio = 1.5), "lambda.min.ratio")
  expect_error(presto(x, y, block.factors = c(1, 1)), "block.factors")
  expect_error(presto(x, y, block.factors = c(1, -1, 1)), "block_factors` must be >= 0")
  expect_error(presto(x, y, penalty.factor = 1), "penalty.factor")
  expect_error(presto(x, y, weights = rep(0, 40)), "`weights` must be positive")
  expect_error(presto(x, y, control = list(tol = 1)), "presto_control")
  expect_error(presto_control(tol = 0), "tol")
  expect_error(presto_control(max_iter = 1.5), "whole number")
  expect_error(presto(x, y, standardize = NA), "standardize")
})

test_that("cv_presto and predict reject bad input", {
  set.seed(1)
  x <- matrix(rnorm(80), 40, 2)
  y <- factor(c(rep(1:3, 13), 4), ordered = TRUE)
  expect_error(cv_presto(x, y), "Too rare: \"4\" \\(1 rows\\)")
  y2 <- factor(rep(1:4, 10), ordered = TRUE)
  expect_error(cv_presto(x, y2, nfolds = 1), "nfolds")
  expect_error(cv_presto(x, y2, foldid = rep(1:6, length.out = 40)), "foldid")
  expect_error(cv_presto(x, y2, type.measure = "auc"), "should be one of")
  expect_error(cv_presto(x, y2, seed = -1), "seed")
  for (th in list(0, 1.5, NA, 2000, "2")) expect_error(cv_presto(x, y2, threads = th), "threads")
  fit <- presto(x, y2, nlambda = 3)
  expect_error(predict(fit, x), "`s` is required")
  expect_error(predict(fit, x[, 1, drop = FALSE], s = fit$lambda[2]), "2 columns")
  expect_error(predict(fit, x, s = -1), "`s` must be a single finite lambda")
  expect_error(predict(fit, x, s = fit$lambda[2], type = "response"), "should be one of")
  expect_error(presto_baseline(x, y2, type = "glm"), "should be one of")
  expect_error(simulate_presto(n = 0), "`n`")
  expect_error(simulate_presto(alpha = c(3, 1)), "increasing")
})

test_that("the issue's bad-input list, one case each, with the fix in the message", {
  set.seed(2)
  x <- matrix(rnorm(120), 40, 3)
  y <- factor(rep(1:4, 10), ordered = TRUE)
  # Fewer than 3 levels (also after dropping empty ones).
  expect_error(presto(x, factor(rep(c("lo", "hi"), 20), levels = c("lo", "hi"), ordered = TRUE)),
               "at least 3 levels.*\"lo\" and \"hi\"|at least 3 levels")
  expect_error(presto(x, factor(rep(1:2, 20), levels = 1:3, ordered = TRUE), drop_empty_levels = TRUE),
               "at least 3 levels")
  # Empty levels are named, and the option drops them.
  ye <- factor(rep(c("a", "c", "d"), length.out = 40), levels = c("a", "b", "c", "d"), ordered = TRUE)
  expect_error(presto(x, ye), "empty level \"b\"")
  expect_error(cv_presto(x, ye), "empty level \"b\"")
  expect_error(presto_baseline(x, ye), "drop_empty_levels")
  # A level too rare for every fold: named, with the count.
  yr <- factor(c(rep(1:3, length.out = 37), 4, 4, 4), ordered = TRUE)
  expect_error(cv_presto(x, yr, nfolds = 5), "\"4\" \\(3 rows\\)")
  # NA / Inf in x, y, weights, newx.
  xn <- x; xn[5, 1] <- NaN
  expect_error(cv_presto(xn, y), "finite", class = "tessera_invalid_argument")
  expect_error(presto_baseline(xn, y), "finite", class = "tessera_invalid_argument")
  expect_error(presto(x, y, weights = c(NA, rep(1, 39))), "weights")
  expect_error(presto(x, y, weights = c(Inf, rep(1, 39))), "weights")
  fit <- presto(x, y, nlambda = 3)
  xi <- x[1:2, ]; xi[1, 2] <- -Inf
  expect_error(predict(fit, xi, s = fit$lambda[2]), "newx|finite")
  # Constant columns (named by position) in every entry point.
  xc <- x; xc[, 3] <- 2
  expect_error(cv_presto(xc, y), "column 3")
  expect_error(presto_baseline(xc, y), "column 3")
  # n < K: cannot have every level.
  expect_error(presto(x[1:2, ], factor(c(1, 3), levels = 1:3, ordered = TRUE)), "empty level")
  # Non-numeric x (matrix of strings, data frame with a factor, a list).
  expect_error(presto(matrix(letters[1:12], 4), y[1:4]), "numeric matrix")
  expect_error(cv_presto(data.frame(a = rnorm(40), f = factor(rep(1:2, 20))), y), "Non-numeric column")
  expect_error(presto_baseline(list(1, 2), y), "numeric matrix")
  # An unordered factor is accepted; the level order used is stated.
  yu <- factor(rep(c("low", "mid", "high"), length.out = 40), levels = c("low", "mid", "high"))
  expect_message(fu <- presto(x, yu, nlambda = 2), "low.*mid.*high")
  expect_equal(fu$levels, c("low", "mid", "high"))
  # lambda < 0 everywhere it can be given.
  expect_error(presto(x, y, lambda = -0.1), "`lambda` must hold finite values >= 0")
  expect_error(cv_presto(x, y, lambda = c(1, -1)), "`lambda` must hold finite values >= 0")
  expect_error(coef(fit, s = -1), "`s` must be a single finite lambda")
})

test_that("methods and helpers reject bad arguments", {
  set.seed(3)
  x <- matrix(rnorm(120), 40, 3)
  y <- factor(rep(1:4, 10), ordered = TRUE)
  fit <- presto(x, y, nlambda = 3)
  cv <- cv_presto(x, y, nlambda = 3, seed = 1)
  expect_error(coef(fit, s = c(0.1, 0.2)), "`s` must be a single")
  expect_error(coef(fit, s = "lambda.min"), "`s` must be a single")
  expect_error(coef(fit, type = "gamma"), "should be one of")
  expect_error(coef(cv, s = "lambda.max"), "should be one of")
  expect_error(predict(cv, x, s = "lambda.best"), "should be one of")
  expect_error(predict(cv, x, crossing = "ignore"), "should be one of")
  expect_error(predict(fit, "a", s = fit$lambda[1]), "numeric matrix")
  expect_error(plot(fit, type = "alpha"), "should be one of")
  expect_error(tidy(fit, s = -2), "`s` must be a single finite lambda")
  po <- presto_baseline(x, y)
  expect_error(predict(po, x[, 1:2]), "3 columns")
  expect_error(predict(po, x, type = "response"), "should be one of")
  # Formula interface: a response with 2 levels, a missing variable, newdata not a data frame.
  d <- data.frame(y = y, a = x[, 1], b = x[, 2])
  expect_error(presto(y ~ a + b, data = transform(d, y = factor(rep(1:2, 20)))), "at least 3 levels")
  expect_error(presto(y ~ a + zz, data = d), "zz")
  ff <- presto(y ~ a + b, data = d, nlambda = 2)
  expect_error(predict(ff, as.matrix(d[, -1]), s = ff$lambda[1]), "data frame")
  # binned_calibration and simulate_presto.
  expect_error(binned_calibration(c(0.1, NA), c(0, 1)), "probabilities")
  expect_error(binned_calibration(c(0.1, 0.2), c(0, 2)), "0/1")
  expect_error(binned_calibration(c(0.1, 0.2), c(0, 1), n_bins = 0), "n_bins")
  expect_error(simulate_presto(p = 2.5), "`p`")
  expect_error(simulate_presto(q = 2), "`q`")
  expect_error(simulate_presto(seed = -3), "seed")
  expect_error(presto_control(max_halvings = -1), "max_halvings")
})
