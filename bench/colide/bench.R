# Side-by-side: tessera::colide and the reference CoLiDE on the same simulated data.
args <- commandArgs(TRUE)
out_csv <- args[1]
ds <- if (length(args) > 1) as.integer(args[-1]) else c(20L, 50L, 100L)
suppressPackageStartupMessages(library(tessera))
ref <- Sys.getenv("COLIDE_REF")
py <- Sys.getenv("PYTHON", "/usr/bin/python3")
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
ref_commit <- if (nzchar(Sys.getenv("COLIDE_REF_COMMIT"))) Sys.getenv("COLIDE_REF_COMMIT") else if (nzchar(ref)) {
  tryCatch(system2("git", c("-C", ref, "rev-parse", "--short", "HEAD"), stdout = TRUE, stderr = FALSE),
           error = function(e) "unknown", warning = function(w) "unknown")
} else NA_character_
if (nzchar(ref) && length(ref_commit) == 0) ref_commit <- "unknown"

ctl <- dag_control()          # the reference fit() defaults: T = 5, s = (1, .9, .8, .7, .6), 3e4/6e4 steps
lambda <- 0.05
rows <- list()
for (d in ds) {
  for (variance in c("equal", "nonequal")) {
    if (variance == "nonequal" && d > 50) next   # NV at d = 100 doubles a long run: EV only there
    sim <- simulate_sem(n = 1000, d = d, edges = 2 * d, graph = "er", variance = variance, seed = d)
    kind <- if (variance == "equal") "ev" else "nv"
    t0 <- proc.time()[["elapsed"]]
    fit <- colide(sim$x, variance = variance, lambda = lambda, control = ctl, verbose = FALSE)
    t_tessera <- proc.time()[["elapsed"]] - t0
    shd_tessera <- dag_metrics(fit, sim$W)$shd
    shd_ref <- NA_real_; t_ref <- NA_real_; max_diff <- NA_real_
    peer <- "reference skipped (COLIDE_REF unset)"
    if (nzchar(ref)) {
      tmp <- tempfile("colide")
      write.table(sim$x, paste0(tmp, "_X.csv"), sep = ",", row.names = FALSE, col.names = FALSE)
      status <- system2(py, c(file.path(here, "reference_fit.py"), paste0(tmp, "_X.csv"), kind, lambda,
                              ctl$stages, ctl$warm_iter, ctl$max_iter, ctl$lr,
                              paste(ctl$s, collapse = ","), tmp),
                        stdout = FALSE, stderr = FALSE,
                        env = c("OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1"))
      if (status == 0) {
        W_ref <- as.matrix(read.csv(paste0(tmp, "_W.csv"), header = FALSE))
        t_ref <- as.numeric(readLines(paste0(tmp, "_time.txt")))
        shd_ref <- dag_metrics(to_dag(unname(W_ref), 0.3), unname(sim$W))$shd
        max_diff <- max(abs(unname(fit$W_raw) - W_ref))
        peer <- paste0("SAMiatto/colide@", ref_commit)
      } else peer <- "reference failed"
    }
    row <- data.frame(method = paste0("CoLiDE-", toupper(kind)), d = d, n = 1000, edges = 2 * d,
                      lambda = lambda, shd_tessera = shd_tessera, shd_reference = shd_ref,
                      max_abs_W_diff = max_diff, seconds_tessera = round(t_tessera, 2),
                      seconds_reference = round(t_ref, 2), speedup = round(t_ref / t_tessera, 1),
                      iterations = fit$iterations, peer = peer, tessera = as.character(packageVersion("tessera")),
                      date = format(Sys.Date()))
    print(row[, c("method", "d", "shd_tessera", "shd_reference", "seconds_tessera", "seconds_reference", "speedup")],
          row.names = FALSE)
    rows[[length(rows) + 1]] <- row
  }
}
res <- do.call(rbind, rows)
write.csv(res, out_csv, row.names = FALSE)
cat("wrote", out_csv, "\n")
