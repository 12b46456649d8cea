#include "tessera/montecarlo/gaussian.hpp"

#include <cmath>
#include <limits>

#include "tessera/common/error.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::montecarlo {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

bool try_make(const arma::vec& mean, const arma::mat& cov, gaussian& out) {
  arma::mat L;
  if (!cov.is_finite() || !arma::chol(L, cov, "lower")) return false;
  out.mean = mean;
  out.cov = cov;
  out.chol_lower = L;
  out.log_norm = -0.5 * static_cast<double>(mean.n_elem) * std::log(2 * M_PI) - arma::accu(arma::log(L.diag()));
  return std::isfinite(out.log_norm);
}

// Adds jitter * diag(scale), growing it tenfold until the factorisation succeeds.
gaussian regularised(const arma::vec& mean, arma::mat cov, const arma::rowvec& scale, double jitter,
                     bool diagonal, fit_report& report) {
  if (diagonal) cov = arma::diagmat(cov.diag());
  gaussian g;
  double used = jitter;
  for (int attempt = 0; attempt <= 12; ++attempt) {
    arma::mat c = cov;
    c.diag() += used * scale.t();
    if (try_make(mean, c, g)) {
      report.jitter = std::max(report.jitter, used);
      return g;
    }
    used = used > 0 ? used * 10 : 1e-12;
  }
  throw numerical_error("the weighted covariance of a proposal stayed singular after a relative jitter of " +
                        format_number(used / 10) +
                        ": the cross-entropy weights sit on too few distinct points; increase the budget or "
                        "use `diagonal = true`.");
}
}  // namespace

gaussian make_gaussian(const arma::vec& mean, const arma::mat& cov) {
  gaussian g;
  if (!try_make(mean, cov, g))
    throw numerical_error("the covariance of a Gaussian component is not positive definite.");
  return g;
}

arma::vec log_density(const gaussian& g, const arma::mat& x) {
  arma::mat centred = x.t();
  centred.each_col() -= g.mean;
  const arma::mat y = arma::solve(arma::trimatl(g.chol_lower), centred);
  return g.log_norm - 0.5 * arma::sum(arma::square(y), 0).t();
}

arma::vec log_sum_exp_rows(const arma::mat& a) {
  arma::vec out(a.n_rows);
  for (arma::uword i = 0; i < a.n_rows; ++i) {
    const double m = a.row(i).max();
    if (!std::isfinite(m)) {
      out(i) = m;
      continue;
    }
    out(i) = m + std::log(arma::accu(arma::exp(a.row(i) - m)));
  }
  return out;
}

arma::vec log_density(const gaussian_mixture& g, const arma::mat& x) {
  if (g.components.size() == 1) return log_density(g.components[0], x);
  arma::mat terms(x.n_rows, g.components.size());
  for (std::size_t k = 0; k < g.components.size(); ++k)
    terms.col(k) = std::log(g.weights(k)) + log_density(g.components[k], x);
  return log_sum_exp_rows(terms);
}

arma::mat sample(const gaussian_mixture& g, arma::uword n, rng_engine& rng) {
  const arma::uword d = g.components.front().mean.n_elem;
  arma::mat out(n, d);
  const arma::vec cum = arma::cumsum(g.weights);
  for (arma::uword i = 0; i < n; ++i) {
    std::size_t k = 0;
    if (g.components.size() > 1) {
      const double u = draw_uniform(rng) * cum(cum.n_elem - 1);
      while (k + 1 < g.components.size() && u >= cum(k)) ++k;
    }
    const gaussian& c = g.components[k];
    const arma::vec z = draw_normal(rng, d, 1);
    out.row(i) = (c.mean + c.chol_lower * z).t();
  }
  return out;
}

double shrinkage_intensity(const arma::mat& centred, const arma::vec& p, const arma::mat& cov) {
  const arma::uword d = centred.n_cols;
  if (d < 2) return 0.0;
  const arma::vec p2 = arma::square(p);
  const arma::mat sq = arma::square(centred);
  // sum_k p_k^2 (c_ki c_kj - s_ij)^2 = A_ij - 2 s_ij B_ij + s_ij^2 sum p^2
  const arma::mat A = sq.t() * (sq.each_col() % p2);
  const arma::mat B = centred.t() * (centred.each_col() % p2);
  const arma::mat var = A - 2 * (cov % B) + arma::square(cov) * arma::accu(p2);
  double num = 0, den = 0;
  for (arma::uword j = 0; j < d; ++j)
    for (arma::uword i = 0; i < d; ++i)
      if (i != j) {
        num += std::max(var(i, j), 0.0);
        den += cov(i, j) * cov(i, j);
      }
  if (!(den > 0)) return num > 0 ? 1.0 : 0.0;
  return std::min(1.0, num / den);
}

gaussian fit_gaussian(const arma::mat& x, const arma::vec& w, const arma::rowvec& scale, double jitter,
                      bool diagonal, fit_report& report, bool shrink) {
  const double total = arma::accu(w);
  if (!(total > 0) || !std::isfinite(total))
    throw numerical_error("the cross-entropy weights of a proposal are all zero or not finite.");
  const arma::vec p = w / total;
  const arma::vec mean = x.t() * p;
  arma::mat centred = x;
  centred.each_row() -= mean.t();
  arma::mat cov = centred.t() * (centred.each_col() % p);  // centred, never E[xx'] - mm'
  cov = 0.5 * (cov + cov.t());
  if (shrink && !diagonal) {
    const double lambda = shrinkage_intensity(centred, p, cov);
    report.shrinkage = std::max(report.shrinkage, lambda);
    const arma::vec dg = cov.diag();
    cov *= 1 - lambda;
    cov.diag() = dg;
  }
  return regularised(mean, cov, scale, jitter, diagonal, report);
}

gaussian_mixture fit_gaussian_mixture(const arma::mat& x, const arma::vec& w, arma::uword K,
                                      const arma::rowvec& scale, double jitter, bool diagonal,
                                      rng_engine& rng, fit_report& report, bool shrink, int max_iter,
                                      double tol) {
  const arma::uword n = x.n_rows;
  gaussian_mixture g;
  if (K <= 1 || arma::accu(w > 0) <= K) {
    g.components.push_back(fit_gaussian(x, w, scale, jitter, diagonal, report, shrink));
    g.weights = arma::vec{1.0};
    return g;
  }
  const arma::vec p = w / arma::accu(w);
  // Weighted k-means++ centres.
  std::vector<arma::uword> centres;
  arma::vec dist2(n);
  dist2.fill(1.0);
  for (arma::uword k = 0; k < K; ++k) {
    arma::vec prob = p % dist2;
    const double s = arma::accu(prob);
    arma::uword pick = 0;
    if (s > 0) {
      const double u = draw_uniform(rng) * s;
      double acc = 0;
      for (pick = 0; pick + 1 < n; ++pick) {
        acc += prob(pick);
        if (acc > u) break;
      }
    }
    centres.push_back(pick);
    const arma::rowvec c = x.row(pick);
    arma::mat diff = x;
    diff.each_row() -= c;
    diff.each_row() /= scale;
    const arma::vec dk = arma::sum(arma::square(diff), 1);
    dist2 = k == 0 ? dk : arma::min(dist2, dk);
  }
  // Initial responsibilities: nearest centre.
  arma::mat resp(n, K, arma::fill::zeros);
  {
    arma::mat d2(n, K);
    for (arma::uword k = 0; k < K; ++k) {
      arma::mat diff = x;
      diff.each_row() -= x.row(centres[k]);
      diff.each_row() /= scale;
      d2.col(k) = arma::sum(arma::square(diff), 1);
    }
    for (arma::uword i = 0; i < n; ++i) resp(i, d2.row(i).index_min()) = 1;
  }
  double previous = -kInf;
  report.em_iterations = 0;
  for (int it = 0; it < max_iter; ++it) {
    // M-step.
    gaussian_mixture next;
    next.weights.set_size(K);
    for (arma::uword k = 0; k < K; ++k) {
      const arma::vec wk = p % resp.col(k);
      next.weights(k) = arma::accu(wk);
      if (!(next.weights(k) > 1e-12)) {  // an emptied component: refit on everything
        next.components.push_back(fit_gaussian(x, p, scale, jitter, diagonal, report, shrink));
        next.weights(k) = 1e-12;
      } else {
        next.components.push_back(fit_gaussian(x, wk, scale, jitter, diagonal, report, shrink));
      }
    }
    next.weights /= arma::accu(next.weights);
    g = next;
    // E-step.
    arma::mat terms(n, K);
    for (arma::uword k = 0; k < K; ++k) terms.col(k) = std::log(g.weights(k)) + log_density(g.components[k], x);
    const arma::vec lse = log_sum_exp_rows(terms);
    resp = arma::exp(terms.each_col() - lse);
    const double loglik = arma::dot(p, lse);
    report.em_iterations = it + 1;
    if (std::abs(loglik - previous) <= tol * (1 + std::abs(loglik))) break;
    previous = loglik;
  }
  return g;
}

}  // namespace tessera::montecarlo
