#include <algorithm>
#include <cmath>
#include <limits>

#include "solver.hpp"
#include "tessera/common/error.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/ordinal/presto.hpp"

namespace tessera::ordinal {

namespace {

void check_coefficients(const arma::vec& intercepts, const arma::mat& beta, const arma::mat& X) {
  require(intercepts.n_elem >= 1, "`intercepts` must have at least one threshold.");
  require(beta.n_cols == intercepts.n_elem,
          "`beta` must have one column per threshold (" + std::to_string(intercepts.n_elem) +
              "), not " + std::to_string(beta.n_cols) + ".");
  require(beta.n_rows == X.n_cols, "`x` must have " + std::to_string(beta.n_rows) +
                                       " columns (one per coefficient row), not " +
                                       std::to_string(X.n_cols) + ".");
  check_finite(X, "x");
  check_finite(intercepts, "intercepts");
  check_finite(beta, "beta");
}

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

}  // namespace

arma::mat predict_link(const arma::vec& intercepts, const arma::mat& beta, const arma::mat& X) {
  check_coefficients(intercepts, beta, X);
  arma::mat eta = X * beta;
  eta.each_row() += intercepts.t();
  return eta;
}

probability_prediction predict_probabilities(const arma::vec& intercepts, const arma::mat& beta,
                                             const arma::mat& X, crossing_policy policy) {
  const arma::mat eta = predict_link(intercepts, beta, X);
  const arma::uword n = X.n_rows, M = eta.n_cols, K = M + 1;
  probability_prediction out;
  out.prob.zeros(n, K);
  std::vector<arma::uword> crossing;
  for (arma::uword i = 0; i < n; ++i) {
    out.prob(i, 0) = sigmoid(eta(i, 0));
    for (arma::uword c = 1; c < M; ++c) {
      const double a = eta(i, c - 1), b = eta(i, c);
      out.prob(i, c) = a > 0 ? sigmoid(-a) - sigmoid(-b) : sigmoid(b) - sigmoid(a);
    }
    out.prob(i, K - 1) = sigmoid(-eta(i, M - 1));
    if (out.prob.row(i).min() < 0) crossing.push_back(i);
  }
  out.crossing_rows = arma::uvec(crossing);
  if (!crossing.empty()) {
    if (policy == crossing_policy::error)
      throw numerical_error(std::to_string(crossing.size()) + " of " + std::to_string(n) +
                            " rows have crossing cumulative probabilities (a negative class "
                            "probability, first row " + std::to_string(crossing[0] + 1) +
                            "): use crossing = \"clamp\" or \"warn\", or a larger lambda.");
    if (policy == crossing_policy::clamp) {
      for (arma::uword i : crossing) {
        arma::rowvec r = arma::clamp(out.prob.row(i), 0.0, 1.0);
        const double s = arma::accu(r);
        out.prob.row(i) = s > 0 ? arma::rowvec(r / s) : arma::rowvec(K, arma::fill::value(1.0 / K));
      }
    }
  }
  return out;
}

arma::uvec predict_class(const arma::mat& prob) {
  arma::uvec cls(prob.n_rows);
  for (arma::uword i = 0; i < prob.n_rows; ++i) cls(i) = prob.row(i).index_max();
  return cls;
}

double ordinal_loglik(const arma::vec& intercepts, const arma::mat& beta, const arma::mat& X,
                      const arma::uvec& y, const arma::vec& weights) {
  const probability_prediction pr = predict_probabilities(intercepts, beta, X, crossing_policy::warn);
  require(y.n_elem == X.n_rows, "`y` must have one value per row of `x`.");
  require(weights.is_empty() || weights.n_elem == X.n_rows,
          "`weights` must be empty or have one value per row of `x`.");
  double ll = 0;
  for (arma::uword i = 0; i < y.n_elem; ++i) {
    require(y(i) < pr.prob.n_cols,
            [&] { return "`y` must hold class codes 0.." + std::to_string(pr.prob.n_cols - 1) + "."; });
    const double p = pr.prob(i, y(i));
    if (!(p > 0)) return -std::numeric_limits<double>::infinity();
    ll += (weights.is_empty() ? 1.0 : weights(i)) * std::log(p);
  }
  return ll;
}

namespace {

ordinal_fit from_path(const presto_fit& f) {
  ordinal_fit out;
  out.intercepts = f.intercepts.col(0);
  out.beta = f.beta.slice(0);
  out.loglik = f.loglik(0);
  out.converged = f.converged(0) == 1;
  out.iterations = static_cast<int>(f.iterations(0));
  out.message = f.message;
  return out;
}

presto_options unpenalised(arma::uword M) {
  presto_options opt;
  opt.lambda = arma::vec{0.0};
  opt.block_factors.zeros(M);
  return opt;
}

}  // namespace

ordinal_fit fit_proportional_odds(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                                  const arma::vec& weights) {
  detail::validate_data(X, y, n_classes, weights, 3, true);
  presto_options opt = unpenalised(n_classes - 1);
  opt.block_factors.fill(std::numeric_limits<double>::infinity());
  opt.block_factors(0) = 0;
  return from_path(detail::fit_path(X, y, n_classes, opt, weights, silent_context()));
}

ordinal_fit fit_separate_logits(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                                const arma::vec& weights) {
  detail::validate_data(X, y, n_classes, weights, 3, true);
  const arma::uword M = n_classes - 1;
  ordinal_fit out;
  out.intercepts.zeros(M);
  out.beta.zeros(X.n_cols, M);
  for (arma::uword k = 0; k < M; ++k) {
    const arma::uvec z = arma::conv_to<arma::uvec>::from(y > k);  // 0: y <= k, 1: y > k
    const ordinal_fit fk =
        from_path(detail::fit_path(X, z, 2, unpenalised(1), weights, silent_context()));
    out.intercepts(k) = fk.intercepts(0);
    out.beta.col(k) = fk.beta.col(0);
    out.converged = out.converged && fk.converged;
    out.iterations += fk.iterations;
    if (!fk.converged && out.message.empty())
      out.message = "threshold " + std::to_string(k + 1) + ": " + fk.message;
  }
  out.loglik = ordinal_loglik(out.intercepts, out.beta, X, y, weights);
  return out;
}

}  // namespace tessera::ordinal
