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
  int em_iterations = 0;
};

// Weighted single-Gaussian fit (cross-entropy update). w >= 0, not all zero.
gaussian fit_gaussian(const arma::mat& x, const arma::vec& w, const arma::rowvec& scale, double jitter,
                      bool diagonal, fit_report& report);

// Weighted EM for a K-component mixture, started from a weighted k-means++ choice of
// centres drawn with `rng`; at most `max_iter` iterations, stopping when the weighted
// log-likelihood changes by less than tol (relative).
gaussian_mixture fit_gaussian_mixture(const arma::mat& x, const arma::vec& w, arma::uword K,
                                      const arma::rowvec& scale, double jitter, bool diagonal,
                                      rng_engine& rng, fit_report& report, int max_iter = 100,
                                      double tol = 1e-8);

}  // namespace tessera::montecarlo
