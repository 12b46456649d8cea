#pragma once
// PRESTO: rare-event ordinal regression shrunk toward proportional odds
// (Faletto and Bien, "Predicting rare events by shrinking towards proportional odds",
// ICML 2023), and its two baselines, proportional odds (PO) and separate logistic
// regressions per threshold ("Logit").
//
// Model and sign convention (ordinalNet's, not polr's/clm's). Classes are coded
// 0..K-1 (K >= 3); the rare class of the paper is the LAST one, K-1. For each threshold
// k = 0..K-2 (M = K-1 thresholds)
//   logit P(y <= k | x) = alpha_k + x' beta_k,
// P(y = 0) = sigma(eta_0), P(y = c) = sigma(eta_c) - sigma(eta_{c-1}),
// P(y = K-1) = 1 - sigma(eta_{K-2}) = sigma(-eta_{K-2}).
// MASS::polr and ordinal::clm write logit P(y <= k) = zeta_k - x' b, so
// beta(polr) = -beta(tessera) and zeta = alpha; VGAM's cumulative(reverse = FALSE) uses
// our signs directly.
//
// Difference parameterisation: psi_0 = beta_0, psi_k = beta_k - beta_{k-1}, so
// beta_k = psi_0 + ... + psi_k and eta_k = alpha_k + x'(psi_0 + ... + psi_k). PRESTO minimises
//   F = -(1 / sum w) sum_i w_i log P(y_i | x_i)
//       + lambda * sum_{j, k} f_{jk} [ a |psi_jk| + (1 - a) / 2 psi_jk^2 ],
// a = elastic-net mixing (1: the paper's PRESTO; 0: PRESTO_L2), f_jk = block_factors[k] *
// variable_factors[j]. beta_0 (block 0) is penalised too (the published code's choice);
// factor 0 leaves a block unpenalised (block 0 unpenalised + lambda -> infinity gives PO),
// factor +infinity fixes a block at zero (blocks 1.. frozen = the PO model). Intercepts are
// unpenalised and unconstrained (no ordering constraint).
//
// Solver (our own; the (K-1)p design is never built): proximal Newton. Outer loop: the
// exact Hessian of the loss in eta. Observation i's loss depends on at most two linear
// predictors (eta_{y-1}, eta_y), so its Hessian is a 2 x 2 block; it is PSD because the
// logistic density is log-concave (Pratt 1981), and it is projected onto the PSD cone
// numerically (diagonal >= 0, |off| <= sqrt of the product) to be safe. Rows are sorted by
// class, so psi_jm touches the rows of classes >= m: one coordinate costs O(rows with
// y >= m). Inner loop: cyclic coordinate descent on the quadratic model plus the exact
// elastic-net penalty, with an active set (sweep the active coordinates to convergence,
// then one full sweep; stop when the full sweep changes nothing). Then step halving
// (up to max_halvings) on the true objective: a step is rejected if the objective
// increases or if any TRAINING row gets a negative class probability (crossing
// eta_k > eta_{k+1}), as ordinalNet does by setting the log-likelihood to -Inf.
// Non-crossing on the training rows is thus a constraint of the problem: the margins
// d_ik = eta_{k+1}(x_i) - eta_k(x_i) = a_{k+1} - a_k + x_i' psi_{k+1} must be >= 0 (linear
// in the parameters, so the problem stays convex). ordinalNet simply stops when every
// halved step crosses (at small lambda or p close to n); we solve the constrained problem
// instead: when the unconstrained Newton iteration is blocked by crossing steps, we
// continue from the last feasible iterate with a log barrier
// -mu sum_i w_i sum_k log d_ik added to the objective (mu = barrier_start, then divided by
// 100 until it is <= barrier_final). Each stage is a proximal Newton whose subproblem is
// solved exactly by an active-set method on a working set of coordinates (intercepts,
// nonzero and unpenalised psi, and zero psi whose subgradient condition fails; the rest are
// checked through the linear predictors and join the set when they violate it), because
// coordinate descent crawls along the stiff barrier directions. Forming the working set's Hessian
// costs O(n w^2) for w coordinates and dominates at large p; the active-set method keeps a
// Cholesky factor of its support block current by appending rows and by Givens rotations
// as coordinates join and leave (O(w^2) per change). Each step is first cut to 99% of the
// way to the boundary; after a step that this cut to at most half, the next iteration
// reuses the last Hessian with the barrier curvature of every margin that changed by more
// than a factor 4 corrected (rank-one updates) and the working set fixed, and convergence
// is judged on fresh iterations only. The duality gap is at most mu (K-2). When the
// previous lambda of the path was constrained, the barrier comes first (from a warm start
// on the boundary the plain Newton step would cross, after a wasted solve), followed by a
// plain Newton polish if no constraint multiplier turns out positive. Safeguard: a
// constrained lambda whose Lagrangian KKT residual exceeds 1e-6 is solved again from the
// lambda = infinity fit and the lower objective kept (a warm-started solve has been seen
// to stop up to 1e-7 above the optimum; cause not yet found). Cost
// (bench/results/presto_cost.csv, n = 1e4, K = 4, one thread): the 20-lambda path takes
// about 2 s at p = 100, 16 s at p = 300 and 19 min at p = 1000, nearly all of it in the
// constrained lambdas.
// Such a lambda is flagged in `constrained`; its KKT residual is that of the Lagrangian,
// with multipliers >= 0 of the near-active margins fitted by non-negative least squares.
// A Newton iteration counts as converged only after a full (uncut) step.
// Convergence: relative change of F below tol (1e-8). The KKT residual of every path
// solution is computed and reported (max over coordinates, standardised scale).
// Probabilities are floored at p_min (1e-8) only inside the Hessian/gradient, never in
// the objective.
//
// Standardisation: columns are always centred (weighted means) and, if standardize,
// scaled by the weighted population SD (divisor sum w); the penalty acts on the
// standardised psi. Back-transform with the CUMULATIVE sums (this fixes defect (b) of the
// reference code): beta_k = beta~_k / s, alpha_k = alpha~_k - sum_j beta~_jk m_j / s_j.
// A column with SD 0 (possible inside a CV training fold) has its coefficients held at 0;
// the top-level entry points reject constant columns.
//
// Path: lambda_max = max_{jk: 0 < f_jk < inf} |dL/dpsi_jk| / (f_jk max(a, alpha_min)) at the
// fit with every penalised coordinate at zero (the intercept-only fit, plus any
// unpenalised blocks); nlambda = 20 values log-spaced down to lambda_min_ratio = 0.01 of it;
// warm starts. A user grid is sorted into decreasing order.
//
// Cross-validation: stratified folds (tessera::stratified_folds: classes in turn, each
// shuffled, dealt round-robin, so a class with at least nfolds members reaches every fold;
// a class with fewer members than folds is an error naming it). Each training fold is standardised on its own
// rows and fitted on the full-data grid; held-out predictions use the cumulative-sum coefficients (fixes
// defect (c)); held-out probabilities of crossing rows are clamped at 0 and renormalised before scoring, and
// the number of such rows is reported. Measures per observation (weighted means): Brier = sum_c (p_c - 1{y =
// c})^2 (the default), deviance = -2 log max(p_y, p_min), misclassification = 1{argmax_c p_c != y}. cvm pools
// held-out rows; cvsd is the weighted SD of the fold means / sqrt(nfolds - 1) (glmnet's). lambda.min:
// smallest cvm, ties to the largest lambda; lambda.1se: largest lambda with cvm <= cvm_min + cvsd_min. The
// fit at the chosen lambda is the full-data path solution there (the problem is convex, so a cold-started
// refit agrees to the tolerance; a test checks it).
//
// Baselines: PO is this solver with block factors (0, inf, ..., inf) at lambda = 0;
// Logit fits, for each threshold k, an unpenalised logistic regression of 1{y <= k} by the
// same Newton solver with two classes. Neither enforces non-crossing.
#include <cstdint>
#include <string>
#include <vector>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"

namespace tessera::ordinal {

struct presto_options {
  double alpha = 1.0;              // elastic-net mixing in [0, 1]; 1 = lasso (PRESTO), 0 = ridge
  arma::vec block_factors;         // length K-1, >= 0, +inf freezes a block at 0 (empty: all 1)
  arma::vec variable_factors;      // length p, >= 0 (empty: all 1)
  bool standardize = true;
  arma::vec lambda;                // user grid, >= 0 (empty: automatic)
  int nlambda = 20;
  double lambda_min_ratio = 0.01;
  double alpha_min = 0.01;         // floor of the mixing in lambda_max (ordinalNet's alphaMin)
  double tol = 1e-8;               // relative change of the objective (outer loop)
  double tol_inner = 1e-13;        // max_j h_j (change_j)^2 in a coordinate-descent sweep
  int max_iter = 100;              // proximal Newton iterations per lambda
  int max_sweeps = 10000;          // coordinate-descent sweeps per Newton iteration
  int max_halvings = 10;
  double p_min = 1e-8;
  double barrier_start = 1e-6;   // first weight of the non-crossing barrier (when needed)
  double barrier_final = 1e-10;  // last weight (divided by 100 per stage; gap <= mu (K-2))
};

struct presto_fit {
  arma::uword n_obs = 0, n_features = 0, n_classes = 0;
  arma::vec lambda;                // L values, decreasing
  double lambda_max = 0;
  arma::mat intercepts;            // (K-1) x L, original scale
  arma::cube beta;                 // p x (K-1) x L, original scale
  arma::cube psi;                  // p x (K-1) x L, original scale (adjacent differences)
  arma::vec objective;             // F at each lambda (standardised psi in the penalty)
  arma::vec loglik;                // sum_i w_i log P(y_i | x_i) on the original scale
  arma::uvec n_nonzero;            // nonzero psi entries
  arma::uvec iterations;           // Newton iterations per lambda
  arma::uvec sweeps;               // coordinate-descent sweeps per lambda
  arma::vec kkt_violation;         // max KKT residual per lambda (standardised scale)
  arma::uvec converged;            // 1/0 per lambda
  arma::uvec constrained;          // 1 where the non-crossing constraint was active (barrier used)
  std::string message;             // empty when every lambda converged
  arma::rowvec center, scale;      // standardisation used
  presto_options options;          // options used (factors expanded)
};

// Fits the path. X: n x p finite, no constant column; y: codes 0..n_classes-1, every
// class present; weights: empty or n positive finite values.
presto_fit fit_presto(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                      const presto_options& options = {}, const arma::vec& weights = {},
                      const runtime_context& context = silent_context());

enum class cv_measure { brier, deviance, misclassification };

struct cv_options {
  int nfolds = 5;
  cv_measure measure = cv_measure::brier;
  std::uint64_t seed = 1;
  arma::uvec foldid;               // optional n fold ids in 0..nfolds-1 (overrides the seed)
  int threads = 1;                 // fold paths fitted in parallel (1..1024); same result for any value
};

struct presto_cv_fit {
  presto_fit fit;                  // the full-data path
  arma::vec cvm, cvsd;             // per lambda
  arma::mat fold_measure;          // L x nfolds
  arma::uword index_min = 0, index_1se = 0;
  double lambda_min = 0, lambda_1se = 0;
  arma::uvec foldid;
  arma::uvec fold_crossings;       // held-out crossing rows per fold (summed over lambda)
  arma::uvec fold_converged;       // 1 if every lambda of the fold converged
  cv_measure measure = cv_measure::brier;
};

presto_cv_fit cv_presto(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                        const presto_options& options = {}, const cv_options& cv = {},
                        const arma::vec& weights = {},
                        const runtime_context& context = silent_context());

// ---- prediction --------------------------------------------------------------------

enum class crossing_policy { warn, error, clamp };

struct probability_prediction {
  arma::mat prob;                  // n x K
  arma::uvec crossing_rows;        // 0-based rows with a negative class probability
};

// Linear predictors eta (n x (K-1)) for intercepts (K-1) and beta (p x (K-1)).
arma::mat predict_link(const arma::vec& intercepts, const arma::mat& beta, const arma::mat& X);

// Class probabilities. warn: returned unchanged (negative entries kept) with the crossing
// rows listed for the caller to report; error: throws numerical_error naming the count;
// clamp: negatives set to 0 and rows renormalised.
probability_prediction predict_probabilities(const arma::vec& intercepts, const arma::mat& beta,
                                             const arma::mat& X,
                                             crossing_policy policy = crossing_policy::warn);

// Most probable class per row (0-based; ties to the lower class).
arma::uvec predict_class(const arma::mat& prob);

// sum_i w_i log P(y_i | x_i) (-inf if some observed class has probability <= 0).
double ordinal_loglik(const arma::vec& intercepts, const arma::mat& beta, const arma::mat& X,
                      const arma::uvec& y, const arma::vec& weights = {});

// ---- baselines ---------------------------------------------------------------------

struct ordinal_fit {
  arma::vec intercepts;            // K-1
  arma::mat beta;                  // p x (K-1) (identical columns for PO)
  double loglik = 0;
  bool converged = true;
  int iterations = 0;
  std::string message;
};

// Unpenalised proportional odds (MASS::polr with beta negated).
ordinal_fit fit_proportional_odds(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                                  const arma::vec& weights = {});

// One unpenalised logistic regression of 1{y <= k} per threshold k (the paper's Logit).
ordinal_fit fit_separate_logits(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                                const arma::vec& weights = {});

}  // namespace tessera::ordinal
