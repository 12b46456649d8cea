test_that("iv_ate rejects bad data with messages that name the argument", {
  d <- sim_iv(300, 11)
  expect_error(iv_ate(y ~ a | z | l, data = transform(d, a = a + 1)), "`a` must be binary")
  expect_error(iv_ate(y ~ a | z | l, data = transform(d, z = z * 3)), "`z` must be binary")
  expect_error(iv_ate(y ~ a | z | l, data = transform(d, a = 0), method = "mr"),
               "`a` \\(the treatment\\) is constant", class = "tessera_invalid_argument")
  expect_error(iv_ate(y ~ a | z | l, data = transform(d, z = 1), method = "mr"), "`z` must be binary|is constant")
  dz <- d; dz$z <- 0; dz$z[1] <- 1
  expect_error(iv_ate(y ~ a | z | l, data = dz, method = "mr"), "at least 2 observations in each arm")
  dn <- d; dn$y[3] <- Inf
  expect_error(iv_ate(y ~ a | z | l, data = dn, method = "mr"), "`y` must contain only finite values")
  dna <- d; dna$l[4] <- NA
  expect_equal(nobs(iv_ate(y ~ a | z | l, data = dna, method = "mr")), 299)   # na.omit by default
  expect_error(iv_ate(y ~ a | z | l, data = dna, method = "mr", na.action = na.fail), "missing values")
  expect_error(iv_ate(y ~ a | z | l, data = transform(d, z = factor(sample(1:3, 300, TRUE)))),
               "exactly 2 levels")
  expect_error(iv_ate(y ~ a | z | l, data = d, folds = 500, learners = "glm"), "`folds`")
  expect_error(iv_ate(y ~ a | z | l, data = d, folds = 1), "`folds`")
  expect_error(iv_ate(y ~ a + z, data = d), "`formula` must look like")
  expect_error(iv_ate(y ~ a | z | q, data = d), "not in `data`")
  expect_error(iv_ate(y ~ a | z | l, data = as.list(d)), "`data` must be a data frame")
  expect_error(iv_ate_fit(d$y, d$a, d$z[-1], d$l), "same number of observations")
  expect_error(iv_ate_fit(d$y, d$a, d$z, d$l, trim_pi = 0.6), "`trim_pi`")
  expect_error(iv_ate_fit(d$y, d$a, d$z, d$l, level = 1), "`level`")
  expect_error(iv_ate_fit(d$y, d$a, d$z, d$l, seed = -1), "seed")
})

test_that("learner problems are reported with the learner's name", {
  d <- sim_iv(400, 12)
  short <- iv_learner(function(x, y, binary) NULL, function(object, newx) rep(0.5, nrow(newx) - 1), "short")
  nan <- iv_learner(function(x, y, binary) NULL, function(object, newx) rep(NaN, nrow(newx)), "nanny")
  boom <- iv_learner(function(x, y, binary) stop("kaboom"), function(object, newx) 0, "boom")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = short, p = "glm", mu = "glm")),
               "learner 'short' returned")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = "glm", p = "glm", mu = nan)),
               "learner 'nanny' returned NaN")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = "glm", p = boom, mu = "glm")),
               "learner 'boom' failed.*kaboom")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = "forest"), "unknown built-in learner")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = "glm")), "pi.*p.*mu")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = c("glm", "mean"), p = "glm", mu = "glm")),
               "selective")
  expect_error(iv_learner(1, identity), "`fit` must be a function")
})

test_that("non-identification and separation are handled explicitly", {
  set.seed(13)
  n <- 2000
  l <- rnorm(n); z <- rbinom(n, 1, 0.5); a <- rbinom(n, 1, 0.4); y <- a + l + rnorm(n)
  d <- data.frame(y, a, z, l)
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = "glm"), "not identified",
               class = "tessera_invalid_argument")
  expect_error(iv_ate(y ~ a | z | l, data = d, method = "mr"), "not identified")
  # Perfect separation of z by a covariate: reported, handled with a ridge fit.
  d2 <- sim_iv(600, 14)
  d2$s <- d2$z * 2 - 1 + runif(nrow(d2), -0.5, 0.5)
  f <- iv_ate(y ~ a | z | l + s, data = d2, method = "mr")
  expect_match(f$model_messages[1], "separation")
  expect_true(is.finite(coef(f)))
})

test_that("learners returning Inf, out-of-range probabilities or non-numbers are named", {
  d <- sim_iv(400, 15)
  infy <- iv_learner(function(x, y, binary) NULL, function(object, newx) rep(Inf, nrow(newx)), "infy")
  big <- iv_learner(function(x, y, binary) NULL, function(object, newx) rep(1.5, nrow(newx)), "big")
  chr <- iv_learner(function(x, y, binary) NULL, function(object, newx) rep("a", nrow(newx)), "chr")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = "glm", p = "glm", mu = infy)),
               "learner 'infy' returned NaN or infinite", class = "tessera_invalid_argument")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = big, p = "glm", mu = "glm")),
               "learner 'big' returned probabilities outside \\[0, 1\\]")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = list(pi = "glm", p = chr, mu = "glm")),
               "learner 'chr' failed.*numeric")
  # The same checks apply to every candidate of selective ML and to the DR learners.
  expect_error(iv_ate(y ~ a | z | l, data = d, method = "selective",
                      learners = list(pi = c("glm", "mean"), p = "glm", mu = list("glm", infy))),
               "learner 'infy'")
  expect_error(iv_ate(y ~ a | z | l, data = d, method = "dr", learners = list(pi = "glm", p = big, mu = "glm")),
               "learner 'big'")
})

test_that("folds > n, constant treatment and one arm too small are rejected by every method", {
  d <- sim_iv(60, 16)
  for (m in c("mdml", "selective", "dr")) {
    expect_error(iv_ate(y ~ a | z | l, data = d, method = m, folds = 61, learners = "glm"), "`folds`")
    expect_error(iv_ate(y ~ a | z | l, data = transform(d, a = 1), method = m, learners = "glm"),
                 "`a` \\(the treatment\\) is constant")
  }
  expect_error(iv_ate(y ~ a | z | l, data = transform(d, a = 0), method = "wald"), "`a` \\(the treatment\\) is constant")
  dz <- d; dz$z <- 1; dz$z[1] <- 0
  expect_error(iv_ate(y ~ a | z | l, data = dz, method = "mdml", learners = "glm"), "at least 2 observations")
  expect_error(iv_ate(y ~ a | z | l, data = d, learners = "glm", folds = 2.5), "`folds`")
})

test_that("perfect separation in the treatment model is reported and handled by a penalised fit", {
  # In arm z = 1 the covariate s decides A exactly: the unpenalised logistic p1 model has
  # no MLE. MR reports it and uses the ridge fallback; MDML's glm learner does the same
  # inside each fold. Neither crashes nor returns NaN.
  d <- sim_iv(1500, 17)
  d$s <- rnorm(nrow(d))
  d$s[d$z == 1] <- ifelse(d$a[d$z == 1] == 1, 1, -1) * (0.5 + runif(sum(d$z == 1)))
  f <- iv_ate(y ~ a | z | l + s, data = d, method = "mr")
  expect_true(any(grepl("separation", f$model_messages)))
  expect_true(is.finite(coef(f)) && is.finite(f$se))
  g <- suppressWarnings(iv_ate(y ~ a | z | l + s, data = d, method = "mdml", learners = "glm", seed = 1))
  expect_true(is.finite(coef(g)) && is.finite(g$se))
  h <- suppressWarnings(iv_ate(y ~ a | z | l + s, data = d, method = "mdml", learners = "lasso", seed = 1))
  expect_true(is.finite(coef(h)) && is.finite(h$se))
})

test_that("a factor covariate left with one level is named", {
  d <- sim_iv(800, 18)
  d$g <- factor(rep("a", nrow(d)), levels = c("a", "b"))
  expect_error(iv_ate(y ~ a | z | l + g, data = d, method = "mdml", learners = "glm"),
               "Covariate .*g.* has a single level")
  d$g[1] <- "b"
  expect_error(iv_ate(y ~ a | z | l + g, data = d, method = "mr", subset = -1), "single level")
})
