# Streaming aggregate-response regression against lm() on the expanded design.
#
# Data: d = 10 Gaussian features plus an intercept, y = 1 + x'theta0 + N(0, 1), consecutive
# bags of k = 5 rows, generated in chunks of 1e5 rows (chunk i from set.seed(1e4 + i), so
# every mode sees the same data). Each bag's aggregate is the mean of its rows' y.
#
# Modes, each run in a FRESH R process so that its peak resident memory (VmHWM from
# /proc/self/status) is its own:
#   streamed  chunks generated one at a time; only the per-fold sufficient statistics
#             (G, G_S, b, counts: 5 folds x 11 x 11) are kept, merged chunk by chunk with
#             merge_aggregate_stats(), and gc() runs after each chunk; fits rho = 1 (the lm()
#             counterpart) and rho by cross-validation over bags from the same statistics.
#   streamed_nogc  the same without the gc() calls: R then collects only when its heap
#             threshold (which grows with the volume allocated) is reached, so garbage from
#             earlier chunks inflates the peak although the live data is the same.
#   onepass   all chunks in memory, aggregate_lm(rho = 1) on the full design, alone.
#   lm        all chunks in memory, lm(yrow ~ .) on the expanded design (each row's
#             response = its bag's mean; the instance-level estimator is exactly this), alone.
#   timing    both in one process, repetitions interleaved, medians (time ratio).
#   merge4    all chunks in memory: the one-pass fit at rho = 0.3 against the merge of the
#             statistics of 4 chunks of whole bags (the same data cut in quarters).
#   idle      loads tessera and stops: the baseline memory of an R process.
#   Rscript bench/aggregate/bench.R OUT.csv [max_n] [lm_max_n]
#   Rscript bench/aggregate/bench.R --worker MODE n reps       (one mode, prints one CSV row)
suppressPackageStartupMessages(library(tessera))
d <- 10; k <- 5; chunk <- 1e5
theta0 <- seq(-1, 1, length.out = d)

vm_hwm_mb <- function() {
  st <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", grep("^VmHWM", st, value = TRUE))) / 1024
}

make_chunk <- function(i, rows = chunk) {
  set.seed(1e4 + i)
  x <- matrix(rnorm(rows * d), rows, d, dimnames = list(NULL, paste0("x", seq_len(d))))
  y <- drop(1 + x %*% theta0) + rnorm(rows)
  bags <- (i - 1) * (rows / k) + rep(seq_len(rows / k), each = k)  # consecutive whole bags
  list(x = x, bags = bags, y_bag = bag_means(y, bags))
}

all_chunks <- function(n) {
  ch <- lapply(seq_len(n / chunk), make_chunk)
  x <- do.call(rbind, lapply(ch, `[[`, "x"))
  bags <- unlist(lapply(ch, `[[`, "bags"))
  y_bag <- unlist(lapply(ch, `[[`, "y_bag"))
  list(x = x, bags = bags, y_bag = y_bag)
}

fmt <- function(v) paste(format(v, digits = 17), collapse = ";")

worker <- function(mode, n, reps) {
  out <- list(mode = mode, n = n, reps = reps, time_s = NA, time_peer_s = NA, max_abs_diff = NA,
              rho_cv = NA, coef = "", coef_peer = "")
  if (mode %in% c("streamed", "streamed_nogc")) {
    times <- numeric(reps)
    for (r in seq_len(reps)) {
      t0 <- proc.time()[["elapsed"]]
      st <- NULL
      for (i in seq_len(n / chunk)) {
        ch <- make_chunk(i)
        si <- aggregate_stats(ch$x, ch$bags, ch$y_bag, folds = 5, seed = i)
        st <- if (is.null(st)) si else merge_aggregate_stats(st, si)
        rm(ch, si)
        if (mode == "streamed") invisible(gc(verbose = FALSE))  # return the chunk's memory now
      }
      f1 <- aggregate_lm_stats(st, rho = 1)
      fcv <- aggregate_lm_stats(st, rho = "cv")
      times[r] <- proc.time()[["elapsed"]] - t0
    }
    out$time_s <- stats::median(times)
    out$rho_cv <- fcv$rho
    out$coef <- fmt(f1$coefficients)
  } else if (mode %in% c("onepass", "lm")) {  # memory of one fit alone
    a <- all_chunks(n)
    t0 <- proc.time()[["elapsed"]]
    if (mode == "onepass") {
      f <- coef(aggregate_lm(a$x, a$bags, a$y_bag, rho = 1))
    } else {
      df <- data.frame(a$x, yrow = unname(a$y_bag[as.character(a$bags)]))
      rm(a)
      f <- coef(stats::lm(yrow ~ ., data = df))
    }
    out$time_s <- proc.time()[["elapsed"]] - t0
    out$coef <- fmt(f)
  } else if (mode == "timing") {  # tessera and lm() alternate in one process
    a <- all_chunks(n)
    df <- data.frame(a$x, yrow = unname(a$y_bag[as.character(a$bags)]))
    tt <- tl <- numeric(reps)
    for (r in seq_len(reps)) {
      t0 <- proc.time()[["elapsed"]]
      ft <- aggregate_lm(a$x, a$bags, a$y_bag, rho = 1)
      tt[r] <- proc.time()[["elapsed"]] - t0
      t0 <- proc.time()[["elapsed"]]
      fl <- stats::lm(yrow ~ ., data = df)
      tl[r] <- proc.time()[["elapsed"]] - t0
    }
    out$time_s <- stats::median(tt)
    out$time_peer_s <- stats::median(tl)
    out$max_abs_diff <- max(abs(unname(coef(ft)) - unname(coef(fl))))
    out$coef <- fmt(coef(ft))
    out$coef_peer <- fmt(coef(fl))
  } else if (mode == "merge4") {
    a <- all_chunks(n)
    q <- split(seq_len(n), rep(1:4, each = n / 4))  # quarters hold whole bags (n / 4 divisible by k)
    st4 <- lapply(q, function(i) aggregate_stats(a$x[i, ], a$bags[i], a$y_bag[as.character(unique(a$bags[i]))]))
    m4 <- aggregate_lm_stats(st4, rho = 0.3)$coefficients
    p1 <- coef(aggregate_lm(a$x, a$bags, a$y_bag, rho = 0.3))
    out$max_abs_diff <- max(abs(unname(m4) - unname(p1)))
    out$coef <- fmt(m4)
    out$coef_peer <- fmt(p1)
  }
  out$peak_rss_mb <- vm_hwm_mb()
  utils::write.csv(as.data.frame(out), stdout(), row.names = FALSE)
}

args <- commandArgs(TRUE)
if (length(args) && args[1] == "--worker") {
  worker(args[2], as.numeric(args[3]), as.integer(args[4]))
  quit(save = "no")
}

out <- if (length(args)) args[1] else "bench/results/aggregate.csv"
max_n <- if (length(args) > 1) as.numeric(args[2]) else 1e7
lm_max <- if (length(args) > 2) as.numeric(args[3]) else 1e6
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
commit <- tryCatch(system("git describe --always --dirty", intern = TRUE), error = function(e) NA)  # at the start
run <- function(mode, n, reps) {
  res <- system2(file.path(R.home("bin"), "Rscript"), c(script, "--worker", mode, format(n, scientific = FALSE), reps),
                 stdout = TRUE)
  row <- utils::read.csv(text = res)
  message(sprintf("%-8s n = %.0e: %.2f s, peak RSS %.0f MB", mode, n, row$time_s, row$peak_rss_mb))
  row
}
rows <- list(run("idle", 0, 1))
for (n in c(1e5, 1e6, 1e7)[c(1e5, 1e6, 1e7) <= max_n]) {
  reps <- if (n >= 1e7) 1 else 3
  rows[[length(rows) + 1]] <- run("streamed", n, reps)
  rows[[length(rows) + 1]] <- run("streamed_nogc", n, 1)
  if (n <= lm_max) {
    for (m in c("onepass", "lm", "merge4")) rows[[length(rows) + 1]] <- run(m, n, 1)
    rows[[length(rows) + 1]] <- run("timing", n, reps)
  }
}
res <- do.call(rbind, rows)
# Agreement of the streamed rho = 1 fit with the in-memory tessera fit of the same n, and of
# the one-pass tessera fit with lm() (memory modes, separate processes).
coef_of <- function(s) as.numeric(strsplit(s, ";")[[1]])
for (i in which(res$mode %in% c("streamed", "streamed_nogc", "lm"))) {
  j <- which(res$mode == "onepass" & res$n == res$n[i])
  if (length(j)) res$max_abs_diff[i] <- max(abs(coef_of(res$coef[i]) - coef_of(res$coef[j])))
}
res$ratio_time_tessera_over_lm <- ifelse(res$mode == "timing", res$time_s / res$time_peer_s, NA)
res$ratio_peak_rss_tessera_over_lm <- NA
for (i in which(res$mode == "onepass")) {
  res$ratio_peak_rss_tessera_over_lm[i] <- res$peak_rss_mb[i] / res$peak_rss_mb[res$mode == "lm" & res$n == res$n[i]]
}
res$check <- c(idle = "baseline: R with tessera loaded",
               streamed = "max_abs_diff: rho = 1 vs one-pass tessera (same n); rho_cv from 5 streamed folds; gc() per chunk",
               streamed_nogc = "as streamed, without gc() per chunk (peak includes uncollected garbage)",
               onepass = "aggregate_lm(rho = 1) on the whole design, alone in its process",
               lm = "lm() on the expanded design alone; max_abs_diff vs one-pass tessera",
               merge4 = "max_abs_diff: 4-chunk merge vs one-pass fit at rho = 0.3",
               timing = "tessera rho = 1 and lm() interleaved, medians; max_abs_diff between them")[res$mode]
res$d <- d
res$k <- k
res$chunk_rows <- chunk
res$load_avg <- paste(strsplit(trimws(sub(".*load average:", "", system("uptime", intern = TRUE))), ", ")[[1]],
                      collapse = " ")
res$commit <- commit
res$tessera_version <- as.character(utils::packageVersion("tessera"))
res$r_version <- R.version.string
res$coef <- NULL
res$coef_peer <- NULL
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
utils::write.csv(res, out, row.names = FALSE)
print(res[, c("mode", "n", "time_s", "time_peer_s", "ratio_time_tessera_over_lm", "peak_rss_mb",
              "ratio_peak_rss_tessera_over_lm", "max_abs_diff", "rho_cv")])
