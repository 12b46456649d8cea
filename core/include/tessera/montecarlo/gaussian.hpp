#pragma once
// Gaussian proposals for the adaptive importance sampler: multivariate normal
// components with a cached Cholesky factor, finite mixtures of them, log densities by
// triangular solves and log-sum-exp (never exp of a large number), and the weighted
// cross-entropy fits: a single Gaussian (weighted mean and centred weighted covariance)
// or a K-component mixture by weighted EM.
//
// Jitter (a decision; the reference adds an absolute 1e-6 I): the fitted covariance gets
// `jitter * diag(scale)` added, where `scale` is the per-coordinate variance of the
// (unweighted) points, so the regularisation is relative to the problem's units. If the
// Cholesky factorisation still fails, the jitter is multiplied by 10 (at most 12 times)
// and the value finally used is returned, so callers can report it.
//
// Covariance shrinkage (a decision, against the instability of small budgets; the
// reference code has none): a weighted covariance from few effective points spreads its
// eigenvalues (Marchenko-Pastur), and a proposal narrower than the target in some
// direction makes f / g heavy-tailed (infinite variance once a variance is below half the
// target's). With `shrink`, the off-diagonal entries are multiplied by 1 - lambda, the
// data-driven intensity of Schaefer and Strimmer (2005, target "D": diagonal, unequal
// variances) computed with the weights:
//   lambda = sum_{i != j} Var(s_ij) / sum_{i != j} s_ij^2, clamped to [0, 1],
//   Var(s_ij) = sum_k p_k^2 (c_ki c_kj - s_ij)^2 (p = normalised weights, c = centred x),
// which is near 1 when the effective sample is small against d and near 0 when it is
// large (so the paper's fit is recovered at large budgets).
#include <cstdint>
#include <vector>

#include "tessera/common/arma.hpp"
#include "tessera/common/rng.hpp"

namespace tessera::montecarlo {

struct gaussian {
  arma::vec mean;
  arma::mat cov;
  arma::mat chol_lower;   // cov = L L'
  double log_norm = 0;    // -d/2 log(2 pi) - sum log diag(L)
};

// Throws numerical_error if `cov` is not positive definite.
gaussian make_gaussian(const arma::vec& mean, const arma::mat& cov);
arma::vec log_density(const gaussian& g, const arma::mat& x);  // rows of x

struct gaussian_mixture {
  std::vector<gaussian> components;
  arma::vec weights;  // sum to 1
};
arma::vec log_density(const gaussian_mixture& g, const arma::mat& x);
arma::mat sample(const gaussian_mixture& g, arma::uword n, rng_engine& rng);

// Row-wise log(sum_k exp(a(i, k))), safe for -Inf entries.
arma::vec log_sum_exp_rows(const arma::mat& a);

struct fit_report {
  double jitter = 0;  // relative jitter finally used (largest over components)
  double shrinkage = 0;  // largest shrinkage intensity lambda over the fits
  int em_iterations = 0;
};

// Weighted single-Gaussian fit (cross-entropy update). w >= 0, not all zero.
gaussian fit_gaussian(const arma::mat& x, const arma::vec& w, const arma::rowvec& scale, double jitter,
                      bool diagonal, fit_report& report, bool shrink = false);

// The shrinkage intensity lambda above for weighted points (p sums to 1).
double shrinkage_intensity(const arma::mat& centred, const arma::vec& p, const arma::mat& cov);

// Weighted EM for a K-component mixture, started from a weighted k-means++ choice of
// centres drawn with `rng`; at most `max_iter` iterations, stopping when the weighted
// log-likelihood changes by less than tol (relative).
gaussian_mixture fit_gaussian_mixture(const arma::mat& x, const arma::vec& w, arma::uword K,
                                      const arma::rowvec& scale, double jitter, bool diagonal,
                                      rng_engine& rng, fit_report& report, bool shrink = false,
                                      int max_iter = 100, double tol = 1e-8);

}  // namespace tessera::montecarlo
