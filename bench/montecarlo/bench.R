# Sobol' indices at equal numbers of model runs: tessera::sobol_aiscv against the
# pick-freeze estimators of the CRAN sensitivity package (sobolEff, soboljansen,
# sobolmartinez), on the cantilever beam and the Ishigami function. Reports the variance
# of the first-order (and total-order) indices over replications, work-normalised
# variance ratios (peer / tessera, equal runs so the ratio is also the efficiency gain),
# and tessera's own overhead per model run.
#   Rscript bench/montecarlo/bench.R OUT.csv [REPS] [RUNS_PER_INPUT]
args <- commandArgs(TRUE)
out_csv <- if (length(args) >= 1) args[1] else "bench/results/montecarlo.csv"
reps <- if (length(args) >= 2) as.integer(args[2]) else 20L
n_pts <- if (length(args) >= 3) as.integer(args[3]) else 5000L
suppressPackageStartupMessages(library(tessera))
has_sens <- suppressMessages(requireNamespace("sensitivity", quietly = TRUE))

beam <- function(x) {
  x <- as.matrix(x)
  E <- x[, 3] * 1e9
  4 * x[, 6]^3 / (E * x[, 4] * x[, 5]) * sqrt((x[, 1] / x[, 4]^2)^2 + (x[, 2] / x[, 5]^2)^2)
}
ishigami <- function(x) {
  x <- as.matrix(x)
  sin(x[, 1]) + 7 * sin(x[, 2])^2 + 0.1 * x[, 3]^4 * sin(x[, 1])
}
cases <- list(
  beam = list(model = beam,
              inputs = input_law(FX = mc_lognormal(mean = 556.8, cv = 0.08), FY = mc_lognormal(mean = 453.6, cv = 0.08),
                                 E = mc_lognormal(mean = 200, cv = 0.06), w = mc_normal(0.062, 0.0062),
                                 t = mc_normal(0.0987, 0.00987), L = mc_normal(4.29, 0.429))),
  ishigami = list(model = ishigami,
                  inputs = input_law(x1 = mc_uniform(-pi, pi), x2 = mc_uniform(-pi, pi), x3 = mc_uniform(-pi, pi))))

draw <- function(law, n) {
  q <- function(k, u) switch(law$family[k], normal = qnorm(u, law$a[k], law$b[k]),
                             lognormal = qlnorm(u, law$a[k], law$b[k]), uniform = qunif(u, law$a[k], law$b[k]),
                             gamma = qgamma(u, law$a[k], scale = law$b[k]), beta = qbeta(u, law$a[k], law$b[k]))
  as.data.frame(setNames(lapply(seq_len(law$dim), function(k) q(k, runif(n))), law$names))
}

rows <- list()
add <- function(case, method, kind, runs, est, secs, overhead = NA_real_) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, method = method, index = kind, model_runs = runs,
                                          reps = nrow(est), sum_variance = sum(apply(est, 2, var)),
                                          mean_seconds = secs, tessera_overhead_s_per_run = overhead)
}
for (cn in names(cases)) {
  cs <- cases[[cn]]
  d <- cs$inputs$dim
  for (total in c(FALSE, TRUE)) {
    runs <- n_pts * (d + if (total) 2 else 1)
    S <- T <- matrix(NA, reps, d)
    secs <- model_secs <- 0
    for (r in seq_len(reps)) {
      timed_model <- function(x) { t0 <- proc.time()[["elapsed"]]; y <- cs$model(x)
                                   model_secs <<- model_secs + proc.time()[["elapsed"]] - t0; y }
      t0 <- proc.time()[["elapsed"]]
      fit <- sobol_aiscv(timed_model, cs$inputs, budget = runs, total = total, seed = r, verbose = FALSE)
      secs <- secs + proc.time()[["elapsed"]] - t0
      S[r, ] <- fit$first
      if (total) T[r, ] <- fit$total
    }
    overhead <- (secs - model_secs) / (reps * runs)
    add(cn, "tessera::sobol_aiscv", "first", runs, S, secs / reps, overhead)
    if (total) add(cn, "tessera::sobol_aiscv", "total", runs, T, secs / reps, overhead)
    if (!has_sens) next
    peers <- if (total) c("soboljansen", "sobolmartinez") else "sobolEff"
    for (peer in peers) {
      n <- runs / (d + if (total) 2 else 1)
      PS <- PT <- matrix(NA, reps, d)
      secs <- 0
      for (r in seq_len(reps)) {
        set.seed(1000 + r)
        X1 <- draw(cs$inputs, n); X2 <- draw(cs$inputs, n)
        t0 <- proc.time()[["elapsed"]]
        res <- switch(peer,
                      sobolEff = sensitivity::sobolEff(cs$model, X1, X2, order = 1, nboot = 0),
                      soboljansen = sensitivity::soboljansen(cs$model, X1, X2, nboot = 0),
                      sobolmartinez = sensitivity::sobolmartinez(cs$model, X1, X2, nboot = 0))
        secs <- secs + proc.time()[["elapsed"]] - t0
        PS[r, ] <- res$S$original
        if (total) PT[r, ] <- res$T$original
      }
      add(cn, paste0("sensitivity::", peer), "first", runs, PS, secs / reps)
      if (total) add(cn, paste0("sensitivity::", peer), "total", runs, PT, secs / reps)
    }
  }
}
tab <- do.call(rbind, rows)
ref <- tab[tab$method == "tessera::sobol_aiscv", c("case", "index", "model_runs", "sum_variance")]
names(ref)[4] <- "tessera_sum_variance"
tab <- merge(tab, ref, by = c("case", "index", "model_runs"))
tab$variance_ratio_peer_over_tessera <- signif(tab$sum_variance / tab$tessera_sum_variance, 3)
tab$tessera_sum_variance <- NULL
tab$sensitivity_version <- if (has_sens) as.character(utils::packageVersion("sensitivity")) else "not installed"
tab$tessera_version <- as.character(utils::packageVersion("tessera"))
tab$date <- format(Sys.Date())
dir.create(dirname(out_csv), showWarnings = FALSE, recursive = TRUE)
write.csv(tab, out_csv, row.names = FALSE)
print(tab[, c("case", "index", "method", "model_runs", "sum_variance", "variance_ratio_peer_over_tessera",
              "mean_seconds", "tessera_overhead_s_per_run")])
