#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "aggregate/helpers.hpp"
#include "tessera/common/error.hpp"

using namespace aggtest;

namespace {
struct sim {
  arma::mat X;
  arma::vec y, ybar, theta0;
  bag_structure bags;
};
sim simulate(arma::uword n, arma::uword d, arma::uword max_size, std::uint64_t seed) {
  sim s;
  auto rng = tessera::make_rng(seed);
  s.X = tessera::draw_normal(rng, n, d);
  s.theta0 = tessera::draw_normal(rng, d, 1);
  s.y = 0.5 + s.X * s.theta0 + tessera::draw_normal(rng, n, 1);
  s.bags = uneven_bags(n, max_size, seed);
  s.ybar = bag_means(s.y, s.bags);
  return s;
}
linear_options fixed_rho(double rho, double ridge = 0, bool intercept = true) {
  linear_options o;
  o.method = rho_method::fixed;
  o.rho = rho;
  o.ridge = ridge;
  o.intercept = intercept;
  return o;
}
}  // namespace

TEST_CASE("closed form equals direct minimisation of L_rho (unequal bags, intercept, ridge)") {
  const sim s = simulate(120, 5, 6, 11);
  const arma::mat S = averaging_matrix(s.bags);
  const arma::mat X1 = with_intercept(s.X);
  const arma::vec Sy = S * s.y;  // the instance-level targets ybar_a on every row
  const double n = 120;
  for (double ridge : {0.0, 0.05}) {
    for (double rho : {0.0, 0.3, 1.0, 2.5}) {
      const linear_fit fit = fit_linear(s.X, s.bags, s.ybar, fixed_rho(rho, ridge));
      // Direct: stacked least squares of sqrt(1-rho) S(y - X theta) (rho <= 1), sqrt(rho)(Sy - X theta)
      // and sqrt(n ridge) theta_{-0}; for rho > 1 write L_bag + rho R with R = ||(I-S)X theta||^2.
      arma::mat A;
      arma::vec t;
      const arma::mat I = arma::eye(120, 120);
      arma::mat Pen = std::sqrt(n * ridge) * arma::eye(6, 6);
      Pen(0, 0) = 0;
      A = arma::join_cols(S * X1, std::sqrt(rho) * (I - S) * X1, Pen);
      t = arma::join_cols(Sy, arma::zeros(120), arma::zeros(6));
      const arma::vec direct = arma::solve(A, t);
      INFO("rho = " << rho << ", ridge = " << ridge);
      CHECK(arma::norm(fit.coef - direct) < 1e-9 * (1 + arma::norm(direct)));
      if (rho <= 1) {  // the (1 - rho) L_bag + rho L_ins form, stacked the same way
        const arma::mat A2 = arma::join_cols(std::sqrt(1 - rho) * S * X1, std::sqrt(rho) * X1, Pen);
        const arma::vec t2 = arma::join_cols(std::sqrt(1 - rho) * Sy, std::sqrt(rho) * Sy, arma::zeros(6));
        CHECK(arma::norm(fit.coef - arma::vec(arma::solve(A2, t2))) < 1e-9 * (1 + arma::norm(direct)));
      }
      // The fit also reports the loss values of its own coefficients: check them against S.
      const arma::vec r = S * (s.y - X1 * fit.coef);
      CHECK(fit.losses.bag == doctest::Approx(arma::dot(r, r) / n).epsilon(1e-10));
    }
  }
}

TEST_CASE("L_ins = L_bag + within-bag variance of the predictions, exactly, from the definitions") {
  const sim s = simulate(90, 4, 7, 3);
  const arma::mat X1 = with_intercept(s.X);
  const linear_stats st = compute_stats(s.X, s.bags, s.ybar, true);
  auto rng = tessera::make_rng(5);
  for (int rep = 0; rep < 5; ++rep) {
    const arma::vec th = tessera::draw_normal(rng, 5, 1);
    const arma::vec pred = X1 * th;
    const arma::vec pbar = bag_means(pred, s.bags);
    double Lbag = 0, Lins = 0, R = 0;
    for (arma::uword a = 0; a < s.bags.n_bags(); ++a) {
      const double w = static_cast<double>(s.bags.sizes(a));
      Lbag += w * std::pow(s.ybar(a) - pbar(a), 2);
    }
    for (arma::uword i = 0; i < 90; ++i) {
      const arma::uword a = s.bags.bag(i);
      Lins += std::pow(s.ybar(a) - pred(i), 2);
      R += std::pow(pred(i) - pbar(a), 2);
    }
    Lbag /= 90; Lins /= 90; R /= 90;
    CHECK(Lins == doctest::Approx(Lbag + R).epsilon(1e-12));
    const loss_values lv = evaluate_losses(st, th);
    CHECK(lv.bag == doctest::Approx(Lbag).epsilon(1e-10));
    CHECK(lv.instance == doctest::Approx(Lins).epsilon(1e-10));
    CHECK(lv.within == doctest::Approx(R).epsilon(1e-9));
  }
}

TEST_CASE("k = 1 gives ordinary least squares for every rho") {
  auto rng = tessera::make_rng(21);
  const arma::mat X = tessera::draw_normal(rng, 60, 4);
  const arma::vec y = X * arma::vec{1, -2, 0.5, 0} + tessera::draw_normal(rng, 60, 1);
  const bag_structure bags = bags_from_ids(arma::regspace<arma::uvec>(0, 59));
  const arma::vec ols = arma::solve(with_intercept(X), y);
  for (double rho : {0.0, 0.01, 0.5, 1.0, 7.0}) {
    const linear_fit fit = fit_linear(X, bags, y, fixed_rho(rho));
    CHECK(arma::norm(fit.coef - ols) < 1e-10);
    CHECK(fit.losses.within == doctest::Approx(0.0).epsilon(1e-12));
  }
}

TEST_CASE("rho path equals a direct solve of ((1-rho) G_S + rho G + n lambda P) theta = b") {
  const sim s = simulate(150, 6, 5, 8);
  const linear_stats st = compute_stats(s.X, s.bags, s.ybar, true);
  const rho_path path(st, 0.01);
  arma::mat P = arma::eye(7, 7) * (150 * 0.01);
  P(0, 0) = 0;
  for (double rho : {0.0, 0.001, 0.2, 1.0, 3.0}) {
    const arma::vec direct = arma::solve((1 - rho) * st.GS + rho * st.G + P, st.b);
    CHECK(arma::norm(path.coef(rho) - direct) < 1e-9 * arma::norm(direct));
  }
  CHECK(path.rank_bag() == 7);
}

TEST_CASE("sufficient statistics of 4 chunks of whole bags merge to the one-pass statistics") {
  const sim s = simulate(400, 5, 8, 4);
  const linear_stats one = compute_stats(s.X, s.bags, s.ybar, true);
  linear_stats merged;
  // Bags are consecutive rows: cut at bag boundaries near quarters.
  arma::uword start = 0;
  for (int c = 1; c <= 4; ++c) {
    arma::uword end = c == 4 ? 400 : 100 * c;
    while (end < 400 && s.bags.bag(end) == s.bags.bag(end - 1)) ++end;
    const arma::uvec rows = arma::regspace<arma::uvec>(start, end - 1);
    const bag_structure b = bags_from_ids(s.bags.bag.elem(rows));
    merged.merge(compute_stats(s.X.rows(rows), b, s.ybar.elem(b.ids), true));
    start = end;
  }
  CHECK(merged.n == one.n);
  CHECK(merged.m == one.m);
  CHECK(arma::norm(merged.G - one.G, "fro") < 1e-10 * arma::norm(one.G, "fro"));
  CHECK(arma::norm(merged.GS - one.GS, "fro") < 1e-10 * arma::norm(one.GS, "fro"));
  CHECK(arma::norm(merged.b - one.b) < 1e-10 * arma::norm(one.b));
  const linear_fit a = fit_linear_stats({merged}, fixed_rho(0.4));
  const linear_fit b = fit_linear(s.X, s.bags, s.ybar, fixed_rho(0.4));
  CHECK(arma::norm(a.coef - b.coef) < 1e-10 * arma::norm(b.coef));
}

TEST_CASE("standard errors: bag-level SEs match the sampling spread over repeated noise") {
  // Fixed X and bags; redraw the noise. Cov(theta_0 | X) = sigma^2 G_S^{-1}.
  auto rng = tessera::make_rng(99);
  const arma::mat X = tessera::draw_normal(rng, 300, 3);
  const bag_structure bags = random_bags(300, 3, 5);
  const arma::vec th0 = {1, 2, -1};
  const int reps = 400;
  arma::mat est(reps, 4);
  arma::vec se_mean(4, arma::fill::zeros);
  for (int r = 0; r < reps; ++r) {
    const arma::vec y = 1.0 + X * th0 + tessera::draw_normal(rng, 300, 1);
    const linear_fit fit = fit_linear(X, bags, bag_means(y, bags), fixed_rho(0.5));
    est.row(r) = fit.coef.t();
    se_mean += fit.std_errors / reps;
  }
  const arma::rowvec sd = arma::stddev(est, 0, 0);
  // Relative SE of a sample sd from 400 draws is about 1/sqrt(800) = 3.5%; allow 15%.
  for (arma::uword j = 0; j < 4; ++j) CHECK(se_mean(j) == doctest::Approx(sd(j)).epsilon(0.15));
}

TEST_CASE("cross-validation over bags picks an interior rho that beats both endpoints") {
  // psi = n/d = 10, k = 5, SNR = 1: theory R_bag = 1.00, R_ins = 0.68, R* = 0.43 at rho 0.13.
  const arma::uword n = 2000, d = 200, k = 5;
  auto rng = tessera::make_rng(123);
  const arma::mat X = tessera::draw_normal(rng, n, d);
  const arma::vec th0 = arma::normalise(tessera::draw_normal(rng, d, 1));
  const arma::vec y = X * th0 + tessera::draw_normal(rng, n, 1);
  const bag_structure bags = random_bags(n, k, 17);
  linear_options o;
  o.intercept = false;
  o.seed = 3;
  const linear_fit cv = fit_linear(X, bags, bag_means(y, bags), o);
  auto excess = [&](const arma::vec& t) { return std::pow(arma::norm(t - th0), 2); };
  const double r_cv = excess(cv.coef);
  const double r_bag = excess(fit_linear(X, bags, bag_means(y, bags), fixed_rho(0, 0, false)).coef);
  const double r_ins = excess(fit_linear(X, bags, bag_means(y, bags), fixed_rho(1, 0, false)).coef);
  INFO("rho_cv = " << cv.rho << ", R_cv = " << r_cv << ", R_bag = " << r_bag << ", R_ins = " << r_ins);
  CHECK(cv.rho > 0.02);
  CHECK(cv.rho < 0.7);
  CHECK(r_cv < r_bag);
  CHECK(r_cv < r_ins);
  CHECK(cv.cv_mse.n_elem == cv.rho_grid.n_elem);
  // The held-out bag score estimates sigma^2 + excess risk of a fit on 4/5 of the bags.
  CHECK(cv.cv_mse.min() == doctest::Approx(1.0 + r_cv).epsilon(0.25));
  // Oracle rho from the risk formulas at the data's gamma, k, SNR.
  linear_options oo;
  oo.intercept = false;
  oo.method = rho_method::oracle;
  oo.snr = 1.0;
  const linear_fit orc = fit_linear(X, bags, bag_means(y, bags), oo);
  CHECK(orc.rho == doctest::Approx(0.130).epsilon(0.05));
}

TEST_CASE("streamed cross-validation: per-chunk fold statistics merged fold by fold") {
  // The setting of the previous test, read as 4 chunks of whole bags; each chunk assigns its
  // bags to 5 folds with its own seed. The fold statistics add up to the one-pass totals, and
  // CV over the merged folds picks an interior rho that beats both endpoints.
  const arma::uword n = 2000, d = 200, k = 5, K = 5;
  auto rng = tessera::make_rng(123);
  const arma::mat X = tessera::draw_normal(rng, n, d);
  const arma::vec th0 = arma::normalise(tessera::draw_normal(rng, d, 1));
  const arma::vec y = X * th0 + tessera::draw_normal(rng, n, 1);
  const bag_structure bags = random_bags(n, k, 17);
  const arma::vec ybar = bag_means(y, bags);
  std::vector<linear_stats> folds(K);
  for (arma::uword c = 0; c < 4; ++c) {
    const arma::uvec rows = arma::find(bags.bag / (bags.n_bags() / 4) == c);
    const bag_structure b = bags_from_ids(bags.bag.elem(rows));
    const auto part = compute_fold_stats(X.rows(rows), b, ybar.elem(b.ids), false, K, 100 + c);
    REQUIRE(part.size() == K);
    for (arma::uword f = 0; f < K; ++f) folds[f].merge(part[f]);
  }
  linear_stats total;
  for (const auto& f : folds) {
    CHECK(f.m == doctest::Approx(bags.n_bags() / K).epsilon(0.05));
    total.merge(f);
  }
  const linear_stats one = compute_stats(X, bags, ybar, false);
  CHECK(total.n == one.n);
  CHECK(total.m == one.m);
  CHECK(arma::norm(total.G - one.G, "fro") < 1e-10 * arma::norm(one.G, "fro"));
  CHECK(arma::norm(total.GS - one.GS, "fro") < 1e-10 * arma::norm(one.GS, "fro"));
  linear_options o;
  o.intercept = false;
  const linear_fit cv = fit_linear_stats(folds, o);
  auto excess = [&](const arma::vec& t) { return std::pow(arma::norm(t - th0), 2); };
  const double r_bag = excess(fit_linear(X, bags, ybar, fixed_rho(0, 0, false)).coef);
  const double r_ins = excess(fit_linear(X, bags, ybar, fixed_rho(1, 0, false)).coef);
  INFO("streamed rho_cv = " << cv.rho << ", R_cv = " << excess(cv.coef));
  CHECK(cv.rho > 0.02);
  CHECK(cv.rho < 0.7);
  CHECK(excess(cv.coef) < r_bag);
  CHECK(excess(cv.coef) < r_ins);
  // A chunk with fewer bags than folds leaves folds empty; CV then says which.
  const bag_structure few = bags_from_ids(arma::uvec{0, 0, 1, 1, 2, 2});
  const auto tiny = compute_fold_stats(X.submat(0, 0, 5, 1), few, arma::vec{0.1, 0.2, 0.3}, false, 5, 1);
  CHECK(std::count_if(tiny.begin(), tiny.end(), [](const linear_stats& f) { return f.m == 0; }) == 2);
  CHECK_THROWS_WITH_AS(fit_linear_stats(tiny, o), doctest::Contains("holds no bags"), tessera::invalid_argument);
}

TEST_CASE("bad input to the linear fit") {
  const sim s = simulate(40, 3, 4, 2);
  SUBCASE("rho < 0") {
    CHECK_THROWS_WITH_AS(fit_linear(s.X, s.bags, s.ybar, fixed_rho(-0.1)),
                         doctest::Contains("`rho` must be zero or positive"), tessera::invalid_argument);
  }
  SUBCASE("fewer bags than features with rho = 0") {
    auto rng = tessera::make_rng(1);
    const arma::mat X = tessera::draw_normal(rng, 40, 12);
    const bag_structure b = random_bags(40, 4, 1);  // 10 bags < 13 coefficients
    const arma::vec yb = arma::ones(b.n_bags());
    CHECK_THROWS_WITH_AS(fit_linear(X, b, yb, fixed_rho(0)), doctest::Contains("at least as many bags"),
                         tessera::invalid_argument);
    CHECK_NOTHROW(fit_linear(X, b, yb, fixed_rho(0.5)));
    const linear_fit f = fit_linear(X, b, yb, fixed_rho(0.5));
    CHECK(f.std_errors.n_elem == 0);
    CHECK(f.se_message.find("more bags") != std::string::npos);
  }
  SUBCASE("NA / Inf in x or y_bag") {
    arma::mat X = s.X;
    X(3, 1) = arma::datum::nan;
    CHECK_THROWS_WITH_AS(fit_linear(X, s.bags, s.ybar, fixed_rho(1)), doctest::Contains("`x` must contain only finite"),
                         tessera::invalid_argument);
    arma::vec yb = s.ybar;
    yb(0) = arma::datum::inf;
    CHECK_THROWS_WITH_AS(fit_linear(s.X, s.bags, yb, fixed_rho(1)), doctest::Contains("`y_bag`"),
                         tessera::invalid_argument);
  }
  SUBCASE("wrong lengths") {
    CHECK_THROWS_AS(fit_linear(s.X, s.bags, s.ybar.head(2), fixed_rho(1)), tessera::invalid_argument);
    CHECK_THROWS_AS(fit_linear(s.X.rows(0, 9), s.bags, s.ybar, fixed_rho(1)), tessera::invalid_argument);
  }
  SUBCASE("collinear columns") {
    const arma::mat X = arma::join_rows(s.X, s.X.col(0));
    CHECK_THROWS_WITH_AS(fit_linear(X, s.bags, s.ybar, fixed_rho(1)), doctest::Contains("full column rank"),
                         tessera::invalid_argument);
    CHECK_NOTHROW(fit_linear(X, s.bags, s.ybar, fixed_rho(1, 0.1)));
  }
  SUBCASE("oracle without snr, negative ridge, one fold") {
    linear_options o;
    o.method = rho_method::oracle;
    CHECK_THROWS_WITH_AS(fit_linear(s.X, s.bags, s.ybar, o), doctest::Contains("snr"), tessera::invalid_argument);
    CHECK_THROWS_AS(fit_linear(s.X, s.bags, s.ybar, fixed_rho(1, -1)), tessera::invalid_argument);
    linear_options c;
    c.folds = 1;
    CHECK_THROWS_WITH_AS(fit_linear(s.X, s.bags, s.ybar, c), doctest::Contains("`folds`"), tessera::invalid_argument);
  }
}
