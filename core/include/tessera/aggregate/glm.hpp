#pragma once
// Bag-level, instance-level and interpolating losses for canonical GLMs (beyond the
// paper's linear case; covers learning from label proportions with the logistic model).
//
// With the canonical loss l(y, eta) = b(eta) - y eta (b the cumulant: gaussian eta^2/2,
// binomial log(1 + e^eta), poisson e^eta), eta_i = x_i'theta and the bag's linear predictor
// taken as the mean etabar_a = xbar_a'theta [the note's derived general form]:
//   L_bag(theta) = (1/n) sum_a |B_a| [b(etabar_a) - ybar_a etabar_a]
//   L_ins(theta) = (1/n) sum_a sum_{i in B_a} [b(eta_i) - ybar_a eta_i]
//   L_ins - L_bag = (1/n) sum_a sum_{i in B_a} [b(eta_i) - b(etabar_a)] >= 0  (label-free;
//   Jensen), and the fit minimises (1 - rho) L_bag + rho L_ins + (lambda/2) ||theta_{-int}||^2.
// The gaussian family therefore reproduces the linear estimator with ridge lambda exactly
// (every term is half the squared-loss one). The identity holds for the mean-eta bag model,
// not for LLP cross-entropy against the mean of the sigmoids.
//
// Solver: damped Newton (optim/newton.hpp) from theta = 0; the objective is convex. When the
// minimiser does not exist (separable data, rho = 0 with fewer bags than coefficients) the
// fit reports converged = false; rho = 0 without ridge and m < p is rejected up front.
// Choosing rho: fixed, or cross-validation over bags (seeded folds) scoring the held-out
// bags by sum_a |B_a| (ybar_a - mean_{i in B_a} mu_i)^2 / m_fold with mu_i = b'(eta_i), fitting
// the grid with warm starts. Bag predictions: the mean over the bag of the instance means
// mu_i (what the aggregate estimates), not b'(etabar_a).
// Standard errors (sandwich, conditional on x): the estimate solves grad(theta) = 0, whose
// only random part is -(1/n) sum_a |B_a| xbar_a ybar_a whatever rho, so
//   Cov(theta) ~ H^{-1} M H^{-1},  H the Hessian of the objective (ridge included) at the
//   estimate, M = (phi/n^2) sum_a xbar_a xbar_a' sum_{i in B_a} V(mu_i),
// using Var(ybar_a) = phi sum_{i in B_a} V(mu_i)/|B_a|^2 for independent responses, V the
// variance function at the fitted means and phi = 1 (binomial, poisson) or, for the gaussian
// family, sigma^2 from the bag-level fit (linear.hpp), which makes the gaussian standard
// errors those of the linear estimator. With k = 1 they are the usual GLM (inverse Fisher)
// standard errors. For rho > 0 the estimator is biased: they describe its spread, not its
// distance from theta0. Not reported when the fit did not converge, the Hessian is singular,
// or (gaussian) m <= p; `se_message` says why.
#include <cstdint>
#include <string>

#include "tessera/aggregate/bags.hpp"
#include "tessera/aggregate/linear.hpp"
#include "tessera/common/arma.hpp"
#include "tessera/optim/newton.hpp"

namespace tessera::aggregate {

enum class glm_family { gaussian, binomial, poisson };
std::string to_string(glm_family f);

struct glm_options {
  glm_family family = glm_family::binomial;
  bool intercept = true;
  double ridge = 0;                   // lambda >= 0
  rho_method method = rho_method::cv; // fixed or cv (no oracle theory for GLMs)
  double rho = 1;
  arma::vec rho_grid;                 // empty: {0 if m >= p} U {0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1}
  int folds = 5;
  std::uint64_t seed = 1;
  bool standard_errors = true;
  optim::newton_options newton;
};

struct glm_losses {
  double bag = 0, instance = 0, within = 0;  // within computed directly from the b(eta) terms
};

struct glm_fit {
  arma::vec coef;                     // intercept first when present
  double rho = 0;
  rho_method method = rho_method::cv;
  arma::vec rho_grid, cv_mse, cv_se;
  glm_losses losses;                  // at coef, without the ridge term
  double objective = 0;               // with the ridge term
  arma::vec std_errors;               // empty when not available (see se_message)
  arma::mat vcov;
  double dispersion = 0;              // phi used (0 when no standard errors)
  std::string se_message;
  bool converged = false;
  int iterations = 0;
  std::string message;
  arma::uword n = 0, m = 0, p = 0;
  glm_family family = glm_family::binomial;
  bool intercept = true;
  double ridge = 0;
  glm_options options;
};

glm_fit fit_glm(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                const glm_options& options = {});

// The three losses at theta (theta includes the intercept when intercept is true).
glm_losses evaluate_glm_losses(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                               const arma::vec& theta, glm_family family, bool intercept);

// Instance predictions on the link (eta) or response (mu) scale; bag predictions are the
// bag means of the response-scale predictions.
arma::vec predict_glm(const glm_fit& fit, const arma::mat& X, bool response = true);
arma::vec predict_glm_bag(const glm_fit& fit, const arma::mat& X, const bag_structure& bags);

}  // namespace tessera::aggregate
