#pragma once
// Rel-MF: matrix factorisation trained on missing-not-at-random implicit feedback with the
// clipped inverse-propensity (IPS) loss (Saito, Yaginuma, Nishino, Sakata, Nakata, WSDM 2020,
// "Unbiased Recommender Learning from Missing-Not-At-Random Implicit Feedback").
//
// Data. Y is an m x n users x items click matrix (arma::sp_mat, every stored value 1);
// D is the set of all m n pairs. theta_ui = P(exposure) is the propensity; the weight of a pair is
//   w_ui = Y_ui / max(theta_ui, M)            (M = `clip`; M = 0 gives plain IPS),
// so w = 0 on every unclicked pair and clipping only touches clicked pairs. Naive training
// (WMF-style, "theta = 1") is the same code with propensity_type::none.
//
// Model. Score s_ui = U_u . V_i (+ b_u + c_i + g when `biases`); prediction R_ui = sigmoid(s_ui)
// for the logistic link, R_ui = s_ui for the identity link.
//
// Losses (per pair; f0 = loss of an unclicked pair, f1 = loss of a click):
//   log      : w delta1 + (1 - w) delta0 with delta1 = -log R, delta0 = -log(1 - R), written
//              stably as softplus(s) - w s (derivative sigmoid(s) - w); normaliser Z = |D|.
//              For a click with w > 1 this is unbounded below in s: only the L2 term keeps
//              the fit finite (a non-finite objective throws numerical_error).
//   squared  : w (1 - R)^2 + c (1 - w) R^2 (the authors' real-data code; c = unlabeled_weight),
//              normaliser Z = sum_D [Y + c (1 - Y)] = nnz + c (|D| - nnz).
// Objective = (1/Z) sum_D loss + (lambda/2)(||U||_F^2 + ||V||_F^2). Biases are not penalised
// [decision: the note leaves this open; unpenalised biases make b_u + g a reparametrisation].
//
// Full-batch evaluation (evaluate_objective, solver_type::full_batch) is exact and exploits
// sparsity: sum_D f0(s) is computed once for all pairs, then sum_clicks [f1 - f0] corrects the
// clicked pairs. For the squared loss with the identity link, sum_D c s^2 = c tr(U~'U~ V~'V~)
// with U~ = [U, b + g, 1], V~ = [V, 1, c_i], so one step costs O(nnz k + (m + n) k^2) through
// k x k Gram matrices. The logistic link (log loss, or the squared loss exactly as in the
// real-data code) has no such shortcut: the f0 part is a dense product in row blocks,
// O(m n k) time and O(n k + block) memory; use the mini-batch solver for large data.
//
// Mini-batch solver: each iteration draws a batch, evaluates the batch loss (mean for the log
// loss; the squared loss divided by sum_batch [Y + c (1 - Y)]), adds the L2 term on the whole
// matrices, and takes one Adam step (tessera::optim::adam).
//   balanced (the real-data reference trainer): B/2 clicked and B/2 unclicked pairs, uniformly
//     with replacement (unclicked by rejection from the m x n grid). This re-weights clicks
//     relative to the 1/|D| formula; with the log loss and w > 1 the re-weighted objective is
//     unbounded below much more easily (an item whose clicks have w > 1 outweighs its few
//     sampled unclicked pairs), so prefer it with the squared loss, as the reference does.
//   uniform: B pairs uniformly from D with replacement; the batch loss is then an unbiased
//     estimate of the full objective (used for the log loss, as in the semi-synthetic code's
//     batches over all pairs [decision: that code's sampler was not checked line by line]).
//   automatic (default): uniform for the log loss, balanced for the squared loss. The full-batch solver takes Adam steps on the exact gradient
// and stops when the relative change of the objective falls below `tol`.
//
// Threads (`threads`, default 1; std::thread, so the R build needs no OpenMP): the full-batch
// objective and gradient run over users and items in parallel, as do the per-batch scores of
// the mini-batch solver, recommend() and the metrics. Every parallel loop is cut into pieces
// whose boundaries depend only on the problem size (blocks of users or items), each piece
// writes its own outputs, and sums across pieces are formed afterwards in piece order, so the
// results are bit-identical for any thread count and depend only on the seed. The clicked
// pairs are visited twice for the gradient: by item (CSC order) for V and the item biases, and
// by user (a row index built per evaluation in O(nnz + m)) for U and the user biases, so no
// two threads ever add into the same row. The dense products of the logistic full-batch path
// and the k x k Gram matrices go through BLAS inside each piece: keep BLAS single-threaded
// (OPENBLAS_NUM_THREADS=1) when threads > 1 to avoid oversubscription. The logistic path keeps
// up to 8 partial n x k gradients of V (one per group of user blocks).
//
// Initialisation: Xavier/Glorot uniform, U ~ U(-a, a) with a = sqrt(6 / (m + k)) (V likewise
// with n); biases 0. All randomness from tessera::make_rng(seed, stream).
//
// Propensities:
//   popularity : theta_i = (n_i / max_j n_j)^eta, n_i = clicks of item i counted over all item
//                ids (zero-click items keep their slot, theta_i = 0, and never enter the loss
//                because w = 0 without a click);
//   item       : a user-supplied vector of length n, every entry in (0, 1];
//   pair       : a user-supplied m x n sparse matrix holding a value in (0, 1] at every click
//                (other entries are ignored: they cannot enter the loss);
//   none       : theta = 1 (the naive estimator).
//
// Input decisions: clicks must be binary (every stored value exactly 1); a value of 2 is
// almost always a summed duplicate and is rejected with a message. clicks_from_pairs() builds
// the matrix from (user, item) index pairs and rejects duplicate pairs unless asked to keep
// one copy. Users and items without clicks are kept (their factors are shrunk by the L2 term
// and the unclicked loss). dim must lie in [1, min(m, n)]. Indices are 64-bit (arma::uword).
#include <cstdint>
#include <string>
#include <vector>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"

namespace tessera::recsys {

enum class loss_type { log, squared };
enum class link_type { logistic, identity };
enum class solver_type { minibatch, full_batch };
enum class sampling_type { automatic, balanced, uniform };
enum class propensity_type { popularity, item, pair, none };

struct propensity_spec {
  propensity_type type = propensity_type::popularity;
  double eta = 0.5;          // popularity exponent
  arma::vec item;            // type item: length n, entries in (0, 1]
  arma::sp_mat pair;         // type pair: m x n, a value in (0, 1] at every click
};

struct relmf_options {
  arma::uword dim = 10;                  // k
  loss_type loss = loss_type::log;
  link_type link = link_type::logistic;  // identity only with the squared loss
  propensity_spec propensity;
  double clip = 0.0;                     // M in [0, 1]
  double unlabeled_weight = 1.0;         // c >= 0 (squared loss)
  double lambda = 1e-4;                  // L2 weight on U and V
  bool biases = false;                   // user, item and global biases
  solver_type solver = solver_type::minibatch;
  long max_iter = 301;                   // Adam steps (the reference's 301 iterations)
  double lr = 0.005;                     // Adam learning rate
  double beta1 = 0.9, beta2 = 0.999;
  arma::uword batch_size = 32768;        // B (mini-batch; 2^15 as in the reference)
  sampling_type sampling = sampling_type::automatic;  // automatic: uniform (log), balanced (squared)
  double tol = 1e-8;                     // full batch: stop when |dF| <= tol max(1, |F|)
  unsigned threads = 1;                  // worker threads (>= 1); results do not depend on it
};

// The fitted parameters.
struct relmf_model {
  arma::mat U;               // m x k
  arma::mat V;               // n x k
  arma::vec user_bias;       // m (zeros without biases)
  arma::vec item_bias;       // n
  double global_bias = 0.0;
  link_type link = link_type::logistic;
};

// Weights at the clicks, in the CSC order of the click matrix (item-major).
struct click_weights {
  arma::uvec user, item;     // indices of each click
  arma::vec theta;           // propensity at each click
  arma::vec weight;          // w = 1 / max(theta, M)
  arma::uword n_clipped = 0; // clicks with theta < M
  arma::vec item_theta;      // per-item propensities (popularity/item), empty otherwise
};

struct relmf_fit {
  relmf_model model;
  click_weights weights;
  std::vector<double> trace;   // objective per iteration (full batch) or batch objective
  double objective = 0;        // last full-batch objective (NaN-free); batch objective otherwise
  long iterations = 0;
  bool converged = false;      // full batch: tolerance met; mini-batch: always false
  std::string message;
  relmf_options options;
  std::uint64_t seed = 0;
  arma::uword n_users = 0, n_items = 0, n_clicks = 0;
};

// Checks a click matrix (dimensions, binary values). `allow_empty` permits nnz = 0.
void validate_clicks(const arma::sp_mat& clicks, bool allow_empty = false);

// Builds an n_users x n_items click matrix from 0-based index pairs. Duplicate pairs are an
// error unless keep_one_duplicate (then each pair counts once).
arma::sp_mat clicks_from_pairs(const arma::uvec& users, const arma::uvec& items, arma::uword n_users,
                               arma::uword n_items, bool keep_one_duplicate = false);

// theta_i = (n_i / max_j n_j)^eta over all n items (0 for items without clicks).
arma::vec popularity_propensity(const arma::sp_mat& clicks, double eta = 0.5);

// Propensities and weights at the clicks, validated.
click_weights compute_weights(const arma::sp_mat& clicks, const propensity_spec& propensity,
                              double clip);

// The exact full-batch objective and its gradient (same shapes as the model) for the loss,
// link, c, lambda and biases of `options` (the solver fields are ignored). `weight` is aligned
// with the CSC order of `clicks`.
struct objective_eval {
  double value = 0;          // data + penalty
  double data = 0;           // (1/Z) sum_D loss
  relmf_model gradient;
};
objective_eval evaluate_objective(const arma::sp_mat& clicks, const arma::vec& weight,
                                  const relmf_model& model, const relmf_options& options);

// Fits the model. Throws invalid_argument on bad input, numerical_error if the objective
// stops being finite.
relmf_fit fit_relmf(const arma::sp_mat& clicks, const relmf_options& options, std::uint64_t seed,
                    const runtime_context& context = silent_context());

// Scores s_ui (response = false) or predictions R_ui (response = true) for index pairs.
arma::vec predict_pairs(const relmf_model& model, const arma::uvec& users, const arma::uvec& items,
                        bool response = true);

// All item scores of one user (length n).
arma::rowvec user_scores(const relmf_model& model, arma::uword user);

// Top-k items per user by score (ties: lower item index first). Items with a stored entry in
// `exclude` (m x n, may be empty) are skipped; when fewer than k remain, the row is padded with
// n (an invalid index) and NaN score.
struct recommendation {
  arma::umat items;          // users.n_elem x k
  arma::mat scores;
};
recommendation recommend(const relmf_model& model, const arma::uvec& users, arma::uword k,
                         const arma::sp_mat& exclude = arma::sp_mat(), unsigned threads = 1);

// Checks a thread count (1 .. 1024), naming the argument.
void check_threads(unsigned threads);

}  // namespace tessera::recsys
