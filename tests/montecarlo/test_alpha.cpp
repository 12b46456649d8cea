// The alpha step against a brute-force grid, and the simplex projection.
#include <algorithm>
#include <cmath>

#include <doctest/doctest.h>

#include "tessera/common/rng.hpp"
#include "tessera/montecarlo/aiscv.hpp"
#include "tessera/montecarlo/gaussian.hpp"
#include "tessera/optim/simplex.hpp"

using namespace tessera::montecarlo;

TEST_CASE("projection onto the floored simplex") {
  const arma::vec p = tessera::optim::project_to_simplex(arma::vec{0.5, 0.9, -2.0}, 0.01);
  CHECK(arma::accu(p) == doctest::Approx(1.0));
  CHECK(p(2) == doctest::Approx(0.01));
  // KKT: the free coordinates are shifted by the same amount.
  CHECK(p(1) - p(0) == doctest::Approx(0.4));
  const arma::vec inside = {0.2, 0.3, 0.5};
  CHECK(arma::approx_equal(tessera::optim::project_to_simplex(inside), inside, "absdiff", 1e-15));
}

TEST_CASE("optimise_alpha matches a brute-force grid on 3 components") {
  tessera::rng_engine rng = tessera::make_rng(11);
  for (int rep = 0; rep < 3; ++rep) {
    const arma::uword M = 200;
    arma::mat G = arma::exp(tessera::draw_normal(rng, M, 3));
    arma::vec a = arma::square(tessera::draw_normal(rng, M, 1)) % G.col(rep % 3);  // favours one component
    auto F = [&](const arma::vec& al) { return arma::mean(a / (G * al)); };
    const arma::vec got = optimise_alpha(a, G, arma::vec{1.0, 1.0, 1.0} / 3, 9e-12);
    double best = 1e300;
    arma::vec best_alpha;
    const int steps = 400;
    for (int i = 0; i <= steps; ++i)
      for (int j = 0; i + j <= steps; ++j) {
        arma::vec al = {double(i) / steps, double(j) / steps, double(steps - i - j) / steps};
        al = arma::clamp(al, 9e-12, 1.0);
        const double v = F(al);
        if (v < best) best = v, best_alpha = al;
      }
    CHECK(F(got) <= best * (1 + 1e-9));
    CHECK(arma::abs(got - best_alpha).max() < 0.01);
    CHECK(arma::accu(got) == doctest::Approx(1.0));
  }
}

TEST_CASE("optimise_alpha with a defensive offset matches a brute-force grid") {
  tessera::rng_engine rng = tessera::make_rng(12);
  const arma::uword M = 200;
  const arma::mat G = 0.9 * arma::exp(tessera::draw_normal(rng, M, 2));
  const arma::vec c = 0.1 * arma::exp(tessera::draw_normal(rng, M, 1));
  const arma::vec a = arma::square(tessera::draw_normal(rng, M, 1)) % G.col(1);
  auto F = [&](const arma::vec& al) { return arma::mean(a / (c + G * al)); };
  const arma::vec got = optimise_alpha(a, G, arma::vec{0.5, 0.5}, 9e-12, c);
  double best = 1e300;
  for (int i = 0; i <= 2000; ++i) {
    const double t = std::clamp(i / 2000.0, 9e-12, 1 - 9e-12);
    best = std::min(best, F(arma::vec{t, 1 - t}));
  }
  CHECK(F(got) <= best * (1 + 1e-9));
}

TEST_CASE("covariance shrinkage intensity: near 1 for few independent points, near 0 for many correlated") {
  tessera::rng_engine rng = tessera::make_rng(4);
  const arma::uword d = 12;
  auto intensity = [&](const arma::mat& x) {
    const arma::vec p(x.n_rows, arma::fill::value(1.0 / static_cast<double>(x.n_rows)));
    arma::mat c = x;
    c.each_row() -= arma::mean(x, 0);
    return shrinkage_intensity(c, p, c.t() * (c.each_col() % p));
  };
  // 100 points of N(0, I_12): every sample correlation is noise.
  CHECK(intensity(tessera::draw_normal(rng, 100, d)) > 0.7);
  // 5000 points with correlation 0.6 between all coordinates: keep the correlations.
  arma::mat z = tessera::draw_normal(rng, 5000, d);
  const arma::vec common = tessera::draw_normal(rng, 5000, 1);
  z = std::sqrt(0.4) * z + std::sqrt(0.6) * arma::repmat(common, 1, d);
  CHECK(intensity(z) < 0.02);
  // One dimension: nothing to shrink.
  CHECK(intensity(tessera::draw_normal(rng, 50, 1)) == 0.0);
  // fit_gaussian reports it and keeps the diagonal.
  const arma::mat x = tessera::draw_normal(rng, 60, d);
  fit_report rep;
  const gaussian g = fit_gaussian(x, arma::vec(60, arma::fill::ones), arma::rowvec(d, arma::fill::ones), 0.0, false, rep, true);
  CHECK(rep.shrinkage > 0.5);
  CHECK(arma::approx_equal(g.cov.diag(), arma::var(x, 1, 0).t(), "reldiff", 1e-10));
}
