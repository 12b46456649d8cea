#include "tessera/montecarlo/laws.hpp"

#include <cmath>
#include <limits>
#include <memory>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::montecarlo {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kZmax = 37.5;  // Phi(-37.5) ~ 5e-308, the smallest normal double
const boost::math::normal_distribution<double> kStdNormal(0.0, 1.0);

double std_normal_cdf(double z) { return boost::math::cdf(kStdNormal, z); }

template <class Dist>
double quantile_tail_safe(const Dist& dist, double z) {
  if (z <= 0) return boost::math::quantile(dist, std_normal_cdf(z));
  return boost::math::quantile(boost::math::complement(dist, std_normal_cdf(-z)));
}

template <class Dist>
double score_tail_safe(const Dist& dist, double x) {
  const double p = boost::math::cdf(dist, x);
  if (p <= 0) return -kZmax;
  if (p < 0.5) return std::max(boost::math::quantile(kStdNormal, p), -kZmax);
  const double q = boost::math::cdf(boost::math::complement(dist, x));
  if (q <= 0) return kZmax;
  return std::min(-boost::math::quantile(kStdNormal, q), kZmax);
}
}  // namespace

std::string family_name(marginal_family f) {
  switch (f) {
    case marginal_family::normal: return "normal";
    case marginal_family::lognormal: return "lognormal";
    case marginal_family::uniform: return "uniform";
    case marginal_family::gamma: return "gamma";
    case marginal_family::beta: return "beta";
  }
  return "unknown";
}

void check_marginal(const marginal& m, const std::string& name) {
  check_finite(m.a, name + " first parameter");
  check_finite(m.b, name + " second parameter");
  const std::string fam = family_name(m.family);
  switch (m.family) {
    case marginal_family::normal:
    case marginal_family::lognormal:
      require(m.b > 0, "`" + name + "` (" + fam + ") needs a positive " +
                           (m.family == marginal_family::normal ? "sd" : "sdlog") + ", not " +
                           format_number(m.b) + ".");
      break;
    case marginal_family::uniform:
      require(m.b > m.a, "`" + name + "` (uniform) needs min < max, not [" + format_number(m.a) + ", " +
                             format_number(m.b) + "].");
      break;
    case marginal_family::gamma:
      require(m.a > 0 && m.b > 0, "`" + name + "` (gamma) needs positive shape and scale, not (" +
                                      format_number(m.a) + ", " + format_number(m.b) + ").");
      break;
    case marginal_family::beta:
      require(m.a > 0 && m.b > 0, "`" + name + "` (beta) needs positive shape1 and shape2, not (" +
                                      format_number(m.a) + ", " + format_number(m.b) + ").");
      break;
  }
}

marginal lognormal_from_mean_cv(double mean, double cv) {
  check_positive(mean, "mean");
  check_positive(cv, "cv");
  const double s2 = std::log1p(cv * cv);
  return marginal{marginal_family::lognormal, std::log(mean) - s2 / 2, std::sqrt(s2)};
}

double log_pdf(const marginal& m, double x) {
  static const double kHalfLog2Pi = 0.5 * std::log(2 * M_PI);
  switch (m.family) {
    case marginal_family::normal: {
      const double z = (x - m.a) / m.b;
      return -0.5 * z * z - std::log(m.b) - kHalfLog2Pi;
    }
    case marginal_family::lognormal: {
      if (!(x > 0)) return -kInf;
      const double z = (std::log(x) - m.a) / m.b;
      return -0.5 * z * z - std::log(m.b) - std::log(x) - kHalfLog2Pi;
    }
    case marginal_family::uniform:
      return (x >= m.a && x <= m.b) ? -std::log(m.b - m.a) : -kInf;
    case marginal_family::gamma:
      if (x < 0 || (x == 0 && m.a < 1)) return x == 0 ? kInf : -kInf;
      if (x == 0) return m.a == 1 ? -std::log(m.b) : -kInf;
      return (m.a - 1) * std::log(x) - x / m.b - std::lgamma(m.a) - m.a * std::log(m.b);
    case marginal_family::beta: {
      if (x < 0 || x > 1) return -kInf;
      const double lbeta = std::lgamma(m.a) + std::lgamma(m.b) - std::lgamma(m.a + m.b);
      if (x == 0 || x == 1) {  // boundary: finite only when the shape there is 1
        const double shape = x == 0 ? m.a : m.b;
        if (shape != 1) return shape < 1 ? kInf : -kInf;
        return -lbeta;
      }
      return (m.a - 1) * std::log(x) + (m.b - 1) * std::log1p(-x) - lbeta;
    }
  }
  return -kInf;
}

double quantile_from_normal(const marginal& m, double z) {
  switch (m.family) {
    case marginal_family::normal: return m.a + m.b * z;
    case marginal_family::lognormal: return std::exp(m.a + m.b * z);
    case marginal_family::uniform:
      return z <= 0 ? m.a + (m.b - m.a) * std_normal_cdf(z) : m.b - (m.b - m.a) * std_normal_cdf(-z);
    case marginal_family::gamma:
      return quantile_tail_safe(boost::math::gamma_distribution<double>(m.a, m.b), z);
    case marginal_family::beta:
      return quantile_tail_safe(boost::math::beta_distribution<double>(m.a, m.b), z);
  }
  return 0;
}

double normal_score(const marginal& m, double x) {
  switch (m.family) {
    case marginal_family::normal: return (x - m.a) / m.b;
    case marginal_family::lognormal: return x > 0 ? (std::log(x) - m.a) / m.b : -kZmax;
    case marginal_family::uniform: {
      const double u = (x - m.a) / (m.b - m.a);
      if (u <= 0) return -kZmax;
      if (u >= 1) return kZmax;
      return u < 0.5 ? std::max(boost::math::quantile(kStdNormal, u), -kZmax)
                     : std::min(-boost::math::quantile(kStdNormal, 1 - u), kZmax);
    }
    case marginal_family::gamma:
      if (x <= 0) return -kZmax;
      return score_tail_safe(boost::math::gamma_distribution<double>(m.a, m.b), x);
    case marginal_family::beta:
      if (x <= 0) return -kZmax;
      if (x >= 1) return kZmax;
      return score_tail_safe(boost::math::beta_distribution<double>(m.a, m.b), x);
  }
  return 0;
}

namespace {
void check_marginals(const std::vector<marginal>& marginals) {
  require(!marginals.empty(), "`marginals` must hold at least one marginal law.");
  for (std::size_t i = 0; i < marginals.size(); ++i)
    check_marginal(marginals[i], "marginals[" + std::to_string(i + 1) + "]");
}

arma::mat transform_normals(const std::vector<marginal>& m, const arma::mat& z) {
  arma::mat x(z.n_rows, z.n_cols);
  for (arma::uword j = 0; j < z.n_cols; ++j)
    for (arma::uword i = 0; i < z.n_rows; ++i) x(i, j) = quantile_from_normal(m[j], z(i, j));
  return x;
}

void check_columns(const arma::mat& x, arma::uword d) {
  require(x.n_cols == d, "the points must have " + std::to_string(d) + " columns (the law's dimension), not " +
                             std::to_string(x.n_cols) + ".");
}
}  // namespace

input_law independent_law(const std::vector<marginal>& marginals) {
  check_marginals(marginals);
  auto m = std::make_shared<const std::vector<marginal>>(marginals);
  input_law law;
  law.dim = marginals.size();
  law.sample = [m](arma::uword n, std::uint64_t seed) {
    rng_engine rng = make_rng(seed);
    return transform_normals(*m, draw_normal(rng, n, m->size()));
  };
  law.log_density = [m](const arma::mat& x) {
    check_columns(x, m->size());
    arma::vec out(x.n_rows, arma::fill::zeros);
    for (arma::uword j = 0; j < x.n_cols; ++j)
      for (arma::uword i = 0; i < x.n_rows; ++i) out(i) += log_pdf((*m)[j], x(i, j));
    return out;
  };
  return law;
}

input_law standard_normal_law(arma::uword d) {
  require(d >= 1, "`d` must be at least 1.");
  return independent_law(std::vector<marginal>(d, marginal{marginal_family::normal, 0.0, 1.0}));
}

input_law gaussian_copula_law(const std::vector<marginal>& marginals, const arma::mat& correlation) {
  check_marginals(marginals);
  const arma::uword d = marginals.size();
  require(correlation.n_rows == d && correlation.n_cols == d,
          "`correlation` must be " + std::to_string(d) + " x " + std::to_string(d) + " (one row per marginal), not " +
              std::to_string(correlation.n_rows) + " x " + std::to_string(correlation.n_cols) + ".");
  check_finite(correlation, "correlation");
  require(arma::approx_equal(correlation, correlation.t(), "absdiff", 1e-12),
          "`correlation` must be symmetric.");
  require(arma::all(arma::abs(correlation.diag() - 1.0) < 1e-12), "`correlation` must have a unit diagonal.");
  arma::mat upper;
  require(arma::chol(upper, correlation), "`correlation` must be positive definite; check that it is a valid "
                                          "correlation matrix (e.g. nearest PD correction).");
  auto m = std::make_shared<const std::vector<marginal>>(marginals);
  auto U = std::make_shared<const arma::mat>(upper);
  const arma::mat prec_minus_identity = arma::inv_sympd(correlation) - arma::eye(d, d);
  auto P = std::make_shared<const arma::mat>(prec_minus_identity);
  const double half_logdet = arma::accu(arma::log(upper.diag()));
  input_law law;
  law.dim = d;
  law.sample = [m, U](arma::uword n, std::uint64_t seed) {
    rng_engine rng = make_rng(seed);
    return transform_normals(*m, draw_normal(rng, n, m->size()) * (*U));
  };
  law.log_density = [m, P, half_logdet](const arma::mat& x) {
    check_columns(x, m->size());
    arma::vec out(x.n_rows, arma::fill::zeros);
    arma::mat z(x.n_rows, x.n_cols);
    for (arma::uword j = 0; j < x.n_cols; ++j)
      for (arma::uword i = 0; i < x.n_rows; ++i) {
        out(i) += log_pdf((*m)[j], x(i, j));
        z(i, j) = normal_score((*m)[j], x(i, j));
      }
    out -= half_logdet + 0.5 * arma::sum((z * (*P)) % z, 1);
    return out;
  };
  return law;
}

}  // namespace tessera::montecarlo
