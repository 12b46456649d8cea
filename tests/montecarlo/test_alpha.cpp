// The alpha step against a brute-force grid, and the simplex projection.
#include <doctest/doctest.h>

#include "tessera/common/rng.hpp"
#include "tessera/montecarlo/aiscv.hpp"
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
