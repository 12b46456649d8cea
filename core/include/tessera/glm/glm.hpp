#pragma once
// Weighted linear and logistic regression, unpenalised or penalised by the elastic net,
// with the penalty chosen by K-fold cross-validation. Used as nuisance learners and
// baselines by the estimator modules (dependency: common <- optim <- glm <- estimators).
//
// Objective (the glmnet convention, so that lambda means the same thing as there):
//   minimise over (b0, b)   (1 / sum(w)) * sum_i w_i * loss(y_i, b0 + x_i'b)
//                          + lambda * sum_j pf_j * ( alpha * |b_j| + (1 - alpha) / 2 * b_j^2 ),
//   gaussian: loss = (y - eta)^2 / 2;  binomial: loss = -[y eta - log(1 + exp(eta))], y in {0, 1}.
// With standardize = true (default) the penalty applies to the coefficients of the
// columns scaled to unit weighted population standard deviation (again as in glmnet);
// coefficients are always returned on the original scale. The intercept is never
// penalised. lambda = 0 gives the unpenalised fit, solved directly (weighted least
// squares, or Newton/IRLS for the logistic model) with model-based covariance.
//
// Solver (the glmnet algorithm, Friedman, Hastie, Tibshirani 2010): cyclic coordinate descent
// with soft-thresholding along a decreasing lambda path with warm starts; gaussian fits with
// p < 500 use covariance updates (gradient of every column kept, inner products x_k'W x_j
// computed when j first moves), otherwise naive residual updates; the logistic model runs an
// outer IRLS loop around the inner solver. Sequential strong rules restrict each lambda to
// the ever-active columns and those with |gradient| > alpha pf_j (2 lambda_k - lambda_{k-1});
// the KKT conditions of every other column are checked afterwards and violators added.
// Convergence: the largest weighted squared coefficient move of a sweep, max_j v_j
// (delta b_j)^2, below tol times the weighted variance of y (for IRLS also over a whole
// IRLS step). A generated path (no explicit lambda) stops early as glmnet's does: after 5
// lambdas, once the deviance ratio exceeds 0.999 or gains less than 1e-5 (relative to the
// ratio for gaussian, absolute for binomial). cross_validate fits the path on all the data
// first, the folds reuse that (possibly shortened) sequence, and the returned fit is read off
// the full-data path (no refit).
//
// Decisions:
// * Gaussian fits with alpha < 1 solve exactly the objective above. (glmnet rescales y
//   to unit standard deviation internally, so its gaussian ridge/elastic-net solutions
//   match this objective only when y has unit weighted sd; our fixtures respect that.)
// * Separation in the logistic model (unpenalised fit whose fitted probabilities reach
//   within 1e-8 of 0 or 1, or Newton not converging) is reported in `separation` and,
//   with `on_separation = ridge` (default), handled by refitting with a ridge penalty
//   `separation_lambda` (default 1e-3) on the standardised scale; the message says so.
//   With `on_separation = error` it throws tessera::numerical_error.
// * A logistic response with a single class is bad input (invalid_argument).
// * Constant columns are allowed in penalised fits (their coefficient stays 0) but make
//   an unpenalised fit singular, which is reported as invalid_argument naming the column.
// * Cross-validation: folds are a seeded random partition; the loss is the weighted mean
//   squared error (gaussian) or binomial deviance on the held-out fold; cvm is the
//   weighted mean over all held-out observations, cvsd the standard error across folds
//   (as cv.glmnet). rule = min (default) picks lambda.min, one_se the largest lambda
//   within one cvsd of the minimum (lambda.1se).
#include <cstdint>
#include <string>

#include "tessera/common/arma.hpp"

namespace tessera::glm {

enum class family { gaussian, binomial };
enum class separation_action { ridge, error };
enum class cv_rule { min, one_se };

struct fit_options {
  family link = family::gaussian;
  double lambda = 0.0;            // penalty; 0 = unpenalised
  double alpha = 1.0;             // elastic-net mix: 1 lasso, 0 ridge
  bool intercept = true;
  bool standardize = true;        // penalise standardised coefficients
  arma::vec penalty_factor;       // per-column multipliers (empty: all 1)
  double tol = 1e-10;             // coordinate-descent tolerance (relative)
  long max_sweeps = 100000;       // coordinate-descent sweeps per inner solve
  int max_irls = 100;             // outer Newton/IRLS iterations (binomial)
  separation_action on_separation = separation_action::ridge;
  double separation_lambda = 1e-3;
};

struct glm_fit {
  family link = family::gaussian;
  double intercept = 0.0;         // b0 (0 when fit without intercept)
  arma::vec beta;                 // b, original scale
  double lambda = 0.0;            // lambda actually used (separation_lambda after a fallback)
  double alpha = 1.0;
  arma::mat vcov;                 // (p+1)x(p+1) model-based covariance of (b0, b); unpenalised only
  double deviance = 0.0;          // sum_i w_i * 2 * loss_i / sum(w) (gaussian: weighted MSE)
  double null_deviance = 0.0;
  bool separation = false;        // logistic separation detected
  bool converged = true;
  int iterations = 0;             // IRLS iterations or CD sweeps
  std::string message;
  arma::rowvec x_center, x_scale; // weighted means and standardisation scales used

  arma::vec predict_link(const arma::mat& X) const;
  // Response scale: identity (gaussian) or probability (binomial).
  arma::vec predict(const arma::mat& X) const;
};

// Fits one model. X: n x p (p may be 0), y: n, weights: n non-negative with positive
// sum, or empty for all ones.
glm_fit fit(const arma::mat& X, const arma::vec& y, const arma::vec& weights,
            const fit_options& options = {});

struct path_options {
  int n_lambda = 100;
  double lambda_min_ratio = -1;   // < 0: 1e-4 if n > p, else 1e-2 (glmnet's default)
  arma::vec lambda;               // explicit decreasing sequence (overrides the two above)
};

// The largest lambda of the path: smallest lambda at which every penalised coefficient
// is zero (for alpha < 1e-3 computed as if alpha = 1e-3, as glmnet does).
double lambda_max(const arma::mat& X, const arma::vec& y, const arma::vec& weights,
                  const fit_options& options);
arma::vec lambda_path(const arma::mat& X, const arma::vec& y, const arma::vec& weights,
                      const fit_options& options, const path_options& path);

struct path_fit {
  arma::vec lambda;               // the lambdas fitted (a generated path may stop early)
  arma::vec intercept;            // b0 per lambda, original scale
  arma::mat beta;                 // p x L coefficients, original scale
  arma::vec dev_ratio;            // fraction of the null deviance explained, per lambda
  bool converged = true;          // every lambda converged
};

// The penalised fit along a decreasing lambda path with warm starts (options.lambda is
// ignored). A generated path (path.lambda empty) stops early as glmnet's does (see above).
path_fit fit_path(const arma::mat& X, const arma::vec& y, const arma::vec& weights, const fit_options& options,
                  const path_options& path = {});

struct cv_options {
  int folds = 5;
  cv_rule rule = cv_rule::min;
  path_options path;
  arma::uvec fold_id;             // optional fixed folds (0-based, values 0..folds-1); empty: seeded random
};

struct cv_fit {
  arma::vec lambda;               // the path
  arma::vec cvm, cvsd;            // cross-validated loss and its standard error
  double lambda_min = 0, lambda_1se = 0;
  glm_fit fit;                    // refit on all data at the chosen lambda
  arma::uvec fold_id;             // fold (0-based) of each observation
};

// Penalised fit with lambda chosen by K-fold CV (options.lambda is ignored).
cv_fit cross_validate(const arma::mat& X, const arma::vec& y, const arma::vec& weights,
                      const fit_options& options, const cv_options& cv, std::uint64_t seed);

// A seeded random partition of 0..n-1 into `folds` groups of sizes differing by at most 1.
arma::uvec make_folds(arma::uword n, int folds, std::uint64_t seed);
// Same, but balanced within each stratum (strata: integer labels, e.g. a binary outcome);
// tessera::stratified_folds (common/folds.hpp).
arma::uvec make_stratified_folds(const arma::uvec& strata, int folds, std::uint64_t seed);

}  // namespace tessera::glm
