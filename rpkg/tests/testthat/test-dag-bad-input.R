test_that("colide rejects bad data with messages that name the argument", {
  x <- simulate_sem(n = 50, d = 3, seed = 1)$x
  xn <- x; xn[2, 2] <- NA
  expect_error(colide(xn), "`x` must contain only finite values", class = "tessera_invalid_argument")
  xi <- x; xi[1, 1] <- Inf
  expect_error(colide(xi), "infinite", class = "tessera_invalid_argument")
  expect_error(colide(x[1, , drop = FALSE]), "at least 2 rows", class = "tessera_invalid_argument")
  xc <- x; xc[, 3] <- 5
  expect_error(colide(xc), "column 3 is constant", class = "tessera_invalid_argument")
  xl <- cbind(x, x[, 1] - 2 * x[, 2])
  expect_error(colide(xl), "collinear", class = "tessera_invalid_argument")
  expect_error(colide(data.frame(a = 1:5, b = letters[1:5])), "Non-numeric column")
  expect_error(colide("a"), "numeric matrix")
  expect_error(colide(list(1, 2)), "numeric matrix")
})

test_that("colide rejects bad tuning parameters", {
  x <- simulate_sem(n = 50, d = 3, seed = 1)$x
  expect_error(colide(x, lambda = 0), "`lambda` must be a single finite number > 0")
  expect_error(colide(x, lambda = -1), "lambda")
  expect_error(colide(x, lambda = NA), "lambda")
  expect_error(colide(x, lambda = c(0.1, 0.2)), "lambda")
  expect_error(colide(x, threshold = -0.1), "`threshold`")
  expect_error(colide(x, variance = "both"), "should be one of")
  expect_error(colide(x, control = list(stages = 2)), "dag_control")
  expect_error(colide(x, w_init = matrix(0, 2, 2)), "w_init")
  expect_error(colide(x, verbose = NA), "verbose")
  expect_error(dag_control(stages = 0), "stages")
  expect_error(dag_control(stages = 2.5), "whole number")
  expect_error(dag_control(s = c(1, -1)), "`s`")
  expect_error(dag_control(lr = 0), "lr")
  expect_error(dag_control(mu_factor = 2), "mu_factor")
  expect_error(dag_control(sigma_floor = 0), "sigma_floor")
  expect_error(dagma_linear(x, lambda = 0), "lambda")
})

test_that("graph helpers reject bad input", {
  expect_error(to_dag(matrix(1, 2, 3)), "square")
  expect_error(to_dag(matrix(0, 2, 2), threshold = -1), "threshold")
  expect_error(is_dag(matrix(NA_real_, 2, 2)), "finite")
  W <- diag(0, 3)
  expect_error(dag_metrics(W, diag(0, 4)), "nodes")
  expect_error(dag_metrics(diag(1, 3), W), "self-loop")
  expect_error(dag_metrics(data.frame(from = "a", to = "z"), data.frame(from = "a", to = "b")),
               "not among the nodes")
  expect_error(simulate_sem(n = 0, d = 3), "`n`")
  expect_error(simulate_sem(n = 10, d = 3, edges = 4), "`edges` must be at most 3")
  expect_error(simulate_sem(n = 10, d = 3, seed = -1), "seed")
  expect_error(simulate_sem(n = 10, d = 3, weight_range = c(2, 1)), "weight_range")
  expect_error(simulate_sem(n = 10, d = 3, noise = "cauchy"), "should be one of")
})
