#include "tessera/montecarlo/sobol.hpp"

#include <cmath>
#include <sstream>

#include <boost/math/distributions/normal.hpp>

#include "tessera/common/error.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::montecarlo {

namespace {
arma::uword checked_dim(const std::vector<marginal>& marginals) {
  require(!marginals.empty(), "`marginals` must hold one marginal law per model input.");
  for (std::size_t i = 0; i < marginals.size(); ++i)
    check_marginal(marginals[i], "marginals[" + std::to_string(i + 1) + "]");
  return marginals.size();
}

aiscv_options inner_options(const sobol_options& o, arma::uword d) {
  const arma::uword blocks = d + (o.total_order ? 2 : 1);
  aiscv_options a = o.aiscv;
  a.budget = o.model_runs / blocks;
  a.shrinkage = o.shrinkage;
  if (a.weights.is_empty()) {
    // Default criterion: the sum of the indices' delta-method variances without their
    // cross terms, omega_j = sum_k (d index_k / d I_j)^2 at the batch-0 estimates (relative
    // weights 1 / I_j^2 would let tiny total-effect terms take the whole mixture).
    const bool total = o.total_order;
    a.weight_rule = [d, total](const arma::vec& e) {
      const double m = e(d), s = e(d + 1), V = s - m * m;
      if (!(V > 0)) return arma::vec(e.n_elem, arma::fill::ones);
      arma::vec w(e.n_elem, arma::fill::zeros);
      for (arma::uword i = 0; i < d; ++i) {
        const double S = (e(i) - m * m) / V;
        w(i) += 1 / (V * V);
        w(d) += std::pow(2 * m * (S - 1) / V, 2);
        w(d + 1) += std::pow(S / V, 2);
        if (total) {
          const double T = e(d + 2 + i) / V;
          w(d + 2 + i) += 1 / (V * V);
          w(d) += std::pow(2 * m * T / V, 2);
          w(d + 1) += std::pow(T / V, 2);
        }
      }
      return arma::vec(w / arma::max(w));
    };
  }
  // The same minimum batch as aiscv_session (dimension 2d), stated in model runs.
  const arma::uword min_batch = std::max<arma::uword>(10, 2 * (2 * d + 1));
  const auto batch = static_cast<arma::uword>(std::floor(a.batch_fraction * static_cast<double>(a.budget)));
  if (a.batch_fraction > 0 && batch < min_batch) {
    const auto points = static_cast<arma::uword>(std::ceil(static_cast<double>(min_batch) / a.batch_fraction));
    throw invalid_argument("`model_runs` = " + std::to_string(o.model_runs) + " gives " + std::to_string(a.budget) +
                           " points of " + std::to_string(blocks) + " runs each and batches of " +
                           std::to_string(batch) + " points, fewer than the " + std::to_string(min_batch) +
                           " needed with " + std::to_string(d) + " inputs: use at least " +
                           std::to_string(points * blocks) + " model runs.");
  }
  return a;
}
}  // namespace

sobol_result sobol_from_expectations(const arma::vec& e, const arma::mat& cov, arma::uword d, bool total_order,
                                     double level) {
  const arma::uword J = d + 2 + (total_order ? d : 0);
  require(e.n_elem == J && cov.n_rows == J && cov.n_cols == J,
          "the expectations must have length " + std::to_string(J) + " with a matching covariance.");
  const double m = e(d), s = e(d + 1), V = s - m * m;
  if (!(V > 1e-12 * std::abs(s)) || !std::isfinite(V))
    throw numerical_error("the estimated output variance s - m^2 = " + format_number(V) +
                          " is not positive: the model output is (nearly) constant, so Sobol' indices are "
                          "undefined.");
  const arma::uword K = total_order ? 2 * d : d;
  arma::mat grad(K, J, arma::fill::zeros);
  arma::vec idx(K);
  for (arma::uword i = 0; i < d; ++i) {
    const double S = (e(i) - m * m) / V;
    idx(i) = S;
    grad(i, i) = 1 / V;
    grad(i, d) = 2 * m * (S - 1) / V;
    grad(i, d + 1) = -S / V;
    if (total_order) {
      const double T = e(d + 2 + i) / V;
      idx(d + i) = T;
      grad(d + i, d + 2 + i) = 1 / V;
      grad(d + i, d) = 2 * m * T / V;
      grad(d + i, d + 1) = -T / V;
    }
  }
  sobol_result r;
  r.mean = m;
  r.variance = V;
  r.index_covariance = grad * cov * grad.t();
  r.index_covariance = 0.5 * (r.index_covariance + r.index_covariance.t());
  const arma::vec se = arma::sqrt(arma::clamp(r.index_covariance.diag(), 0.0, arma::datum::inf));
  const double z = boost::math::quantile(boost::math::normal_distribution<double>(), 0.5 + level / 2);
  r.first = idx.head(d);
  r.first_se = se.head(d);
  r.first_lower = r.first - z * r.first_se;
  r.first_upper = r.first + z * r.first_se;
  if (total_order) {
    r.total = idx.tail(d);
    r.total_se = se.tail(d);
    r.total_lower = r.total - z * r.total_se;
    r.total_upper = r.total + z * r.total_se;
  }
  return r;
}

sobol_session::sobol_session(const std::vector<marginal>& marginals, const sobol_options& options,
                             std::uint64_t seed)
    : marginals_(marginals),
      options_(options),
      d_(checked_dim(marginals)),
      blocks_(d_ + (options.total_order ? 2 : 1)),
      inner_({standard_normal_law(2 * d_)}, d_ + 2 + (options.total_order ? d_ : 0), inner_options(options, d_),
             seed) {
  prepare();
}

void sobol_session::prepare() {
  if (inner_.done()) {
    points_.reset();
    return;
  }
  const arma::mat& z = inner_.ask();
  const arma::uword n = z.n_rows, d = d_;
  points_.set_size(n * blocks_, d);
  auto put = [&](arma::uword block, const arma::mat& u) {
    for (arma::uword k = 0; k < d; ++k)
      for (arma::uword i = 0; i < n; ++i) points_(block * n + i, k) = quantile_from_normal(marginals_[k], u(i, k));
  };
  const arma::mat U = z.cols(0, d - 1), Up = z.cols(d, 2 * d - 1);
  put(0, U);
  for (arma::uword i = 0; i < d; ++i) {
    arma::mat C = Up;
    C.col(i) = U.col(i);
    put(1 + i, C);
  }
  if (options_.total_order) put(d + 1, Up);
}

void sobol_session::tell(const arma::vec& y) {
  require(!done(), "the Sobol' session is finished; read its result().");
  const arma::uword n = inner_.ask().n_rows, d = d_;
  if (y.n_elem != points_.n_rows)
    throw invalid_argument("`model` returned " + std::to_string(y.n_elem) + " values for " +
                           std::to_string(points_.n_rows) + " points; it must return one value per row.");
  for (arma::uword r = 0; r < y.n_elem; ++r)
    if (!std::isfinite(y(r))) {
      std::ostringstream os;
      os << "`model` returned " << (std::isnan(y(r)) ? "NaN" : "an infinite value") << " at row " << r + 1
         << " of the " << y.n_elem << " points it was given; the model must be finite on the whole input space.";
      throw invalid_argument(os.str());
    }
  if (runs_ == 0 && y.max() == y.min())
    throw invalid_argument("`model` returned the same value (" + format_number(y(0)) + ") at all " +
                           std::to_string(y.n_elem) + " points of the first batch: the output has no variance, "
                           "so Sobol' indices are undefined.");
  runs_ += y.n_elem;
  const arma::vec yA = y.subvec(0, n - 1);
  arma::mat phi(n, inner_.n_outputs());
  for (arma::uword i = 0; i < d; ++i) phi.col(i) = yA % y.subvec((1 + i) * n, (2 + i) * n - 1);
  phi.col(d) = yA;
  phi.col(d + 1) = arma::square(yA);
  if (options_.total_order) {
    const arma::vec yB = y.subvec((d + 1) * n, (d + 2) * n - 1);
    for (arma::uword i = 0; i < d; ++i)
      phi.col(d + 2 + i) = 0.5 * arma::square(yB - y.subvec((1 + i) * n, (2 + i) * n - 1));
  }
  inner_.tell(phi);
  if (inner_.done()) {
    const aiscv_result& e = inner_.result();
    result_ = sobol_from_expectations(e.estimate, e.covariance, d, options_.total_order, e.level);
    result_.expectations = e;
    result_.model_runs = runs_;
    result_.points = runs_ / blocks_;
  }
  prepare();
}

const sobol_result& sobol_session::result() const {
  require(done(), "the Sobol' session is not finished: run the model on ask() and tell() the values until done().");
  return result_;
}

sobol_result sobol_aiscv(const model_function& model, const std::vector<marginal>& marginals,
                         const sobol_options& options, std::uint64_t seed, const runtime_context& context) {
  require(static_cast<bool>(model), "`model` must be a function.");
  sobol_session session(marginals, options, seed);
  while (!session.done()) {
    context.check_interrupt();
    session.tell(model(session.ask()));
  }
  return session.result();
}

}  // namespace tessera::montecarlo
