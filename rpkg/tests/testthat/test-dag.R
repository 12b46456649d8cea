test_that("colide recovers a simulated graph and returns a complete fit", {
  sim <- simulate_sem(n = 1000, d = 6, edges = 6, seed = 3)
  fit <- colide(sim$x, control = dag_control(warm_iter = 10000, max_iter = 20000))
  expect_s3_class(fit, c("colide", "tessera_dag", "tessera_fit"))
  expect_true(is_dag(fit$W))
  expect_identical(dimnames(fit$W), list(colnames(sim$x), colnames(sim$x)))
  m <- dag_metrics(fit, sim$W)
  # Measured SHD 0 on this seed; the bound allows one mistake.
  expect_lte(m$shd, 1)
  # Noise sd 1; its estimate's SE is ~ 1 / sqrt(2 n d) = 0.01 plus shrinkage.
  expect_lt(abs(fit$sigma - 1), 0.05)
  expect_true(fit$converged)
  expect_equal(nrow(fit$stages), 5)
  expect_equal(nobs(fit), 1000)
  expect_identical(coef(fit), fit$W)
  expect_identical(coef(fit, type = "raw"), fit$W_raw)
})

test_that("colide(variance = \"nonequal\") agrees with the reference implementation's fixture", {
  # tests/fixtures/dag holds the authors' reference output (see its README).
  skip_if_not(file.exists(test_path("../../../tests/fixtures/dag/sem_x.csv")),
              "fixtures are only available from a source checkout")
  dir <- test_path("../../../tests/fixtures/dag")
  x <- as.matrix(read.csv(file.path(dir, "sem_x.csv"), header = FALSE))
  ctl <- dag_control(stages = 3, s = c(1, 0.9, 0.8), warm_iter = 3000, max_iter = 6000)
  ref <- as.matrix(read.csv(file.path(dir, "colide_nv_W.csv"), header = FALSE))
  fit <- colide(unname(x), variance = "nonequal", control = ctl)
  expect_lt(max(abs(unname(fit$W_raw) - unname(ref))), 1e-3)
})

test_that("colide-nv estimates one sd per node; dagma has none", {
  sim <- simulate_sem(n = 800, d = 5, edges = 4, variance = "nonequal", seed = 10)
  nv <- colide(sim$x, variance = "nonequal", control = quick_control())
  expect_length(nv$sigma, 5)
  expect_named(nv$sigma, colnames(sim$x))
  dg <- dagma_linear(sim$x, control = quick_control())
  expect_s3_class(dg, "dagma_linear")
  expect_length(dg$sigma, 0)
  expect_true(is_dag(dg$W))
})

test_that("results are reproducible and set.seed governs simulate_sem", {
  set.seed(1)
  a <- simulate_sem(n = 50, d = 4)
  set.seed(1)
  b <- simulate_sem(n = 50, d = 4)
  expect_identical(a, b)
  expect_false(identical(simulate_sem(n = 50, d = 4, seed = 1)$x, simulate_sem(n = 50, d = 4, seed = 2)$x))
  f1 <- colide(a$x, control = quick_control())
  f2 <- colide(a$x, control = quick_control())
  expect_identical(f1$W_raw, f2$W_raw)
})

test_that("data frames, integer data and the Sachs data work", {
  obs <- subset(sachs, condition == 1, select = -condition)
  expect_equal(dim(obs), c(853L, 11L))
  fit <- colide(obs, control = quick_control())
  expect_identical(fit$nodes, names(obs))
  m <- dag_metrics(fit, sachs_consensus)
  expect_equal(m$n_true, 17)
  expect_true(m$shd >= 0 && m$shd <= 17 + m$n_estimated)
  xi <- matrix(as.integer(round(10 * simulate_sem(n = 100, d = 3, seed = 5)$x)), 100, 3)
  expect_s3_class(colide(xi, control = quick_control()), "colide")
})

test_that("dag_metrics matches a hand-worked example and accepts edge lists", {
  truth <- data.frame(from = c("a", "b"), to = c("b", "c"))
  est <- data.frame(from = c("b", "a"), to = c("a", "c"))
  m <- dag_metrics(est, truth)
  expect_equal(m$shd, 3)        # one reversed, one extra (a-c), one missing (b-c)
  expect_equal(m$reversed, 1)
  expect_equal(m$tpr, 0)
  expect_equal(m$fdr, 1)
  W <- matrix(0, 3, 3, dimnames = list(c("a", "b", "c"), c("a", "b", "c")))
  W["a", "b"] <- W["b", "c"] <- 1
  expect_equal(dag_metrics(W, truth)$shd, 0)
  # Node order is matched by name.
  Wp <- W[c("c", "a", "b"), c("c", "a", "b")]
  expect_equal(dag_metrics(Wp, W)$shd, 0)
})

test_that("to_dag prunes cycles smallest-first and is_dag detects them", {
  W <- matrix(c(0, 0.5, 0.9, 0), 2, 2)   # 1 -> 2 (0.9) and 2 -> 1 (0.5)
  expect_false(is_dag(W))
  D <- to_dag(W, 0.3)
  expect_true(is_dag(D))
  expect_equal(D[1, 2], 0.9)
  expect_equal(attr(D, "n_pruned"), 1)
  expect_equal(sum(to_dag(W, 0.95) != 0), 0)
})

test_that("methods print, summarise, tidy and plot", {
  sim <- simulate_sem(n = 300, d = 4, edges = 3, seed = 2)
  fit <- colide(sim$x, control = quick_control())
  expect_output(print(fit), "CoLiDE-EV fit: 4 nodes, 300 observations")
  s <- summary(fit)
  expect_s3_class(s, "summary.tessera_dag")
  expect_output(print(s), "Path:")
  td <- tidy(fit)
  expect_named(td, c("from", "to", "weight"))
  expect_equal(nrow(td), sum(fit$W != 0))
  gl <- glance(fit)
  expect_equal(gl$nodes, 4)
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fit))
  xy <- expect_invisible(plot_dag(sachs_consensus, nodes = setdiff(names(sachs), "condition")))
  expect_equal(dim(xy), c(11L, 2L))
  expect_invisible(plot(fit, layout = matrix(rnorm(8), 4, 2)))
  expect_error(plot(fit, layout = matrix(0, 3, 2)), "layout")
})

test_that("a single variable gives the empty graph", {
  fit <- colide(matrix(rnorm(20), 20, 1))
  expect_equal(dim(fit$W), c(1L, 1L))
  expect_equal(sum(fit$W != 0), 0)
})
