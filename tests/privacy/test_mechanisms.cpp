// Mechanisms: calibration formulas, samplers, empirical privacy audits, bad input, seeding.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "tessera/common/error.hpp"
#include "tessera/privacy/mechanisms.hpp"
#include "tessera/privacy/random.hpp"

using namespace tessera::privacy;

namespace {
// Balle-Wang's defining equation, written out independently of the library.
double bw_delta(double sigma, double D, double eps) {
  const auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  return Phi(D / (2 * sigma) - eps * sigma / D) - std::exp(eps) * Phi(-D / (2 * sigma) - eps * sigma / D);
}

// Empirical audit of a scalar mechanism on neighbouring inputs a, b: for events
// {Z <= t} and {Z >= t}, returns the largest (p_a - e^eps p_b) - z * se over the events
// (for delta) and the largest log(p_a / p_b) - z * se (for pure eps), both directions.
struct audit_result {
  double max_delta_lower = -1;  // max over events of (p_a - e^eps p_b) - z se
  double max_delta_upper = -1;  // ... + z se
  double max_eps_lower = -1e9;  // max over events of log(p_a/p_b) - z se
  double max_eps_upper = -1e9;  // ... + z se
};

template <class Release>
audit_result audit(Release release, double a, double b, double eps, int n, double z,
                   const std::vector<double>& thresholds, std::uint64_t seed) {
  std::vector<double> za(n), zb(n);
  for (int i = 0; i < n; ++i) {
    noise_source sa = noise_source::seeded(seed, i, 0), sb = noise_source::seeded(seed, i, 1);
    za[i] = release(a, sa);
    zb[i] = release(b, sb);
  }
  audit_result r;
  for (int dir = 0; dir < 2; ++dir) {
    const auto& first = dir == 0 ? za : zb;  // both orderings of the neighbours
    const auto& second = dir == 0 ? zb : za;
    for (double t : thresholds) {
      for (int side = 0; side < 2; ++side) {
        double ca = 0, cb = 0;
        for (int i = 0; i < n; ++i) {
          ca += side == 0 ? first[i] <= t : first[i] >= t;
          cb += side == 0 ? second[i] <= t : second[i] >= t;
        }
        const double pa = ca / n, pb = cb / n;
        const double se_d = std::sqrt(pa * (1 - pa) / n + std::exp(2 * eps) * pb * (1 - pb) / n);
        const double dhat = pa - std::exp(eps) * pb;
        r.max_delta_lower = std::max(r.max_delta_lower, dhat - z * se_d);
        r.max_delta_upper = std::max(r.max_delta_upper, dhat + z * se_d);
        if (ca >= 400 && cb >= 400) {
          const double se_l = std::sqrt((1 - pa) / ca + (1 - pb) / cb);
          const double l = std::log(pa / pb);
          r.max_eps_lower = std::max(r.max_eps_lower, l - z * se_l);
          r.max_eps_upper = std::max(r.max_eps_upper, l + z * se_l);
        }
      }
    }
  }
  return r;
}

std::vector<double> grid_points(double lo, double hi, int k) {
  std::vector<double> t;
  for (int i = 0; i < k; ++i) t.push_back(lo + (hi - lo) * i / (k - 1));
  return t;
}
}  // namespace

TEST_CASE("classic Gaussian sigma is Dwork-Roth's formula and rejects epsilon > 1") {
  CHECK(classic_gaussian_sigma(2.0, 0.5, 1e-5) == doctest::Approx(2.0 * std::sqrt(2.0 * std::log(1.25e5)) / 0.5).epsilon(1e-14));
  CHECK(classic_gaussian_sigma(1.0, 1.0, 1e-3) == doctest::Approx(std::sqrt(2.0 * std::log(1250.0))).epsilon(1e-14));
  CHECK_THROWS_WITH_AS(classic_gaussian_sigma(1.0, 1.5, 1e-5), doctest::Contains("analytic"), tessera::invalid_argument);
}

TEST_CASE("analytic Gaussian sigma solves Balle-Wang's equation and beats the classic one") {
  for (double eps : {0.1, 0.5, 1.0, 3.0, 10.0, 30.0}) {
    for (double delta : {1e-2, 1e-6, 1e-10}) {
      const double D = 1.7;
      const double s = analytic_gaussian_sigma(D, eps, delta);
      CAPTURE(eps);
      CAPTURE(delta);
      CHECK(bw_delta(s, D, eps) <= delta * (1 + 1e-9));
      CHECK(bw_delta(s, D, eps) == doctest::Approx(delta).epsilon(1e-6));
      CHECK(bw_delta(s * (1 - 1e-7), D, eps) > delta);  // smallest such sigma
      if (eps <= 1) CHECK(s < classic_gaussian_sigma(D, eps, delta));
      CHECK(analytic_gaussian_sigma(2 * D, eps, delta) == doctest::Approx(2 * s).epsilon(1e-10));
    }
  }
  // Very large epsilon stays finite and positive (log-space tail).
  const double s = analytic_gaussian_sigma(1.0, 1024.0, 1e-6);
  CHECK(std::isfinite(s));
  CHECK(s > 0);
  CHECK(gaussian_delta(s, 1.0, 1024.0) <= 1e-6);
}

TEST_CASE("Laplace scale and Duchi's B have their closed forms") {
  CHECK(laplace_scale(3.0, 0.5) == doctest::Approx(6.0));
  const double e = std::exp(1.3), ratio = (e + 1) / (e - 1);
  // E|u_1| = 1 (d = 1), 2/pi (d = 2), 1/2 (d = 3).
  CHECK(duchi_output_norm(2.0, 1, 1.3) == doctest::Approx(2.0 * ratio).epsilon(1e-12));
  CHECK(duchi_output_norm(2.0, 2, 1.3) == doctest::Approx(2.0 * ratio * M_PI / 2.0).epsilon(1e-12));
  CHECK(duchi_output_norm(2.0, 3, 1.3) == doctest::Approx(2.0 * ratio * 2.0).epsilon(1e-12));
  CHECK(sphere_mean_abs_coordinate(400) * std::sqrt(400.0) == doctest::Approx(std::sqrt(2.0 / M_PI)).epsilon(2e-3));
}

TEST_CASE("discrete samplers have the right law") {
  const int n = 200000;
  noise_source src = noise_source::seeded(11, 0, 0);
  // Discrete Laplace with scale t: P(0) = (1 - q)/(1 + q), var = 2q/(1 - q)^2, q = e^{-1/t}.
  const double t = 2.5, q = std::exp(-1 / t);
  double zeros = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const long long k = sample_discrete_laplace(t, src);
    zeros += k == 0;
    s2 += double(k) * double(k);
  }
  const double p0 = (1 - q) / (1 + q), var = 2 * q / ((1 - q) * (1 - q));
  CHECK(std::abs(zeros / n - p0) < 5 * std::sqrt(p0 * (1 - p0) / n));
  // sd of k^2 for this law is about 2.4 var; 5 se.
  CHECK(std::abs(s2 / n - var) < 5 * 2.5 * var / std::sqrt(double(n)));
  // Discrete Gaussian with sigma: mean 0, variance sigma^2 (to 1e-10 for sigma >= 1).
  const double sig = 3.7;
  double m1 = 0, m2 = 0, c0 = 0;
  for (int i = 0; i < n; ++i) {
    const double k = double(sample_discrete_gaussian(sig, src));
    m1 += k;
    m2 += k * k;
    c0 += k == 0;
  }
  double norm = 0;
  for (int k = -60; k <= 60; ++k) norm += std::exp(-k * k / (2 * sig * sig));
  CHECK(std::abs(m1 / n) < 5 * sig / std::sqrt(double(n)));
  CHECK(std::abs(m2 / n - sig * sig) < 5 * std::sqrt(2.0) * sig * sig / std::sqrt(double(n)));
  CHECK(std::abs(c0 / n - 1 / norm) < 5 * std::sqrt((1 / norm) / n));
}

TEST_CASE("secure releases lie on a power-of-two grid and inflate the sensitivity by at most 0.1%") {
  const gaussian_mechanism g(3.0, 10, 0.8, 1e-6);
  CHECK(g.grid() > 0);
  CHECK(std::log2(g.grid()) == std::floor(std::log2(g.grid())));
  CHECK(g.effective_sensitivity() <= 3.0 * (1 + 1.0 / 1024));
  CHECK(g.sigma() == doctest::Approx(classic_gaussian_sigma(g.effective_sensitivity(), 0.8, 1e-6)).epsilon(1e-14));
  CHECK(g.delta_slack() < 1e-300);
  noise_source src = noise_source::seeded(3, 0, 0);
  arma::vec v = arma::linspace(-1.234567, 2.345678, 10);
  const arma::vec out = g.release(v, src);
  for (double x : out) CHECK(x / g.grid() == std::nearbyint(x / g.grid()));
  const laplace_mechanism l(2.0, 7, 1.0);
  CHECK(l.effective_sensitivity() <= 2.0 * (1 + 1.0 / 1024));
  const arma::vec lo = l.release(arma::linspace(-1, 1, 7), src);
  for (double x : lo) CHECK(x / l.grid() == std::nearbyint(x / l.grid()));
  // automatic calibration switches at epsilon = 1
  CHECK(gaussian_mechanism(1, 1, 1.0, 1e-5).calibration_used() == gaussian_calibration::classic);
  CHECK(gaussian_mechanism(1, 1, 1.01, 1e-5).calibration_used() == gaussian_calibration::analytic);
}

TEST_CASE("privacy audit: Laplace (secure and textbook) on neighbouring inputs") {
  const double eps = 1.0, D = 1.0;
  const int n = 100000;
  for (bool secure : {true, false}) {
    CAPTURE(secure);
    const laplace_mechanism mech(D, 1, eps, secure);
    const auto rel = [&](double x, noise_source& s) { return mech.release(arma::vec{x}, s)(0); };
    const auto r = audit(rel, 0.0, D, eps, n, 4.0, grid_points(-2.0, 3.0, 11), 101);
    CHECK(r.max_eps_lower <= eps);   // never above epsilon beyond sampling error
    CHECK(r.max_eps_upper >= eps * D / mech.effective_sensitivity());  // the bound is attained
  }
}

TEST_CASE("privacy audit: Gaussian classic and analytic on neighbouring inputs") {
  const int n = 100000;
  for (double eps : {0.9, 3.0}) {
    const double delta = 0.05, D = 1.0;
    const gaussian_mechanism mech(D, 1, eps, delta);
    CAPTURE(eps);
    const auto rel = [&](double x, noise_source& s) { return mech.release(arma::vec{x}, s)(0); };
    const double s = mech.sigma();
    // The optimal event is {Z <= D/2 - eps sigma^2 / D}; include it among the thresholds.
    std::vector<double> t = grid_points(-3 * s, 3 * s, 13);
    t.push_back(D / 2 - eps * s * s / D);
    t.push_back(D / 2 + eps * s * s / D);
    const auto r = audit(rel, 0.0, D, eps, n, 4.0, t, 202);
    CHECK(r.max_delta_lower <= delta);
    // The exact delta of this pair (shift D, not the inflated D_eff) is attained.
    CHECK(r.max_delta_upper >= gaussian_delta(s, D, eps));
  }
}

TEST_CASE("privacy audit and unbiasedness of Duchi's l2-ball mechanism") {
  const arma::uword d = 4;
  const double r = 2.0, eps = 1.2;
  const duchi_mechanism mech(r, d, eps);
  const int n = 100000;
  arma::vec v = {1.0, -0.5, 0.3, 0.0};
  v *= 0.6 * r / arma::norm(v);
  arma::mat draws(d, n);
  for (int i = 0; i < n; ++i) {
    noise_source s = noise_source::seeded(77, i, 0);
    draws.col(i) = mech.release(v, s);
  }
  // Output norm B exactly.
  const arma::rowvec norms = arma::sqrt(arma::sum(arma::square(draws), 0));
  CHECK(arma::abs(norms - mech.output_norm()).max() <= 1e-12 * mech.output_norm());
  // Unbiased: each coordinate's mean within 4.5 standard errors.
  const arma::vec mean = arma::mean(draws, 1), sd = arma::stddev(draws, 0, 1);
  for (arma::uword j = 0; j < d; ++j) CHECK(std::abs(mean(j) - v(j)) < 4.5 * sd(j) / std::sqrt(double(n)));
  // Audit on the extreme neighbours v and -v (norm r): event <Z, v> > 0.
  arma::vec w = v * (r / arma::norm(v));
  double ca = 0, cb = 0;
  for (int i = 0; i < n; ++i) {
    noise_source sa = noise_source::seeded(78, i, 0), sb = noise_source::seeded(78, i, 1);
    ca += arma::dot(mech.release(w, sa), w) > 0;
    cb += arma::dot(mech.release(-w, sb), w) > 0;
  }
  const double pa = ca / n, pb = cb / n;
  const double se = std::sqrt((1 - pa) / ca + (1 - pb) / cb);
  CHECK(std::log(pa / pb) - 4 * se <= eps);
  CHECK(std::log(pa / pb) + 4 * se >= eps);  // tight
  // Agreement with the rounded vector's half-sphere: e^eps / (1 + e^eps).
  const double p = std::exp(eps) / (1 + std::exp(eps));
  CHECK(std::abs(pa - p) < 4.5 * std::sqrt(p * (1 - p) / n));
}

TEST_CASE("mechanisms reject bad epsilon, delta, bounds and inputs") {
  const double nan = std::nan(""), inf = INFINITY;
  for (double eps : {0.0, -1.0, nan, inf}) {
    CHECK_THROWS_WITH_AS(gaussian_mechanism(1, 1, eps, 1e-5), doctest::Contains("epsilon"), tessera::invalid_argument);
    CHECK_THROWS_WITH_AS(laplace_mechanism(1, 1, eps), doctest::Contains("epsilon"), tessera::invalid_argument);
    CHECK_THROWS_WITH_AS(duchi_mechanism(1, 1, eps), doctest::Contains("epsilon"), tessera::invalid_argument);
    CHECK_THROWS_AS(analytic_gaussian_sigma(1, eps, 1e-5), tessera::invalid_argument);
  }
  for (double delta : {0.0, 1.0, -0.1, 2.0, nan})
    CHECK_THROWS_WITH_AS(gaussian_mechanism(1, 1, 0.5, delta), doctest::Contains("delta"), tessera::invalid_argument);
  for (double sens : {0.0, -1.0, nan, inf}) {
    CHECK_THROWS_WITH_AS(gaussian_mechanism(sens, 1, 0.5, 1e-5), doctest::Contains("sensitivity"), tessera::invalid_argument);
    CHECK_THROWS_WITH_AS(laplace_mechanism(sens, 1, 0.5), doctest::Contains("sensitivity"), tessera::invalid_argument);
    CHECK_THROWS_WITH_AS(duchi_mechanism(sens, 2, 0.5), doctest::Contains("radius"), tessera::invalid_argument);
  }
  CHECK_THROWS_WITH_AS(gaussian_mechanism(1, 1, 2.0, 1e-5, gaussian_calibration::classic),
                       doctest::Contains("exceeds 1"), tessera::invalid_argument);
  noise_source s = noise_source::seeded(1, 0, 0);
  const duchi_mechanism dm(1.0, 2, 1.0);
  CHECK_THROWS_WITH_AS(dm.release(arma::vec{1.0, 1.0}, s), doctest::Contains("above the mechanism's radius"),
                       tessera::invalid_argument);
  const gaussian_mechanism gm(1, 2, 0.5, 1e-5);
  CHECK_THROWS_AS(gm.release(arma::vec{1.0}, s), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(gm.release(arma::vec{1.0, nan}, s), doctest::Contains("finite"), tessera::invalid_argument);
}

TEST_CASE("every user and round has its own stream; the OS source is not replayable") {
  std::set<std::uint64_t> seeds;
  for (std::uint64_t u = 0; u < 2000; ++u)
    for (std::uint64_t t = 0; t < 25; ++t) seeds.insert(stream_seed(42, u, t));
  CHECK(seeds.size() == 2000u * 25u);
  // Same (seed, user, round): same stream; a different user or round: a different one.
  noise_source a = noise_source::seeded(42, 3, 1), b = noise_source::seeded(42, 3, 1);
  noise_source c = noise_source::seeded(42, 4, 1), e = noise_source::seeded(42, 3, 2);
  const auto x = a(), y = b(), z = c(), w = e();
  CHECK(x == y);
  CHECK(x != z);
  CHECK(x != w);
  CHECK(a.is_seeded());
  // The OS generator: two sources never agree on 4 words in a row.
  noise_source o1 = noise_source::os_entropy(), o2 = noise_source::os_entropy();
  CHECK_FALSE(o1.is_seeded());
  bool all_same = true;
  for (int i = 0; i < 4; ++i) all_same = all_same && (o1() == o2());
  CHECK_FALSE(all_same);
  // Its uniforms look uniform (mean 1/2 within 5 se over 1e5 draws).
  double m = 0;
  for (int i = 0; i < 100000; ++i) m += o1.uniform_open0();
  CHECK(std::abs(m / 1e5 - 0.5) < 5 * std::sqrt(1.0 / 12 / 1e5));
}
