# PRESTO (Faletto and Bien, ICML 2023) and its baselines: the R skin over core/ordinal.

#' Solver settings for PRESTO
#'
#' @param tol Relative change of the objective that stops the proximal Newton loop.
#' @param tol_inner Coordinate descent stops when no coordinate moves the quadratic
#'   model by more than this.
#' @param max_iter Proximal Newton iterations per lambda.
#' @param max_sweeps Coordinate-descent sweeps per lambda.
#' @param max_halvings Step halvings per Newton iteration.
#' @param p_min Floor of the fitted probabilities inside the Hessian (never in the
#'   objective).
#' @param alpha_min Floor of the mixing `alpha` when computing `lambda_max`
#'   (ordinalNet's `alphaMin`).
#' @return A list of class `presto_control`.
#' @examples
#' presto_control(tol = 1e-10)
#' @export
presto_control <- function(tol = 1e-8, tol_inner = 1e-13, max_iter = 100, max_sweeps = 10000,
                           max_halvings = 10, p_min = 1e-8, alpha_min = 0.01) {
  check_number(tol, "tol", min = 0, min_inclusive = FALSE)
  check_number(tol_inner, "tol_inner", min = 0, min_inclusive = FALSE)
  check_whole(max_iter, "max_iter")
  check_whole(max_sweeps, "max_sweeps")
  check_whole(max_halvings, "max_halvings", min = 0)
  check_number(p_min, "p_min", min = 0, max = 0.5, min_inclusive = FALSE)
  check_number(alpha_min, "alpha_min", min = 1e-12, max = 1)
  structure(list(tol = tol, tol_inner = tol_inner, max_iter = max_iter, max_sweeps = max_sweeps,
                 max_halvings = max_halvings, p_min = p_min, alpha_min = alpha_min),
            class = "presto_control")
}

#' PRESTO: ordinal regression shrunk toward proportional odds
#'
#' Fits the cumulative-logit model with one weight vector per threshold,
#' `logit P(y <= k | x) = a_k + x'b_k` (k = 1, ..., K-1), by minimising the mean negative
#' log-likelihood plus `lambda * sum_j [ |b_j1| + sum_k |b_jk - b_j,k-1| ]` (Faletto and
#' Bien, ICML 2023), over a warm-started path of `lambda` values. Large `lambda` fuses
#' the thresholds' slopes: the model shrinks toward proportional odds. The last level
#' of `y` is the paper's rare class, `P(y = K) = 1 - plogis(a_K-1 + x'b_K-1)`.
#'
#' Signs follow ordinalNet and VGAM's `cumulative()`: `MASS::polr()` and `ordinal::clm()`
#' write `zeta_k - x'b`, so their slopes are the negatives of these. The penalty acts on
#' the adjacent differences `psi_k = b_k - b_k-1` (`psi_1 = b_1`) of the standardised
#' columns; coefficients are reported on the original scale. `alpha` mixes the lasso
#' (`1`, the paper's PRESTO) with a ridge (`0`, the paper's PRESTO_L2).
#' `block.factors` scales the penalty of each difference block: `c(0, 1, ...)` leaves
#' `b_1` unpenalised (large `lambda` then gives the unpenalised proportional-odds fit),
#' `Inf` fixes a block at zero. The solver is a proximal Newton method with coordinate
#' descent on the differences; a step that would make a training row's class
#' probability negative is halved (as in the reference code), so fitted training
#' probabilities never cross. Intercepts are unpenalised and unconstrained.
#'
#' @param x A numeric matrix or data frame of numeric columns (no constant column), or
#'   a formula `y ~ terms` for the formula interface.
#' @param y The ordinal response: an ordered factor (its level order is used), a factor,
#'   numbers or strings (their sorted order is used, with a message). At least 3 levels.
#' @param alpha Elastic-net mixing in `[0, 1]`.
#' @param nlambda Number of `lambda` values (log-spaced from `lambda_max`).
#' @param lambda.min.ratio Smallest `lambda` as a fraction of `lambda_max`.
#' @param lambda Optional user grid (values >= 0; sorted decreasing).
#' @param block.factors Penalty factor per difference block (length K-1, >= 0, `Inf`
#'   allowed). Default all 1.
#' @param penalty.factor Penalty factor per column of `x` (>= 0). Default all 1.
#' @param standardize Scale the columns to unit (population) SD before penalising.
#' @param weights Optional positive observation weights.
#' @param drop_empty_levels Drop unused levels of `y` (with a message) instead of failing.
#' @param control Solver settings from [presto_control()].
#' @param verbose Show a progress bar in interactive sessions.
#' @param data,subset,na.action For the formula interface, as in [stats::lm()].
#' @param ... For the formula method: arguments of the default method.
#' @return An object of class `c("presto", "tessera_fit")`: `lambda`, `a0` (intercepts,
#'   (K-1) x nlambda), `beta` (p x (K-1) x nlambda), `psi` (the adjacent differences),
#'   `df` (nonzero differences), `loglik`, `objective`, `kkt` (largest KKT residual),
#'   `converged`, `constrained` (TRUE where the fitted cumulative probabilities would cross
#'   on training rows without the non-crossing constraint, which is then solved with a log
#'   barrier), `message`, `levels` (low to high; the last is the rare class) and the
#'   settings used. Fitted probabilities never cross on the training rows. The constrained
#'   lambdas are the expensive ones: at n = 10^4, K = 4 the 20-lambda path takes about 2 s
#'   for p = 100, 16 s for p = 300 and 19 minutes for p = 1000, nearly all of it in the
#'   constrained lambdas (bench/results/presto_cost.csv; stop earlier with a larger
#'   `lambda.min.ratio`).
#' @seealso [cv_presto()] to choose `lambda`, [presto_baseline()] for proportional odds
#'   and separate logits, [predict.presto()], [coef.presto()].
#' @examples
#' d <- simulate_presto(n = 400, seed = 1)
#' fit <- presto(d$x, d$y, nlambda = 10)
#' fit
#' coef(fit, s = fit$lambda[5])
#' head(predict(fit, d$x, s = fit$lambda[5]))
#' @export
presto <- function(x, ...) UseMethod("presto")

#' @rdname presto
#' @export
presto.default <- function(x, y, alpha = 1, nlambda = 20, lambda.min.ratio = 0.01, lambda = NULL,
                           block.factors = NULL, penalty.factor = NULL, standardize = TRUE,
                           weights = NULL, drop_empty_levels = FALSE, control = presto_control(),
                           verbose = interactive(), ...) {
  call <- match.call()
  env <- environment()
  args <- presto_args(x, y, alpha, nlambda, lambda.min.ratio, lambda, block.factors,
                      penalty.factor, standardize, weights, drop_empty_levels, control, verbose,
                      call = env)
  res <- call_core(.presto_fit_cpp(args$x, args$y, args$K, args$weights, alpha, nlambda,
                                   lambda.min.ratio, args$lambda, args$block.factors,
                                   args$penalty.factor, standardize, unclass(control), verbose),
                   call = env)
  new_presto(res, args, alpha, standardize, control, call)
}

#' @rdname presto
#' @export
presto.formula <- function(x, data = NULL, subset, na.action, ...) {
  fd <- formula_design(match.call(expand.dots = FALSE), parent.frame())
  fit <- presto.default(fd$x, fd$y, ...)
  fit$terms <- fd$terms
  fit$xlevels <- fd$xlevels
  fit$call <- match.call()
  fit
}

# The model frame of a formula method's call: design without intercept, response, terms.
formula_design <- function(mc, env) {
  m <- match(c("x", "data", "subset", "na.action"), names(mc), 0L)
  mf <- mc[c(1L, m)]
  names(mf)[names(mf) == "x"] <- "formula"
  mf$drop.unused.levels <- FALSE
  mf[[1L]] <- quote(stats::model.frame)
  mf <- eval(mf, env)
  mt <- attr(mf, "terms")
  X <- stats::model.matrix(mt, mf)
  list(x = X[, colnames(X) != "(Intercept)", drop = FALSE], y = stats::model.response(mf),
       terms = mt, xlevels = stats::.getXlevels(mt, mf))
}

# Shared argument handling of presto() and cv_presto().
presto_args <- function(x, y, alpha, nlambda, lambda.min.ratio, lambda, block.factors,
                        penalty.factor, standardize, weights, drop_empty_levels, control,
                        verbose, call) {
  x <- as_numeric_matrix(x, "x", call = call)
  check_number(alpha, "alpha", min = 0, max = 1, call = call)
  check_whole(nlambda, "nlambda", call = call)
  check_number(lambda.min.ratio, "lambda.min.ratio", min = 0, max = 1, min_inclusive = FALSE,
               call = call)
  check_flag(standardize, "standardize", call = call)
  check_flag(drop_empty_levels, "drop_empty_levels", call = call)
  check_flag(verbose, "verbose", call = call)
  if (!inherits(control, "presto_control")) {
    cli::cli_abort("{.arg control} must be made by {.fn presto_control}.", call = call)
  }
  yy <- ordinal_response(y, nrow(x), drop_empty_levels, call = call)
  K <- length(yy$levels)
  num_or_null <- function(v, arg, len = NULL) {
    if (is.null(v)) return(NULL)
    if (!is.numeric(v) || anyNA(v) || (!is.null(len) && length(v) != len)) {
      cli::cli_abort(c("{.arg {arg}} must be NULL or a numeric vector{if (!is.null(len)) paste(' of length', len) else ''}.",
                       "x" = "You supplied {.val {format(v)}}."), call = call)
    }
    as.numeric(v)
  }
  lambda <- num_or_null(lambda, "lambda")
  if (!is.null(lambda) && (length(lambda) == 0 || any(!is.finite(lambda)) || any(lambda < 0))) {
    cli::cli_abort("{.arg lambda} must hold finite values >= 0.", call = call)
  }
  weights <- num_or_null(weights, "weights", nrow(x))
  list(x = x, y = yy$code, K = K, levels = yy$levels, lambda = lambda,
       block.factors = num_or_null(block.factors, "block.factors", K - 1),
       penalty.factor = num_or_null(penalty.factor, "penalty.factor", ncol(x)),
       weights = weights)
}

# y as 0-based codes with its levels; errors and messages name the levels.
ordinal_response <- function(y, n, drop_empty_levels, call) {
  if (is.null(y)) cli::cli_abort("{.arg y} is missing.", call = call)
  if (is.list(y) && !is.data.frame(y)) {
    cli::cli_abort("{.arg y} must be a factor, numbers or strings, not {.cls {class(y)}}.", call = call)
  }
  if (is.data.frame(y) || is.matrix(y)) {
    cli::cli_abort("{.arg y} must be a vector or factor, not a {.cls {class(y)}}.", call = call)
  }
  if (length(y) != n) {
    cli::cli_abort("{.arg y} must have one value per row of {.arg x}: it has {length(y)} for {n} rows.",
                   call = call)
  }
  if (anyNA(y)) {
    na_rows <- paste(utils::head(which(is.na(y)), 5), collapse = ", ")
    cli::cli_abort(c("{.arg y} must not contain missing values.",
                     "i" = "First NA rows: {na_rows}; remove them first."), call = call)
  }
  if (!is.factor(y)) {
    if (!(is.numeric(y) || is.character(y) || is.logical(y))) {
      cli::cli_abort("{.arg y} must be a factor, numbers or strings, not {.cls {class(y)}}.", call = call)
    }
    y <- factor(y)
    cli::cli_inform(c("i" = "Treating the sorted values of {.arg y} as ordered levels: {.val {levels(y)}}."))
  } else if (!is.ordered(y)) {
    cli::cli_inform(c("i" = "{.arg y} is an unordered factor; using its level order (low to high): {.val {levels(y)}}."))
  }
  counts <- table(y)
  empty <- names(counts)[counts == 0]
  if (length(empty)) {
    if (!drop_empty_levels) {
      cli::cli_abort(c("{.arg y} has empty level{?s} {.val {empty}}.",
                       "i" = "Drop empty levels with {.code drop_empty_levels = TRUE} or {.fn droplevels}."),
                     call = call)
    }
    cli::cli_inform(c("i" = "Dropping empty level{?s} {.val {empty}} of {.arg y}."))
    y <- droplevels(y)
  }
  if (nlevels(y) < 3) {
    cli::cli_abort(c("{.arg y} must have at least 3 levels, but it has {nlevels(y)}: {.val {levels(y)}}.",
                     "i" = "With two levels, use logistic regression."), call = call)
  }
  list(code = as.integer(y) - 1L, levels = levels(y))
}

threshold_names <- function(levels) paste0("<=", levels[-length(levels)])

new_presto <- function(res, args, alpha, standardize, control, call) {
  xn <- colnames(args$x)
  tn <- threshold_names(args$levels)
  L <- length(res$lambda)
  res$a0 <- matrix(res$a0, length(tn), L, dimnames = list(tn, NULL))
  res$beta <- array(res$beta, c(length(xn), length(tn), L), dimnames = list(xn, tn, NULL))
  res$psi <- array(res$psi, c(length(xn), length(tn), L),
                   dimnames = list(xn, paste0("psi", seq_along(tn)), NULL))
  names(res$center) <- names(res$scale) <- xn
  structure(c(res, list(levels = args$levels, xnames = xn, n = nrow(args$x), alpha = alpha,
                        standardize = standardize, control = control, call = call)),
            class = c("presto", "tessera_fit"))
}

# Index of s on the path for exact matches, else linear interpolation weights.
lambda_weights <- function(lambda, s, call = parent.frame()) {
  if (!is.numeric(s) || length(s) != 1L || !is.finite(s) || s < 0) {
    cli::cli_abort("{.arg s} must be a single finite lambda >= 0.", call = call)
  }
  if (length(lambda) == 1L || s >= max(lambda)) return(list(i = which.max(lambda), j = which.max(lambda), w = 1))
  if (s <= min(lambda)) return(list(i = which.min(lambda), j = which.min(lambda), w = 1))
  j <- which(lambda < s)[1]
  i <- j - 1L
  w <- (s - lambda[j]) / (lambda[i] - lambda[j])
  list(i = i, j = j, w = w)
}

path_at <- function(object, s, call = parent.frame()) {
  lw <- lambda_weights(object$lambda, s, call = call)
  mix <- function(a, b) lw$w * a + (1 - lw$w) * b
  list(a0 = mix(object$a0[, lw$i], object$a0[, lw$j]),
       beta = mix(object$beta[, , lw$i, drop = FALSE], object$beta[, , lw$j, drop = FALSE])[, , 1],
       psi = mix(object$psi[, , lw$i, drop = FALSE], object$psi[, , lw$j, drop = FALSE])[, , 1])
}

#' Coefficients of a PRESTO fit
#'
#' @param object A fit from [presto()] or [cv_presto()].
#' @param s A single `lambda` (between grid values the coefficients are interpolated
#'   linearly, as glmnet does); for [cv_presto()] fits also `"lambda.min"` or
#'   `"lambda.1se"`. `NULL` (presto fits only) returns the whole path.
#' @param type `"beta"`: the per-threshold slopes; `"psi"`: their adjacent differences.
#' @param ... Unused.
#' @return A `(p + 1) x (K - 1)` matrix, intercepts in the first row (an array with a
#'   third dimension over `lambda` when `s = NULL`).
#' @examples
#' d <- simulate_presto(n = 400, seed = 1)
#' fit <- presto(d$x, d$y, nlambda = 10)
#' coef(fit, s = fit$lambda[6], type = "psi")
#' @export
coef.presto <- function(object, s = NULL, type = c("beta", "psi"), ...) {
  type <- match.arg(type)
  if (is.null(s)) {
    co <- object[[type]]
    out <- array(0, dim(co) + c(1, 0, 0), list(c("(Intercept)", object$xnames),
                                               dimnames(co)[[2]], format(object$lambda, digits = 4)))
    out[1, , ] <- object$a0
    out[-1, , ] <- co
    return(out)
  }
  p <- path_at(object, s)
  m <- rbind(p$a0, matrix(p[[type]], length(object$xnames)))
  dimnames(m) <- list(c("(Intercept)", object$xnames), dimnames(object[[type]])[[2]])
  m
}

# The design of new data: through the terms of a formula fit, else a numeric matrix.
presto_new_design <- function(object, newx, call) {
  if (!is.null(object$terms)) {
    if (!is.data.frame(newx)) cli::cli_abort("{.arg newx} must be a data frame for a formula fit.", call = call)
    tt <- stats::delete.response(object$terms)
    mf <- stats::model.frame(tt, newx, xlev = object$xlevels)
    X <- stats::model.matrix(tt, mf)
    return(X[, colnames(X) != "(Intercept)", drop = FALSE])
  }
  X <- as_numeric_matrix(newx, "newx", call = call)
  if (ncol(X) != length(object$xnames)) {
    cli::cli_abort("{.arg newx} must have {length(object$xnames)} columns, not {ncol(X)}.", call = call)
  }
  X
}

predict_at <- function(a0, beta, X, levels, type, crossing, call) {
  res <- call_core(.presto_predict_cpp(as.numeric(a0), as.matrix(beta), X, crossing), call = call)
  if (crossing == "warn" && length(res$crossing_rows)) {
    n_cross <- length(res$crossing_rows)
    first <- paste(utils::head(res$crossing_rows, 5), collapse = ", ")
    cli::cli_warn(c("{n_cross} row{?s} of {.arg newx} ha{?s/ve} crossing cumulative probabilities (a negative class probability).",
                    "i" = "First rows: {first}. Use {.code crossing = \"clamp\"} to clamp and renormalise, or a larger lambda."),
                  call = call)
  }
  switch(type,
         prob = {
           p <- res$prob
           dimnames(p) <- list(rownames(X), levels)
           p
         },
         class = factor(levels[max.col(res$prob, ties.method = "first")], levels = levels, ordered = TRUE),
         link = {
           l <- res$link
           dimnames(l) <- list(rownames(X), threshold_names(levels))
           l
         })
}

#' Predict from a PRESTO fit
#'
#' @param object A fit from [presto()], [cv_presto()] or [presto_baseline()].
#' @param newx New data: a numeric matrix with the training columns, or a data frame
#'   for formula fits.
#' @param s A single `lambda`; for [cv_presto()] fits `"lambda.min"` (default) or
#'   `"lambda.1se"`. Required for [presto()] fits.
#' @param type `"prob"` (class probabilities, n x K), `"class"` (most probable level)
#'   or `"link"` (`a_k + x'b_k`, n x (K-1)).
#' @param crossing What to do with rows whose cumulative probabilities cross (a
#'   negative class probability, possible out of sample): `"warn"` (default: warn with
#'   the count and return them unchanged), `"error"`, or `"clamp"` (negatives set to 0,
#'   rows renormalised).
#' @param ... Unused.
#' @return A matrix (`"prob"`, `"link"`) or an ordered factor (`"class"`).
#' @examples
#' d <- simulate_presto(n = 400, seed = 1)
#' fit <- presto(d$x, d$y, nlambda = 10)
#' predict(fit, d$x[1:3, ], s = fit$lambda[5])
#' predict(fit, d$x[1:3, ], s = fit$lambda[5], type = "class")
#' @export
predict.presto <- function(object, newx, s, type = c("prob", "class", "link"),
                           crossing = c("warn", "error", "clamp"), ...) {
  type <- match.arg(type)
  crossing <- match.arg(crossing)
  env <- environment()
  if (missing(newx)) cli::cli_abort("{.arg newx} is required.", call = env)
  if (missing(s)) cli::cli_abort("{.arg s} is required: a single lambda (see {.fn cv_presto} to choose one).", call = env)
  X <- presto_new_design(object, newx, env)
  p <- path_at(object, s, call = env)
  predict_at(p$a0, matrix(p$beta, length(object$xnames)), X, object$levels, type, crossing, env)
}

#' @export
print.presto <- function(x, digits = 3, ...) {
  K <- length(x$levels)
  cat("PRESTO path: ", x$n, " observations, ", length(x$xnames), " predictors, ", K,
      " levels (low to high: ", paste(x$levels, collapse = " < "), "; rare class ",
      x$levels[K], ")\n", sep = "")
  cat("alpha =", format(x$alpha), "| standardize =", x$standardize, "| lambda_max =",
      format(x$lambda_max, digits = digits), "\n")
  tab <- data.frame(lambda = x$lambda, df = x$df, loglik = x$loglik, converged = x$converged)
  idx <- unique(round(seq(1, nrow(tab), length.out = min(nrow(tab), 6))))
  print(format(tab[idx, ], digits = digits), row.names = FALSE)
  if (!all(x$converged)) cat("NOT converged at some lambda: ", x$message, "\n", sep = "")
  invisible(x)
}

#' Summarise a PRESTO fit
#'
#' @param object A fit from [presto()].
#' @param ... Unused.
#' @return An object of class `summary.presto`: the path table (lambda, nonzero
#'   differences, log-likelihood, objective, KKT residual, convergence, whether the
#'   non-crossing constraint was active).
#' @examples
#' d <- simulate_presto(n = 400, seed = 1)
#' summary(presto(d$x, d$y, nlambda = 5))
#' @export
summary.presto <- function(object, ...) {
  structure(list(path = data.frame(lambda = object$lambda, df = object$df, loglik = object$loglik,
                                   objective = object$objective, kkt = object$kkt,
                                   iterations = object$iterations, converged = object$converged,
                                   constrained = object$constrained),
                 levels = object$levels, n = object$n, p = length(object$xnames),
                 alpha = object$alpha, message = object$message),
            class = "summary.presto")
}

#' @export
print.summary.presto <- function(x, digits = 4, ...) {
  cat("PRESTO on", x$n, "observations,", x$p, "predictors; levels",
      paste(x$levels, collapse = " < "), "\n\n")
  print(format(x$path, digits = digits), row.names = FALSE)
  if (nzchar(x$message)) cat("\n", x$message, "\n", sep = "")
  invisible(x)
}

#' @export
nobs.presto <- function(object, ...) object$n

#' Plot a PRESTO path
#'
#' @param x A fit from [presto()].
#' @param type `"psi"` (the penalised differences) or `"beta"` (the slopes).
#' @param ... Passed to [graphics::matplot()].
#' @return `x`, invisibly.
#' @examples
#' d <- simulate_presto(n = 400, seed = 1)
#' plot(presto(d$x, d$y, nlambda = 10))
#' @export
plot.presto <- function(x, type = c("psi", "beta"), ...) {
  type <- match.arg(type)
  co <- x[[type]]
  K1 <- dim(co)[2]
  m <- t(matrix(co, prod(dim(co)[1:2]), dim(co)[3]))
  cols <- rep(seq_len(K1), each = dim(co)[1])
  graphics::matplot(log(pmax(x$lambda, .Machine$double.xmin)), m, type = "l", lty = 1,
                    col = cols, xlab = "log(lambda)",
                    ylab = if (type == "psi") "difference psi_k" else "slope beta_k", ...)
  graphics::legend("topright", legend = dimnames(co)[[2]], col = seq_len(K1), lty = 1, bty = "n")
  invisible(x)
}

#' Tidy a PRESTO fit
#'
#' @param x A fit from [presto()] or [cv_presto()].
#' @param s For [presto()] fits: `NULL` (every lambda) or a single lambda.
#' @param ... Unused.
#' @return `tidy()`: one row per term, threshold and lambda with the slope `estimate`
#'   and the difference `psi` (for `cv_presto`: the CV curve, one row per lambda);
#'   `glance()`: one row of sizes and settings.
#' @examples
#' d <- simulate_presto(n = 400, seed = 1)
#' fit <- presto(d$x, d$y, nlambda = 5)
#' head(tidy(fit))
#' glance(fit)
#' @name tidy.presto
#' @export
tidy.presto <- function(x, s = NULL, ...) {
  lam <- if (is.null(s)) x$lambda else s
  rows <- lapply(lam, function(l) {
    b <- coef(x, s = l)
    p <- coef(x, s = l, type = "psi")
    data.frame(term = rep(rownames(b), ncol(b)), threshold = rep(colnames(b), each = nrow(b)),
               lambda = l, estimate = as.vector(b),
               psi = c(rbind(NA_real_, p[-1, , drop = FALSE])), stringsAsFactors = FALSE)
  })
  do.call(rbind, rows)
}

#' @rdname tidy.presto
#' @export
glance.presto <- function(x, ...) {
  data.frame(nobs = x$n, npred = length(x$xnames), nlevels = length(x$levels),
             nlambda = length(x$lambda), alpha = x$alpha, lambda_max = x$lambda_max,
             converged = all(x$converged))
}

#' Cross-validated PRESTO
#'
#' Chooses `lambda` by stratified K-fold cross-validation (every level of `y` is dealt
#' evenly to the folds, so each training fold contains every level). Each training
#' fold is fitted on the full-data grid with its own standardisation; held-out
#' probabilities use the cumulative-sum coefficients; held-out rows with crossing
#' probabilities are clamped and renormalised before scoring (their number is
#' reported). `lambda.min` minimises the CV error (ties to the larger lambda);
#' `lambda.1se` is the largest lambda within one standard error of it.
#'
#' @inheritParams presto
#' @param nfolds Number of folds (>= 2; every level needs at least `nfolds` rows).
#' @param type.measure `"brier"` (multiclass Brier score, the paper's choice),
#'   `"deviance"` (-2 log-likelihood per observation) or `"class"` (misclassification).
#' @param foldid Optional fold ids in `1..nfolds` (overrides `seed`).
#' @param seed Seed of the fold assignment; `NULL` draws one from R's RNG.
#' @param threads Number of threads (whole number in 1..1024) fitting the fold paths in
#'   parallel after the full-data path. The result is identical for every value; keep the
#'   BLAS single-threaded (e.g. `OPENBLAS_NUM_THREADS=1`) when using more than one.
#' @param ... Arguments of [presto()]: `alpha`, `nlambda`, `lambda.min.ratio`, `lambda`,
#'   `block.factors`, `penalty.factor`, `standardize`, `weights`, `drop_empty_levels`,
#'   `control`; for the formula method also those of the default method.
#' @return An object of class `c("cv_presto", "tessera_fit")`: `fit` (the full-data
#'   [presto()] path), `lambda`, `cvm`, `cvsd`, `cvup`, `cvlo`, `lambda.min`,
#'   `lambda.1se`, `index` (both), `foldid`, `fold_measure`, `fold_crossings`,
#'   `type.measure`.
#' @examples
#' d <- simulate_presto(n = 500, alpha = c(-1, 1, 2.5), seed = 1)
#' cv <- cv_presto(d$x, d$y, nlambda = 10, seed = 1)
#' cv
#' predict(cv, d$x[1:3, ])
#' @export
cv_presto <- function(x, ...) UseMethod("cv_presto")

#' @rdname cv_presto
#' @export
cv_presto.default <- function(x, y, nfolds = 5, type.measure = c("brier", "deviance", "class"),
                              foldid = NULL, seed = NULL, alpha = 1, nlambda = 20,
                              lambda.min.ratio = 0.01, lambda = NULL, block.factors = NULL,
                              penalty.factor = NULL, standardize = TRUE, weights = NULL,
                              drop_empty_levels = FALSE, control = presto_control(),
                              threads = 1, verbose = interactive(), ...) {
  call <- match.call()
  env <- environment()
  type.measure <- match.arg(type.measure)
  seed <- resolve_seed(seed, call = env)
  check_whole(nfolds, "nfolds", min = 2, call = env)
  check_whole(threads, "threads", min = 1, max = 1024, call = env)
  args <- presto_args(x, y, alpha, nlambda, lambda.min.ratio, lambda, block.factors,
                      penalty.factor, standardize, weights, drop_empty_levels, control, verbose,
                      call = env)
  if (!is.null(foldid)) {
    if (!is.numeric(foldid) || length(foldid) != nrow(args$x) || anyNA(foldid) ||
        any(foldid != floor(foldid)) || any(foldid < 1) || any(foldid > nfolds)) {
      cli::cli_abort("{.arg foldid} must hold one whole number in 1..{nfolds} per row of {.arg x}.",
                     call = env)
    }
    foldid <- as.numeric(foldid) - 1
  } else {
    counts <- tabulate(args$y + 1L, length(args$levels))
    rare <- which(counts < nfolds)
    if (length(rare)) {
      too_rare <- paste0("\"", args$levels[rare], "\" (", counts[rare], " rows)", collapse = ", ")
      cli::cli_abort(c("Every level of {.arg y} needs at least {.arg nfolds} = {nfolds} rows to appear in every fold.",
                       "x" = "Too rare: {too_rare}.",
                       "i" = "Lower {.arg nfolds} or merge levels."),
                     call = env)
    }
  }
  res <- call_core(.presto_cv_cpp(args$x, args$y, args$K, args$weights, alpha, nlambda,
                                  lambda.min.ratio, args$lambda, args$block.factors,
                                  args$penalty.factor, standardize, unclass(control), nfolds,
                                  type.measure, seed, foldid, threads, verbose), call = env)
  fit <- new_presto(res$fit, args, alpha, standardize, control, call)
  structure(list(fit = fit, lambda = fit$lambda, cvm = res$cvm, cvsd = res$cvsd,
                 cvup = res$cvm + res$cvsd, cvlo = res$cvm - res$cvsd,
                 lambda.min = fit$lambda[res$index_min], lambda.1se = fit$lambda[res$index_1se],
                 index = c(min = res$index_min, `1se` = res$index_1se), foldid = res$foldid,
                 fold_measure = res$fold_measure, fold_crossings = res$fold_crossings,
                 fold_converged = res$fold_converged, type.measure = type.measure,
                 nfolds = nfolds, seed = seed, call = call),
            class = c("cv_presto", "tessera_fit"))
}

#' @rdname cv_presto
#' @export
cv_presto.formula <- function(x, data = NULL, subset, na.action, ...) {
  fd <- formula_design(match.call(expand.dots = FALSE), parent.frame())
  cv <- cv_presto.default(fd$x, fd$y, ...)
  cv$fit$terms <- fd$terms
  cv$fit$xlevels <- fd$xlevels
  cv$call <- match.call()
  cv
}

cv_lambda <- function(object, s, call) {
  if (is.character(s)) {
    s <- match.arg(s, c("lambda.min", "lambda.1se"))
    return(object[[s]])
  }
  s
}

#' @rdname predict.presto
#' @export
predict.cv_presto <- function(object, newx, s = "lambda.min", type = c("prob", "class", "link"),
                              crossing = c("warn", "error", "clamp"), ...) {
  predict.presto(object$fit, newx, s = cv_lambda(object, s), type = type, crossing = crossing)
}

#' @rdname coef.presto
#' @export
coef.cv_presto <- function(object, s = "lambda.min", type = c("beta", "psi"), ...) {
  coef.presto(object$fit, s = cv_lambda(object, s), type = type)
}

#' @export
print.cv_presto <- function(x, digits = 3, ...) {
  cat("Cross-validated PRESTO: ", x$nfolds, " stratified folds, measure ", x$type.measure,
      ", ", length(x$lambda), " lambdas\n", sep = "")
  i <- x$index
  tab <- data.frame(lambda = x$lambda[i], measure = x$cvm[i], se = x$cvsd[i], df = x$fit$df[i],
                    row.names = c("min", "1se"))
  print(format(tab, digits = digits))
  if (sum(x$fold_crossings)) {
    cat(sum(x$fold_crossings), "held-out row-lambda pairs had crossing probabilities (clamped).\n")
  }
  invisible(x)
}

#' @export
summary.cv_presto <- function(object, ...) {
  structure(list(cv = data.frame(lambda = object$lambda, cvm = object$cvm, cvsd = object$cvsd,
                                 df = object$fit$df),
                 lambda.min = object$lambda.min, lambda.1se = object$lambda.1se,
                 coef = coef(object), type.measure = object$type.measure),
            class = "summary.cv_presto")
}

#' @export
print.summary.cv_presto <- function(x, digits = 4, ...) {
  cat("PRESTO cross-validation (", x$type.measure, ")\n\n", sep = "")
  print(format(x$cv, digits = digits), row.names = FALSE)
  cat("\nCoefficients at lambda.min =", format(x$lambda.min, digits = digits), ":\n")
  print(round(x$coef, digits))
  invisible(x)
}

#' @export
nobs.cv_presto <- function(object, ...) object$fit$n

#' @export
plot.cv_presto <- function(x, ...) {
  ll <- log(x$lambda)
  graphics::plot(ll, x$cvm, ylim = range(c(x$cvlo, x$cvup)), pch = 20, col = "red",
                 xlab = "log(lambda)", ylab = paste("CV", x$type.measure), ...)
  graphics::arrows(ll, x$cvlo, ll, x$cvup, angle = 90, code = 3, length = 0.02, col = "grey50")
  graphics::abline(v = log(c(x$lambda.min, x$lambda.1se)), lty = 3)
  invisible(x)
}

#' @rdname tidy.presto
#' @export
tidy.cv_presto <- function(x, ...) {
  data.frame(lambda = x$lambda, estimate = x$cvm, std.error = x$cvsd, conf.low = x$cvlo,
             conf.high = x$cvup, df = x$fit$df)
}

#' @rdname tidy.presto
#' @export
glance.cv_presto <- function(x, ...) {
  data.frame(lambda.min = x$lambda.min, lambda.1se = x$lambda.1se, type.measure = x$type.measure,
             nfolds = x$nfolds, nobs = x$fit$n)
}

#' Proportional-odds and separate-logit baselines
#'
#' The two comparators of the PRESTO paper, unpenalised: `"po"`, the proportional-odds
#' model (one slope vector; equals `MASS::polr()` with the slopes negated) and
#' `"logit"`, one logistic regression of `1{y <= level k}` per threshold (the paper's
#' Logit; its probabilities may cross).
#'
#' @inheritParams presto
#' @param type `"po"` or `"logit"`.
#' @return An object of class `c("presto_baseline", "tessera_fit")` with `a0`, `beta`
#'   (p x (K-1)), `loglik`, `converged`, `levels`; [predict()] takes `newx`, `type` and
#'   `crossing` as for [predict.presto()].
#' @examples
#' d <- simulate_presto(n = 400, seed = 1)
#' po <- presto_baseline(d$x, d$y, type = "po")
#' po
#' head(predict(po, d$x))
#' @export
presto_baseline <- function(x, y, type = c("po", "logit"), weights = NULL,
                            drop_empty_levels = FALSE) {
  type <- match.arg(type)
  env <- environment()
  args <- presto_args(x, y, 1, 1, 0.5, NULL, NULL, NULL, TRUE, weights, drop_empty_levels,
                      presto_control(), FALSE, call = env)
  res <- call_core(.presto_baseline_cpp(args$x, args$y, args$K, args$weights, type), call = env)
  tn <- threshold_names(args$levels)
  names(res$a0) <- tn
  dimnames(res$beta) <- list(colnames(args$x), tn)
  structure(c(res, list(type = type, levels = args$levels, xnames = colnames(args$x),
                        n = nrow(args$x), call = match.call())),
            class = c("presto_baseline", "tessera_fit"))
}

#' @export
predict.presto_baseline <- function(object, newx, type = c("prob", "class", "link"),
                                    crossing = c("warn", "error", "clamp"), ...) {
  type <- match.arg(type)
  crossing <- match.arg(crossing)
  env <- environment()
  X <- presto_new_design(object, newx, env)
  predict_at(object$a0, object$beta, X, object$levels, type, crossing, env)
}

#' @export
coef.presto_baseline <- function(object, ...) rbind(`(Intercept)` = object$a0, object$beta)

#' @export
print.presto_baseline <- function(x, digits = 3, ...) {
  cat(if (x$type == "po") "Proportional odds" else "Separate logits", " on ", x$n,
      " observations; log-likelihood ", format(x$loglik, digits = 6), "\n", sep = "")
  print(round(coef(x), digits))
  if (!x$converged) cat("NOT converged: ", x$message, "\n", sep = "")
  invisible(x)
}

#' Simulate from the PRESTO paper's sparse-differences design
#'
#' Section 4.1 of Faletto and Bien (2023): `x ~ U(-1, 1)^p`; each entry of `b_1` is 0.5
#' with probability `q`, else 0; each entry of the `K - 2` difference vectors is
#' +/-0.5 (random sign) with probability `q`; intercepts `alpha`. The last level is rare.
#'
#' @param n Rows.
#' @param p Columns.
#' @param alpha Intercepts (length K-1, increasing); the paper uses `c(0, 3, 5)`,
#'   `c(0, 3.5, 5.5)` and `c(0, 4, 6)`.
#' @param q Probability of a nonzero entry (the paper: 1/2 or 1/3).
#' @param seed Seed; `NULL` draws one from R's RNG.
#' @return A list: `x`, `y` (an ordered factor with levels `1..K`), `beta` (p x (K-1)),
#'   `alpha`, `prob` (the true class probabilities, n x K).
#' @examples
#' d <- simulate_presto(n = 200, seed = 1)
#' table(d$y)
#' @export
simulate_presto <- function(n = 2500, p = 10, alpha = c(0, 3, 5), q = 1 / 2, seed = NULL) {
  check_whole(n, "n")
  check_whole(p, "p")
  check_number(q, "q", min = 0, max = 1)
  if (!is.numeric(alpha) || length(alpha) < 2 || anyNA(alpha) || is.unsorted(alpha)) {
    cli::cli_abort("{.arg alpha} must be an increasing numeric vector of length >= 2.")
  }
  seed <- resolve_seed(seed)
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv()) else NULL
  on.exit(if (is.null(old)) rm(".Random.seed", envir = globalenv()) else assign(".Random.seed", old, globalenv()))
  set.seed(seed)
  K1 <- length(alpha)
  for (attempt in 1:100) {
    psi <- matrix(0, p, K1)
    psi[, 1] <- 0.5 * (stats::runif(p) < q)
    if (K1 > 1) for (k in 2:K1) psi[, k] <- (stats::runif(p) < q) * sample(c(-0.5, 0.5), p, TRUE)
    beta <- t(apply(psi, 1, cumsum))
    if (K1 == 1) beta <- t(beta)
    x <- matrix(stats::runif(n * p, -1, 1), n, p, dimnames = list(NULL, paste0("x", 1:p)))
    eta <- sweep(x %*% beta, 2, alpha, "+")
    cum <- cbind(stats::plogis(eta), 1)
    prob <- cbind(cum[, 1], t(apply(cum, 1, diff)))
    if (all(prob >= 0)) break
  }
  u <- stats::runif(n)
  y <- rowSums(u > cum[, -ncol(cum), drop = FALSE]) + 1L
  colnames(prob) <- seq_len(K1 + 1)
  list(x = x, y = factor(y, levels = seq_len(K1 + 1), ordered = TRUE), beta = beta,
       alpha = alpha, prob = prob)
}

#' Binned calibration error of a predicted probability
#'
#' The metric of the PRESTO paper's real-data experiments: sort the predictions, cut them
#' into `n_bins` equal-frequency bins, and average over bins the squared difference
#' between the mean prediction and the observed event rate. (The reference code compares
#' each bin's rate with a prediction from the unsorted vector; this uses the sorted one.)
#'
#' @param prob Predicted probabilities of the event.
#' @param event Logical or 0/1 outcomes, same length.
#' @param n_bins Number of bins; the paper uses `max(round(length(prob) / 100), 10)`.
#' @return The mean over bins of `(mean(prob) - mean(event))^2`.
#' @examples
#' set.seed(1)
#' p <- runif(500)
#' binned_calibration(p, rbinom(500, 1, p))
#' binned_calibration(p, rbinom(500, 1, p^2))
#' @export
binned_calibration <- function(prob, event, n_bins = max(round(length(prob) / 100), 10)) {
  if (!is.numeric(prob) || anyNA(prob) || any(prob < 0 | prob > 1)) {
    cli::cli_abort("{.arg prob} must hold probabilities in [0, 1].")
  }
  if (length(event) != length(prob) || anyNA(event) || !all(as.numeric(event) %in% c(0, 1))) {
    cli::cli_abort("{.arg event} must hold one 0/1 outcome per probability.")
  }
  check_whole(n_bins, "n_bins", min = 1)
  if (n_bins > length(prob)) cli::cli_abort("{.arg n_bins} must not exceed the number of predictions.")
  o <- order(prob)
  bin <- ceiling(seq_along(o) * n_bins / length(o))
  mean((tapply(prob[o], bin, mean) - tapply(as.numeric(event)[o], bin, mean))^2)
}
