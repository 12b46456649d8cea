make_clicks <- function(seed = 1, n = 300, users = letters, items = 1:40) {
  set.seed(seed)
  unique(data.frame(user = sample(users, n, TRUE), item = sample(items, n, TRUE)))
}
fast <- relmf_control(batch_size = 128, max_iter = 30)
softplus <- function(s) ifelse(s > 0, s + log1p(exp(-s)), log1p(exp(s)))

test_that("predict maps ids to the factors and applies the link", {
  clicks <- make_clicks()
  fit <- relmf(clicks, dim = 3, biases = TRUE, control = fast, seed = 1)
  u <- c("q", "a", "z")
  i <- c(40, 3, 17)
  s <- rowSums(fit$U[u, ] * fit$V[as.character(i), ]) + fit$user_bias[u] +
    fit$item_bias[as.character(i)] + fit$global_bias
  expect_equal(predict(fit, users = u, items = i, type = "score"), unname(s))
  expect_equal(predict(fit, data.frame(user = u, item = i)), unname(plogis(s)))
  expect_equal(nobs(fit), nrow(clicks))
})

test_that("matrix, dgCMatrix and long-table input give the same fit", {
  skip_if_not_installed("Matrix")
  clicks <- make_clicks(2)
  users <- sort(unique(clicks$user))
  items <- sort(unique(clicks$item))
  dense <- matrix(0, length(users), length(items), dimnames = list(users, items))
  dense[cbind(match(clicks$user, users), match(clicks$item, items))] <- 1
  sparse <- Matrix::Matrix(dense, sparse = TRUE)
  a <- relmf(clicks, dim = 2, control = fast, seed = 5)
  b <- relmf(dense, dim = 2, control = fast, seed = 5)
  d <- relmf(sparse, dim = 2, control = fast, seed = 5)
  expect_equal(a$U, b$U)
  expect_equal(a$V, d$V)
  expect_equal(a$item_propensity, d$item_propensity)
  # seeds: set.seed makes the default seed repeatable
  set.seed(9); e1 <- relmf(sparse, dim = 2, control = fast)
  set.seed(9); e2 <- relmf(sparse, dim = 2, control = fast)
  expect_equal(e1$U, e2$U)
})

test_that("popularity propensities and weights follow (n_i / max n)^eta and 1 / max(theta, M)", {
  clicks <- make_clicks(3)
  fit <- relmf(clicks, dim = 2, eta = 0.7, clip = 0.6, control = fast, seed = 1)
  n_i <- table(factor(clicks$item, levels = fit$items))
  expected <- as.numeric(n_i / max(n_i))^0.7
  expect_equal(unname(fit$item_propensity), expected)
  expect_equal(sort(fit$click_weight), sort(1 / pmax(expected[match(clicks$item, fit$items)], 0.6)))
  expect_equal(fit$n_clipped, sum(expected[match(clicks$item, fit$items)] < 0.6))
})

test_that("the full-batch objective equals the IPS log loss computed in R with per-pair propensities", {
  set.seed(4)
  y <- matrix(rbinom(15 * 12, 1, 0.25), 15, 12)
  theta <- matrix(runif(15 * 12, 0.05, 1), 15, 12)
  fit <- suppressWarnings(relmf(y, propensity = theta, clip = 0.2, dim = 2, lambda = 0.01,
                                solver = "full_batch", control = relmf_control(max_iter = 20), seed = 3))
  s <- fit$U %*% t(fit$V)
  w <- y / pmax(theta, 0.2)
  obj <- mean(softplus(s) - w * s) + 0.01 / 2 * (sum(fit$U^2) + sum(fit$V^2))
  expect_equal(fit$objective, obj, tolerance = 1e-10)
  expect_equal(fit$n_clipped, sum(theta[y == 1] < 0.2))
})

test_that("recommend ranks unseen items by score", {
  clicks <- make_clicks(5)
  fit <- relmf(clicks, dim = 3, control = fast, seed = 2)
  rec <- recommend(fit, users = "c", k = 5)
  seen <- clicks$item[clicks$user == "c"]
  expect_false(any(rec$item %in% seen))
  unseen <- setdiff(fit$items, seen)
  s <- predict(fit, users = rep("c", length(unseen)), items = unseen, type = "score")
  expect_equal(rec$item, unseen[order(-s)][1:5])
  expect_equal(rec$rank, 1:5)
  all <- recommend(fit, users = "c", k = 5, exclude_seen = FALSE)
  s_all <- predict(fit, users = rep("c", length(fit$items)), items = fit$items, type = "score")
  expect_equal(all$item, fit$items[order(-s_all)][1:5])
})

test_that("rank_metrics matches hand-worked values in both variants", {
  test <- data.frame(user = c(1, 1, 1, 2, 2), item = c(1, 2, 3, 1, 2),
                     relevance = c(1, 0, 1, 0, 1), score = c(.9, .5, .1, .8, .3))
  m <- rank_metrics(NULL, test, k = c(1, 2))
  expect_equal(m$dcg, c(0.5, (1 + 1 / log2(3)) / 2))
  expect_equal(m$recall, c(0.25, 0.75))
  expect_equal(m$map, c(0.25, 0.5))
  ref <- rank_metrics(NULL, test, k = 2, dcg = "reference")
  expect_equal(ref$dcg, 1)
  # catalogue: compare with a direct R computation on the fit's scores
  clicks <- make_clicks(6)
  fit <- relmf(clicks, dim = 2, control = fast, seed = 1)
  tst <- data.frame(user = c("a", "a", "b"), item = c(1, 2, 3), relevance = c(1, 1, 1))
  got <- rank_metrics(fit, tst, k = 3, variant = "catalogue")
  dcg_user <- function(u) {
    seen <- clicks$item[clicks$user == u]
    cand <- setdiff(fit$items, seen)
    s <- predict(fit, users = rep(u, length(cand)), items = cand, type = "score")
    top <- cand[order(-s)][1:3]
    rel <- as.numeric(top %in% tst$item[tst$user == u])
    sum(rel / log2(2:4))
  }
  expect_equal(got$dcg_all, mean(c(dcg_user("a"), dcg_user("b"))))
})

test_that("print, summary, plot and glance work", {
  fit <- relmf(make_clicks(8), dim = 2, control = fast, seed = 1)
  expect_output(print(fit), "Rel-MF")
  expect_output(print(summary(fit)), "Propensity at the clicks")
  expect_equal(nrow(generics::glance(fit)), 1)
  expect_equal(nrow(generics::tidy(fit)), fit$n_items)
  pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_s3_class(plot(fit), "relmf")
})

test_that("fits, recommendations and metrics are identical with 1 and 2 threads", {
  set.seed(11)
  # 600 users x 300 items: several 256-user / 256-item pieces and several dense user blocks
  y <- matrix(rbinom(600 * 300, 1, 0.03), 600, 300)
  y[1, 1] <- 1
  fit_with <- function(threads, ...) {
    suppressWarnings(relmf(y, clip = 0.1, dim = 3, biases = TRUE, seed = 2, threads = threads, ...))
  }
  for (args in list(list(solver = "full_batch", control = relmf_control(max_iter = 5)),
                    list(solver = "full_batch", loss = "squared", link = "identity",
                         control = relmf_control(max_iter = 5)),
                    list(control = relmf_control(max_iter = 5, batch_size = 9000)))) {
    a <- do.call(fit_with, c(list(threads = 1), args))
    b <- do.call(fit_with, c(list(threads = 2), args))
    expect_identical(a$U, b$U)
    expect_identical(a$V, b$V)
    expect_identical(a$item_bias, b$item_bias)
    expect_identical(a$trace, b$trace)
  }
  expect_identical(recommend(a, k = 5, threads = 1), recommend(a, k = 5, threads = 2))
  test <- data.frame(user = rep(1:600, each = 2), item = c(2, 3), relevance = rep(c(1, 0), 600))
  for (variant in c("test_items", "catalogue")) {
    expect_identical(rank_metrics(a, test, variant = variant, threads = 1),
                     rank_metrics(a, test, variant = variant, threads = 2))
  }
})

test_that("users and items without clicks are kept and scored", {
  y <- matrix(0, 6, 5)
  y[cbind(c(1, 2, 3, 4, 1), c(1, 2, 3, 1, 4))] <- 1   # users 5, 6 and item 5 have no click
  fit <- relmf(y, dim = 2, control = relmf_control(batch_size = 16, max_iter = 30), seed = 1)
  expect_equal(c(fit$n_users, fit$n_items), c(6, 5))
  expect_equal(unname(fit$item_propensity[5]), 0)
  expect_true(all(is.finite(predict(fit, users = c(5, 6), items = c(5, 5)))))
  expect_equal(summary(fit)$empty_users, 2)
  expect_equal(summary(fit)$empty_items, 1)
})
