#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "aggregate/helpers.hpp"
#include "tessera/common/error.hpp"

using namespace aggtest;

TEST_CASE("risk formulas reproduce the note's reference table (sigma^2 = 1)") {
  struct row { double psi, k, snr, r_bag, r_ins, rho_star, r_star; };
  const double inf = arma::datum::inf;
  const row table[] = {{2, 2, 1, inf, 1.0000, 1.0, 1.0000},
                       {5, 2, 1, 0.6667, 0.4375, 0.398, 0.3903},
                       {5, 5, 5, inf, 3.4500, 0.053, 1.9763},
                       {10, 2, 5, 0.2500, 1.4444, 0.034, 0.2377},
                       {10, 5, 1, 1.0000, 0.6800, 0.130, 0.4298}};
  for (const row& r : table) {
    const double g = 1.0 / r.psi;
    INFO("psi = " << r.psi << ", k = " << r.k << ", snr = " << r.snr);
    const double rb = asymptotic_risk(g, r.k, 0, r.snr, 1).risk;
    if (std::isinf(r.r_bag)) CHECK(std::isinf(rb));
    else CHECK(rb == doctest::Approx(r.r_bag).epsilon(1e-4));
    CHECK(asymptotic_risk(g, r.k, 1, r.snr, 1).risk == doctest::Approx(r.r_ins).epsilon(1e-4));
    const oracle_rho_result o = oracle_rho(g, r.k, r.snr, 1);
    CHECK(o.at.risk == doctest::Approx(r.r_star).epsilon(1e-4));
    CHECK(std::abs(o.rho - r.rho_star) < 1.5e-3);
  }
  // Unconstrained optimum of the first row: 5.83 with risk 0.914.
  const oracle_rho_result u = oracle_rho(0.5, 2, 1, 1, 20);
  CHECK(u.rho == doctest::Approx(5.83).epsilon(0.01));
  CHECK(u.at.risk == doctest::Approx(0.914).epsilon(1e-3));
}

TEST_CASE("special cases of the risk formulas") {
  for (double g : {0.05, 0.2, 0.4}) {
    for (double k : {2.0, 3.0, 7.0}) {
      // rho = 1: closed form of the bias, variance sigma^2 gamma / (k (1 - gamma)).
      const risk_value r1 = asymptotic_risk(g, k, 1, 2.0, 0.5);
      const double bias1 = 2.0 * (std::pow(1 - 1 / k, 2) - g * (k - 1) * (k - 2) / (k * k)) / (1 - g);
      CHECK(r1.bias == doctest::Approx(bias1).epsilon(1e-10));
      CHECK(r1.variance == doctest::Approx(0.5 * g / (k * (1 - g))).epsilon(1e-10));
      // rho = 0: no bias, variance sigma^2 gamma k / (1 - gamma k) when gamma k < 1.
      const risk_value r0 = asymptotic_risk(g, k, 0, 2.0, 0.5);
      CHECK(r0.bias == 0);
      if (g * k < 1) CHECK(r0.variance == doctest::Approx(0.5 * g * k / (1 - g * k)).epsilon(1e-12));
      else CHECK(std::isinf(r0.risk));
      // The fixed point tau solves its equation.
      const double rho = 0.37;
      const double t = fixed_point_tau(g, k, rho);
      CHECK(t / (1 + t) / k + (1 - 1 / k) * rho * t / (1 + rho * t) == doctest::Approx(g).epsilon(1e-12));
    }
    // k = 1: OLS for every rho.
    for (double rho : {0.0, 0.3, 1.0, 4.0}) {
      const risk_value r = asymptotic_risk(g, 1, rho, 3.0, 1.0);
      CHECK(r.bias == 0);
      CHECK(r.variance == doctest::Approx(g / (1 - g)).epsilon(1e-12));
    }
  }
  // rho -> 0+ stays finite when m < d < n.
  CHECK(std::isfinite(asymptotic_risk(0.4, 5, 1e-6, 1, 1).risk));
}

TEST_CASE("risk formulas against Monte Carlo at n = 4000, d = 800 (random bags, Gaussian design)") {
  // The and the note's setting: n = 4000, d = 800 (gamma = 0.2), k = 4, rho = 0.05 and
  // 2 (theory: Bias 0.1376 / 0.7327, Var 0.8188 / 0.0253). Per replication, one set of
  // sufficient statistics and one rho path serve both rho values and both responses:
  // Bias = ||E[theta|X] - theta0||^2 from the noise-free aggregates, and a one-draw estimate
  // of Var = E||theta - E[theta|X]||^2 from pure-noise aggregates. 6 replications: at this
  // size both quantities concentrate, so the Monte Carlo SE is already small.
  const arma::uword n = 4000, d = 800, k = 4;
  const int reps = 6;
  const std::vector<double> rhos = {0.05, 2.0};
  arma::mat bias(reps, 2), var(reps, 2);
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    auto rng = tessera::make_rng(500 + r);
    const arma::mat X = tessera::draw_normal(rng, n, d);
    const arma::vec th0 = arma::normalise(tessera::draw_normal(rng, d, 1));  // SNR 1
    const arma::vec noise = tessera::draw_normal(rng, n, 1);
    const bag_structure bags = random_bags(n, k, 900 + r);
    const rho_path clean(compute_stats(X, bags, bag_means(X * th0, bags), false), 0.0);
    const rho_path pure(compute_stats(X, bags, bag_means(noise, bags), false), 0.0);
    for (std::size_t j = 0; j < rhos.size(); ++j) {
      bias(r, j) = std::pow(arma::norm(clean.coef(rhos[j]) - th0), 2);
      var(r, j) = std::pow(arma::norm(pure.coef(rhos[j])), 2);
    }
  }
  const double ref_bias[] = {0.1376, 0.7327}, ref_var[] = {0.8188, 0.0253};
  for (std::size_t j = 0; j < rhos.size(); ++j) {
    const risk_value th = asymptotic_risk(0.2, 4, rhos[j], 1, 1);
    CHECK(th.bias == doctest::Approx(ref_bias[j]).epsilon(5e-4));
    CHECK(th.variance == doctest::Approx(ref_var[j]).epsilon(5e-4));
    const double mb = arma::mean(bias.col(j)), mv = arma::mean(var.col(j));
    const double se_b = arma::stddev(bias.col(j)) / std::sqrt(reps), se_v = arma::stddev(var.col(j)) / std::sqrt(reps);
    MESSAGE("rho = " << rhos[j] << ": bias " << mb << " (theory " << th.bias << ", se " << se_b << "), var " << mv
                     << " (theory " << th.variance << ", se " << se_v << ")");
    // 4 Monte Carlo SEs plus a 3% finite-size allowance (the theory is the n, d -> inf limit).
    CHECK(std::abs(mb - th.bias) < 4 * se_b + 0.03 * th.bias);
    CHECK(std::abs(mv - th.variance) < 4 * se_v + 0.03 * th.variance);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("Monte Carlo check took " << secs << " s");
}

TEST_CASE("risk under DP and the optimal bag size reproduce the note's table") {
  // psi = 10, ||theta0||^2 = sigma^2 = 1, C = 1, min over rho in [0, 1].
  struct row { double eps, r1; arma::uword k; double rk; };
  const row table[] = {{1, 1.000, 2, 0.556}, {0.5, 3.667, 5, 0.822}, {2, 0.333, 2, 0.332}};
  for (const row& r : table) {
    const bag_size_result b = optimal_bag_size(0.1, 1, 1, r.eps, 1, 30);
    INFO("eps = " << r.eps);
    CHECK(b.risk_by_k(0) == doctest::Approx(r.r1).epsilon(1e-3));
    CHECK(b.k == r.k);
    CHECK(b.risk == doctest::Approx(r.rk).epsilon(2e-3));
  }
  CHECK(dp_noise_variance(1, 4, 2, 1.5) == doctest::Approx(1 + 8 * 2.25 / (4 * 4.0)));
  // Without privacy and bag-level only the risk grows with k, so k* = 1.
  const bag_size_result np = optimal_bag_size(0.1, 1, 1, arma::datum::inf, 1, 10, 1e-12);
  CHECK(np.k == 1);
}

TEST_CASE("bad input to the risk functions") {
  CHECK_THROWS_WITH_AS(asymptotic_risk(1.2, 2, 1, 1, 1), doctest::Contains("`gamma`"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(asymptotic_risk(0.2, 0.5, 1, 1, 1), doctest::Contains("`k`"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(asymptotic_risk(0.2, 2, -1, 1, 1), doctest::Contains("`rho`"), tessera::invalid_argument);
  CHECK_THROWS_AS(asymptotic_risk(0.2, 2, 1, -1, 1), tessera::invalid_argument);
  CHECK_THROWS_AS(asymptotic_risk(0.2, 2, arma::datum::nan, 1, 1), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(optimal_bag_size(0.1, 1, 1, 0, 1), doctest::Contains("`epsilon`"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(optimal_bag_size(0.1, 1, 1, 1, -1), doctest::Contains("`clip`"), tessera::invalid_argument);
  CHECK_THROWS_AS(optimal_bag_size(0.1, 1, 1, 1, 1, 0), tessera::invalid_argument);
}
