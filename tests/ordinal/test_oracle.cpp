// PRESTO against peer packages; fixtures made by tests/fixtures/ordinal/make_fixtures.R.
#include <doctest/doctest.h>

#include <limits>

#include "ordinal/helpers.hpp"

using namespace tessera;
using namespace tessera::ordinal;
using namespace ordinal_test;

TEST_CASE("lambda = 0 equals the non-parallel cumulative logit of ordinal::clm and VGAM::vglm") {
  const dataset d = split(fixture("np_data.csv"));
  const arma::mat clm = fixture("np_clm.csv"), vglm = fixture("np_vglm.csv");
  presto_options opt;
  opt.lambda = {0.0};
  const presto_fit fit = fit_presto(d.X, d.y, 4, opt);
  REQUIRE(fit.converged(0) == 1);
  const arma::mat ours = arma::join_cols(fit.intercepts.col(0).t(), fit.beta.slice(0));
  CHECK(arma::norm(arma::vectorise(ours - clm.rows(0, 3)), "inf") < 1e-5);
  CHECK(fit.loglik(0) == doctest::Approx(clm(4, 0)).epsilon(1e-9));
  // VGAM stops short of convergence on these data (see the script): loose check, and
  // our likelihood is at least as high.
  CHECK(arma::norm(arma::vectorise(ours - vglm.rows(0, 3)), "inf") < 5e-3);
  CHECK(fit.loglik(0) >= vglm(4, 0) - 1e-9);
}

TEST_CASE("proportional odds equals MASS::polr (signs negated)") {
  const dataset d = split(fixture("np_data.csv"));
  const arma::vec polr = fixture("np_polr.csv");  // 3 zeta, 3 -coef, loglik
  const ordinal_fit po = fit_proportional_odds(d.X, d.y, 4);
  CHECK(po.converged);
  CHECK(arma::norm(po.intercepts - polr.subvec(0, 2), "inf") < 1e-4);
  for (arma::uword k = 0; k < 3; ++k) CHECK(arma::norm(po.beta.col(k) - polr.subvec(3, 5), "inf") < 1e-4);
  CHECK(po.loglik == doctest::Approx(polr(6)).epsilon(1e-9));
  CHECK(po.loglik >= polr(6) - 1e-9);

  SUBCASE("PRESTO with an unpenalised first block and a large lambda is proportional odds") {
    presto_options opt;
    opt.block_factors = {0.0, 1.0, 1.0};
    opt.nlambda = 3;
    const presto_fit path = fit_presto(d.X, d.y, 4, opt);
    CHECK(path.n_nonzero(0) == 3);  // only beta_1 (the common slope) is nonzero
    CHECK(arma::norm(path.intercepts.col(0) - polr.subvec(0, 2), "inf") < 1e-4);
    for (arma::uword k = 0; k < 3; ++k)
      CHECK(arma::norm(path.beta.slice(0).col(k) - polr.subvec(3, 5), "inf") < 1e-4);
  }
}

TEST_CASE("lasso proportional odds equals ordinalNet (parallel terms), objective no higher") {
  const dataset d = split(fixture("np_data.csv"));
  const arma::mat on = fixture("np_ordinalnet_po_lasso.csv");  // rows: lambda, loglik, 3 a, 3 b
  presto_options opt;
  opt.block_factors = {1.0, std::numeric_limits<double>::infinity(),
                       std::numeric_limits<double>::infinity()};
  opt.lambda = on.row(0).t();
  const presto_fit fit = fit_presto(d.X, d.y, 4, opt);
  const arma::rowvec sd = arma::stddev(d.X, 1, 0);
  const double n = static_cast<double>(d.y.n_elem);
  for (arma::uword l = 0; l < on.n_cols; ++l) {
    CAPTURE(l);
    CHECK(fit.lambda(l) == on(0, l));
    const arma::vec b = on.col(l).subvec(5, 7);
    CHECK(arma::norm(fit.intercepts.col(l) - on.col(l).subvec(2, 4), "inf") < 1e-4);
    CHECK(arma::norm(fit.beta.slice(l).col(0) - b, "inf") < 1e-4);
    CHECK(arma::norm(fit.beta.slice(l).col(2) - fit.beta.slice(l).col(0), "inf") == 0);
    // ordinalNet's objective at its own solution, evaluated in the test.
    const double F_on = -on(1, l) / n + on(0, l) * arma::accu(arma::abs(b % sd.t()));
    CHECK(fit.objective(l) <= F_on + 1e-10);
  }
}

TEST_CASE("soup: proportional odds on the paper's 22 dummy columns equals MASS::polr") {
  const dataset d = split(fixture("soup_design.csv"));
  REQUIRE(d.X.n_cols == 22);
  const arma::vec polr = fixture("soup_polr.csv");  // 5 zeta, 22 -coef, loglik
  const ordinal_fit po = fit_proportional_odds(d.X, d.y, 6);
  CHECK(po.converged);
  CHECK(po.loglik >= polr(27) - 1e-7);
  CHECK(po.loglik == doctest::Approx(polr(27)).epsilon(1e-8));
  CHECK(arma::norm(po.intercepts - polr.subvec(0, 4), "inf") < 1e-3);
  CHECK(arma::norm(po.beta.col(0) - polr.subvec(5, 26), "inf") < 1e-3);
}
