# The ATE with a possibly invalid binary instrument (Sun, Cui and Tchetgen Tchetgen, JMLR
# 2022): multiply robust, multiply debiased ML, selective ML, and two context estimators.

#' A nuisance learner from fit and predict functions
#'
#' Wraps any regression or classification method for use by [iv_ate()]. `fit` is
#' called as `fit(x, y, binary)` on a numeric matrix `x` (no intercept column) and a
#' numeric target `y` (0/1 when `binary` is `TRUE`); `predict` is called as
#' `predict(object, newx)` and must return one finite number per row of `newx`
#' (probabilities in `[0, 1]` when `binary`).
#'
#' @param fit,predict Functions as described above.
#' @param name A label used in printed output and error messages.
#' @return An object of class `tessera_learner`.
#' @importFrom stats coef confint nobs vcov
#' @examples
#' # A logistic/linear regression learner written with stats::glm.
#' glm_r <- iv_learner(
#'   fit = function(x, y, binary) {
#'     d <- data.frame(y = y, x)
#'     stats::glm(y ~ ., data = d, family = if (binary) stats::binomial() else stats::gaussian())
#'   },
#'   predict = function(object, newx) {
#'     stats::predict(object, newdata = data.frame(newx), type = "response")
#'   },
#'   name = "stats::glm")
#' glm_r
#' @export
iv_learner <- function(fit, predict, name = "custom") {
  if (!is.function(fit)) cli::cli_abort("{.arg fit} must be a function {.code fit(x, y, binary)}.")
  if (!is.function(predict)) cli::cli_abort("{.arg predict} must be a function {.code predict(object, newx)}.")
  if (!is.character(name) || length(name) != 1L || is.na(name)) cli::cli_abort("{.arg name} must be a single string.")
  structure(list(fit = fit, predict = predict, name = name), class = "tessera_learner")
}

#' @export
print.tessera_learner <- function(x, ...) {
  cat("tessera learner:", x$name, "\n")
  invisible(x)
}

builtin_learners <- c("glm", "lasso", "ridge", "enet", "lasso2", "ridge2", "mean")

# One learner specification -> list(spec = string or R function, name = label).
resolve_learner <- function(l, arg, call) {
  if (is.character(l) && length(l) == 1L && !is.na(l)) {
    if (!l %in% builtin_learners) {
      cli::cli_abort(c("{.arg {arg}} names an unknown built-in learner {.val {l}}.",
                       "i" = "Built-in learners: {.val {builtin_learners}}, or use {.fn iv_learner}."),
                     call = call)
    }
    return(list(spec = l, name = l))
  }
  if (inherits(l, "tessera_learner")) {
    # Errors in user code come back as a classed string; the core then reports them
    # with the learner's and the nuisance's names.
    fp <- function(x, y, x_new, binary, seed) {
      tryCatch({
        colnames(x) <- colnames(x_new) <- paste0("x", seq_len(ncol(x)))
        obj <- l$fit(x, y, binary)
        out <- l$predict(obj, x_new)
        if (!is.numeric(out) && !is.logical(out)) stop("predict() must return a numeric vector")
        as.numeric(out)
      }, error = function(e) structure(conditionMessage(e), class = "tessera_learner_error"))
    }
    return(list(spec = fp, name = l$name))
  }
  cli::cli_abort(c("{.arg {arg}} must be a built-in learner name or made by {.fn iv_learner}.",
                   "x" = "You supplied {.cls {class(l)}}."), call = call)
}

# learners: one spec for all nuisances, or a list with pi, p, mu (each one spec, or for
# method = "selective" a list/vector of candidates).
resolve_learners <- function(learners, selective, call) {
  single <- is.character(learners) && length(learners) == 1L || inherits(learners, "tessera_learner")
  if (single) learners <- list(pi = learners, p = learners, mu = learners)
  if (!is.list(learners) || !all(c("pi", "p", "mu") %in% names(learners))) {
    cli::cli_abort(c("{.arg learners} must be one learner or a list with elements {.field pi}, {.field p} and {.field mu}.",
                     "i" = "A learner is a built-in name ({.val {builtin_learners}}) or made by {.fn iv_learner}."),
                   call = call)
  }
  lapply(c(pi = "pi", p = "p", mu = "mu"), function(nm) {
    cand <- learners[[nm]]
    if (is.character(cand)) cand <- as.list(cand)
    if (inherits(cand, "tessera_learner")) cand <- list(cand)
    if (!is.list(cand) || length(cand) < 1L) {
      cli::cli_abort("{.arg learners${nm}} must hold at least one learner.", call = call)
    }
    if (!selective && length(cand) > 1L) {
      cli::cli_abort(c("{.arg learners${nm}} has {length(cand)} candidates.",
                       "i" = "Several candidates per nuisance need {.code method = \"selective\"}."), call = call)
    }
    lapply(seq_along(cand), function(i) resolve_learner(cand[[i]], sprintf("learners$%s[[%d]]", nm, i), call))
  })
}

# A binary 0/1 vector from 0/1 numbers, a logical or a two-level factor/character; returns
# the coded vector and the level coded 1.
as_binary <- function(v, arg, call) {
  if (is.null(v)) cli::cli_abort("{.arg {arg}} is missing.", call = call)
  if (is.character(v)) v <- factor(v)
  if (is.factor(v)) {
    v <- droplevels(v)
    lev <- levels(v)
    if (length(lev) != 2L) {
      cli::cli_abort(c("{.arg {arg}} must be binary: a factor with exactly 2 levels.",
                       "x" = "It has {length(lev)} level{?s}: {.val {lev}}."), call = call)
    }
    return(list(value = as.numeric(v == lev[2]), one = lev[2]))
  }
  if (is.logical(v)) return(list(value = as.numeric(v), one = "TRUE"))
  if (!is.numeric(v)) {
    cli::cli_abort("{.arg {arg}} must be 0/1 numeric, logical or a two-level factor, not {.cls {class(v)}}.",
                   call = call)
  }
  ok <- is.na(v) | v %in% c(0, 1)
  if (!all(ok)) {
    bad <- paste(utils::head(unique(v[!ok]), 3), collapse = ", ")
    cli::cli_abort(c("{.arg {arg}} must be binary (0/1).", "x" = "Found {bad}."), call = call)
  }
  list(value = as.numeric(v), one = "1")
}

#' Average treatment effect with a possibly invalid instrument
#'
#' Estimates the population average treatment effect `psi = E[delta(L)]` of a binary
#' treatment `A` on an outcome `Y`, using a binary instrument `Z` that may have a direct
#' effect on `Y` (no exclusion restriction), after Sun, Cui and Tchetgen Tchetgen
#' (2022, JMLR), "Selective machine learning of the average treatment effect with an
#' invalid instrumental variable". Identification replaces exclusion by the GENIUS
#' no-interaction assumptions: `P(A = 1 | Z, U, L)` and `E[Y(0, z) | U, L]` are additive
#' in the unmeasured confounder `U`, the effect `delta(L)` is not modified by `U` or `Z`,
#' and `Z` is independent of `U` given `L`. It needs `Var(A | Z = 1, L) != Var(A | Z = 0, L)`,
#' i.e. `p1 != p0` and `p1 + p0 != 1` with `pz = P(A = 1 | Z = z, L)`.
#'
#' Methods:
#' * `"mdml"` (default): multiply debiased ML. K-fold cross-fitting of
#'   `pi(L) = P(Z = 1 | L)`, `p_z(L)` per instrument arm and the cell means
#'   `E[Y | A, Z, L]` with the chosen learners; the estimate is the mean of the
#'   efficient-influence-function pseudo-outcomes and its SE their sd / sqrt(n).
#' * `"mr"`: the multiply robust estimator with parametric working models (logistic
#'   `pi` and per-arm `p`, linear CATE, baseline and selection-bias models), consistent
#'   if any of `{p, gamma, delta}`, `{pi, b, delta}`, `{pi, p}` is correct; sandwich SEs
#'   from the stacked estimating equations; optional bootstrap.
#' * `"selective"`: MDML with the learners chosen among candidates by the
#'   multiple-robustness pseudo-risk (its exact form in the paper could not be confirmed).
#'   For a tuple (pi, p, mu learners) it is `risk_pi + risk_mu`: the largest
#'   fold-averaged squared change of the fold estimates when the `pi` learner is swapped
#'   with `p`, `mu` held (zero if `{p, gamma, delta}` are right), plus the same when the
#'   `mu` learner is swapped with `pi`, `p` held (zero if `{pi, p}` are right). The
#'   `p` learner enters only as a held part, so offer several `pi` or `mu` candidates.
#'   The table is `selection`; the fold estimates of each tuple `selection_folds`.
#' * `"wald"`: the Wald/LATE ratio (assumes exclusion; ignores covariates), for context.
#' * `"dr"`: the cross-fitted doubly robust ATE assuming no unmeasured confounding
#'   (ignores `Z`), for context.
#'
#' Trimming: `pi` is truncated to `[trim_pi, 1 - trim_pi]` and `v1 - v0` away from 0 at
#' `trim_v`; counts are reported. When more than `max_weak_share` of the observations
#' have `|v1 - v0| < trim_v`, the ATE is declared not identified (an error).
#' One-sided noncompliance (A constant in an instrument arm) is detected and explained.
#'
#' @param formula `y ~ a | z | l1 + l2 + ...`: outcome, treatment, instrument and
#'   covariates (`y ~ a | z` without covariates). Factor covariates are expanded
#'   (unused levels dropped).
#' @param data A data frame.
#' @param subset,na.action As in [stats::lm()]; the default drops incomplete rows.
#' @param method One of `"mdml"`, `"mr"`, `"selective"`, `"wald"`, `"dr"`.
#' @param learners One learner for all nuisances, or `list(pi =, p =, mu =)`. A
#'   learner is a built-in name (`"glm"`, `"lasso"`, `"ridge"`, `"enet"`, `"lasso2"`
#'   and `"ridge2"` (with squares and products), `"mean"`) or an [iv_learner()]. For
#'   `"selective"` each element may hold several candidates.
#' @param folds Cross-fitting folds (MDML, selective, DR).
#' @param repeats Repeated sample splits (MDML), aggregated by the median.
#' @param trim_pi,trim_v,max_weak_share Trimming thresholds and the identification
#'   failure rule (see Details).
#' @param level Confidence level.
#' @param bootstrap Bootstrap replicates for `"mr"` (0 = none).
#' @param seed Seed of the fold split and learners; `NULL` draws one from R's RNG.
#' @param verbose Show a progress bar in interactive sessions.
#' @return An object of class `c("iv_ate", "tessera_fit")` with `estimate`, `se`, `ci`,
#'   `level`, `method`, `diagnostics` (identification strength, overlap, trimming,
#'   one-sided noncompliance, warnings), `nuisance` (fitted nuisances per observation),
#'   `pseudo_outcome`, and method-specific parts (`beta`/`beta_se` for MR, `selection`
#'   and `selection_folds` for selective ML).
#' @seealso [iv_ate_fit()] for the matrix interface, [iv_learner()].
#' @examples
#' set.seed(1)
#' n <- 2000
#' l <- runif(n, -1, 1)
#' z <- rbinom(n, 1, plogis(0.2 + 0.5 * l))
#' u <- runif(n, -0.07, 0.07)
#' a <- rbinom(n, 1, ifelse(z == 1, plogis(0.3 * l), plogis(-2.2 + 0.3 * l)) + u)
#' y <- (1 + 0.5 * l) * a + 0.5 + 0.3 * l + 0.4 * z + 20 * u + rnorm(n)
#' d <- data.frame(y, a, z, l)
#' fit <- iv_ate(y ~ a | z | l, data = d, method = "mr")
#' fit
#' iv_ate(y ~ a | z | l, data = d, learners = "glm", seed = 1)
#' @export
iv_ate <- function(formula, data, subset, na.action = stats::na.omit,
                   method = c("mdml", "mr", "selective", "wald", "dr"), learners = "lasso",
                   folds = 5, repeats = 1, trim_pi = 0.01, trim_v = 0.01, max_weak_share = 0.5,
                   level = 0.95, bootstrap = 0, seed = NULL, verbose = interactive()) {
  call <- match.call()
  env <- environment()
  method <- match.arg(method)
  if (missing(data) || !is.data.frame(data)) cli::cli_abort("{.arg data} must be a data frame.")
  parts <- parse_iv_formula(formula, env)
  vars <- unique(c(parts$y, parts$a, parts$z, all.vars(parts$covariates)))
  missing_vars <- setdiff(vars, names(data))
  if (length(missing_vars)) {
    cli::cli_abort("{.arg formula} uses variable{?s} not in {.arg data}: {.field {missing_vars}}.")
  }
  mf_call <- quote(stats::model.frame(formula = f, data = data, na.action = na.action, drop.unused.levels = TRUE))
  mf_call$formula <- stats::reformulate(c(vars[-1], "1"), response = parts$y)
  if (!missing(subset)) mf_call$subset <- substitute(subset)
  mf <- eval(mf_call)
  for (v in all.vars(parts$covariates)) {
    col <- mf[[v]]
    if ((is.factor(col) || is.character(col)) && length(unique(col)) < 2L) {
      cli::cli_abort(c("Covariate {.field {v}} has a single level in the rows used (unused levels dropped).",
                       "i" = "A constant covariate carries no information: remove it from {.arg formula}."))
    }
  }
  cov_terms <- stats::terms(parts$covariates, data = mf)
  x <- stats::model.matrix(cov_terms, mf)
  x <- x[, colnames(x) != "(Intercept)", drop = FALSE]
  fit <- iv_ate_core(mf[[parts$y]], mf[[parts$a]], mf[[parts$z]], x, method, learners, folds, repeats,
                     trim_pi, trim_v, max_weak_share, level, bootstrap, seed, verbose, env)
  fit$call <- call
  fit$variables <- list(y = parts$y, a = parts$a, z = parts$z, covariates = colnames(x))
  fit
}

#' @rdname iv_ate
#' @param y Numeric outcome.
#' @param a Binary treatment: 0/1, logical or a two-level factor (second level = 1).
#' @param z Binary instrument, coded as `a`.
#' @param x Covariates: a numeric matrix, data frame of numeric columns or vector (one
#'   covariate), or `NULL`.
#' @examples
#' iv_ate_fit(d$y, d$a, d$z, cbind(l = d$l), method = "wald")
#' @export
iv_ate_fit <- function(y, a, z, x = NULL, method = c("mdml", "mr", "selective", "wald", "dr"),
                       learners = "lasso", folds = 5, repeats = 1, trim_pi = 0.01, trim_v = 0.01,
                       max_weak_share = 0.5, level = 0.95, bootstrap = 0, seed = NULL,
                       verbose = interactive()) {
  env <- environment()
  method <- match.arg(method)
  if (is.null(x)) x <- matrix(0, length(y), 0)
  if (is.atomic(x) && is.null(dim(x))) x <- matrix(x, ncol = 1, dimnames = list(NULL, "x"))
  x <- as_numeric_matrix(x, "x", call = env)
  if (ncol(x) == 0L) colnames(x) <- character(0)
  fit <- iv_ate_core(y, a, z, x, method, learners, folds, repeats, trim_pi, trim_v, max_weak_share,
                     level, bootstrap, seed, verbose, env)
  fit$call <- match.call()
  fit$variables <- list(y = "y", a = "a", z = "z", covariates = colnames(x))
  fit
}

parse_iv_formula <- function(formula, call) {
  bad <- function() {
    cli::cli_abort(c("{.arg formula} must look like {.code y ~ a | z | l1 + l2} (outcome ~ treatment | instrument | covariates).",
                     "i" = "Use {.code y ~ a | z} without covariates."), call = call)
  }
  if (!inherits(formula, "formula") || length(formula) != 3L) bad()
  rhs <- formula[[3]]
  if (!is.call(rhs) || !identical(rhs[[1]], as.name("|"))) bad()
  if (is.call(rhs[[2]]) && identical(rhs[[2]][[1]], as.name("|"))) {
    a <- rhs[[2]][[2]]
    z <- rhs[[2]][[3]]
    covariates <- stats::as.formula(call("~", rhs[[3]]), env = environment(formula))
  } else {
    a <- rhs[[2]]
    z <- rhs[[3]]
    covariates <- stats::as.formula(~1, env = environment(formula))
  }
  y <- formula[[2]]
  if (!is.name(y) || !is.name(a) || !is.name(z)) {
    cli::cli_abort("The outcome, treatment and instrument in {.arg formula} must be single variable names.",
                   call = call)
  }
  list(y = as.character(y), a = as.character(a), z = as.character(z), covariates = covariates)
}

iv_ate_core <- function(y, a, z, x, method, learners, folds, repeats, trim_pi, trim_v, max_weak_share,
                        level, bootstrap, seed, verbose, env) {
  if (!is.numeric(y)) cli::cli_abort("{.arg y} must be numeric, not {.cls {class(y)}}.", call = env)
  ab <- as_binary(a, "a", env)
  zb <- as_binary(z, "z", env)
  n <- length(y)
  if (length(ab$value) != n || length(zb$value) != n || nrow(x) != n) {
    cli::cli_abort(c("{.arg y}, {.arg a}, {.arg z} and {.arg x} must have the same number of observations.",
                     "x" = "Lengths: {n}, {length(ab$value)}, {length(zb$value)}, {nrow(x)} rows."), call = env)
  }
  check_whole(folds, "folds", min = 2, call = env)
  check_whole(repeats, "repeats", min = 1, call = env)
  check_number(trim_pi, "trim_pi", min = 0, max = 0.5, min_inclusive = FALSE, call = env)
  check_number(trim_v, "trim_v", min = 0, max = 0.25, min_inclusive = FALSE, call = env)
  check_number(max_weak_share, "max_weak_share", min = 0, max = 1, call = env)
  check_number(level, "level", min = 0, max = 1, min_inclusive = FALSE, call = env)
  check_whole(bootstrap, "bootstrap", min = 0, call = env)
  check_flag(verbose, "verbose", call = env)
  seed <- resolve_seed(seed, call = env)
  yv <- as.numeric(y)
  res <- switch(method,
    mr = call_core(.iv_mr_cpp(yv, ab$value, zb$value, x, trim_pi, trim_v, max_weak_share, level,
                              bootstrap, seed, verbose), call = env),
    wald = call_core(.iv_wald_cpp(yv, ab$value, zb$value, level), call = env),
    dr = {
      L <- resolve_learners(learners, FALSE, env)
      call_core(.iv_dr_cpp(yv, ab$value, x, L$p[[1]]$spec, L$p[[1]]$name, L$mu[[1]]$spec, L$mu[[1]]$name,
                           folds, trim_pi, level, seed), call = env)
    },
    {
      sel <- method == "selective"
      L <- resolve_learners(learners, sel, env)
      specs <- function(k) lapply(L[[k]], `[[`, "spec")
      labels <- function(k) vapply(L[[k]], `[[`, "", "name")
      call_core(.iv_mdml_cpp(yv, ab$value, zb$value, x, specs("pi"), labels("pi"), specs("p"), labels("p"),
                             specs("mu"), labels("mu"), sel, folds, repeats, trim_pi, trim_v,
                             max_weak_share, level, seed, verbose), call = env)
    })
  res$method <- method
  res$n <- n
  res$coding <- c(a = ab$one, z = zb$one)
  res$trim <- c(pi = trim_pi, v = trim_v)
  res$seed <- seed
  if (method == "mr") {
    names(res$beta) <- names(res$beta_se) <- c("(Intercept)", colnames(x))
  }
  if (method == "selective") {
    cand <- lapply(resolve_learners(learners, TRUE, env), function(l) vapply(l, `[[`, "", "name"))
    tup <- res$tuples
    res$selection <- data.frame(pi = cand$pi[tup[, 1]], p = cand$p[tup[, 2]], mu = cand$mu[tup[, 3]],
                                risk_pi = res$pseudo_risk_terms[, 1], risk_mu = res$pseudo_risk_terms[, 2],
                                pseudo_risk = res$pseudo_risk, estimate = res$tuple_estimate,
                                selected = seq_len(nrow(tup)) == res$selected, stringsAsFactors = FALSE)
    res$selection_folds <- res$tuple_fold_estimate
  }
  res[c("tuples", "pseudo_risk", "tuple_estimate", "pseudo_risk_terms", "tuple_fold_estimate")] <- NULL
  w <- res$diagnostics$warnings
  loud <- grepl("p1 is within|p1 \\+ p0 is within", w)
  for (msg in w[loud]) cli::cli_warn(msg, class = "tessera_weak_instrument")
  structure(res, class = c("iv_ate", "tessera_fit"))
}

iv_method_label <- function(m) {
  switch(m, mdml = "Multiply debiased ML (cross-fitted)", mr = "Multiply robust (parametric working models)",
         selective = "Selective ML (cross-fitted)", wald = "Wald / LATE ratio (assumes exclusion)",
         dr = "Doubly robust ATE assuming no unmeasured confounding")
}

#' @export
print.iv_ate <- function(x, digits = 4, ...) {
  cat("ATE with a possibly invalid instrument:", iv_method_label(x$method), "\n")
  cat(sprintf("  estimate %s  (SE %s)  %g%% CI [%s, %s]   n = %d\n", format(x$estimate, digits = digits),
              format(x$se, digits = digits), 100 * x$level, format(x$ci[1], digits = digits),
              format(x$ci[2], digits = digits), x$n))
  if (x$method %in% c("mdml", "mr", "selective")) {
    q <- x$diagnostics$v_diff_quantiles
    cat(sprintf("  identification |v1 - v0|: median %.3g, 5%% quantile %.3g; share < trim_v: %.1f%%\n",
                q[4], q[2], 100 * x$diagnostics$share_weak))
    cat(sprintf("  overlap pi in [%.3g, %.3g]; trimmed: %d (pi), %d (v1 - v0)\n", x$diagnostics$pi_min,
                x$diagnostics$pi_max, as.integer(x$diagnostics$n_trim_pi), as.integer(x$diagnostics$n_trim_v)))
  }
  for (w in x$diagnostics$warnings) cat(strwrap(paste("!", w), exdent = 4, prefix = "  "), sep = "\n")
  invisible(x)
}

#' Summarise an iv_ate fit
#'
#' @param object A fit from [iv_ate()] or [iv_ate_fit()].
#' @param ... Unused.
#' @return An object of class `summary.iv_ate`: the coefficient table, the diagnostics,
#'   the learners, and (MR) the CATE coefficients or (selective) the pseudo-risk table.
#' @examples
#' set.seed(2)
#' n <- 1000
#' l <- runif(n, -1, 1); z <- rbinom(n, 1, 0.5)
#' a <- rbinom(n, 1, ifelse(z == 1, 0.5, 0.1))
#' y <- a + l + 0.3 * z + rnorm(n)
#' summary(iv_ate(y ~ a | z | l, data = data.frame(y, a, z, l), method = "mr"))
#' @export
summary.iv_ate <- function(object, ...) {
  structure(list(fit = object, table = tidy.iv_ate(object)), class = "summary.iv_ate")
}

#' @export
print.summary.iv_ate <- function(x, digits = 4, ...) {
  f <- x$fit
  print(f, digits = digits)
  cat("\n")
  print(x$table, digits = digits, row.names = FALSE)
  if (length(f$learner_names)) cat("\nLearners (pi, p, mu):", paste(f$learner_names, collapse = ", "), "\n")
  if (f$method == "mr") {
    cat("\nCATE working model delta(L) = beta' [1, L]:\n")
    print(cbind(estimate = f$beta, std.error = f$beta_se), digits = digits)
    if (length(f$replicates)) {
      cat(sprintf("Bootstrap (%d replicates): SE %s, percentile CI [%s, %s]\n", length(f$replicates),
                  format(f$bootstrap[1], digits = digits), format(f$bootstrap[2], digits = digits),
                  format(f$bootstrap[3], digits = digits)))
    }
  }
  if (!is.null(f$selection)) {
    cat("\nSelective ML pseudo-risk table:\n")
    print(f$selection, digits = digits, row.names = FALSE)
  }
  q <- f$diagnostics$v_diff_quantiles
  if (length(q) == 7) {
    cat("\n|v1 - v0| quantiles (0, 5, 25, 50, 75, 95, 100%):", format(q, digits = 3), "\n")
  }
  invisible(x)
}

#' @export
coef.iv_ate <- function(object, ...) c(ATE = object$estimate)

#' @export
vcov.iv_ate <- function(object, ...) matrix(object$se^2, 1, 1, dimnames = list("ATE", "ATE"))

#' @export
confint.iv_ate <- function(object, parm, level = 0.95, ...) {
  q <- stats::qnorm(1 - (1 - level) / 2)
  out <- matrix(object$estimate + c(-1, 1) * q * object$se, 1, 2,
                dimnames = list("ATE", sprintf("%g %%", 100 * c((1 - level) / 2, 1 - (1 - level) / 2))))
  out
}

#' @export
nobs.iv_ate <- function(object, ...) object$n

#' Tidy an iv_ate fit
#'
#' @param x A fit from [iv_ate()] or [iv_ate_fit()].
#' @param ... Unused.
#' @return `tidy()`: one row (`term`, `estimate`, `std.error`, `statistic`, `p.value`,
#'   `conf.low`, `conf.high`); `glance()`: one row with the method, `nobs`, folds,
#'   identification and trimming summaries.
#' @examples
#' set.seed(3)
#' n <- 1000
#' l <- runif(n, -1, 1); z <- rbinom(n, 1, 0.5)
#' a <- rbinom(n, 1, ifelse(z == 1, 0.5, 0.1))
#' y <- a + l + rnorm(n)
#' fit <- iv_ate(y ~ a | z | l, data = data.frame(y, a, z, l), method = "wald")
#' generics::tidy(fit)
#' generics::glance(fit)
#' @name tidy.iv_ate
#' @export
tidy.iv_ate <- function(x, ...) {
  data.frame(term = "ATE", estimate = x$estimate, std.error = x$se, statistic = x$estimate / x$se,
             p.value = 2 * stats::pnorm(-abs(x$estimate / x$se)), conf.low = x$ci[1], conf.high = x$ci[2])
}

#' @rdname tidy.iv_ate
#' @export
glance.iv_ate <- function(x, ...) {
  d <- x$diagnostics
  q <- d$v_diff_quantiles
  data.frame(method = x$method, nobs = x$n, folds = x$folds,
             median_abs_v_diff = if (length(q) == 7) q[4] else NA_real_,
             share_weak = d$share_weak, n_trim_pi = d$n_trim_pi, n_trim_v = d$n_trim_v,
             one_sided = d$one_sided)
}

#' @export
plot.iv_ate <- function(x, ...) {
  d <- x$diagnostics
  if (!length(d$v_diff)) {
    cli::cli_abort("The {.val {x$method}} estimator has no nuisance diagnostics to plot.")
  }
  op <- graphics::par(mfrow = c(1, 2))
  on.exit(graphics::par(op))
  graphics::hist(abs(d$v_diff), breaks = 40, main = "Identification strength", xlab = "|v1 - v0|",
                 col = "grey80", border = "white", ...)
  graphics::abline(v = x$trim[["v"]], col = "red", lty = 2)
  graphics::hist(x$nuisance[, "pi"], breaks = 40, main = "Instrument propensity (overlap)",
                 xlab = "pi(L) = P(Z = 1 | L)", col = "grey80", border = "white", xlim = c(0, 1))
  graphics::abline(v = x$trim[["pi"]] * c(1, 1 / x$trim[["pi"]] - 1), col = "red", lty = 2)
  invisible(x)
}
