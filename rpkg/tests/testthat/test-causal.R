test_that("iv_ate (MR and MDML) recovers the true ATE; Wald does not", {
  d <- sim_iv(20000, 1)
  mr <- iv_ate(y ~ a | z | l, data = d, method = "mr")
  md <- iv_ate(y ~ a | z | l, data = d, learners = "glm", seed = 1)
  wa <- iv_ate(y ~ a | z | l, data = d, method = "wald")
  expect_s3_class(mr, c("iv_ate", "tessera_fit"))
  expect_lt(abs(coef(mr) - 1), 4 * mr$se)
  expect_lt(abs(coef(md) - 1), 4 * md$se)
  expect_gt(abs(coef(wa) - 1), 6 * wa$se)   # the direct effect of z biases the Wald ratio
  dr <- iv_ate(y ~ a | z | l, data = d, method = "dr", learners = "glm", seed = 1)
  expect_gt(abs(coef(dr) - 1), 6 * dr$se)   # so does unmeasured confounding the no-confounding DR
  expect_output(print(dr), "assuming no unmeasured confounding")
  expect_named(mr$beta, c("(Intercept)", "l"))
  expect_lt(abs(mr$beta[["l"]] - 0.5), 4 * mr$beta_se[["l"]])
})

test_that("formula and matrix interfaces agree, and methods work", {
  d <- sim_iv(1500, 2)
  f1 <- iv_ate(y ~ a | z | l, data = d, method = "mdml", learners = "glm", seed = 3)
  f2 <- iv_ate_fit(d$y, d$a, d$z, cbind(l = d$l), learners = "glm", seed = 3)
  expect_equal(coef(f1), coef(f2))
  expect_equal(nobs(f1), 1500)
  expect_equal(vcov(f1)[1, 1], f1$se^2)
  ci <- confint(f1, level = 0.9)
  expect_equal(unname(ci[1, 2] - ci[1, 1]), 2 * qnorm(0.95) * f1$se)
  td <- tidy(f1)
  expect_equal(td$estimate, f1$estimate)
  gl <- glance(f1)
  expect_equal(gl$nobs, 1500)
  expect_output(print(f1), "Multiply debiased ML")
  expect_output(print(summary(f1)), "Learners")
  expect_output(print(summary(iv_ate(y ~ a | z | l, data = d, method = "mr"))), "CATE working model")
  pdf(NULL)
  expect_silent(plot(f1))
  dev.off()
  # Same seed, same answer; set.seed drives the default seed.
  set.seed(9); g1 <- iv_ate(y ~ a | z | l, data = d, learners = "glm")
  set.seed(9); g2 <- iv_ate(y ~ a | z | l, data = d, learners = "glm")
  expect_equal(coef(g1), coef(g2))
})

test_that("user learners given as fit/predict functions are used", {
  d <- sim_iv(1500, 4)
  calls <- 0
  lr <- iv_learner(
    fit = function(x, y, binary) {
      calls <<- calls + 1
      stats::glm.fit(cbind(1, x), y, family = if (binary) stats::binomial() else stats::gaussian())$coefficients
    },
    predict = function(object, newx) drop(cbind(1, newx) %*% object),  # used for mu only
    name = "glm.fit")
  # mu uses the R learner; pi and p the built-in glm.
  f <- iv_ate(y ~ a | z | l, data = d, learners = list(pi = "glm", p = "glm", mu = lr), folds = 3, seed = 1)
  g <- iv_ate(y ~ a | z | l, data = d, learners = "glm", folds = 3, seed = 1)
  expect_equal(calls, 3 * 4)
  expect_equal(coef(f), coef(g), tolerance = 1e-6)
  expect_equal(f$learner_names, c("glm", "glm", "glm.fit"))
})

test_that("selective ML reports its pseudo-risk table", {
  d <- sim_iv(3000, 5)
  f <- iv_ate(y ~ a | z | l, data = d, method = "selective",
              learners = list(pi = c("glm", "mean"), p = c("glm", "mean"), mu = "glm"), seed = 2)
  expect_equal(nrow(f$selection), 4)
  expect_equal(sum(f$selection$selected), 1)
  expect_equal(which(f$selection$selected), which.min(f$selection$pseudo_risk))
  expect_lt(abs(coef(f) - 1), 4 * f$se)
  expect_output(print(summary(f)), "pseudo-risk")
})

test_that("one-sided noncompliance is detected and explained", {
  d <- sim_iv(4000, 6, one_sided = TRUE)
  f <- iv_ate(y ~ a | z | l, data = d, method = "mr")
  expect_true(f$diagnostics$one_sided)
  expect_output(print(f), "one-sided noncompliance")
  expect_lt(abs(coef(f) - 1), 4 * f$se)
})

test_that("instrument coding: logical, factor and 0/1 give the same fit", {
  d <- sim_iv(1500, 7)
  f01 <- iv_ate(y ~ a | z | l, data = d, method = "mr")
  dl <- d; dl$z <- dl$z == 1
  df <- d; df$z <- factor(ifelse(d$z == 1, "yes", "no"), levels = c("no", "yes"), )
  df$a <- factor(ifelse(d$a == 1, "treated", "control"), levels = c("control", "treated"))
  expect_equal(coef(iv_ate(y ~ a | z | l, data = dl, method = "mr")), coef(f01))
  ff <- iv_ate(y ~ a | z | l, data = df, method = "mr")
  expect_equal(coef(ff), coef(f01))
  expect_equal(ff$coding, c(a = "treated", z = "yes"))
})

test_that("factor covariates with unused levels are expanded", {
  d <- sim_iv(1500, 8)
  d$g <- factor(sample(c("a", "b", "c"), nrow(d), TRUE), levels = c("a", "b", "c", "unused"))
  f <- iv_ate(y ~ a | z | l + g, data = d, method = "mr")
  expect_equal(f$variables$covariates, c("l", "gb", "gc"))
  expect_true(is.finite(coef(f)))
})
