#include <doctest/doctest.h>

#include <cmath>

#include "aggregate/helpers.hpp"
#include "tessera/common/error.hpp"

using namespace aggtest;

TEST_CASE("bags from ids, random bags, aggregates") {
  const bag_structure b = bags_from_ids(arma::uvec{7, 3, 7, 9, 3, 3});
  CHECK(b.n_bags() == 3);
  CHECK(arma::all(b.ids == arma::uvec{3, 7, 9}));
  CHECK(arma::all(b.sizes == arma::uvec{3, 2, 1}));
  CHECK(arma::all(b.bag == arma::uvec{1, 0, 1, 2, 0, 0}));
  const arma::vec m = bag_means(arma::vec{1, 2, 3, 4, 5, 6}, b);
  CHECK(m(0) == doctest::Approx((2 + 5 + 6) / 3.0));
  CHECK(m(1) == doctest::Approx(2.0));
  const arma::vec al = align_aggregates(b, arma::uvec{9, 3, 7}, arma::vec{0.9, 0.3, 0.7});
  CHECK(arma::approx_equal(al, arma::vec{0.3, 0.7, 0.9}, "absdiff", 0));
  const arma::vec ms = means_from_sums(b, arma::vec{3, 4, 5}, arma::vec{3, 2, 1});
  CHECK(arma::approx_equal(ms, arma::vec{1, 2, 5}, "absdiff", 1e-15));

  const bag_structure r = random_bags(23, 5, 4);
  CHECK(r.scheme == bag_scheme::random);
  CHECK(r.n_bags() == 5);
  CHECK(arma::accu(r.sizes) == 23);
  CHECK(arma::accu(r.sizes == 5) == 4);  // one bag of the 3 left over
  CHECK(arma::all(random_bags(23, 5, 4).bag == r.bag));  // seeded
  CHECK(arma::any(random_bags(23, 5, 5).bag != r.bag));
}

TEST_CASE("bad input to the bag helpers") {
  const bag_structure b = bags_from_ids(arma::uvec{1, 1, 2});
  CHECK_THROWS_WITH_AS(bags_from_ids(arma::uvec()), doctest::Contains("empty"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(align_aggregates(b, arma::uvec{1, 2, 5}, arma::vec{1, 2, 3}),
                       doctest::Contains("has no rows"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(align_aggregates(b, arma::uvec{1}, arma::vec{1}), doctest::Contains("no aggregate"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(align_aggregates(b, arma::uvec{1, 1}, arma::vec{1, 2}),
                       doctest::Contains("two aggregates"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(means_from_sums(b, arma::vec{1, 2}, arma::vec{0, 1}),
                       doctest::Contains("`sizes` must be positive"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(means_from_sums(b, arma::vec{1, 2}, arma::vec{3, 1}),
                       doctest::Contains("members"), tessera::invalid_argument);
  CHECK_THROWS_AS(random_bags(10, 0, 1), tessera::invalid_argument);
  CHECK_THROWS_AS(random_bags(10, 11, 1), tessera::invalid_argument);
}

TEST_CASE("DP release: clipping, per-bag Laplace scale 2C/(|B| eps), noise moments and tails") {
  const arma::uword n = 60000;
  const bag_structure bags = uneven_bags(n, 4, 2);
  auto rng = tessera::make_rng(8);
  const arma::vec y = 3.0 * tessera::draw_normal(rng, n, 1);
  const double eps = 0.7, C = 2.0;
  const dp_release rel = dp_aggregate(y, bags, eps, C, 42);
  const arma::vec clean = bag_means(arma::clamp(y, -C, C), bags);
  CHECK(rel.n_clipped == arma::accu(arma::abs(y) > C));
  CHECK(rel.seeded);
  for (arma::uword a = 0; a < 50; ++a) {
    // Scale 2C/(|B| eps), inflated by the grid step (at most 1/1024 of the sensitivity).
    const double nominal = 2 * C / (static_cast<double>(bags.sizes(a)) * eps);
    CHECK(rel.scale(a) >= nominal);
    CHECK(rel.scale(a) <= nominal * (1 + 1.0 / 1024) * (1 + 1e-12));
    // The release lies on its power-of-two grid (the secure mechanism: no low-bit leak).
    const double g = rel.grid(a);
    CHECK(std::log2(g) == doctest::Approx(std::round(std::log2(g))));
    CHECK(g <= eps * nominal / 1024);
    CHECK(rel.y_bag(a) / g == std::round(rel.y_bag(a) / g));
  }
  const arma::vec z = (rel.y_bag - clean) / rel.scale;  // standard Laplace(0, 1)
  const double m = static_cast<double>(z.n_elem);
  // Mean 0 (sd sqrt(2/m)); variance 2 (sd of the sample variance ~ sqrt(20/m) for Laplace).
  CHECK(std::abs(arma::mean(z)) < 4 * std::sqrt(2.0 / m));
  CHECK(std::abs(arma::var(z) - 2.0) < 4 * std::sqrt(20.0 / m));
  // Tails: P(|Z| > t) = exp(-t), within 4 binomial standard errors.
  for (double t : {0.5, 1.0, 2.0, 4.0}) {
    const double p = std::exp(-t);
    const double phat = arma::accu(arma::abs(z) > t) / m;
    INFO("t = " << t);
    CHECK(std::abs(phat - p) < 4 * std::sqrt(p * (1 - p) / m));
  }
  // Seeded and reproducible; a different seed gives different noise.
  CHECK(arma::approx_equal(dp_aggregate(y, bags, eps, C, 42).y_bag, rel.y_bag, "absdiff", 0));
  CHECK(arma::any(dp_aggregate(y, bags, eps, C, 43).y_bag != rel.y_bag));
  // Without a seed: the OS generator, never replayed.
  const dp_release os1 = dp_aggregate(y, bags, eps, C), os2 = dp_aggregate(y, bags, eps, C);
  CHECK_FALSE(os1.seeded);
  CHECK(arma::accu(os1.y_bag != os2.y_bag) > bags.n_bags() / 2);
}

TEST_CASE("bad input to the DP release") {
  const bag_structure b = bags_from_ids(arma::uvec{1, 1, 2});
  const arma::vec y = {1, 2, 3};
  CHECK_THROWS_WITH_AS(dp_aggregate(y, b, 0, 1, 1), doctest::Contains("`epsilon` must be positive"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(dp_aggregate(y, b, -1, 1, 1), doctest::Contains("`epsilon`"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(dp_aggregate(y, b, 1, 0, 1), doctest::Contains("`clip` must be positive"),
                       tessera::invalid_argument);
  CHECK_THROWS_AS(dp_aggregate(y, b, arma::datum::inf, 1, 1), tessera::invalid_argument);
  CHECK_THROWS_AS(dp_aggregate(arma::vec{1, arma::datum::nan, 3}, b, 1, 1, 1), tessera::invalid_argument);
  CHECK_THROWS_AS(dp_aggregate(arma::vec{1, 2}, b, 1, 1, 1), tessera::invalid_argument);
}
