# Rel-MF benchmark (run by bench/relmf/run.sh from the project root). Writes
# bench/results/relmf.csv, one row per measurement; every row carries the commit, the package
# versions and the machine load (1-minute load average from /proc/loadavg, read before the row's
# measurement). The machine is shared: compare the ratios, not the absolute times.
#
# RELMF_PARTS (default "speed,scaling,quality") selects parts, RELMF_OUT the output file, so that
# parts can run as separate processes and their CSVs be concatenated.
#
#  1. speed: seconds per epoch and peak memory at the same rank, on MovieLens 100K clicks
#     (rating >= 4) and on a synthetic users x items matrix with Zipf item popularity
#     (100,000 x 20,000 with 10M clicks by default). An epoch is one full pass over the data:
#     one full-batch step for tessera, one ALS sweep (users then items) for rsparse::WRMF, and
#     for tessera's mini-batch solver nnz / (B / 2) iterations (every click drawn once on
#     average by balanced sampling). Tools: tessera full batch, squared loss, identity link
#     (the Gram-matrix step, O(nnz k + (m + n) k^2)); tessera full batch, log loss (ML-100K
#     only: O(m n k)); tessera mini-batch Adam, squared loss, balanced batches of 2^15 (the
#     authors' real-data trainer); WRMF with the Cholesky and the conjugate-gradient solver.
#     Each measurement is a child R process (so VmHWM is its own peak); it times fit_n(a) and
#     fit_n(b) (after an untimed warm-up fit on a 200-user slice, which loads everything a first
#     call loads) and reports (t_b - t_a) / (b - a), which removes data conversion and set-up.
#     Repetitions are interleaved (rep 1 of every tool, then rep 2, ...) in a shuffled order,
#     and the CSV keeps every repetition plus a median row per tool with its ratio to WRMF
#     (Cholesky) measured in the same run.
#  2. scaling: seconds per full-batch squared-loss step on synthetic data, in nnz at fixed k
#     and in k at fixed nnz, medians of interleaved repetitions; a least-squares fit of
#     t = a nnz k + b (m + n) k^2 + c is reported (rows with part = "scaling_fit").
#  3. quality: the semi-synthetic MovieLens world of vignettes/relmf.Rmd (exposure
#     theta = sigmoid(score)^p, p = 3): WRMF (rank 10, 10 ALS sweeps), naive MF, IPS and
#     clipped IPS (M = 0.05), DCG@5, Recall@5, MAP@5 on 100 missing-at-random test items per
#     user, 2 seeds.
suppressPackageStartupMessages({
  library(tessera)
  library(Matrix)
})
stopifnot(requireNamespace("rsparse", quietly = TRUE))
options(rsparse_omp_threads = 1L)
out_file <- Sys.getenv("RELMF_OUT", "bench/results/relmf.csv")
parts <- strsplit(Sys.getenv("RELMF_PARTS", "speed,scaling,quality"), ",")[[1]]
tmp <- tempfile("relmf-bench")
dir.create(tmp)
env_num <- function(name, default) as.numeric(Sys.getenv(name, default))
reps <- env_num("RELMF_REPS", 3)
rank <- env_num("RELMF_RANK", 32)
commit <- tryCatch(system2("git", c("rev-parse", "--short", "HEAD"), stdout = TRUE), error = function(e) NA_character_)
dirty <- length(tryCatch(system2("git", c("status", "--porcelain", "--untracked-files=no", "--", "core", "rpkg", "bench/relmf"), stdout = TRUE),
                         error = function(e) character(0))) > 0
commit <- paste0(commit, if (dirty) "+uncommitted" else "")
versions <- sprintf("tessera %s; rsparse %s; %s", utils::packageVersion("tessera"),
                    utils::packageVersion("rsparse"), R.version.string)
load1 <- function() as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][1])

# ---- data --------------------------------------------------------------------------------
data("movielens100k", package = "rsparse")
ml <- drop0((movielens100k >= 4) * 1)
syn_users <- env_num("RELMF_SYN_USERS", 1e5)
syn_items <- env_num("RELMF_SYN_ITEMS", 2e4)
syn_clicks <- env_num("RELMF_SYN_CLICKS", 1e7)
synthetic <- function(m, n, nnz, seed = 1) {
  set.seed(seed)
  pop <- 1 / seq_len(n)^0.8                     # Zipf-like item popularity
  key <- numeric(0)
  while (length(key) < nnz) {   # popular items saturate: draw until nnz distinct pairs
    more <- ceiling(1.2 * (nnz - length(key))) + 1000
    key <- unique(c(key, sample.int(m, more, replace = TRUE) +
                         (sample.int(n, more, replace = TRUE, prob = pop) - 1) * m))
  }
  key <- key[seq_len(nnz)]
  sparseMatrix(i = (key - 1) %% m + 1, j = (key - 1) %/% m + 1, x = 1, dims = c(m, n))
}
datasets <- if ("speed" %in% parts) list(ml100k = ml, synthetic = synthetic(syn_users, syn_items, syn_clicks)) else list()
data_files <- lapply(names(datasets), function(d) {
  f <- file.path(tmp, paste0(d, ".rds"))
  saveRDS(datasets[[d]], f)
  f
})
names(data_files) <- names(datasets)

# ---- 1. speed in child processes ----------------------------------------------------------
run_child <- function(data_file, body, a, b) {
  script <- file.path(tmp, "child.R")
  res_file <- file.path(tmp, "child.rds")
  writeLines(c(
    "suppressPackageStartupMessages({library(tessera); library(Matrix)})",
    "options(rsparse_omp_threads = 1L)",
    "hwm <- function() as.numeric(sub('[^0-9]*([0-9]+).*', '\\\\1', grep('VmHWM', readLines('/proc/self/status'), value = TRUE))) / 1024",
    sprintf("x <- readRDS('%s')", data_file),
    "invisible(requireNamespace('rsparse', quietly = TRUE))  # namespace loading is not timed",
    "base <- hwm()",
    body,
    "# warm-up on a 200-user slice: lazy loading and first-call set-up are not timed",
    "x_all <- x; x <- x[seq_len(min(nrow(x), 200)), ]; invisible(suppressWarnings(fit_n(1))); x <- x_all; rm(x_all)",
    sprintf("ta <- system.time(suppressWarnings(fit_n(%d)))[['elapsed']]", a),
    sprintf("tb <- system.time(suppressWarnings(fit_n(%d)))[['elapsed']]", b),
    sprintf("saveRDS(list(seconds = (tb - ta) / (%d - %d), peak = hwm(), base = base), '%s')", b, a, res_file)),
    script)
  unlink(res_file)
  status <- system2(file.path(R.home("bin"), "Rscript"), script, stdout = FALSE, stderr = FALSE)
  if (status != 0 || !file.exists(res_file)) return(NULL)
  readRDS(res_file)
}

rows <- list()
add_row <- function(...) {
  rows[[length(rows) + 1]] <<- data.frame(..., commit = commit, versions = versions, stringsAsFactors = FALSE)
}
save_rows <- function() if (length(rows)) utils::write.csv(do.call(rbind, rows), out_file, row.names = FALSE)

# Each tool: the child's fit_n(n) and the number of its iterations per epoch for data x.
mb_batch <- 2^15
tools <- list(
  tessera_full_batch_squared = list(
    body = "fit_n <- function(n) relmf(x, propensity = 'none', loss = 'squared', link = 'identity', unlabeled_weight = 0.1, dim = K, solver = 'full_batch', seed = 1, verbose = FALSE, control = relmf_control(max_iter = n, tol = 0))",
    per_epoch = function(x) 1),
  tessera_full_batch_log = list(
    body = "fit_n <- function(n) relmf(x, clip = 0.05, dim = K, solver = 'full_batch', seed = 1, verbose = FALSE, control = relmf_control(max_iter = n, tol = 0))",
    per_epoch = function(x) 1, only = "ml100k"),
  tessera_minibatch_squared = list(
    body = sprintf("fit_n <- function(n) relmf(x, clip = 0.01, loss = 'squared', dim = K, seed = 1, verbose = FALSE, control = relmf_control(max_iter = n, batch_size = %d))", mb_batch),
    per_epoch = function(x) length(x@x) / (mb_batch / 2)),
  wrmf_cholesky = list(
    body = "fit_n <- function(n) { m <- rsparse::WRMF$new(rank = K, lambda = 1, feedback = 'implicit', solver = 'cholesky'); m$fit_transform(x, n_iter = n, convergence_tol = -1) }",
    per_epoch = function(x) 1),
  wrmf_cg = list(
    body = "fit_n <- function(n) { m <- rsparse::WRMF$new(rank = K, lambda = 1, feedback = 'implicit', solver = 'conjugate_gradient'); m$fit_transform(x, n_iter = n, convergence_tol = -1) }",
    per_epoch = function(x) 1))
# iteration counts (a, b) per dataset: enough work between a and b to dominate timer noise
counts <- list(ml100k = list(full = c(2, 32), mini = c(10, 110)),
               synthetic = list(full = c(1, 2), mini = c(10, 60)))

for (ds in if ("speed" %in% parts) names(datasets) else character(0)) {
  x <- datasets[[ds]]
  active <- names(tools)[vapply(tools, function(t) is.null(t$only) || t$only == ds, logical(1))]
  set.seed(42)
  for (rep in seq_len(reps)) {
    for (tool in sample(active)) {
      ab <- if (grepl("minibatch", tool)) counts[[ds]]$mini else counts[[ds]]$full
      ld <- load1()
      r <- run_child(data_files[[ds]], gsub("= K", paste("=", rank), tools[[tool]]$body, fixed = TRUE),
                     ab[1], ab[2])
      if (is.null(r)) {
        message(ds, " ", tool, ": child failed")
        next
      }
      per_iter <- r$seconds
      add_row(part = "speed", dataset = ds, users = nrow(x), items = ncol(x), nnz = length(x@x),
              tool = tool, rank = rank, rep = rep, seconds_per_iteration = per_iter,
              seconds_per_epoch = per_iter * tools[[tool]]$per_epoch(x), ratio_to_wrmf_cholesky = NA,
              peak_mb = r$peak, peak_over_data_mb = r$peak - r$base, metric = NA, value = NA, load1 = ld)
      message(sprintf("%s %s rep %d: %.3g s/epoch, peak %.0f MB (load %.1f)", ds, tool, rep,
                      per_iter * tools[[tool]]$per_epoch(x), r$peak, ld))
      save_rows()
    }
  }
}
if (length(rows)) {
  source("bench/relmf/medians.R")
  medians <- speed_medians(do.call(rbind, rows))
  if (!is.null(medians)) rows[[length(rows) + 1]] <- medians
}

save_rows()

# ---- 2. scaling of the full-batch squared-loss step ----------------------------------------
step_time <- function(x, k) {
  fit_n <- function(n) {
    suppressWarnings(relmf(x, propensity = "none", loss = "squared", link = "identity",
                           unlabeled_weight = 0.1, dim = k, solver = "full_batch", seed = 1,
                           verbose = FALSE, control = relmf_control(max_iter = n, tol = 0)))
  }
  ta <- system.time(fit_n(1))[["elapsed"]]
  (system.time(fit_n(6))[["elapsed"]] - ta) / 5
}
sc_m <- 2e4
sc_n <- 5e3
grid <- rbind(data.frame(part = "scaling_nnz", nnz = c(1e5, 3e5, 1e6, 3e6), k = 32),
              data.frame(part = "scaling_k", nnz = 1e6, k = c(8, 16, 32, 64, 128)))
sc_data <- if (!"scaling" %in% parts) list() else lapply(unique(grid$nnz), function(z) synthetic(sc_m, sc_n, z, seed = 2))
names(sc_data) <- format(unique(grid$nnz), scientific = TRUE)
timings <- matrix(NA_real_, nrow(grid), reps)
loads <- matrix(NA_real_, nrow(grid), reps)
for (rep in seq_len(if ("scaling" %in% parts) reps else 0)) {
  for (g in sample(nrow(grid))) {
    loads[g, rep] <- load1()
    timings[g, rep] <- step_time(sc_data[[format(grid$nnz[g], scientific = TRUE)]], grid$k[g])
  }
}
grid$seconds <- apply(timings, 1, stats::median)
for (g in seq_len(if ("scaling" %in% parts) nrow(grid) else 0)) {
  add_row(part = grid$part[g], dataset = sprintf("synthetic %d x %d", sc_m, sc_n), users = sc_m, items = sc_n,
          nnz = grid$nnz[g], tool = "tessera_full_batch_squared", rank = grid$k[g], rep = NA,
          seconds_per_iteration = grid$seconds[g], seconds_per_epoch = grid$seconds[g],
          ratio_to_wrmf_cholesky = NA, peak_mb = NA, peak_over_data_mb = NA,
          metric = paste("reps:", paste(signif(timings[g, ], 3), collapse = " ")), value = NA,
          load1 = stats::median(loads[g, ]))
}
if ("scaling" %in% parts) {
u <- unique(grid[c("nnz", "k", "seconds")])
cost <- stats::lm(seconds ~ I(nnz * k) + I((sc_m + sc_n) * k^2), data = u)
cf <- stats::coef(cost)
for (nm in c("a_nnz_k", "b_mn_k2", "c_intercept", "r_squared")) {
  add_row(part = "scaling_fit", dataset = sprintf("synthetic %d x %d", sc_m, sc_n), users = sc_m, items = sc_n,
          nnz = NA, tool = "tessera_full_batch_squared", rank = NA, rep = NA, seconds_per_iteration = NA,
          seconds_per_epoch = NA, ratio_to_wrmf_cholesky = NA, peak_mb = NA, peak_over_data_mb = NA,
          metric = nm, value = switch(nm, a_nnz_k = cf[[2]], b_mn_k2 = cf[[3]], c_intercept = cf[[1]],
                                      r_squared = summary(cost)$r.squared), load1 = NA)
}
}

save_rows()

# ---- 3. ranking quality on the semi-synthetic MovieLens world ---------------------------------
if ("quality" %in% parts) {
R0 <- as.matrix(movielens100k)
rated <- R0 > 0
user_mean <- rowSums(R0) / pmax(rowSums(rated), 1)
sv <- svd(ifelse(rated, R0 - user_mean, 0), nu = 20, nv = 20)
gamma <- plogis(pmin(pmax(user_mean + sv$u %*% (sv$d[1:20] * t(sv$v)), 1), 5) - 5)
score <- function(f) f$U %*% t(f$V) + outer(f$user_bias, f$item_bias, "+") + f$global_bias
expo <- relmf(rated * 1, propensity = "none", dim = 20, lambda = 1e-6, biases = TRUE,
              seed = 1, verbose = FALSE,
              control = relmf_control(max_iter = 1500, lr = 0.01, batch_size = 16384, sampling = "uniform"))
theta <- plogis(score(expo))^3
for (seed in 1:2) {
  set.seed(seed)
  R <- matrix(rbinom(length(gamma), 1, gamma), nrow(gamma))
  Y <- R * matrix(rbinom(length(theta), 1, theta), nrow(theta))
  test <- do.call(rbind, lapply(seq_len(nrow(Y)), function(u) {
    cand <- which(Y[u, ] == 0)
    pick <- cand[sample.int(length(cand), 100)]
    data.frame(user = u, item = pick, relevance = R[u, pick])
  }))
  ctrl <- relmf_control(max_iter = 1000, lr = 0.01, batch_size = 4096, sampling = "uniform")
  fit <- function(prop, M) {
    relmf(Y, propensity = prop, clip = M, dim = 10, biases = TRUE, lambda = 1e-5, control = ctrl,
          seed = seed, verbose = FALSE)
  }
  fits <- list(naive_mf = fit("none", 0), relmf_ips = fit(theta, 0), relmf_clipped_0.05 = fit(theta, 0.05))
  eval_scores <- function(S) rank_metrics(NULL, transform(test, score = S[cbind(test$user, test$item)]), k = 5)
  Ys <- as(Y, "CsparseMatrix")
  set.seed(seed)
  w <- rsparse::WRMF$new(rank = 10, lambda = 1, feedback = "implicit", solver = "cholesky")
  uf <- w$fit_transform(Ys, n_iter = 10, convergence_tol = -1)
  metrics <- c(lapply(fits, function(f) eval_scores(score(f))), list(wrmf = eval_scores(uf %*% w$components)))
  for (tool in names(metrics)) {
    for (met in c("dcg", "recall", "map")) {
      add_row(part = "quality", dataset = "semi-synthetic ML-100K p=3", users = nrow(Y), items = ncol(Y),
              nnz = sum(Y), tool = tool, rank = 10, rep = seed, seconds_per_iteration = NA,
              seconds_per_epoch = NA, ratio_to_wrmf_cholesky = NA, peak_mb = NA, peak_over_data_mb = NA,
              metric = paste0(met, "@5"), value = metrics[[tool]][[met]], load1 = load1())
    }
  }
}

}

out <- do.call(rbind, rows)
utils::write.csv(out, out_file, row.names = FALSE)
message("wrote ", out_file, " (", nrow(out), " rows)")
