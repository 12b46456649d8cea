#include "tessera/aggregate/risk.hpp"

#include <cmath>
#include <limits>

#include "tessera/common/validate.hpp"

namespace tessera::aggregate {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

void check_gamma_k(double gamma, double k) {
  check_in_open(gamma, 0.0, 1.0, "gamma");
  check_finite(k, "k");
  require(k >= 1, "`k` (the bag size) must be at least 1, not " + format_number(k) + ".");
}
void check_rho(double rho) {
  check_finite(rho, "rho");
  require(rho >= 0, "`rho` must be zero or positive, not " + format_number(rho) + ".");
}

double rhs(double t, double k, double rho) {
  return (t / (1.0 + t)) / k + (1.0 - 1.0 / k) * rho * t / (1.0 + rho * t);
}
}  // namespace

double fixed_point_tau(double gamma, double k, double rho) {
  check_gamma_k(gamma, k);
  check_rho(rho);
  if (rho == 0 || k == 1) {
    const double gk = gamma * k;
    return gk >= 1 ? kInf : gk / (1.0 - gk);
  }
  double lo = 0, hi = 1;
  while (rhs(hi, k, rho) < gamma) hi *= 2;  // terminates: rhs -> 1 > gamma
  for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (rhs(mid, k, rho) < gamma ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

risk_value asymptotic_risk(double gamma, double k, double rho, double theta_norm2, double sigma2) {
  check_nonnegative(theta_norm2, "theta_norm2");
  check_nonnegative(sigma2, "sigma2");
  risk_value out;
  out.tau = fixed_point_tau(gamma, k, rho);
  const double t = out.tau;
  if (!std::isfinite(t)) {
    out.bias = 0;
    out.variance = kInf;
    out.risk = kInf;
    return out;
  }
  const double a = t / (k * gamma * (1 + t));
  const double b = 1 - a;
  const double p = t * t / (k * gamma * (1 + t) * (1 + t));
  const double q = (k - 1) * rho * rho * t * t / (k * gamma * (1 + rho * t) * (1 + rho * t));
  out.bias = (k == 1 || rho == 0) ? 0.0 : theta_norm2 * (b * b - q * (b - a)) / (1 - p - q);
  const double ratio = (1 + t) / (1 + rho * t);
  out.variance = sigma2 * t / (1 + (k - 1) * rho * ratio * ratio);
  out.risk = out.bias + out.variance;
  return out;
}

oracle_rho_result oracle_rho(double gamma, double k, double theta_norm2, double sigma2,
                             double rho_max) {
  check_positive(rho_max, "rho_max");
  auto f = [&](double r) { return asymptotic_risk(gamma, k, r, theta_norm2, sigma2).risk; };
  // Grid: 0, log-spaced from rho_max * 1e-6 to rho_max.
  const int n_grid = 400;
  arma::vec grid(n_grid + 1);
  grid(0) = 0;
  for (int j = 0; j < n_grid; ++j)
    grid(j + 1) = rho_max * std::pow(10.0, -6.0 + 6.0 * j / (n_grid - 1));
  arma::uword best = 0;
  double fbest = f(grid(0));
  for (arma::uword j = 1; j < grid.n_elem; ++j) {
    const double v = f(grid(j));
    if (v < fbest) {
      fbest = v;
      best = j;
    }
  }
  double lo = grid(best == 0 ? 0 : best - 1);
  double hi = grid(best + 1 < grid.n_elem ? best + 1 : best);
  const double phi = 0.5 * (std::sqrt(5.0) - 1);
  double x1 = hi - phi * (hi - lo), x2 = lo + phi * (hi - lo);
  double f1 = f(x1), f2 = f(x2);
  for (int it = 0; it < 100 && hi - lo > 1e-12 * (1 + hi); ++it) {
    if (f1 <= f2) {
      hi = x2; x2 = x1; f2 = f1; x1 = hi - phi * (hi - lo); f1 = f(x1);
    } else {
      lo = x1; x1 = x2; f1 = f2; x2 = lo + phi * (hi - lo); f2 = f(x2);
    }
  }
  oracle_rho_result out;
  const double cand = 0.5 * (lo + hi);
  out.rho = f(cand) < fbest ? cand : grid(best);
  out.at = asymptotic_risk(gamma, k, out.rho, theta_norm2, sigma2);
  return out;
}

double dp_noise_variance(double sigma2, double k, double epsilon, double clip) {
  check_nonnegative(sigma2, "sigma2");
  require(!std::isnan(epsilon) && epsilon > 0,
          "`epsilon` must be positive (+Inf for no privacy), not " + format_number(epsilon) + ".");
  check_positive(clip, "clip");
  check_finite(k, "k");
  require(k >= 1, "`k` (the bag size) must be at least 1, not " + format_number(k) + ".");
  if (std::isinf(epsilon)) return sigma2;
  return sigma2 + 8.0 * clip * clip / (k * epsilon * epsilon);
}

bag_size_result optimal_bag_size(double gamma, double theta_norm2, double sigma2, double epsilon,
                                 double clip, arma::uword k_max, double rho_max) {
  check_in_open(gamma, 0.0, 1.0, "gamma");
  require(k_max >= 1, "`k_max` must be at least 1.");
  bag_size_result out;
  out.risk_by_k.set_size(k_max);
  out.rho_by_k.set_size(k_max);
  out.risk = kInf;
  for (arma::uword k = 1; k <= k_max; ++k) {
    const double kd = static_cast<double>(k);
    const double s2 = dp_noise_variance(sigma2, kd, epsilon, clip);
    const oracle_rho_result o = oracle_rho(gamma, kd, theta_norm2, s2, rho_max);
    out.risk_by_k(k - 1) = o.at.risk;
    out.rho_by_k(k - 1) = o.rho;
    if (o.at.risk < out.risk) {
      out.risk = o.at.risk;
      out.k = k;
      out.rho = o.rho;
    }
  }
  return out;
}

}  // namespace tessera::aggregate
