# Benchmark of iv_ate (MDML with the built-in lasso learners) and, when installed, the
# DoubleML IIVM estimator with cv.glmnet learners (mlr3learners), on a design where the
# instrument is valid and the effect homogeneous, so both target the same number theta.
#   Rscript bench/iv_ate/bench.R            n in {1e3, 1e4}, p in {20, 200}
#   TESSERA_BENCH_FULL=1 Rscript bench/iv_ate/bench.R   adds n = 1e5
# Writes bench/results/iv_ate.csv: one row per (n, p, tool) with the estimate, SE, time,
# and the ratios to tessera's time and the difference from tessera's estimate.
suppressPackageStartupMessages(library(tessera))
theta <- 1
sim <- function(n, p, seed) {
  set.seed(seed)
  x <- matrix(rnorm(n * p), n, p, dimnames = list(NULL, paste0("x", seq_len(p))))
  z <- rbinom(n, 1, plogis(0.5 * x[, 1]))
  u <- runif(n, -0.1, 0.1)
  a <- rbinom(n, 1, ifelse(z == 1, 0.6 + 0.1 * tanh(x[, 2]), 0.15 + 0.05 * tanh(x[, 3])) + u)
  y <- theta * a + drop(x[, 1:5] %*% c(1, -1, 0.5, 0.5, -0.5)) + 2 * u + rnorm(n)
  list(y = y, a = a, z = z, x = x)
}
ns <- c(1e3, 1e4, if (nzchar(Sys.getenv("TESSERA_BENCH_FULL"))) 1e5)
ps <- c(20, 200)
have_dml <- requireNamespace("DoubleML", quietly = TRUE) && requireNamespace("mlr3learners", quietly = TRUE) &&
  requireNamespace("glmnet", quietly = TRUE)
if (!have_dml) message("DoubleML / mlr3learners / glmnet not installed: skipping the DoubleML peer")
rows <- list()
for (n in ns) for (p in ps) {
  d <- sim(n, p, 1)
  t0 <- proc.time()[["elapsed"]]
  f <- iv_ate_fit(d$y, d$a, d$z, d$x, method = "mdml", learners = "lasso", seed = 1, verbose = FALSE)
  tt <- proc.time()[["elapsed"]] - t0
  rows[[length(rows) + 1]] <- data.frame(n = n, p = p, tool = "tessera::iv_ate(mdml, lasso)",
                                         version = as.character(utils::packageVersion("tessera")),
                                         estimate = coef(f), se = f$se, seconds = tt, time_ratio = 1,
                                         diff_from_tessera = 0, truth = theta)
  if (have_dml) {
    dat <- DoubleML::double_ml_data_from_matrix(X = d$x, y = d$y, d = d$a, z = d$z)
    lg <- mlr3::lrn("regr.cv_glmnet", s = "lambda.min")
    lm <- mlr3::lrn("classif.cv_glmnet", s = "lambda.min")
    lr <- mlr3::lrn("classif.cv_glmnet", s = "lambda.min")
    t0 <- proc.time()[["elapsed"]]
    obj <- DoubleML::DoubleMLIIVM$new(dat, ml_g = lg, ml_m = lm, ml_r = lr, n_folds = 5)
    obj$fit()
    td <- proc.time()[["elapsed"]] - t0
    rows[[length(rows) + 1]] <- data.frame(n = n, p = p, tool = "DoubleML::DoubleMLIIVM(cv_glmnet)",
                                           version = as.character(utils::packageVersion("DoubleML")),
                                           estimate = obj$coef, se = obj$se, seconds = td, time_ratio = td / tt,
                                           diff_from_tessera = obj$coef - coef(f), truth = theta)
  }
}
out <- do.call(rbind, rows)
rownames(out) <- NULL
dir.create("bench/results", showWarnings = FALSE, recursive = TRUE)
utils::write.csv(out, "bench/results/iv_ate.csv", row.names = FALSE)
print(out)
