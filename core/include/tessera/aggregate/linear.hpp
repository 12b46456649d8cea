#pragma once
// Learning from aggregate responses (Javanmard, Chen, Mirrokni, Badanidiyuru, Fu, ICLR 2024):
// linear regression from features of every individual and one mean response per bag.
//
// Definitions (n rows in m disjoint bags B_a, bag means xbar_a, ybar_a; S the n x n
// block-averaging projection; theta includes the intercept when there is one):
//   L_bag(theta) = (1/n) sum_a |B_a| (ybar_a - xbar_a' theta)^2        [size-weighted]
//   L_ins(theta) = (1/n) sum_a sum_{i in B_a} (ybar_a - x_i' theta)^2
//   R(theta)     = (1/n) sum_a sum_{i in B_a} (x_i' theta - xbar_a' theta)^2
//   L_ins = L_bag + R exactly, and L_rho = (1 - rho) L_bag + rho L_ins = L_bag + rho R.
// With G = X'X, G_S = X'SX = sum_a |B_a| xbar_a xbar_a', b = X'Sy = sum_a |B_a| xbar_a ybar_a
// and the ridge term lambda ||theta_{-intercept}||^2 (P = identity without the intercept):
//   theta_rho = ((1 - rho) G_S + rho G + n lambda P)^{-1} b.
// The rho path: with G~ = G + n lambda P = L L' (Cholesky) and L^{-1}(G_S + n lambda P)L^{-T}
// = U diag(l) U' (eigenvalues l in [0, 1] since G_S <= G), theta_rho = V (c ./ ((1-rho) l + rho))
// with V = L^{-T} U and c = U' L^{-1} b: one generalised eigendecomposition, O(p^2) per rho.
//
// Decisions (the note's derived versions; the paper's Theorem 2.5 is not public in full):
// * Bag loss weighted by |B_a| (equals the paper's 1/m form for equal sizes); this is the
//   version for which L_ins = L_bag + R holds with unequal sizes.
// * rho may be any value >= 0: rho > 1 keeps L_bag + rho R convex and is allowed (the
//   unconstrained oracle can exceed 1); the default grids lie in [0, 1].
// * The intercept is a column of ones; its within-bag contrast is zero so R never
//   penalises it, and the ridge never penalises it either.
// * rho = 0 (bag level) needs G_S + n lambda P of full rank: with lambda = 0, at least p bags
//   with linearly independent means; otherwise an invalid_argument that says so. Any rho
//   needs X of full column rank (or lambda > 0).
// * Sufficient statistics (G, G_S, b, sum |B_a| ybar_a^2, n, m) are additive over disjoint
//   sets of whole bags: chunks that split no bag merge exactly (up to summation order).
// * Cross-validation over bags (the default choice of rho): bags are assigned to folds by a
//   seeded permutation; the held-out score of a fold is sum_a |B_a| (ybar_a - xbar_a'theta)^2
//   / m_fold, whose expectation under random bags and centred isotropic features is
//   sigma^2 + ||theta - theta0||^2, the individual test MSE [note: derived]. It needs only the
//   fold's sufficient statistics. rho_cv minimises the mean over folds. Not valid for
//   feature-based bags (the fit records the bag scheme).
// * Oracle rho: argmin of the asymptotic risk (risk.hpp) at gamma = p / n, k = n / m and the
//   supplied SNR = ||theta0||^2 / sigma^2; searched on [0, rho_max].
// * Standard errors: conditional on X under ybar_a = xbar_a'theta0 + e_a, Var(e_a) =
//   sigma^2 / |B_a|: Cov(theta_rho) = sigma^2 A^{-1} G_S A^{-1}, A = (1-rho) G_S + rho G + n lambda P,
//   with sigma^2 estimated from the bag-level fit, sum_a |B_a| r_a^2 / (m - p). For rho > 0
//   the estimator is biased, so these describe the spread around E[theta_rho], not theta0.
//   Reported only when m > p and G_S has full rank; otherwise `se_message` says why.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/aggregate/bags.hpp"
#include "tessera/common/arma.hpp"

namespace tessera::aggregate {

// Additive sufficient statistics of the linear problem.
struct linear_stats {
  arma::mat G;        // X'X                       (p x p)
  arma::mat GS;       // sum_a |B_a| xbar_a xbar_a' (p x p)
  arma::vec b;        // sum_a |B_a| xbar_a ybar_a  (p)
  double yy = 0;      // sum_a |B_a| ybar_a^2
  double n = 0;       // rows
  double m = 0;       // bags
  bool intercept = false;
  // Adds another set of whole bags (throws when dimensions or intercept differ).
  void merge(const linear_stats& other);
  arma::uword p() const { return G.n_rows; }
};

// Statistics of X (n x d) with per-bag means ybar (dense order). With intercept, a column
// of ones is the first coefficient.
linear_stats compute_stats(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                           bool intercept);

// Per-fold statistics for cross-validation over bags (K >= 1 folds): with m >= K bags a
// balanced seeded assignment (assign_folds), otherwise the m bags take distinct random folds
// and the other folds are empty (zero statistics). Streamed data: call this on each chunk of
// whole bags (a different seed per chunk) and merge the chunks fold by fold; the folds then
// feed fit_linear_stats with rho chosen by cross-validation.
std::vector<linear_stats> compute_fold_stats(const arma::mat& X, const bag_structure& bags,
                                             const arma::vec& ybar, bool intercept, arma::uword K,
                                             std::uint64_t seed);

// The losses at theta from the statistics.
struct loss_values {
  double bag = 0;       // L_bag
  double instance = 0;  // L_ins
  double within = 0;    // R = L_ins - L_bag, computed directly as theta'(G - G_S)theta / n
};
loss_values evaluate_losses(const linear_stats& stats, const arma::vec& theta);

// The whole rho path from one generalised eigendecomposition.
class rho_path {
 public:
  rho_path(const linear_stats& stats, double ridge);
  arma::vec coef(double rho) const;         // throws for rho = 0 when G_S is singular
  arma::mat inverse(double rho) const;      // A(rho)^{-1}
  arma::uword rank_bag() const { return rank_bag_; }  // numerical rank of G_S + n lambda P
  const arma::vec& eigenvalues() const { return l_; }
  double ridge() const { return ridge_; }

 private:
  arma::mat V_;
  arma::vec l_, c_;
  arma::uword rank_bag_ = 0;
  double ridge_ = 0;
};

enum class rho_method { fixed, cv, oracle };
std::string to_string(rho_method m);

struct linear_options {
  bool intercept = true;
  double ridge = 0;                  // lambda >= 0
  rho_method method = rho_method::cv;
  double rho = 1;                    // used when method == fixed (>= 0)
  arma::vec rho_grid;                // CV grid; empty: {0 if estimable} U 60 log-spaced in [1e-3, 1]
  int folds = 5;                     // CV folds over bags (capped at m)
  std::uint64_t seed = 1;            // fold assignment
  double snr = -1;                   // ||theta0||^2 / sigma^2, required (> 0) for the oracle
  double rho_max = 1;                // oracle search interval [0, rho_max]
  bool standard_errors = true;
};

struct linear_fit {
  arma::vec coef;                    // p (intercept first when present)
  double rho = 0;
  rho_method method = rho_method::cv;
  arma::vec rho_grid;                // the CV grid (empty for fixed/oracle)
  arma::mat path;                    // p x grid: coefficients along the grid
  arma::vec cv_mse, cv_se;           // held-out bag score per grid point (mean, SE over folds)
  arma::vec std_errors;              // empty when not available
  arma::mat vcov;
  double sigma2 = 0;                 // estimate used for the standard errors (0 if none)
  std::string se_message;
  loss_values losses;                // at coef
  arma::uword n = 0, m = 0, p = 0, rank_bag = 0;
  double mean_bag_size = 0;
  bool intercept = true;
  double ridge = 0;
  linear_options options;
};

// Fits from the data. ybar: one mean per bag in dense order (see bags.hpp).
linear_fit fit_linear(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                      const linear_options& options = {});

// Fits from per-fold statistics (the folds partition the bags; CV uses them as folds, a
// fixed or oracle rho uses their sum). For streamed data: accumulate each fold's chunks with
// merge(). A single element allows method fixed or oracle only.
linear_fit fit_linear_stats(const std::vector<linear_stats>& folds, const linear_options& options = {});

// The noise variance sigma^2 of an individual response estimated from the bag-level fit,
// sum_a |B_a| (ybar_a - xbar_a' theta_0)^2 / (m - p); empty when m <= p or G_S is singular.
std::optional<double> bag_level_noise(const linear_stats& stats);
// Why bag_level_noise() is empty, for `se_message`.
std::string no_noise_estimate_message(const linear_stats& stats);

// X theta (+ intercept) after checking the columns of X against the coefficients.
arma::vec linear_predictor(const arma::vec& coef, bool intercept, const arma::mat& X);

// Predictions: per row, and per bag (the size-weighted mean of the rows' predictions).
arma::vec predict_instance(const linear_fit& fit, const arma::mat& X);
arma::vec predict_bag(const linear_fit& fit, const arma::mat& X, const bag_structure& bags);

}  // namespace tessera::aggregate
