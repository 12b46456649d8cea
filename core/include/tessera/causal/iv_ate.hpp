#pragma once
// The average treatment effect with a possibly invalid binary instrument: multiply robust
// (MR), multiply debiased machine learning (MDML) and selective ML, after Sun, Cui and
// Tchetgen Tchetgen, "Selective machine learning of the average treatment effect with an
// invalid instrumental variable", JMLR 23 (2022). Plus two context estimators: the Wald/
// LATE ratio (assumes exclusion) and the doubly robust ATE assuming no unmeasured
// confounding.
//
// Data O = (L, Z, A, Y): Y real, A in {0,1}, Z in {0,1}, L = covariates (n x p, p >= 0).
// Assumptions (GENIUS family; the paper's wording and numbering were not available, this
// is the form the method note derives): latent ignorability Y(a,z) _||_ (A,Z) | U,L;
// positivity 0 < pi(L) = P(Z=1|L) < 1; Z _||_ U | L; E[Y(1,z)-Y(0,z) | U,L,Z] = delta(L);
// P(A=1|Z,U,L) = m(Z,L) + t(U,L); E[Y(0,z)|U,L] = alpha(z,L) + xi(U,L). The exclusion
// restriction is NOT assumed. Target psi = E[delta(L)].
//
// Identification (checked algebra of the method note): with p_z = P(A=1|Z=z,L),
// v_z = p_z(1-p_z), mu_az = E[Y|A=a,Z=z,L], m_z = E[Y|Z=z,L], C_z = v_z (mu_1z - mu_0z),
//   delta(L) = (C_1 - C_0) / (v_1 - v_0),   gamma(L) = (v_1 C_0 - v_0 C_1) / (v_1 - v_0),
// identified iff v_1 != v_0, i.e. p_1 != p_0 AND p_1 + p_0 != 1.
// Efficient influence function (nonparametric model):
//   EIF = delta - psi + (Z - pi)/(pi(1-pi)) * [(A - p_Z)(Y - m_Z) - delta (A - p_Z)^2 - gamma] / (v_1 - v_0)
// (the unit test checks it against a numerical Gateaux derivative on a discrete law).
//
// MR (parametric, consistent in the union of M1 = {p, gamma, delta}, M2 = {pi, b, delta},
// M3 = {pi, p}, b(z,L) = m_z - delta p_z): logistic pi(L; alpha) on [1, L]; logistic
// p(z, L; kappa_z) fitted separately in each Z arm on [1, L]; delta(L; beta) = beta'[1, L];
// b by OLS of (Y - delta A) on [1, Z, L, Z L]; gamma by OLS of R = (A - p_Z)(Y - delta A - b)
// on [1, L]; beta solves sum_i [1,L_i] (Z_i - pi_i)(R_i - gamma_i) = 0, which is linear in
// beta (one closed-form solve, never a bounded search). Then
//   psi = P_n[ delta(L; beta) + (Z - pi)(R - gamma) / (pi (1 - pi) (v_1 - v_0)) ].
// Standard errors: sandwich B^-1 M B^-T / n of the stacked estimating equations
// (alpha, kappa_0, kappa_1, beta, omega, rho, psi); B is the Jacobian of the mean estimating
// function by central differences (step 1e-6 * max(1, |theta_j|)), M the empirical
// second moment of the per-observation equations. Optional nonparametric bootstrap.
//
// MDML: K-fold cross-fitting. On the training folds, learners fit pi(L) (classifier of Z),
// p_z(L) (classifier of A in arm z) and mu_az(L) (regression of Y in cell (a, z)); on the
// held-out fold delta, gamma, m_z and C_z follow from the closed forms above and the
// pseudo-outcome xi_i = EIF_i + psi is computed. psi = mean(xi), SE = sd(xi)/sqrt(n).
// Decision: the covariance C_z is modelled through the cell means mu_az (not by regressing
// a product of residuals), so no nested cross-fitting is needed. Repeated splits: the
// median of the split estimates, SE = median of sqrt(se_s^2 + (psi_s - psi)^2) (DoubleML).
//
// Trimming (explicit, reported): pi is truncated to [trim_pi, 1 - trim_pi]; v_1 - v_0 is
// truncated away from zero to sign * max(|v_1 - v_0|, trim_v) (sign + at exactly 0), in the
// weights and in delta and gamma alike. If more than max_weak_share of the observations
// have |v_1 - v_0| < trim_v the ATE is declared not identified (invalid_argument, whose
// message says whether p_1 ~ p_0 or p_1 + p_0 ~ 1 dominates).
//
// Structural zeros / one-sided noncompliance: an arm z in which A is constant in the data
// has p_z fixed at that constant (no model fitted), v_z = 0, and the cell that never occurs
// needs no outcome model. It is reported in the diagnostics with its meaning: when
// P(A=1|Z=0) = 0, delta(L) = mu_11 - mu_01 and the additive treatment model forces
// A _||_ U | L, i.e. no unmeasured confounding is implied.
//
// Selective ML (the note's "adaptation", its form [unsure]): psi_k(t) is the mean of the
// pseudo-outcomes on validation fold k of tuple t = (pi, p, mu learners), trained on the other
// folds. By the bias formula psi is invariant to the pi learner when (p, gamma, delta) are
// right (M1) and to the m, gamma, delta learners when (pi, p) are right (M3). With learners
// for pi, p and mu (delta, gamma, b derived from p and mu), M1 is held by fixing (p, mu) and
// M3 by fixing (pi, p); M2 = {pi, b, delta} cannot be held apart from p, so it has no term:
//   PR(t) = max_{pi1, pi2} mean_k [psi_k(pi1, p_t, mu_t) - psi_k(pi2, p_t, mu_t)]^2
//         + max_{mu1, mu2} mean_k [psi_k(pi_t, p_t, mu1) - psi_k(pi_t, p_t, mu2)]^2.
// (Session 1 also added the squared range over p with (pi, mu) held; that is not an
// invariance of any submodel and penalised the correct tuple: see tests/causal.) The tuple
// minimising PR is refit by MDML on a fresh split; the Wald interval ignores the selection.
//
// Other decisions: missing values are rejected by the core (the R layer drops incomplete
// rows through na.action, na.omit by default); the MR working models are fitted without
// penalty unless separation forces the glm ridge fallback, whose penalty then enters the
// stacked estimating equations; the MR pi is truncated at trim_pi inside the equations;
// a bootstrap resample that changes the arm structure or fails is skipped and counted;
// folds are stratified by the (A, Z) cell; the context estimators ignore z (DR) or x (Wald).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"
#include "tessera/glm/glm.hpp"

namespace tessera::causal {

// A nuisance learner: fits (x, target) and returns predictions at x_new (probabilities when
// `binary`). It may throw; the caller adds which learner and nuisance failed.
struct learner {
  std::string name;
  std::function<arma::vec(const arma::mat& x, const arma::vec& target, const arma::mat& x_new,
                          bool binary, std::uint64_t seed)>
      fit_predict;
};

// Unpenalised linear / logistic regression (separation handled by a ridge refit).
learner glm_learner();
// Elastic net with lambda by K-fold CV (alpha = 1 lasso, 0 ridge); degree 2 adds squares
// and pairwise products of the (standardised) columns before fitting.
learner penalised_learner(double alpha = 1.0, int degree = 1, int cv_folds = 5,
                          glm::cv_rule rule = glm::cv_rule::min);
// The mean (or class frequency) of the target: a deliberately poor reference learner.
learner mean_learner();
// Squares and pairwise products of the columns (degree 2); degree 1 returns x.
arma::mat polynomial_basis(const arma::mat& x, int degree);

struct trim_options {
  double trim_pi = 0.01;          // pi truncated to [trim_pi, 1 - trim_pi]
  double trim_v = 0.01;           // |v1 - v0| truncated below at trim_v
  double max_weak_share = 0.5;    // more than this share with |v1 - v0| < trim_v: not identified
};

struct diagnostics {
  arma::vec v_diff;               // v1 - v0 per observation, untruncated
  arma::vec v_diff_quantiles;     // |v1 - v0| at probabilities 0, .05, .25, .5, .75, .95, 1
  double share_weak = 0;          // share with |v1 - v0| < trim_v
  double share_p_equal = 0;       // share with |p1 - p0| < 0.05
  double share_p_sum_one = 0;     // share with |p1 + p0 - 1| < 0.05
  double pi_min = 0, pi_max = 0;  // range of the untruncated instrument propensity
  arma::uword n_trim_pi = 0;      // observations whose pi was truncated
  arma::uword n_trim_v = 0;       // observations whose v1 - v0 was truncated
  bool one_sided = false;         // A constant in some instrument arm (structural zero/one)
  int one_sided_arm = -1;         // which arm (0 or 1), -1 if none
  double one_sided_value = 0;     // the constant value of A in that arm
  arma::uvec arm_counts;          // observations in cells (a, z): order (0,0), (1,0), (0,1), (1,1)
  std::vector<std::string> warnings;
};

struct iv_ate_result {
  std::string method;             // "mr", "mdml", "selective", "wald", "dr_no_confounding"
  double estimate = 0, se = 0;
  double ci_lower = 0, ci_upper = 0, level = 0.95;
  arma::vec pseudo_outcome;       // per-observation influence values + estimate (MDML/MR/DR)
  arma::mat nuisance;             // n x 7, named by nuisance_names (pi trimmed): MDML pi, p0, p1,
                                  // mu00, mu10, mu01, mu11; MR pi, p0, p1, b0, b1, delta, gamma
  std::vector<std::string> nuisance_names;
  diagnostics diag;
  // MR only
  arma::vec theta;                // stacked parameters (alpha, kappa0, kappa1, beta, omega, rho, psi)
  arma::mat vcov_theta;           // their sandwich covariance
  arma::vec beta, beta_se;        // CATE coefficients on [1, L] and their SEs
  std::vector<std::string> model_messages;  // separation / structural-arm notes of the working models
  // bootstrap (MR) or repeated splits (MDML)
  arma::vec replicates;
  double bootstrap_se = 0, bootstrap_lower = 0, bootstrap_upper = 0;
  // cross-fitting
  int folds = 0;
  arma::uvec fold_id;             // first split's folds
  // selective ML
  arma::umat tuples;              // candidate tuples (indices into pi, p, mu candidates)
  arma::vec pseudo_risk, tuple_estimate;
  arma::mat pseudo_risk_terms;    // T x 2: the M1 term (pi varied) and the M3 term (mu varied)
  arma::mat tuple_fold_estimate;  // K x T: psi_k of every tuple on each validation fold
  arma::uword selected = 0;       // row of `tuples` chosen
  std::vector<std::string> learner_names;  // of the learners used (pi, p, mu)
  trim_options trim;
};

struct mr_options {
  double level = 0.95;
  trim_options trim;
  int bootstrap = 0;              // number of bootstrap replicates (0: none)
  glm::fit_options logistic;      // options of the pi and p working models (family forced to binomial)
};

struct mdml_options {
  int folds = 5;
  int repeats = 1;                // repeated splits, median aggregation
  double level = 0.95;
  trim_options trim;
};

// Validates (y, a, z, x): equal lengths, finite, a and z 0/1 and not constant, at least 2
// observations in each Z arm.
void validate_iv_data(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x);

iv_ate_result fit_mr(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                     const mr_options& options, std::uint64_t seed,
                     const runtime_context& context = silent_context());

// Learners for pi, p and mu (any may be the same learner).
iv_ate_result fit_mdml(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                       const learner& pi_learner, const learner& p_learner, const learner& mu_learner,
                       const mdml_options& options, std::uint64_t seed,
                       const runtime_context& context = silent_context());

iv_ate_result fit_selective(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                            const std::vector<learner>& pi_candidates,
                            const std::vector<learner>& p_candidates,
                            const std::vector<learner>& mu_candidates, const mdml_options& options,
                            std::uint64_t seed, const runtime_context& context = silent_context());

// Wald ratio (E[Y|Z=1]-E[Y|Z=0]) / (E[A|Z=1]-E[A|Z=0]) with influence-function SE; ignores x.
iv_ate_result fit_wald(const arma::vec& y, const arma::vec& a, const arma::vec& z, double level = 0.95);

// Cross-fitted AIPW ATE assuming no unmeasured confounding (ignores z): e(L) by
// `propensity`, E[Y|A=a,L] by `outcome` in each arm; e truncated to [trim, 1 - trim].
iv_ate_result fit_dr_no_confounding(const arma::vec& y, const arma::vec& a, const arma::mat& x,
                                    const learner& propensity, const learner& outcome, int folds,
                                    double trim, double level, std::uint64_t seed);

// The EIF of psi at given nuisance values (vectors of length n; used by the estimators and
// exposed for checks). Returns xi = EIF + psi; trimming as in `trim`, counts in `diag`.
arma::vec pseudo_outcome(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& nuisance,
                         const trim_options& trim, diagnostics* diag = nullptr);

}  // namespace tessera::causal
