# Bad input for relmf(), predict(), recommend(), rank_metrics() and relmf_control(): each
# bullet of the issue's list, and what else an R user plausibly passes.
make_clicks <- function(seed = 1, n = 300, users = letters, items = 1:40) {
  set.seed(seed)
  unique(data.frame(user = sample(users, n, TRUE), item = sample(items, n, TRUE)))
}
fast <- relmf_control(batch_size = 128, max_iter = 30)
m <- matrix(c(1, 0, 0, 1, 0, 1), 2, 3)

test_that("bad input gives clear errors", {
  clicks <- make_clicks(7)
  expect_error(relmf(rbind(clicks, clicks[1, ]), dim = 2, control = fast), "repeats the")
  expect_s3_class(relmf(rbind(clicks, clicks[1, ]), dim = 2, control = fast, duplicates = "once"), "relmf")
  bad <- clicks
  bad$item[3] <- NA
  expect_error(relmf(bad, dim = 2, control = fast), "missing")
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
  expect_error(relmf_control(max_iter = 0), "max_iter")
  expect_error(relmf_control(lr = -1), "lr")
})

test_that("duplicates: summed by a sparse constructor or repeated rows are an error, never silently summed", {
  skip_if_not_installed("Matrix")
  # sparseMatrix() sums duplicated triplets into a 2: rejected with a pointer to binarise
  dup <- Matrix::sparseMatrix(i = c(1, 1, 2), j = c(2, 2, 3), x = 1, dims = c(2, 3))
  expect_error(relmf(dup, dim = 1), "summed duplicate")
  expect_s3_class(relmf((dup > 0) * 1, dim = 1, control = fast, seed = 1), "relmf")
  tab <- data.frame(user = c("u", "v", "u"), item = c("x", "y", "x"))
  expect_error(relmf(tab, dim = 1), "repeats the \\(user, item\\) pair \\(u, x\\) at row 3")
  once <- relmf(tab, dim = 1, duplicates = "once", control = fast, seed = 1)
  expect_equal(once$n_clicks, 2)
  expect_error(relmf(tab, dim = 1, duplicates = "sum"), "`duplicates` must be one of")
})

test_that("negative, NaN, NA and infinite values are rejected by name", {
  skip_if_not_installed("Matrix")
  sp <- Matrix::sparseMatrix(i = c(1, 2), j = c(1, 3), x = c(1, NaN), dims = c(2, 3))
  expect_error(relmf(sp, dim = 1), "NaN/NA")
  sp@x[2] <- -3
  expect_error(relmf(sp, dim = 1), "negative")
  sp@x[2] <- Inf
  expect_error(relmf(sp, dim = 1), "binary")
  expect_error(relmf(replace(m, 1, NaN), dim = 1), "missing values")
  expect_error(relmf(matrix("a", 2, 2), dim = 1), "numeric or logical")
  expect_error(relmf(matrix(0, 2, 3), dim = 1), "no click")
  expect_error(relmf(data.frame(user = 1), dim = 1), "user and an item column")
})

test_that("ids out of range or unknown in predict, recommend and rank_metrics", {
  fit <- relmf(m, dim = 1, control = fast, seed = 1)   # users 1:2, items 1:3 (no dimnames)
  expect_error(predict(fit, users = 0, items = 1), "unknown to the fit")
  expect_error(predict(fit, users = 3, items = 1), "unknown to the fit")
  expect_error(predict(fit, users = 1, items = 4), "unknown to the fit")
  expect_error(predict(fit, users = 1, items = NA), "missing ids")
  expect_error(predict(fit, users = c(1, 2), items = 1), "equal length")
  expect_error(predict(fit, newdata = 1:3), "data frame")
  expect_error(recommend(fit, users = 5), "unknown to the fit")
  expect_error(recommend(fit, users = 1, k = 0), "k")
  expect_error(rank_metrics(fit, data.frame(user = 9, item = 1, relevance = 1)), "unknown to the fit")
  expect_error(rank_metrics(fit, data.frame(user = 1, item = 1, relevance = 1), k = 0), "k")
  expect_error(rank_metrics(fit, data.frame(user = c(1, 1), item = c(1, 1), relevance = 1)), "more than once")
  expect_error(rank_metrics(fit, data.frame(user = 1, item = 1, relevance = NaN)), "relevance")
  expect_error(rank_metrics(lm(1 ~ 1), data.frame(user = 1, item = 1, relevance = 1)), "relmf")
})

test_that("propensities outside (0, 1] or missing are rejected in every form", {
  for (p in list(c(0.5, 0, 1), c(0.5, 1.5, 1), c(0.5, NaN, 1), c(0.5, -0.2, 1), c(0.5, Inf, 1))) {
    expect_error(relmf(m, dim = 1, propensity = p, control = fast), "\\(0, 1\\]")
  }
  # per pair (matrix): checked at every click; a 0 or a missing value at a click is an error
  for (bad in c(0, 1.2, NaN)) {
    theta <- matrix(0.5, 2, 3)
    theta[1, 1] <- bad
    expect_error(relmf(m, dim = 1, propensity = theta, control = fast), "at every click|missing values")
  }
  # per row of a long table
  tab <- data.frame(user = c(1, 2, 2), item = c(1, 1, 2))
  expect_error(relmf(tab, dim = 1, propensity = c(0.5, 2, 0.5), control = fast), "\\(0, 1\\]")
  expect_error(relmf(tab, dim = 1, propensity = c(0.5, NA, 0.5), control = fast), "missing")
  # named per item: every item needs a value
  expect_error(relmf(tab, dim = 1, propensity = c("1" = 0.5, "9" = 0.5)), "no value for item")
  expect_error(relmf(m, dim = 1, propensity = "uniform"), "popularity")
  expect_error(relmf(m, dim = 1, propensity = list(0.5)), "popularity")
  expect_error(relmf(m, dim = 1, eta = -1), "eta")
})

test_that("clip outside [0, 1], bad dim, lambda, threads and seed are rejected", {
  for (M in list(-0.1, 1.5, NA, NaN, c(0.1, 0.2), "0.1")) {
    expect_error(relmf(m, dim = 1, clip = M), "clip")
  }
  expect_error(relmf(m, dim = 3), "at most min\\(users, items\\) = 2")
  expect_error(relmf(t(m), dim = 3), "at most min\\(users, items\\) = 2")
  expect_error(relmf(m, dim = 0), "dim")
  expect_error(relmf(m, dim = 1.5), "whole number")
  expect_error(relmf(m, dim = 1, lambda = -1), "lambda")
  expect_error(relmf(m, dim = 1, unlabeled_weight = -1), "unlabeled_weight")
  for (th in list(0, 1.5, NA, 2000)) expect_error(relmf(m, dim = 1, threads = th), "threads")
  expect_error(relmf(m, dim = 1, seed = -1), "seed")
  expect_error(relmf(m, dim = 1, control = list(max_iter = 1)), "relmf_control")
  # choices are checked by name, with the valid values listed
  expect_error(relmf(m, dim = 1, loss = "hinge"), "`loss` must be one of \"log\", \"squared\"")
  expect_error(relmf(m, dim = 1, solver = "als"), "`solver` must be one of")
  expect_error(relmf(m, dim = 1, link = NA), "`link` must be one of")
  expect_error(relmf_control(sampling = "stratified"), "`sampling` must be one of")
  fit <- relmf(m, dim = 1, control = fast, seed = 1)
  expect_error(predict(fit, users = 1, items = 1, type = "link"), "`type` must be one of")
  test <- data.frame(user = 1, item = 1, relevance = 1)
  expect_error(rank_metrics(fit, test, variant = "all"), "`variant` must be one of")
  expect_error(rank_metrics(fit, test, dcg = "ndcg"), "`dcg` must be one of")
  expect_equal(relmf(m, dim = 1, loss = "sq", control = fast, seed = 1)$loss, "squared")  # partial matching
})

test_that("64-bit sizes: more than 2^32 user x item pairs fit, predict and recommend", {
  skip_if_not_installed("Matrix")
  n <- 70000   # 4.9e9 pairs, beyond 32-bit pair indices
  set.seed(3)
  clicks <- Matrix::sparseMatrix(i = c(sample.int(n - 1, 300), n), j = c(sample.int(n - 1, 300), n), x = 1,
                                 dims = c(n, n))
  clicks <- (clicks > 0) * 1
  fit <- relmf(clicks, dim = 1, clip = 0.5, seed = 1, control = relmf_control(max_iter = 3, batch_size = 64))
  expect_equal(c(fit$n_users, fit$n_items), c(n, n))
  p <- predict(fit, users = c(1, n), items = c(n, n))
  expect_true(all(is.finite(p)) && all(p > 0 & p < 1))
  expect_equal(nrow(recommend(fit, users = n, k = 2)), 2)
  # the last click (user n, item n) sits at key (n - 1) n + (n - 1) > 2^32 and is kept
  expect_equal(max(fit$seen$i), n - 1)
  expect_equal(max(fit$seen$j), n - 1)
})
