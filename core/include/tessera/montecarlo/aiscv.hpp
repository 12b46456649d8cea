#pragma once
// aISCV: many expectations from one sample by adaptive importance sampling with control
// variates (Demange-Chryst, Bachoc, Morio, "Efficient estimation of multiple expectations
// with the same sample by adaptive importance sampling and control variates",
// arXiv 2212.00568, Statistics and Computing 2023).
//
// Targets I_j = E_{f_j}[phi_j(X)], j = 1..J, with one law f for every j or one law per j.
// One sample X_1..X_N iid from g_alpha = sum_k alpha_k g_k (alpha in the simplex, one
// Gaussian proposal g_k per expectation) and one control variate per expectation:
//   I_j_hat = beta_j + (1/N) sum_i [f_j(X_i) phi_j(X_i) - beta_j g_j(X_i)] / g_alpha(X_i),
// unbiased for every beta_j because E[g_j / g_alpha] = 1. The criterion is
// sum_j omega_j Var(I_j_hat). With g_j = phi_j f_j / I_j (phi_j >= 0) and beta_j = I_j
// every summand equals I_j: zero variance for any alpha with alpha_j > 0.
//
// Algorithm (as in the authors' reference code, github.com/Julien6431/
// Multiple_expectation_estimation, src/aISCV_algorithm.py; re-implemented, not copied):
//  0. N1 = floor(adapt_fraction N) may be spent on adaptation, in batches of
//     n = floor(batch_fraction N) points (defaults 0.5 and 0.1: at most 5 batches).
//     Batch 0 comes from h_0 = f, or the equal mixture of the f_j (n/L points from each,
//     the remainder spread over the first laws). From it: I_j_hat (balance-heuristic
//     weights f_j / h_0), s_j^2 = sample variance of the summands, beta_j = I_j_hat,
//     alpha_j proportional to sqrt(omega_j) |I_j_hat| (floored, projected).
//  1. Cross-entropy: every component g_j is refitted on ALL points drawn so far with
//     deterministic-mixture (balance heuristic) weights
//       w_ij = |phi_j(x_i)| f_j(x_i) / h(x_i),  h = sum_b (n_b / M) q_b,
//     q_b the proposal of batch b (q_0 = h_0). Single Gaussian: weighted mean and centred
//     weighted covariance; Gaussian mixture: weighted EM.
//  2. alpha minimises the IS estimate over the pooled points of the alpha-dependent part
//     of sum_j omega_j N Var(I_j_hat),
//       F(alpha) = (1/M) sum_i sum_j omega_j (f_j phi_j - beta_j g_j)^2(x_i) / [g_alpha(x_i) h(x_i)],
//     convex in alpha, by projected gradient on { alpha_k >= alpha_floor, sum = 1 }
//     (reference: SLSQP with bounds [9e-12, 1]).
//  3. n new points from g_alpha; 4. beta_j = Cov(g_j/g_alpha, f_j phi_j/g_alpha) /
//     Var(g_j/g_alpha) on the new batch only; 5. s_j^2 = sample variance of
//     (f_j phi_j - beta_j g_j)/g_alpha on the new batch.
//  6. Stop when sum omega s^2_old / (N - N_prev) <= sum omega s^2_new / (N - N_now)
//     (adapting one more batch did not pay for the points it used), or when another batch
//     would exceed N1. The latest g_alpha and beta are kept (as the reference code does).
//  7. N - N_now fresh points from the final g_alpha give the reported estimates; the
//     adaptation points are discarded, so the estimates are exactly unbiased and the
//     summands iid: covariance = sample covariance of the summands / N_f, normal
//     intervals, ESS_j = (sum w)^2 / sum w^2 with w = f_j / g_alpha.
//
// Decisions on points the paper/code leave open:
// * phi of either sign: the estimator above is unbiased for any sign; the cross-entropy
//   and the alpha criterion use |phi_j| f_j (the zero-variance IS density of a signed
//   integrand in the absence of control variates is proportional to |phi_j| f_j). The
//   zero-variance property then holds only for phi_j of constant sign; for signed phi_j
//   split it into phi_j+ and phi_j- (two columns) or add a known constant.
// * omega: user weights; empty means relative variance, omega_j = 1 / I_j_hat^2 with the
//   batch-0 plug-in (fixed afterwards). A column of phi that is exactly zero on every
//   batch-0 point (e.g. a Sobol' total-effect term of an input the model ignores) gets
//   omega_j = 0 and, while it stays zero on the pool, a proposal fitted to f_j itself
//   (weights f_j / h); its estimate stays unbiased. phi zero everywhere is an error.
//   Rare events (phi_j nonzero only where batch 0 never lands) are out of scope.
// * Degenerate control variate: when Var(g_j / g_alpha) <= 1e-10 mean(g_j/g_alpha)^2 on
//   a batch (J = 1, or identical components) beta_j is not identified; the estimator does
//   not depend on it then (g_j/g_alpha is constant) and beta_j = the batch mean of
//   f_j phi_j / g_alpha is used and flagged in `cv_degenerate`.
// * Covariance jitter: relative to the per-coordinate variance of the pooled points
//   (see gaussian.hpp), default 1e-6, the value used recorded per stage.
// * Stability at small budgets (a decision; the reference code has neither safeguard).
//   With few points per batch in many dimensions (e.g. 2000 points for the beam's Sobol'
//   indices in 12 dimensions: batches of 200, about 110 effective cross-entropy points)
//   the weighted covariances spread their eigenvalues, some proposals come out narrower
//   than f in some direction, and f_j / g_alpha becomes heavy-tailed (its variance is
//   infinite once a proposal variance is below half of f's): the variance of the
//   estimates grew about 5x above plain pick-freeze and s - m^2 could even come out
//   negative. Two safeguards:
//   - (on by default) a defensive component (Hesterberg 1995): the sampling mixture is
//       g_alpha = delta h + (1 - delta) sum_j alpha_j g_j,
//     h = the equal mixture of the input laws (f itself with one law), delta =
//     `defensive` (default 0.1), so f_j / g_alpha <= L / delta is bounded and every
//     Var(I_j_hat) is at most L / delta times the plain Monte Carlo one, while the loss
//     against the same mixture without it is at most a factor 1 / (1 - delta). alpha
//     (reported, sums to 1) is optimised with delta fixed: F(alpha) has
//     g_alpha = delta h + (1 - delta) G alpha in its denominator, still convex. The
//     control variate of expectation j stays g_j / g_alpha, still of mean 1.
//   - (off by default here, on in sobol_aiscv) covariance shrinkage of each
//     cross-entropy fit toward its diagonal with the data-driven Schaefer-Strimmer
//     intensity (see gaussian.hpp; `shrinkage`). It suits targets that are close to
//     uncorrelated, as in the Sobol' construction (standard-normal space, independent
//     inputs), where it is what removes the instability (summed variance 0.098 with the
//     defensive component alone, 0.011 with both, 20-50 seeds). With strongly correlated
//     targets it can narrow a proposal along its major axis: on the paper's 100 beam laws
//     (Gaussian copula, physical space) it made the summed relative MSE 6x worse
//     (0.0145 against 0.0021 without it, 4 seeds), hence off by default for aiscv().
//   `defensive = 0` and `shrinkage = false` give the reference algorithm.
// * Sampling from g_alpha: iid (component chosen with probability alpha_k), so the final
//   summands are iid and their sample variance is an unbiased variance estimate.
// * The budget counts points (one call of phi per point gives all J values).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"
#include "tessera/montecarlo/gaussian.hpp"
#include "tessera/montecarlo/laws.hpp"

namespace tessera::montecarlo {

enum class proposal_family { single_gaussian, gaussian_mixture };

struct aiscv_options {
  arma::uword budget = 20000;        // N_max: total number of points (phi evaluations)
  double adapt_fraction = 0.5;       // N1 / N_max, the most adaptation may use
  double batch_fraction = 0.1;       // n / N_max, batch size
  proposal_family family = proposal_family::single_gaussian;
  arma::uword mixture_components = 2;  // K of each g_j when family = gaussian_mixture
  bool diagonal = false;             // diagonal covariances
  double jitter = 1e-6;              // relative covariance jitter
  double alpha_floor = 9e-12;        // lower bound of every alpha_k
  double defensive = 0.1;            // delta: weight of the input law(s) in g_alpha, in [0, 1)
  bool shrinkage = false;            // shrink the cross-entropy covariances toward their diagonal
  arma::vec weights;                 // omega (length J); empty = 1 / I_hat^2 (relative)
  // When weights is empty and this is set: omega = weight_rule(batch-0 estimates).
  std::function<arma::vec(const arma::vec& initial_estimate)> weight_rule;
  double level = 0.95;               // confidence level of the intervals
};

struct adaptation_stage {
  arma::uword batch = 0;             // 0 = the initial batch from h_0
  arma::uword n_points = 0;          // points in this batch
  arma::uword n_total = 0;           // points used so far (N_now)
  arma::vec alpha;                   // mixture weights the batch was drawn with (empty for 0)
  arma::vec beta;                    // control-variate coefficients after the batch
  arma::vec estimate;                // batch estimate of each I_j (with beta)
  arma::vec s2;                      // per-sample variance of each summand on the batch
  double criterion = 0;              // sum omega s2 / (N - N_now)
  double jitter = 0;                 // relative jitter used by the CE fit after the batch
  double shrinkage = 0;              // largest covariance shrinkage intensity of that fit
  std::vector<gaussian_mixture> components;  // g_j fitted after the batch (empty if final)
};

struct aiscv_result {
  arma::vec estimate, se, lower, upper;  // length J
  arma::mat covariance;                  // J x J covariance of the estimates
  arma::vec ess;                         // ESS of f_j / g_alpha on the final sample
  arma::vec alpha, beta, weights;        // final alpha, beta, omega
  double defensive = 0;                  // delta: g_alpha = delta h + (1 - delta) sum alpha_j g_j
  std::vector<gaussian_mixture> components;  // final g_j
  std::vector<unsigned char> cv_degenerate;  // per j: control variate not identified
  arma::uword n_adapt = 0, n_final = 0;  // budget split
  std::vector<adaptation_stage> history;
  std::string stop_reason;
  double level = 0.95;
  aiscv_options options;
};

// phi: n x d points -> n x J values (n x 1 is broadcast when there are J laws).
using phi_function = std::function<arma::mat(const arma::mat& x)>;

// The algorithm as a state machine, for callers that evaluate phi themselves (R's
// deferred mode, distributed runs): while !done(), evaluate phi on ask() and tell() the
// values. Seeds: batch b uses derive_seed(seed, b), the final sample derive_seed(seed, 999).
class aiscv_session {
 public:
  // laws: one law, or J laws (one per expectation). n_outputs = J; 0 means "the number
  // of columns of the first tell()" (with one law) or the number of laws.
  aiscv_session(std::vector<input_law> laws, arma::uword n_outputs, const aiscv_options& options,
                std::uint64_t seed);
  bool done() const { return phase_ == phase::done; }
  // "initial", "adapt", "final" or "done".
  std::string phase_name() const;
  const arma::mat& ask() const { return pending_; }
  void tell(const arma::mat& values);
  const aiscv_result& result() const;
  arma::uword dim() const { return d_; }
  arma::uword n_outputs() const { return J_; }

 private:
  enum class phase { initial, adapt, final, done };
  void start_batch_from_h0();
  void draw_from_proposal(arma::uword n, std::uint64_t stream);
  void set_outputs(arma::uword J);
  void fit_components();
  void update_alpha();
  arma::mat law_log_densities(const arma::mat& x) const;  // n x L
  arma::mat component_log_densities(const arma::mat& x) const;  // n x J
  arma::vec h0_log_density(const arma::mat& logf) const;
  // log g_alpha at points with component log densities logG and law log densities logf.
  arma::vec proposal_log_density(const arma::mat& logG, const arma::vec& alpha, const arma::mat& logf) const;
  // log h at the pooled points: the deterministic mixture of every past proposal.
  arma::vec pool_log_density() const;
  arma::mat checked_values(const arma::mat& values) const;
  void finish(const arma::mat& values);
  arma::uword law_of(arma::uword j) const { return laws_.size() == 1 ? 0 : j; }

  std::vector<input_law> laws_;
  arma::uword J_ = 0, d_ = 0, L_ = 0;
  aiscv_options options_;
  std::uint64_t seed_ = 0;
  arma::uword N_ = 0, n_batch_ = 0, N1_ = 0;
  phase phase_ = phase::initial;
  arma::mat pending_;
  arma::uvec h0_counts_;
  // Pool of adaptation points.
  arma::mat X_, logf_, phi_, logq_;  // logq_: M x B, log density of each past proposal
  std::vector<arma::uword> batch_sizes_;
  std::vector<std::vector<gaussian_mixture>> stage_components_;  // q_b for b >= 1
  std::vector<arma::vec> stage_alpha_;
  std::vector<gaussian_mixture> components_;
  arma::mat logG_;  // M x J at the current components
  arma::vec alpha_, beta_, omega_, s2_old_;
  std::vector<unsigned char> degenerate_;
  arma::uword N_prev_ = 0, N_now_ = 0, batch_index_ = 0;
  double last_jitter_ = 0, last_shrinkage_ = 0;
  aiscv_result result_;
};

// Runs the session to the end with phi.
aiscv_result aiscv(const phi_function& phi, const std::vector<input_law>& laws, arma::uword n_outputs,
                   const aiscv_options& options, std::uint64_t seed,
                   const runtime_context& context = silent_context());

// The final-stage estimator for a GIVEN proposal: n iid points from sum_k alpha_k g_k,
// estimates with fixed beta (no adaptation). Used by the session and for checks.
aiscv_result estimate_with_proposal(const phi_function& phi, const std::vector<input_law>& laws,
                                    arma::uword n_outputs, const std::vector<gaussian_mixture>& components,
                                    const arma::vec& alpha, const arma::vec& beta, arma::uword n,
                                    double level, std::uint64_t seed);

// The alpha step on its own: minimises F(alpha) = mean_i a_i / (c_i + G_i . alpha) over
// the floored simplex (a_i >= 0, G >= 0 rows of component densities, possibly rescaled
// per row; c >= 0 the defensive part, empty for none). Returns the minimiser.
arma::vec optimise_alpha(const arma::vec& a, const arma::mat& G, const arma::vec& alpha0, double floor,
                         const arma::vec& offset = arma::vec());

}  // namespace tessera::montecarlo
