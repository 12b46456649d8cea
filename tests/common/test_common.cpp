#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "tessera/common/context.hpp"
#include "tessera/common/error.hpp"
#include "tessera/common/folds.hpp"
#include "tessera/common/linalg.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/optim/adam.hpp"

using namespace tessera;

TEST_CASE("rng: the same (seed, stream) gives the same stream; different ones differ") {
  rng_engine a = make_rng(42, 3), b = make_rng(42, 3), c = make_rng(42, 4), e = make_rng(43, 3);
  const double xa = draw_normal(a), xb = draw_normal(b), xc = draw_normal(c), xe = draw_normal(e);
  CHECK(xa == xb);
  CHECK(xa != xc);
  CHECK(xa != xe);
  std::set<std::uint64_t> seeds;
  for (std::uint64_t k = 0; k < 1000; ++k) seeds.insert(derive_seed(7, k));
  CHECK(seeds.size() == 1000);
}

TEST_CASE("rng: normal and uniform draws have the right moments (within 4 standard errors)") {
  rng_engine rng = make_rng(1);
  const arma::uword n = 200000;
  const arma::mat z = draw_normal(rng, n, 1);
  const double se_mean = 1.0 / std::sqrt(double(n));
  CHECK(std::abs(arma::mean(z.col(0))) < 4 * se_mean);
  CHECK(std::abs(arma::var(z.col(0)) - 1.0) < 4 * std::sqrt(2.0 / n));
  double s = 0;
  for (arma::uword i = 0; i < n; ++i) s += draw_uniform(rng);
  CHECK(std::abs(s / n - 0.5) < 4 * std::sqrt(1.0 / 12.0 / n));
}

TEST_CASE("rng: permutations are permutations and uniform on small n") {
  rng_engine rng = make_rng(5);
  arma::mat counts(3, 3, arma::fill::zeros);
  const int reps = 30000;
  for (int r = 0; r < reps; ++r) {
    const arma::uvec p = draw_permutation(rng, 3);
    CHECK(arma::uvec(arma::sort(p))(2) == 2);
    for (arma::uword i = 0; i < 3; ++i) counts(i, p(i)) += 1;
  }
  // Each position holds each value with probability 1/3.
  const double se = std::sqrt(reps * (1.0 / 3) * (2.0 / 3));
  CHECK(arma::abs(counts - reps / 3.0).max() < 4.5 * se);
}

TEST_CASE("validate: messages name the argument") {
  CHECK_THROWS_WITH_AS(check_positive(-1, "lambda"), doctest::Contains("`lambda` must be positive"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(check_positive(std::nan(""), "lambda"), doctest::Contains("finite"),
                       tessera::invalid_argument);
  arma::mat x(3, 2, arma::fill::randu);
  x(1, 1) = arma::datum::nan;
  CHECK_THROWS_WITH_AS(check_finite(x, "x"), doctest::Contains("entry [2, 2]"), tessera::invalid_argument);
  arma::mat y = {{1, 2}, {1, 3}, {1, 4}};
  CHECK_THROWS_WITH_AS(check_no_constant_columns(y, "x"), doctest::Contains("column 1 is constant"),
                       tessera::invalid_argument);
  CHECK_NOTHROW(check_in_closed(0.5, 0, 1, "p"));
  CHECK_THROWS_AS(check_in_open(1, 0, 1, "p"), tessera::invalid_argument);
  CHECK_THROWS_AS(check_min_rows(y, 4, "x"), tessera::invalid_argument);
}

TEST_CASE("validate: the lazy require builds its message only when the check fails") {
  int built = 0;
  auto message = [&] {
    ++built;
    return std::string("`k` must be at least 1.");
  };
  CHECK_NOTHROW(tessera::require(true, message));
  CHECK(built == 0);
  CHECK_THROWS_WITH_AS(tessera::require(false, message), "`k` must be at least 1.",
                       tessera::invalid_argument);
  CHECK(built == 1);
}

TEST_CASE("context: interrupt callback stops work; silent context is a no-op") {
  runtime_context ctx;
  CHECK_NOTHROW(ctx.check_interrupt());
  ctx.interrupt_requested = [] { return true; };
  CHECK_THROWS_AS(ctx.check_interrupt(), tessera::interrupted);
  double seen = -1;
  ctx.progress = [&](double done, double) { seen = done; };
  ctx.report_progress(3, 10);
  CHECK(seen == 3);
  CHECK_NOTHROW(silent_context().check_interrupt());
}

TEST_CASE("linalg: centring and population sd") {
  const arma::mat x = {{1, 10}, {2, 20}, {3, 60}};
  const arma::mat c = center_columns(x);
  CHECK(std::abs(arma::accu(c.col(0))) < 1e-12);
  CHECK(x(0, 0) == 1);  // input untouched
  const arma::rowvec sd = column_sd_population(x);
  CHECK(sd(0) == doctest::Approx(std::sqrt(2.0 / 3.0)));
}

TEST_CASE("adam: minimises a convex quadratic to its closed-form minimiser") {
  // f(x) = 0.5 ||A x - b||^2 with A well conditioned: minimiser A \ b.
  const arma::mat A = {{3, 1}, {1, 2}};
  const arma::vec b = {1, -2};
  const arma::vec target = arma::solve(A, b);
  arma::mat x(2, 1, arma::fill::zeros);
  optim::adam opt(2, 1, {0.9, 0.999, 1e-8});
  for (int t = 0; t < 20000; ++t) x -= 1e-2 * opt.direction(A.t() * (A * x - b));
  CHECK(arma::abs(x.col(0) - target).max() < 1e-4);
  CHECK(opt.steps() == 20000);
  opt.reset();
  CHECK(opt.steps() == 0);
  // The first bias-corrected direction is sign(grad) (up to epsilon).
  const arma::mat g = arma::mat({2.0, -0.5}).t();
  const arma::mat d = opt.direction(g);
  CHECK(d(0, 0) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(d(1, 0) == doctest::Approx(-1.0).epsilon(1e-6));
}

TEST_CASE("stratified folds: balanced within every stratum and overall, seeded") {
  // Strata of sizes 37, 5, 3 and 58 with arbitrary labels; 5 folds.
  arma::uvec strata(103);
  strata.subvec(0, 36).fill(7);
  strata.subvec(37, 41).fill(2);
  strata.subvec(42, 44).fill(100);
  strata.subvec(45, 102).fill(0);
  const arma::uvec f = stratified_folds(strata, 5, 42);
  REQUIRE(f.n_elem == 103);
  CHECK(f.max() == 4);
  const arma::uvec sizes = arma::hist(f, arma::regspace<arma::uvec>(0, 4));
  CHECK(sizes.max() - sizes.min() <= 1);
  for (arma::uword label : {7u, 2u, 100u, 0u}) {
    const arma::uvec in = arma::hist(arma::uvec(f(arma::find(strata == label))),
                                     arma::regspace<arma::uvec>(0, 4));
    CHECK(in.max() - in.min() <= 1);  // stratum of 5 members: one in each fold
  }
  CHECK(arma::all(stratified_folds(strata, 5, 42) == f));
  CHECK(arma::any(stratified_folds(strata, 5, 43) != f));
  // The assignment within a stratum is random: not simply the row order.
  std::set<arma::uword> first_folds;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) first_folds.insert(stratified_folds(strata, 5, seed)(0));
  CHECK(first_folds.size() > 1);
  CHECK_THROWS_AS(stratified_folds(strata, 1, 1), invalid_argument);
  CHECK_THROWS_WITH_AS(stratified_folds(arma::uvec{0, 1}, 3, 1),
                       doctest::Contains("`folds` (3) must not exceed"), invalid_argument);
}
