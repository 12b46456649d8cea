# Makes data/pension.csv.gz (the 401(k) data) from the CRAN package hdm's `pension` data.
#   Rscript tools/data/make-pension.R            (downloads hdm's source package from the CRAN mirror R is set up with)
#   Rscript tools/data/make-pension.R hdm_x.y.z.tar.gz
# Only the columns tessera's causal module uses are kept, unchanged.
args <- commandArgs(TRUE)
tarball <- if (length(args)) args[1] else {
  utils::download.packages("hdm", destdir = tempdir(), type = "source")[1, 2]
}
ex <- file.path(tempdir(), "hdm_src")
utils::untar(tarball, exdir = ex)
env <- new.env()
load(file.path(ex, "hdm", "data", "pension.rda"), envir = env)
p <- env$pension
keep <- c("net_tfa", "p401", "e401", "age", "inc", "educ", "fsize", "marr", "twoearn", "db", "pira", "hown")
stopifnot(nrow(p) == 9915, all(keep %in% names(p)))
out <- p[, keep]
for (v in keep) out[[v]] <- as.numeric(out[[v]])
stopifnot(!anyNA(out), all(out$p401 <= out$e401))  # participation requires eligibility
con <- gzfile("data/pension.csv.gz", "w")
utils::write.csv(out, con, row.names = FALSE)
close(con)
cat("hdm", read.dcf(file.path(ex, "hdm", "DESCRIPTION"), "Version")[1], ": wrote", nrow(out), "rows\n")
