# PRESTO in R: peers (MASS::polr, glm), closed forms, the interfaces.

ord_data <- function(n = 300, seed = 1) {
  set.seed(seed)
  x <- matrix(runif(n * 3, 0, 2), n, 3, dimnames = list(NULL, c("a", "b", "c")))
  eta <- cbind(-1 + x %*% c(0.5, -0.5, 0), 1 + x %*% c(0.8, -0.5, 0), 3 + x %*% c(0.8, -0.1, 0))
  u <- runif(n)
  y <- 1 + rowSums(u > plogis(eta))
  list(x = x, y = factor(y, levels = 1:4, ordered = TRUE))
}

test_that("the proportional-odds baseline equals MASS::polr with the slopes negated", {
  d <- ord_data()
  po <- presto_baseline(d$x, d$y, type = "po")
  ref <- MASS::polr(d$y ~ d$x, method = "logistic", control = list(reltol = 1e-14, maxit = 1000))
  expect_equal(unname(po$a0), unname(ref$zeta), tolerance = 1e-5)
  expect_equal(unname(po$beta[, 1]), -unname(coef(ref)), tolerance = 1e-5)
  expect_equal(po$loglik, as.numeric(logLik(ref)), tolerance = 1e-8)
  # PRESTO with an unpenalised first block and lambda above lambda_max is the same model.
  fit <- presto(d$x, d$y, block.factors = c(0, 1, 1), nlambda = 2)
  expect_equal(unname(coef(fit, s = fit$lambda[1])[-1, 3]), -unname(coef(ref)), tolerance = 1e-5)
})

test_that("the Logit baseline equals one glm() per threshold", {
  d <- ord_data()
  lg <- presto_baseline(d$x, d$y, type = "logit")
  for (k in 1:3) {
    g <- glm(I(as.integer(d$y) <= k) ~ d$x, family = binomial, control = list(epsilon = 1e-14))
    expect_equal(unname(c(lg$a0[k], lg$beta[, k])), unname(coef(g)), tolerance = 1e-6)
  }
})

test_that("lambda = 0 on a binary covariate gives the empirical cumulative logits", {
  set.seed(3)
  x <- cbind(g = rbinom(400, 1, 0.4))
  y <- factor(sample(1:4, 400, TRUE, prob = c(0.3, 0.3, 0.3, 0.1)), ordered = TRUE)
  fit <- presto(x, y, lambda = 0)
  cf <- coef(fit, s = 0)
  for (k in 1:3) {
    l0 <- qlogis(mean(as.integer(y[x[, 1] == 0]) <= k))
    l1 <- qlogis(mean(as.integer(y[x[, 1] == 1]) <= k))
    expect_equal(unname(cf[, k]), c(l0, l1 - l0), tolerance = 1e-6)
  }
})

test_that("the path: lambda_max zeroes every difference, KKT residuals are small, beta = cumsum(psi)", {
  d <- ord_data()
  fit <- presto(d$x, d$y, nlambda = 8)
  expect_s3_class(fit, c("presto", "tessera_fit"))
  expect_equal(fit$df[1], 0)
  expect_true(all(diff(fit$lambda) < 0))
  expect_true(all(fit$kkt[fit$converged] < 1e-5))
  b <- coef(fit, s = fit$lambda[5])
  p <- coef(fit, s = fit$lambda[5], type = "psi")
  expect_equal(unname(b[-1, ]), unname(t(apply(p[-1, ], 1, cumsum))))
  expect_equal(dim(coef(fit)), c(4, 3, 8))
  # The log-likelihood of the returned (original-scale) coefficients.
  pr <- predict(fit, d$x, s = fit$lambda[5])
  expect_equal(sum(log(pr[cbind(seq_along(d$y), as.integer(d$y))])), fit$loglik[5], tolerance = 1e-8)
  expect_equal(nobs(fit), 300)
  expect_output(print(fit), "PRESTO path")
  expect_output(print(summary(fit)), "levels 1 < 2 < 3 < 4")
  td <- generics::tidy(fit, s = fit$lambda[3])
  expect_equal(nrow(td), 12)
  expect_equal(generics::glance(fit)$nlambda, 8)
})

test_that("the formula interface matches the matrix interface", {
  d <- ord_data()
  df <- data.frame(y = d$y, d$x)
  f1 <- presto(y ~ a + b + c, data = df, nlambda = 5)
  f2 <- presto(d$x, d$y, nlambda = 5)
  expect_equal(f1$beta, f2$beta)
  expect_equal(unname(predict(f1, df[1:5, ], s = f1$lambda[4])),
               unname(predict(f2, d$x[1:5, ], s = f2$lambda[4])))
  cv <- cv_presto(y ~ ., data = df, nlambda = 5, seed = 2)
  expect_equal(dim(predict(cv, df[1:4, ])), c(4, 4))
})

test_that("prediction types and the crossing policies", {
  d <- ord_data()
  fit <- presto(d$x, d$y, nlambda = 5)
  s <- fit$lambda[4]
  p <- predict(fit, d$x, s = s)
  expect_equal(unname(rowSums(p)), rep(1, 300), tolerance = 1e-12)
  cl <- predict(fit, d$x, s = s, type = "class")
  expect_true(is.ordered(cl))
  expect_equal(as.integer(cl), unname(max.col(p, ties.method = "first")))
  lk <- predict(fit, d$x, s = s, type = "link")
  expect_equal(unname(plogis(lk[, 1])), unname(p[, 1]))
  # Separate logits cross far outside the data.
  lg <- presto_baseline(d$x, d$y, type = "logit")
  far <- rbind(c(20, -20, 20), c(-20, 20, -20), c(1, 1, 1))
  pw <- NULL
  expect_warning(pw <- predict(lg, far), "crossing cumulative probabilities")
  expect_true(any(pw < 0))
  expect_error(predict(lg, far, crossing = "error"), "crossing", class = "tessera_numerical_error")
  pc <- predict(lg, far, crossing = "clamp")
  expect_true(all(pc >= 0))
  expect_equal(unname(rowSums(pc)), rep(1, 3))
})

test_that("cv_presto: stratified folds, repeatable with set.seed, lambda.min and lambda.1se", {
  d <- ord_data()
  set.seed(10)
  cv1 <- cv_presto(d$x, d$y, nlambda = 6)
  set.seed(10)
  cv2 <- cv_presto(d$x, d$y, nlambda = 6)
  expect_identical(cv1$foldid, cv2$foldid)
  expect_equal(cv1$cvm, cv2$cvm)
  cv3 <- cv_presto(d$x, d$y, nlambda = 6, foldid = cv1$foldid, threads = 2)
  expect_identical(cv3$cvm, cv1$cvm)  # parallel folds: the same numbers, bit for bit
  expect_identical(cv3$fold_measure, cv1$fold_measure)
  tab <- table(d$y, cv1$foldid)
  expect_true(all(apply(tab, 1, function(r) max(r) - min(r) <= 1)))
  expect_equal(cv1$lambda.min, cv1$lambda[which.min(cv1$cvm)])
  expect_true(cv1$lambda.1se >= cv1$lambda.min)
  expect_equal(coef(cv1), coef(cv1$fit, s = cv1$lambda.min))
  expect_equal(predict(cv1, d$x[1:3, ], s = "lambda.1se"),
               predict(cv1$fit, d$x[1:3, ], s = cv1$lambda.1se))
  dev <- cv_presto(d$x, d$y, nlambda = 4, type.measure = "deviance", seed = 1)
  mis <- cv_presto(d$x, d$y, nlambda = 4, type.measure = "class", seed = 1)
  expect_true(all(dev$cvm > 0))
  expect_true(all(mis$cvm >= 0 & mis$cvm <= 1))
  expect_output(print(cv1), "stratified folds")
  expect_equal(nrow(generics::tidy(cv1)), 6)
  pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(plot(cv1))
  expect_invisible(plot(cv1$fit))
})

test_that("responses: unordered factors, numbers and empty levels", {
  d <- ord_data()
  yu <- factor(as.character(d$y))
  expect_message(f <- presto(d$x, yu, nlambda = 3), "unordered factor")
  expect_equal(f$levels, c("1", "2", "3", "4"))
  expect_message(presto(d$x, as.integer(d$y), nlambda = 3), "sorted values")
  ye <- factor(as.integer(d$y), levels = 1:5, ordered = TRUE)
  expect_error(presto(d$x, ye), "empty level", class = "rlang_error")
  expect_message(f2 <- presto(d$x, ye, drop_empty_levels = TRUE, nlambda = 3), "Dropping empty level")
  expect_equal(length(f2$levels), 4)
})

test_that("soup ships with the package", {
  expect_equal(dim(soup), c(1847, 12))
  expect_equal(as.numeric(table(soup$SURENESS)), c(228, 260, 115, 98, 277, 869))
})

test_that("binned_calibration: closed forms", {
  # Two bins of 50: predictions 0.2 / 0.8, observed rates 0.3 / 0.6.
  p <- rep(c(0.2, 0.8), each = 50)
  e <- c(rep(1, 15), rep(0, 35), rep(1, 30), rep(0, 20))
  expect_equal(binned_calibration(p, e, n_bins = 2), ((0.2 - 0.3)^2 + (0.8 - 0.6)^2) / 2)
  expect_equal(binned_calibration(rev(p), rev(e), n_bins = 2), ((0.2 - 0.3)^2 + (0.8 - 0.6)^2) / 2)
  expect_equal(binned_calibration(rep(0.5, 10), rep(c(0, 1), 5), n_bins = 1), 0)
  expect_error(binned_calibration(c(0.5, 2), c(0, 1)), "probabilities")
  expect_error(binned_calibration(c(0.5, 0.2), c(0, 1), n_bins = 3), "n_bins")
})

test_that("a constrained lambda warm-started from a constrained one reaches the optimum", {
  # Found by stress testing: here the warm-started barrier solve of the second lambda
  # stopped 1.2e-7 above the optimum (Lagrangian KKT residual 9.6e-5); the path now solves
  # such a lambda again from the lambda = Inf fit. Checked against the KKT conditions and
  # against the same lambda solved alone.
  d <- simulate_presto(1000, 100, alpha = seq(-1, 3, length.out = 4), q = 0.03, seed = 6)
  f <- presto(d$x, d$y, lambda = c(0.018, 0.0141), verbose = FALSE)
  expect_true(all(f$constrained))
  expect_true(all(f$converged))
  expect_lt(max(f$kkt), 1e-6)
  g <- presto(d$x, d$y, lambda = 0.0141, verbose = FALSE)
  expect_lt(abs(f$objective[2] - g$objective), 1e-9)
})

test_that("lambda = 0 under the constraint is converged when the last barrier stage is", {
  # Found by stress testing: the first barrier stage (mu = 1e-6) of this fit used all of
  # max_iter and the lambda was flagged as not converged although the last stage converged
  # (Lagrangian KKT residual 5e-11). Only the last stage's convergence is reported now.
  d <- simulate_presto(1000, 100, alpha = c(-1, 1, 3), q = 0.03, seed = 2)
  h <- presto(d$x, d$y, lambda = 0, verbose = FALSE)
  expect_true(h$constrained)
  expect_true(h$converged)
  expect_identical(h$message, "")
  expect_lt(h$kkt, 1e-6)
})
