# Side-by-side: tessera::presto / cv_presto, ordinalNet and the authors' PRESTO pipeline.
args <- commandArgs(TRUE)
out_csv <- args[1]
quick <- "--quick" %in% args
suppressPackageStartupMessages(library(tessera))
ref <- Sys.getenv("PRESTO_REF")
has_on <- requireNamespace("ordinalNet", quietly = TRUE)
timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  val <- force(expr)
  list(value = val, seconds = proc.time()[["elapsed"]] - t0)
}
# PRESTO objective of (psi on the original scale) given the mean log-likelihood.
objective <- function(loglik, n, lambda, psi, sd) loglik * (-1 / n) + lambda * sum(abs(psi * sd))
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., tessera = as.character(packageVersion("tessera")),
                                                           date = format(Sys.Date()))

## 1. The paper's design: n = 2500, p = 10, K = 4 (sparse differences, q = 1/2).
d <- simulate_presto(n = 2500, p = 10, alpha = c(0, 3, 5), q = 1 / 2, seed = 1)
x <- d$x; y <- d$y; n <- nrow(x)
sd_pop <- apply(x, 2, function(v) sqrt(mean((v - mean(v))^2)))
path <- timed(presto(x, y, verbose = FALSE))
cv <- timed(cv_presto(x, y, nfolds = 5, seed = 1, verbose = FALSE))
cat(sprintf("tessera: path %.3f s, path + 5-fold CV %.3f s\n", path$seconds, cv$seconds))
fit <- path$value

if (nzchar(ref)) {
  # The checkout's commit (PRESTO_REF_COMMIT for an exported copy without .git).
  commit <- Sys.getenv("PRESTO_REF_COMMIT")
  if (!nzchar(commit)) {
    commit <- suppressWarnings(tryCatch(system2("git", c("-C", ref, "rev-parse", "--short", "HEAD"),
                                                stdout = TRUE, stderr = FALSE),
                                        error = function(e) character()))
    if (length(commit) != 1) commit <- "unknown"
  }
  env <- new.env()
  old <- setwd(file.path(ref, "ordinalNet modified"))
  for (f in c("cdIn.R", "cdOut.R", "links.R", "mirlsNet.R", "misc.R", "ordinalNet-methods.R",
              "ordinalNet.R", "ordinalNetCV.R", "ordinalNetTune.R")) sys.source(f, envir = env)
  setwd(old)
  # Same grid: objectives at every lambda.
  rp <- timed(env$ordinalNetMod(x, y, family = "cumulative", link = "logit", lambdaVals = fit$lambda,
                                alpha = 1, warn = FALSE, printIter = FALSE))
  K <- nlevels(y); p <- ncol(x)
  obj_ref <- sapply(seq_along(fit$lambda), function(l) {
    psi <- rp$value$coefs[l, -(1:(K - 1))]
    objective(rp$value$loglik[l], n, fit$lambda[l], psi, rep(sd_pop, K - 1))
  })
  rel <- (obj_ref - fit$objective) / abs(obj_ref)
  cat(sprintf("reference path %.1f s; max |rel objective diff| %.2e; tessera lower at %d of %d lambdas\n",
              rp$seconds, max(abs(rel)), sum(fit$objective <= obj_ref), length(rel)))
  add(task = "path (20 lambdas), same grid", n = n, p = p, K = K, peer = paste0("gregfaletto/presto@", commit),
      seconds_tessera = path$seconds, seconds_peer = rp$seconds, speedup = rp$seconds / path$seconds,
      max_rel_objective_diff = max(abs(rel)),
      tessera_objective_not_higher = sprintf("%d/%d (tessera converged at %d; max rel excess where not converged %.1e)",
                                             sum(fit$objective <= obj_ref * (1 + 1e-10)), length(rel),
                                             sum(fit$converged), max(c(0, -rel[!fit$converged]))))
  # The full pipeline: getLambdaFusedPolr (tune: 20 lambdas x 6 fits) + refit at lambda*.
  full <- timed({
    tune <- env$ordinalNetTuneMod(x, y, family = "cumulative", link = "logit", printProgress = FALSE,
                                  nLambda = 20, lambdaMinRatio = 0.01, alpha = 1, warn = FALSE)
    lstar <- max(tune$fit$lambdaVals[rowMeans(tune$brier) == min(rowMeans(tune$brier))])
    env$ordinalNetMod(x, y, family = "cumulative", link = "logit", lambdaVals = lstar, alpha = 1,
                      warn = FALSE, printIter = FALSE)
  })
  cat(sprintf("reference tune + refit %.1f s (tessera cv_presto %.2f s): %.0fx\n", full$seconds,
              cv$seconds, full$seconds / cv$seconds))
  add(task = "path + 5-fold CV + refit", n = n, p = p, K = K, peer = paste0("gregfaletto/presto@", commit),
      seconds_tessera = cv$seconds, seconds_peer = full$seconds, speedup = full$seconds / cv$seconds,
      max_rel_objective_diff = NA, tessera_objective_not_higher = NA_character_)
} else {
  cat("authors' pipeline skipped (PRESTO_REF unset)\n")
  add(task = "path + 5-fold CV + refit", n = n, p = ncol(x), K = nlevels(y),
      peer = "gregfaletto/presto skipped (PRESTO_REF unset)", seconds_tessera = cv$seconds,
      seconds_peer = NA, speedup = NA, max_rel_objective_diff = NA, tessera_objective_not_higher = NA)
}

if (has_on) {
  ver <- paste0("ordinalNet ", packageVersion("ordinalNet"))
  # ordinalNetTune on the same grid: stock ordinalNet has no PRESTO penalty, so its closest
  # model (non-parallel terms, lasso on each threshold's slopes) is timed, not compared.
  tn <- timed(ordinalNet::ordinalNetTune(x, y, lambdaVals = fit$lambda, nFolds = 5, family = "cumulative",
                                         link = "logit", parallelTerms = FALSE, nonparallelTerms = TRUE,
                                         printProgress = FALSE, warn = FALSE))
  add(task = "ordinalNetTune (non-parallel lasso), same grid, 5 folds", n = n, p = ncol(x), K = nlevels(y),
      peer = ver, seconds_tessera = cv$seconds, seconds_peer = tn$seconds, speedup = tn$seconds / cv$seconds,
      max_rel_objective_diff = NA, tessera_objective_not_higher = NA_character_)
  # A model both fit: the lasso proportional-odds model (tessera: blocks 2.. fixed at zero).
  po <- timed(presto(x, y, block.factors = c(1, Inf, Inf), verbose = FALSE))
  on <- timed(ordinalNet::ordinalNet(x, y, family = "cumulative", link = "logit", parallelTerms = TRUE,
                                     nonparallelTerms = FALSE, lambdaVals = po$value$lambda))
  obj_on <- sapply(seq_along(po$value$lambda), function(l)
    objective(on$value$loglik[l], n, po$value$lambda[l], on$value$coefs[l, -(1:3)], sd_pop))
  rel <- (obj_on - po$value$objective) / abs(obj_on)
  cat(sprintf("lasso PO: ordinalNet %.2f s, tessera %.3f s; max |rel objective diff| %.2e\n",
              on$seconds, po$seconds, max(abs(rel))))
  add(task = "lasso proportional odds path (20 lambdas), same grid", n = n, p = ncol(x), K = nlevels(y),
      peer = ver, seconds_tessera = po$seconds, seconds_peer = on$seconds, speedup = on$seconds / po$seconds,
      max_rel_objective_diff = max(abs(rel)),
      tessera_objective_not_higher = sprintf("%d/%d", sum(po$value$objective <= obj_on * (1 + 1e-10)),
                                             length(rel)))
}

## 2. tessera's cost curve (path of 20 lambdas).
ns <- if (quick) c(1e3, 1e4, 1e5) else c(1e3, 1e4, 1e5, 1e6)
ps <- if (quick) c(10, 100) else c(10, 100, 1000)
grid <- rbind(data.frame(n = ns, p = 10), data.frame(n = 1e4, p = ps[ps > 10]))
for (i in seq_len(nrow(grid))) {
  # q = min(1/3, 3/p): with dense differences at large p the true model itself would cross.
  dd <- simulate_presto(n = grid$n[i], p = grid$p[i], alpha = c(-1, 1, 3), q = min(1 / 3, 3 / grid$p[i]),
                        seed = i)
  tt <- timed(presto(dd$x, dd$y, verbose = FALSE))
  cat(sprintf("cost: n = %g, p = %d: %.2f s (max KKT %.1e, %d/20 converged)\n", grid$n[i], grid$p[i],
              tt$seconds, max(tt$value$kkt[tt$value$converged]), sum(tt$value$converged)))
  add(task = "tessera cost curve: path (20 lambdas)", n = grid$n[i], p = grid$p[i], K = 4, peer = "none",
      seconds_tessera = tt$seconds, seconds_peer = NA, speedup = NA, max_rel_objective_diff = NA,
      tessera_objective_not_higher = NA)
}
res <- do.call(rbind, rows)
write.csv(res, out_csv, row.names = FALSE)
cat("wrote", out_csv, "\n")
