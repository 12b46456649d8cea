# Sparse linear regression under local differential privacy (Zhu et al., ICLR 2024):
# the mechanisms, the client/server protocol and the estimators.

#' Advanced settings of the LDP sparse regression
#'
#' @param calibration Gaussian calibration: `"automatic"` (classic when a message's
#'   epsilon is at most 1, analytic otherwise), `"classic"` (Dwork-Roth; an error when a
#'   message's epsilon exceeds 1) or `"analytic"` (Balle-Wang, any epsilon).
#' @param covariance_share Fraction of the budget (epsilon and delta) spent on the
#'   covariance message in the non-interactive protocol, in (0, 1).
#' @param x_radius Optional l2 radius applied to the truncated covariates (`NULL`: none);
#'   it lowers the sensitivities when smaller than `sqrt(d) * tau_x`.
#' @param not_pd What the server does when the noisy covariance is not positive definite:
#'   `"fail"` (an error saying how many users are needed; also checked before the
#'   protocol runs) or `"eigen_floor"` (eigenvalues raised to `eigen_floor` times the
#'   mean diagonal; post-processing, no privacy cost, not in the paper).
#' @param eigen_floor Relative eigenvalue floor for `not_pd = "eigen_floor"`.
#' @param theta_norm Assumed l2 norm of the true coefficients, used only by the default
#'   `lambda`.
#' @param kappa Assumed smallest eigenvalue of the covariance of the truncated
#'   covariates (1 for standardised covariates), used to say how many users are needed.
#' @param rounds Interactive protocol: number of rounds `T` (`NULL`: `ceiling(log(n))`).
#' @param step Interactive protocol: gradient step size `eta`.
#' @param theta_radius Interactive protocol: the l2 ball the iterates are projected on.
#' @param secure Discrete noise on a power-of-two grid, resistant to floating-point
#'   attacks (default). `FALSE` gives textbook continuous noise, for comparisons only.
#' @return A list of class `tessera_ldp_control`.
#' @examples
#' ldp_control(calibration = "analytic", not_pd = "eigen_floor")
#' @export
ldp_control <- function(calibration = c("automatic", "classic", "analytic"), covariance_share = 0.5,
                        x_radius = NULL, not_pd = c("fail", "eigen_floor"), eigen_floor = 0.01,
                        theta_norm = 1, kappa = 1, rounds = NULL, step = 1, theta_radius = 1,
                        secure = TRUE) {
  calibration <- match.arg(calibration)
  not_pd <- match.arg(not_pd)
  check_number(covariance_share, "covariance_share", min = 0, max = 1, min_inclusive = FALSE)
  if (covariance_share >= 1) cli::cli_abort("{.arg covariance_share} must be below 1.")
  if (!is.null(x_radius)) check_number(x_radius, "x_radius", min = 0, min_inclusive = FALSE)
  check_number(eigen_floor, "eigen_floor", min = 0, min_inclusive = FALSE)
  check_number(theta_norm, "theta_norm", min = 0, min_inclusive = FALSE)
  check_number(kappa, "kappa", min = 0, min_inclusive = FALSE)
  if (!is.null(rounds)) check_whole(rounds, "rounds", min = 1)
  check_number(step, "step", min = 0, min_inclusive = FALSE)
  check_number(theta_radius, "theta_radius", min = 0, min_inclusive = FALSE)
  check_flag(secure, "secure")
  structure(list(calibration = calibration, covariance_share = covariance_share,
                 x_radius = if (is.null(x_radius)) 0 else x_radius, not_pd = not_pd,
                 eigen_floor = eigen_floor, theta_norm = theta_norm, kappa = kappa,
                 rounds = if (is.null(rounds)) 0 else rounds, step = step,
                 theta_radius = theta_radius, secure = secure), class = "tessera_ldp_control")
}

#' Sparse linear regression under local differential privacy
#'
#' Runs one of the protocols of Zhu, Ding, Aggarwal, Xu and Wang (ICLR 2024) on a data
#' set whose rows are users, as the users and the server would: each user truncates
#' their data, randomises it on their own and sends messages; the server only ever sees
#' the messages.
#'
#' * `"noninteractive"` (Algorithm 1): each user sends once the upper triangle of
#'   `xb xb'` plus noise and `xb yb` plus noise (`xb`, `yb`: `x` and `y` truncated at
#'   `tau_x`, `tau_y`); the server returns `S_lambda(Sigma_hat^-1 s_hat)`. Needs many
#'   users: the noise of `Sigma_hat` must be smaller than its smallest eigenvalue, and the
#'   error says how many users are needed otherwise. Error rate `d sqrt(k) / (sqrt(n) epsilon)`.
#' * `"public"`: the server estimates the covariance from public, unlabelled covariates
#'   `x_public`; users send only `xb yb` plus noise with the whole budget. Rate
#'   `sqrt(d k) / (sqrt(n) epsilon)`.
#' * `"interactive"` (rectified LDP-IHT, Algorithm 2): users are split into `T` groups
#'   (in row order); round `t` sends the current estimate to group `t`, whose users send
#'   their gradient randomised by the l2-ball mechanism of Duchi, Jordan and Wainwright;
#'   the server takes a gradient step, keeps the `sparsity` largest entries and projects on
#'   the l2 ball. Pure epsilon-LDP. Rate `k sqrt(d) / (sqrt(n) epsilon)`.
#'
#' The bounds `tau_x`, `tau_y` are required and must be fixed without looking at the
#' data (reading them from the data would leak it). There is no intercept: centre the
#' variables with publicly known values first.
#'
#' Every user's noise is drawn from the operating system's cryptographically secure
#' generator unless `seed` is given; a seed makes the run reproducible (one stream per
#' user and round) and is meant for simulations only. Unlike the rest of tessera, a
#' `NULL` seed does not draw from R's RNG, so `set.seed()` does not repeat a run.
#'
#' @param x A numeric matrix or data frame, one row per user; or a formula
#'   `y ~ x1 + x2 + ...` for the formula interface (with `data`).
#' @param y Numeric response, one per user.
#' @param epsilon Privacy budget per user (> 0).
#' @param delta Failure probability for the Gaussian mechanism, in (0, 1); unused (and
#'   may be `NULL`) for `mechanism = "laplace"` and the interactive protocol.
#' @param method `"noninteractive"`, `"public"` or `"interactive"`.
#' @param tau_x,tau_y Truncation levels of the covariates (coordinate-wise) and of the
#'   response (required, > 0).
#' @param x_public For `method = "public"`: public covariates (rows), same columns as `x`.
#' @param sparsity For `method = "interactive"`: the number `k'` of coefficients kept
#'   (the theory takes 8 times the true sparsity).
#' @param lambda Threshold of the estimate (`NULL`: `(sd1 theta_norm + sd2)
#'   sqrt(2 log(2d) / n)`, the size of the noise, with `sd1`, `sd2` the noise standard
#'   deviations of the two messages).
#' @param threshold `"soft"`, `"hard"` or `"none"` thresholding at `lambda`.
#' @param mechanism `"gaussian"` ((epsilon, delta)-LDP) or `"laplace"` (pure epsilon)
#'   for the non-interactive protocols.
#' @param seed `NULL` (secure OS generator) or a whole number for a reproducible simulation.
#' @param control Advanced settings, see [ldp_control()].
#' @param verbose Show a progress bar in interactive sessions.
#' @param data,subset,na.action For the formula interface, as in [stats::lm()]: the
#'   data frame holding the variables, an optional subset of its rows and what to do
#'   with missing values (default: drop those users). The model has no intercept whatever
#'   the formula says; factors are expanded by [stats::model.matrix()]. With
#'   `method = "public"`, `x_public` may then be a data frame with the formula's
#'   covariates.
#' @param ... For the formula method: the arguments of the matrix method (`epsilon`,
#'   `tau_x`, ...). Unused by the matrix method, which rejects any.
#' @return An object of class `c("ldp_sparse_lm", "tessera_fit")` with `coefficients`,
#'   `coefficients_unthresholded`, `support`, `lambda`, `sigma_hat`, `s_hat`,
#'   `noise_sd`, `sensitivity`, `n_users`, `n_users_needed`, `guarantee` (see
#'   [privacy_guarantee()]), the interactive protocol's settings and the call.
#' @seealso [ldp_report()] for the client/server split, [ldp_gaussian()] and friends for
#'   the mechanisms, [truncated_sparse_lm()] for the non-private by-product.
#' @examples
#' set.seed(1)
#' n <- 1e5; d <- 3
#' x <- matrix(rnorm(n * d), n, d)
#' y <- drop(x %*% c(0.8, 0, -0.5)) + rnorm(n, sd = 0.5)
#' fit <- ldp_sparse_lm(x, y, epsilon = 16, delta = 1e-6, tau_x = 3, tau_y = 4, seed = 1)
#' fit
#' privacy_guarantee(fit)
#' # The same through a formula, and predictions on a data frame.
#' df <- data.frame(y = y, a = x[, 1], b = x[, 2], c = x[, 3])
#' fit2 <- ldp_sparse_lm(y ~ a + b + c, data = df, epsilon = 16, delta = 1e-6,
#'                       tau_x = 3, tau_y = 4, seed = 1)
#' predict(fit2, newdata = data.frame(a = 1, b = 0, c = -1))
#' @export
ldp_sparse_lm <- function(x, ...) UseMethod("ldp_sparse_lm")

#' @rdname ldp_sparse_lm
#' @export
ldp_sparse_lm.default <- function(x, y, epsilon, delta = NULL,
                                  method = c("noninteractive", "public", "interactive"), tau_x, tau_y,
                                  x_public = NULL, sparsity = NULL, lambda = NULL,
                                  threshold = c("soft", "hard", "none"), mechanism = c("gaussian", "laplace"),
                                  seed = NULL, control = ldp_control(), verbose = interactive(), ...) {
  if (...length()) {
    n_extra <- ...length()
    extra <- names(list(...))
    extra <- if (is.null(extra)) "" else paste0(": ", paste(extra[nzchar(extra)], collapse = ", "))
    cli::cli_abort(c("{.fn ldp_sparse_lm} got {n_extra} argument{?s} it does not use{extra}.",
                     "i" = "Check the spelling of the argument names."))
  }
  if (missing(y)) cli::cli_abort("{.arg y} (the response) is required; for the formula interface pass a formula as the first argument.")
  method <- match.arg(method)
  threshold <- match.arg(threshold)
  mechanism <- match.arg(mechanism)
  call <- match.call()
  x <- as_numeric_matrix(x, "x")
  y <- ldp_response(y, nrow(x))
  p <- ldp_settings(epsilon, delta, tau_x, tau_y, lambda, threshold, mechanism, control,
                    needs_delta = method != "interactive" && mechanism == "gaussian")
  check_flag(verbose, "verbose")
  seed <- ldp_seed(seed)
  if (method == "public") {
    if (is.null(x_public)) cli::cli_abort("{.arg x_public} (public covariates) is required for {.code method = \"public\"}.")
    x_public <- as_numeric_matrix(x_public, "x_public")
  } else if (!is.null(x_public)) {
    cli::cli_abort("{.arg x_public} is only used with {.code method = \"public\"}.")
  }
  if (method == "interactive") {
    if (is.null(sparsity)) cli::cli_abort(c("{.arg sparsity} (k', the number of coefficients kept) is required for the interactive protocol.",
                                             "i" = "The theory takes 8 times the true number of nonzero coefficients, at most {ncol(x)}."))
    check_whole(sparsity, "sparsity", min = 1)
    if (sparsity > ncol(x)) cli::cli_abort("{.arg sparsity} must be at most the number of covariates ({ncol(x)}), not {sparsity}.")
    p$sparsity <- sparsity
  } else if (!is.null(sparsity)) {
    cli::cli_abort("{.arg sparsity} is only used with {.code method = \"interactive\"}.")
  }
  res <- call_core(.ldp_fit_cpp(x, y, x_public, method, p, seed, verbose))
  new_ldp_fit(res, method, colnames(x), p, call)
}

#' @rdname ldp_sparse_lm
#' @export
ldp_sparse_lm.formula <- function(x, data = NULL, subset, na.action = stats::na.omit, x_public = NULL, ...) {
  if (!is.null(data) && !is.data.frame(data)) {
    cli::cli_abort("{.arg data} must be a data frame, not {.cls {class(data)}}.")
  }
  mc <- match.call(expand.dots = FALSE)
  mf <- mc[c(1L, match(c("x", "data", "subset", "na.action"), names(mc), 0L))]
  names(mf)[names(mf) == "x"] <- "formula"
  mf[[1L]] <- quote(stats::model.frame)
  mf <- eval(mf, parent.frame())
  tt <- attr(mf, "terms")
  y <- stats::model.response(mf)
  if (is.null(y)) cli::cli_abort("{.arg x} must be a formula with a response, {.code y ~ x1 + x2}.")
  if (!is.numeric(y) || !is.null(dim(y))) cli::cli_abort("The response of the formula must be a numeric vector.")
  xlevels <- stats::.getXlevels(tt, mf)
  X <- ldp_design(tt, mf)
  if (is.data.frame(x_public)) {
    tx <- stats::delete.response(tt)
    x_public <- ldp_design(tx, stats::model.frame(tx, x_public, xlev = xlevels))
  }
  fit <- ldp_sparse_lm.default(X, as.numeric(y), x_public = x_public, ...)
  fit$terms <- tt
  fit$xlevels <- xlevels
  fit$na.action <- attr(mf, "na.action")
  fit$call <- match.call()
  fit$call[[1L]] <- as.name("ldp_sparse_lm")
  fit
}

# The covariates of a model frame: model.matrix without the intercept (the LDP model has none).
ldp_design <- function(tt, mf) {
  X <- stats::model.matrix(tt, mf)
  X <- X[, colnames(X) != "(Intercept)", drop = FALSE]
  if (ncol(X) == 0L) cli::cli_abort("The formula has no covariates: give at least one term on its right-hand side.", call = NULL)
  X
}

#' The non-private by-product estimator on truncated data
#'
#' `S_lambda((Xb' Xb)^-1 Xb' yb)` on the truncated data, without any noise: the
#' classical-regime (`n > d`) estimator the paper obtains as a by-product. Not private.
#'
#' @inheritParams ldp_sparse_lm
#' @param lambda Threshold (`NULL`: `sd(yb) sqrt(2 log(2d) / n)`).
#' @return An object of class `c("ldp_sparse_lm", "tessera_fit")` with method `"byproduct"`.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(2000), 500, 4)
#' y <- drop(x %*% c(1, 0, 0, -1)) + rnorm(500)
#' coef(truncated_sparse_lm(x, y, tau_x = 3, tau_y = 5))
#' @export
truncated_sparse_lm <- function(x, y, tau_x, tau_y, lambda = NULL, threshold = c("soft", "hard", "none")) {
  threshold <- match.arg(threshold)
  call <- match.call()
  x <- as_numeric_matrix(x, "x")
  y <- ldp_response(y, nrow(x))
  p <- ldp_settings(1, NULL, tau_x, tau_y, lambda, threshold, "gaussian", ldp_control(), needs_delta = FALSE)
  res <- call_core(.ldp_byproduct_cpp(x, y, p))
  res$guarantee <- NULL
  new_ldp_fit(res, "byproduct", colnames(x), p, call)
}

ldp_response <- function(y, n, call = parent.frame()) {
  if (!is.numeric(y) || !is.null(dim(y)) && length(dim(y)) > 1 && ncol(as.matrix(y)) != 1) {
    cli::cli_abort("{.arg y} must be a numeric vector.", call = call)
  }
  y <- as.numeric(y)
  if (length(y) != n) cli::cli_abort("{.arg y} has length {length(y)} but {.arg x} has {n} rows: give one response per user.", call = call)
  y
}

ldp_seed <- function(seed, call = parent.frame()) {
  if (is.null(seed)) return(NULL)
  resolve_seed(seed, call = call)
}

# The settings list the glue reads; bounds and budget are checked here for R-level
# type errors and again by the core for their values.
ldp_settings <- function(epsilon, delta, tau_x, tau_y, lambda, threshold, mechanism, control,
                         needs_delta, call = parent.frame()) {
  if (missing(tau_x) || is.null(tau_x)) cli::cli_abort(c("{.arg tau_x} (the truncation level of the covariates) is required.",
                                                       "i" = "Fix it before seeing the data, e.g. from the covariates' known range; it is never read from the data."), call = call)
  if (missing(tau_y) || is.null(tau_y)) cli::cli_abort(c("{.arg tau_y} (the truncation level of the response) is required.",
                                                       "i" = "Fix it before seeing the data; it is never read from the data."), call = call)
  check_number(epsilon, "epsilon", min = 0, min_inclusive = FALSE, call = call)
  check_number(tau_x, "tau_x", min = 0, min_inclusive = FALSE, call = call)
  check_number(tau_y, "tau_y", min = 0, min_inclusive = FALSE, call = call)
  if (needs_delta) {
    if (is.null(delta)) cli::cli_abort(c("{.arg delta} is required for the Gaussian mechanism.",
                                         "i" = "Use a value well below 1/n, or {.code mechanism = \"laplace\"} for pure epsilon-LDP."), call = call)
    check_number(delta, "delta", min = 0, max = 1, min_inclusive = FALSE, call = call)
    if (delta >= 1) cli::cli_abort("{.arg delta} must be below 1.", call = call)
  } else if (!is.null(delta)) {
    check_number(delta, "delta", min = 0, max = 1, call = call)
  }
  if (!is.null(lambda)) check_number(lambda, "lambda", min = 0, call = call)
  if (!inherits(control, "tessera_ldp_control")) cli::cli_abort("{.arg control} must be made by {.fn ldp_control}.", call = call)
  c(list(epsilon = epsilon, delta = if (needs_delta) delta else 0, tau_x = tau_x, tau_y = tau_y,
         lambda = if (is.null(lambda)) -1 else lambda, threshold = threshold, mechanism = mechanism,
         sparsity = 0), unclass(control))
}

new_ldp_fit <- function(res, method, names, p, call) {
  names(res$coefficients) <- names
  if (length(res$coefficients_unthresholded)) names(res$coefficients_unthresholded) <- names
  if (length(res$sigma_hat)) dimnames(res$sigma_hat) <- list(names, names)
  if (length(res$s_hat)) names(res$s_hat) <- names
  structure(c(res, list(method = method, settings = p, call = call)),
            class = c("ldp_sparse_lm", "tessera_fit"))
}

ldp_method_label <- function(method) {
  switch(method, noninteractive = "non-interactive LDP", public = "LDP with public covariates",
         interactive = "sequentially interactive LDP-IHT", byproduct = "non-private by-product (truncated data)")
}

#' The privacy guarantee of an LDP fit or report
#'
#' @param object A fit from [ldp_sparse_lm()] or reports from [ldp_report()].
#' @return A one-sentence statement (character), with the components `epsilon`,
#'   `delta`, `messages_per_user` and `mechanism` as attributes.
#' @examples
#' set.seed(2)
#' x <- matrix(rnorm(3000), 1000, 3)
#' rep <- ldp_report(x, rnorm(1000), epsilon = 1, delta = 1e-6, tau_x = 2, tau_y = 2)
#' privacy_guarantee(rep)
#' @export
privacy_guarantee <- function(object) {
  g <- object$guarantee
  if (is.null(g)) cli::cli_abort("{.arg object} carries no privacy guarantee (the by-product estimator is not private).")
  structure(g$statement, epsilon = g$epsilon, delta = g$delta,
            messages_per_user = g$messages_per_user, mechanism = g$mechanism)
}

#' @export
print.ldp_sparse_lm <- function(x, digits = 3, ...) {
  cat("Sparse linear regression, ", ldp_method_label(x$method), ": ", length(x$coefficients),
      " covariates, ", format(x$n_users, big.mark = ",", scientific = FALSE), " users\n", sep = "")
  if (!is.null(x$guarantee)) cat(strwrap(x$guarantee$statement, prefix = "  "), sep = "\n")
  nz <- x$coefficients[x$coefficients != 0]
  cat("Nonzero coefficients (", length(nz), "):\n", sep = "")
  if (length(nz)) print(round(nz, digits)) else cat("  none\n")
  if (nzchar(x$message)) cat("Note:", x$message, "\n")
  invisible(x)
}

#' Summarise an LDP sparse regression fit
#'
#' @param object A fit from [ldp_sparse_lm()] or [truncated_sparse_lm()].
#' @param ... Unused.
#' @return An object of class `summary.ldp_sparse_lm`: the coefficient table (estimate,
#'   unthresholded estimate), the noise levels, the threshold, the privacy accounting.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(2000), 500, 4)
#' summary(truncated_sparse_lm(x, x[, 1] + rnorm(500), tau_x = 3, tau_y = 5))
#' @export
summary.ldp_sparse_lm <- function(object, ...) {
  tab <- data.frame(term = names(object$coefficients), estimate = unname(object$coefficients),
                    stringsAsFactors = FALSE)
  if (length(object$coefficients_unthresholded)) tab$unthresholded <- unname(object$coefficients_unthresholded)
  structure(list(method = object$method, coefficients = tab, lambda = object$lambda,
                 threshold = object$threshold, noise_sd = object$noise_sd,
                 sensitivity = object$sensitivity, n_users = object$n_users,
                 n_users_needed = object$n_users_needed, covariance_pd = object$covariance_pd,
                 eigenvalues_floored = object$eigenvalues_floored, interactive = object$interactive,
                 guarantee = object$guarantee, settings = object$settings, message = object$message),
            class = "summary.ldp_sparse_lm")
}

#' @export
print.summary.ldp_sparse_lm <- function(x, digits = 4, ...) {
  cat("Sparse linear regression,", ldp_method_label(x$method), "\n")
  cat("Users:", format(x$n_users, big.mark = ",", scientific = FALSE),
      sprintf("(tau_x = %s, tau_y = %s)", format(x$settings$tau_x), format(x$settings$tau_y)), "\n\n")
  print(format(x$coefficients, digits = digits), row.names = FALSE)
  if (x$method == "interactive") {
    i <- x$interactive
    cat(sprintf("\nRounds T = %d, group size %d, k' = %d, step %s; Duchi radius %s, output norm %s\n",
                as.integer(i$rounds), as.integer(i$group_size), as.integer(i$sparsity), format(i$step),
                format(i$duchi_radius, digits = 4), format(i$duchi_norm, digits = 4)))
  } else {
    cat(sprintf("\n%s thresholding at lambda = %s\n", x$threshold, format(x$lambda, digits = 4)))
    if (x$method != "byproduct") {
      cat(sprintf("Noise sd per entry: covariance %s, x*y %s (sensitivities %s, %s)\n",
                  format(x$noise_sd[["covariance"]], digits = 4), format(x$noise_sd[["xy"]], digits = 4),
                  format(x$sensitivity[["covariance"]], digits = 4), format(x$sensitivity[["xy"]], digits = 4)))
    }
    if (x$method == "noninteractive") {
      cat(sprintf("Users needed for a positive definite covariance (kappa = %s): about %s\n",
                  format(x$settings$kappa), format(x$n_users_needed, big.mark = ",", scientific = FALSE)))
    }
    if (!x$covariance_pd) cat("The noisy covariance was not positive definite:", x$message, "\n")
  }
  if (!is.null(x$guarantee)) cat("\n", strwrap(x$guarantee$statement), sep = "\n")
  invisible(x)
}

#' @export
coef.ldp_sparse_lm <- function(object, ...) object$coefficients

#' @importFrom stats nobs
#' @export
nobs.ldp_sparse_lm <- function(object, ...) object$n_users

#' Predictions of an LDP sparse regression
#'
#' @param object A fit from [ldp_sparse_lm()] or [truncated_sparse_lm()].
#' @param newdata The covariates of new users: a data frame with the formula's variables
#'   for a formula fit; otherwise a numeric matrix or data frame with the fit's columns
#'   (matched by name when all are present, else by position).
#' @param ... Unused.
#' @return The linear predictor `newdata %*% coef(object)` (no intercept), named by the
#'   rows of `newdata`; `NA` for rows with missing covariates.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(2000), 500, 4)
#' fit <- truncated_sparse_lm(x, x[, 1] + rnorm(500), tau_x = 3, tau_y = 5)
#' predict(fit, x[1:3, ])
#' @export
predict.ldp_sparse_lm <- function(object, newdata, ...) {
  if (missing(newdata)) cli::cli_abort("{.arg newdata} is required: the server never sees the users' covariates.")
  beta <- object$coefficients
  if (!is.null(object$terms)) {
    if (!is.data.frame(newdata)) cli::cli_abort("{.arg newdata} must be a data frame for a fit made with a formula, not {.cls {class(newdata)}}.")
    tt <- stats::delete.response(object$terms)
    missing_vars <- setdiff(all.vars(tt), names(newdata))
    if (length(missing_vars)) cli::cli_abort("{.arg newdata} lacks the variable{?s} {.field {missing_vars}} of the formula.")
    newdata <- ldp_design(tt, stats::model.frame(tt, newdata, na.action = stats::na.pass, xlev = object$xlevels))
  } else {
    newdata <- as_numeric_matrix(newdata, "newdata")
  }
  if (ncol(newdata) != length(beta)) {
    cli::cli_abort("{.arg newdata} has {ncol(newdata)} columns but the fit has {length(beta)} covariates.")
  }
  if (all(names(beta) %in% colnames(newdata))) newdata <- newdata[, names(beta), drop = FALSE]
  drop(newdata %*% beta)
}

#' Tidy an LDP sparse regression fit
#'
#' @param x A fit from [ldp_sparse_lm()] or [truncated_sparse_lm()].
#' @param ... Unused.
#' @return `tidy()`: one row per covariate (`term`, `estimate`, `unthresholded`);
#'   `glance()`: one row with the method, users, covariates, nonzeros, lambda, epsilon, delta.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(2000), 500, 4)
#' fit <- truncated_sparse_lm(x, x[, 1] + rnorm(500), tau_x = 3, tau_y = 5)
#' generics::tidy(fit)
#' generics::glance(fit)
#' @name tidy.ldp_sparse_lm
#' @export
tidy.ldp_sparse_lm <- function(x, ...) summary(x)$coefficients

#' @rdname tidy.ldp_sparse_lm
#' @export
glance.ldp_sparse_lm <- function(x, ...) {
  data.frame(method = x$method, nobs = x$n_users, covariates = length(x$coefficients),
             nonzero = sum(x$coefficients != 0), lambda = x$lambda,
             epsilon = if (is.null(x$guarantee)) Inf else x$guarantee$epsilon,
             delta = if (is.null(x$guarantee)) NA_real_ else x$guarantee$delta)
}

#' @export
plot.ldp_sparse_lm <- function(x, ...) {
  b <- x$coefficients
  u <- if (length(x$coefficients_unthresholded)) x$coefficients_unthresholded else b
  graphics::plot(seq_along(b), u, pch = 1, col = "grey50", xlab = "covariate", ylab = "coefficient",
                 main = ldp_method_label(x$method), xaxt = "n", ...)
  graphics::axis(1, at = seq_along(b), labels = names(b))
  graphics::points(seq_along(b), b, pch = 19, col = ifelse(b != 0, "steelblue", "grey70"))
  graphics::abline(h = c(-1, 1) * x$lambda, lty = 3)
  graphics::abline(h = 0)
  invisible(x)
}

# ---------------------------------------------------------------- mechanisms

#' Local differential privacy mechanisms
#'
#' Privatise vectors, one per row (a vector is one user). Each row gets its own noise
#' stream; with `seed = NULL` (default) noise comes from the operating system's secure
#' generator.
#'
#' * `ldp_gaussian()`: Gaussian noise for l2 `sensitivity` (the largest l2 distance
#'   between two users' vectors), calibrated classically (`epsilon <= 1` only) or by
#'   Balle and Wang's analytic rule (any epsilon); (epsilon, delta)-DP per row.
#' * `ldp_laplace()`: Laplace noise for l1 `sensitivity`; pure epsilon-DP per row.
#' * `ldp_duchi()`: the l2-ball mechanism of Duchi, Jordan and Wainwright for rows of
#'   norm at most `radius`: unbiased, output norm `B`, pure epsilon-DP.
#'
#' With `secure = TRUE` (default) the Gaussian and Laplace mechanisms round the input to
#' a power-of-two grid and add discrete Gaussian / discrete Laplace noise on the grid
#' (Canonne, Kamath and Steinke 2020), which closes the floating-point attacks on
#' textbook noise; the sensitivity is raised by at most 0.1% to cover the rounding.
#'
#' @param x A numeric vector (one user) or matrix (one user per row).
#' @param sensitivity The l2 (Gaussian) or l1 (Laplace) sensitivity, fixed in advance.
#' @param radius The l2 bound on each row (Duchi).
#' @param epsilon,delta Privacy parameters per row.
#' @param calibration `"automatic"`, `"classic"` or `"analytic"`.
#' @param secure Discrete grid noise (`TRUE`) or textbook continuous noise (`FALSE`).
#' @param seed `NULL` (secure OS generator) or a whole number for reproducible noise.
#' @return The privatised `x` (same shape), with attribute `mechanism`: the noise
#'   standard deviation or scale, the grid step, the calibration (or Duchi's `B`).
#' @examples
#' ldp_gaussian(c(0.2, -0.4), sensitivity = 1, epsilon = 2, delta = 1e-6, seed = 1)
#' ldp_laplace(matrix(0, 2, 3), sensitivity = 1, epsilon = 1, seed = 1)
#' z <- ldp_duchi(matrix(c(0.3, 0.4), 1000, 2, byrow = TRUE), radius = 1, epsilon = 1, seed = 1)
#' colMeans(z)
#' @name ldp_mechanisms
NULL

#' @rdname ldp_mechanisms
#' @export
ldp_gaussian <- function(x, sensitivity, epsilon, delta, calibration = c("automatic", "classic", "analytic"),
                         secure = TRUE, seed = NULL) {
  calibration <- match.arg(calibration)
  run_mechanism(x, "gaussian", sensitivity, epsilon, delta, calibration, secure, seed)
}

#' @rdname ldp_mechanisms
#' @export
ldp_laplace <- function(x, sensitivity, epsilon, secure = TRUE, seed = NULL) {
  run_mechanism(x, "laplace", sensitivity, epsilon, 0.5, "automatic", secure, seed)
}

#' @rdname ldp_mechanisms
#' @export
ldp_duchi <- function(x, radius, epsilon, seed = NULL) {
  run_mechanism(x, "duchi", radius, epsilon, 0.5, "automatic", FALSE, seed)
}

run_mechanism <- function(x, kind, bound, epsilon, delta, calibration, secure, seed,
                          call = parent.frame()) {
  is_vec <- is.null(dim(x))
  if (!is.numeric(x) || length(x) == 0) cli::cli_abort("{.arg x} must be a non-empty numeric vector or matrix.", call = call)
  m <- if (is_vec) matrix(as.numeric(x), nrow = 1) else as_numeric_matrix(x, "x", call = call)
  arg <- if (kind == "duchi") "radius" else "sensitivity"
  check_number(bound, arg, min = 0, min_inclusive = FALSE, call = call)
  check_number(epsilon, "epsilon", min = 0, min_inclusive = FALSE, call = call)
  if (kind == "gaussian") {
    check_number(delta, "delta", min = 0, max = 1, min_inclusive = FALSE, call = call)
    if (delta >= 1) cli::cli_abort("{.arg delta} must be below 1.", call = call)
  }
  check_flag(secure, "secure", call = call)
  seed <- ldp_seed(seed, call = call)
  res <- call_core(.ldp_mechanism_cpp(m, kind, bound, epsilon, delta, calibration, secure, seed), call = call)
  out <- if (is_vec) drop(res$out) else { dimnames(res$out) <- dimnames(x); res$out }
  if (is_vec && !is.null(names(x))) names(out) <- names(x)
  attr(out, "mechanism") <- c(list(kind = kind), res$info)
  out
}

#' Noise standard deviation of the Gaussian mechanism
#'
#' `"classic"`: `sensitivity * sqrt(2 log(1.25 / delta)) / epsilon`, valid only for
#' `epsilon <= 1`. `"analytic"`: the smallest sigma satisfying Balle and Wang's exact
#' condition `Phi(D/(2s) - e s/D) - exp(e) Phi(-D/(2s) - e s/D) <= delta`.
#'
#' @param sensitivity l2 sensitivity (> 0).
#' @param epsilon,delta Privacy parameters.
#' @param calibration `"analytic"` or `"classic"`.
#' @return The standard deviation.
#' @examples
#' gaussian_sigma(1, 0.5, 1e-5, "classic")
#' gaussian_sigma(1, 0.5, 1e-5, "analytic")
#' gaussian_sigma(1, 8, 1e-5)
#' @export
gaussian_sigma <- function(sensitivity, epsilon, delta, calibration = c("analytic", "classic")) {
  calibration <- match.arg(calibration)
  check_number(sensitivity, "sensitivity", min = 0, min_inclusive = FALSE)
  check_number(epsilon, "epsilon", min = 0, min_inclusive = FALSE)
  check_number(delta, "delta", min = 0, max = 1, min_inclusive = FALSE)
  call_core(.ldp_sigma_cpp(sensitivity, epsilon, delta, calibration))
}

# ---------------------------------------------------------------- client / server

#' Client and server of the non-interactive LDP protocol
#'
#' `ldp_report()` is what users send: for each row of `x` (one user), the privatised
#' upper triangle of `xb xb'` and privatised `xb yb` (only the latter when
#' `public = TRUE`). It can run on each user's device separately (`first_user` keeps the
#' seeded streams distinct). `ldp_aggregate()` adds reports into mergeable sums: any
#' order and any chunking give the same sums (exactly, with the default grid noise).
#' `ldp_estimate()` is the server's estimate from the sums.
#'
#' @inheritParams ldp_sparse_lm
#' @param x,y One user's covariate vector and response, or a matrix of users (rows) and
#'   their responses.
#' @param public `TRUE` for the public-covariates protocol (users send only `xb yb`).
#' @param first_user Index of the first row's user, for seeded streams.
#' @param ... For `ldp_aggregate()`: reports from `ldp_report()` or earlier aggregates.
#' @param sums The result of `ldp_aggregate()`.
#' @return `ldp_report()`: an object of class `ldp_report` with matrices `cov_upper` and
#'   `xy` (one row per user), the settings and the guarantee. `ldp_aggregate()`: an
#'   object of class `ldp_sums`. `ldp_estimate()`: a fit like [ldp_sparse_lm()]'s.
#' @examples
#' set.seed(3)
#' n <- 1e5; d <- 3
#' x <- matrix(rnorm(n * d), n, d)
#' y <- drop(x %*% c(1, 0, -1)) + rnorm(n, sd = 0.5)
#' # Two devices' batches (public-covariates protocol), aggregated in either order.
#' r1 <- ldp_report(x[1:50000, ], y[1:50000], epsilon = 4, delta = 1e-6, tau_x = 3, tau_y = 4,
#'                  public = TRUE, seed = 9)
#' r2 <- ldp_report(x[50001:n, ], y[50001:n], epsilon = 4, delta = 1e-6, tau_x = 3, tau_y = 4,
#'                  public = TRUE, seed = 9, first_user = 50000)
#' sums <- ldp_aggregate(r2, r1)
#' coef(ldp_estimate(sums, x_public = matrix(rnorm(3000), 1000, 3)))
#' @export
ldp_report <- function(x, y, epsilon, delta = NULL, tau_x, tau_y, public = FALSE,
                       mechanism = c("gaussian", "laplace"), seed = NULL, first_user = 0,
                       control = ldp_control()) {
  mechanism <- match.arg(mechanism)
  if (is.null(dim(x))) x <- matrix(x, nrow = 1)
  x <- as_numeric_matrix(x, "x")
  y <- ldp_response(y, nrow(x))
  check_flag(public, "public")
  check_whole(first_user, "first_user", min = 0)
  p <- ldp_settings(epsilon, delta, tau_x, tau_y, NULL, "soft", mechanism, control,
                    needs_delta = mechanism == "gaussian")
  seed <- ldp_seed(seed)
  res <- call_core(.ldp_report_cpp(x, y, p, public, seed, first_user))
  structure(list(cov_upper = res$cov_upper, xy = res$xy, noise_sd = res$noise_sd,
                 guarantee = res$guarantee, settings = p, public = public, d = ncol(x),
                 names = colnames(x)), class = "ldp_report")
}

#' @export
print.ldp_report <- function(x, ...) {
  cat("LDP reports of ", nrow(x$xy), " user(s), d = ", x$d, if (x$public) " (public-covariates protocol)", "\n", sep = "")
  cat(strwrap(x$guarantee$statement, prefix = "  "), sep = "\n")
  invisible(x)
}

#' @rdname ldp_report
#' @export
ldp_aggregate <- function(...) {
  parts <- list(...)
  if (!length(parts)) cli::cli_abort("Give at least one report or aggregate to {.fn ldp_aggregate}.")
  ok <- vapply(parts, function(p) inherits(p, "ldp_report") || inherits(p, "ldp_sums"), logical(1))
  if (!all(ok)) cli::cli_abort("Every argument must come from {.fn ldp_report} or {.fn ldp_aggregate}.")
  as_sums <- function(p) {
    if (inherits(p, "ldp_sums")) return(p)
    structure(list(cov_sum = colSums(p$cov_upper), xy_sum = colSums(p$xy), n = nrow(p$xy),
                   settings = p$settings, public = p$public, d = p$d, names = p$names,
                   seeded = isTRUE(p$guarantee$seeded)), class = "ldp_sums")
  }
  parts <- lapply(parts, as_sums)
  first <- parts[[1]]
  key <- function(p) list(p$d, p$public, p$settings[c("epsilon", "delta", "tau_x", "tau_y", "mechanism",
                                                        "calibration", "covariance_share", "x_radius", "secure")])
  for (p in parts[-1]) {
    if (!identical(key(p), key(first))) {
      cli::cli_abort("Reports made with different settings (d, protocol, budget, bounds or mechanism) cannot be aggregated.")
    }
    first$cov_sum <- first$cov_sum + p$cov_sum
    first$xy_sum <- first$xy_sum + p$xy_sum
    first$n <- first$n + p$n
    first$seeded <- first$seeded || p$seeded
  }
  first
}

#' @rdname ldp_report
#' @export
ldp_estimate <- function(sums, x_public = NULL, lambda = NULL, threshold = c("soft", "hard", "none"),
                         control = NULL) {
  if (!inherits(sums, "ldp_sums")) cli::cli_abort("{.arg sums} must come from {.fn ldp_aggregate}.")
  threshold <- match.arg(threshold)
  p <- sums$settings
  if (!is.null(control)) {
    if (!inherits(control, "tessera_ldp_control")) cli::cli_abort("{.arg control} must be made by {.fn ldp_control}.")
    for (k in c("not_pd", "eigen_floor", "theta_norm", "kappa")) p[[k]] <- control[[k]]
  }
  if (!is.null(lambda)) check_number(lambda, "lambda", min = 0)
  p$lambda <- if (is.null(lambda)) -1 else lambda
  p$threshold <- threshold
  if (sums$public) {
    if (is.null(x_public)) cli::cli_abort("{.arg x_public} is required: these reports use the public-covariates protocol.")
    x_public <- as_numeric_matrix(x_public, "x_public")
  } else if (!is.null(x_public)) {
    cli::cli_abort("{.arg x_public} is only used with reports made with {.code public = TRUE}.")
  }
  res <- call_core(.ldp_estimate_cpp(sums$cov_sum, sums$xy_sum, sums$n, p, x_public, sums$seeded))
  new_ldp_fit(res, if (sums$public) "public" else "noninteractive", sums$names, p, match.call())
}
