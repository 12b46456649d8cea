# Monte Carlo: many expectations from one sample (aISCV) and Sobol' indices.

# ---- input laws ----------------------------------------------------------------

#' Marginal laws for Monte Carlo inputs
#'
#' Building blocks of [input_law()]. Parameterisations are those of R's `d/p/q`
#' functions; quantiles and CDFs come from Boost.Math, log densities are computed in
#' closed form (no underflow in the tails).
#'
#' @param mean,sd Normal mean and standard deviation; for `mc_lognormal()`, `mean` and
#'   `cv` (coefficient of variation) of the law itself, an alternative to
#'   `meanlog`/`sdlog`.
#' @param meanlog,sdlog Lognormal parameters on the log scale.
#' @param cv Coefficient of variation (lognormal given by `mean` and `cv`).
#' @param min,max Uniform bounds.
#' @param shape,scale Gamma shape and scale.
#' @param shape1,shape2 Beta shapes.
#' @return A one-row data frame of class `tessera_marginal`.
#' @examples
#' mc_lognormal(mean = 556.8, cv = 0.08)
#' @name mc_marginals
NULL

new_marginal <- function(family, a, b, call = parent.frame()) {
  check_number(a, "first parameter", call = call)
  check_number(b, "second parameter", call = call)
  structure(data.frame(family = family, a = as.numeric(a), b = as.numeric(b), stringsAsFactors = FALSE),
            class = c("tessera_marginal", "data.frame"))
}

#' @rdname mc_marginals
#' @export
mc_normal <- function(mean = 0, sd = 1) {
  check_number(sd, "sd", min = 0, min_inclusive = FALSE)
  new_marginal("normal", mean, sd)
}

#' @rdname mc_marginals
#' @export
mc_lognormal <- function(meanlog = 0, sdlog = 1, mean = NULL, cv = NULL) {
  if (!is.null(mean) || !is.null(cv)) {
    check_number(mean, "mean", min = 0, min_inclusive = FALSE)
    check_number(cv, "cv", min = 0, min_inclusive = FALSE)
    sdlog <- sqrt(log1p(cv^2))
    meanlog <- log(mean) - sdlog^2 / 2
  }
  check_number(sdlog, "sdlog", min = 0, min_inclusive = FALSE)
  new_marginal("lognormal", meanlog, sdlog)
}

#' @rdname mc_marginals
#' @export
mc_uniform <- function(min = 0, max = 1) {
  check_number(min, "min")
  check_number(max, "max")
  if (max <= min) cli::cli_abort("{.arg max} must be larger than {.arg min}.")
  new_marginal("uniform", min, max)
}

#' @rdname mc_marginals
#' @export
mc_gamma <- function(shape, scale = 1) {
  check_number(shape, "shape", min = 0, min_inclusive = FALSE)
  check_number(scale, "scale", min = 0, min_inclusive = FALSE)
  new_marginal("gamma", shape, scale)
}

#' @rdname mc_marginals
#' @export
mc_beta <- function(shape1, shape2) {
  check_number(shape1, "shape1", min = 0, min_inclusive = FALSE)
  check_number(shape2, "shape2", min = 0, min_inclusive = FALSE)
  new_marginal("beta", shape1, shape2)
}

#' An input law for Monte Carlo
#'
#' Either built-in independent marginals (made by [mc_normal()] and friends), optionally
#' tied by a Gaussian copula, or any law given by a sampler and a log density.
#'
#' @param ... Marginals, one per input (names become input names).
#' @param correlation Optional correlation matrix of the Gaussian copula (latent normal
#'   scale); `NULL` for independent inputs.
#' @param sample,log_density A user law instead of marginals: `sample(n)` returns an
#'   `n x d` matrix using R's random number generator (seeded by tessera for each call),
#'   `log_density(x)` the log density at each row of `x` (`-Inf` outside the support).
#' @param dim Dimension `d` of a user law.
#' @return An object of class `tessera_law`.
#' @examples
#' beam_inputs <- input_law(FX = mc_lognormal(mean = 556.8, cv = 0.08),
#'                          w = mc_normal(0.062, 0.0062))
#' beam_inputs
#' input_law(sample = function(n) matrix(rexp(n)), dim = 1,
#'           log_density = function(x) dexp(x[, 1], log = TRUE))
#' @export
input_law <- function(..., correlation = NULL, sample = NULL, log_density = NULL, dim = NULL) {
  margs <- list(...)
  if (!is.null(sample) || !is.null(log_density)) {
    if (length(margs)) cli::cli_abort("Give either marginals or {.arg sample}/{.arg log_density}, not both.")
    if (!is.function(sample) || !is.function(log_density)) {
      cli::cli_abort("{.arg sample} and {.arg log_density} must both be functions.")
    }
    check_whole(dim, "dim", min = 1)
    user_sample <- sample
    seeded <- function(n, seed) {
      old <- if (exists(".Random.seed", envir = globalenv())) get(".Random.seed", envir = globalenv()) else NULL
      on.exit(if (!is.null(old)) assign(".Random.seed", old, envir = globalenv()))
      set.seed(seed)
      x <- user_sample(n)
      if (is.null(dim(x))) x <- matrix(x, ncol = 1)
      storage.mode(x) <- "double"
      x
    }
    density <- function(x) as.numeric(log_density(x))
    return(structure(list(type = "function", dim = dim, sample = seeded, log_density = density,
                          names = paste0("x", seq_len(dim))), class = "tessera_law"))
  }
  if (!length(margs)) cli::cli_abort("{.fn input_law} needs at least one marginal, e.g. {.code mc_normal()}.")
  ok <- vapply(margs, inherits, logical(1), "tessera_marginal")
  if (!all(ok)) {
    cli::cli_abort(c("Every input of {.fn input_law} must be made by {.fn mc_normal}, {.fn mc_lognormal}, ...",
                     "x" = paste("Not a marginal: input", paste(which(!ok), collapse = ", "))))
  }
  tab <- do.call(rbind, lapply(margs, as.data.frame))
  nm <- names(margs)
  if (is.null(nm)) nm <- rep("", length(margs))
  nm[nm == ""] <- paste0("x", seq_along(margs))[nm == ""]
  d <- length(margs)
  if (!is.null(correlation)) {
    if (!is.matrix(correlation) || !is.numeric(correlation) || any(dim(correlation) != d)) {
      cli::cli_abort("{.arg correlation} must be a numeric {d} x {d} matrix (one row per marginal).")
    }
    storage.mode(correlation) <- "double"
  }
  structure(list(type = "marginals", family = tab$family, a = tab$a, b = tab$b, correlation = correlation,
                 dim = d, names = nm), class = "tessera_law")
}

#' @export
print.tessera_law <- function(x, ...) {
  if (x$type == "function") {
    cat("User-defined input law in dimension", x$dim, "\n")
  } else {
    cat("Input law:", x$dim, "input(s)", if (is.null(x$correlation)) "(independent)" else "(Gaussian copula)", "\n")
    print(data.frame(input = x$names, family = x$family, par1 = x$a, par2 = x$b), row.names = FALSE)
  }
  invisible(x)
}

# ---- aISCV -----------------------------------------------------------------------

as_law_list <- function(inputs, call) {
  if (inherits(inputs, "tessera_law")) return(list(inputs))
  if (is.list(inputs) && length(inputs) && all(vapply(inputs, inherits, logical(1), "tessera_law"))) {
    return(inputs)
  }
  cli::cli_abort(c("{.arg inputs} must be an {.fn input_law} or a list of them (one per expectation).",
                   "x" = "You supplied {.cls {class(inputs)}}."), call = call)
}

mc_options <- function(budget, weights, family, components, diagonal, batch_frac, adapt_frac, level,
                       jitter, defensive, shrinkage, call) {
  check_whole(budget, "budget", min = 1, call = call)
  check_number(batch_frac, "batch_frac", min = 0, max = 1, min_inclusive = FALSE, call = call)
  check_number(adapt_frac, "adapt_frac", min = 0, max = 1, min_inclusive = FALSE, call = call)
  check_number(level, "level", min = 0, max = 1, min_inclusive = FALSE, call = call)
  check_number(jitter, "jitter", min = 0, call = call)
  check_whole(components, "components", min = 1, call = call)
  check_flag(diagonal, "diagonal", call = call)
  check_number(defensive, "defensive", min = 0, max = 1, max_inclusive = FALSE, call = call)
  check_flag(shrinkage, "shrinkage", call = call)
  if (!is.null(weights)) {
    if (!is.numeric(weights) || anyNA(weights)) {
      cli::cli_abort("{.arg weights} must be a numeric vector (one positive weight per expectation) or NULL.",
                     call = call)
    }
    weights <- as.numeric(weights)
  }
  list(budget = budget, weights = weights, family = family, components = components, diagonal = diagonal,
       batch_frac = batch_frac, adapt_frac = adapt_frac, level = level, jitter = jitter, defensive = defensive,
       shrinkage = shrinkage)
}

#' Many expectations from one sample: adaptive importance sampling with control variates
#'
#' Estimates `I_j = E_{f_j}[phi_j(X)]`, `j = 1..J`, from one sample drawn from an adapted
#' mixture of Gaussian proposals, with one control variate per expectation (aISCV;
#' Demange-Chryst, Bachoc and Morio, Statistics and Computing 2023). Each proposal is fitted
#' by weighted cross-entropy on all points so far (deterministic-mixture weights), the
#' mixture weights `alpha` minimise the estimated weighted sum of variances
#' `sum_j weights_j Var(I_j)` (convex, solved exactly on the simplex), the control-variate
#' coefficients by regression, and adaptation stops by the paper's budget rule. The
#' reported estimates come from a fresh final sample, so they are unbiased and their
#' covariance is estimated from iid summands.
#'
#' `phi` may take either sign: the estimator stays unbiased; the proposals target
#' `|phi_j| f_j`, so the zero-variance property of the paper holds only for `phi_j` of
#' constant sign (split a signed `phi_j` into positive and negative parts for it).
#'
#' @param phi A function of an `n x d` matrix of points returning an `n x J` matrix (or a
#'   vector when `J = 1`, or a single column shared by `J` input laws). `NULL` starts the
#'   deferred mode: the result is a request whose `X` holds the points to evaluate; answer
#'   with [tell()] until the fit is returned.
#' @param inputs An [input_law()], or a list of `J` laws (expectation `j` under law `j`).
#' @param budget Total number of points (evaluations of `phi`).
#' @param weights Positive weights `omega_j` of the criterion; `NULL` (default) means
#'   relative variance, `1 / I_j^2` with the first-batch estimate.
#' @param family `"gaussian"` (one Gaussian per expectation) or `"mixture"` (a Gaussian
#'   mixture with `components` components, fitted by weighted EM).
#' @param components Components per proposal when `family = "mixture"`.
#' @param diagonal Use diagonal covariances.
#' @param batch_frac,adapt_frac Batch size and adaptation cap as fractions of `budget`
#'   (the paper's 0.1 and 0.5).
#' @param level Confidence level of the intervals.
#' @param jitter Covariance jitter relative to the variance of each coordinate; grown
#'   tenfold while a covariance stays singular, and reported in `history`.
#' @param defensive Weight `delta` of the input law(s) in the sampling mixture,
#'   `delta h + (1 - delta) sum_j alpha_j g_j` with `h` the equal mixture of the input laws
#'   (Hesterberg's defensive importance sampling): the weights `f_j / g` stay below
#'   `L / delta`, so no estimate can be much worse than plain Monte Carlo, at a cost of at
#'   most a factor `1 / (1 - delta)` in variance. `0` gives the paper's algorithm.
#' @param shrinkage Shrink each cross-entropy covariance toward its diagonal with the
#'   data-driven Schaefer-Strimmer intensity (reported per batch in `history`). Off by
#'   default in `aiscv()`: with strongly correlated targets (the paper's 100 beam laws with
#'   a Gaussian copula) it can narrow a proposal along its major axis and made the errors
#'   6x larger. On by default in [sobol_aiscv()], whose targets live in standard-normal
#'   space with independent inputs: there, together with `defensive`, it keeps small
#'   budgets stable (a covariance fitted from a hundred effective points in 12 dimensions
#'   is otherwise narrower than the target in some direction, which makes the importance
#'   weights heavy-tailed).
#' @param n_outputs `J` in the deferred mode when it should be checked up front (else
#'   taken from the first values told).
#' @param seed Seed; `NULL` draws one from R's generator.
#' @param verbose Show a progress bar in interactive sessions.
#' @return An object of class `c("aiscv", "tessera_fit")`: `estimate`, `se`, `lower`,
#'   `upper`, `covariance` (J x J), `ess`, final `alpha`, `beta`, `weights`, `defensive`,
#'   `cv_degenerate` (control variate not identified, e.g. `J = 1`), `n_adapt`,
#'   `n_final`, `stop_reason`, `history` (one row per batch), `history_estimate`,
#'   `history_alpha`, `components` (final proposals). In the deferred mode, an object of
#'   class `aiscv_request`.
#' @seealso [sobol_aiscv()], [input_law()], [tell()].
#' @examples
#' # E[X^2], E[X^4], E[X^6] under N(0, 1): 1, 3, 15
#' fit <- aiscv(function(x) cbind(x^2, x^4, x^6), input_law(mc_normal()), budget = 2000, seed = 1)
#' fit
#' confint(fit)
#' # deferred mode
#' req <- aiscv(NULL, input_law(mc_normal()), budget = 1000, seed = 1)
#' while (inherits(req, "aiscv_request")) req <- tell(req, req$X^2)
#' coef(req)
#' @export
aiscv <- function(phi, inputs, budget = 2e4, weights = NULL, family = c("gaussian", "mixture"),
                  components = 2, diagonal = FALSE, batch_frac = 0.1, adapt_frac = 0.5, level = 0.95,
                  jitter = 1e-6, defensive = 0.1, shrinkage = FALSE, n_outputs = NULL, seed = NULL,
                  verbose = interactive()) {
  call <- match.call()
  env <- environment()
  family <- match.arg(family)
  laws <- as_law_list(inputs, env)
  opts <- mc_options(budget, weights, family, components, diagonal, batch_frac, adapt_frac, level, jitter,
                     defensive, shrinkage, env)
  seed <- resolve_seed(seed)
  check_flag(verbose, "verbose")
  if (!is.null(phi) && !is.function(phi)) cli::cli_abort("{.arg phi} must be a function or NULL.")
  J <- if (is.null(n_outputs)) 0 else { check_whole(n_outputs, "n_outputs", min = 1); n_outputs }
  ptr <- call_core(.mc_session_new(lapply(laws, unclass), J, opts, seed), call = env)
  req <- structure(list(session = ptr, call = call, names = laws[[1]]$names, laws = length(laws),
                        budget = budget), class = "aiscv_request")
  req <- refresh_request(req, "aiscv")
  if (is.null(phi)) return(req)
  drive_requests(req, phi, tell_aiscv, "aISCV", budget, verbose, env)
}

# Points of the session's current request, with the input names.
refresh_request <- function(req, kind) {
  st <- .mc_state(req$session, kind)
  req$X <- st$X
  colnames(req$X) <- req$names
  req$phase <- st$phase
  req
}

# Evaluates f on each request's points and tells the values until a fit comes back.
drive_requests <- function(req, f, tell_fun, label, budget, verbose, env) {
  cls <- class(req)
  pb <- if (verbose) cli::cli_progress_bar(label, total = budget) else NULL
  used <- 0
  while (inherits(req, cls)) {
    values <- f(req$X)
    used <- used + nrow(req$X)
    if (!is.null(pb)) cli::cli_progress_update(id = pb, set = used)
    req <- tell_fun(req, values, env)
  }
  req
}

tell_aiscv <- function(x, values, env) {
  if (is.data.frame(values)) values <- as.matrix(values)
  if (is.null(dim(values))) values <- matrix(values, ncol = 1)
  if (!is.numeric(values) && !is.logical(values)) {
    cli::cli_abort("The values of {.arg phi} must be numeric, not {.cls {class(values)}}.", call = env)
  }
  storage.mode(values) <- "double"
  call_core(.mc_tell(x$session, "aiscv", values), call = env)
  st <- .mc_state(x$session, "aiscv")
  if (st$phase != "done") return(refresh_request(x, "aiscv"))
  res <- call_core(.mc_session_result(x$session), call = env)
  new_aiscv_fit(res, x)
}

new_aiscv_fit <- function(res, req) {
  J <- length(res$estimate)
  nm <- paste0("I", seq_len(J))
  names(res$estimate) <- names(res$se) <- names(res$lower) <- names(res$upper) <- nm
  names(res$ess) <- names(res$alpha) <- names(res$beta) <- names(res$weights) <- nm
  names(res$cv_degenerate) <- nm
  dimnames(res$covariance) <- list(nm, nm)
  colnames(res$history_estimate) <- colnames(res$history_s2) <- colnames(res$history_alpha) <- nm
  colnames(res$history_beta) <- nm
  res$call <- req$call
  res$budget <- req$budget
  res$inputs <- req$names
  structure(res, class = c("aiscv", "tessera_fit"))
}

#' Answer a deferred Monte Carlo request
#'
#' In the deferred mode of [aiscv()] and [sobol_aiscv()] (`phi = NULL` / `model = NULL`),
#' evaluate the function at the request's points `x$X` and pass the values here. The
#' result is the next request, or the fit once the budget is spent.
#'
#' `tell()` is an S3 generic with the signature of the `sensitivity` package's
#' `tell(x, y = NULL, ...)`, and tessera's methods are registered on both generics
#' (on `sensitivity::tell` when that package is loaded), so `tell(x, y)` works on a
#' tessera request whichever of the two packages was attached last, and
#' `sensitivity`'s own `tell()` methods keep working through tessera's generic too.
#' Unlike `sensitivity`, whose designs need one `tell()`, an aISCV design is adaptive:
#' each `tell()` returns the next batch to evaluate until the fit comes back.
#'
#' @param x A request of class `aiscv_request` or `sobol_aiscv_request` (or, through the
#'   generic, any object with a `tell()` method, such as a `sensitivity` design).
#' @param y The values at `x$X`: an `n x J` matrix for `aiscv`, a vector of length
#'   `nrow(x$X)` for `sobol_aiscv`.
#' @param ... Unused by tessera's methods; passed on by the generic.
#' @return The next request, or the fitted object.
#' @examples
#' req <- sobol_aiscv(NULL, input_law(a = mc_uniform(), b = mc_uniform()), budget = 1600, seed = 1)
#' while (inherits(req, "sobol_aiscv_request")) req <- tell(req, req$X[, 1] + 2 * req$X[, 2])
#' req
#' @export
tell <- function(x, y = NULL, ...) UseMethod("tell")

# y is required by tessera's methods (the generic's default NULL follows sensitivity).
check_told <- function(y, call) {
  if (is.null(y)) {
    cli::cli_abort(c("{.arg y} is missing: pass the values of the function at the rows of {.code x$X}.",
                     "i" = "For example {.code req <- tell(req, f(req$X))}."), call = call)
  }
}

# Objects of other classes (a sensitivity design when tessera's generic masks
# sensitivity's) go to sensitivity's generic, which holds their methods. sensitivity's
# methods also update the design in the caller's frame under its name (tell(x, y) with
# no assignment); that is done here too, since they would otherwise update this frame.
#' @rdname tell
#' @export
tell.default <- function(x, y = NULL, ...) {
  if (requireNamespace("sensitivity", quietly = TRUE)) {
    ns <- asNamespace("sensitivity")
    has <- vapply(class(x), function(cl) !is.null(utils::getS3method("tell", cl, optional = TRUE, envir = ns)),
                  logical(1))
    if (any(has)) {
      id <- deparse(substitute(x))
      out <- sensitivity::tell(x, y, ...)
      if (length(id) == 1L && make.names(id) == id) assign(id, out, envir = parent.frame())
      return(invisible(out))
    }
  }
  cli::cli_abort(c("{.arg x} must be a request made by {.code aiscv(NULL, ...)} or {.code sobol_aiscv(NULL, ...)}
                    (or a {.pkg sensitivity} design), not {.cls {class(x)}}."))
}

#' @rdname tell
#' @export
#' @rawNamespace S3method(sensitivity::tell, aiscv_request)
tell.aiscv_request <- function(x, y = NULL, ...) {
  check_told(y, environment())
  tell_aiscv(x, y, environment())
}

#' @export
print.aiscv_request <- function(x, ...) {
  cat("aISCV request (phase '", x$phase, "'): evaluate phi at the ", nrow(x$X),
      " rows of $X and pass the values to tell()\n", sep = "")
  invisible(x)
}

#' @export
print.aiscv <- function(x, digits = 4, ...) {
  cat("aISCV: ", length(x$estimate), " expectation(s) from ", x$n_adapt + x$n_final, " points (",
      x$n_adapt, " adaptation, ", x$n_final, " final)\n", sep = "")
  tab <- data.frame(estimate = x$estimate, se = x$se, lower = x$lower, upper = x$upper, ess = x$ess,
                    alpha = x$alpha)
  print(signif(tab, digits))
  cat("Stopped: ", x$stop_reason, "\n", sep = "")
  invisible(x)
}

#' Summarise an aISCV fit
#'
#' @param object An [aiscv()] fit.
#' @param ... Unused.
#' @return An object of class `summary.aiscv`: the estimate table, the adaptation
#'   history and the budget split.
#' @examples
#' fit <- aiscv(function(x) cbind(x^2, x^4), input_law(mc_normal()), budget = 2000, seed = 1)
#' summary(fit)
#' @export
summary.aiscv <- function(object, ...) {
  z <- stats::qnorm(0.5 + object$level / 2)
  tab <- data.frame(estimate = object$estimate, se = object$se, rel_se = object$se / abs(object$estimate),
                    lower = object$lower, upper = object$upper, ess = object$ess, beta = object$beta,
                    cv_degenerate = object$cv_degenerate)
  structure(list(table = tab, history = object$history, n_adapt = object$n_adapt, n_final = object$n_final,
                 stop_reason = object$stop_reason, level = object$level, z = z), class = "summary.aiscv")
}

#' @export
print.summary.aiscv <- function(x, digits = 4, ...) {
  cat("aISCV estimates (", format(100 * x$level), "% normal intervals)\n", sep = "")
  print(signif(x$table[, 1:7], digits))
  if (any(x$table$cv_degenerate)) {
    cat("Control variate not identified (g_j / g_alpha constant) for:",
        paste(rownames(x$table)[x$table$cv_degenerate], collapse = ", "), "\n")
  }
  cat("\nAdaptation history:\n")
  print(x$history, row.names = FALSE, digits = digits)
  cat("Budget: ", x$n_adapt, " adaptation + ", x$n_final, " final points; stopped: ", x$stop_reason, "\n",
      sep = "")
  invisible(x)
}

#' @export
coef.aiscv <- function(object, ...) object$estimate

#' @export
vcov.aiscv <- function(object, ...) object$covariance

#' @export
confint.aiscv <- function(object, parm, level = 0.95, ...) {
  z <- stats::qnorm(0.5 + level / 2)
  out <- cbind(object$estimate - z * object$se, object$estimate + z * object$se)
  colnames(out) <- paste(format(100 * c((1 - level) / 2, 1 - (1 - level) / 2)), "%")
  if (!missing(parm)) out <- out[parm, , drop = FALSE]
  out
}

#' @export
nobs.aiscv <- function(object, ...) object$n_adapt + object$n_final

#' Plot an aISCV fit
#'
#' Left: estimates with intervals, relative to the estimate (so expectations of very
#' different sizes share an axis). Right: the adaptation trace of the per-sample
#' relative variance of each expectation, batch by batch.
#'
#' @param x An [aiscv()] fit.
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @examples
#' fit <- aiscv(function(x) cbind(x^2, x^4), input_law(mc_normal()), budget = 2000, seed = 1)
#' plot(fit)
#' @export
plot.aiscv <- function(x, ...) {
  old <- graphics::par(mfrow = c(1, 2))
  on.exit(graphics::par(old))
  J <- length(x$estimate)
  rel_lo <- x$lower / x$estimate
  rel_hi <- x$upper / x$estimate
  graphics::plot(seq_len(J), rep(1, J), ylim = range(c(rel_lo, rel_hi), na.rm = TRUE), pch = 19,
                 xlab = "expectation j", ylab = "interval / estimate", main = "Estimates", ...)
  graphics::arrows(seq_len(J), rel_lo, seq_len(J), rel_hi, angle = 90, code = 3, length = 0.03)
  rel_var <- sweep(x$history_s2, 2, x$estimate^2, "/")
  graphics::matplot(x$history$n_total, rel_var, type = "b", log = "y", pch = 19, lty = 1,
                    xlab = "points used", ylab = "per-sample relative variance", main = "Adaptation")
  invisible(x)
}

#' Tidy and glance methods for Monte Carlo fits
#'
#' @param x An [aiscv()] or [sobol_aiscv()] fit.
#' @param ... Unused.
#' @return `tidy()`: one row per estimate with `term`, `estimate`, `std.error`,
#'   `conf.low`, `conf.high`; `glance()`: one row with the budget split and stop reason.
#' @examples
#' fit <- aiscv(function(x) cbind(x^2, x^4), input_law(mc_normal()), budget = 2000, seed = 1)
#' tidy(fit)
#' glance(fit)
#' @name tidy.aiscv
#' @export
tidy.aiscv <- function(x, ...) {
  data.frame(term = names(x$estimate), estimate = unname(x$estimate), std.error = unname(x$se),
             conf.low = unname(x$lower), conf.high = unname(x$upper), ess = unname(x$ess),
             stringsAsFactors = FALSE)
}

#' @rdname tidy.aiscv
#' @export
glance.aiscv <- function(x, ...) {
  data.frame(n_expectations = length(x$estimate), n_adapt = x$n_adapt, n_final = x$n_final,
             n_batches = nrow(x$history), stop_reason = x$stop_reason, stringsAsFactors = FALSE)
}

# ---- Sobol' ------------------------------------------------------------------------

#' Sobol' indices by aISCV
#'
#' First-order (and total-order) Sobol' indices of `model` with independent inputs,
#' from `d + 2` (or `2d + 2`) expectations estimated jointly by [aiscv()] in
#' standard-normal space: with `Z = (U, U')`, `A = U`, `C_i` = `U'` with coordinate `i`
#' from `U`, and `B = U'`, `S_i = (E[y_A y_Ci] - m^2) / V` and
#' `T_i = E[(y_B - y_Ci)^2] / (2 V)`, `m = E[y_A]`, `V = E[y_A^2] - m^2`. Intervals by
#' the delta method with the full covariance of the expectations. Each point costs
#' `d + 1` model runs (`d + 2` with total order). Estimates are not clipped to `[0, 1]`.
#' Total-order indices are not in the paper; they use Jansen's form.
#'
#' @param model A function of an `n x d` matrix of inputs (physical scale, columns named
#'   as the inputs) returning `n` outputs; `NULL` for the deferred mode (see [tell()]).
#' @param inputs An [input_law()] of independent built-in marginals.
#' @param budget Total number of model runs.
#' @param total Also estimate total-order indices.
#' @param ... Options of [aiscv()]: `weights`, `family`, `components`, `diagonal`,
#'   `batch_frac`, `adapt_frac`, `level`, `jitter`, `defensive`, `shrinkage` (here `TRUE`
#'   by default).
#' @param seed Seed; `NULL` draws one from R's generator.
#' @param verbose Show a progress bar in interactive sessions.
#' @return An object of class `c("sobol_aiscv", "tessera_fit")`: `first`, `first_se`,
#'   `first_lower`, `first_upper`, the same for `total`, `index_covariance`, `mean`,
#'   `variance`, `expectations` (the underlying [aiscv()] fit), `model_runs`, `points`.
#' @examples
#' ishigami <- function(x) sin(x[, 1]) + 7 * sin(x[, 2])^2 + 0.1 * x[, 3]^4 * sin(x[, 1])
#' inputs <- input_law(x1 = mc_uniform(-pi, pi), x2 = mc_uniform(-pi, pi), x3 = mc_uniform(-pi, pi))
#' fit <- sobol_aiscv(ishigami, inputs, budget = 1e4, seed = 1)
#' fit
#' @export
sobol_aiscv <- function(model, inputs, budget = 2e4, total = TRUE, ..., seed = NULL, verbose = interactive()) {
  call <- match.call()
  env <- environment()
  if (!inherits(inputs, "tessera_law") || inputs$type != "marginals" || !is.null(inputs$correlation)) {
    cli::cli_abort("{.arg inputs} must be an {.fn input_law} of independent built-in marginals.")
  }
  check_flag(total, "total")
  check_whole(budget, "budget", min = 1)
  dots <- list(...)
  known <- c("weights", "family", "components", "diagonal", "batch_frac", "adapt_frac", "level", "jitter",
             "defensive", "shrinkage")
  bad <- setdiff(names(dots), known)
  if (length(bad) || (length(dots) && is.null(names(dots)))) {
    cli::cli_abort("Unknown argument{?s} in {.arg ...}: {.val {if (length(bad)) bad else '(unnamed)'}}.")
  }
  a <- utils::modifyList(list(weights = NULL, family = "gaussian", components = 2, diagonal = FALSE,
                              batch_frac = 0.1, adapt_frac = 0.5, level = 0.95, jitter = 1e-6,
                              defensive = 0.1, shrinkage = TRUE), dots)
  a$family <- match.arg(a$family, c("gaussian", "mixture"))
  opts <- mc_options(1, a$weights, a$family, a$components, a$diagonal, a$batch_frac, a$adapt_frac, a$level,
                     a$jitter, a$defensive, a$shrinkage, env)
  seed <- resolve_seed(seed)
  check_flag(verbose, "verbose")
  if (!is.null(model) && !is.function(model)) cli::cli_abort("{.arg model} must be a function or NULL.")
  ptr <- call_core(.mc_sobol_new(unclass(inputs), budget, total, opts, seed), call = env)
  req <- structure(list(session = ptr, call = call, names = inputs$names, total = total, budget = budget),
                   class = "sobol_aiscv_request")
  req <- refresh_request(req, "sobol")
  if (is.null(model)) return(req)
  drive_requests(req, model, tell_sobol, "Sobol' aISCV", budget, verbose, env)
}

tell_sobol <- function(x, y, env) {
  if (is.matrix(y) && ncol(y) == 1) y <- y[, 1]
  if (!is.numeric(y) || !is.null(dim(y))) {
    cli::cli_abort("{.arg model} must return a numeric vector (one value per row of the inputs).", call = env)
  }
  call_core(.mc_tell(x$session, "sobol", matrix(as.numeric(y), ncol = 1)), call = env)
  st <- .mc_state(x$session, "sobol")
  if (st$phase != "done") return(refresh_request(x, "sobol"))
  res <- call_core(.mc_sobol_result(x$session), call = env)
  for (k in c("first", "first_se", "first_lower", "first_upper")) names(res[[k]]) <- x$names
  if (x$total) for (k in c("total", "total_se", "total_lower", "total_upper")) names(res[[k]]) <- x$names
  req <- list(call = x$call, names = paste0("x", seq_along(res$expectations$estimate)), budget = x$budget)
  res$expectations <- new_aiscv_fit(res$expectations, req)
  res$call <- x$call
  res$inputs <- x$names
  res$total_order <- x$total
  structure(res, class = c("sobol_aiscv", "tessera_fit"))
}

#' @rdname tell
#' @export
#' @rawNamespace S3method(sensitivity::tell, sobol_aiscv_request)
tell.sobol_aiscv_request <- function(x, y = NULL, ...) {
  check_told(y, environment())
  tell_sobol(x, y, environment())
}

#' @export
print.sobol_aiscv_request <- function(x, ...) {
  cat("Sobol' aISCV request (phase '", x$phase, "'): run the model on the ", nrow(x$X),
      " rows of $X and pass the outputs to tell()\n", sep = "")
  invisible(x)
}

sobol_table <- function(x) {
  tab <- data.frame(first = x$first, first_se = x$first_se, first_lower = x$first_lower,
                    first_upper = x$first_upper)
  if (x$total_order) {
    tab <- cbind(tab, data.frame(total = x$total, total_se = x$total_se, total_lower = x$total_lower,
                                 total_upper = x$total_upper))
  }
  rownames(tab) <- x$inputs
  tab
}

#' @export
print.sobol_aiscv <- function(x, digits = 3, ...) {
  cat("Sobol' indices by aISCV: ", x$model_runs, " model runs (", x$points, " points), output mean ",
      format(x$mean, digits = digits), ", variance ", format(x$variance, digits = digits), "\n", sep = "")
  print(round(sobol_table(x), digits))
  invisible(x)
}

#' @export
summary.sobol_aiscv <- function(object, ...) {
  structure(list(table = sobol_table(object), expectations = summary(object$expectations),
                 model_runs = object$model_runs), class = "summary.sobol_aiscv")
}

#' @export
print.summary.sobol_aiscv <- function(x, digits = 3, ...) {
  cat("Sobol' indices (delta-method intervals), ", x$model_runs, " model runs\n", sep = "")
  print(round(x$table, digits))
  cat("\nUnderlying expectations:\n")
  print(x$expectations, digits = digits)
  invisible(x)
}

#' @export
coef.sobol_aiscv <- function(object, ...) {
  out <- object$first
  names(out) <- paste0("S_", object$inputs)
  if (object$total_order) out <- c(out, stats::setNames(object$total, paste0("T_", object$inputs)))
  out
}

#' @export
vcov.sobol_aiscv <- function(object, ...) {
  nm <- names(coef(object))
  dimnames(object$index_covariance) <- list(nm, nm)
  object$index_covariance
}

#' @export
confint.sobol_aiscv <- function(object, parm, level = 0.95, ...) {
  z <- stats::qnorm(0.5 + level / 2)
  est <- coef(object)
  se <- sqrt(pmax(diag(object$index_covariance), 0))
  out <- cbind(est - z * se, est + z * se)
  colnames(out) <- paste(format(100 * c((1 - level) / 2, 1 - (1 - level) / 2)), "%")
  if (!missing(parm)) out <- out[parm, , drop = FALSE]
  out
}

#' @export
nobs.sobol_aiscv <- function(object, ...) object$model_runs

#' Plot Sobol' indices
#'
#' First-order (filled) and total-order (open) indices with their delta-method
#' intervals.
#'
#' @param x A [sobol_aiscv()] fit.
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @examples
#' fit <- sobol_aiscv(function(x) x[, 1] + 2 * x[, 2], input_law(a = mc_normal(), b = mc_normal()),
#'                    budget = 2000, seed = 1)
#' plot(fit)
#' @export
plot.sobol_aiscv <- function(x, ...) {
  d <- length(x$first)
  lo <- c(x$first_lower, x$total_lower)
  hi <- c(x$first_upper, x$total_upper)
  graphics::plot(seq_len(d) - 0.1, x$first, ylim = range(c(0, lo, hi, 1)), pch = 19, xaxt = "n",
                 xlab = "", ylab = "Sobol' index", xlim = c(0.5, d + 0.5), ...)
  graphics::axis(1, at = seq_len(d), labels = x$inputs)
  graphics::arrows(seq_len(d) - 0.1, x$first_lower, seq_len(d) - 0.1, x$first_upper, angle = 90, code = 3,
                   length = 0.03)
  if (x$total_order) {
    graphics::points(seq_len(d) + 0.1, x$total, pch = 1)
    graphics::arrows(seq_len(d) + 0.1, x$total_lower, seq_len(d) + 0.1, x$total_upper, angle = 90, code = 3,
                     length = 0.03)
    graphics::legend("topright", c("first order", "total order"), pch = c(19, 1), bty = "n")
  }
  graphics::abline(h = 0, lty = 3)
  invisible(x)
}

#' @rdname tidy.aiscv
#' @export
tidy.sobol_aiscv <- function(x, ...) {
  est <- coef(x)
  ci <- confint(x, level = x$expectations$level)
  data.frame(term = names(est), estimate = unname(est), std.error = sqrt(pmax(diag(x$index_covariance), 0)),
             conf.low = unname(ci[, 1]), conf.high = unname(ci[, 2]), stringsAsFactors = FALSE)
}

#' @rdname tidy.aiscv
#' @export
glance.sobol_aiscv <- function(x, ...) {
  data.frame(model_runs = x$model_runs, points = x$points, mean = x$mean, variance = x$variance,
             stop_reason = x$expectations$stop_reason, stringsAsFactors = FALSE)
}
