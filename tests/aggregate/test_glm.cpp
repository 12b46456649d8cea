#include <doctest/doctest.h>

#include <cmath>

#include "aggregate/helpers.hpp"
#include "tessera/common/error.hpp"

using namespace aggtest;

namespace {
// The interpolated objective written from the definitions, row by row (independent of glm.cpp).
double direct_objective(const arma::mat& X1, const bag_structure& bags, const arma::vec& ybar,
                        const arma::vec& th, double rho, double ridge, glm_family f) {
  auto b = [f](double e) {
    if (f == glm_family::gaussian) return 0.5 * e * e;
    if (f == glm_family::poisson) return std::exp(e);
    return std::log(1 + std::exp(e));
  };
  const arma::vec eta = X1 * th;
  const arma::vec etabar = bag_means(eta, bags);
  const double n = static_cast<double>(X1.n_rows);
  double lbag = 0, lins = 0;
  for (arma::uword a = 0; a < bags.n_bags(); ++a)
    lbag += static_cast<double>(bags.sizes(a)) * (b(etabar(a)) - ybar(a) * etabar(a));
  for (arma::uword i = 0; i < X1.n_rows; ++i) lins += b(eta(i)) - ybar(bags.bag(i)) * eta(i);
  const double pen = arma::dot(th.tail(th.n_elem - 1), th.tail(th.n_elem - 1));
  return (1 - rho) * lbag / n + rho * lins / n + 0.5 * ridge * pen;
}

glm_options fixed(glm_family f, double rho, double ridge = 0) {
  glm_options o;
  o.family = f;
  o.method = rho_method::fixed;
  o.rho = rho;
  o.ridge = ridge;
  return o;
}
}  // namespace

TEST_CASE("GLM: the fit minimises the interpolated loss (zero numerical gradient, no better neighbour)") {
  auto rng = tessera::make_rng(31);
  const arma::uword n = 300;
  const arma::mat X = tessera::draw_normal(rng, n, 3);
  const bag_structure bags = uneven_bags(n, 6, 4);
  const arma::vec th0 = {0.3, 1.0, -0.8, 0.5};
  const arma::mat X1 = with_intercept(X);
  for (glm_family f : {glm_family::binomial, glm_family::poisson}) {
    arma::vec y(n);
    const arma::vec eta = X1 * th0;
    for (arma::uword i = 0; i < n; ++i) {
      const double u = tessera::draw_uniform(rng);
      y(i) = f == glm_family::binomial ? (u < 1 / (1 + std::exp(-eta(i))) ? 1.0 : 0.0)
                                       : std::floor(std::exp(eta(i)) + u);  // a count near the mean
    }
    const arma::vec ybar = bag_means(y, bags);
    for (double rho : {0.0, 0.4, 1.0}) {
      const glm_fit fit = fit_glm(X, bags, ybar, fixed(f, rho, 0.01));
      INFO("family " << to_string(f) << ", rho " << rho);
      REQUIRE(fit.converged);
      const double h = 1e-5;
      for (arma::uword j = 0; j < 4; ++j) {
        arma::vec tp = fit.coef, tm = fit.coef;
        tp(j) += h;
        tm(j) -= h;
        const double g = (direct_objective(X1, bags, ybar, tp, rho, 0.01, f) -
                          direct_objective(X1, bags, ybar, tm, rho, 0.01, f)) / (2 * h);
        CHECK(std::abs(g) < 1e-6);
      }
      CHECK(fit.objective == doctest::Approx(direct_objective(X1, bags, ybar, fit.coef, rho, 0.01, f)).epsilon(1e-10));
      // Instance loss = bag loss + within-bag term, and the within term from Jensen is >= 0.
      const glm_losses l = evaluate_glm_losses(X, bags, ybar, fit.coef, f, true);
      CHECK(l.instance == doctest::Approx(l.bag + l.within).epsilon(1e-10));
      CHECK(l.within >= 0);
    }
  }
}

TEST_CASE("GLM gaussian family reproduces the linear estimator (with ridge)") {
  auto rng = tessera::make_rng(4);
  const arma::mat X = tessera::draw_normal(rng, 200, 4);
  const arma::vec y = X * arma::vec{1, 0, -1, 2} + tessera::draw_normal(rng, 200, 1);
  const bag_structure bags = uneven_bags(200, 5, 9);
  const arma::vec ybar = bag_means(y, bags);
  for (double rho : {0.0, 0.3, 1.0}) {
    const glm_fit g = fit_glm(X, bags, ybar, fixed(glm_family::gaussian, rho, 0.02));
    linear_options o;
    o.method = rho_method::fixed;
    o.rho = rho;
    o.ridge = 0.02;
    const linear_fit l = fit_linear(X, bags, ybar, o);
    CHECK(arma::norm(g.coef - l.coef) < 1e-8);
  }
}

TEST_CASE("GLM: learning from label proportions recovers a logistic model's direction; CV runs") {
  auto rng = tessera::make_rng(77);
  const arma::uword n = 2000;
  const arma::mat X = tessera::draw_normal(rng, n, 3);
  const arma::vec th0 = {-0.5, 1.5, -1.0, 0.5};
  const arma::vec eta = with_intercept(X) * th0;
  arma::vec y(n);
  for (arma::uword i = 0; i < n; ++i) y(i) = tessera::draw_uniform(rng) < 1 / (1 + std::exp(-eta(i))) ? 1 : 0;
  const bag_structure bags = random_bags(n, 4, 6);
  const arma::vec prop = bag_means(y, bags);
  glm_options o;
  o.family = glm_family::binomial;
  o.folds = 3;
  const glm_fit fit = fit_glm(X, bags, prop, o);
  CHECK(fit.converged);
  CHECK(fit.cv_mse.n_elem == fit.rho_grid.n_elem);
  const arma::vec slope = fit.coef.tail(3), truth = th0.tail(3);
  CHECK(arma::dot(arma::normalise(slope), arma::normalise(truth)) > 0.95);
  const arma::vec pb = predict_glm_bag(fit, X, bags);
  CHECK(pb.min() >= 0);
  CHECK(pb.max() <= 1);
  // Individual-level accuracy well above the majority rate.
  const arma::vec mu = predict_glm(fit, X);
  const double acc = arma::mean(arma::conv_to<arma::vec>::from((mu > 0.5) == (y > 0.5)));
  CHECK(acc > 0.7);
}

TEST_CASE("bad input to the GLM fit") {
  auto rng = tessera::make_rng(1);
  const arma::mat X = tessera::draw_normal(rng, 40, 12);
  const bag_structure b = random_bags(40, 4, 1);
  const arma::vec p = arma::ones(b.n_bags()) * 0.5;
  CHECK_THROWS_WITH_AS(fit_glm(X, b, p, fixed(glm_family::binomial, 0)), doctest::Contains("at least as many bags"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(fit_glm(X, b, p * 3, fixed(glm_family::binomial, 1)), doctest::Contains("[0, 1]"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(fit_glm(X, b, -p, fixed(glm_family::poisson, 1)), doctest::Contains("poisson"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(fit_glm(X, b, p, fixed(glm_family::binomial, -1)), doctest::Contains("`rho`"),
                       tessera::invalid_argument);
  glm_options o;
  o.method = rho_method::oracle;
  CHECK_THROWS_WITH_AS(fit_glm(X, b, p, o), doctest::Contains("oracle"), tessera::invalid_argument);
}

TEST_CASE("GLM standard errors: gaussian equals the linear estimator's; k = 1 gives the inverse Fisher information") {
  auto rng = tessera::make_rng(77);
  const arma::uword n = 400;
  const arma::mat X = tessera::draw_normal(rng, n, 3);
  const bag_structure bags = uneven_bags(n, 5, 9);
  const arma::vec y = 0.5 + X * arma::vec{1.0, -1.0, 0.5} + tessera::draw_normal(rng, n, 1);
  const arma::vec ybar = bag_means(y, bags);
  for (double rho : {0.0, 0.3, 1.0}) {
    linear_options lo;
    lo.method = rho_method::fixed;
    lo.rho = rho;
    const linear_fit lf = fit_linear(X, bags, ybar, lo);
    const glm_fit gf = fit_glm(X, bags, ybar, fixed(glm_family::gaussian, rho));
    INFO("rho " << rho);
    REQUIRE(gf.std_errors.n_elem == 4);
    CHECK(arma::approx_equal(gf.std_errors, lf.std_errors, "reldiff", 1e-6));
    CHECK(gf.dispersion == doctest::Approx(lf.sigma2));
  }
  // k = 1, binomial: every rho is the logistic MLE and the SEs are sqrt(diag((X'WX)^{-1})).
  const arma::vec th0 = {-0.2, 0.8, -0.5, 0.3};
  const arma::mat X1 = with_intercept(X);
  arma::vec yb(n);
  for (arma::uword i = 0; i < n; ++i) yb(i) = tessera::draw_uniform(rng) < 1 / (1 + std::exp(-arma::dot(X1.row(i), th0)));
  arma::uvec ids = arma::regspace<arma::uvec>(0, n - 1);
  const bag_structure singles = bags_from_ids(ids);
  const glm_fit f1 = fit_glm(X, singles, yb, fixed(glm_family::binomial, 0.6));
  REQUIRE(f1.converged);
  const arma::vec mu = 1 / (1 + arma::exp(-X1 * f1.coef));
  const arma::mat fisher = X1.t() * (X1.each_col() % (mu % (1 - mu)));
  CHECK(arma::approx_equal(f1.std_errors, arma::sqrt(arma::mat(arma::inv_sympd(fisher)).diag()), "reldiff", 1e-5));
}

TEST_CASE("GLM standard errors: binomial bags, Monte Carlo spread over responses with x fixed") {
  // x fixed, 300 replications of the labels: the SD of each coefficient over replications
  // must match the mean reported SE within the Monte Carlo error (SD of an SD ~ SD/sqrt(2R)).
  auto rng = tessera::make_rng(5);
  const arma::uword n = 1200, R = 300;
  const arma::mat X = tessera::draw_normal(rng, n, 2);
  const bag_structure bags = random_bags(n, 4, 3);
  const arma::vec th0 = {0.3, 1.2, -0.8};
  const arma::vec eta = with_intercept(X) * th0;
  for (double rho : {0.0, 0.5}) {
    arma::mat est(R, 3), se(R, 3);
    for (arma::uword r = 0; r < R; ++r) {
      arma::vec y(n);
      for (arma::uword i = 0; i < n; ++i) y(i) = tessera::draw_uniform(rng) < 1 / (1 + std::exp(-eta(i)));
      const glm_fit f = fit_glm(X, bags, bag_means(y, bags), fixed(glm_family::binomial, rho));
      REQUIRE(f.std_errors.n_elem == 3);
      est.row(r) = f.coef.t();
      se.row(r) = f.std_errors.t();
    }
    const arma::rowvec sd = arma::stddev(est, 0, 0), mse = arma::mean(se, 0);
    INFO("rho " << rho << ": sd " << sd << " mean se " << mse);
    for (arma::uword j = 0; j < 3; ++j) CHECK(std::abs(sd(j) / mse(j) - 1) < 4 / std::sqrt(2.0 * R) + 0.05);
  }
}
