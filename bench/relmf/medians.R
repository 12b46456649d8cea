# Median rows of the speed part (one per dataset and tool, over its repetitions) with the ratio
# to rsparse::WRMF (Cholesky) measured in the same run. Used by bench.R at the end of the speed
# part, and on its own to combine CSVs of parts run as separate processes (or a speed part cut
# short):  Rscript bench/relmf/medians.R OUT.csv IN1.csv [IN2.csv ...]
speed_medians <- function(rows) {
  speed <- rows[rows$part == "speed", , drop = FALSE]
  out <- list()
  for (ds in unique(speed$dataset)) {
    d <- speed[speed$dataset == ds, ]
    ref <- stats::median(d$seconds_per_epoch[d$tool == "wrmf_cholesky" & d$seconds_per_epoch > 0])
    for (tool in unique(d$tool)) {
      all <- d[d$tool == tool, ]
      # a non-positive difference t_b - t_a means the machine's load changed more between the
      # two timed fits than the work between them: that repetition measured nothing
      e <- all[all$seconds_per_epoch > 0, ]
      if (!nrow(e)) next
      med <- stats::median(e$seconds_per_epoch)
      m <- e[1, ]
      m$part <- "speed_median"
      m$rep <- NA
      m$seconds_per_iteration <- stats::median(e$seconds_per_iteration)
      m$seconds_per_epoch <- med
      m$ratio_to_wrmf_cholesky <- med / ref
      m$peak_mb <- stats::median(e$peak_mb)
      m$peak_over_data_mb <- stats::median(e$peak_over_data_mb)
      m$metric <- sprintf("median of %d valid of %d repetitions", nrow(e), nrow(all))
      m$load1 <- stats::median(e$load1)
      out[[length(out) + 1]] <- m
    }
  }
  do.call(rbind, out)
}

if (sys.nframe() == 0L) {
  args <- commandArgs(TRUE)
  rows <- do.call(rbind, lapply(args[-1], utils::read.csv, stringsAsFactors = FALSE))
  rows <- rows[rows$part != "speed_median", , drop = FALSE]
  rows <- rbind(rows[rows$part == "speed", ], speed_medians(rows), rows[rows$part != "speed", ])
  utils::write.csv(rows, args[1], row.names = FALSE)
  message("wrote ", args[1], " (", nrow(rows), " rows)")
}
