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
  Wab <- matrix(0, 2, 2, dimnames = list(c("a", "b"), c("a", "b")))
  expect_error(dag_metrics(Wab, data.frame(from = "a", to = "z")), "not among the nodes")
  expect_error(simulate_sem(n = 0, d = 3), "`n`")
  expect_error(simulate_sem(n = 10, d = 3, edges = 4), "`edges` must be at most 3")
  expect_error(simulate_sem(n = 10, d = 3, seed = -1), "seed")
  expect_error(simulate_sem(n = 10, d = 3, weight_range = c(2, 1)), "weight_range")
  expect_error(simulate_sem(n = 10, d = 3, noise = "cauchy"), "should be one of")
})

test_that("problems found by adversarial testing stay fixed", {
  ctl <- dag_control(warm_iter = 2000, max_iter = 4000)
  x <- simulate_sem(n = 100, d = 4, edges = 4, seed = 1)$x
  # Degenerate ranges used to hang in the sampler.
  sim <- simulate_sem(10, 3, weight_range = c(1, 1), seed = 1)
  expect_true(all(abs(sim$W[sim$W != 0]) == 1))
  expect_silent(simulate_sem(10, 3, variance = "nonequal", nv_range = c(2, 2), seed = 1))
  expect_silent(simulate_sem(10, 3, nv_range = c(0, 1), seed = 1))   # unused with equal variances
  expect_error(simulate_sem(10, 3, variance = "nonequal", nv_range = c(0, 1)), "positive")
  expect_error(simulate_sem(10, 10, edges = 4, graph = "sf"), "at least n_nodes / 2")
  expect_error(simulate_sem(5, 3, seed = 2^60), "2\\^53")
  # Badly scaled data: a clear error, or a non-converged fit with a warning.
  expect_error(colide(x * 1e-200, control = ctl), "underflow")
  expect_error(colide(x * 1e200, control = ctl), "overflow")
  # At a scale of 1e8 the score swamps h (measured: a self-loop of weight 0.999 here).
  expect_warning(big <- colide(x * 1e8, control = ctl), "did not converge")
  expect_false(big$converged)
  expect_gt(max(abs(diag(big$W_raw))), 0.3)
  zd <- colide(x * 1e8, control = dag_control(warm_iter = 2000, max_iter = 4000, zero_diagonal = TRUE))
  expect_true(all(diag(zd$W_raw) == 0))
  w0 <- matrix(1, 4, 4); diag(w0) <- 0
  expect_error(colide(x, w_init = w0, control = ctl), "log-det domain")
  # Names, empty and non-finite inputs.
  xd <- x; colnames(xd) <- c("a", "a", "b", "b")
  expect_error(colide(xd, control = ctl), "duplicated column names")
  xe <- x; colnames(xe) <- c("a", "", "b", NA)
  expect_identical(colide(xe, control = ctl)$nodes, c("a", "V2", "b", "V4"))
  expect_error(colide(matrix(numeric(0), 5, 0)), "at least one row and one column")
  expect_error(is_dag(matrix(numeric(0), 0, 0)), "at least one row and one column")
  expect_error(dag_edges(matrix(NA_real_, 2, 2)), "finite")
  expect_error(dag_edges(matrix(0, 2, 2), raw = NA), "raw")
  expect_error(is_dag(data.frame(from = NA, to = "b")), "missing or empty node names")
  expect_error(is_dag(data.frame(from = "a", to = "b", weight = "x")), "weight")
  # Edited controls are re-validated.
  bad <- ctl; bad$stages <- "a"
  expect_error(colide(x, control = bad), "control")
  bad <- ctl; bad$stages <- 3e9
  expect_error(colide(x, control = bad), "stages")
  expect_error(dag_control(beta1 = 1), "\\(0, 1\\)")
  # dag_metrics takes the union of nodes of two edge lists.
  m <- dag_metrics(data.frame(from = "a", to = "b"), data.frame(from = c("a", "b"), to = c("b", "c")))
  expect_equal(c(m$true_positive, m$missing, m$shd), c(1, 1, 1))
  m0 <- dag_metrics(data.frame(from = character(), to = character()), data.frame(from = "a", to = "b"))
  expect_equal(m0$shd, 1)
})
