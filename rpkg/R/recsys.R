# Recommender learning from missing-not-at-random implicit feedback: Rel-MF (clipped IPS),
# its naive and unclipped special cases, predictions, top-k lists and ranking metrics.

# match.arg() with an error that names the argument and lists the choices.
recsys_choice <- function(x, arg, call = parent.frame()) {
  choices <- eval(formals(sys.function(sys.parent()))[[arg]], envir = baseenv())
  if (identical(x, choices)) return(choices[1])
  hit <- if (is.character(x) && length(x) == 1L && !is.na(x)) pmatch(x, choices) else NA
  if (is.na(hit)) {
    opts <- paste0("\"", choices, "\"", collapse = ", ")
    cli::cli_abort(c("{.arg {arg}} must be one of {opts}.",
                     "x" = "You supplied {.val {format(x)}}."), call = call)
  }
  choices[hit]
}

#' Optimiser settings for Rel-MF
#'
#' @param max_iter Adam steps (mini-batch: iterations, each one batch; full batch: the
#'   most steps). The reference code runs 301.
#' @param lr Adam learning rate (0.005 in the reference code).
#' @param batch_size Mini-batch size `B`: `B/2` clicked and `B/2` unclicked pairs drawn
#'   uniformly with replacement per iteration (2^15 in the reference code).
#' @param sampling Mini-batch sampling: `"auto"` (uniform for the log loss, balanced for
#'   the squared loss), `"balanced"` (the real-data reference trainer:
#'   half clicked, half unclicked pairs; this over-weights clicks, and with the log loss and
#'   propensity weights `w > 1` it easily drives scores of rarely exposed items without
#'   bound, so it suits the squared loss best) or `"uniform"` (pairs drawn uniformly from all
#'   users x items, an unbiased estimate of the full objective; recommended for the log loss).
#' @param beta1,beta2 Adam's moment decay rates.
#' @param tol Full batch only: stop when the objective changes by at most
#'   `tol * max(1, |objective|)` between steps.
#' @return A list of class `tessera_relmf_control`.
#' @examples
#' relmf_control(max_iter = 500, lr = 0.01, sampling = "uniform")
#' @export
relmf_control <- function(max_iter = 301, lr = 0.005, batch_size = 2^15,
                          sampling = c("auto", "balanced", "uniform"), beta1 = 0.9, beta2 = 0.999,
                          tol = 1e-8) {
  sampling <- recsys_choice(sampling, "sampling")
  check_whole(max_iter, "max_iter", min = 1)
  check_number(lr, "lr", min = 0, min_inclusive = FALSE)
  check_whole(batch_size, "batch_size", min = 2)
  check_number(beta1, "beta1", min = 0, max = 1 - 1e-12, min_inclusive = FALSE)
  check_number(beta2, "beta2", min = 0, max = 1 - 1e-12, min_inclusive = FALSE)
  check_number(tol, "tol", min = 0)
  structure(list(max_iter = max_iter, lr = lr, batch_size = batch_size, sampling = sampling, beta1 = beta1,
                 beta2 = beta2, tol = tol), class = "tessera_relmf_control")
}

#' Rel-MF: matrix factorisation with the clipped inverse-propensity loss
#'
#' Fits logistic matrix factorisation to implicit feedback (clicks) that is missing not
#' at random, with the clipped IPS loss of Saito, Yaginuma, Nishino, Sakata and Nakata
#' (WSDM 2020). A click `Y = 1` of user `u` on item `i` is weighted by
#' `w = 1 / max(theta, clip)`, where `theta` is the probability that the item was
#' exposed to the user; unclicked pairs have `w = 0`. The log loss is
#' `softplus(s) - w s` for the score `s = U_u . V_i` (`+ b_u + c_i + g` with biases),
#' averaged over all `users x items` pairs, plus `lambda/2 (||U||^2 + ||V||^2)`
#' (biases are not penalised). `propensity = "none"` gives the naive estimator
#' (`theta = 1`, the WMF baseline) and `clip = 0` plain IPS.
#'
#' The squared loss is `w (1 - R)^2 + c (1 - w) R^2` divided by the sum over pairs of
#' `Y + c (1 - Y)`, with `c = unlabeled_weight`, as in the authors' real-data code
#' (`R = sigmoid(s)`, `link = "logistic"`). With `link = "identity"` (`R = s`, as in
#' WMF) the full-batch step needs only `k x k` Gram matrices for the unclicked pairs:
#' O(nnz k + (users + items) k^2) per step. The logistic link has no such shortcut: a
#' full-batch step costs O(users x items x k), so use `solver = "minibatch"` (Adam on
#' mini-batches, see [relmf_control()] for the sampling schemes) on large data.
#'
#' With `w > 1` the log loss is unbounded below in the score of a clicked pair; only
#' the L2 term keeps the fit finite, so very small `lambda` with tiny propensities can
#' diverge (reported as an error, never as NaN).
#'
#' @param clicks The clicks, in one of three forms: a sparse matrix from the Matrix
#'   package (`dgCMatrix` and friends) or a base matrix, users in rows and items in
#'   columns, every non-zero entry equal to 1 (row and column names become the ids);
#'   or a data frame whose first two columns (or columns `user` and `item`) hold one
#'   (user, item) click per row with any ids. Users and items without clicks are kept
#'   (matrix input) and shrunk towards zero.
#' @param propensity `"popularity"` (`theta_i = (n_i / max_j n_j)^eta` from the
#'   training clicks), `"none"` (`theta = 1`), a numeric vector of per-item
#'   propensities (named by item id, or in item order), a matrix of per-pair
#'   propensities with the shape of `clicks` (only the values at clicks are used),
#'   or, for a data frame `clicks`, an unnamed vector with one propensity per row
#'   (per pair). Values must lie in (0, 1].
#' @param clip The clipping threshold `M` in `[0, 1]`; 0 means plain IPS.
#' @param loss `"log"` (the paper's pointwise loss) or `"squared"`.
#' @param dim Number of latent factors, at most `min(users, items)`.
#' @param lambda L2 weight (>= 0).
#' @param eta Popularity exponent for `propensity = "popularity"`.
#' @param biases Add user, item and global biases.
#' @param unlabeled_weight The weight `c` of unclicked pairs in the squared loss.
#' @param link For the squared loss: `"logistic"` (default) or `"identity"`.
#' @param solver `"minibatch"` (Adam on balanced batches) or `"full_batch"` (Adam on the
#'   exact gradient).
#' @param control Optimiser settings, see [relmf_control()].
#' @param duplicates For a data frame `clicks`: `"error"` (default) or `"once"` (keep
#'   one copy of a repeated (user, item) pair).
#' @param seed Seed of the initialisation and the sampling; `NULL` draws one from R's RNG.
#' @param threads Number of threads (whole number in 1..1024) for the full-batch objective and
#'   gradient (over users and items) and the per-batch scores. The work is cut into pieces
#'   fixed by the data size and summed in a fixed order, so the fit is bit-identical for any
#'   `threads`. Keep the BLAS single-threaded (e.g. `OPENBLAS_NUM_THREADS=1`) when using
#'   more than one thread.
#' @param verbose Show a progress bar in interactive sessions.
#' @return An object of class `c("relmf", "tessera_fit")` with the factors `U` and `V`,
#'   biases, the `users` and `items` ids, the item propensities, the weights at the clicks
#'   (`click_weight`) and how many were clipped, the objective `trace` (per step; for the
#'   mini-batch solver the batch objective), convergence information and the settings.
#' @references Saito, Y., Yaginuma, S., Nishino, Y., Sakata, H. and Nakata, K. (2020).
#'   Unbiased recommender learning from missing-not-at-random implicit feedback. WSDM.
#' @seealso [recommend()], [rank_metrics()], [predict.relmf()].
#' @examples
#' set.seed(1)
#' clicks <- data.frame(user = sample(letters, 300, TRUE), item = sample(1:40, 300, TRUE))
#' clicks <- unique(clicks)
#' fit <- relmf(clicks, dim = 3, clip = 0.1, control = relmf_control(batch_size = 256, max_iter = 100))
#' fit
#' recommend(fit, users = c("a", "b"), k = 3)
#' @export
relmf <- function(clicks, propensity = "popularity", clip = 0, loss = c("log", "squared"),
                  dim = 10, lambda = 1e-4, eta = 0.5, biases = FALSE, unlabeled_weight = 1,
                  link = c("logistic", "identity"), solver = c("minibatch", "full_batch"),
                  control = relmf_control(), duplicates = c("error", "once"), seed = NULL,
                  threads = 1, verbose = interactive()) {
  loss <- recsys_choice(loss, "loss")
  link <- recsys_choice(link, "link")
  solver <- recsys_choice(solver, "solver")
  duplicates <- recsys_choice(duplicates, "duplicates")
  check_number(clip, "clip", min = 0, max = 1)
  check_whole(dim, "dim", min = 1)
  check_number(lambda, "lambda", min = 0)
  check_number(eta, "eta", min = 0)
  check_flag(biases, "biases")
  check_number(unlabeled_weight, "unlabeled_weight", min = 0)
  check_whole(threads, "threads", min = 1, max = 1024)
  check_flag(verbose, "verbose")
  if (!inherits(control, "tessera_relmf_control")) {
    cli::cli_abort("{.arg control} must be made by {.fn relmf_control}.")
  }
  if (loss == "log" && link == "identity") {
    cli::cli_abort(c("{.arg link} = {.val identity} needs {.arg loss} = {.val squared}.",
                     "i" = "The log loss is defined for the logistic link only."))
  }
  seed <- resolve_seed(seed)
  data <- click_data(clicks, duplicates)
  if (dim > min(length(data$users), length(data$items))) {
    cli::cli_abort(c("{.arg dim} must be at most min(users, items) = {min(length(data$users), length(data$items))}.",
                     "x" = "You supplied {dim}; a rank above the smaller side is not identifiable."))
  }
  prop <- resolve_propensity(propensity, data)
  settings <- c(list(dim = dim, loss = loss, link = link, clip = clip,
                     unlabeled_weight = unlabeled_weight, lambda = lambda, biases = biases,
                     solver = solver, eta = eta, threads = threads), unclass(control))
  res <- call_core(.relmf_fit_cpp(data$sparse, settings, prop$type, prop$item, prop$pair, seed, verbose))
  if (!res$converged && solver == "full_batch") {
    cli::cli_warn(c("Rel-MF did not converge.", "i" = "{res$message}; raise {.arg max_iter} in {.fn relmf_control}."))
  }
  dimnames(res$U) <- list(as.character(data$users), NULL)
  dimnames(res$V) <- list(as.character(data$items), NULL)
  names(res$user_bias) <- as.character(data$users)
  names(res$item_bias) <- as.character(data$items)
  if (length(res$item_propensity)) names(res$item_propensity) <- as.character(data$items)
  structure(c(res, list(link = if (loss == "log") "logistic" else link, users = data$users,
                        items = data$items, seen = data$sparse[c("i", "j")],
                        propensity_type = prop$label, loss = loss, dim = dim, lambda = lambda,
                        clip = clip, eta = eta, biases = biases, unlabeled_weight = unlabeled_weight,
                        solver = solver, control = control, seed = seed, threads = threads,
                        n_users = length(data$users), n_items = length(data$items),
                        n_clicks = length(data$sparse$i), call = match.call())),
            class = c("relmf", "tessera_fit"))
}

# ---- input conversion -------------------------------------------------------------------

# Triplets (0-based) of a sparse matrix from the Matrix package, read from its slots so
# that Matrix need not be loaded by tessera.
sparse_triplets <- function(x, arg, call) {
  cls <- class(x)[1]
  if (!grepl("^[dlnz]g[CRT]Matrix$", cls)) {
    cli::cli_abort(c("{.arg {arg}} is a {.cls {cls}}; a general sparse matrix is needed.",
                     "i" = "Convert it with {.code as(x, \"generalMatrix\")} or {.code as(x, \"CsparseMatrix\")}."),
                   call = call)
  }
  dims <- attr(x, "Dim")
  i <- attr(x, "i")
  j <- attr(x, "j")
  p <- attr(x, "p")
  switch(substr(cls, 3, 3),
         C = { j <- rep.int(seq_len(dims[2]) - 1L, diff(p)) },
         R = { i <- rep.int(seq_len(dims[1]) - 1L, diff(p)) })
  v <- attr(x, "x")
  if (is.null(v)) v <- rep(1, length(i))
  dn <- attr(x, "Dimnames")
  list(i = as.numeric(i), j = as.numeric(j), x = as.numeric(v), n_rows = dims[1], n_cols = dims[2],
       rownames = dn[[1]], colnames = dn[[2]])
}

dense_triplets <- function(x, arg, call) {
  if (!(is.numeric(x) || is.logical(x))) {
    cli::cli_abort("{.arg {arg}} must be numeric or logical.", call = call)
  }
  if (anyNA(x)) {
    at <- which(is.na(x), arr.ind = TRUE)[1, ]
    cli::cli_abort(c("{.arg {arg}} contains missing values, the first at [{at[1]}, {at[2]}].",
                     "i" = "Clicks are 0/1 indicators: replace NA by 0 or drop the pair."), call = call)
  }
  nz <- which(x != 0, arr.ind = TRUE)
  list(i = as.numeric(nz[, 1] - 1), j = as.numeric(nz[, 2] - 1), x = as.numeric(x[nz]),
       n_rows = nrow(x), n_cols = ncol(x), rownames = rownames(x), colnames = colnames(x))
}

as_triplets <- function(x, arg, call) {
  if (isS4(x) && !is.null(attr(x, "Dim"))) return(sparse_triplets(x, arg, call))
  if (is.matrix(x)) return(dense_triplets(x, arg, call))
  cli::cli_abort(c("{.arg {arg}} must be a matrix, a sparse matrix or a data frame.",
                   "x" = "You supplied {.cls {class(x)}}."), call = call)
}

sorted_ids <- function(x) if (is.factor(x)) levels(droplevels(x)) else sort(unique(x))

# The click data: ids, and the click matrix as 0-based triplets for the core.
click_data <- function(clicks, duplicates, call = parent.frame()) {
  if (is.data.frame(clicks)) {
    cols <- if (all(c("user", "item") %in% names(clicks))) c("user", "item") else names(clicks)[1:2]
    if (ncol(clicks) < 2) {
      cli::cli_abort("{.arg clicks} as a data frame needs a user and an item column.", call = call)
    }
    u <- clicks[[cols[1]]]
    it <- clicks[[cols[2]]]
    bad <- which(is.na(u) | is.na(it))
    if (length(bad)) {
      cli::cli_abort(c("{.arg clicks} has a missing user or item id in row{?s} {head(bad, 5)}.",
                       "i" = "Drop incomplete rows first."), call = call)
    }
    users <- sorted_ids(u)
    items <- sorted_ids(it)
    ui <- match(as.character(u), as.character(users)) - 1
    ii <- match(as.character(it), as.character(items)) - 1
    dup <- duplicated(cbind(ui, ii))
    if (any(dup)) {
      if (duplicates == "error") {
        r <- which(dup)[1]
        cli::cli_abort(c("{.arg clicks} repeats the (user, item) pair ({u[r]}, {it[r]}) at row {r}.",
                         "i" = "Remove duplicate clicks, or use {.code duplicates = \"once\"} to count each pair once."),
                       call = call)
      }
    }
    keep <- !dup
    sparse <- list(i = ui[keep], j = ii[keep], x = rep(1, sum(keep)), n_rows = length(users),
                   n_cols = length(items))
    return(list(sparse = sparse, users = users, items = items, rows = which(keep), table = TRUE,
                n_table = nrow(clicks)))
  }
  tr <- as_triplets(clicks, "clicks", call)
  users <- if (is.null(tr$rownames)) seq_len(tr$n_rows) else tr$rownames
  items <- if (is.null(tr$colnames)) seq_len(tr$n_cols) else tr$colnames
  for (side in list(list(users, "row"), list(items, "column"))) {
    if (anyDuplicated(side[[1]])) {
      cli::cli_abort("{.arg clicks} has duplicated {side[[2]]} names; ids must be unique.", call = call)
    }
  }
  list(sparse = tr[c("i", "j", "x", "n_rows", "n_cols")], users = users, items = items, table = FALSE)
}

resolve_propensity <- function(propensity, data, call = parent.frame()) {
  n_items <- length(data$items)
  empty_pair <- list(i = numeric(0), j = numeric(0), x = numeric(0), n_rows = 0, n_cols = 0)
  out <- list(item = numeric(0), pair = empty_pair)
  if (is.character(propensity) && length(propensity) == 1 && propensity %in% c("popularity", "none")) {
    return(c(out, list(type = propensity, label = propensity)))
  }
  if (is.matrix(propensity) || (isS4(propensity) && !is.null(attr(propensity, "Dim")))) {
    tr <- as_triplets(propensity, "propensity", call)
    if (tr$n_rows != length(data$users) || tr$n_cols != n_items) {
      cli::cli_abort("{.arg propensity} as a matrix must be {length(data$users)} x {n_items}, like {.arg clicks}.",
                     call = call)
    }
    out$pair <- tr[c("i", "j", "x", "n_rows", "n_cols")]
    return(c(out[c("item")], list(pair = out$pair, type = "pair", label = "per pair (user supplied)")))
  }
  if (!is.numeric(propensity)) {
    cli::cli_abort(c("{.arg propensity} must be {.val popularity}, {.val none}, a numeric vector or a matrix.",
                     "x" = "You supplied {.cls {class(propensity)}}."), call = call)
  }
  if (!is.null(names(propensity))) {
    idx <- match(as.character(data$items), names(propensity))
    if (anyNA(idx)) {
      miss <- data$items[is.na(idx)]
      cli::cli_abort("{.arg propensity} has no value for item{?s} {.val {head(miss, 5)}}.", call = call)
    }
    return(list(item = as.numeric(propensity[idx]), pair = empty_pair, type = "item", label = "per item (user supplied)"))
  }
  if (isTRUE(data$table) && length(propensity) == data$n_table) {
    pair <- data$sparse
    pair$x <- as.numeric(propensity[data$rows])
    if (anyNA(pair$x)) cli::cli_abort("{.arg propensity} contains missing values.", call = call)
    return(list(item = numeric(0), pair = pair, type = "pair", label = "per pair (user supplied)"))
  }
  if (length(propensity) != n_items) {
    cli::cli_abort(c("{.arg propensity} must have one value per item ({n_items}){if (isTRUE(data$table)) ' or per row of clicks' else ''}.",
                     "x" = "It has {length(propensity)}."), call = call)
  }
  list(item = as.numeric(propensity), pair = empty_pair, type = "item", label = "per item (user supplied)")
}

# ---- ids --------------------------------------------------------------------------------

match_ids <- function(x, ids, arg, call = parent.frame()) {
  if (anyNA(x)) cli::cli_abort("{.arg {arg}} contains missing ids.", call = call)
  idx <- match(as.character(x), as.character(ids))
  if (anyNA(idx)) {
    bad <- unique(x[is.na(idx)])
    cli::cli_abort(c("{.arg {arg}} contains id{?s} unknown to the fit: {.val {head(bad, 5)}}.",
                     "i" = "Only users and items present when fitting can be scored."), call = call)
  }
  idx - 1
}

model_list <- function(object) {
  object[c("U", "V", "user_bias", "item_bias", "global_bias", "link")]
}

seen_list <- function(object, use) {
  if (use) {
    list(i = object$seen$i, j = object$seen$j, x = rep(1, length(object$seen$i)),
         n_rows = object$n_users, n_cols = object$n_items)
  } else {
    list(i = numeric(0), j = numeric(0), x = numeric(0), n_rows = 0, n_cols = 0)
  }
}

# ---- methods ----------------------------------------------------------------------------

#' Predictions of a Rel-MF fit
#'
#' @param object A fit from [relmf()].
#' @param newdata A data frame of (user, item) pairs (first two columns, or columns
#'   `user` and `item`); alternatively give `users` and `items`.
#' @param users,items Ids of the pairs to score (equal lengths).
#' @param type `"response"` (the predicted relevance `sigmoid(s)`; the score itself for
#'   the identity link) or `"score"` (the score `s`).
#' @param ... Unused.
#' @return A numeric vector, one value per pair.
#' @examples
#' set.seed(2)
#' clicks <- unique(data.frame(user = sample(1:30, 200, TRUE), item = sample(1:20, 200, TRUE)))
#' fit <- relmf(clicks, dim = 2, control = relmf_control(batch_size = 128, max_iter = 50))
#' predict(fit, users = c(1, 2), items = c(5, 5))
#' @export
predict.relmf <- function(object, newdata = NULL, users = NULL, items = NULL,
                          type = c("response", "score"), ...) {
  type <- recsys_choice(type, "type")
  if (!is.null(newdata)) {
    if (!is.data.frame(newdata) || ncol(newdata) < 2) {
      cli::cli_abort("{.arg newdata} must be a data frame with a user and an item column.")
    }
    cols <- if (all(c("user", "item") %in% names(newdata))) c("user", "item") else names(newdata)[1:2]
    users <- newdata[[cols[1]]]
    items <- newdata[[cols[2]]]
  }
  if (is.null(users) || is.null(items) || length(users) != length(items)) {
    cli::cli_abort("Give {.arg newdata}, or {.arg users} and {.arg items} of equal length.")
  }
  u <- match_ids(users, object$users, "users")
  i <- match_ids(items, object$items, "items")
  call_core(.relmf_predict_cpp(model_list(object), u, i, type == "response"))
}

#' Top-k recommendations
#'
#' @param object A fitted recommender, e.g. from [relmf()].
#' @param ... Passed to methods.
#' @return A data frame with columns `user`, `rank`, `item` and `score`.
#' @examples
#' set.seed(3)
#' clicks <- unique(data.frame(user = sample(1:30, 200, TRUE), item = sample(1:20, 200, TRUE)))
#' fit <- relmf(clicks, dim = 2, control = relmf_control(batch_size = 128, max_iter = 50))
#' recommend(fit, users = 1:2, k = 3)
#' @export
recommend <- function(object, ...) UseMethod("recommend")

#' @rdname recommend
#' @param users Ids of the users (default: all users of the fit).
#' @param k Number of items per user.
#' @param exclude_seen Skip the items each user clicked in the training data.
#' @param threads Threads over users (results do not depend on it).
#' @export
recommend.relmf <- function(object, users = NULL, k = 10, exclude_seen = TRUE, threads = 1, ...) {
  check_whole(k, "k", min = 1)
  check_flag(exclude_seen, "exclude_seen")
  check_whole(threads, "threads", min = 1, max = 1024)
  if (is.null(users)) users <- object$users
  u <- match_ids(users, object$users, "users")
  res <- call_core(.relmf_recommend_cpp(model_list(object), u, k, seen_list(object, exclude_seen), threads))
  kk <- ncol(res$items)
  out <- data.frame(user = rep(users, each = kk), rank = rep(seq_len(kk), length(users)),
                    item_index = as.vector(t(res$items)) + 1, score = as.vector(t(res$scores)))
  out <- out[out$item_index <= object$n_items, , drop = FALSE]
  out$item <- object$items[out$item_index]
  out <- out[c("user", "rank", "item", "score")]
  rownames(out) <- NULL
  out
}

#' Ranking metrics: DCG@K, Recall@K and MAP@K
#'
#' Evaluates a recommender on held-out relevance. For each user, items are sorted by
#' score (ties: lower item index first); `rel_r` is the relevance at rank `r`.
#' `DCG@K = sum_{r <= K} rel_r / log2(r + 1)` (`dcg = "standard"`, the paper's form) or
#' `rel_r / log2(max(r, 2))` (`dcg = "reference"`, the authors' code, which weights ranks
#' 1 and 2 alike); not normalised. `Recall@K = sum_{r <= K} rel_r / sum rel`.
#' `MAP@K = (1 / n_rel) sum_{r <= K, relevant} precision@r`, where an item is relevant when
#' its relevance exceeds `relevant_threshold` and `n_rel` counts the user's relevant test
#' items. Averages are over users with at least one relevant test item (`dcg`, `recall`,
#' `map`) and over all users with a test item, those without relevant items counting 0
#' (`dcg_all`, `recall_all`, `map_all`).
#'
#' `variant = "test_items"` ranks only each user's own test items (the paper's protocol
#' on missing-at-random test data); `"catalogue"` ranks every item, skipping the user's
#' training clicks when `exclude_seen`, with relevance 0 for items outside the test set.
#'
#' @param object A fit from [relmf()], or `NULL` when `test` has a `score` column.
#' @param test A data frame with columns `user`, `item`, `relevance` (or the first three
#'   columns in that order) and optionally `score`.
#' @param k Cut-offs.
#' @param variant `"test_items"` or `"catalogue"`.
#' @param dcg `"standard"` or `"reference"`.
#' @param relevant_threshold Relevance above which an item counts as relevant.
#' @param exclude_seen For `"catalogue"`: skip training clicks.
#' @param threads Threads over users (results do not depend on it).
#' @return A data frame with one row per cut-off: `k`, `dcg`, `recall`, `map`, `dcg_all`,
#'   `recall_all`, `map_all`; attributes `n_users` and `n_users_relevant`.
#' @examples
#' test <- data.frame(user = c(1, 1, 1, 2, 2), item = c(1, 2, 3, 1, 2),
#'                    relevance = c(1, 0, 1, 0, 1), score = c(.9, .5, .1, .8, .3))
#' rank_metrics(NULL, test, k = c(1, 2))
#' @export
rank_metrics <- function(object, test, k = c(1, 3, 5), variant = c("test_items", "catalogue"),
                         dcg = c("standard", "reference"), relevant_threshold = 0,
                         exclude_seen = TRUE, threads = 1) {
  variant <- recsys_choice(variant, "variant")
  dcg <- recsys_choice(dcg, "dcg")
  if (!is.numeric(k) || !length(k) || anyNA(k) || any(k < 1) || any(k != floor(k))) {
    cli::cli_abort("{.arg k} must be a vector of whole numbers >= 1.")
  }
  check_number(relevant_threshold, "relevant_threshold")
  check_flag(exclude_seen, "exclude_seen")
  check_whole(threads, "threads", min = 1, max = 1024)
  if (!is.data.frame(test) || ncol(test) < 3) {
    cli::cli_abort("{.arg test} must be a data frame with user, item and relevance columns.")
  }
  cols <- if (all(c("user", "item", "relevance") %in% names(test))) c("user", "item", "relevance") else names(test)[1:3]
  rel <- test[[cols[3]]]
  if (!is.numeric(rel)) cli::cli_abort("the relevance column of {.arg test} must be numeric.")
  if (is.null(object)) {
    if (is.null(test$score) || variant != "test_items") {
      cli::cli_abort("Without a fit, {.arg test} needs a {.field score} column and {.arg variant} = {.val test_items}.")
    }
    users <- sorted_ids(test[[cols[1]]])
    items <- sorted_ids(test[[cols[2]]])
    u <- match_ids(test[[cols[1]]], users, "test$user")
    i <- match_ids(test[[cols[2]]], items, "test$item")
    res <- call_core(.rank_metrics_test_cpp(u, i, as.numeric(test$score), as.numeric(rel), k, dcg, relevant_threshold, threads))
  } else {
    if (!inherits(object, "relmf")) cli::cli_abort("{.arg object} must be a fit from {.fn relmf} or NULL.")
    u <- match_ids(test[[cols[1]]], object$users, "test$user")
    i <- match_ids(test[[cols[2]]], object$items, "test$item")
    if (variant == "test_items") {
      s <- call_core(.relmf_predict_cpp(model_list(object), u, i, FALSE))
      res <- call_core(.rank_metrics_test_cpp(u, i, s, as.numeric(rel), k, dcg, relevant_threshold, threads))
    } else {
      res <- call_core(.rank_metrics_catalogue_cpp(model_list(object), u, i, as.numeric(rel),
                                                   seen_list(object, exclude_seen), k, dcg, relevant_threshold, threads))
    }
  }
  out <- data.frame(k = k, dcg = res$dcg, recall = res$recall, map = res$map, dcg_all = res$dcg_all,
                    recall_all = res$recall_all, map_all = res$map_all)
  attr(out, "n_users") <- res$n_users
  attr(out, "n_users_relevant") <- res$n_users_relevant
  out
}

relmf_label <- function(x) {
  if (x$propensity_type == "none") return("naive MF (theta = 1)")
  if (x$clip > 0) "Rel-MF (clipped IPS)" else "Rel-MF (IPS, no clipping)"
}

#' @export
print.relmf <- function(x, digits = 3, ...) {
  cat(relmf_label(x), ", ", x$loss, " loss", if (x$loss == "squared") paste0(" (", x$link, " link)"),
      ": ", x$n_users, " users x ", x$n_items, " items, ", x$n_clicks, " clicks\n", sep = "")
  cat("dim = ", x$dim, ", lambda = ", format(x$lambda), ", biases = ", x$biases, ", propensity: ",
      x$propensity_type, if (x$propensity_type == "popularity") paste0(" (eta = ", format(x$eta), ")"),
      ", clip = ", format(x$clip), " (", x$n_clipped, " clicks clipped)\n", sep = "")
  cat("Solver: ", x$solver, ", ", x$iterations, " steps; objective ", format(x$objective, digits = 6),
      if (x$solver == "minibatch") " (last batch)", "\n", sep = "")
  if (x$solver == "full_batch") cat(if (x$converged) "Converged: " else "NOT converged: ", x$message, "\n", sep = "")
  invisible(x)
}

#' Summarise a Rel-MF fit
#'
#' @param object A fit from [relmf()].
#' @param ... Unused.
#' @return An object of class `summary.relmf`: sizes, settings, the distribution of the
#'   propensities and weights at the clicks, users and items without clicks, and the
#'   objective at the start and end of training.
#' @examples
#' set.seed(4)
#' clicks <- unique(data.frame(user = sample(1:30, 200, TRUE), item = sample(1:20, 200, TRUE)))
#' summary(relmf(clicks, dim = 2, control = relmf_control(batch_size = 128, max_iter = 50)))
#' @export
summary.relmf <- function(object, ...) {
  user_clicks <- tabulate(object$seen$i + 1, object$n_users)
  item_clicks <- tabulate(object$seen$j + 1, object$n_items)
  structure(list(label = relmf_label(object), n_users = object$n_users, n_items = object$n_items,
                 n_clicks = object$n_clicks, density = object$n_clicks / (object$n_users * object$n_items),
                 empty_users = sum(user_clicks == 0), empty_items = sum(item_clicks == 0),
                 propensity = stats::quantile(object$click_propensity, c(0, .25, .5, .75, 1)),
                 weight = stats::quantile(object$click_weight, c(0, .25, .5, .75, 1)),
                 n_clipped = object$n_clipped, clip = object$clip,
                 objective_start = object$trace[1], objective_end = object$objective,
                 iterations = object$iterations, solver = object$solver, converged = object$converged,
                 message = object$message),
            class = "summary.relmf")
}

#' @export
print.summary.relmf <- function(x, digits = 3, ...) {
  cat(x$label, "\n")
  cat(x$n_users, "users x", x$n_items, "items,", x$n_clicks, "clicks (density",
      format(x$density, digits = digits), ");", x$empty_users, "users and", x$empty_items,
      "items without clicks\n\n")
  cat("Propensity at the clicks (quantiles):\n")
  print(round(x$propensity, digits))
  cat("Weight w = 1 / max(theta, clip) at the clicks:\n")
  print(round(x$weight, digits))
  cat(x$n_clipped, "clicks clipped at", format(x$clip), "\n\n")
  cat("Objective: ", format(x$objective_start, digits = 6), " -> ", format(x$objective_end, digits = 6),
      " over ", x$iterations, " ", x$solver, " steps\n", sep = "")
  if (x$solver == "full_batch") cat(if (x$converged) "Converged: " else "NOT converged: ", x$message, "\n", sep = "")
  invisible(x)
}

#' @export
coef.relmf <- function(object, ...) {
  list(U = object$U, V = object$V, user_bias = object$user_bias, item_bias = object$item_bias,
       global_bias = object$global_bias)
}

#' @export
nobs.relmf <- function(object, ...) object$n_clicks

#' @export
plot.relmf <- function(x, ...) {
  graphics::plot(seq_along(x$trace), x$trace, type = "l", xlab = "iteration",
                 ylab = if (x$solver == "minibatch") "batch objective" else "objective",
                 main = relmf_label(x), ...)
  invisible(x)
}

#' Tidy a Rel-MF fit
#'
#' @param x A fit from [relmf()].
#' @param ... Unused.
#' @return `tidy()`: one row per item with its id, training clicks, propensity (when
#'   per item) and bias; `glance()`: one row with sizes, settings, objective and
#'   convergence.
#' @examples
#' set.seed(5)
#' clicks <- unique(data.frame(user = sample(1:30, 200, TRUE), item = sample(1:20, 200, TRUE)))
#' fit <- relmf(clicks, dim = 2, control = relmf_control(batch_size = 128, max_iter = 50))
#' head(tidy(fit))
#' glance(fit)
#' @name tidy.relmf
#' @export
tidy.relmf <- function(x, ...) {
  prop <- if (length(x$item_propensity)) unname(x$item_propensity) else rep(NA_real_, x$n_items)
  data.frame(item = x$items, clicks = tabulate(x$seen$j + 1, x$n_items), propensity = prop,
             bias = unname(x$item_bias))
}

#' @rdname tidy.relmf
#' @export
glance.relmf <- function(x, ...) {
  data.frame(method = relmf_label(x), loss = x$loss, users = x$n_users, items = x$n_items,
             clicks = x$n_clicks, dim = x$dim, lambda = x$lambda, clip = x$clip,
             n_clipped = x$n_clipped, objective = x$objective, iterations = x$iterations,
             converged = x$converged)
}
