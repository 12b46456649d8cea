#pragma once
// Shared helpers for the ordinal tests (independent of the solver's code paths).
#include <string>

#include "tessera/tessera.hpp"

namespace ordinal_test {

inline arma::mat fixture(const std::string& name) {
  arma::mat m;
  const std::string path = std::string(TESSERA_FIXTURES_DIR) + "/ordinal/" + name;
  if (!m.load(path, arma::csv_ascii)) throw std::runtime_error("cannot read fixture " + path);
  return m;
}

struct dataset {
  arma::mat X;
  arma::uvec y;
};

// First column: 0-based class; the rest: x.
inline dataset split(const arma::mat& m) {
  return {m.cols(1, m.n_cols - 1), arma::conv_to<arma::uvec>::from(m.col(0))};
}

// Mean negative log-likelihood at (a, psi) on the ORIGINAL scale, through the prediction
// code (not the solver's loss).
inline double mean_nll(const arma::vec& a, const arma::mat& psi, const arma::mat& X,
                       const arma::uvec& y) {
  return -tessera::ordinal::ordinal_loglik(a, arma::cumsum(psi, 1), X, y) /
         static_cast<double>(X.n_rows);
}

// Central finite-difference gradient of mean_nll in psi (p x M) and a (M).
inline void fd_gradient(const arma::vec& a, const arma::mat& psi, const arma::mat& X,
                        const arma::uvec& y, arma::mat& g_psi, arma::vec& g_a, double h = 1e-6) {
  g_psi.zeros(psi.n_rows, psi.n_cols);
  g_a.zeros(a.n_elem);
  for (arma::uword k = 0; k < psi.n_elem; ++k) {
    arma::mat up = psi, dn = psi;
    up(k) += h;
    dn(k) -= h;
    g_psi(k) = (mean_nll(a, up, X, y) - mean_nll(a, dn, X, y)) / (2 * h);
  }
  for (arma::uword k = 0; k < a.n_elem; ++k) {
    arma::vec up = a, dn = a;
    up(k) += h;
    dn(k) -= h;
    g_a(k) = (mean_nll(up, psi, X, y) - mean_nll(dn, psi, X, y)) / (2 * h);
  }
}

// Cumulative-logit draw: y = number of thresholds with logit^-1(eta_k) < u.
inline arma::uvec draw_ordinal(tessera::rng_engine& rng, const arma::mat& eta) {
  arma::uvec y(eta.n_rows);
  for (arma::uword i = 0; i < eta.n_rows; ++i) {
    const double u = tessera::draw_uniform(rng);
    arma::uword c = 0;
    while (c < eta.n_cols && 1.0 / (1.0 + std::exp(-eta(i, c))) < u) ++c;
    y(i) = c;
  }
  return y;
}

}  // namespace ordinal_test
