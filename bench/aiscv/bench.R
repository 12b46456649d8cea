# Sobol' indices at equal numbers of model runs: tessera::sobol_aiscv against the
# pick-freeze estimators of the CRAN sensitivity package (sobolEff: first order, Janon-Monod,
# (d + 1) N runs; soboljansen and sobolmartinez: first and total order, (d + 2) N runs), on
# the cantilever beam (d = 6) and the Ishigami function (d = 3).
#
# One run, repetitions interleaved (tessera, then each peer, for r = 1..REPS), so that the
# machine's load hits every method alike. Per method: the summed variance of the indices
# over repetitions, the median time per fit, and
#   variance_ratio        = peer summed variance / tessera summed variance at equal runs
#                           (> 1: tessera needs fewer model runs for the same precision),
#   work_normalised_ratio = (peer variance x peer median time) / (tessera variance x tessera
#                           median time) with these (cheap, vectorised) models,
#   overhead_s_per_run    = tessera's own time per model run (elapsed minus time in the
#                           model), against model_s_per_run, the model's cost,
#   break_even_model_s    = the cost of one model run above which tessera reaches a given
#                           variance in less wall-clock time than the peer:
#                           (o_t - ratio o_p) / (ratio - 1), o = overhead per run.
# The machine is shared: only ratios are meaningful; the CSV records the load and commit.
#   Rscript bench/aiscv/bench.R OUT.csv [REPS] [POINTS, comma-separated: points per input]
args <- commandArgs(TRUE)
out_csv <- if (length(args) >= 1) args[1] else "bench/results/aiscv.csv"
reps <- if (length(args) >= 2) as.integer(args[2]) else 20L
points <- if (length(args) >= 3) as.integer(strsplit(args[3], ",")[[1]]) else c(2000L, 5000L, 20000L)
suppressPackageStartupMessages(library(tessera))
has_sens <- suppressMessages(requireNamespace("sensitivity", quietly = TRUE))
if (!has_sens) message("sensitivity is not installed: only tessera is timed (run tools/install-deps --bench)")
load_at <- function() strsplit(readLines("/proc/loadavg", warn = FALSE), " ")[[1]][1]
commit <- tryCatch(system2("git", c("rev-parse", "--short", "HEAD"), stdout = TRUE, stderr = FALSE),
                   error = function(e) NA_character_, warning = function(w) NA_character_)
load_start <- load_at()

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

# Independent draws from the marginals with R's own quantile functions (the peers' designs).
draw <- function(law, n) {
  q <- function(k, u) switch(law$family[k], normal = qnorm(u, law$a[k], law$b[k]),
                             lognormal = qlnorm(u, law$a[k], law$b[k]), uniform = qunif(u, law$a[k], law$b[k]),
                             gamma = qgamma(u, law$a[k], scale = law$b[k]), beta = qbeta(u, law$a[k], law$b[k]))
  as.data.frame(stats::setNames(lapply(seq_len(law$dim), function(k) q(k, runif(n))), law$names))
}

# Runs f(), returning its value, elapsed seconds and seconds spent inside the model.
timed <- function(f) {
  model_s <- 0
  counted <- function(model) function(x) {
    t0 <- proc.time()[["elapsed"]]
    y <- model(x)
    model_s <<- model_s + proc.time()[["elapsed"]] - t0
    y
  }
  t0 <- proc.time()[["elapsed"]]
  value <- f(counted)
  list(value = value, secs = proc.time()[["elapsed"]] - t0, model_s = model_s)
}

rows <- list()
for (n_pts in points) for (cn in names(cases)) {
  cs <- cases[[cn]]
  d <- cs$inputs$dim
  for (total in c(FALSE, TRUE)) {
    runs <- n_pts * (d + if (total) 2 else 1)
    methods <- c("tessera::sobol_aiscv", if (has_sens) paste0("sensitivity::",
                 if (total) c("soboljansen", "sobolmartinez") else "sobolEff"))
    est <- lapply(methods, function(m) list(S = matrix(NA, reps, d), T = matrix(NA, reps, d),
                                            secs = numeric(reps), model_s = numeric(reps)))
    names(est) <- methods
    for (r in seq_len(reps)) {
      for (m in methods) {
        if (m == "tessera::sobol_aiscv") {
          out <- timed(function(wrap) {
            fit <- sobol_aiscv(wrap(cs$model), cs$inputs, budget = runs, total = total, seed = r, verbose = FALSE)
            list(S = fit$first, T = if (total) fit$total else rep(NA, d))
          })
        } else {
          set.seed(1000 + r)
          X1 <- draw(cs$inputs, n_pts)
          X2 <- draw(cs$inputs, n_pts)
          peer <- sub("sensitivity::", "", m, fixed = TRUE)
          out <- timed(function(wrap) {
            res <- switch(peer,
                          sobolEff = sensitivity::sobolEff(wrap(cs$model), X1, X2, order = 1, nboot = 0),
                          soboljansen = sensitivity::soboljansen(wrap(cs$model), X1, X2, nboot = 0),
                          sobolmartinez = sensitivity::sobolmartinez(wrap(cs$model), X1, X2, nboot = 0))
            list(S = res$S$original, T = if (total) res$T$original else rep(NA, d))
          })
        }
        est[[m]]$S[r, ] <- out$value$S
        est[[m]]$T[r, ] <- out$value$T
        est[[m]]$secs[r] <- out$secs
        est[[m]]$model_s[r] <- out$model_s
      }
    }
    for (kind in if (total) c("first", "total") else "first") {
      key <- if (kind == "first") "S" else "T"
      for (m in methods) {
        e <- est[[m]]
        rows[[length(rows) + 1]] <- data.frame(
          case = cn, index = kind, method = m, points = n_pts, model_runs = runs, reps = reps,
          sum_variance = sum(apply(e[[key]], 2, stats::var)),
          median_seconds = stats::median(e$secs),
          model_s_per_run = stats::median(e$model_s) / runs,
          overhead_s_per_run = (stats::median(e$secs) - stats::median(e$model_s)) / runs,
          stringsAsFactors = FALSE)
      }
    }
  }
}
tab <- do.call(rbind, rows)
ref <- tab[tab$method == "tessera::sobol_aiscv", c("case", "index", "model_runs", "sum_variance", "median_seconds",
                                                  "overhead_s_per_run")]
names(ref)[4:6] <- c("t_var", "t_secs", "t_over")
tab <- merge(tab, ref, by = c("case", "index", "model_runs"), sort = FALSE)
tab$variance_ratio <- signif(tab$sum_variance / tab$t_var, 3)
tab$work_normalised_ratio <- signif(tab$sum_variance * tab$median_seconds / (tab$t_var * tab$t_secs), 3)
tab$break_even_model_s <- with(tab, ifelse(method == "tessera::sobol_aiscv" | variance_ratio <= 1, NA,
                                           signif(pmax(0, (t_over - variance_ratio * overhead_s_per_run) /
                                                            (variance_ratio - 1)), 3)))
tab$t_var <- tab$t_secs <- tab$t_over <- NULL
tab <- tab[order(tab$case, tab$points, tab$model_runs, tab$index, tab$method != "tessera::sobol_aiscv", tab$method), ]
tab$sensitivity_version <- if (has_sens) as.character(utils::packageVersion("sensitivity")) else "not installed"
tab$tessera_version <- as.character(utils::packageVersion("tessera"))
tab$commit <- commit
tab$load_start <- load_start
tab$load_end <- load_at()
tab$cores <- parallel::detectCores()
tab$date <- format(Sys.time(), "%Y-%m-%d %H:%M UTC", tz = "UTC")
dir.create(dirname(out_csv), showWarnings = FALSE, recursive = TRUE)
write.csv(tab, out_csv, row.names = FALSE)
print(tab[, c("case", "index", "method", "points", "model_runs", "sum_variance", "variance_ratio", "work_normalised_ratio",
              "median_seconds", "overhead_s_per_run", "model_s_per_run", "break_even_model_s")], row.names = FALSE)
