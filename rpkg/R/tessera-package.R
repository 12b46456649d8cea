#' tessera: modern statistical estimators with a fast C++ core
#'
#' Estimators from recent papers, each exact to its paper's definitions, on one
#' C++17 core shared with C++ users. See `vignette("tour", package = "tessera")`
#' for a guided tour and the function pages for each estimator.
#'
#' @keywords internal
#' @useDynLib tessera, .registration = TRUE
#' @importFrom Rcpp evalCpp
#' @importFrom generics tidy glance
"_PACKAGE"
