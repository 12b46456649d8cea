# Runs the R package's testthat suite against the installed package and ends with the
# plain line "testthat: N passed, M failed" that CI reads. Exit status 1 on any failure.
args <- commandArgs(TRUE)
dir <- if (length(args)) args[1] else "rpkg/tests/testthat"
library(testthat)
library(tessera)
res <- as.data.frame(testthat::test_dir(dir, package = "tessera", load_package = "installed",
                                         reporter = ProgressReporter$new(show_praise = FALSE),
                                         stop_on_failure = FALSE))
failed <- sum(res$failed) + sum(res$error)
passed <- sum(res$nb) - sum(res$failed) - sum(res$skipped)
cat(sprintf("testthat: %d passed, %d failed, %d skipped\n", passed, failed, sum(res$skipped)))
quit(status = if (failed > 0) 1 else 0)
