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

test_that("bad input gives clear errors", {
  clicks <- make_clicks(7)
  expect_error(relmf(rbind(clicks, clicks[1, ]), dim = 2, control = fast), "repeats the")
  expect_s3_class(relmf(rbind(clicks, clicks[1, ]), dim = 2, control = fast, duplicates = "once"), "relmf")
  bad <- clicks
  bad$item[3] <- NA
  expect_error(relmf(bad, dim = 2, control = fast), "missing")
  m <- matrix(c(1, 0, 0, 1, 0, 1), 2, 3)
  expect_error(relmf(replace(m, 2, NA), dim = 1), "missing values")
  expect_error(relmf(replace(m, 1, 2), dim = 1), "binary")
  expect_error(relmf(replace(m, 1, -1), dim = 1), "negative")
  if (requireNamespace("Matrix", quietly = TRUE)) {
    expect_error(relmf(Matrix::sparseMatrix(i = c(1, 1), j = c(1, 1), x = 1, dims = c(2, 3), repr = "T"),
                       dim = 1), "binary")
    expect_error(relmf(Matrix::Diagonal(3), dim = 1), "general sparse matrix")
  }
  expect_error(relmf(m, dim = 3), "at most")
  expect_error(relmf(m, dim = 1, clip = 1.5), "clip")
  expect_error(relmf(m, dim = 1, link = "identity"), "squared")
  for (p in list(c(0.5, 0, 1), c(0.5, 1.5, 1), c(0.5, NaN, 1))) {
    expect_error(relmf(m, dim = 1, propensity = p, control = fast), "\\(0, 1\\]")
  }
  expect_error(relmf(m, dim = 1, propensity = c(0.5, 1)), "one value per item")
  expect_error(relmf(m, dim = 1, propensity = matrix(0.5, 3, 3)), "must be 2 x 3")
  expect_error(relmf(list(1)), "must be a matrix")
  fit <- relmf(clicks, dim = 2, control = fast, seed = 1)
  expect_error(predict(fit, users = "zz", items = 1), "unknown to the fit")
  expect_error(predict(fit, users = "a", items = 999), "unknown to the fit")
  expect_error(recommend(fit, users = "zz"), "unknown to the fit")
  expect_error(rank_metrics(fit, data.frame(user = "a", item = 1, relevance = -1)), "relevance")
  expect_error(rank_metrics(NULL, data.frame(user = 1, item = 1, relevance = 1)), "score")
  expect_error(relmf_control(batch_size = 1), "batch_size")
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
