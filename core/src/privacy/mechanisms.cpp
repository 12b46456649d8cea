#include "tessera/privacy/mechanisms.hpp"

#include <cmath>
#include <limits>

#include "tessera/common/error.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::privacy {

std::string to_string(gaussian_calibration c) {
  switch (c) {
    case gaussian_calibration::automatic: return "automatic";
    case gaussian_calibration::classic: return "classic";
    case gaussian_calibration::analytic: return "analytic";
  }
  return "unknown";
}

void check_epsilon(double epsilon, const std::string& name) {
  require(std::isfinite(epsilon) && epsilon > 0,
          "`" + name + "` (the privacy budget) must be a positive finite number, not " +
              format_number(epsilon) + ": pass e.g. " + name + " = 1.");
}

void check_delta(double delta, const std::string& name) {
  require(std::isfinite(delta) && delta > 0 && delta < 1,
          "`" + name + "` must lie strictly between 0 and 1, not " + format_number(delta) +
              ": pass a small value such as 1e-6 (well below 1/n), or use a pure-epsilon mechanism.");
}

void check_sensitivity(double sensitivity, const std::string& name) {
  require(std::isfinite(sensitivity) && sensitivity > 0,
          "`" + name + "` must be a positive finite bound fixed before seeing the data, not " +
              format_number(sensitivity) + ".");
}

double classic_gaussian_sigma(double l2_sensitivity, double epsilon, double delta) {
  check_sensitivity(l2_sensitivity, "l2_sensitivity");
  check_epsilon(epsilon);
  check_delta(delta);
  require(epsilon <= 1.0, "`epsilon` = " + format_number(epsilon) +
                              " exceeds 1, where the classic Gaussian calibration "
                              "sigma = Delta sqrt(2 ln(1.25/delta))/epsilon is not a valid "
                              "privacy proof: use the analytic calibration.");
  return l2_sensitivity * std::sqrt(2.0 * std::log(1.25 / delta)) / epsilon;
}

namespace {
// log Phi(-a) for a >= 0, accurate in the far tail.
double log_phi_neg(double a) {
  if (a < 20.0) return std::log(0.5 * std::erfc(a / std::sqrt(2.0)));
  const double a2 = a * a;
  const double series = 1.0 - 1.0 / a2 + 3.0 / (a2 * a2) - 15.0 / (a2 * a2 * a2) +
                        105.0 / (a2 * a2 * a2 * a2);
  return -0.5 * a2 - std::log(a * std::sqrt(2.0 * M_PI)) + std::log(series);
}
double phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
}  // namespace

double gaussian_delta(double sigma, double l2_sensitivity, double epsilon) {
  const double a = l2_sensitivity / (2.0 * sigma), b = epsilon * sigma / l2_sensitivity;
  // Phi(a - b) - e^eps Phi(-a - b), second term in log space.
  const double second = std::exp(epsilon + log_phi_neg(a + b));
  return std::max(0.0, phi(a - b) - second);
}

double analytic_gaussian_sigma(double l2_sensitivity, double epsilon, double delta) {
  check_sensitivity(l2_sensitivity, "l2_sensitivity");
  check_epsilon(epsilon);
  check_delta(delta);
  // gaussian_delta is decreasing in sigma; bracket in units of Delta, then bisect on log sigma.
  double lo = 1.0, hi = 1.0;
  while (gaussian_delta(lo * l2_sensitivity, l2_sensitivity, epsilon) <= delta) lo *= 0.5;
  while (gaussian_delta(hi * l2_sensitivity, l2_sensitivity, epsilon) > delta) hi *= 2.0;
  for (int it = 0; it < 200 && hi / lo > 1.0 + 1e-13; ++it) {
    const double mid = std::sqrt(lo * hi);
    if (gaussian_delta(mid * l2_sensitivity, l2_sensitivity, epsilon) > delta) lo = mid;
    else hi = mid;
  }
  return hi * l2_sensitivity;
}

double laplace_scale(double l1_sensitivity, double epsilon) {
  check_sensitivity(l1_sensitivity, "l1_sensitivity");
  check_epsilon(epsilon);
  return l1_sensitivity / epsilon;
}

double sphere_mean_abs_coordinate(arma::uword d) {
  require(d >= 1, "`d` (the dimension) must be at least 1.");
  const double dd = static_cast<double>(d);
  return std::exp(std::lgamma(dd / 2.0) - std::lgamma((dd + 1.0) / 2.0)) / std::sqrt(M_PI);
}

double duchi_output_norm(double radius, arma::uword d, double epsilon) {
  check_sensitivity(radius, "radius");
  check_epsilon(epsilon);
  // (e^eps + 1)/(e^eps - 1) = 1 / tanh(eps/2), stable for small and large eps.
  return radius / std::tanh(epsilon / 2.0) / sphere_mean_abs_coordinate(d);
}

long long sample_discrete_laplace(double scale, noise_source& src) {
  // A geometric(1 - q) magnitude G = floor(-t log U), q = e^{-1/t}, with a fair sign;
  // "-0" is rejected so that P(k) = (1 - q) q^|k| / (1 + q) exactly.
  for (;;) {
    const bool negative = (src() >> 63) != 0;
    const double g = std::floor(-scale * std::log(src.uniform_open0()));
    if (negative && g == 0) continue;
    return negative ? -static_cast<long long>(g) : static_cast<long long>(g);
  }
}

long long sample_discrete_gaussian(double sigma, noise_source& src) {
  // Canonne, Kamath & Steinke (2020), Algorithm 3.
  const double t = std::floor(sigma) + 1.0;
  const double s2 = sigma * sigma;
  for (;;) {
    const long long y = sample_discrete_laplace(t, src);
    const double dev = std::abs(static_cast<double>(y)) - s2 / t;
    if (src.uniform_open0() <= std::exp(-dev * dev / (2.0 * s2))) return y;
  }
}

double grid_step(double sensitivity, double spread) {
  return std::exp2(std::floor(std::log2(sensitivity / (1024.0 * spread))));
}

namespace {
arma::vec release_on_grid(const arma::vec& v, double grid, noise_source& src, bool gaussian,
                          double scale_grid_units) {
  arma::vec out(v.n_elem);
  for (arma::uword j = 0; j < v.n_elem; ++j) {
    const double q = std::nearbyint(v(j) / grid);
    const long long k = gaussian ? sample_discrete_gaussian(scale_grid_units, src)
                                 : sample_discrete_laplace(scale_grid_units, src);
    out(j) = grid * (q + static_cast<double>(k));
  }
  return out;
}

void check_release_input(const arma::vec& v, arma::uword dim, double grid) {
  require(v.n_elem == dim, "the vector to release has length " + std::to_string(v.n_elem) +
                               " but the mechanism was calibrated for length " +
                               std::to_string(dim) + ".");
  check_finite(v, "v");
  if (grid > 0) {
    require(arma::abs(v).max() / grid < 0x1.0p52,
            "`v` has an entry too large for the noise grid: truncate inputs to the stated bounds first.");
  }
}
}  // namespace

gaussian_mechanism::gaussian_mechanism(double l2_sensitivity, arma::uword dim, double epsilon,
                                       double delta, gaussian_calibration calibration, bool secure)
    : sens_(l2_sensitivity), epsilon_(epsilon), delta_(delta), dim_(dim), secure_(secure) {
  check_sensitivity(l2_sensitivity, "l2_sensitivity");
  check_epsilon(epsilon);
  check_delta(delta);
  require(dim >= 1, "`dim` (the length of the released vector) must be at least 1.");
  used_ = calibration;
  if (calibration == gaussian_calibration::automatic)
    used_ = epsilon <= 1.0 ? gaussian_calibration::classic : gaussian_calibration::analytic;
  eff_sens_ = sens_;
  if (secure_) {
    grid_ = grid_step(sens_, std::sqrt(static_cast<double>(dim)));
    eff_sens_ = sens_ + grid_ * std::sqrt(static_cast<double>(dim));
  }
  sigma_ = used_ == gaussian_calibration::classic ? classic_gaussian_sigma(eff_sens_, epsilon, delta)
                                                  : analytic_gaussian_sigma(eff_sens_, epsilon, delta);
  if (secure_) {
    const double s = sigma_ / grid_;
    slack_ = 10.0 * static_cast<double>(dim - 1) * std::exp(-M_PI * M_PI * s * s);
  }
}

arma::vec gaussian_mechanism::release(const arma::vec& v, noise_source& src) const {
  check_release_input(v, dim_, grid_);
  if (secure_) return release_on_grid(v, grid_, src, true, sigma_ / grid_);
  arma::vec out = v;
  for (double& x : out) x += sigma_ * src.normal();
  return out;
}

laplace_mechanism::laplace_mechanism(double l1_sensitivity, arma::uword dim, double epsilon, bool secure)
    : sens_(l1_sensitivity), epsilon_(epsilon), dim_(dim), secure_(secure) {
  check_sensitivity(l1_sensitivity, "l1_sensitivity");
  check_epsilon(epsilon);
  require(dim >= 1, "`dim` (the length of the released vector) must be at least 1.");
  eff_sens_ = sens_;
  if (secure_) {
    grid_ = grid_step(sens_, static_cast<double>(dim));
    eff_sens_ = sens_ + grid_ * static_cast<double>(dim);
  }
  scale_ = laplace_scale(eff_sens_, epsilon);
}

arma::vec laplace_mechanism::release(const arma::vec& v, noise_source& src) const {
  check_release_input(v, dim_, grid_);
  if (secure_) return release_on_grid(v, grid_, src, false, scale_ / grid_);
  arma::vec out = v;
  for (double& x : out) {
    // Textbook Laplace in double precision (the attackable version): b (E1 - E2).
    x += scale_ * (std::log(src.uniform_open0()) - std::log(src.uniform_open0()));
  }
  return out;
}

duchi_mechanism::duchi_mechanism(double radius, arma::uword dim, double epsilon)
    : radius_(radius), epsilon_(epsilon), dim_(dim) {
  check_sensitivity(radius, "radius");
  check_epsilon(epsilon);
  require(dim >= 1, "`dim` must be at least 1.");
  B_ = duchi_output_norm(radius, dim, epsilon);
  // e^eps / (e^eps + 1) = 1 / (1 + e^-eps).
  p_agree_ = 1.0 / (1.0 + std::exp(-epsilon));
}

arma::vec duchi_mechanism::release(const arma::vec& v, noise_source& src) const {
  require(v.n_elem == dim_, "the vector to release has length " + std::to_string(v.n_elem) +
                                " but the mechanism was built for dimension " + std::to_string(dim_) + ".");
  check_finite(v, "v");
  const double norm = arma::norm(v, 2);
  require(norm <= radius_ * (1.0 + 1e-9),
          "`v` has l2 norm " + format_number(norm) + " above the mechanism's radius " +
              format_number(radius_) + ": clip inputs to the stated bound first.");
  arma::vec u(dim_);
  for (double& x : u) x = src.normal();
  double un = arma::norm(u, 2);
  while (un == 0.0) {  // probability zero, but never divide by zero
    for (double& x : u) x = src.normal();
    un = arma::norm(u, 2);
  }
  u /= un;
  // Direction of the rounded vector: +-v/||v||; v = 0 gives a uniform direction (any
  // unit vector: the sign below is then a fair coin, so the choice does not matter).
  // v = 0: the rounded vector has a uniform direction and a fair sign, so the output is
  // uniform on the sphere, which u already is.
  if (norm > 0) {
    const double p_plus = std::min(1.0, 0.5 + norm / (2.0 * radius_));
    const double rounded_sign = src.uniform_open0() <= p_plus ? 1.0 : -1.0;
    const double agree = src.uniform_open0() <= p_agree_ ? 1.0 : -1.0;
    const double side = rounded_sign * agree;  // wanted sign of <u, v>
    if ((arma::dot(u, v) >= 0 ? 1.0 : -1.0) != side) u = -u;
  }
  return B_ * u;
}

}  // namespace tessera::privacy
