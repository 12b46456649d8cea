// Tests of tessera::glm against closed forms and against glmnet / lm / glm outputs stored in
// tests/fixtures/glm (made by make_glmnet_fixtures.R there).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "tessera/common/error.hpp"
#include "glm/error_message.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/glm/glm.hpp"

using namespace tessera;

namespace {

struct fixture_data {
  arma::mat X;
  arma::vec y, yb, w, ys;
  arma::uvec fold;
};

arma::mat load_csv(const std::string& name) {
  arma::mat m;
  const std::string path = std::string(TESSERA_FIXTURES_DIR) + "/glm/" + name;
  REQUIRE(m.load(path, arma::csv_ascii));
  return m;
}

fixture_data load_data() {
  const arma::mat d = load_csv("data.csv");
  fixture_data f;
  f.X = d.cols(0, 5);
  f.y = d.col(6);
  f.yb = d.col(7);
  f.w = d.col(8);
  f.ys = d.col(9);
  f.fold = arma::conv_to<arma::uvec>::from(d.col(10) - 1);
  return f;
}

void check_coef(const glm::glm_fit& fit, const arma::rowvec& expected, double tol) {
  CHECK(fit.intercept == doctest::Approx(expected(0)).epsilon(tol));
  for (arma::uword j = 0; j < fit.beta.n_elem; ++j) {
    INFO("coefficient " << j + 1);
    CHECK(std::abs(fit.beta(j) - expected(j + 1)) < tol * (1 + std::abs(expected(j + 1))));
  }
}

}  // namespace

TEST_CASE("glm: penalised fits match glmnet on its stored outputs") {
  const fixture_data f = load_data();
  const arma::mat coef = load_csv("coef.csv");
  for (arma::uword r = 0; r < coef.n_rows; ++r) {
    const int c = static_cast<int>(coef(r, 0));
    glm::fit_options o;
    o.lambda = coef(r, 1);
    o.alpha = coef(r, 2);
    o.tol = 1e-14;
    o.link = c >= 3 ? glm::family::binomial : glm::family::gaussian;
    const arma::vec& y = c == 1 ? f.y : (c == 2 ? f.ys : f.yb);
    INFO("case " << c << " lambda " << o.lambda);
    const auto fit = glm::fit(f.X, y, f.w, o);
    CHECK(fit.converged);
    check_coef(fit, coef.row(r).tail(7), 1e-5);
    // Exact zeros where glmnet has them (the lasso's selection).
    for (arma::uword j = 0; j < 6; ++j)
      if (coef(r, 4 + j) == 0 && o.alpha > 0) CHECK(fit.beta(j) == 0);
  }
}

TEST_CASE("glm: unpenalised fits match lm and glm (coefficients and standard errors)") {
  const fixture_data f = load_data();
  const arma::mat u = load_csv("unpen.csv");
  const auto lin = glm::fit(f.X, f.y, f.w, {});
  check_coef(lin, u.row(0).tail(7), 1e-8);
  REQUIRE(lin.vcov.n_rows == 7);
  const arma::vec se_lin = arma::sqrt(lin.vcov.diag());
  for (arma::uword j = 0; j < 7; ++j) CHECK(se_lin(j) == doctest::Approx(u(1, 3 + j)).epsilon(1e-6));
  glm::fit_options o;
  o.link = glm::family::binomial;
  const auto lg = glm::fit(f.X, f.yb, f.w, o);
  CHECK(lg.converged);
  CHECK_FALSE(lg.separation);
  check_coef(lg, u.row(2).tail(7), 1e-6);
  const arma::vec se_lg = arma::sqrt(lg.vcov.diag());
  for (arma::uword j = 0; j < 7; ++j) CHECK(se_lg(j) == doctest::Approx(u(3, 3 + j)).epsilon(1e-5));
}

TEST_CASE("glm: cross-validation curve matches cv.glmnet with the same folds and path") {
  const fixture_data f = load_data();
  const arma::mat cv = load_csv("cv.csv");
  for (int c : {1, 3}) {
    const arma::uvec rows = arma::find(cv.col(0) == c);
    glm::fit_options o;
    o.tol = 1e-14;
    o.link = c == 3 ? glm::family::binomial : glm::family::gaussian;
    glm::cv_options cvo;
    cvo.fold_id = f.fold;
    cvo.path.lambda = arma::vec(cv.col(1)).elem(rows);
    const auto res = glm::cross_validate(f.X, c == 3 ? f.yb : f.y, f.w, o, cvo, 1);
    for (arma::uword l = 0; l < rows.n_elem; ++l) {
      INFO("case " << c << " lambda " << res.lambda(l));
      CHECK(res.lambda(l) == doctest::Approx(cv(rows(l), 1)).epsilon(1e-12));
      CHECK(res.cvm(l) == doctest::Approx(cv(rows(l), 2)).epsilon(1e-5));
      CHECK(res.cvsd(l) == doctest::Approx(cv(rows(l), 3)).epsilon(1e-4));
    }
    const arma::uword imin = arma::vec(cv.col(2)).elem(rows).eval().index_min();
    CHECK(res.lambda_min == doctest::Approx(cv(rows(imin), 1)));
    CHECK(res.fit.lambda == res.lambda_min);
  }
}

TEST_CASE("glm: ridge without standardisation equals its closed form") {
  rng_engine rng = make_rng(11);
  const arma::uword n = 80, p = 4;
  const arma::mat X = draw_normal(rng, n, p);
  const arma::vec y = X * arma::vec({1, -2, 0.5, 0}) + draw_normal(rng, n, 1);
  arma::vec w(n);
  for (auto& v : w) v = draw_uniform(rng, 0.2, 3.0);
  glm::fit_options o;
  o.alpha = 0;
  o.lambda = 0.7;
  o.standardize = false;
  o.tol = 1e-16;
  const auto fit = glm::fit(X, y, w, o);
  // Closed form: centre by weighted means, then (Xc' Wn Xc + lambda I) b = Xc' Wn yc.
  const arma::vec wn = w / arma::accu(w);
  const arma::rowvec xm = wn.t() * X;
  const double ym = arma::dot(wn, y);
  const arma::mat Xc = X.each_row() - xm;
  const arma::vec b = arma::solve(Xc.t() * (Xc.each_col() % wn) + o.lambda * arma::eye(p, p), Xc.t() * (wn % (y - ym)));
  for (arma::uword j = 0; j < p; ++j) CHECK(fit.beta(j) == doctest::Approx(b(j)).epsilon(1e-9));
  CHECK(fit.intercept == doctest::Approx(ym - arma::dot(xm, b)).epsilon(1e-9));
}

TEST_CASE("glm: lambda_max is the smallest lambda with an all-zero lasso") {
  const fixture_data f = load_data();
  for (auto link : {glm::family::gaussian, glm::family::binomial}) {
    glm::fit_options o;
    o.link = link;
    const arma::vec& y = link == glm::family::gaussian ? f.y : f.yb;
    const double lm = glm::lambda_max(f.X, y, f.w, o);
    o.lambda = lm * 1.0001;
    CHECK(arma::accu(glm::fit(f.X, y, f.w, o).beta != 0) == 0);
    o.lambda = lm * 0.98;
    CHECK(arma::accu(glm::fit(f.X, y, f.w, o).beta != 0) >= 1);
  }
}

TEST_CASE("glm: separation is detected, reported and handled by a ridge fit") {
  const arma::uword n = 60;
  rng_engine rng = make_rng(3);
  arma::mat X = draw_normal(rng, n, 2);
  arma::vec y = arma::conv_to<arma::vec>::from(X.col(0) > 0.1);  // perfectly separated by x1
  glm::fit_options o;
  o.link = glm::family::binomial;
  const auto fit = glm::fit(X, y, {}, o);
  CHECK(fit.separation);
  CHECK(fit.lambda == doctest::Approx(o.separation_lambda));
  CHECK(fit.message.find("separation") != std::string::npos);
  CHECK(fit.beta.is_finite());
  const arma::vec pr = fit.predict(X);
  CHECK(pr.is_finite());
  // The penalised fit still classifies the separated data correctly.
  CHECK(arma::accu((pr > 0.5) != (y > 0.5)) == 0);
  o.on_separation = glm::separation_action::error;
  CHECK_THROWS_AS(glm::fit(X, y, {}, o), numerical_error);
}

TEST_CASE("glm: bad input is rejected with messages naming the argument") {
  rng_engine rng = make_rng(5);
  const arma::mat X = draw_normal(rng, 20, 2);
  const arma::vec y = draw_normal(rng, 20, 1);
  glm::fit_options lg;
  lg.link = glm::family::binomial;
  auto msg = [](auto&& f) { return invalid_argument_message(f); };
  CHECK(msg([&] { glm::fit(X, arma::zeros(20), {}, lg); }).find("single class") != std::string::npos);
  CHECK(msg([&] { glm::fit(X, y, {}, lg); }).find("0/1") != std::string::npos);
  arma::mat Xn = X;
  Xn(3, 1) = arma::datum::nan;
  CHECK(msg([&] { glm::fit(Xn, y, {}, {}); }).find("`X`") != std::string::npos);
  CHECK(msg([&] { glm::fit(X, y, -arma::ones(20), {}); }).find("`weights`") != std::string::npos);
  CHECK(msg([&] { glm::fit(X.rows(0, 9), y, {}, {}); }).find("one row per") != std::string::npos);
  glm::fit_options bad;
  bad.alpha = 2;
  CHECK(msg([&] { glm::fit(X, y, {}, bad); }).find("`alpha`") != std::string::npos);
  arma::mat Xc = X;
  Xc.col(1).fill(3.0);
  CHECK(msg([&] { glm::fit(Xc, y, {}, {}); }).find("column 2 is constant") != std::string::npos);
  arma::mat Xd = arma::join_horiz(X, X.col(0) * 2);
  CHECK(msg([&] { glm::fit(Xd, y, {}, {}); }).find("collinear") != std::string::npos);
  const auto fit = glm::fit(X, y, {}, {});
  CHECK(msg([&] { fit.predict(arma::mat(3, 5, arma::fill::zeros)); }).find("columns") != std::string::npos);
  CHECK(msg([&] { glm::make_folds(3, 5, 1); }).find("`folds`") != std::string::npos);
  // A constant column is harmless in a penalised fit: its coefficient is 0.
  glm::fit_options pen;
  pen.lambda = 0.1;
  CHECK(glm::fit(Xc, y, {}, pen).beta(1) == 0);
}

TEST_CASE("glm: folds are balanced and reproducible") {
  const arma::uvec a = glm::make_folds(103, 5, 42), b = glm::make_folds(103, 5, 42);
  CHECK(arma::all(a == b));
  const arma::uvec c = arma::hist(a, arma::regspace<arma::uvec>(0, 4));
  CHECK(c.max() - c.min() <= 1);
  arma::uvec strata(50, arma::fill::zeros);
  strata.tail(10).fill(1);
  const arma::uvec s = glm::make_stratified_folds(strata, 5, 7);
  for (arma::uword k = 0; k < 5; ++k) CHECK(arma::accu(s.tail(10) == k) == 2);
}

TEST_CASE("glm: generated paths stop where glmnet's do and match its coefficients") {
  // tests/fixtures/glm/path.csv: glmnet's default path (nlambda = 100, early stopping) with
  // thresh = 1e-14 on data_path.csv (n = 150, p = 30): case 9 gaussian, case 10 binomial.
  const arma::mat d = load_csv("data_path.csv");
  const arma::mat ref = load_csv("path.csv");
  const arma::mat X = d.cols(0, 29);
  for (int c : {9, 10}) {
    const arma::uvec rows = arma::find(ref.col(0) == c);
    glm::fit_options o;
    o.tol = 1e-14;
    o.link = c == 10 ? glm::family::binomial : glm::family::gaussian;
    const glm::path_fit path = glm::fit_path(X, d.col(c == 10 ? 31 : 30), {}, o);
    INFO("case " << c);
    REQUIRE(path.lambda.n_elem == rows.n_elem);  // same early stop (69 of 100 lambdas)
    CHECK(path.converged);
    double worst = 0;
    for (arma::uword l = 0; l < rows.n_elem; ++l) {
      CHECK(path.lambda(l) == doctest::Approx(ref(rows(l), 1)).epsilon(1e-10));
      worst = std::max(worst, std::abs(path.intercept(l) - ref(rows(l), 2)));
      for (arma::uword j = 0; j < 30; ++j) {
        worst = std::max(worst, std::abs(path.beta(j, l) - ref(rows(l), 3 + j)));
        // Same support, including the zeros the strong rule discards.
        CHECK((path.beta(j, l) == 0) == (ref(rows(l), 3 + j) == 0));
      }
    }
    CHECK(worst < 1e-6);
    CHECK(path.dev_ratio.is_sorted());
  }
}
