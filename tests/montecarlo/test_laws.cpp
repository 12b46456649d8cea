// Input laws and Gaussian proposals against Boost.Math and closed forms.
#include <cmath>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/uniform.hpp>
#include <doctest/doctest.h>

#include "tessera/common/error.hpp"
#include "tessera/montecarlo/gaussian.hpp"
#include "tessera/montecarlo/laws.hpp"

using namespace tessera::montecarlo;
namespace bm = boost::math;

namespace {
arma::mat scalar_mat(double v) { return arma::mat(1, 1).fill(v); }
}  // namespace

TEST_CASE("marginal log densities and quantiles match Boost.Math") {
  const double xs[] = {0.05, 0.3, 0.7, 1.4, 3.0};
  const double zs[] = {-3.0, -0.4, 0.0, 0.8, 4.0};
  const bm::normal_distribution<double> std_normal;
  for (double x : xs) {
    CHECK(log_pdf({marginal_family::normal, 1.0, 2.0}, x) == doctest::Approx(std::log(bm::pdf(bm::normal_distribution<double>(1, 2), x))));
    CHECK(log_pdf({marginal_family::lognormal, 0.2, 0.5}, x) == doctest::Approx(std::log(bm::pdf(bm::lognormal_distribution<double>(0.2, 0.5), x))));
    CHECK(log_pdf({marginal_family::gamma, 2.5, 0.7}, x) == doctest::Approx(std::log(bm::pdf(bm::gamma_distribution<double>(2.5, 0.7), x))));
    CHECK(log_pdf({marginal_family::uniform, 0.0, 4.0}, x) == doctest::Approx(std::log(0.25)));
    if (x < 1) {
      CHECK(log_pdf({marginal_family::beta, 2.0, 3.5}, x) == doctest::Approx(std::log(bm::pdf(bm::beta_distribution<double>(2.0, 3.5), x))));
    }
  }
  CHECK(std::isinf(log_pdf({marginal_family::gamma, 2.5, 0.7}, -1.0)));
  CHECK(std::isinf(log_pdf({marginal_family::beta, 2.0, 3.5}, 1.5)));
  for (double z : zs) {
    const double p = bm::cdf(std_normal, z);
    CHECK(quantile_from_normal({marginal_family::gamma, 2.5, 0.7}, z) == doctest::Approx(bm::quantile(bm::gamma_distribution<double>(2.5, 0.7), p)).epsilon(1e-9));
    CHECK(quantile_from_normal({marginal_family::beta, 2.0, 3.5}, z) == doctest::Approx(bm::quantile(bm::beta_distribution<double>(2.0, 3.5), p)).epsilon(1e-9));
    CHECK(quantile_from_normal({marginal_family::uniform, -1.0, 3.0}, z) == doctest::Approx(-1 + 4 * p));
    // Round trip through the normal score.
    const marginal g{marginal_family::gamma, 2.5, 0.7};
    CHECK(normal_score(g, quantile_from_normal(g, z)) == doctest::Approx(z).epsilon(1e-8));
  }
  // Lognormal from mean and CV: the mean of the law is recovered.
  const marginal ln = lognormal_from_mean_cv(556.8, 0.08);
  CHECK(bm::mean(bm::lognormal_distribution<double>(ln.a, ln.b)) == doctest::Approx(556.8));
  CHECK_THROWS_AS(check_marginal({marginal_family::gamma, -1.0, 1.0}, "m"), tessera::invalid_argument);
}

TEST_CASE("Gaussian copula with normal marginals is the multivariate normal") {
  const arma::mat R = {{1.0, 0.6}, {0.6, 1.0}};
  const std::vector<marginal> m = {{marginal_family::normal, 1.0, 2.0}, {marginal_family::normal, -1.0, 0.5}};
  const input_law law = gaussian_copula_law(m, R);
  const arma::mat x = {{0.3, -0.8}, {2.0, -1.4}, {-1.5, 0.1}};
  const arma::vec sd = {2.0, 0.5};
  const arma::mat S = arma::diagmat(sd) * R * arma::diagmat(sd);
  const arma::vec mu = {1.0, -1.0};
  const arma::vec got = law.log_density(x);
  for (arma::uword i = 0; i < x.n_rows; ++i) {
    const arma::vec dx = x.row(i).t() - mu;
    const double want = -std::log(2 * M_PI) - 0.5 * std::log(arma::det(S)) - 0.5 * arma::as_scalar(dx.t() * arma::inv(S) * dx);
    CHECK(got(i) == doctest::Approx(want).epsilon(1e-10));
  }
  // Samples have the copula's correlation (n = 20000: sd of the sample correlation ~ 0.005).
  const arma::mat s = law.sample(20000, 7);
  CHECK(arma::as_scalar(arma::cor(s.col(0), s.col(1))) == doctest::Approx(0.6).epsilon(0.04));
  CHECK_THROWS_AS(gaussian_copula_law(m, arma::mat{{1.0, 1.2}, {1.2, 1.0}}), tessera::invalid_argument);
  CHECK_THROWS_AS(gaussian_copula_law(m, arma::eye(3, 3)), tessera::invalid_argument);
}

TEST_CASE("Gaussian and mixture log densities match Boost.Math") {
  gaussian_mixture mix;
  mix.components.push_back(make_gaussian(arma::vec{-1.0}, scalar_mat(0.25)));
  mix.components.push_back(make_gaussian(arma::vec{2.0}, scalar_mat(4.0)));
  mix.weights = {0.3, 0.7};
  const arma::mat x = arma::vec{-3.0, -1.0, 0.0, 1.5, 6.0};
  const arma::vec got = log_density(mix, x);
  for (arma::uword i = 0; i < x.n_rows; ++i) {
    const double want = std::log(0.3 * bm::pdf(bm::normal_distribution<double>(-1, 0.5), x(i)) +
                                 0.7 * bm::pdf(bm::normal_distribution<double>(2, 2), x(i)));
    CHECK(got(i) == doctest::Approx(want).epsilon(1e-12));
  }
  // Far tail: finite log density where the density itself underflows.
  CHECK(std::isfinite(log_density(mix, scalar_mat(-200.0))(0)));
  // 2-D full covariance against the closed form.
  const arma::mat S = {{2.0, -0.7}, {-0.7, 1.0}};
  const gaussian g = make_gaussian(arma::vec{0.5, 1.0}, S);
  const arma::mat y = {{0.0, 0.0}, {1.0, 3.0}};
  const arma::vec gy = log_density(g, y);
  for (arma::uword i = 0; i < 2; ++i) {
    const arma::vec dx = y.row(i).t() - arma::vec{0.5, 1.0};
    CHECK(gy(i) == doctest::Approx(-std::log(2 * M_PI) - 0.5 * std::log(arma::det(S)) - 0.5 * arma::as_scalar(dx.t() * arma::inv(S) * dx)));
  }
  CHECK_THROWS_AS(make_gaussian(arma::vec{0.0, 0.0}, arma::mat{{1.0, 1.0}, {1.0, 1.0}}), tessera::numerical_error);
}

TEST_CASE("weighted fits: single Gaussian moments and EM recovering two clusters") {
  tessera::rng_engine rng = tessera::make_rng(3);
  arma::mat x = tessera::draw_normal(rng, 4000, 1);
  x.rows(0, 1999) = x.rows(0, 1999) * 0.5 - 3.0;
  x.rows(2000, 3999) = x.rows(2000, 3999) * 0.5 + 3.0;
  const arma::vec w(4000, arma::fill::ones);
  fit_report rep;
  const gaussian g = fit_gaussian(x, w, arma::rowvec{1.0}, 0.0, false, rep);
  CHECK(g.mean(0) == doctest::Approx(arma::mean(x.col(0))));
  CHECK(g.cov(0, 0) == doctest::Approx(arma::var(x.col(0), 1)));
  const gaussian_mixture m = fit_gaussian_mixture(x, w, 2, arma::rowvec{1.0}, 1e-6, false, rng, rep);
  REQUIRE(m.components.size() == 2);
  const double lo = std::min(m.components[0].mean(0), m.components[1].mean(0));
  const double hi = std::max(m.components[0].mean(0), m.components[1].mean(0));
  CHECK(lo == doctest::Approx(-3.0).epsilon(0.03));
  CHECK(hi == doctest::Approx(3.0).epsilon(0.03));
  CHECK(m.weights(0) == doctest::Approx(0.5).epsilon(0.05));
}
