# Benchmark of iv_ate (MDML with the built-in lasso learners) against DoubleML's IIVM with
# cv.glmnet learners (mlr3learners), on a design where the instrument is valid (no direct
# effect of Z on Y, monotone compliance) and the effect homogeneous (theta = 1), so DoubleML's
# LATE and tessera's ATE target the same number. Both sides use 5-fold cross-fitting and
# lasso nuisances with the penalty by 5-fold CV at lambda.min (glmnet: 100 lambdas,
# tessera: 50); tessera fits 7 nuisances per fold (pi, p0, p1, four cell means), DoubleML 5.
# Repetitions of the two tools are interleaved on the same data; medians are reported.
#   bash bench/iv_ate/run.sh                      n in {1e3, 1e4}, p in {20, 200}
#   TESSERA_BENCH_FULL=1 bash bench/iv_ate/run.sh adds n = 1e5 (tessera always; DoubleML
#                                                 only up to TESSERA_BENCH_DML_MAX_N, default 1e4)
# Writes bench/results/iv_ate.csv with the machine load (uptime) and the tessera commit.
suppressPackageStartupMessages(library(tessera))
args <- commandArgs(TRUE)
out_csv <- if (length(args)) args[1] else "bench/results/iv_ate.csv"
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
full <- nzchar(Sys.getenv("TESSERA_BENCH_FULL"))
ns <- c(1e3, 1e4, if (full) 1e5)
ps <- c(20, 200)
dml_max_n <- as.numeric(Sys.getenv("TESSERA_BENCH_DML_MAX_N", "1e4"))
reps_for <- function(n) if (n <= 1e3) 3L else 1L
have_dml <- requireNamespace("DoubleML", quietly = TRUE) && requireNamespace("mlr3learners", quietly = TRUE) &&
  requireNamespace("glmnet", quietly = TRUE)
if (!have_dml) message("DoubleML / mlr3learners / glmnet not installed (tools/install-deps --bench): skipping the peer")
if (have_dml) lgr::get_logger("mlr3")$set_threshold("warn")
commit <- tryCatch(system2("git", c("rev-parse", "--short", "HEAD"), stdout = TRUE), error = function(e) "unknown")
load <- function() sub(".*load average: ", "", system2("uptime", stdout = TRUE))
run_tessera <- function(d, seed) {
  t0 <- proc.time()[["elapsed"]]
  f <- iv_ate_fit(d$y, d$a, d$z, d$x, method = "mdml", learners = "lasso", seed = seed, verbose = FALSE)
  c(estimate = unname(coef(f)), se = f$se, seconds = proc.time()[["elapsed"]] - t0)
}
run_dml <- function(d, seed) {
  set.seed(seed)
  dat <- DoubleML::double_ml_data_from_matrix(X = d$x, y = d$y, d = d$a, z = d$z)
  lg <- mlr3::lrn("regr.cv_glmnet", s = "lambda.min", nfolds = 5)
  lm <- mlr3::lrn("classif.cv_glmnet", s = "lambda.min", nfolds = 5)
  lr <- mlr3::lrn("classif.cv_glmnet", s = "lambda.min", nfolds = 5)
  t0 <- proc.time()[["elapsed"]]
  obj <- DoubleML::DoubleMLIIVM$new(dat, ml_g = lg, ml_m = lm, ml_r = lr, n_folds = 5)
  obj$fit()
  c(estimate = unname(obj$coef), se = unname(obj$se), seconds = proc.time()[["elapsed"]] - t0)
}
rows <- list()
for (n in ns) for (p in ps) {
  d <- sim(n, p, 1)
  peer <- have_dml && n <= dml_max_n
  res_t <- res_d <- list()
  for (r in seq_len(reps_for(n))) {  # interleaved
    res_t[[r]] <- run_tessera(d, r)
    if (peer) res_d[[r]] <- run_dml(d, r)
  }
  med <- function(l) apply(do.call(rbind, l), 2, stats::median)
  mt <- med(res_t)
  uload <- load()
  rows[[length(rows) + 1]] <- data.frame(
    n = n, p = p, tool = "tessera::iv_ate(mdml, lasso)", version = paste0(utils::packageVersion("tessera"), "@", commit),
    reps = length(res_t), estimate = mt[["estimate"]], se = mt[["se"]], seconds = mt[["seconds"]], time_ratio = 1,
    diff_from_tessera = 0, diff_in_se = 0, truth = theta, load = uload)
  if (peer) {
    md <- med(res_d)
    rows[[length(rows) + 1]] <- data.frame(
      n = n, p = p, tool = "DoubleML::DoubleMLIIVM(cv_glmnet)",
      version = paste0(utils::packageVersion("DoubleML"), "/glmnet ", utils::packageVersion("glmnet")),
      reps = length(res_d), estimate = md[["estimate"]], se = md[["se"]], seconds = md[["seconds"]],
      time_ratio = md[["seconds"]] / mt[["seconds"]], diff_from_tessera = md[["estimate"]] - mt[["estimate"]],
      diff_in_se = (md[["estimate"]] - mt[["estimate"]]) / mt[["se"]], truth = theta, load = uload)
  }
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  dir.create(dirname(out_csv), showWarnings = FALSE, recursive = TRUE)
  utils::write.csv(out, out_csv, row.names = FALSE)  # after every size, so a long run keeps its rows
  print(utils::tail(out, if (peer) 2 else 1))
}
print(out)
