#pragma once
// Private to the ordinal module: the cumulative-logit problem on the difference
// parameterisation and its proximal Newton solver (see presto.hpp for the method).
#include <string>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"
#include "tessera/ordinal/presto.hpp"

namespace tessera::ordinal::detail {

// Data sorted by class, centred and (optionally) scaled; weights normalised to sum 1.
// Works for any K >= 2 (K = 2 is logistic regression, used by the Logit baseline).
struct problem {
  arma::uword n = 0, p = 0, K = 0, M = 0;
  arma::mat X;            // n x p, standardised, rows sorted by class
  arma::mat Xsq;          // X % X
  arma::uvec cls;         // class of each sorted row
  arma::vec u;            // weights / sum(weights), sorted
  arma::uvec start;       // K + 1 row offsets: class c occupies [start[c], start[c+1])
  arma::rowvec center, scale;
  arma::uvec zero_column; // 1 where the column has SD 0 (its coefficients stay 0)

  problem(const arma::mat& X_in, const arma::uvec& y, arma::uword n_classes,
          const arma::vec& weights, bool standardize);
};

// Parameters on the standardised scale.
struct parameters {
  arma::vec a;            // M intercepts
  arma::mat psi;          // p x M differences
};

struct solve_report {
  double objective = 0;
  int iterations = 0;
  int sweeps = 0;
  bool converged = true;
  std::string message;
  bool constrained = false;  // the non-crossing barrier was needed
  double mu = 0;             // its final weight
  arma::mat multipliers;     // n x (M-1) constraint multipliers (sorted rows), when constrained
};

// The intercept-only fit: logit of the weighted cumulative class frequencies, psi = 0.
parameters null_parameters(const problem& P);

// Linear predictors n x M (sorted rows).
arma::mat linear_predictors(const problem& P, const parameters& theta);

// Mean loss -sum u_i log p_i at eta; +inf if a training row crosses or an observed
// class has probability 0.
double mean_loss(const problem& P, const arma::mat& eta);

// Penalty matrix f (p x M): +inf = fixed at zero, 0 = unpenalised.
struct penalty {
  arma::mat f;
  double alpha = 1;
};
double penalty_value(const penalty& pen, double lambda, const arma::mat& psi);

// Minimises loss + lambda * penalty from theta (updated in place) subject to no crossing
// on the training rows: proximal Newton; if its steps are blocked by the constraint, a
// log-barrier continuation (see presto.hpp). With lambda_infinite, every coordinate with
// f > 0 is held at zero. expect_constrained (the warm start is a constrained solution)
// tries the barrier first. The user-interrupt check of `context` runs at every Newton
// iteration.
solve_report solve(const problem& P, const penalty& pen, double lambda, bool lambda_infinite,
                   parameters& theta, const presto_options& opt, bool expect_constrained,
                   const runtime_context& context);

// Gradient of the mean loss: dL/dpsi (p x M) and dL/da (M).
void loss_gradient(const problem& P, const parameters& theta, double p_min, arma::mat& g_psi,
                   arma::vec& g_a);

// Largest KKT residual at theta (standardised scale); with multipliers (n x (M-1), sorted
// rows) of the non-crossing constraints, of the Lagrangian.
double kkt_violation(const problem& P, const penalty& pen, double lambda, const parameters& theta,
                     double p_min, const arma::mat& multipliers = arma::mat());

// Back-transform to the original scale (cumulative sums; see presto.hpp).
void to_original(const problem& P, const parameters& theta, arma::vec& intercepts, arma::mat& beta,
                 arma::mat& psi);

// Validation shared by the public entry points (min_classes: 3 for PRESTO, 2 inside).
void validate_data(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                   const arma::vec& weights, arma::uword min_classes, bool check_constant);

// The path without the data validation (used by the CV folds and the baselines).
presto_fit fit_path(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                    presto_options opt, const arma::vec& weights, const runtime_context& context);

}  // namespace tessera::ordinal::detail
