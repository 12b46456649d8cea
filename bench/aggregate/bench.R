# Streaming aggregate-response regression: sufficient statistics of chunks of whole bags
# (aggregate_stats) merged and fitted (aggregate_lm_stats), against lm() on the expanded
# design (each row's response = its bag's mean, which is exactly the instance-level fit
# rho = 1). Checks: the 4-chunk merge equals the one-pass fit; tessera's rho = 1 fit
# equals lm(). Memory: peak R heap (gc) per size, which stays flat in n for the streamed
# fit (one chunk in memory at a time).
#   Rscript bench/aggregate/bench.R OUT.csv [max_n]
suppressPackageStartupMessages(library(tessera))
args <- commandArgs(TRUE)
out <- if (length(args)) args[1] else "bench/results/aggregate.csv"
max_n <- if (length(args) > 1) as.numeric(args[2]) else 1e7
d <- 10; k <- 5; chunk <- 1e5
theta0 <- seq(-1, 1, length.out = d)

make_chunk <- function(i, rows) {
  set.seed(1e4 + i)
  x <- matrix(rnorm(rows * d), rows, d)
  y <- drop(1 + x %*% theta0) + rnorm(rows)
  bags <- (i - 1) * (rows / k) + rep(seq_len(rows / k), each = k)  # consecutive whole bags
  list(x = x, y = y, bags = bags, y_bag = bag_means(y, bags))
}

peak_mb <- function(expr) {
  invisible(gc(reset = TRUE))
  t <- system.time(val <- force(expr))[["elapsed"]]
  g <- gc()
  list(value = val, time = t, mb = sum(g[, ncol(g)]))  # "max used" column, Mb
}

rows <- list()
sizes <- c(1e5, 1e6, 1e7)
sizes <- sizes[sizes <= max_n]
for (n in sizes) {
  n_chunks <- n / chunk
  s <- peak_mb({
    st <- NULL
    for (i in seq_len(n_chunks)) {
      ch <- make_chunk(i, chunk)
      si <- aggregate_stats(ch$x, ch$bags, ch$y_bag)
      st <- if (is.null(st)) si else { si$G <- si$G + st$G; si$GS <- si$GS + st$GS; si$b <- si$b + st$b
                                      si$yy <- si$yy + st$yy; si$n <- si$n + st$n; si$m <- si$m + st$m; si }
    }
    aggregate_lm_stats(st, rho = 1)
  })
  row <- data.frame(n = n, d = d, k = k, method = "tessera streamed (rho = 1)", time_s = s$time, peak_mb = s$mb,
                    max_abs_diff = NA_real_, check = "")
  if (n <= 1e6) {
    all <- lapply(seq_len(n_chunks), make_chunk, rows = chunk)
    x <- do.call(rbind, lapply(all, `[[`, "x"))
    bags <- unlist(lapply(all, `[[`, "bags"))
    y_bag <- unlist(lapply(all, `[[`, "y_bag"))
    yrow <- y_bag[as.character(bags)]
    rm(all)
    l <- peak_mb(stats::lm.fit(cbind(1, x), yrow))
    one <- peak_mb(aggregate_lm(x, bags, y_bag, rho = 1, seed = 1))
    row$max_abs_diff <- max(abs(s$value$coefficients - coef(one$value)))
    rows[[length(rows) + 1]] <- data.frame(n = n, d = d, k = k, method = "tessera one pass (rho = 1)",
                                           time_s = one$time, peak_mb = one$mb,
                                           max_abs_diff = max(abs(coef(one$value) - l$value$coefficients)),
                                           check = "vs lm.fit on the expanded design")
    rows[[length(rows) + 1]] <- data.frame(n = n, d = d, k = k, method = "lm.fit on the expanded design",
                                           time_s = l$time, peak_mb = l$mb, max_abs_diff = 0, check = "reference")
    # 4-chunk merge (chunks of whole bags) against the one-pass fit, at rho = 0.3.
    q <- split(seq_len(nrow(x)), rep(1:4, each = nrow(x) / 4))
    st4 <- lapply(q, function(i) aggregate_stats(x[i, ], bags[i], y_bag[as.character(unique(bags[i]))]))
    m4 <- aggregate_lm_stats(st4, rho = 0.3)$coefficients
    p1 <- coef(aggregate_lm(x, bags, y_bag, rho = 0.3))
    rows[[length(rows) + 1]] <- data.frame(n = n, d = d, k = k, method = "4-chunk merge vs one pass (rho = 0.3)",
                                           time_s = NA, peak_mb = NA, max_abs_diff = max(abs(m4 - p1)),
                                           check = "merge")
    row$check <- "vs one pass"
    rm(x, bags, y_bag, yrow)
  }
  rows[[length(rows) + 1]] <- row
  message(sprintf("n = %.0e done", n))
}
res <- do.call(rbind, rows)
res$tessera_version <- as.character(utils::packageVersion("tessera"))
res$r_version <- R.version.string
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
utils::write.csv(res, out, row.names = FALSE)
print(res)
