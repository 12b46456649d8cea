# Shared R-side helpers: calling the core, seeds, argument checks. One place each.

# Evaluates a call into the C++ core, turning its exceptions into classed cli errors
# raised from the user's call. A user interrupt passes through untouched.
call_core <- function(expr, call = parent.frame()) {
  tryCatch(expr, error = function(e) {
    msg <- conditionMessage(e)
    cls <- "tessera_error"
    for (kind in c("invalid_argument", "numerical_error")) {
      prefix <- paste0("tessera_", kind, ": ")
      if (startsWith(msg, prefix)) {
        msg <- substring(msg, nchar(prefix) + 1L)
        cls <- c(paste0("tessera_", kind), cls)
      }
    }
    cli::cli_abort("{msg}", class = cls, call = call)
  })
}

# The seed argument: NULL draws one from R's RNG, so set.seed() makes runs repeatable.
resolve_seed <- function(seed, arg = "seed", call = parent.frame()) {
  if (is.null(seed)) return(floor(stats::runif(1, 0, .Machine$integer.max)))
  if (!is.numeric(seed) || length(seed) != 1L || !is.finite(seed) || seed < 0 || seed != floor(seed)) {
    cli::cli_abort(c("{.arg {arg}} must be a single non-negative whole number or NULL.",
                     "x" = "You supplied {.val {format(seed)}}."), call = call)
  }
  as.numeric(seed)
}

check_number <- function(x, arg, min = -Inf, max = Inf, min_inclusive = TRUE,
                         call = parent.frame()) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x)
  if (ok) ok <- if (min_inclusive) x >= min else x > min
  if (ok) ok <- x <= max
  if (!ok) {
    bound <- if (is.finite(min) && is.finite(max)) {
      sprintf("in %s%s, %s]", if (min_inclusive) "[" else "(", format(min), format(max))
    } else if (is.finite(min)) {
      sprintf("%s %s", if (min_inclusive) ">=" else ">", format(min))
    } else if (is.finite(max)) {
      sprintf("<= %s", format(max))
    } else "finite"
    shown <- if (is.null(x)) "NULL" else paste(format(x), collapse = ", ")
    cli::cli_abort(c("{.arg {arg}} must be a single finite number {bound}.",
                     "x" = "You supplied {.val {shown}}."), call = call)
  }
  invisible(x)
}

check_whole <- function(x, arg, min = 1, call = parent.frame()) {
  check_number(x, arg, min = min, call = call)
  if (x != floor(x)) {
    cli::cli_abort(c("{.arg {arg}} must be a whole number.", "x" = "You supplied {.val {x}}."),
                   call = call)
  }
  invisible(x)
}

check_flag <- function(x, arg, call = parent.frame()) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    cli::cli_abort("{.arg {arg}} must be TRUE or FALSE.", call = call)
  }
  invisible(x)
}

# A numeric matrix from a matrix or data frame of numeric columns; errors name the
# offending columns. Keeps column names (V1, V2, ... when absent).
as_numeric_matrix <- function(x, arg = "x", call = parent.frame()) {
  if (is.data.frame(x)) {
    bad <- names(x)[!vapply(x, function(col) is.numeric(col) || is.logical(col), logical(1))]
    if (length(bad)) {
      cli::cli_abort(c("{.arg {arg}} must contain only numeric columns.",
                       "x" = "Non-numeric column{?s}: {.field {bad}}.",
                       "i" = "Convert factors with {.fn model.matrix} or drop them."), call = call)
    }
    x <- as.matrix(x)
  }
  if (!is.matrix(x) || !(is.numeric(x) || is.logical(x))) {
    cli::cli_abort(c("{.arg {arg}} must be a numeric matrix or a data frame of numeric columns.",
                     "x" = "You supplied {.cls {class(x)}}."), call = call)
  }
  storage.mode(x) <- "double"
  if (is.null(colnames(x))) colnames(x) <- paste0("V", seq_len(ncol(x)))
  x
}
