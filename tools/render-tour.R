# Renders the tour to OUTDIR/tour.html and prints its summary: `make demo`.
args <- commandArgs(TRUE)
rmd <- normalizePath(args[1])
outdir <- args[2]
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
summary_file <- file.path(outdir, "summary.txt")
Sys.setenv(TESSERA_TOUR_SUMMARY = summary_file)
t0 <- Sys.time()
html <- rmarkdown::render(rmd, output_dir = outdir, intermediates_dir = tempdir(),
                          knit_root_dir = dirname(rmd), quiet = TRUE)
secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
cat("\n== tessera tour: results ==\n")
cat(readLines(summary_file), sep = "\n")
cat(sprintf("\nRendered %s in %.0f s.\n", html, secs))
