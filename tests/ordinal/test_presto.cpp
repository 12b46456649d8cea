// PRESTO core: closed forms, KKT conditions by finite differences, the back-transform,
// simulation truth, cross-validation plumbing.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "ordinal/helpers.hpp"

using namespace tessera;
using namespace tessera::ordinal;
using namespace ordinal_test;

namespace {

double logit(double q) { return std::log(q / (1 - q)); }

// Binary x, K = 4: the non-parallel model at lambda = 0 is saturated, so the fitted
// cumulative probabilities equal the empirical ones in each group (closed form).
dataset binary_design(std::uint64_t seed) {
  rng_engine rng = make_rng(seed);
  const arma::uword n = 400;
  dataset d;
  d.X.zeros(n, 1);
  arma::mat eta(n, 3);
  for (arma::uword i = 0; i < n; ++i) {
    d.X(i, 0) = draw_uniform(rng) < 0.4 ? 1.0 : 0.0;
    eta.row(i) = arma::rowvec{-1.0, 0.2, 1.5} + d.X(i, 0) * arma::rowvec{0.6, 0.9, 0.3};
  }
  d.y = draw_ordinal(rng, eta);
  return d;
}

void check_saturated(const arma::vec& a, const arma::mat& beta, const dataset& d) {
  for (arma::uword k = 0; k < 3; ++k) {
    double c0 = 0, n0 = 0, c1 = 0, n1 = 0;
    for (arma::uword i = 0; i < d.y.n_elem; ++i) {
      const bool le = d.y(i) <= k;
      if (d.X(i, 0) == 1) { n1 += 1; c1 += le; } else { n0 += 1; c0 += le; }
    }
    CHECK(a(k) == doctest::Approx(logit(c0 / n0)).epsilon(1e-6));
    CHECK(beta(0, k) == doctest::Approx(logit(c1 / n1) - logit(c0 / n0)).epsilon(1e-6));
  }
}

// Sparse-differences DGP of the paper (section 4.1), small n.
dataset sparse_differences(std::uint64_t seed, arma::uword n, arma::uword p, arma::mat& beta,
                           arma::vec& alpha) {
  rng_engine rng = make_rng(seed);
  alpha = {0.0, 3.0, 5.0};
  arma::mat psi(p, 3, arma::fill::zeros);
  for (arma::uword j = 0; j < p; ++j) {
    if (draw_uniform(rng) < 0.5) psi(j, 0) = 0.5;
    for (arma::uword k = 1; k < 3; ++k)
      if (draw_uniform(rng) < 0.5) psi(j, k) = draw_uniform(rng) < 0.5 ? 0.5 : -0.5;
  }
  beta = arma::cumsum(psi, 1);
  dataset d;
  d.X.set_size(n, p);
  for (auto& v : d.X) v = draw_uniform(rng, -1, 1);
  arma::mat eta = d.X * beta;
  eta.each_row() += alpha.t();
  d.y = draw_ordinal(rng, eta);
  return d;
}

}  // namespace

TEST_CASE("lambda = 0 on a binary covariate reproduces the saturated closed form") {
  const dataset d = binary_design(11);
  presto_options opt;
  opt.lambda = {0.0};
  const presto_fit fit = fit_presto(d.X, d.y, 4, opt);
  CHECK(fit.converged(0) == 1);
  check_saturated(fit.intercepts.col(0), fit.beta.slice(0), d);
  // The separate logits are saturated too: same closed form.
  const ordinal_fit lg = fit_separate_logits(d.X, d.y, 4);
  CHECK(lg.converged);
  check_saturated(lg.intercepts, lg.beta, d);
}

TEST_CASE("KKT conditions hold along the path (finite differences on the original scale)") {
  const dataset raw = split(fixture("np_data.csv"));
  // Standardise in the test and fit without standardisation: the penalty then acts on
  // the coordinates the finite differences perturb.
  arma::mat X = raw.X.each_row() - arma::mean(raw.X, 0);
  X.each_row() /= arma::stddev(raw.X, 1, 0);
  for (double mix : {1.0, 0.5, 0.0}) {
    CAPTURE(mix);
    presto_options opt;
    opt.alpha = mix;
    opt.standardize = false;
    opt.nlambda = 8;
    const presto_fit fit = fit_presto(X, raw.y, 4, opt);
    CHECK(fit.message.empty());
    for (arma::uword l = 0; l < fit.lambda.n_elem; ++l) {
      const double lam = fit.lambda(l);
      const arma::mat psi = fit.psi.slice(l);
      arma::mat g;
      arma::vec ga;
      fd_gradient(fit.intercepts.col(l), psi, X, raw.y, g, ga);
      CHECK(arma::abs(ga).max() < 1e-5);
      for (arma::uword k = 0; k < psi.n_elem; ++k) {
        const double ridge = lam * (1 - mix) * psi(k);
        if (psi(k) != 0)
          CHECK(std::abs(g(k) + ridge + lam * mix * (psi(k) > 0 ? 1 : -1)) < 1e-5);
        else
          CHECK(std::abs(g(k)) <= lam * mix + 1e-5);
      }
      CHECK(fit.kkt_violation(l) < 1e-5);
    }
  }
}

TEST_CASE("lambda_max is the largest score at the intercept-only fit") {
  const dataset raw = split(fixture("np_data.csv"));
  arma::mat X = raw.X.each_row() - arma::mean(raw.X, 0);
  X.each_row() /= arma::stddev(raw.X, 1, 0);
  presto_options opt;
  opt.standardize = false;
  const presto_fit fit = fit_presto(X, raw.y, 4, opt);
  // Intercept-only fit: logit of the cumulative frequencies.
  arma::vec a(3);
  for (arma::uword k = 0; k < 3; ++k)
    a(k) = logit(static_cast<double>(arma::accu(raw.y <= k)) / raw.y.n_elem);
  arma::mat g;
  arma::vec ga;
  fd_gradient(a, arma::zeros(3, 3), X, raw.y, g, ga);
  CHECK(fit.lambda_max == doctest::Approx(arma::abs(g).max()).epsilon(1e-6));
  CHECK(fit.lambda(0) == doctest::Approx(fit.lambda_max));
  CHECK(fit.lambda(19) == doctest::Approx(0.01 * fit.lambda_max));
  CHECK(fit.n_nonzero(0) == 0);
  CHECK(fit.n_nonzero(1) > 0);
  CHECK(arma::norm(fit.intercepts.col(0) - a, "inf") < 1e-7);
  // Ridge: lambda_max uses max(alpha, 0.01).
  opt.alpha = 0;
  const presto_fit ridge = fit_presto(X, raw.y, 4, opt);
  CHECK(ridge.lambda_max == doctest::Approx(arma::abs(g).max() / 0.01).epsilon(1e-6));
}

TEST_CASE("original-scale coefficients reproduce the internal likelihood (cumulative back-transform)") {
  // x ~ U(0, 2) is far from centred: the reference code's defect (b) would show here.
  const dataset d = split(fixture("np_data.csv"));
  const presto_fit fit = fit_presto(d.X, d.y, 4);
  const arma::rowvec sd = arma::stddev(d.X, 1, 0);
  for (arma::uword l = 0; l < fit.lambda.n_elem; ++l) {
    const double ll = ordinal_loglik(fit.intercepts.col(l), fit.beta.slice(l), d.X, d.y);
    CHECK(ll == doctest::Approx(fit.loglik(l)).epsilon(1e-10));
    // Objective = mean NLL + lambda * sum |psi on the standardised scale|.
    arma::mat psi_std = fit.psi.slice(l);
    psi_std.each_col() %= sd.t();
    const double F = -ll / d.y.n_elem + fit.lambda(l) * arma::accu(arma::abs(psi_std));
    CHECK(F == doctest::Approx(fit.objective(l)).epsilon(1e-10));
    // beta is the cumulative sum of psi.
    CHECK(arma::approx_equal(fit.beta.slice(l), arma::cumsum(fit.psi.slice(l), 1), "absdiff", 1e-12));
    // Step halving keeps the training probabilities valid.
    CHECK(predict_probabilities(fit.intercepts.col(l), fit.beta.slice(l), d.X).crossing_rows.is_empty());
  }
}

TEST_CASE("observation weights equal replicated rows") {
  const dataset d = split(fixture("np_data.csv"));
  arma::vec w(d.y.n_elem, arma::fill::ones);
  w.head(50).fill(2.0);
  const arma::mat Xr = arma::join_cols(d.X, d.X.head_rows(50));
  const arma::uvec yr = arma::join_cols(d.y, arma::uvec(d.y.head(50)));
  presto_options opt;
  opt.nlambda = 5;
  const presto_fit a = fit_presto(d.X, d.y, 4, opt, w);
  const presto_fit b = fit_presto(Xr, yr, 4, opt);
  CHECK(arma::approx_equal(a.lambda, b.lambda, "reldiff", 1e-10));
  CHECK(arma::approx_equal(a.beta.slice(4), b.beta.slice(4), "absdiff", 1e-6));
  CHECK(arma::approx_equal(a.intercepts, b.intercepts, "absdiff", 1e-6));
}

TEST_CASE("simulation truth: proportional odds recovers its coefficients") {
  // n = 20000, x ~ N(0, 1): the SE of each slope is about 0.015, so 0.08 is > 5 SE.
  rng_engine rng = make_rng(7);
  const arma::mat X = draw_normal(rng, 20000, 2);
  const arma::vec b = {0.8, -0.5};
  arma::mat eta = arma::repmat(X * b, 1, 3);
  eta.each_row() += arma::rowvec{-1.0, 0.5, 2.5};
  const arma::uvec y = draw_ordinal(rng, eta);
  const ordinal_fit po = fit_proportional_odds(X, y, 4);
  CHECK(po.converged);
  for (arma::uword k = 0; k < 3; ++k)
    CHECK(arma::norm(po.beta.col(k) - b, "inf") < 0.08);
  CHECK(arma::norm(po.intercepts - arma::vec{-1.0, 0.5, 2.5}, "inf") < 0.1);
}

TEST_CASE("sparse-differences DGP: CV-tuned PRESTO estimates the rare class better than Logit and PO") {
  // The paper's section 4.1 (q = 1/2, alpha = (0, 3, 5), rare class about 1.2%), 8
  // replications at n = 2500, p = 10: the median ratio of the in-sample MSE of the
  // rare-class probability (against the simulation truth) is below 1 for both baselines
  // (the paper's figures: about 0.75 and 0.65).
  arma::vec r_logit(8), r_po(8);
  for (arma::uword r = 0; r < 8; ++r) {
    arma::mat beta;
    arma::vec alpha;
    const dataset d = sparse_differences(100 + r, 2500, 10, beta, alpha);
    const arma::mat truth = predict_probabilities(alpha, beta, d.X).prob;
    auto mse = [&](const arma::vec& a, const arma::mat& b) {
      const arma::mat p = predict_probabilities(a, b, d.X, crossing_policy::clamp).prob;
      return arma::mean(arma::square(p.col(3) - truth.col(3)));
    };
    const presto_cv_fit cv = cv_presto(d.X, d.y, 4);
    const double m = mse(cv.fit.intercepts.col(cv.index_min), cv.fit.beta.slice(cv.index_min));
    const ordinal_fit lg = fit_separate_logits(d.X, d.y, 4);
    const ordinal_fit po = fit_proportional_odds(d.X, d.y, 4);
    r_logit(r) = m / mse(lg.intercepts, lg.beta);
    r_po(r) = m / mse(po.intercepts, po.beta);
  }
  MESSAGE("median MSE ratio PRESTO/Logit " << arma::median(r_logit) << ", PRESTO/PO "
                                           << arma::median(r_po));
  CHECK(arma::median(r_logit) < 1);
  CHECK(arma::median(r_po) < 1);
}

TEST_CASE("cross-validation: stratified folds, the same result bit for bit for every thread count") {
  const dataset d = split(fixture("np_data.csv"));
  cv_options cvo;
  cvo.seed = 42;
  presto_options opt;
  opt.nlambda = 8;
  const presto_cv_fit cv = cv_presto(d.X, d.y, 4, opt, cvo);
  CHECK(arma::all(cv.foldid == stratified_folds(d.y, 5, 42)));
  for (arma::uword c = 0; c < 4; ++c)
    for (arma::uword f = 0; f < 5; ++f) CHECK(arma::any(cv.foldid == f && d.y == c));
  for (int threads : {2, 3, 8}) {
    cvo.threads = threads;
    const presto_cv_fit many = cv_presto(d.X, d.y, 4, opt, cvo);
    CHECK(arma::approx_equal(many.fold_measure, cv.fold_measure, "absdiff", 0.0));
    CHECK(arma::approx_equal(many.cvm, cv.cvm, "absdiff", 0.0));
    CHECK(arma::approx_equal(many.cvsd, cv.cvsd, "absdiff", 0.0));
    CHECK(many.index_min == cv.index_min);
    CHECK(arma::all(many.fold_converged == cv.fold_converged));
  }
}

TEST_CASE("cross-validation: held-out Brier by hand, lambda.min, lambda.1se, refit") {
  const dataset d = split(fixture("np_data.csv"));
  presto_options opt;
  opt.nlambda = 10;
  cv_options cvo;
  cvo.seed = 5;
  const presto_cv_fit cv = cv_presto(d.X, d.y, 4, opt, cvo);
  REQUIRE(cv.cvm.n_elem == 10);
  // Fold 3 at lambda 6, recomputed from a separate fit on its training rows.
  const arma::uvec tr = arma::find(cv.foldid != 2), te = arma::find(cv.foldid == 2);
  presto_options o2 = opt;
  o2.lambda = cv.fit.lambda;
  const presto_fit ff = fit_presto(d.X.rows(tr), arma::uvec(d.y(tr)), 4, o2);
  const arma::mat pr = predict_probabilities(ff.intercepts.col(5), ff.beta.slice(5),
                                             d.X.rows(te), crossing_policy::clamp).prob;
  double brier = 0;
  for (arma::uword i = 0; i < te.n_elem; ++i)
    for (arma::uword c = 0; c < 4; ++c) {
      const double e = pr(i, c) - (d.y(te(i)) == c ? 1.0 : 0.0);
      brier += e * e;
    }
  CHECK(cv.fold_measure(5, 2) == doctest::Approx(brier / te.n_elem).epsilon(1e-8));
  CHECK(cv.cvm(cv.index_min) == doctest::Approx(cv.cvm.min()));
  CHECK(cv.index_1se <= cv.index_min);
  CHECK(cv.cvm(cv.index_1se) <= cv.cvm(cv.index_min) + cv.cvsd(cv.index_min));
  CHECK(cv.lambda_min == cv.fit.lambda(cv.index_min));
  // A cold-started refit at lambda.min agrees with the warm-started path solution.
  presto_options o3;
  o3.lambda = {cv.lambda_min};
  const presto_fit cold = fit_presto(d.X, d.y, 4, o3);
  CHECK(arma::norm(arma::vectorise(cold.beta.slice(0) - cv.fit.beta.slice(cv.index_min)), "inf") < 1e-4);
  CHECK(cold.objective(0) == doctest::Approx(cv.fit.objective(cv.index_min)).epsilon(1e-8));
  // The other measures run and are in range.
  cvo.measure = cv_measure::misclassification;
  const presto_cv_fit mis = cv_presto(d.X, d.y, 4, opt, cvo);
  CHECK(mis.cvm.min() >= 0);
  CHECK(mis.cvm.max() <= 1);
  cvo.measure = cv_measure::deviance;
  const presto_cv_fit dev = cv_presto(d.X, d.y, 4, opt, cvo);
  CHECK(dev.cvm.min() > 0);
}

TEST_CASE("crossing policies") {
  // Thresholds whose slopes differ: eta_0 > eta_1 for x > 2.
  const arma::vec a = {-1.0, 1.0};
  const arma::mat b = {{1.0, 0.0}};
  const arma::mat X = arma::vec{0.0, 1.0, 3.0, 5.0};
  const probability_prediction w = predict_probabilities(a, b, X, crossing_policy::warn);
  CHECK(w.crossing_rows.n_elem == 2);
  CHECK(w.crossing_rows(0) == 2);
  CHECK(w.prob(2, 1) < 0);
  CHECK(arma::approx_equal(arma::sum(w.prob, 1), arma::ones(4), "absdiff", 1e-12));
  const probability_prediction c = predict_probabilities(a, b, X, crossing_policy::clamp);
  CHECK(c.prob.min() >= 0);
  CHECK(arma::approx_equal(arma::sum(c.prob, 1), arma::ones(4), "absdiff", 1e-12));
  CHECK(arma::approx_equal(c.prob.row(0), w.prob.row(0), "absdiff", 1e-15));
  CHECK_THROWS_AS(predict_probabilities(a, b, X, crossing_policy::error), numerical_error);
  CHECK(arma::all(predict_class(c.prob) < 3));
  CHECK(predict_class(arma::mat{{0.2, 0.5, 0.3}})(0) == 1);
}

TEST_CASE("non-crossing constraint: solved (matches constrOptim), never crosses on training rows") {
  // The unconstrained maximum likelihood fit crosses on this data (see make_crossing.R).
  const dataset d = split(fixture("crossing_data.csv"));
  const arma::mat ref = fixture("crossing_constrOptim.csv");
  const double n = static_cast<double>(d.y.n_elem);
  presto_options opt;
  opt.lambda = {0.0};
  const presto_fit fit = fit_presto(d.X, d.y, 3, opt);
  CHECK(fit.constrained(0) == 1);
  CHECK(fit.converged(0) == 1);
  CHECK(fit.message.empty());
  CHECK(fit.kkt_violation(0) < 1e-6);  // of the Lagrangian
  const arma::mat eta = predict_link(fit.intercepts.col(0), fit.beta.slice(0), d.X);
  const arma::vec margin = eta.col(1) - eta.col(0);
  CHECK(margin.min() >= 0);
  CHECK(margin.min() < 1e-4);  // the constraint is active
  // The unconstrained gradient is not zero there: without the constraint the fit would move on.
  arma::mat g;
  arma::vec ga;
  fd_gradient(fit.intercepts.col(0), fit.psi.slice(0), d.X, d.y, g, ga);
  CHECK(std::max(arma::abs(g).max(), arma::abs(ga).max()) > 1e-3);
  // The constrained optimum of an independent solver (stats::constrOptim).
  const double nll = -fit.loglik(0) / n;
  CHECK(nll == doctest::Approx(ref(0, 4)).epsilon(1e-8));
  CHECK(nll <= ref(0, 4) + 1e-10);
  CHECK(fit.intercepts(0, 0) == doctest::Approx(ref(0, 0)).epsilon(1e-3));
  CHECK(fit.intercepts(1, 0) == doctest::Approx(ref(0, 1)).epsilon(1e-3));
  CHECK(fit.beta(0, 0, 0) == doctest::Approx(ref(0, 2)).epsilon(1e-3));
  CHECK(fit.beta(0, 1, 0) == doctest::Approx(ref(0, 3)).epsilon(1e-3));
  // Along a default path: every lambda converges, none crosses, F decreases with lambda.
  const presto_fit path = fit_presto(d.X, d.y, 3);
  CHECK(arma::all(path.converged == 1));
  CHECK(arma::any(path.constrained == 1));
  CHECK(arma::all(arma::diff(path.objective) <= 1e-12));
  for (arma::uword l = 0; l < path.lambda.n_elem; ++l) {
    CHECK(predict_probabilities(path.intercepts.col(l), path.beta.slice(l), d.X).crossing_rows.is_empty());
    CHECK(path.kkt_violation(l) < 1e-6);
  }
}

TEST_CASE("p > n: every lambda solved, training probabilities never cross") {
  rng_engine rng = make_rng(9);
  const arma::mat X = draw_normal(rng, 30, 40);
  arma::uvec y(30);
  for (arma::uword i = 0; i < 30; ++i) y(i) = i % 4;
  presto_options opt;
  opt.nlambda = 5;
  opt.lambda_min_ratio = 0.05;
  const presto_fit fit = fit_presto(X, y, 4, opt);
  for (arma::uword l = 0; l < fit.lambda.n_elem; ++l) {
    CHECK(predict_probabilities(fit.intercepts.col(l), fit.beta.slice(l), X).crossing_rows.is_empty());
    CHECK(fit.intercepts.col(l).is_finite());
    CHECK(fit.converged(l) == 1);
    CHECK(fit.kkt_violation(l) < 1e-5);
  }
  CHECK(arma::all(arma::diff(fit.objective) <= 1e-12));  // F decreases as lambda does
  CHECK(fit.message.empty());
  CHECK(arma::any(fit.constrained == 1));  // the case needs the constraint
}

TEST_CASE("constrained path with hundreds of coefficients: Lagrangian KKT, no crossing, all converged") {
  // n = 1000, p = 100, a few nonzero differences per block: at the small lambdas the
  // unconstrained fit would cross on training rows and the barrier subproblems hold a
  // few hundred coefficients, which exercises the working-set growth, the factor's up- and
  // downdates and the Hessian reuse. Checked against what does not depend on the solver:
  // the KKT residual of the Lagrangian (multipliers fitted separately by NNLS), the
  // training margins, and a cold solve of the last lambda from the intercept-only fit.
  rng_engine rng = make_rng(21);
  const arma::uword n = 1000, p = 100;
  arma::mat psi(p, 3, arma::fill::zeros);
  for (arma::uword k = 0; k < 3; ++k)
    for (arma::uword j = 0; j < p; ++j)
      if (draw_uniform(rng) < 3.0 / p) psi(j, k) = k == 0 || draw_uniform(rng) < 0.5 ? 0.5 : -0.5;
  arma::mat X(n, p);
  for (auto& v : X) v = draw_uniform(rng, -1, 1);
  arma::mat eta = X * arma::cumsum(psi, 1);
  eta.each_row() += arma::rowvec{-1.0, 1.0, 3.0};
  const arma::uvec y = draw_ordinal(rng, eta);
  for (const double mix : {1.0, 0.5}) {  // lasso and elastic net (ridge inside the subproblems)
    CAPTURE(mix);
    presto_options opt;
    opt.alpha = mix;
    const presto_fit fit = fit_presto(X, y, 4, opt);
    const arma::uword L = fit.lambda.n_elem;
    MESSAGE("constrained lambdas " << arma::accu(fit.constrained) << ", nonzero at the last "
                                   << fit.n_nonzero(L - 1));
    CHECK(arma::accu(fit.constrained) >= 3);
    CHECK(fit.message.empty());
    for (arma::uword l = 0; l < L; ++l) {
      CAPTURE(l);
      CHECK(fit.converged(l) == 1);
      CHECK(fit.kkt_violation(l) < 1e-6);
      CHECK(predict_probabilities(fit.intercepts.col(l), fit.beta.slice(l), X).crossing_rows.is_empty());
    }
    CHECK(arma::all(arma::diff(fit.objective) <= 1e-12));
    opt.lambda = {fit.lambda(L - 1)};
    const presto_fit one = fit_presto(X, y, 4, opt);
    CHECK(one.constrained(0) == 1);
    CHECK(one.objective(0) == doctest::Approx(fit.objective(L - 1)).epsilon(1e-9));
  }
}
