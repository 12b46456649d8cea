// Sobol' indices against closed forms (Ishigami, additive model) and the delta method
// against a numerical Jacobian.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

#include "tessera/common/error.hpp"
#include "tessera/montecarlo/sobol.hpp"

using namespace tessera::montecarlo;

TEST_CASE("Ishigami: first and total indices within 4 SE of the closed form") {
  const double a = 7, b = 0.1, pi = M_PI;
  const double V1 = 0.5 * std::pow(1 + b * std::pow(pi, 4) / 5, 2), V2 = a * a / 8;
  const double V13 = b * b * std::pow(pi, 8) * (1.0 / 18 - 1.0 / 50);
  const double V = V1 + V2 + V13;
  const arma::vec S = {V1 / V, V2 / V, 0.0}, T = {(V1 + V13) / V, V2 / V, V13 / V};
  model_function ishigami = [=](const arma::mat& x) {
    return arma::vec(arma::sin(x.col(0)) + a * arma::square(arma::sin(x.col(1))) + b * arma::pow(x.col(2), 4) % arma::sin(x.col(0)));
  };
  const std::vector<marginal> m(3, marginal{marginal_family::uniform, -pi, pi});
  sobol_options o;
  o.model_runs = 25000;
  const sobol_result r = sobol_aiscv(ishigami, m, o, 21);
  CHECK(r.model_runs <= 25000);
  for (arma::uword i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(std::abs(r.first(i) - S(i)) < 4 * r.first_se(i) + 1e-9);
    CHECK(std::abs(r.total(i) - T(i)) < 4 * r.total_se(i) + 1e-9);
    CHECK(r.first_se(i) > 0);
  }
}

TEST_CASE("additive model with lognormal and gamma inputs: S = T = share of variance") {
  // y = 2 x1 + x2 - x3, independent; Var = 4 v1 + v2 + v3.
  const marginal m1{marginal_family::normal, 0.0, 1.0}, m2{marginal_family::lognormal, 0.0, 0.5},
      m3{marginal_family::gamma, 2.0, 1.0};
  const double v1 = 1.0, v2 = (std::exp(0.25) - 1) * std::exp(0.25), v3 = 2.0;
  const arma::vec share = arma::vec{4 * v1, v2, v3} / (4 * v1 + v2 + v3);
  sobol_options o;
  o.model_runs = 15000;
  const sobol_result r = sobol_aiscv([](const arma::mat& x) { return arma::vec(2 * x.col(0) + x.col(1) - x.col(2)); },
                                     {m1, m2, m3}, o, 5);
  for (arma::uword i = 0; i < 3; ++i) {
    CHECK(std::abs(r.first(i) - share(i)) < 4 * r.first_se(i));
    CHECK(std::abs(r.total(i) - share(i)) < 4 * r.total_se(i));
  }
}

TEST_CASE("delta method matches a numerical Jacobian") {
  const arma::uword d = 2;
  const arma::vec e = {1.3, 1.1, 0.8, 2.0, 0.9, 0.5};  // I1, I2, m, s, D1, D2
  arma::mat A = arma::reshape(arma::linspace(0.1, 3.6, 36), 6, 6);
  const arma::mat cov = A * A.t() * 1e-4;
  const sobol_result r = sobol_from_expectations(e, cov, d, true, 0.95);
  arma::mat jac(4, 6);
  auto idx = [&](const arma::vec& v) {
    const sobol_result q = sobol_from_expectations(v, cov, d, true, 0.95);
    return arma::vec(arma::join_cols(q.first, q.total));
  };
  for (arma::uword k = 0; k < 6; ++k) {
    arma::vec up = e, dn = e;
    up(k) += 1e-6;
    dn(k) -= 1e-6;
    jac.col(k) = (idx(up) - idx(dn)) / 2e-6;
  }
  const arma::mat want = jac * cov * jac.t();
  CHECK(arma::approx_equal(r.index_covariance, want, "reldiff", 1e-6));
  CHECK(r.first(0) == doctest::Approx((1.3 - 0.64) / (2.0 - 0.64)));
}

TEST_CASE("Sobol' bad input: constant model, NaN output, wrong length") {
  const std::vector<marginal> m(2, marginal{marginal_family::normal, 0.0, 1.0});
  sobol_options o;
  o.model_runs = 2000;
  CHECK_THROWS_WITH_AS(sobol_aiscv([](const arma::mat& x) { return arma::vec(x.n_rows, arma::fill::ones); }, m, o, 1),
                       doctest::Contains("no variance"), tessera::invalid_argument);
  // An input the model ignores: its total-effect column is exactly zero; T = S = 0.
  const sobol_result r = sobol_aiscv([](const arma::mat& x) { return arma::vec(x.col(0)); }, m, o, 2);
  CHECK(r.total(1) == 0.0);
  CHECK(r.total_se(1) == 0.0);
  CHECK(std::abs(r.first(0) - 1.0) < 4 * r.first_se(0) + 1e-9);
  CHECK_THROWS_WITH_AS(sobol_aiscv([](const arma::mat& x) { arma::vec y = x.col(0); y(3) = NAN; return y; }, m, o, 1),
                       doctest::Contains("row 4"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(sobol_aiscv([](const arma::mat& x) { return arma::vec(x.n_rows + 1, arma::fill::ones); }, m, o, 1),
                       doctest::Contains("one value per row"), tessera::invalid_argument);
  o.model_runs = 300;
  CHECK_THROWS_WITH_AS(sobol_aiscv([](const arma::mat& x) { return arma::vec(x.col(0)); }, m, o, 1),
                       doctest::Contains("use at least 400 model runs"), tessera::invalid_argument);
}

namespace {
// The beam of the paper's case (c): marginals and the authors' 1e7-point pick-freeze
// reference indices (sd about 9e-4) from the fixture.
struct beam_case {
  std::vector<marginal> marginals;
  arma::vec reference;
};

beam_case read_beam_fixture() {
  std::ifstream in(std::string(TESSERA_FIXTURES_DIR) + "/montecarlo/beam_sobol_reference.csv");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);  // header
  beam_case b;
  std::vector<double> ref;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string name, family, mean, cv, s;
    std::getline(ss, name, ',');
    std::getline(ss, family, ',');
    std::getline(ss, mean, ',');
    std::getline(ss, cv, ',');
    std::getline(ss, s, ',');
    const double mu = std::stod(mean), c = std::stod(cv);
    b.marginals.push_back(family == "lognormal" ? lognormal_from_mean_cv(mu, c)
                                                : marginal{marginal_family::normal, mu, c * mu});
    ref.push_back(std::stod(s));
  }
  REQUIRE(b.marginals.size() == 6);
  b.reference = arma::vec(ref);
  return b;
}

const model_function beam = [](const arma::mat& x) {
  const arma::vec E = x.col(2) * 1e9, w = x.col(3), t = x.col(4), L = x.col(5);
  return arma::vec(4 * arma::pow(L, 3) / (E % w % t) %
                   arma::sqrt(arma::square(x.col(0) / arma::square(w)) + arma::square(x.col(1) / arma::square(t))));
};

// First-order indices over `reps` seeds; counts the runs that threw.
struct replications {
  arma::mat S, se2;
  int failures = 0;
};
replications replicate_beam(const beam_case& b, arma::uword points, int reps, double defensive, bool shrinkage) {
  sobol_options o;
  o.total_order = false;
  o.model_runs = 7 * points;
  o.aiscv.defensive = defensive;
  o.shrinkage = shrinkage;
  replications r;
  r.S.zeros(reps, 6);
  r.se2.zeros(reps, 6);
  int row = 0;
  for (int k = 0; k < reps; ++k) {
    try {
      const sobol_result f = sobol_aiscv(beam, b.marginals, o, 100 + k);
      r.S.row(row) = f.first.t();
      r.se2.row(row) = arma::square(f.first_se).t();
      ++row;
    } catch (const std::exception&) {
      ++r.failures;
    }
  }
  r.S.resize(row, 6);
  r.se2.resize(row, 6);
  return r;
}
}  // namespace

TEST_CASE("cantilever beam: first-order indices agree with the authors' 1e7-point pick-freeze reference") {
  const beam_case b = read_beam_fixture();
  sobol_options o;
  o.total_order = false;
  o.model_runs = 7 * 5000;
  const sobol_result r = sobol_aiscv(beam, b.marginals, o, 2023);
  for (std::size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    CHECK(std::abs(r.first(i) - b.reference(i)) < 4 * std::sqrt(r.first_se(i) * r.first_se(i) + 9e-4 * 9e-4));
  }
}

TEST_CASE("small budget (2000 points in 12 dimensions): stable over seeds, errors within the stated SEs") {
  // Before the defensive component and the covariance shrinkage, this case failed
  // outright on some seeds (estimated s - m^2 < 0) and its summed variance over seeds was
  // about 0.14, 5x that of classical pick-freeze at the same cost (0.0253, the paper's
  // 2.53e-3 at 2e4 points scaled to 2e3).
  const beam_case b = read_beam_fixture();
  const int reps = 20;
  const replications safe = replicate_beam(b, 2000, reps, 0.1, true);
  CHECK(safe.failures == 0);
  REQUIRE(safe.S.n_rows == static_cast<arma::uword>(reps));
  for (arma::uword k = 0; k < safe.S.n_rows; ++k)
    for (arma::uword i = 0; i < 6; ++i) {
      CAPTURE(k);
      CAPTURE(i);
      CHECK(std::abs(safe.S(k, i) - b.reference(i)) < 4 * std::sqrt(safe.se2(k, i) + 9e-4 * 9e-4));
    }
  // The delta-method variances describe the spread over seeds: with 20 seeds the summed
  // sample variance is within a factor 2 of the mean reported variance (chi-square with
  // about 6 x 19 degrees of freedom, fewer since the indices are correlated).
  const double spread = arma::accu(arma::var(safe.S, 0, 0)), stated = arma::accu(arma::mean(safe.se2, 0));
  CAPTURE(spread);
  CAPTURE(stated);
  CHECK(spread < 2 * stated);
  CHECK(spread > 0.5 * stated);
  CHECK(spread < 0.0253);  // below classical pick-freeze at equal cost
  // The reference algorithm (no defensive component, no shrinkage) on the same seeds.
  const replications bare = replicate_beam(b, 2000, reps, 0.0, false);
  const double bare_spread = bare.S.n_rows > 1 ? arma::accu(arma::var(bare.S, 0, 0)) : arma::datum::inf;
  CAPTURE(bare_spread);
  CHECK(bare_spread > 3 * spread);
}
