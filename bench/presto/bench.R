# Side-by-side: tessera::presto / cv_presto, ordinalNet and the authors' PRESTO pipeline
# (written to the first argument), then tessera's cost curve (to the second argument).
#   Rscript bench.R PEERS_CSV COST_CSV [--quick] [--peers-only | --cost-only]
args <- commandArgs(TRUE)
out_csv <- args[1]
cost_csv <- args[2]
quick <- "--quick" %in% args
do_peers <- !("--cost-only" %in% args)
do_cost <- !("--peers-only" %in% args)
suppressPackageStartupMessages(library(tessera))
ref <- Sys.getenv("PRESTO_REF")
has_on <- requireNamespace("ordinalNet", quietly = TRUE)
timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  val <- force(expr)
  list(value = val, seconds = proc.time()[["elapsed"]] - t0)
}
# PRESTO objective of (psi on the original scale) given the mean log-likelihood.
objective <- function(loglik, n, lambda, psi, sd) loglik * (-1 / n) + lambda * sum(abs(psi * sd))
# The machine is shared: every row records the 1-minute load average when it was measured
# and the tessera commit; compare ratios, not absolute times.
load1 <- function() {
  l <- tryCatch(scan("/proc/loadavg", what = numeric(), n = 1, quiet = TRUE), error = function(e) NA)
  as.numeric(l)
}
commit <- tryCatch(system2("git", c("rev-parse", "--short", "HEAD"), stdout = TRUE, stderr = FALSE),
                   error = function(e) "unknown")
if (length(commit) != 1) commit <- "unknown"
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., load = load1(), tessera = as.character(packageVersion("tessera")),
                                                           commit = commit, date = format(Sys.time(), "%Y-%m-%d %H:%M", tz = "UTC"))
med_time <- function(times) stats::median(times)

## 1. The paper's design: n = 2500, p = 10, K = 4 (sparse differences, q = 1/2).
d <- simulate_presto(n = 2500, p = 10, alpha = c(0, 3, 5), q = 1 / 2, seed = 1)
x <- d$x; y <- d$y; n <- nrow(x)
sd_pop <- apply(x, 2, function(v) sqrt(mean((v - mean(v))^2)))
# tessera is timed 3 times before each peer and 2 times after it (interleaved); medians.
tess_path <- numeric(); tess_cv <- numeric(); tess_cv2 <- numeric()
tessera_runs <- function(k) for (r in seq_len(k)) {
  path <<- timed(presto(x, y, verbose = FALSE)); tess_path <<- c(tess_path, path$seconds)
  cv <<- timed(cv_presto(x, y, nfolds = 5, seed = 1, verbose = FALSE)); tess_cv <<- c(tess_cv, cv$seconds)
  cv2 <- timed(cv_presto(x, y, nfolds = 5, seed = 1, threads = 2, verbose = FALSE))
  tess_cv2 <<- c(tess_cv2, cv2$seconds)
}
if (do_peers) {
tessera_runs(3)
cat(sprintf("tessera: path %.3f s, path + 5-fold CV %.3f s (medians so far)\n", med_time(tess_path), med_time(tess_cv)))
fit <- path$value

if (nzchar(ref)) {
  # The checkout's commit (PRESTO_REF_COMMIT for an exported copy without .git).
  ref_commit <- Sys.getenv("PRESTO_REF_COMMIT")
  if (!nzchar(ref_commit)) {
    ref_commit <- suppressWarnings(tryCatch(system2("git", c("-C", ref, "rev-parse", "--short", "HEAD"),
                                                    stdout = TRUE, stderr = FALSE),
                                            error = function(e) character()))
    if (length(ref_commit) != 1) ref_commit <- "unknown"
  }
  env <- new.env()
  old <- setwd(file.path(ref, "ordinalNet modified"))
  for (f in c("cdIn.R", "cdOut.R", "links.R", "mirlsNet.R", "misc.R", "ordinalNet-methods.R",
              "ordinalNet.R", "ordinalNetCV.R", "ordinalNetTune.R")) sys.source(f, envir = env)
  setwd(old)
  # Same grid: objectives at every lambda, the peer at its default tolerances (timed) and
  # at tight ones (threshOut = threshIn = 1e-13), which shows what its default leaves.
  ref_path <- function(...) env$ordinalNetMod(x, y, family = "cumulative", link = "logit",
                                              lambdaVals = fit$lambda, alpha = 1, warn = FALSE,
                                              printIter = FALSE, ...)
  ref_objective <- function(r) {
    K <- nlevels(y)
    sapply(seq_along(fit$lambda), function(l)
      objective(r$loglik[l], n, fit$lambda[l], r$coefs[l, -(1:(K - 1))], rep(sd_pop, K - 1)))
  }
  rp <- timed(ref_path())
  tight <- ref_path(threshOut = 1e-13, threshIn = 1e-13, maxiterOut = 1000, maxiterIn = 1000)
  K <- nlevels(y); p <- ncol(x)
  # (peer - tessera) / |peer|: positive where tessera's objective is lower.
  rel <- (ref_objective(rp$value) - fit$objective) / abs(ref_objective(rp$value))
  rel_tight <- (ref_objective(tight) - fit$objective) / abs(ref_objective(tight))
  free <- !fit$constrained  # where tessera's non-crossing constraint is not active
  tessera_runs(2)
  cat(sprintf(paste0("reference path %.1f s; unconstrained lambdas (%d): max |rel objective diff| %.1e ",
                     "(peer default tolerances), %.1e (tight); constrained lambdas (%d): tessera lower by ",
                     "%s (tight)\n"),
              rp$seconds, sum(free), max(abs(rel[free])), max(abs(rel_tight[free])), sum(!free),
              paste(signif(rel_tight[!free], 2), collapse = ", ")))
  add(task = "path (20 lambdas), same grid", n = n, p = p, K = K, peer = paste0("gregfaletto/presto@", ref_commit),
      seconds_tessera = med_time(tess_path), seconds_peer = rp$seconds, speedup = rp$seconds / med_time(tess_path),
      seconds_tessera_2_threads = NA, speedup_2_threads = NA,
      max_rel_objective_diff = max(abs(rel_tight[free])),
      objective_note = sprintf(paste0("max rel diff over the %d unconstrained lambdas: %.1e vs the peer at ",
                                      "threshOut = threshIn = 1e-13, %.1e at its defaults; at the %d lambdas ",
                                      "where the non-crossing constraint is active tessera is lower by %s ",
                                      "(the peer stops when its steps cross); tessera not higher at %d/%d"),
                               sum(free), max(abs(rel_tight[free])), max(abs(rel[free])), sum(!free),
                               paste(signif(rel_tight[!free], 2), collapse = "/"),
                               sum(rel_tight >= -1e-12), length(rel_tight)))
  # The full pipeline: getLambdaFusedPolr (tune: 20 lambdas x 6 fits) + refit at lambda*.
  tess_path <- numeric(); tess_cv <- numeric(); tess_cv2 <- numeric(); tessera_runs(3)
  full <- timed({
    tune <- env$ordinalNetTuneMod(x, y, family = "cumulative", link = "logit", printProgress = FALSE,
                                  nLambda = 20, lambdaMinRatio = 0.01, alpha = 1, warn = FALSE)
    lstar <- max(tune$fit$lambdaVals[rowMeans(tune$brier) == min(rowMeans(tune$brier))])
    env$ordinalNetMod(x, y, family = "cumulative", link = "logit", lambdaVals = lstar, alpha = 1,
                      warn = FALSE, printIter = FALSE)
  })
  tessera_runs(2)
  cat(sprintf("reference tune + refit %.1f s (tessera cv_presto %.2f s, %.2f s on 2 threads): %.0fx, %.0fx\n",
              full$seconds, med_time(tess_cv), med_time(tess_cv2), full$seconds / med_time(tess_cv),
              full$seconds / med_time(tess_cv2)))
  add(task = "path + 5-fold CV + refit", n = n, p = p, K = K, peer = paste0("gregfaletto/presto@", ref_commit),
      seconds_tessera = med_time(tess_cv), seconds_peer = full$seconds, speedup = full$seconds / med_time(tess_cv),
      seconds_tessera_2_threads = med_time(tess_cv2), speedup_2_threads = full$seconds / med_time(tess_cv2),
      max_rel_objective_diff = NA, objective_note = NA_character_)
} else {
  cat("authors' pipeline skipped (PRESTO_REF unset)\n")
  add(task = "path + 5-fold CV + refit", n = n, p = ncol(x), K = nlevels(y),
      peer = "gregfaletto/presto skipped (PRESTO_REF unset)", seconds_tessera = med_time(tess_cv),
      seconds_peer = NA, speedup = NA, seconds_tessera_2_threads = med_time(tess_cv2), speedup_2_threads = NA,
      max_rel_objective_diff = NA, objective_note = NA_character_)
}

if (has_on) {
  ver <- paste0("ordinalNet ", packageVersion("ordinalNet"))
  # ordinalNetTune on the same grid: stock ordinalNet has no PRESTO penalty, so its closest
  # model (non-parallel terms, lasso on each threshold's slopes) is timed, not compared.
  tess_path <- numeric(); tess_cv <- numeric(); tess_cv2 <- numeric(); tessera_runs(3)
  tn <- timed(ordinalNet::ordinalNetTune(x, y, lambdaVals = fit$lambda, nFolds = 5, family = "cumulative",
                                         link = "logit", parallelTerms = FALSE, nonparallelTerms = TRUE,
                                         printProgress = FALSE, warn = FALSE))
  tessera_runs(2)
  add(task = "ordinalNetTune (non-parallel lasso), same grid, 5 folds", n = n, p = ncol(x), K = nlevels(y),
      peer = ver, seconds_tessera = med_time(tess_cv), seconds_peer = tn$seconds, speedup = tn$seconds / med_time(tess_cv),
      seconds_tessera_2_threads = med_time(tess_cv2), speedup_2_threads = tn$seconds / med_time(tess_cv2),
      max_rel_objective_diff = NA, objective_note = NA_character_)
  # A model both fit: the lasso proportional-odds model (tessera: blocks 2.. fixed at zero).
  po_runs <- function(k) for (r in seq_len(k)) {
    po <<- timed(presto(x, y, block.factors = c(1, Inf, Inf), verbose = FALSE)); po_t <<- c(po_t, po$seconds)
  }
  po_t <- numeric(); po_runs(3)
  on <- timed(ordinalNet::ordinalNet(x, y, family = "cumulative", link = "logit", parallelTerms = TRUE,
                                     nonparallelTerms = FALSE, lambdaVals = po$value$lambda))
  obj_on <- sapply(seq_along(po$value$lambda), function(l)
    objective(on$value$loglik[l], n, po$value$lambda[l], on$value$coefs[l, -(1:3)], sd_pop))
  rel <- (obj_on - po$value$objective) / abs(obj_on)
  po_runs(2)
  cat(sprintf("lasso PO: ordinalNet %.2f s, tessera %.3f s; max |rel objective diff| %.2e\n",
              on$seconds, med_time(po_t), max(abs(rel))))
  add(task = "lasso proportional odds path (20 lambdas), same grid", n = n, p = ncol(x), K = nlevels(y),
      peer = ver, seconds_tessera = med_time(po_t), seconds_peer = on$seconds, speedup = on$seconds / med_time(po_t),
      seconds_tessera_2_threads = NA, speedup_2_threads = NA, max_rel_objective_diff = max(abs(rel)),
      objective_note = sprintf("tessera not higher at %d/%d lambdas",
                               sum(po$value$objective <= obj_on * (1 + 1e-10)), length(rel)))
}

write.csv(do.call(rbind, rows), out_csv, row.names = FALSE)
cat("wrote", out_csv, "\n")
}

## 2. tessera's cost curve (path of 20 lambdas): n at p = 10, then p at n = 10^4.
# PRESTO_COST_BUDGET (seconds, default 1800) caps each fit: a path that has not finished by then
# is stopped (through the same check as Ctrl-C) and recorded as not finished. The csv is
# rewritten after every row, so a long run keeps what it has measured.
if (do_cost) {
rows <- list()
budget <- as.numeric(Sys.getenv("PRESTO_COST_BUDGET", "1800"))
ns <- if (quick) c(1e3, 1e4, 1e5) else c(1e3, 1e4, 1e5, 1e6)
ps <- if (quick) c(10, 100) else c(10, 100, 300, 1000)
grid <- rbind(data.frame(n = ns, p = 10), data.frame(n = 1e4, p = ps[ps > 10]))
for (i in seq_len(nrow(grid))) {
  # q = min(1/3, 3/p): with dense differences at large p the true model itself would cross.
  dd <- simulate_presto(n = grid$n[i], p = grid$p[i], alpha = c(-1, 1, 3), q = min(1 / 3, 3 / grid$p[i]),
                        seed = i)
  gc(reset = TRUE)
  tt <- timed(tryCatch({
    setTimeLimit(elapsed = budget, transient = TRUE)
    presto(dd$x, dd$y, verbose = FALSE)
  }, interrupt = function(e) NULL, error = function(e) NULL))
  setTimeLimit()
  mem <- sum(gc()[, 6])  # peak MB of R's heap since the reset (the core's own memory is not counted)
  f <- tt$value
  if (is.null(f)) {
    cat(sprintf("cost: n = %g, p = %d: not finished within %g s\n", grid$n[i], grid$p[i], budget))
    add(task = "tessera cost curve: path (20 lambdas)", n = grid$n[i], p = grid$p[i], K = 4,
        seconds = NA, newton_iterations = NA, max_kkt = NA, converged = NA, constrained = NA,
        r_peak_mb = mem, note = sprintf("not finished within the %g s budget", budget))
  } else {
    cat(sprintf("cost: n = %g, p = %d: %.2f s (max KKT %.1e, %d/20 converged, %d constrained)\n", grid$n[i],
                grid$p[i], tt$seconds, max(f$kkt), sum(f$converged), sum(f$constrained)))
    add(task = "tessera cost curve: path (20 lambdas)", n = grid$n[i], p = grid$p[i], K = 4,
        seconds = tt$seconds, newton_iterations = sum(f$iterations), max_kkt = max(f$kkt),
        converged = sum(f$converged), constrained = sum(f$constrained), r_peak_mb = mem, note = "")
  }
  write.csv(do.call(rbind, rows), cost_csv, row.names = FALSE)
  rm(dd, tt, f); gc()
}
cat("wrote", cost_csv, "\n")
}
