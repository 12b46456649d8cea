# Learning from aggregate responses (Javanmard et al., ICLR 2024): bag-level,
# instance-level and interpolating estimators, asymptotic risk, label DP, bag size.

# ---- bags and aggregates -------------------------------------------------------------

# Bag labels -> 0-based codes (levels of factor(bags)); aggregates -> codes of their bags.
encode_bags <- function(bags, n, arg = "bags", call = parent.frame()) {
  if (length(bags) != n) {
    cli::cli_abort(c("{.arg {arg}} must have one bag id per row of {.arg x} ({n}).",
                     "x" = "It has {length(bags)}."), call = call)
  }
  if (anyNA(bags)) {
    cli::cli_abort("{.arg {arg}} must not contain missing bag ids (row{?s} {which(is.na(bags))[1:min(3, sum(is.na(bags)))]}).",
                   call = call)
  }
  if (is.factor(bags)) {
    f <- droplevels(bags)
    return(list(codes = as.integer(f) - 1L, levels = levels(f)))
  }
  # The levels factor() would make, without converting every id to a string (slow for 1e6 rows).
  u <- sort(unique(bags))
  list(codes = match(bags, u) - 1L, levels = as.character(u))
}

encode_aggregates <- function(y_bag, levels, arg = "y_bag", call = parent.frame()) {
  if (!is.numeric(y_bag) && !is.logical(y_bag)) {
    cli::cli_abort("{.arg {arg}} must be a numeric vector of bag aggregates.", call = call)
  }
  if (is.null(names(y_bag))) {
    if (length(y_bag) != length(levels)) {
      cli::cli_abort(c("{.arg {arg}} must have one aggregate per bag ({length(levels)} bags).",
                       "x" = "It has {length(y_bag)}.",
                       "i" = "Name the aggregates by bag id to match them explicitly."), call = call)
    }
    return(seq_along(levels) - 1L)
  }
  idx <- match(names(y_bag), levels)
  if (anyNA(idx)) {
    bad <- names(y_bag)[is.na(idx)]
    cli::cli_abort(c("{.arg {arg}} has an aggregate for bag{?s} {.val {bad}} without rows in {.arg bags}.",
                     "i" = "Drop those aggregates or add the bags' rows."), call = call)
  }
  idx - 1L
}

#' Random bags of a given size
#'
#' A uniformly random partition of `n` rows into bags of `k` rows (the setting of
#' the theory of [aggregate_lm()]); when `k` does not divide `n`, the last
#' `n %% k` rows of the permutation form one smaller bag.
#'
#' @param n Number of rows.
#' @param k Bag size, `1 <= k <= n`.
#' @param seed A non-negative whole number; `NULL` draws one from R's RNG.
#' @return An integer vector of bag ids `1..ceiling(n / k)`, one per row, with
#'   attribute `scheme = "random"`.
#' @examples
#' b <- random_bags(10, 3, seed = 1)
#' table(b)
#' @export
random_bags <- function(n, k, seed = NULL) {
  check_whole(n, "n", min = 1)
  check_whole(k, "k", min = 1)
  if (k > n) cli::cli_abort("{.arg k} (the bag size) must be at most {.arg n} = {n}, not {k}.")
  seed <- resolve_seed(seed)
  out <- as.integer(call_core(.agg_random_bags_cpp(n, k, seed)))
  structure(out, scheme = "random")
}

#' Bag means of individual responses
#'
#' @param y Numeric responses, one per row.
#' @param bags Bag ids, one per row (any type; a factor's levels set the order).
#' @return A named numeric vector of bag means (names are the bag ids).
#' @examples
#' bag_means(c(1, 2, 3, 4), c("a", "a", "b", "b"))
#' @export
bag_means <- function(y, bags) {
  if (!is.numeric(y) || anyNA(y) || any(!is.finite(y))) {
    cli::cli_abort("{.arg y} must be a numeric vector of finite values.")
  }
  b <- encode_bags(bags, length(y), arg = "bags")
  out <- as.numeric(rowsum(y, b$codes, reorder = TRUE)) / tabulate(b$codes + 1L, length(b$levels))
  stats::setNames(out, b$levels)
}

# ---- shared argument handling ------------------------------------------------------------

parse_rho_arg <- function(rho, call = parent.frame()) {
  if (is.character(rho)) {
    if (length(rho) != 1 || !rho %in% c("cv", "oracle")) {
      cli::cli_abort("{.arg rho} must be {.val cv}, {.val oracle} or a number >= 0.", call = call)
    }
    return(list(method = rho, value = 1))
  }
  if (!is.numeric(rho) || length(rho) != 1 || is.na(rho) || !is.finite(rho) || rho < 0) {
    cli::cli_abort(c("{.arg rho} must be {.val cv}, {.val oracle} or a single number >= 0 (0 = bag level, 1 = instance level).",
                     "x" = "You supplied {.val {format(rho)}}."), call = call)
  }
  list(method = "fixed", value = as.numeric(rho))
}

check_rho_grid <- function(rho_grid, call = parent.frame()) {
  if (is.null(rho_grid)) return(numeric(0))
  if (!is.numeric(rho_grid) || !length(rho_grid) || anyNA(rho_grid) || any(!is.finite(rho_grid)) || any(rho_grid < 0)) {
    cli::cli_abort("{.arg rho_grid} must be a vector of numbers >= 0.", call = call)
  }
  sort(unique(as.numeric(rho_grid)))
}

# The design, bags and aggregates from either interface, in a common form.
prepare_aggregate_data <- function(x, bags, y_bag, sizes, aggregate, call) {
  x <- as_numeric_matrix(x, "x", call = call)
  scheme <- if (is.null(attr(bags, "scheme"))) "given" else attr(bags, "scheme")
  b <- encode_bags(bags, nrow(x), call = call)
  agg_codes <- encode_aggregates(y_bag, b$levels, call = call)
  if (aggregate == "sum") {
    if (is.null(sizes)) {
      cli::cli_abort("{.arg sizes} must be given with {.code aggregate = \"sum\"}.", call = call)
    }
    if (!is.numeric(sizes) || length(sizes) != length(y_bag)) {
      cli::cli_abort("{.arg sizes} must be numeric with one size per aggregate ({length(y_bag)}).", call = call)
    }
    sizes <- as.numeric(sizes)
  } else {
    sizes <- NULL
  }
  list(x = x, codes = b$codes, levels = b$levels, agg_codes = agg_codes,
       y_bag = as.numeric(y_bag), sizes = sizes, scheme = scheme)
}

# Formula front end: the response column holds each row's bag aggregate.
formula_frame <- function(formula, data, bag, subset, na.action, env, call) {
  if (!inherits(formula, "formula")) cli::cli_abort("{.arg formula} must be a formula.", call = call)
  if (!is.data.frame(data)) cli::cli_abort("{.arg data} must be a data frame.", call = call)
  if (!(is.character(bag) && length(bag) == 1) && length(bag) != nrow(data)) {
    cli::cli_abort("{.arg bag} must name a column of {.arg data} or have one id per row.", call = call)
  }
  if (!is.null(subset)) {
    if (!is.character(bag)) bag <- bag[subset]
    data <- data[subset, , drop = FALSE]
  }
  if (is.character(bag) && length(bag) == 1 && bag %in% names(data)) {
    bag_vec <- data[[bag]]
  } else if (length(bag) == nrow(data)) {
    bag_vec <- bag
  } else {
    cli::cli_abort("{.arg bag} must name a column of {.arg data} or have one id per row.", call = call)
  }
  data$.tessera_bag <- bag_vec
  frame <- stats::model.frame(stats::update(formula, . ~ . + .tessera_bag), data = data,
                              na.action = na.action)
  bags <- frame$.tessera_bag
  tt <- stats::delete.response(stats::terms(formula, data = data))
  X <- stats::model.matrix(tt, frame)
  intercept <- "(Intercept)" %in% colnames(X)
  X <- X[, colnames(X) != "(Intercept)", drop = FALSE]
  y <- stats::model.response(frame)
  if (is.null(y)) cli::cli_abort("{.arg formula} needs a response: the column of bag aggregates.", call = call)
  codes <- encode_bags(bags, nrow(X), call = call)
  first <- !duplicated(codes$codes)
  spread <- tapply(y, codes$codes, function(v) diff(range(v)))
  if (any(spread > 1e-12 * (1 + max(abs(y))))) {
    cli::cli_abort(c("The response of {.arg formula} must hold each bag's aggregate, equal on every row of the bag.",
                     "x" = "It varies within {sum(spread > 0)} bag{?s}."), call = call)
  }
  y_bag <- stats::setNames(as.numeric(y[first]), as.character(bags[first]))
  list(x = X, bags = bags, y_bag = y_bag, intercept = intercept, terms = tt,
       xlevels = stats::.getXlevels(tt, frame))
}

# ---- linear model ------------------------------------------------------------------------

#' Linear regression from aggregate responses
#'
#' Fits an individual-level linear model from the features of every individual and one
#' aggregate response per bag with the interpolating loss of Javanmard et al. (ICLR
#' 2024), `L_rho = (1 - rho) L_bag + rho L_ins`: `rho = 0` is the (unbiased,
#' high-variance) bag-level loss, `rho = 1` the (biased, low-variance) instance-level
#' loss that fits every row to its bag's aggregate. With `G = X'X`,
#' `G_S = sum_a |B_a| xbar_a xbar_a'` and `b = sum_a |B_a| xbar_a ybar_a`, the estimate is
#' `((1 - rho) G_S + rho G + n lambda P)^{-1} b`; the whole `rho` path comes from one
#' generalised eigendecomposition.
#'
#' The bag loss is weighted by bag size, so that `L_ins = L_bag + R` holds exactly
#' with unequal bags (`R` the within-bag variance of the predictions). `rho = "cv"`
#' (default) chooses `rho` on a grid by cross-validation over bags, scoring held-out
#' bags by `sum |B_a| (ybar_a - xbar_a' theta)^2 / m`, which estimates the individual
#' test error under random bags. `rho = "oracle"` minimises the asymptotic risk
#' ([aggregate_risk()]) at `gamma = p / n`, `k = n / m` and the given `snr`. Both
#' presume random bags; with bags built from a feature they are heuristics. `rho > 1`
#' is allowed (the loss `L_bag + rho R` stays convex).
#'
#' Standard errors are conditional on `x`: `sigma^2 A^{-1} G_S A^{-1}` with `sigma^2`
#' estimated from the bag-level residuals; for `rho > 0` the estimator is biased and
#' they describe its spread around its mean, not the truth. They need more bags than
#' coefficients.
#'
#' @param x A numeric matrix or data frame, one row per individual; or a formula
#'   `aggregate ~ features` whose response column holds each row's bag aggregate.
#' @param ... Arguments passed to the default method (for the formula method).
#' @return An object of class `c("aggregate_lm", "tessera_fit")`: `coefficients`,
#'   `rho`, `rho_method`, the CV table `cv` (`rho`, `mse`, `se`), the coefficient
#'   `path` over the grid, `std_errors`, `vcov`, `sigma2`, the loss values `losses`,
#'   sizes `n`, `m`, `p`, the bag sizes, the bag `scheme` and the call.
#' @seealso [aggregate_glm()], [aggregate_risk()], [dp_aggregate()], [random_bags()].
#' @examples
#' set.seed(1)
#' n <- 600; x <- matrix(rnorm(n * 5), n, 5)
#' y <- drop(x %*% c(1, -1, 0.5, 0, 2)) + rnorm(n)
#' bags <- random_bags(n, 4, seed = 2)
#' fit <- aggregate_lm(x, bags, bag_means(y, bags))
#' fit
#' head(predict(fit, x))
#' @export
aggregate_lm <- function(x, ...) UseMethod("aggregate_lm")

#' @rdname aggregate_lm
#' @param bags Bag ids, one per row of `x` (any type). Bags made by [random_bags()]
#'   are recorded as random; others as given or, with `grouping = TRUE`, as a grouping.
#' @param y_bag The aggregate of each bag: named by bag id (matched), or unnamed in the
#'   order of `levels(factor(bags))`.
#' @param rho `"cv"` (default), `"oracle"` (needs `snr`) or a number `>= 0`.
#' @param intercept Fit an intercept (never penalised; its within-bag contrast is zero).
#' @param ridge Ridge penalty `lambda >= 0` on the non-intercept coefficients.
#' @param snr `||theta0||^2 / sigma^2` for `rho = "oracle"`.
#' @param rho_grid Grid for `rho = "cv"`; default 0 (when estimable) and 60 log-spaced
#'   values in `[0.001, 1]`.
#' @param folds Number of cross-validation folds over bags.
#' @param rho_max Upper end of the oracle search.
#' @param aggregate `"mean"` (default) or `"sum"` (then give `sizes`).
#' @param sizes Bag sizes for `aggregate = "sum"`, aligned with `y_bag`; they must equal
#'   the number of rows of each bag.
#' @param grouping Record the bags as a grouping (feature-based bags).
#' @param seed Seed of the fold assignment; `NULL` draws one from R's RNG.
#' @export
aggregate_lm.default <- function(x, bags, y_bag, rho = "cv", intercept = TRUE, ridge = 0, snr = NULL,
                                 rho_grid = NULL, folds = 5, rho_max = 1, aggregate = c("mean", "sum"),
                                 sizes = NULL, grouping = FALSE, seed = NULL, ...) {
  call <- match.call()
  env <- environment()
  aggregate <- match.arg(aggregate)
  r <- parse_rho_arg(rho, call = env)
  check_flag(intercept, "intercept", call = env)
  check_flag(grouping, "grouping", call = env)
  check_number(ridge, "ridge", min = 0, call = env)
  check_whole(folds, "folds", min = 2, call = env)
  check_number(rho_max, "rho_max", min = 0, min_inclusive = FALSE, call = env)
  if (r$method == "oracle") {
    if (is.null(snr)) cli::cli_abort("{.code rho = \"oracle\"} needs {.arg snr} = ||theta0||^2 / sigma^2.", call = env)
    check_number(snr, "snr", min = 0, min_inclusive = FALSE, call = env)
  }
  grid <- check_rho_grid(rho_grid, call = env)
  seed <- resolve_seed(seed, call = env)
  d <- prepare_aggregate_data(x, bags, y_bag, sizes, aggregate, call = env)
  if (grouping) d$scheme <- "grouping"
  res <- call_core(.agg_lm_cpp(d$x, d$codes, d$agg_codes, d$y_bag, d$sizes, d$scheme, r$method, r$value,
                               grid, intercept, ridge, folds, if (is.null(snr)) -1 else snr, rho_max, seed),
                   call = env)
  new_aggregate_fit(res, d, intercept, ridge, r$method, call, "aggregate_lm",
                    list(snr = snr, folds = folds, seed = seed))
}

#' @rdname aggregate_lm
#' @param data A data frame (formula method).
#' @param bag The bag column of `data` (its name) or a vector of bag ids (formula method).
#' @param subset A logical or index vector selecting rows of `data` (evaluated
#'   normally, not inside `data`).
#' @param na.action As in [stats::lm()]: rows with missing values are dropped by
#'   default (their bag keeps its other rows).
#' @export
aggregate_lm.formula <- function(x, data, bag, subset = NULL, na.action = stats::na.omit, ...) {
  call <- match.call()
  ff <- formula_frame(x, data, bag, subset, na.action, environment(), environment())
  fit <- aggregate_lm.default(ff$x, ff$bags, ff$y_bag, intercept = ff$intercept, ...)
  fit$terms <- ff$terms
  fit$xlevels <- ff$xlevels
  fit$call <- call
  fit
}

new_aggregate_fit <- function(res, d, intercept, ridge, method, call, class, extra) {
  nm <- c(if (intercept) "(Intercept)", colnames(d$x))
  coef <- stats::setNames(res$coef, nm)
  out <- list(coefficients = coef, rho = res$rho, rho_method = method,
              losses = c(bag = res$loss_bag, instance = res$loss_instance, within = res$loss_within),
              n = res$n, m = res$m, p = res$p, bag_sizes = res$sizes, scheme = d$scheme,
              intercept = intercept, ridge = ridge, y_bag = stats::setNames(res$y_bag, d$levels),
              call = call)
  if (length(res$rho_grid)) {
    out$cv <- data.frame(rho = res$rho_grid, mse = res$cv_mse, se = res$cv_se)
    if (!is.null(res$path)) out$path <- matrix(res$path, nrow = length(nm), dimnames = list(nm, NULL))
  }
  if (!is.null(res$std_errors)) {
    out$std_errors <- if (length(res$std_errors)) stats::setNames(res$std_errors, nm) else NULL
    out$vcov <- if (length(res$std_errors)) matrix(res$vcov, length(nm), dimnames = list(nm, nm)) else NULL
    out$sigma2 <- res$sigma2
    out$se_message <- res$se_message
  }
  for (f in c("converged", "iterations", "message", "objective")) out[[f]] <- res[[f]]
  structure(c(out, extra), class = c(class, "tessera_fit"))
}

rho_label <- function(object) {
  switch(object$rho_method, cv = "cross-validation over bags", oracle = "asymptotic-risk oracle",
         fixed = "fixed")
}

#' @export
print.aggregate_lm <- function(x, digits = 4, ...) {
  cat("Linear regression from aggregate responses:", x$n, "rows in", x$m, "bags",
      sprintf("(sizes %s)", size_range(x$bag_sizes)), "\n")
  cat("rho =", format(x$rho, digits = digits), paste0("(", rho_label(x), ")"),
      if (x$ridge > 0) paste("ridge =", format(x$ridge)), "\n\nCoefficients:\n")
  print(round(x$coefficients, digits))
  invisible(x)
}

size_range <- function(s) if (min(s) == max(s)) format(min(s)) else paste(min(s), "to", max(s))

#' Summarise an aggregate-response fit
#'
#' @param object A fit from [aggregate_lm()] or [aggregate_glm()].
#' @param ... Unused.
#' @return An object of class `summary.tessera_aggregate`: the coefficient table
#'   (estimates and, where defined, standard errors conditional on `x`), the loss
#'   values, the chosen `rho` and the bag diagnostics.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(400 * 3), 400, 3); y <- drop(x %*% c(1, 2, 3)) + rnorm(400)
#' b <- random_bags(400, 4, seed = 1)
#' summary(aggregate_lm(x, b, bag_means(y, b), rho = 0.5))
#' @export
summary.aggregate_lm <- function(object, ...) {
  tab <- data.frame(estimate = object$coefficients)
  if (!is.null(object$std_errors)) tab$std.error <- object$std_errors
  structure(list(table = tab, model = class(object)[1], rho = object$rho, method = rho_label(object),
                 losses = object$losses, n = object$n, m = object$m, p = object$p,
                 sizes = object$bag_sizes, scheme = object$scheme, se_message = object$se_message,
                 family = object$family, converged = object$converged, message = object$message),
            class = "summary.tessera_aggregate")
}

#' @export
summary.aggregate_glm <- summary.aggregate_lm

#' @export
print.summary.tessera_aggregate <- function(x, digits = 4, ...) {
  cat(if (x$model == "aggregate_glm") paste0("GLM (", x$family, ")") else "Linear regression",
      "from aggregate responses\n")
  cat(x$n, " rows, ", x$m, " bags (sizes ", size_range(x$sizes), "; scheme: ", x$scheme, "), ", x$p,
      " coefficients\n", sep = "")
  cat("rho =", format(x$rho, digits = digits), paste0("(", x$method, ")\n\n"))
  print(format(x$table, digits = digits))
  if (!is.null(x$se_message) && nzchar(x$se_message)) cat("\nStandard errors:", x$se_message, "\n")
  cat("\nLosses at the estimate: bag", format(x$losses[["bag"]], digits = digits),
      "| instance", format(x$losses[["instance"]], digits = digits),
      "| within-bag", format(x$losses[["within"]], digits = digits), "\n")
  if (!is.null(x$converged)) cat(if (x$converged) "Converged: " else "NOT converged: ", x$message, "\n", sep = "")
  if (x$scheme != "random") cat("Note: the bags are not random; the risk theory and CV identity presume random bags.\n")
  invisible(x)
}

#' @export
vcov.aggregate_lm <- function(object, ...) {
  if (is.null(object$vcov)) {
    cli::cli_abort(c("No covariance matrix for this fit.", "i" = "{object$se_message}"))
  }
  object$vcov
}

#' @export
vcov.aggregate_glm <- vcov.aggregate_lm

#' @export
nobs.aggregate_lm <- function(object, ...) object$n

#' @export
nobs.aggregate_glm <- function(object, ...) object$n

# The design of newdata for a fit (matrix or, for the formula interface, a data frame).
aggregate_new_design <- function(object, newdata) {
  if (!is.null(object$terms)) {
    if (!is.data.frame(newdata)) cli::cli_abort("{.arg newdata} must be a data frame for a formula fit.")
    mf <- stats::model.frame(object$terms, newdata, na.action = stats::na.pass, xlev = object$xlevels)
    X <- stats::model.matrix(object$terms, mf)
    X <- X[, colnames(X) != "(Intercept)", drop = FALSE]
  } else {
    X <- as_numeric_matrix(newdata, "newdata")
  }
  k <- length(object$coefficients) - object$intercept
  if (ncol(X) != k) cli::cli_abort("{.arg newdata} must have {k} feature column{?s}, not {ncol(X)}.")
  if (anyNA(X) || any(!is.finite(X))) cli::cli_abort("{.arg newdata} must contain only finite values.")
  X
}

#' Predictions from an aggregate-response fit
#'
#' @param object A fit from [aggregate_lm()] or [aggregate_glm()].
#' @param newdata Features (a matrix, or a data frame for formula fits).
#' @param bags Bag ids of the rows of `newdata`, for `type = "bag"`.
#' @param type `"instance"` (one prediction per row) or `"bag"` (the mean of the
#'   rows' predictions over each bag, named by bag id).
#' @param scale For GLMs: `"response"` (means) or `"link"` (linear predictor);
#'   bag predictions are always means of the response-scale predictions.
#' @param ... Unused.
#' @return A numeric vector.
#' @examples
#' set.seed(2)
#' x <- matrix(rnorm(300 * 2), 300, 2); y <- drop(x %*% c(1, -1)) + rnorm(300)
#' b <- random_bags(300, 3, seed = 1)
#' fit <- aggregate_lm(x, b, bag_means(y, b), rho = 1)
#' head(predict(fit, x, bags = b, type = "bag"))
#' @export
predict.aggregate_lm <- function(object, newdata, bags = NULL, type = c("instance", "bag"),
                                 scale = c("response", "link"), ...) {
  type <- match.arg(type)
  scale <- match.arg(scale)
  X <- aggregate_new_design(object, newdata)
  beta <- object$coefficients
  eta <- drop(X %*% beta[setdiff(names(beta), "(Intercept)")])
  if (object$intercept) eta <- eta + beta[["(Intercept)"]]
  mu <- if (inherits(object, "aggregate_glm")) glm_mean(eta, object$family) else eta
  if (type == "instance") return(if (scale == "link") eta else mu)
  if (is.null(bags)) cli::cli_abort("{.arg bags} must be given for {.code type = \"bag\"}.")
  bag_means(mu, bags)
}

glm_mean <- function(eta, family) {
  switch(family, gaussian = eta, binomial = stats::plogis(eta), poisson = exp(eta))
}

#' @export
predict.aggregate_glm <- predict.aggregate_lm

#' Plot an aggregate-response fit: error against rho
#'
#' Draws the cross-validated held-out bag error against `rho` (with one-SE bars) and
#' marks the chosen `rho`; for fits without a CV grid, the asymptotic excess risk
#' curve at the fit's `gamma` and `k` (needs `snr`).
#'
#' @param x A fit from [aggregate_lm()] or [aggregate_glm()].
#' @param snr For the theory curve: `||theta0||^2 / sigma^2` (default: the fit's).
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(500 * 5), 500, 5); y <- drop(x %*% rep(1, 5)) + rnorm(500)
#' b <- random_bags(500, 5, seed = 1)
#' plot(aggregate_lm(x, b, bag_means(y, b)))
#' @export
plot.aggregate_lm <- function(x, snr = x$snr, ...) {
  if (!is.null(x$cv)) {
    cv <- x$cv[is.finite(x$cv$mse), ]
    rr <- pmax(cv$rho, min(cv$rho[cv$rho > 0]) / 2)
    graphics::plot(rr, cv$mse, log = "x", type = "b", pch = 20, xlab = "rho (0 drawn at the left edge)",
                   ylab = "held-out bag error", ylim = range(cv$mse - cv$se, cv$mse + cv$se),
                   main = "Cross-validation over bags", ...)
    graphics::arrows(rr, cv$mse - cv$se, rr, cv$mse + cv$se, angle = 90, code = 3, length = 0.02, col = "grey50")
    graphics::abline(v = max(x$rho, min(rr)), lty = 2, col = "firebrick")
  } else {
    if (is.null(snr)) cli::cli_abort("{.arg snr} is needed to draw the theory curve of a fit without CV.")
    rho <- seq(0.001, 1, length.out = 200)
    r <- aggregate_risk(gamma = x$p / x$n, k = x$n / x$m, rho = rho, snr = snr)
    graphics::plot(r$rho, r$risk, type = "l", xlab = "rho", ylab = "asymptotic excess risk / sigma^2",
                   main = "Asymptotic risk", ...)
    graphics::abline(v = x$rho, lty = 2, col = "firebrick")
  }
  invisible(x)
}

#' @export
plot.aggregate_glm <- plot.aggregate_lm

#' Tidy an aggregate-response fit
#'
#' @param x A fit from [aggregate_lm()] or [aggregate_glm()].
#' @param ... Unused.
#' @return `tidy()`: one row per coefficient (`term`, `estimate`, and `std.error` when
#'   available); `glance()`: one row with `rho`, how it was chosen, the sizes and the
#'   losses.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(300 * 2), 300, 2); y <- drop(x %*% c(1, 2)) + rnorm(300)
#' b <- random_bags(300, 3, seed = 1)
#' fit <- aggregate_lm(x, b, bag_means(y, b), rho = 0.5)
#' tidy(fit)
#' glance(fit)
#' @name tidy.aggregate_lm
#' @export
tidy.aggregate_lm <- function(x, ...) {
  out <- data.frame(term = names(x$coefficients), estimate = unname(x$coefficients), stringsAsFactors = FALSE)
  if (!is.null(x$std_errors)) out$std.error <- unname(x$std_errors)
  out
}

#' @rdname tidy.aggregate_lm
#' @export
glance.aggregate_lm <- function(x, ...) {
  data.frame(rho = x$rho, rho_method = x$rho_method, nobs = x$n, bags = x$m, p = x$p,
             loss_bag = x$losses[["bag"]], loss_instance = x$losses[["instance"]],
             scheme = x$scheme, stringsAsFactors = FALSE)
}

#' @rdname tidy.aggregate_lm
#' @export
tidy.aggregate_glm <- tidy.aggregate_lm

#' @rdname tidy.aggregate_lm
#' @export
glance.aggregate_glm <- function(x, ...) {
  cbind(glance.aggregate_lm(x), family = x$family, converged = x$converged)
}

# ---- GLM ---------------------------------------------------------------------------------

#' GLMs from aggregate responses (learning from label proportions)
#'
#' The bag-level, instance-level and interpolating losses for canonical GLMs:
#' with `l(y, eta) = b(eta) - y eta` and the bag's linear predictor the mean of its
#' members', `L_bag = sum_a |B_a| [b(etabar_a) - ybar_a etabar_a] / n`,
#' `L_ins = sum_i [b(eta_i) - ybar_a(i) eta_i] / n`, and `L_ins - L_bag` is the
#' label-free, non-negative within-bag term. The fit minimises
#' `(1 - rho) L_bag + rho L_ins + (ridge / 2) ||theta||^2` by damped Newton. With
#' `binomial()`, `y_bag` are the bags' label proportions. The gaussian family gives
#' exactly [aggregate_lm()]. There is no oracle `rho` (the theory is linear).
#'
#' Standard errors are sandwich standard errors conditional on `x`: the estimating
#' equation depends on the aggregates only through `sum_a |B_a| xbar_a ybar_a`, whose
#' variance is taken from the model at the fitted means (`Var(ybar_a) = phi sum_i
#' V(mu_i) / |B_a|^2`, `phi = 1` for binomial and poisson, the bag-level residual
#' variance for gaussian, which reproduces [aggregate_lm()]'s). With bags of one row they
#' are the usual [stats::glm()] standard errors. For `rho > 0` the estimator is biased,
#' so they describe its spread, not its distance from the truth.
#'
#' @inheritParams aggregate_lm.default
#' @param family `binomial()` (default), `poisson()` or `gaussian()` with their
#'   canonical links, or their names.
#' @param rho `"cv"` (default) or a number `>= 0`.
#' @param rho_grid Grid for `"cv"`; default 0 (when estimable) and 0.01 to 1.
#' @param max_iter Newton iterations per fit.
#' @return An object of class `c("aggregate_glm", "tessera_fit")` with the components
#'   of [aggregate_lm()] (`std_errors`, `vcov`, `se_message`; `sigma2` is the dispersion
#'   used) plus `family`, `converged`, `iterations`, `message` and `objective`.
#' @examples
#' set.seed(3)
#' n <- 800; x <- matrix(rnorm(n * 2), n, 2)
#' y <- rbinom(n, 1, plogis(drop(x %*% c(1.5, -1))))
#' b <- random_bags(n, 4, seed = 1)
#' fit <- aggregate_glm(x, b, bag_means(y, b), rho = 0.5)
#' coef(fit)
#' @export
aggregate_glm <- function(x, bags, y_bag, family = stats::binomial(), rho = "cv", intercept = TRUE,
                          ridge = 0, rho_grid = NULL, folds = 5, aggregate = c("mean", "sum"),
                          sizes = NULL, grouping = FALSE, max_iter = 100, seed = NULL) {
  call <- match.call()
  env <- environment()
  aggregate <- match.arg(aggregate)
  fam <- if (is.character(family)) family else if (inherits(family, "family")) family$family else NA
  link <- if (inherits(family, "family")) family$link else c(gaussian = "identity", binomial = "logit", poisson = "log")[fam]
  canonical <- c(gaussian = "identity", binomial = "logit", poisson = "log")
  if (length(fam) != 1 || is.na(fam) || !fam %in% names(canonical) || !identical(unname(link), unname(canonical[fam]))) {
    cli::cli_abort(c("{.arg family} must be binomial(), poisson() or gaussian() with its canonical link.",
                     "x" = "You supplied {.val {paste(fam, link)}}."), call = env)
  }
  r <- parse_rho_arg(rho, call = env)
  if (r$method == "oracle") {
    cli::cli_abort("{.code rho = \"oracle\"} is defined for the linear model only; use {.val cv} or a number.", call = env)
  }
  check_flag(intercept, "intercept", call = env)
  check_flag(grouping, "grouping", call = env)
  check_number(ridge, "ridge", min = 0, call = env)
  check_whole(folds, "folds", min = 2, call = env)
  check_whole(max_iter, "max_iter", min = 1, call = env)
  grid <- check_rho_grid(rho_grid, call = env)
  seed <- resolve_seed(seed, call = env)
  d <- prepare_aggregate_data(x, bags, y_bag, sizes, aggregate, call = env)
  if (grouping) d$scheme <- "grouping"
  res <- call_core(.agg_glm_cpp(d$x, d$codes, d$agg_codes, d$y_bag, d$sizes, d$scheme, fam, r$method, r$value,
                                grid, intercept, ridge, folds, max_iter, seed), call = env)
  new_aggregate_fit(res, d, intercept, ridge, r$method, call, "aggregate_glm",
                    list(family = fam, folds = folds, seed = seed))
}

#' @export
print.aggregate_glm <- function(x, digits = 4, ...) {
  cat("GLM (", x$family, ") from aggregate responses: ", x$n, " rows in ", x$m, " bags (sizes ",
      size_range(x$bag_sizes), ")\n", sep = "")
  cat("rho =", format(x$rho, digits = digits), paste0("(", rho_label(x), ")"),
      if (x$ridge > 0) paste("ridge =", format(x$ridge)), "\n\nCoefficients:\n")
  print(round(x$coefficients, digits))
  if (!isTRUE(x$converged)) cat("NOT converged:", x$message, "\n")
  invisible(x)
}

# ---- theory --------------------------------------------------------------------------------

#' Asymptotic bias, variance and risk of the interpolating estimator
#'
#' The proportional-regime limits for `x ~ N(0, I_d)`, Gaussian noise, random bags of
#' size `k` and `gamma = d / n < 1` (the derived form of the paper's Theorem 2.5):
#' `tau > 0` solves `gamma = (1/k) tau/(1 + tau) + (1 - 1/k) rho tau/(1 + rho tau)`;
#' with `a = tau/(k gamma (1 + tau))`, `b = 1 - a`, `p = tau^2/(k gamma (1 + tau)^2)`,
#' `q = (k - 1) rho^2 tau^2/(k gamma (1 + rho tau)^2)`:
#' `Bias = snr sigma2 [b^2 - q (b - a)]/(1 - p - q)` and
#' `Var = sigma2 tau / [1 + (k - 1) rho ((1 + tau)/(1 + rho tau))^2]`. The test MSE is
#' `sigma2 + Bias + Var`. At `rho = 0` with `gamma k >= 1` the risk is `Inf`. Under
#' label DP with budget `epsilon` and clipping level `clip`, the noise level becomes
#' `sigma2 + 8 clip^2 / (k epsilon^2)`.
#'
#' @param gamma `d / n`, in (0, 1).
#' @param k Bag size (>= 1).
#' @param rho Vector of values `>= 0`; `"oracle"` gives the minimiser on `[0, rho_max]`.
#' @param snr `||theta0||^2 / sigma2`.
#' @param sigma2 Noise variance.
#' @param epsilon,clip Label-DP budget (`Inf`: no privacy) and clipping level.
#' @param rho_max Upper end of the oracle search.
#' @return A data frame with `rho`, `tau`, `bias`, `variance`, `risk` (= bias +
#'   variance) and `mse` (= noise level + risk).
#' @examples
#' aggregate_risk(gamma = 0.2, k = 2, rho = c(0, 0.398, 1), snr = 1)
#' aggregate_risk(gamma = 0.2, k = 2, rho = "oracle", snr = 1)
#' @export
aggregate_risk <- function(gamma, k, rho, snr, sigma2 = 1, epsilon = Inf, clip = 1, rho_max = 1) {
  check_number(gamma, "gamma", min = 0, max = 1, min_inclusive = FALSE)
  if (gamma >= 1) cli::cli_abort("{.arg gamma} must be below 1 (more rows than features).")
  check_number(k, "k", min = 1)
  check_number(snr, "snr", min = 0)
  check_number(sigma2, "sigma2", min = 0)
  s2 <- dp_noise(sigma2, k, epsilon, clip)
  if (identical(rho, "oracle")) {
    check_number(rho_max, "rho_max", min = 0, min_inclusive = FALSE)
    o <- call_core(.agg_oracle_cpp(gamma, k, snr * sigma2, s2, rho_max))
    out <- data.frame(rho = o$rho, tau = o$tau, bias = o$bias, variance = o$variance, risk = o$risk)
  } else {
    if (!is.numeric(rho) || !length(rho) || anyNA(rho) || any(!is.finite(rho)) || any(rho < 0)) {
      cli::cli_abort("{.arg rho} must be numbers >= 0 or {.val oracle}.")
    }
    out <- call_core(.agg_risk_cpp(gamma, k, as.numeric(rho), snr * sigma2, s2))
  }
  out$mse <- s2 + out$risk
  out
}

dp_noise <- function(sigma2, k, epsilon, clip, call = parent.frame()) {
  if (!is.numeric(epsilon) || length(epsilon) != 1 || is.na(epsilon) || epsilon <= 0) {
    cli::cli_abort("{.arg epsilon} must be a single positive number ({.code Inf} for no privacy).", call = call)
  }
  check_number(clip, "clip", min = 0, min_inclusive = FALSE, call = call)
  if (is.infinite(epsilon)) sigma2 else sigma2 + 8 * clip^2 / (k * epsilon^2)
}

#' Optimal bag size under label differential privacy
#'
#' Minimises the predicted excess risk over bag sizes `k = 1..k_max` and `rho` in
#' `[0, rho_max]` when each bag mean is released with Laplace noise of scale
#' `2 clip / (k epsilon)` ([dp_aggregate()]): larger bags shrink the privacy noise
#' (variance `8 clip^2 / (k^2 epsilon^2)` per bag) but lose individual information.
#' With `rho = 0` only, the risk increases in `k` (so `k = 1`); an interior optimum
#' needs `rho > 0`. Clipping bias is ignored.
#'
#' @inheritParams aggregate_risk
#' @param k_max Largest bag size considered.
#' @return A list of class `tessera_bag_size`: `k`, `rho`, `risk` at the optimum and
#'   `table` (per `k`: best `rho`, risk, effective noise level).
#' @examples
#' optimal_bag_size(gamma = 0.1, snr = 1, epsilon = 0.5, clip = 1)
#' @export
optimal_bag_size <- function(gamma, snr, sigma2 = 1, epsilon, clip, k_max = 50, rho_max = 1) {
  check_number(gamma, "gamma", min = 0, max = 1, min_inclusive = FALSE)
  if (gamma >= 1) cli::cli_abort("{.arg gamma} must be below 1 (more rows than features).")
  check_number(snr, "snr", min = 0)
  check_number(sigma2, "sigma2", min = 0)
  dp_noise(sigma2, 1, epsilon, clip)
  check_whole(k_max, "k_max", min = 1)
  check_number(rho_max, "rho_max", min = 0, min_inclusive = FALSE)
  r <- call_core(.agg_bag_size_cpp(gamma, snr * sigma2, sigma2, epsilon, clip, k_max, rho_max))
  structure(list(k = r$k, rho = r$rho, risk = r$risk,
                 table = data.frame(k = seq_len(k_max), rho = r$rho_by_k, risk = r$risk_by_k,
                                    noise_variance = r$noise_variance),
                 gamma = gamma, snr = snr, sigma2 = sigma2, epsilon = epsilon, clip = clip),
            class = "tessera_bag_size")
}

#' @export
print.tessera_bag_size <- function(x, digits = 4, ...) {
  cat("Optimal bag size under ", if (is.finite(x$epsilon)) paste0(format(x$epsilon), "-label DP") else "no privacy",
      " (gamma = ", format(x$gamma), ", snr = ", format(x$snr), ", clip = ", format(x$clip), "):\n", sep = "")
  cat("k* =", x$k, " rho* =", format(x$rho, digits = digits), " excess risk =", format(x$risk, digits = digits),
      " (k = 1:", format(x$table$risk[1], digits = digits), ")\n")
  invisible(x)
}

#' @export
plot.tessera_bag_size <- function(x, ...) {
  graphics::plot(x$table$k, x$table$risk, type = "b", pch = 20, xlab = "bag size k",
                 ylab = "predicted excess risk", main = "Risk under label DP", ...)
  graphics::abline(v = x$k, lty = 2, col = "firebrick")
  invisible(x)
}

# ---- label DP --------------------------------------------------------------------------------

#' Release bag means under label differential privacy
#'
#' Clips every individual response to `[-clip, clip]`, averages each bag and adds
#' Laplace noise of scale `2 clip / (|B_a| epsilon)` to each bag mean.
#'
#' **Neighbouring relation and guarantee.** Two data sets are neighbours when they differ
#' in one individual's response; the features and the bag memberships are public and
#' identical. Changing one response moves only its own bag's clipped mean, by at most
#' `2 clip / |B_a|`, so each bag's release is `epsilon`-DP (Laplace mechanism), and since
#' the bags are disjoint the whole vector of releases is `epsilon`-label-DP (parallel
#' composition). Any model fitted on the released aggregates and the public features
#' ([aggregate_lm()], [aggregate_glm()]) is post-processing and keeps the guarantee.
#' `clip` and `epsilon` must be fixed without looking at the responses.
#'
#' **Noise.** The noise comes from the privacy module's secure Laplace mechanism (as in
#' [ldp_laplace()]): each mean is rounded to a power-of-two grid `g_a <= 2 clip /
#' (1024 |B_a|)` and discrete Laplace noise is added on that grid, so that no
#' floating-point low bits leak the input (Mironov 2012); the rounding adds `g_a` to the
#' sensitivity, so the reported `scale` is `(2 clip / |B_a| + g_a) / epsilon`, at most
#' 0.1% above the nominal scale. With `seed = NULL` (default) the noise is drawn from the
#' operating system's cryptographically secure generator, as a real release needs; a
#' `seed` gives a reproducible, **not secure** stream, for simulations only. Unlike the
#' rest of tessera, a `NULL` seed does not draw from R's RNG, so `set.seed()` does not
#' repeat an unseeded release.
#'
#' @param y Individual responses, one per row.
#' @param bags Bag ids, one per response.
#' @param epsilon Privacy budget (> 0, finite).
#' @param clip Clipping level `C` (> 0).
#' @param seed `NULL` (the secure OS generator) or a whole number for reproducible noise
#'   in simulations.
#' @return A data frame of class `tessera_dp_release`, one row per bag: `bag`,
#'   `y_bag` (the released noisy mean), `size`, `scale` (Laplace scale), `grid` (grid
#'   step); attributes `epsilon`, `clip`, `n_clipped`, `clipping`, `neighbours`,
#'   `sampler`, `seeded`. Pass `setNames(r$y_bag, r$bag)` to [aggregate_lm()].
#' @examples
#' set.seed(1)
#' y <- rnorm(20); b <- rep(1:5, each = 4)
#' dp_aggregate(y, b, epsilon = 1, clip = 2, seed = 1)   # reproducible (simulation)
#' dp_aggregate(y, b, epsilon = 1, clip = 2)             # secure generator
#' @export
dp_aggregate <- function(y, bags, epsilon, clip, seed = NULL) {
  if (!is.numeric(y)) cli::cli_abort("{.arg y} must be a numeric vector.")
  if (!is.numeric(epsilon) || length(epsilon) != 1 || is.na(epsilon) || !is.finite(epsilon) || epsilon <= 0) {
    cli::cli_abort(c("{.arg epsilon} must be a single finite number > 0.", "x" = "You supplied {.val {format(epsilon)}}."))
  }
  check_number(clip, "clip", min = 0, min_inclusive = FALSE)
  if (!is.null(seed)) seed <- resolve_seed(seed)
  b <- encode_bags(bags, length(y))
  r <- call_core(.agg_dp_cpp(as.numeric(y), b$codes, epsilon, clip, seed))
  out <- data.frame(bag = b$levels[r$codes + 1], y_bag = r$y_bag, size = r$sizes, scale = r$scale,
                    grid = r$grid, stringsAsFactors = FALSE)
  structure(out, class = c("tessera_dp_release", "data.frame"), epsilon = epsilon, clip = clip,
            n_clipped = r$n_clipped, clipping = r$clipping, neighbours = r$neighbours,
            sampler = r$sampler, seeded = r$seeded, seed = seed)
}

#' @export
print.tessera_dp_release <- function(x, n = 6, ...) {
  cat(format(attr(x, "epsilon")), "-label-DP release of ", nrow(x), " bag means (clip = ",
      format(attr(x, "clip")), "; ", attr(x, "n_clipped"), " responses clipped)\n", sep = "")
  cat("Neighbours:", attr(x, "neighbours"), "\nSampler:", attr(x, "sampler"), "\n")
  print(utils::head(data.frame(bag = x$bag, y_bag = x$y_bag, size = x$size, scale = x$scale, grid = x$grid), n))
  invisible(x)
}

# ---- streaming: sufficient statistics ------------------------------------------------------

#' Sufficient statistics of aggregate-response data, for streaming fits
#'
#' The linear estimators depend on the data only through `G = X'X`,
#' `G_S = sum_a |B_a| xbar_a xbar_a'`, `b = sum_a |B_a| xbar_a ybar_a`,
#' `sum_a |B_a| ybar_a^2` and the counts. They add up over disjoint sets of *whole* bags,
#' so data too large for memory can be read in chunks (each holding complete bags),
#' summarised with `aggregate_stats()`, added up with `merge_aggregate_stats()` and
#' fitted with `aggregate_lm_stats()`: memory stays flat in `n` (a few `p x p` matrices
#' per fold) and the result equals the one-pass fit up to rounding.
#'
#' To choose `rho` by cross-validation over bags on streamed data, summarise each chunk
#' with `folds = K`: its bags are assigned at random to `K` folds (balanced within the
#' chunk; the seed should differ between chunks, as it does by default) and the
#' statistics are kept per fold; merged chunks add fold by fold, and
#' `aggregate_lm_stats(rho = "cv")` scores each fold's bags with the fit on the others,
#' exactly as [aggregate_lm()] does in memory.
#'
#' @inheritParams aggregate_lm.default
#' @param x A numeric matrix (one chunk of rows).
#' @param folds Number of cross-validation folds to keep statistics for (1: none).
#' @param seed Seed of this chunk's fold assignment (`folds > 1`); `NULL` draws one from
#'   R's RNG.
#' @return `aggregate_stats()` and `merge_aggregate_stats()`: a list of class
#'   `tessera_aggregate_stats` (per-fold `G`, `GS` as `p x p x folds` arrays, `b` as a
#'   `p x folds` matrix, `yy`, `n`, `m` per fold).
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(800), 400, 2); y <- drop(x %*% c(1, 2)) + rnorm(400)
#' bags <- rep(1:100, each = 4)
#' chunks <- lapply(split(seq_len(400), rep(1:4, each = 100)), function(i)
#'   aggregate_stats(x[i, ], bags[i], bag_means(y[i], bags[i]), folds = 5))
#' st <- merge_aggregate_stats(chunks)
#' coef(aggregate_lm_stats(st, rho = 0.5))
#' coef(aggregate_lm(x, bags, bag_means(y, bags), rho = 0.5))
#' aggregate_lm_stats(st, rho = "cv")$rho
#' @export
aggregate_stats <- function(x, bags, y_bag, intercept = TRUE, folds = 1, seed = NULL) {
  check_flag(intercept, "intercept")
  check_whole(folds, "folds", min = 1)
  seed <- resolve_seed(seed)
  d <- prepare_aggregate_data(x, bags, y_bag, NULL, "mean", call = environment())
  s <- call_core(.agg_stats_cpp(d$x, d$codes, d$agg_codes, d$y_bag, intercept, folds, seed))
  structure(c(s, list(names = c(if (intercept) "(Intercept)", colnames(d$x)))),
            class = "tessera_aggregate_stats")
}

#' @rdname aggregate_stats
#' @param ... `aggregate_stats()` results, or lists of them, to add up.
#' @export
merge_aggregate_stats <- function(...) {
  parts <- list(...)
  if (length(parts) == 1 && !inherits(parts[[1]], "tessera_aggregate_stats") && is.list(parts[[1]])) {
    parts <- parts[[1]]
  }
  if (!length(parts) || !all(vapply(parts, inherits, logical(1), "tessera_aggregate_stats"))) {
    cli::cli_abort("Give results of {.fn aggregate_stats} (or one list of them) to merge.")
  }
  out <- parts[[1]]
  for (q in parts[-1]) {
    if (!identical(dim(q$G), dim(out$G)) || !identical(q$intercept, out$intercept)) {
      cli::cli_abort(c("The statistics to merge must come from the same columns, intercept setting and number of {.arg folds}.",
                       "x" = "Got {dim(out$G)[1]} and {dim(q$G)[1]} coefficients, {dim(out$G)[3]} and {dim(q$G)[3]} folds."))
    }
    for (f in c("G", "GS", "b", "yy", "n", "m")) out[[f]] <- out[[f]] + q[[f]]
  }
  out
}

#' @export
print.tessera_aggregate_stats <- function(x, ...) {
  cat("Sufficient statistics of aggregate responses:", sum(x$n), "rows in", sum(x$m), "bags,",
      dim(x$G)[1], "coefficients", if (dim(x$G)[3] > 1) paste0("(", dim(x$G)[3], " CV folds)"), "\n")
  invisible(x)
}

#' @rdname aggregate_stats
#' @param stats One `aggregate_stats()` result or a list of them (chunks of disjoint
#'   whole bags, same columns and folds), merged before fitting.
#' @param rho A number `>= 0`, `"oracle"` (needs `snr`) or `"cv"` (needs statistics
#'   kept for at least 2 `folds`).
#' @param rho_grid Grid for `rho = "cv"`; default 0 (when estimable) and 60 log-spaced
#'   values in `[0.001, 1]`.
#' @return `aggregate_lm_stats()`: a list with `coefficients`, `rho`, the CV table `cv`
#'   (for `rho = "cv"`), `std_errors`, `vcov`, `sigma2`, `se_message`, `losses`, `n`,
#'   `m` and `p`.
#' @export
aggregate_lm_stats <- function(stats, rho = 1, ridge = 0, snr = NULL, rho_max = 1, rho_grid = NULL) {
  if (!inherits(stats, "tessera_aggregate_stats")) {
    if (!is.list(stats) || !length(stats) || !all(vapply(stats, inherits, logical(1), "tessera_aggregate_stats"))) {
      cli::cli_abort("{.arg stats} must be made by {.fn aggregate_stats} (one result or a list of them).")
    }
    stats <- merge_aggregate_stats(stats)
  }
  r <- parse_rho_arg(rho)
  if (r$method == "cv" && dim(stats$G)[3] < 2) {
    cli::cli_abort(c("{.code rho = \"cv\"} needs statistics kept per fold.",
                     "i" = "Summarise the chunks with {.code aggregate_stats(..., folds = 5)}, or give a number or {.val oracle}."))
  }
  if (r$method == "oracle") {
    if (is.null(snr)) cli::cli_abort("{.code rho = \"oracle\"} needs {.arg snr} = ||theta0||^2 / sigma^2.")
    check_number(snr, "snr", min = 0, min_inclusive = FALSE)
  }
  check_number(ridge, "ridge", min = 0)
  check_number(rho_max, "rho_max", min = 0, min_inclusive = FALSE)
  grid <- check_rho_grid(rho_grid)
  res <- call_core(.agg_fit_stats_cpp(unclass(stats), r$method, r$value, grid, ridge,
                                      if (is.null(snr)) -1 else snr, rho_max))
  nm <- stats$names
  out <- list(coefficients = stats::setNames(res$coef, nm), rho = res$rho, rho_method = r$method,
              std_errors = if (length(res$std_errors)) stats::setNames(res$std_errors, nm),
              vcov = if (length(res$std_errors)) matrix(res$vcov, length(nm), dimnames = list(nm, nm)),
              sigma2 = res$sigma2, se_message = res$se_message,
              losses = c(bag = res$loss_bag, instance = res$loss_instance, within = res$loss_within),
              n = res$n, m = res$m, p = res$p)
  if (length(res$rho_grid)) out$cv <- data.frame(rho = res$rho_grid, mse = res$cv_mse, se = res$cv_se)
  out
}
