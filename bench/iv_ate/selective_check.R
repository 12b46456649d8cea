# Evidence for the selective-ML pseudo-risk (bullet "selective ML picks poorly"): on the
# vignette's GENIUS design with every working model correct, the candidates per nuisance are
# glm (correct) and the mean (wrong). The correct tuple is (glm, glm, glm). From the same
# fold estimates (fit$selection_folds) we compute the criterion used now (M1 term: pi swapped
# with (p, mu) held; M3 term: mu swapped with (pi, p) held) and session 1's, which also added
# the p-swap term with (pi, mu) held, and count which tuple each picks and the bias of the
# picked tuple's pooled estimate.
#   R_LIBS=build/rlib Rscript bench/iv_ate/selective_check.R [reps=100] [n=2000] [slope=0.3]
# slope: the coefficient of L in the treatment model p_1 (0.3 as in the vignette, where the
# constant 'mean' learner is nearly right for p; larger makes it clearly wrong).
suppressPackageStartupMessages(library(tessera))
args <- commandArgs(TRUE)
reps <- if (length(args) >= 1) as.integer(args[1]) else 100L
n <- if (length(args) >= 2) as.integer(args[2]) else 2000L
slope <- if (length(args) >= 3) as.numeric(args[3]) else 0.3
sim <- function(n) {
  l <- runif(n, -1, 1)
  z <- rbinom(n, 1, plogis(0.2 + 0.5 * l))
  u <- runif(n, -0.07, 0.07)
  a <- rbinom(n, 1, ifelse(z == 1, plogis(slope * l), plogis(-2.2 + 0.3 * l)) + u)
  data.frame(y = (1 + 0.5 * l) * a + 0.5 + 0.3 * l + 0.4 * z + 0.2 * z * l + 20 * u + rnorm(n), a = a, z = z, l = l)
}
cand <- c("glm", "mean")
range2 <- function(P, cols) {  # largest fold-mean squared difference over pairs of columns
  m <- 0
  for (i in seq_along(cols)) for (j in seq_along(cols)) if (i < j) m <- max(m, mean((P[, cols[i]] - P[, cols[j]])^2))
  m
}
set.seed(42)
picks <- data.frame()
t0 <- proc.time()[["elapsed"]]
for (r in seq_len(reps)) {
  d <- sim(n)
  f <- iv_ate(y ~ a | z | l, data = d, method = "selective", seed = r,
              learners = list(pi = cand, p = cand, mu = cand))
  S <- f$selection
  P <- f$selection_folds
  key <- function(i, j, k) which(S$pi == i & S$p == j & S$mu == k)
  old <- numeric(nrow(S))
  for (t in seq_len(nrow(S))) {
    i <- S$pi[t]; j <- S$p[t]; k <- S$mu[t]
    old[t] <- range2(P, sapply(cand, function(c) key(c, j, k))) +
      range2(P, sapply(cand, function(c) key(i, c, k))) +
      range2(P, sapply(cand, function(c) key(i, j, c)))
  }
  new <- S$pseudo_risk
  lab <- paste(S$pi, S$p, S$mu, sep = "/")
  picks <- rbind(picks, data.frame(rep = r, new = lab[which.min(new)], old = lab[which.min(old)],
                                   est_new = S$estimate[which.min(new)], est_old = S$estimate[which.min(old)],
                                   refit_estimate = coef(f)))
}
cat(sprintf("n = %d, %d replications, slope %.2f, %.0f s; truth 1; correct tuple glm/glm/glm\n", n, reps,
            slope, proc.time()[["elapsed"]] - t0))
cat("\nTuple picked by the criterion now used (M1 + M3 terms):\n"); print(table(picks$new))
cat("\nTuple picked by session 1's criterion (+ p-swap term):\n"); print(table(picks$old))
cat(sprintf("\nbias of the picked tuple's estimate: now %.3f (MC SE %.3f), session 1 %.3f (MC SE %.3f)\n",
            mean(picks$est_new) - 1, sd(picks$est_new) / sqrt(reps), mean(picks$est_old) - 1,
            sd(picks$est_old) / sqrt(reps)))
cat(sprintf("refit (selected tuple on a fresh split): mean %.3f, sd %.3f\n", mean(picks$refit_estimate),
            sd(picks$refit_estimate)))
