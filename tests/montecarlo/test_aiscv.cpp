// aISCV against closed forms and known truths (tolerances from standard errors).
#include <cmath>
#include <string>

#include <doctest/doctest.h>

#include "tessera/common/error.hpp"
#include "tessera/montecarlo/aiscv.hpp"

using namespace tessera::montecarlo;

namespace {
input_law std_normal_1d() { return standard_normal_law(1); }

// Gaussian moments E[X^(2j)] = (2j - 1)!!
arma::vec double_factorials(arma::uword J) {
  arma::vec out(J);
  double acc = 1;
  for (arma::uword j = 1; j <= J; ++j) {
    acc *= static_cast<double>(2 * j - 1);
    out(j - 1) = acc;
  }
  return out;
}

phi_function even_moments(arma::uword J) {
  return [J](const arma::mat& x) {
    arma::mat v(x.n_rows, J);
    for (arma::uword j = 0; j < J; ++j) v.col(j) = arma::pow(x.col(0), 2.0 * (j + 1));
    return v;
  };
}

bool message_has(const std::exception& e, const std::string& s) { return std::string(e.what()).find(s) != std::string::npos; }
}  // namespace

TEST_CASE("zero variance when each proposal is the optimal density and beta = I") {
  // f = N(0, 1), phi_j(x) = exp(mu_j x): phi_j f / I_j = N(mu_j, 1), I_j = exp(mu_j^2 / 2).
  const arma::vec mu = {0.5, 1.5, -1.0};
  phi_function phi = [&](const arma::mat& x) {
    arma::mat v(x.n_rows, 3);
    for (arma::uword j = 0; j < 3; ++j) v.col(j) = arma::exp(mu(j) * x.col(0));
    return v;
  };
  std::vector<gaussian_mixture> comps(3);
  for (arma::uword j = 0; j < 3; ++j) {
    comps[j].components.push_back(make_gaussian(arma::vec{mu(j)}, arma::mat(1, 1, arma::fill::ones)));
    comps[j].weights = {1.0};
  }
  const arma::vec truth = arma::exp(arma::square(mu) / 2);
  const aiscv_result r = estimate_with_proposal(phi, {std_normal_1d()}, 3, comps, arma::vec{0.2, 0.5, 0.3}, truth, 500, 0.95, 1);
  for (arma::uword j = 0; j < 3; ++j) {
    CHECK(r.estimate(j) == doctest::Approx(truth(j)).epsilon(1e-12));
    CHECK(r.se(j) < 1e-12 * truth(j));
  }
  // With a wrong beta the estimate stays unbiased but the variance is positive.
  const aiscv_result r2 = estimate_with_proposal(phi, {std_normal_1d()}, 3, comps, arma::vec{0.2, 0.5, 0.3}, truth * 0.5, 4000, 0.95, 2);
  for (arma::uword j = 0; j < 3; ++j) {
    CHECK(r2.se(j) > 1e-6);
    CHECK(std::abs(r2.estimate(j) - truth(j)) < 4 * r2.se(j));
  }
}

TEST_CASE("J = 1: estimate within 4 SE, control variate flagged as degenerate") {
  aiscv_options o;
  o.budget = 4000;
  o.defensive = 0;  // the paper's mixture: g_alpha = g_1, so g_1 / g_alpha is constant
  const aiscv_result r = aiscv(even_moments(1), {std_normal_1d()}, 1, o, 5);
  CHECK(std::abs(r.estimate(0) - 1.0) < 4 * r.se(0));
  CHECK(r.cv_degenerate[0] == 1);
  // With the defensive component g_1 / g_alpha varies and the control variate is used.
  o.defensive = 0.1;
  const aiscv_result rd = aiscv(even_moments(1), {std_normal_1d()}, 1, o, 5);
  CHECK(rd.cv_degenerate[0] == 0);
  CHECK(std::abs(rd.estimate(0) - 1.0) < 4 * rd.se(0));
  CHECK(r.n_adapt + r.n_final == 4000);
  CHECK(r.ess(0) > 0);
  CHECK(r.ess(0) <= r.n_final);
  CHECK(r.history.size() >= 2);
}

TEST_CASE("unbiasedness and interval coverage over replications (Gaussian moments, J = 4)") {
  const arma::uword J = 4, reps = 200;
  const arma::vec truth = double_factorials(J);  // 1, 3, 15, 105
  aiscv_options o;
  o.budget = 1000;
  arma::mat est(reps, J);
  arma::umat covered(reps, J);
  for (arma::uword r = 0; r < reps; ++r) {
    const aiscv_result fit = aiscv(even_moments(J), {std_normal_1d()}, J, o, 100 + r);
    est.row(r) = fit.estimate.t();
    covered.row(r) = ((fit.lower <= truth) % (fit.upper >= truth)).t();
  }
  for (arma::uword j = 0; j < J; ++j) {
    const double m = arma::mean(est.col(j)), se = arma::stddev(est.col(j)) / std::sqrt(double(reps));
    CAPTURE(j);
    CHECK(std::abs(m - truth(j)) < 3 * se);
    // Coverage of nominal 95% intervals: binomial sd over 200 reps is 1.5%; allow the
    // small-sample undercoverage of normal intervals for heavy summands.
    const double cov = arma::mean(arma::conv_to<arma::vec>::from(covered.col(j)));
    CHECK(cov > 0.88);
    CHECK(cov < 0.995);
  }
}

TEST_CASE("Gaussian moments: aISCV beats plain Monte Carlo on the high moments") {
  // Var of plain MC for E X^8 at N = 2000: (E X^16 - 105^2) / N = (2027025 - 11025) / 2000.
  aiscv_options o;
  o.budget = 2000;
  const aiscv_result r = aiscv(even_moments(4), {std_normal_1d()}, 4, o, 42);
  const double var_mc = (2027025.0 - 105.0 * 105.0) / 2000.0;
  CHECK(r.covariance(3, 3) < var_mc / 10);
  CHECK(std::abs(r.estimate(3) - 105.0) < 4 * r.se(3));
}

TEST_CASE("phi of either sign, many laws with a shared phi column") {
  // phi = x - 0.5 under N(0, 1): I = -0.5, phi changes sign.
  aiscv_options o;
  o.budget = 3000;
  o.weights = arma::vec{1.0, 1.0};
  phi_function signed_phi = [](const arma::mat& x) { return arma::mat(arma::join_rows(x.col(0) - 0.5, arma::square(x.col(0)))); };
  const aiscv_result r = aiscv(signed_phi, {std_normal_1d()}, 2, o, 8);
  CHECK(std::abs(r.estimate(0) + 0.5) < 4 * r.se(0));
  CHECK(std::abs(r.estimate(1) - 1.0) < 4 * r.se(1));
  // J = 3 laws N(delta, 1), one phi = x^2: I = 1 + delta^2.
  std::vector<input_law> laws;
  const arma::vec delta = {-1.0, 0.0, 2.0};
  for (double dl : delta) laws.push_back(independent_law({{marginal_family::normal, dl, 1.0}}));
  aiscv_options o3;
  o3.budget = 3000;
  const aiscv_result r3 = aiscv([](const arma::mat& x) { return arma::mat(arma::square(x.col(0))); }, laws, 3, o3, 9);
  for (arma::uword j = 0; j < 3; ++j) CHECK(std::abs(r3.estimate(j) - 1 - delta(j) * delta(j)) < 4 * r3.se(j));
}

TEST_CASE("Gaussian-mixture proposals (weighted EM) on a bimodal integrand") {
  // phi = x^4 under N(0, 1) has two symmetric modes at +-sqrt(4): I = 3.
  aiscv_options o;
  o.budget = 3000;
  o.family = proposal_family::gaussian_mixture;
  const aiscv_result r = aiscv(even_moments(2), {std_normal_1d()}, 2, o, 13);
  CHECK(std::abs(r.estimate(1) - 3.0) < 4 * r.se(1));
  CHECK(std::abs(r.estimate(0) - 1.0) < 4 * r.se(0));
  REQUIRE(r.components.size() == 2);
  CHECK(r.components[1].components.size() == 2);
}

TEST_CASE("identical expectations: degenerate control variates are flagged, no NaN") {
  aiscv_options o;
  o.budget = 2000;
  o.defensive = 0;  // with it, g_j / g_alpha would vary
  phi_function twice = [](const arma::mat& x) { return arma::mat(arma::join_rows(arma::square(x.col(0)), arma::square(x.col(0)))); };
  const aiscv_result r = aiscv(twice, {std_normal_1d()}, 2, o, 4);
  CHECK(r.estimate.is_finite());
  CHECK(r.cv_degenerate[0] == 1);
  CHECK(r.cv_degenerate[1] == 1);
  CHECK(std::abs(r.estimate(0) - 1) < 4 * r.se(0));
}

TEST_CASE("singular weighted covariance: relative jitter grows and is reported") {
  // Points on the line x2 = x1: every weighted covariance is singular.
  input_law line;
  line.dim = 2;
  line.sample = [](arma::uword n, std::uint64_t seed) {
    tessera::rng_engine rng = tessera::make_rng(seed);
    const arma::mat z = tessera::draw_normal(rng, n, 1);
    return arma::mat(arma::join_rows(z, z));
  };
  line.log_density = [](const arma::mat& x) { return arma::vec(-0.5 * arma::square(x.col(0)) - 0.5 * std::log(2 * M_PI)); };
  aiscv_options o;
  o.budget = 1000;
  o.jitter = 0;
  o.shrinkage = false;     // shrinkage alone would make the covariance regular
  o.adapt_fraction = 0.2;  // initial batch only: the fit is on the line
  const aiscv_result r = aiscv([](const arma::mat& x) { return arma::mat(arma::square(x.col(0))); }, {line}, 1, o, 3);
  CHECK(r.history.front().jitter > 0);
  CHECK(r.estimate.is_finite());
}

TEST_CASE("bad input: clear errors naming the argument") {
  aiscv_options o;
  o.budget = 50;
  try {
    aiscv(even_moments(1), {std_normal_1d()}, 1, o, 1);
    FAIL("no error");
  } catch (const tessera::invalid_argument& e) {
    CHECK(message_has(e, "`budget` = 50"));
  }
  o.budget = 1000;
  phi_function nan_phi = [](const arma::mat& x) {
    arma::mat v = x;
    v(7, 0) = std::nan("");
    return v;
  };
  try {
    aiscv(nan_phi, {std_normal_1d()}, 1, o, 1);
    FAIL("no error");
  } catch (const tessera::invalid_argument& e) {
    CHECK(message_has(e, "row 8"));
  }
  phi_function wrong = [](const arma::mat& x) { return arma::mat(x.n_rows, 3, arma::fill::ones); };
  CHECK_THROWS_WITH_AS(aiscv(wrong, {std_normal_1d()}, 2, o, 1), doctest::Contains("100 x 2"), tessera::invalid_argument);
  aiscv_options bad_w = o;
  bad_w.weights = arma::vec{1.0, 0.0};
  CHECK_THROWS_WITH_AS(aiscv(even_moments(2), {std_normal_1d()}, 2, bad_w, 1), doctest::Contains("`weights` must be positive"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(aiscv(even_moments(2), {std_normal_1d(), standard_normal_law(2)}, 2, o, 1), doctest::Contains("dimension"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(aiscv(even_moments(3), {std_normal_1d(), std_normal_1d()}, 3, o, 1), doctest::Contains("J = 3 laws"), tessera::invalid_argument);
  phi_function zero = [](const arma::mat& x) { return arma::mat(x.n_rows, 1, arma::fill::zeros); };
  CHECK_THROWS_WITH_AS(aiscv(zero, {std_normal_1d()}, 1, o, 1), doctest::Contains("zero at all"), tessera::invalid_argument);
  aiscv_session s({std_normal_1d()}, 1, o, 1);
  CHECK_THROWS_AS(s.result(), tessera::invalid_argument);
  aiscv_options bad_def = o;
  bad_def.defensive = 1.0;
  CHECK_THROWS_WITH_AS(aiscv(even_moments(1), {std_normal_1d()}, 1, bad_def, 1), doctest::Contains("`defensive`"),
                       tessera::invalid_argument);
}

TEST_CASE("defensive component: the final sample is iid from delta f + (1 - delta) g") {
  // phi = x^20: the proposal is wide (variance about 21), so P(|X| < 1) differs between
  // f = N(0, 1) (0.6827) and g; the share of final points with |x| < 1 must match
  // delta 0.6827 + (1 - delta) P_g(|X| < 1) within binomial error.
  aiscv_options o;
  o.budget = 4000;
  o.defensive = 0.5;
  aiscv_session s({std_normal_1d()}, 1, o, 7);
  while (s.phase_name() != "final") s.tell(arma::pow(s.ask(), 20));
  const arma::mat x = s.ask();
  s.tell(arma::pow(x, 20));
  const aiscv_result& r = s.result();
  CHECK(r.defensive == 0.5);
  REQUIRE(r.components.size() == 1);
  const gaussian& g = r.components[0].components[0];
  const double m = g.mean(0), sd = std::sqrt(g.cov(0, 0));
  auto Phi = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
  const double pg = Phi((1 - m) / sd) - Phi((-1 - m) / sd), pf = Phi(1.0) - Phi(-1.0);
  const double want = 0.5 * pf + 0.5 * pg, n = static_cast<double>(x.n_rows);
  const double got = static_cast<double>(arma::accu(arma::abs(x.col(0)) < 1.0)) / n;
  CAPTURE(pg);
  CHECK(std::abs(pf - pg) > 0.2);
  CHECK(std::abs(got - want) < 4 * std::sqrt(want * (1 - want) / n));
  CHECK(std::abs(r.estimate(0) - 654729075.0) < 4 * r.se(0));  // 19!! = E X^20
}

TEST_CASE("ask/tell session reproduces the one-call run") {
  aiscv_options o;
  o.budget = 1500;
  const aiscv_result a = aiscv(even_moments(2), {std_normal_1d()}, 2, o, 77);
  aiscv_session s({std_normal_1d()}, 2, o, 77);
  while (!s.done()) s.tell(even_moments(2)(s.ask()));
  CHECK(arma::approx_equal(a.estimate, s.result().estimate, "absdiff", 0.0));
  // J taken from the first tell(): the same run.
  aiscv_session s0({std_normal_1d()}, 0, o, 77);
  while (!s0.done()) s0.tell(even_moments(2)(s0.ask()));
  CHECK(arma::approx_equal(a.estimate, s0.result().estimate, "absdiff", 0.0));
}
