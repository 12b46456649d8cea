# DAG learning: CoLiDE (EV/NV), DAGMA-linear, the SEM simulator and graph metrics.

#' Options of the DAG path-following solver
#'
#' The schedule shared by [colide()] and [dagma_linear()]. The defaults are those of
#' the reference implementations' `fit()` (CoLiDE's `model.py`, DAGMA's `linear.py`).
#' The CoLiDE paper's `main.py` demo uses `stages = 4`, `s = c(1, .9, .8, .7)`,
#' `warm_iter = 2e4`, `max_iter = 7e4`.
#'
#' @param stages Number of path stages `T`; stage `k` weights the score by
#'   `mu_init * mu_factor^(k - 1)`.
#' @param s Log-det parameter per stage; a shorter vector repeats its last value.
#' @param warm_iter,max_iter Adam steps in each stage but the last, and in the last.
#' @param lr Adam learning rate.
#' @param mu_init,mu_factor Score weight of the first stage and its decay per stage.
#' @param beta1,beta2 Adam's moment decay rates.
#' @param checkpoint The objective is evaluated every `checkpoint` steps; a stage
#'   stops when its relative change is at most `tol`.
#' @param tol Relative tolerance on the objective.
#' @param sigma_floor CoLiDE's floor on the noise scale, relative to the data: the
#'   root mean column variance for the equal-variance model, each column's standard
#'   deviation for the non-equal-variance model.
#' @param max_retries Retries of a stage that leaves the log-det domain (each raises
#'   `s` by 0.1 and halves `lr`) before giving up.
#' @return A list of class `tessera_dag_control`.
#' @examples
#' dag_control(stages = 4, s = c(1, .9, .8, .7), warm_iter = 2e4, max_iter = 7e4)
#' @export
dag_control <- function(stages = 5, s = c(1, 0.9, 0.8, 0.7, 0.6), warm_iter = 3e4,
                        max_iter = 6e4, lr = 3e-4, mu_init = 1, mu_factor = 0.1,
                        beta1 = 0.99, beta2 = 0.999, checkpoint = 1000, tol = 1e-6,
                        sigma_floor = 1e-3, max_retries = 50) {
  check_whole(stages, "stages", min = 1)
  if (!is.numeric(s) || length(s) < 1 || anyNA(s) || any(!is.finite(s)) || any(s <= 0)) {
    cli::cli_abort("{.arg s} must be a vector of positive numbers (one per stage).")
  }
  check_whole(warm_iter, "warm_iter", min = 1)
  check_whole(max_iter, "max_iter", min = 1)
  check_number(lr, "lr", min = 0, min_inclusive = FALSE)
  check_number(mu_init, "mu_init", min = 0, min_inclusive = FALSE)
  check_number(mu_factor, "mu_factor", min = 0, max = 1, min_inclusive = FALSE)
  check_number(beta1, "beta1", min = 0, max = 1 - 1e-12, min_inclusive = FALSE)
  check_number(beta2, "beta2", min = 0, max = 1 - 1e-12, min_inclusive = FALSE)
  check_whole(checkpoint, "checkpoint", min = 1)
  check_number(tol, "tol", min = 0)
  check_number(sigma_floor, "sigma_floor", min = 0, min_inclusive = FALSE)
  check_whole(max_retries, "max_retries", min = 0)
  structure(list(stages = stages, s = as.numeric(s), warm_iter = warm_iter, max_iter = max_iter,
                 lr = lr, mu_init = mu_init, mu_factor = mu_factor, beta1 = beta1, beta2 = beta2,
                 checkpoint = checkpoint, tol = tol, sigma_floor = sigma_floor,
                 max_retries = max_retries), class = "tessera_dag_control")
}

#' CoLiDE: linear DAG learning with concomitant noise-scale estimation
#'
#' Learns a weighted DAG `W` of the linear structural equation model
#' `X = X W + Z` (`W[i, j] != 0` means `i -> j`) by minimising CoLiDE's concomitant
#' least-squares score plus an L1 penalty under DAGMA's log-det acyclicity
#' function, along DAGMA's path of decreasing score weights (Saboksayr, Mateos and
#' Tepper, ICLR 2024).
#'
#' With `S = X'X / n` of the centred data and `R = (I - W)' S (I - W)`, the
#' equal-variance score is `tr(R) / (2 sigma) + d sigma / 2` and the non-equal
#' variance score `sum_j (R_jj / sigma_j + sigma_j) / 2`; the scales are noise
#' standard deviations with closed-form updates after each Adam step on `W`. The
#' scales never fall below a floor `sigma0` relative to the data (see
#' [dag_control()]), which the reference code lacks: a perfectly explained column
#' cannot produce a division by zero. The returned graph is `to_dag(W_raw, threshold)`,
#' always a DAG.
#'
#' Scale matters: like every least-squares DAG learner, CoLiDE is not invariant to
#' rescaling the columns. Standardise `x` only if the units are arbitrary.
#'
#' @param x A numeric matrix or data frame, observations in rows, at least 2 rows and
#'   no constant column. Column names become node names.
#' @param variance `"equal"` (CoLiDE-EV, one noise scale) or `"nonequal"`
#'   (CoLiDE-NV, one per variable).
#' @param lambda L1 weight (> 0). The paper's experiments use 0.05.
#' @param threshold Edges with `|w| <= threshold` are dropped (>= 0).
#' @param control Solver schedule, see [dag_control()].
#' @param w_init Optional `d x d` starting matrix (default zero).
#' @param verbose Show a progress bar in interactive sessions.
#' @return An object of class `c("colide", "tessera_dag", "tessera_fit")`: `W` (the
#'   thresholded DAG with node names), `W_raw`, `sigma` (noise standard deviations),
#'   `sigma_floor`, `objective`, `score`, `h`, `converged`, `message`, `stages` (a
#'   data frame per stage), `n_pruned` (edges above the threshold removed to break
#'   cycles) and the settings used.
#' @seealso [dagma_linear()], [dag_metrics()], [simulate_sem()].
#' @examples
#' sim <- simulate_sem(n = 500, d = 5, edges = 5, seed = 1)
#' fit <- colide(sim$x, control = dag_control(warm_iter = 5000, max_iter = 10000))
#' fit
#' dag_metrics(fit, sim$W)
#' @export
colide <- function(x, variance = c("equal", "nonequal"), lambda = 0.05, threshold = 0.3,
                   control = dag_control(), w_init = NULL, verbose = interactive()) {
  variance <- match.arg(variance)
  fit_dag(x, if (variance == "equal") "colide_ev" else "colide_nv", lambda, threshold,
          control, w_init, verbose, match.call(), c("colide", "tessera_dag", "tessera_fit"))
}

#' DAGMA-linear: DAG learning with the log-det acyclicity function
#'
#' The baseline CoLiDE extends (Bello, Aragam and Ravikumar, NeurIPS 2022): the
#' least-squares score `tr((I - W)' S (I - W)) / 2` plus `lambda ||W||_1`, with the same
#' path, solver and domain handling as [colide()] (domain tolerance 1e-16 as in DAGMA).
#' Unlike DAGMA's own code, the returned graph is always a DAG.
#'
#' @inheritParams colide
#' @param lambda L1 weight (> 0); DAGMA's default is 0.03.
#' @return An object of class `c("dagma_linear", "tessera_dag", "tessera_fit")`, with
#'   the components of [colide()] except the noise scales.
#' @examples
#' sim <- simulate_sem(n = 500, d = 5, edges = 5, seed = 1)
#' dagma_linear(sim$x, control = dag_control(warm_iter = 5000, max_iter = 10000))
#' @export
dagma_linear <- function(x, lambda = 0.03, threshold = 0.3, control = dag_control(),
                         w_init = NULL, verbose = interactive()) {
  fit_dag(x, "dagma", lambda, threshold, control, w_init, verbose, match.call(),
          c("dagma_linear", "tessera_dag", "tessera_fit"))
}

fit_dag <- function(x, score, lambda, threshold, control, w_init, verbose, call, class,
                    env = parent.frame()) {
  x <- as_numeric_matrix(x, "x", call = env)
  check_number(lambda, "lambda", min = 0, min_inclusive = FALSE, call = env)
  check_number(threshold, "threshold", min = 0, call = env)
  check_flag(verbose, "verbose", call = env)
  if (!inherits(control, "tessera_dag_control")) {
    cli::cli_abort("{.arg control} must be made by {.fn dag_control}.", call = env)
  }
  d <- ncol(x)
  if (!is.null(w_init)) {
    if (!is.matrix(w_init) || !is.numeric(w_init) || any(dim(w_init) != d)) {
      cli::cli_abort("{.arg w_init} must be a numeric {d} x {d} matrix.", call = env)
    }
    storage.mode(w_init) <- "double"
  }
  res <- call_core(.dag_fit_cpp(x, score, lambda, threshold, unclass(control), w_init, verbose),
                   call = env)
  nodes <- colnames(x)
  dimnames(res$W) <- dimnames(res$W_raw) <- list(nodes, nodes)
  if (length(res$sigma) == d) names(res$sigma) <- names(res$sigma_floor) <- nodes
  names(res$center) <- nodes
  res$control <- control
  res$control$s <- res$s
  res$s <- NULL
  structure(c(res, list(method = score, lambda = lambda, threshold = threshold, nodes = nodes,
                        n = nrow(x), call = call)), class = class)
}

method_label <- function(object) {
  switch(object$method, colide_ev = "CoLiDE-EV", colide_nv = "CoLiDE-NV", dagma = "DAGMA-linear")
}

#' The edges of a learned graph
#'
#' @param object A fit from [colide()] or [dagma_linear()], or a weighted adjacency
#'   matrix (`W[i, j] != 0` means `i -> j`).
#' @param raw For fits: use the unthresholded `W_raw` instead of the DAG.
#' @return A data frame with columns `from`, `to`, `weight`, sorted by `|weight|`.
#' @examples
#' W <- matrix(c(0, 1.5, 0, 0, 0, -0.7, 0, 0, 0), 3, 3, byrow = TRUE,
#'             dimnames = list(c("a", "b", "c"), c("a", "b", "c")))
#' dag_edges(W)
#' @export
dag_edges <- function(object, raw = FALSE) {
  W <- if (inherits(object, "tessera_dag")) (if (raw) object$W_raw else object$W) else object
  W <- as_numeric_matrix(W, "object")
  if (nrow(W) != ncol(W)) cli::cli_abort("{.arg object} must be a square adjacency matrix.")
  nodes <- colnames(W)
  idx <- which(W != 0, arr.ind = TRUE)
  out <- data.frame(from = nodes[idx[, 1]], to = nodes[idx[, 2]], weight = W[idx],
                    stringsAsFactors = FALSE)
  out <- out[order(-abs(out$weight)), , drop = FALSE]
  rownames(out) <- NULL
  out
}

#' @export
print.tessera_dag <- function(x, digits = 3, ...) {
  cat(method_label(x), " fit: ", length(x$nodes), " nodes, ", x$n, " observations, ",
      sum(x$W != 0), " edges (lambda = ", format(x$lambda), ", threshold = ",
      format(x$threshold), ")\n", sep = "")
  if (length(x$sigma) == 1) {
    cat("Noise sd (equal):", format(x$sigma, digits = digits), "\n")
  } else if (length(x$sigma) > 1) {
    cat("Noise sd per node:\n")
    print(round(x$sigma, digits))
  }
  cat(if (x$converged) "Converged: " else "NOT converged: ", x$message, "\n", sep = "")
  invisible(x)
}

#' Summarise a DAG fit
#'
#' @param object A fit from [colide()] or [dagma_linear()].
#' @param ... Unused.
#' @return An object of class `summary.tessera_dag`: the edge table, the per-stage
#'   table, the noise scales and convergence information.
#' @examples
#' sim <- simulate_sem(n = 300, d = 4, edges = 3, seed = 2)
#' summary(colide(sim$x, control = dag_control(warm_iter = 3000, max_iter = 6000)))
#' @export
summary.tessera_dag <- function(object, ...) {
  structure(list(method = method_label(object), edges = dag_edges(object), stages = object$stages,
                 sigma = object$sigma, n = object$n, d = length(object$nodes),
                 objective = object$objective, converged = object$converged,
                 message = object$message, n_pruned = object$n_pruned),
            class = "summary.tessera_dag")
}

#' @export
print.summary.tessera_dag <- function(x, digits = 3, ...) {
  cat(x$method, "on", x$n, "observations of", x$d, "variables\n\n")
  cat("Edges (", nrow(x$edges), "):\n", sep = "")
  if (nrow(x$edges)) print(format(x$edges, digits = digits), row.names = FALSE) else cat("  none\n")
  if (length(x$sigma)) {
    cat("\nNoise standard deviation(s):\n")
    print(round(x$sigma, digits))
  }
  cat("\nPath:\n")
  print(format(x$stages, digits = digits), row.names = FALSE)
  cat("\nObjective:", format(x$objective, digits = 6),
      if (x$n_pruned > 0) sprintf("; %d edge(s) above the threshold pruned to break cycles", as.integer(x$n_pruned)),
      "\n")
  cat(if (x$converged) "Converged: " else "NOT converged: ", x$message, "\n", sep = "")
  invisible(x)
}

#' @export
coef.tessera_dag <- function(object, type = c("dag", "raw"), ...) {
  type <- match.arg(type)
  if (type == "dag") object$W else object$W_raw
}

#' @export
nobs.tessera_dag <- function(object, ...) object$n

#' Tidy a DAG fit
#'
#' @param x A fit from [colide()] or [dagma_linear()].
#' @param ... Unused.
#' @return `tidy()`: one row per edge (`from`, `to`, `weight`); `glance()`: one row
#'   with the method, sizes, edge count, objective and convergence.
#' @examples
#' sim <- simulate_sem(n = 300, d = 4, edges = 3, seed = 2)
#' fit <- colide(sim$x, control = dag_control(warm_iter = 3000, max_iter = 6000))
#' tidy(fit)
#' glance(fit)
#' @name tidy.tessera_dag
#' @export
tidy.tessera_dag <- function(x, ...) dag_edges(x)

#' @rdname tidy.tessera_dag
#' @export
glance.tessera_dag <- function(x, ...) {
  data.frame(method = method_label(x), nobs = x$n, nodes = length(x$nodes), edges = sum(x$W != 0),
             lambda = x$lambda, objective = x$objective, converged = x$converged)
}

#' @export
plot.tessera_dag <- function(x, ...) plot_dag(x$W, main = method_label(x), ...)

#' Draw a directed graph
#'
#' Draws nodes on a circle and edges as arrows (blue positive, red negative weights,
#' width by |weight|). Uses igraph's layout when igraph is installed.
#'
#' @param W A square adjacency matrix (`W[i, j] != 0` means `i -> j`), a fit from
#'   [colide()] or [dagma_linear()], or an edge data frame with `from` and `to`
#'   (then give `nodes`).
#' @param nodes Node names, for an edge data frame.
#' @param main Title.
#' @param ... Passed to [graphics::plot()].
#' @return `W` as an adjacency matrix, invisibly.
#' @examples
#' plot_dag(sachs_consensus, nodes = setdiff(names(sachs), "condition"), main = "Sachs consensus")
#' @export
plot_dag <- function(W, nodes = NULL, main = NULL, ...) {
  W <- as_adjacency(W, nodes, "W")
  d <- nrow(W)
  labels <- colnames(W)
  if (requireNamespace("igraph", quietly = TRUE) && d > 1) {
    g <- igraph::graph_from_adjacency_matrix((W != 0) * 1, mode = "directed")
    xy <- igraph::layout_with_kk(g)
    xy <- apply(xy, 2, function(v) if (diff(range(v)) > 0) 2 * (v - min(v)) / diff(range(v)) - 1 else v * 0)
  } else {
    angle <- 2 * pi * (seq_len(d) - 1) / d
    xy <- cbind(cos(angle), sin(angle))
  }
  graphics::plot(xy, type = "n", axes = FALSE, xlab = "", ylab = "", asp = 1,
                 xlim = c(-1.25, 1.25), ylim = c(-1.25, 1.25), main = main, ...)
  idx <- which(W != 0, arr.ind = TRUE)
  if (nrow(idx)) {
    w <- abs(W[idx])
    lwd <- 1 + 2 * (w / max(w))
    from <- xy[idx[, 1], , drop = FALSE]
    to <- xy[idx[, 2], , drop = FALSE]
    shrink <- 0.12 / pmax(sqrt(rowSums((to - from)^2)), 1e-9)
    graphics::arrows(from[, 1] + (to[, 1] - from[, 1]) * shrink, from[, 2] + (to[, 2] - from[, 2]) * shrink,
                     to[, 1] - (to[, 1] - from[, 1]) * shrink, to[, 2] - (to[, 2] - from[, 2]) * shrink,
                     length = 0.08, lwd = lwd, col = ifelse(W[idx] > 0, "steelblue", "firebrick"))
  }
  graphics::points(xy, pch = 21, cex = 4.5, bg = "white")
  graphics::text(xy, labels = labels, cex = 0.7)
  invisible(W)
}

# An adjacency matrix from a matrix, a DAG fit or an edge data frame (from, to[, weight]).
as_adjacency <- function(x, nodes = NULL, arg = "x", call = parent.frame()) {
  if (inherits(x, "tessera_dag")) return(x$W)
  if (is.data.frame(x) && all(c("from", "to") %in% names(x))) {
    if (is.null(nodes)) nodes <- unique(c(as.character(x$from), as.character(x$to)))
    unknown <- setdiff(c(as.character(x$from), as.character(x$to)), nodes)
    if (length(unknown)) {
      cli::cli_abort("{.arg {arg}} names node{?s} {.val {unknown}} that {?is/are} not among the nodes.",
                     call = call)
    }
    W <- matrix(0, length(nodes), length(nodes), dimnames = list(nodes, nodes))
    w <- if ("weight" %in% names(x)) x$weight else rep(1, nrow(x))
    W[cbind(match(as.character(x$from), nodes), match(as.character(x$to), nodes))] <- w
    return(W)
  }
  W <- as_numeric_matrix(x, arg, call = call)
  if (nrow(W) != ncol(W)) {
    cli::cli_abort("{.arg {arg}} must be a square adjacency matrix, not {nrow(W)} x {ncol(W)}.",
                   call = call)
  }
  if (is.null(rownames(W))) rownames(W) <- colnames(W)
  W
}

#' Accuracy of a learned DAG against the true graph
#'
#' The metrics of NOTEARS' `count_accuracy`, as used by the CoLiDE and DAGMA papers,
#' computed on the nonzero patterns: a true positive is an estimated edge present in
#' the truth with the same direction; a reversed edge is one whose reverse is in the
#' truth; a false positive is absent from the true skeleton. `shd` = extra + missing
#' skeleton edges + reversed edges (a reversal counts once); `fdr` = (reversed + FP) /
#' estimated edges; `tpr` = TP / true edges; `fpr` = (reversed + FP) /
#' (d (d - 1) / 2 - true edges). A ratio with a zero denominator is 0.
#'
#' @param estimate,truth Adjacency matrices (`W[i, j] != 0` means `i -> j`), DAG fits,
#'   or edge data frames with columns `from` and `to`. Node names are matched when
#'   both carry them. Note that pcalg's `amat` is the transpose of this convention.
#' @return A one-row data frame: `shd`, `tpr`, `fdr`, `fpr`, `n_estimated`, `n_true`,
#'   `true_positive`, `reversed`, `false_positive`, `missing`, `extra`.
#' @examples
#' truth <- data.frame(from = c("a", "b"), to = c("b", "c"))
#' est <- data.frame(from = c("b", "a"), to = c("a", "c"))
#' dag_metrics(est, truth)
#' @export
dag_metrics <- function(estimate, truth) {
  nodes <- NULL
  for (obj in list(estimate, truth)) {
    if (is.null(nodes) && !is.data.frame(obj)) nodes <- colnames(as_adjacency(obj, arg = "estimate"))
  }
  E <- as_adjacency(estimate, nodes, "estimate")
  Tm <- as_adjacency(truth, if (is.null(nodes)) colnames(E) else nodes, "truth")
  if (nrow(E) != nrow(Tm)) {
    cli::cli_abort("{.arg estimate} has {nrow(E)} nodes but {.arg truth} has {nrow(Tm)}.")
  }
  if (!is.null(colnames(E)) && !is.null(colnames(Tm)) && setequal(colnames(E), colnames(Tm))) {
    Tm <- Tm[colnames(E), colnames(E), drop = FALSE]
  }
  as.data.frame(call_core(.dag_metrics_cpp(E, Tm)))
}

#' Threshold a weighted adjacency matrix into a DAG
#'
#' Zeroes every `|w| <= threshold`; if cycles remain, removes the remaining edges one
#' at a time, smallest `|w|` first, until the graph is acyclic (the CoLiDE reference's
#' rule).
#'
#' @param W A square numeric matrix (`W[i, j] != 0` means `i -> j`).
#' @param threshold Non-negative threshold.
#' @return The thresholded matrix, with attribute `n_pruned` (edges above the
#'   threshold removed to break cycles).
#' @examples
#' W <- matrix(c(0, 0.9, 0.5, 0), 2, 2)   # a 2-cycle
#' to_dag(W, 0.3)
#' is_dag(to_dag(W, 0.3))
#' @export
to_dag <- function(W, threshold = 0.3) {
  W <- as_adjacency(W, arg = "W")
  check_number(threshold, "threshold", min = 0)
  res <- call_core(.to_dag_cpp(W, threshold))
  out <- res$W
  dimnames(out) <- dimnames(W)
  attr(out, "n_pruned") <- res$n_pruned
  out
}

#' Is a graph acyclic?
#'
#' @param W A square adjacency matrix, a DAG fit or an edge data frame.
#' @return `TRUE` when the nonzero pattern has no directed cycle (self-loops count as cycles).
#' @examples
#' is_dag(matrix(c(0, 1, 0, 0), 2, 2))
#' @export
is_dag <- function(W) {
  W <- as_adjacency(W, arg = "W")
  call_core(.is_dag_cpp(W))
}

#' Simulate a linear structural equation model
#'
#' Draws a random DAG, edge weights and `n` samples of `X = X W + Z`, following the
#' generator released with CoLiDE: Erdos-Renyi graphs oriented along a random order, or
#' Barabasi-Albert scale-free graphs with `m = round(edges / d)` (newer node to older
#' node); weights uniform on `[-high, -low] U [low, high]`; Gaussian, exponential
#' (scale `sqrt(v)`, not centred), Laplace (scale `sqrt(v / 2)`) or Gumbel
#' (scale `sqrt(6 v) / pi`) noise of variance `v`. One seeded generator drives every
#' draw, so the seed alone reproduces a data set.
#'
#' @param n Number of samples.
#' @param d Number of nodes.
#' @param edges Expected number of edges (ER), or `d * m` for SF graphs; at most
#'   `d (d - 1) / 2`. The default is `2 d` (the papers' ER2/SF2), capped at that maximum.
#' @param graph `"er"` or `"sf"`.
#' @param noise `"gaussian"`, `"exponential"`, `"laplace"` or `"gumbel"`.
#' @param variance `"equal"` (every noise variance `noise_variance`) or `"nonequal"`
#'   (variances drawn uniformly on `nv_range`).
#' @param noise_variance The common noise variance for `variance = "equal"`.
#' @param nv_range Range of the non-equal variances.
#' @param weight_range `c(low, high)` for the absolute edge weights.
#' @param seed A non-negative whole number; `NULL` draws one from R's RNG.
#' @return A list: `x` (n x d, columns `X1`...), `W` (the true weighted adjacency),
#'   `noise_variance`, `seed`.
#' @examples
#' sim <- simulate_sem(n = 100, d = 5, edges = 5, seed = 42)
#' str(sim)
#' @export
simulate_sem <- function(n, d, edges = min(2 * d, d * (d - 1) / 2), graph = c("er", "sf"),
                         noise = c("gaussian", "exponential", "laplace", "gumbel"),
                         variance = c("equal", "nonequal"), noise_variance = 1,
                         nv_range = c(0.5, 10), weight_range = c(0.5, 2), seed = NULL) {
  graph <- match.arg(graph)
  noise <- match.arg(noise)
  variance <- match.arg(variance)
  check_whole(n, "n", min = 1)
  check_whole(d, "d", min = 1)
  check_whole(edges, "edges", min = 0)
  if (edges > d * (d - 1) / 2) {
    cli::cli_abort(c("{.arg edges} must be at most {d * (d - 1) / 2} for a DAG on {d} node{?s}.",
                     "x" = "You asked for {edges}."))
  }
  check_number(noise_variance, "noise_variance", min = 0, min_inclusive = FALSE)
  for (nm in c("nv_range", "weight_range")) {
    r <- get(nm)
    if (!is.numeric(r) || length(r) != 2 || anyNA(r) || any(!is.finite(r)) || r[1] > r[2] || r[1] < 0) {
      cli::cli_abort("{.arg {nm}} must be two non-negative numbers {.code c(low, high)} with low <= high.")
    }
  }
  seed <- resolve_seed(seed)
  res <- call_core(.simulate_sem_cpp(n, d, edges, graph, noise, variance == "equal", noise_variance,
                                     nv_range, weight_range, seed))
  nodes <- paste0("X", seq_len(d))
  colnames(res$x) <- nodes
  dimnames(res$W) <- list(nodes, nodes)
  names(res$noise_variance) <- nodes
  res$seed <- seed
  res
}
