# Learning from aggregate responses: the estimators against stats::lm / stats::glm on
# the equivalent expanded problems, the theory against the reference table.

sim_agg <- function(n = 240, d = 3, k = 4, seed = 1) {
  set.seed(seed)
  x <- matrix(rnorm(n * d), n, d, dimnames = list(NULL, paste0("x", seq_len(d))))
  y <- drop(0.5 + x %*% seq_len(d)) + rnorm(n)
  bags <- random_bags(n, k, seed = seed)
  list(x = x, y = y, bags = bags, y_bag = bag_means(y, bags))
}

test_that("rho = 1, rho = 0 and any rho equal the matching (weighted) lm fits", {
  s <- sim_agg()
  yb_row <- s$y_bag[as.character(s$bags)]
  ins <- aggregate_lm(s$x, s$bags, s$y_bag, rho = 1)
  expect_equal(unname(coef(ins)), unname(coef(lm(yb_row ~ s$x))), tolerance = 1e-8)
  xbar <- apply(s$x, 2, function(v) bag_means(v, s$bags))
  w <- as.numeric(table(s$bags))
  bag <- aggregate_lm(s$x, s$bags, s$y_bag, rho = 0)
  expect_equal(unname(coef(bag)), unname(coef(lm(s$y_bag ~ xbar, weights = w))), tolerance = 1e-8)
  # (1 - rho) L_bag + rho L_ins = weighted least squares on bag rows and individual rows.
  rho <- 0.3
  X <- rbind(xbar, s$x)
  Y <- c(s$y_bag, yb_row)
  W <- c((1 - rho) * w, rep(rho, nrow(s$x)))
  mid <- aggregate_lm(s$x, s$bags, s$y_bag, rho = rho)
  expect_equal(unname(coef(mid)), unname(coef(lm(Y ~ X, weights = W))), tolerance = 1e-8)
  # Standard errors of the bag-level fit are those of the weighted lm on the bag means.
  expect_equal(unname(bag$std_errors), unname(summary(lm(s$y_bag ~ xbar, weights = w))$coefficients[, 2]),
               tolerance = 1e-8)
  expect_equal(unname(bag$losses["instance"]), unname(bag$losses["bag"] + bag$losses["within"]), tolerance = 1e-10)
})

test_that("k = 1 gives OLS for every rho", {
  set.seed(3)
  x <- matrix(rnorm(100), 50, 2); y <- drop(x %*% c(1, 2)) + rnorm(50)
  ols <- unname(coef(lm(y ~ x)))
  for (rho in c(0, 0.2, 1, 3)) expect_equal(unname(coef(aggregate_lm(x, 1:50, y, rho = rho))), ols, tolerance = 1e-8)
})

test_that("aggregates are matched by name, accepted as sums, and the formula interface agrees", {
  s <- sim_agg(n = 120)
  ref <- aggregate_lm(s$x, s$bags, s$y_bag, rho = 0.5)
  shuffled <- rev(s$y_bag)
  expect_equal(coef(aggregate_lm(s$x, s$bags, shuffled, rho = 0.5)), coef(ref))
  sizes <- as.numeric(table(s$bags))
  expect_equal(coef(aggregate_lm(s$x, s$bags, s$y_bag * sizes, rho = 0.5, aggregate = "sum", sizes = sizes)),
               coef(ref), tolerance = 1e-12)
  d <- data.frame(s$x, bag = s$bags, yb = s$y_bag[as.character(s$bags)])
  ff <- aggregate_lm(yb ~ x1 + x2 + x3, data = d, bag = "bag", rho = 0.5)
  expect_equal(unname(coef(ff)), unname(coef(ref)), tolerance = 1e-10)
  expect_equal(unname(predict(ff, d)), unname(predict(ref, s$x)), tolerance = 1e-10)
  pb <- predict(ref, s$x, bags = s$bags, type = "bag")
  expect_equal(unname(pb), as.numeric(tapply(predict(ref, s$x), s$bags, mean)), tolerance = 1e-12)
  expect_s3_class(summary(ref), "summary.tessera_aggregate")
  expect_output(print(summary(ref)), "rho = 0.5")
  expect_equal(generics::tidy(ref)$estimate, unname(coef(ref)))
  expect_equal(generics::glance(ref)$bags, 30)
  expect_equal(dim(vcov(ref)), c(4, 4))
})

test_that("rho by CV runs, is reproducible with set.seed, and the oracle follows the theory", {
  s <- sim_agg(n = 400, d = 5, k = 5)
  set.seed(10); a <- aggregate_lm(s$x, s$bags, s$y_bag)
  set.seed(10); b <- aggregate_lm(s$x, s$bags, s$y_bag)
  expect_identical(coef(a), coef(b))
  expect_true(a$rho %in% a$cv$rho)
  expect_equal(a$rho, a$cv$rho[which.min(a$cv$mse)])
  o <- aggregate_lm(s$x, s$bags, s$y_bag, rho = "oracle", snr = 2)
  expect_equal(o$rho, aggregate_risk(gamma = 6 / 400, k = 5, rho = "oracle", snr = 2)$rho, tolerance = 1e-10)
  pdf(NULL); on.exit(grDevices::dev.off())
  expect_invisible(plot(a))
})

test_that("aggregate_glm equals glm on the expanded problems (binomial, poisson)", {
  set.seed(5)
  n <- 300; x <- matrix(rnorm(n * 2), n, 2)
  bags <- random_bags(n, 3, seed = 2)
  y <- rbinom(n, 1, plogis(drop(0.3 + x %*% c(1, -1))))
  p <- bag_means(y, bags)
  p_row <- p[as.character(bags)]
  xbar <- apply(x, 2, function(v) bag_means(v, bags))
  w <- as.numeric(table(bags))
  ins <- aggregate_glm(x, bags, p, rho = 1)
  expect_true(ins$converged)
  expect_equal(unname(coef(ins)), unname(coef(glm(p_row ~ x, family = quasibinomial()))), tolerance = 1e-6)
  bag <- aggregate_glm(x, bags, p, rho = 0)
  expect_equal(unname(coef(bag)), unname(coef(glm(p ~ xbar, family = quasibinomial(), weights = w))),
               tolerance = 1e-6)
  cnt <- rpois(n, exp(drop(0.2 + x %*% c(0.5, 0.3))))
  cb <- bag_means(cnt, bags)
  pins <- aggregate_glm(x, bags, cb, family = poisson(), rho = 1)
  expect_equal(unname(coef(pins)), unname(coef(glm(cb[as.character(bags)] ~ x, family = quasipoisson()))),
               tolerance = 1e-6)
  g <- aggregate_glm(x, bags, cb, family = "gaussian", rho = 0.4)
  expect_equal(unname(coef(g)), unname(coef(aggregate_lm(x, bags, cb, rho = 0.4))), tolerance = 1e-7)
  pr <- predict(ins, x, bags = bags, type = "bag")
  expect_true(all(pr >= 0 & pr <= 1))
  cvfit <- aggregate_glm(x, bags, p, folds = 3, seed = 1)
  expect_true(cvfit$rho %in% cvfit$cv$rho)
})

test_that("aggregate_risk and optimal_bag_size reproduce the reference tables", {
  r <- aggregate_risk(gamma = 1 / 5, k = 2, rho = c(0, 1), snr = 1)
  expect_equal(r$risk, c(0.6667, 0.4375), tolerance = 1e-4)
  expect_equal(aggregate_risk(gamma = 1 / 10, k = 5, rho = "oracle", snr = 1)$risk, 0.4298, tolerance = 1e-4)
  expect_equal(aggregate_risk(gamma = 1 / 2, k = 2, rho = 0, snr = 1)$risk, Inf)
  expect_equal(aggregate_risk(gamma = 0.1, k = 3, rho = 0.5, snr = 1)$mse,
               1 + aggregate_risk(gamma = 0.1, k = 3, rho = 0.5, snr = 1)$risk)
  b <- optimal_bag_size(gamma = 0.1, snr = 1, epsilon = 0.5, clip = 1, k_max = 20)
  expect_equal(b$k, 5)
  expect_equal(b$risk, 0.822, tolerance = 2e-3)
  expect_equal(b$table$risk[1], 3.667, tolerance = 1e-3)
  expect_output(print(b), "k\\* = 5")
})

test_that("dp_aggregate: scale, grid, clipping, seeded and secure noise", {
  y <- c(-5, 0.5, 1, 2, 9, 0)
  bags <- c("a", "a", "b", "b", "b", "c")
  r <- dp_aggregate(y, bags, epsilon = 2, clip = 1, seed = 3)
  nominal <- 2 * 1 / (c(2, 3, 1) * 2)
  # Scale 2C / (|B| eps), inflated by the grid step (at most 1/1024 of the sensitivity).
  expect_true(all(r$scale >= nominal & r$scale <= nominal * (1 + 1 / 1024)))
  expect_equal(r$scale, (2 / c(2, 3, 1) + r$grid) / 2)
  expect_equal(log2(r$grid), round(log2(r$grid)))            # powers of two
  expect_equal(r$y_bag / r$grid, round(r$y_bag / r$grid))    # releases on the grid
  expect_equal(attr(r, "n_clipped"), 3)
  expect_true(attr(r, "seeded"))
  expect_identical(r$y_bag, dp_aggregate(y, bags, epsilon = 2, clip = 1, seed = 3)$y_bag)
  # No seed: the OS generator, not R's RNG (set.seed does not repeat it).
  set.seed(4); a <- dp_aggregate(y, bags, 1, 1)
  set.seed(4); b <- dp_aggregate(y, bags, 1, 1)
  expect_false(attr(a, "seeded"))
  expect_false(identical(a$y_bag, b$y_bag))
  expect_output(print(a), "secure generator")
  expect_output(print(r), "NOT cryptographically secure")
  # Laplace noise: over many bags, E|noise| / scale = 1 (sd 1 / sqrt(m)) and
  # P(|noise| > t scale) = exp(-t) within 4 binomial SEs.
  set.seed(1)
  yy <- runif(20000, -0.5, 0.5); bb <- rep(1:10000, each = 2)
  rr <- dp_aggregate(yy, bb, epsilon = 1, clip = 1)
  z <- (rr$y_bag - bag_means(yy, bb)) / rr$scale
  expect_lt(abs(mean(abs(z)) - 1), 4 / sqrt(10000))
  for (t in c(1, 3)) expect_lt(abs(mean(abs(z) > t) - exp(-t)), 4 * sqrt(exp(-t) * (1 - exp(-t)) / 10000))
})

test_that("sufficient statistics of chunks of whole bags merge to the one-pass fit", {
  s <- sim_agg(n = 400, d = 3, k = 4)
  ord <- order(s$bags)  # rows sorted by bag so that chunks hold whole bags
  x <- s$x[ord, ]; bags <- s$bags[ord]
  chunks <- lapply(split(seq_len(400), rep(1:4, each = 100)), function(i)
    aggregate_stats(x[i, ], bags[i], s$y_bag[as.character(unique(bags[i]))]))
  for (rho in c(0, 0.4, 1)) {
    one <- aggregate_lm(s$x, s$bags, s$y_bag, rho = rho)
    st <- aggregate_lm_stats(chunks, rho = rho)
    expect_equal(unname(st$coefficients), unname(coef(one)), tolerance = 1e-10)
    expect_equal(unname(st$std_errors), unname(one$std_errors), tolerance = 1e-8)
  }
  expect_error(aggregate_lm_stats(chunks, rho = "cv"), "kept per fold")
  expect_error(aggregate_lm_stats(list(1)), "aggregate_stats")
})

test_that("streamed cross-validation over bags: per-fold statistics", {
  s <- sim_agg(n = 600, d = 3, k = 3, seed = 5)
  # One chunk with folds = 5 and the CV seed of aggregate_lm: the same folds, the same CV.
  one <- aggregate_lm(s$x, s$bags, s$y_bag, seed = 11)
  st1 <- aggregate_lm_stats(aggregate_stats(s$x, s$bags, s$y_bag, folds = 5, seed = 11), rho = "cv")
  expect_equal(st1$cv$mse, one$cv$mse, tolerance = 1e-10)
  expect_equal(st1$rho, one$rho)
  # Four chunks, each with its own fold assignment: merged fold by fold; the totals are the
  # one-pass statistics (any fixed rho), and CV returns a rho on the grid with finite scores.
  ord <- order(s$bags); x <- s$x[ord, ]; bags <- s$bags[ord]
  chunks <- lapply(split(seq_len(600), rep(1:4, each = 150)), function(i)
    aggregate_stats(x[i, ], bags[i], s$y_bag[as.character(unique(bags[i]))], folds = 5))
  st <- merge_aggregate_stats(chunks)
  expect_equal(dim(st$G), c(4, 4, 5))
  expect_output(print(st), "600 rows in 200 bags, 4 coefficients \\(5 CV folds\\)")
  expect_equal(sum(st$m), 200)
  expect_equal(unname(aggregate_lm_stats(st, rho = 0.3)$coefficients),
               unname(coef(aggregate_lm(s$x, s$bags, s$y_bag, rho = 0.3))), tolerance = 1e-10)
  cv <- aggregate_lm_stats(st, rho = "cv")
  expect_true(cv$rho %in% cv$cv$rho)
  expect_true(all(is.finite(cv$cv$mse)))
  # The held-out bag score estimates sigma^2 + excess risk (sigma = 1 here).
  expect_lt(abs(min(cv$cv$mse) - 1), 0.35)
  expect_error(merge_aggregate_stats(chunks[[1]], aggregate_stats(x[1:150, ], bags[1:150],
               s$y_bag[as.character(unique(bags[1:150]))], folds = 2)), "number of")
  expect_error(merge_aggregate_stats("a"), "aggregate_stats")
  expect_error(aggregate_stats(x, bags, s$y_bag, folds = 0), "`folds`")
  few <- aggregate_stats(x[1:6, ], bags[1:6], s$y_bag[as.character(unique(bags[1:6]))], folds = 5, seed = 1)
  expect_error(aggregate_lm_stats(few, rho = "cv"), "holds no bags")
})

test_that("aggregate_glm standard errors: glm() with single-row bags, aggregate_lm for gaussian", {
  set.seed(8)
  n <- 300; x <- matrix(rnorm(n * 2), n, 2, dimnames = list(NULL, c("a", "b")))
  y <- rbinom(n, 1, plogis(drop(0.2 + x %*% c(1, -0.7))))
  # glm() run to full convergence (its default stops at a relative deviance change of 1e-8).
  ref <- summary(glm(y ~ x, family = binomial(), control = list(epsilon = 1e-14, maxit = 100)))$coefficients[, "Std. Error"]
  for (rho in c(0, 0.5)) {
    f <- aggregate_glm(x, seq_len(n), y, rho = rho)
    expect_equal(unname(f$std_errors), unname(ref), tolerance = 1e-7)
    expect_equal(unname(sqrt(diag(vcov(f)))), unname(ref), tolerance = 1e-7)
  }
  s <- sim_agg(n = 240, d = 3, k = 4)
  for (rho in c(0, 0.3, 1)) {
    g <- aggregate_glm(s$x, s$bags, s$y_bag, family = gaussian(), rho = rho)
    l <- aggregate_lm(s$x, s$bags, s$y_bag, rho = rho)
    expect_equal(unname(g$std_errors), unname(l$std_errors), tolerance = 1e-6)
  }
  expect_true("std.error" %in% names(tidy(g)))
  expect_output(print(summary(g)), "sandwich")
})
