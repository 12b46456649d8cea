// Tests of the Rel-MF core: gradients against finite differences, the sparse full-batch
// objective against a dense evaluation written from the paper's formulas, unbiasedness of the
// IPS loss over simulated exposures, a closed-form optimum, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "tessera/common/error.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/recsys/metrics.hpp"
#include "tessera/recsys/relmf.hpp"

using namespace tessera;
using namespace tessera::recsys;

namespace {

double sig(double s) { return 1.0 / (1.0 + std::exp(-s)); }

relmf_model random_model(arma::uword m, arma::uword n, arma::uword k, bool biases, std::uint64_t seed,
                         double scale = 0.7) {
  rng_engine rng = make_rng(seed);
  relmf_model md;
  md.U = scale * draw_normal(rng, m, k);
  md.V = scale * draw_normal(rng, n, k);
  md.user_bias = biases ? arma::vec(0.3 * draw_normal(rng, m, 1)) : arma::vec(m, arma::fill::zeros);
  md.item_bias = biases ? arma::vec(0.3 * draw_normal(rng, n, 1)) : arma::vec(n, arma::fill::zeros);
  md.global_bias = biases ? -0.2 : 0.0;
  return md;
}

arma::sp_mat random_clicks(arma::uword m, arma::uword n, double density, std::uint64_t seed) {
  rng_engine rng = make_rng(seed, 7);
  arma::mat y(m, n);
  for (double& v : y) v = draw_uniform(rng) < density ? 1.0 : 0.0;
  y(0, 0) = 1.0;
  return arma::sp_mat(y);
}

relmf_options loss_options(loss_type loss, link_type link, bool biases) {
  relmf_options o;
  o.loss = loss;
  o.link = link;
  o.biases = biases;
  o.lambda = 0.1;
  o.unlabeled_weight = 0.7;
  return o;
}

// The objective written directly from the paper's per-pair formulas on dense matrices.
struct dense_result {
  double value;
  arma::mat gU, gV;
  arma::vec gbu, gbi;
  double gg;
};

dense_result dense_objective(const arma::mat& Y, const arma::mat& W, const relmf_model& md,
                             const relmf_options& o) {
  arma::mat S = md.U * md.V.t();
  S.each_col() += md.user_bias;
  S.each_row() += md.item_bias.t();
  S += md.global_bias;
  arma::mat L(arma::size(S)), G(arma::size(S));
  const double c = o.unlabeled_weight;
  for (arma::uword e = 0; e < S.n_elem; ++e) {
    const double s = S(e), w = W(e);
    if (o.loss == loss_type::log) {
      const double r = sig(s);
      L(e) = -w * std::log(r) - (1.0 - w) * std::log(1.0 - r);
      G(e) = (-w / r + (1.0 - w) / (1.0 - r)) * r * (1.0 - r);
    } else {
      const double r = o.link == link_type::logistic ? sig(s) : s;
      const double dr = o.link == link_type::logistic ? r * (1.0 - r) : 1.0;
      L(e) = w * (1.0 - r) * (1.0 - r) + c * (1.0 - w) * r * r;
      G(e) = (-2.0 * w * (1.0 - r) + 2.0 * c * (1.0 - w) * r) * dr;
    }
  }
  const double z = o.loss == loss_type::log ? static_cast<double>(Y.n_elem) : arma::accu(Y + c * (1.0 - Y));
  dense_result d;
  d.value = arma::accu(L) / z + 0.5 * o.lambda * (arma::accu(arma::square(md.U)) + arma::accu(arma::square(md.V)));
  d.gU = G * md.V / z + o.lambda * md.U;
  d.gV = G.t() * md.U / z + o.lambda * md.V;
  d.gbu = arma::sum(G, 1) / z;
  d.gbi = arma::sum(G, 0).t() / z;
  d.gg = arma::accu(G) / z;
  return d;
}

arma::vec random_weights(const arma::sp_mat& clicks, std::uint64_t seed) {
  rng_engine rng = make_rng(seed, 3);
  arma::vec w(clicks.n_nonzero);
  for (double& v : w) v = draw_uniform(rng, 1.0, 5.0);
  return w;
}

arma::mat dense_weights(const arma::sp_mat& clicks, const arma::vec& w) {
  arma::mat W(clicks.n_rows, clicks.n_cols, arma::fill::zeros);
  arma::uword e = 0;
  for (auto it = clicks.begin(); it != clicks.end(); ++it, ++e) W(it.row(), it.col()) = w(e);
  return W;
}

struct loss_case {
  loss_type loss;
  link_type link;
  const char* name;
};
const loss_case kCases[] = {{loss_type::log, link_type::logistic, "log"},
                            {loss_type::squared, link_type::logistic, "squared-logistic"},
                            {loss_type::squared, link_type::identity, "squared-identity"}};

}  // namespace

TEST_CASE("recsys: full-batch gradient matches central finite differences") {
  const arma::sp_mat Y = random_clicks(5, 4, 0.4, 1);
  const arma::vec w = random_weights(Y, 2);
  for (const loss_case& lc : kCases) {
    for (bool biases : {false, true}) {
      CAPTURE(lc.name);
      CAPTURE(biases);
      const relmf_options o = loss_options(lc.loss, lc.link, biases);
      relmf_model md = random_model(5, 4, 2, biases, 11);
      const objective_eval ev = evaluate_objective(Y, w, md, o);
      const double h = 1e-6;
      auto fd = [&](double& x) {
        const double x0 = x;
        x = x0 + h;
        const double fp = evaluate_objective(Y, w, md, o).value;
        x = x0 - h;
        const double fm = evaluate_objective(Y, w, md, o).value;
        x = x0;
        return (fp - fm) / (2 * h);
      };
      for (arma::uword e = 0; e < md.U.n_elem; ++e) CHECK(ev.gradient.U(e) == doctest::Approx(fd(md.U(e))).epsilon(1e-6));
      for (arma::uword e = 0; e < md.V.n_elem; ++e) CHECK(ev.gradient.V(e) == doctest::Approx(fd(md.V(e))).epsilon(1e-6));
      if (biases) {
        for (arma::uword e = 0; e < 5; ++e) CHECK(ev.gradient.user_bias(e) == doctest::Approx(fd(md.user_bias(e))).epsilon(1e-6));
        for (arma::uword e = 0; e < 4; ++e) CHECK(ev.gradient.item_bias(e) == doctest::Approx(fd(md.item_bias(e))).epsilon(1e-6));
        CHECK(ev.gradient.global_bias == doctest::Approx(fd(md.global_bias)).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("recsys: sparse objective and gradient equal the dense computation") {
  // 3 x 100000 makes the logistic path run over more than one block of users.
  const std::pair<arma::uword, arma::uword> shapes[] = {{30, 20}, {3, 100000}};
  for (auto [m, n] : shapes) {
    const arma::sp_mat Y = random_clicks(m, n, 0.2, 5);
    const arma::vec w = random_weights(Y, 6);
    const arma::mat Yd(Y), W = dense_weights(Y, w);
    for (const loss_case& lc : kCases) {
      CAPTURE(lc.name);
      CAPTURE(n);
      const relmf_options o = loss_options(lc.loss, lc.link, true);
      const relmf_model md = random_model(m, n, 3, true, 21);
      const objective_eval ev = evaluate_objective(Y, w, md, o);
      const dense_result d = dense_objective(Yd, W, md, o);
      CHECK(ev.value == doctest::Approx(d.value).epsilon(1e-10));
      CHECK(arma::norm(ev.gradient.U - d.gU, "inf") < 1e-10 * (1 + arma::norm(d.gU, "inf")));
      CHECK(arma::norm(ev.gradient.V - d.gV, "inf") < 1e-10 * (1 + arma::norm(d.gV, "inf")));
      CHECK(arma::norm(ev.gradient.user_bias - d.gbu, "inf") < 1e-10 * (1 + arma::norm(d.gbu, "inf")));
      CHECK(arma::norm(ev.gradient.item_bias - d.gbi, "inf") < 1e-10 * (1 + arma::norm(d.gbi, "inf")));
      CHECK(ev.gradient.global_bias == doctest::Approx(d.gg).epsilon(1e-10));
    }
  }
}

TEST_CASE("recsys: IPS log loss is unbiased for the ideal loss; clipping and naive have the derived bias") {
  const arma::uword m = 6, n = 5, reps = 3000;
  const double D = static_cast<double>(m * n), M = 0.5;
  const relmf_model md = random_model(m, n, 2, false, 31, 0.9);
  rng_engine rng = make_rng(32);
  arma::mat gamma(m, n), theta(m, n);
  for (double& v : gamma) v = draw_uniform(rng, 0.1, 0.9);
  for (double& v : theta) v = draw_uniform(rng, 0.05, 1.0);
  const arma::mat S = md.U * md.V.t();
  double ideal = 0, clip_bias = 0, naive_expect = 0;
  for (arma::uword e = 0; e < S.n_elem; ++e) {
    const double d1 = -std::log(sig(S(e))), d0 = -std::log(1.0 - sig(S(e)));
    ideal += (gamma(e) * d1 + (1 - gamma(e)) * d0) / D;
    if (theta(e) < M) clip_bias -= gamma(e) * (1 - theta(e) / M) * (d1 - d0) / D;
    const double p = theta(e) * gamma(e);
    naive_expect += (p * d1 + (1 - p) * d0) / D;
  }
  relmf_options o;
  o.lambda = 0;
  propensity_spec ps;
  ps.type = propensity_type::pair;
  ps.pair = arma::sp_mat(theta);
  propensity_spec none;
  none.type = propensity_type::none;
  arma::vec ips(reps), clipped(reps), naive(reps);
  for (arma::uword r = 0; r < reps; ++r) {
    arma::mat y(m, n);
    for (arma::uword e = 0; e < y.n_elem; ++e) {
      const bool relevant = draw_uniform(rng) < gamma(e), exposed = draw_uniform(rng) < theta(e);
      y(e) = relevant && exposed ? 1.0 : 0.0;
    }
    const arma::sp_mat Y(y);
    ips(r) = evaluate_objective(Y, compute_weights(Y, ps, 0.0).weight, md, o).data;
    clipped(r) = evaluate_objective(Y, compute_weights(Y, ps, M).weight, md, o).data;
    naive(r) = evaluate_objective(Y, compute_weights(Y, none, 0.0).weight, md, o).data;
  }
  const double se = std::sqrt(reps);
  CHECK(std::abs(arma::mean(ips) - ideal) < 4 * arma::stddev(ips) / se);
  CHECK(std::abs(arma::mean(clipped) - (ideal + clip_bias)) < 4 * arma::stddev(clipped) / se);
  CHECK(std::abs(arma::mean(naive) - naive_expect) < 4 * arma::stddev(naive) / se);
  // the biases are real: clipped and naive are detectably off the ideal loss
  CHECK(std::abs(clip_bias) > 8 * arma::stddev(clipped) / se);
  CHECK(std::abs(naive_expect - ideal) > 8 * arma::stddev(naive) / se);
}

TEST_CASE("recsys: full-batch squared loss reaches the closed-form nuclear-norm optimum") {
  // Naive weights (theta = 1), c = 1, identity link, no biases: the objective is
  // ||Y - U V'||^2 / |D| + lambda/2 (||U||^2 + ||V||^2), minimised over rank-k products by
  // soft-thresholding the top k singular values of Y at lambda |D| / 2.
  const arma::sp_mat Y = random_clicks(10, 8, 0.35, 41);
  relmf_options o;
  o.dim = 2;
  o.loss = loss_type::squared;
  o.link = link_type::identity;
  o.propensity.type = propensity_type::none;
  o.lambda = 0.01;
  o.solver = solver_type::full_batch;
  o.lr = 0.01;
  o.max_iter = 6000;
  o.tol = 1e-13;
  const relmf_fit fit = fit_relmf(Y, o, 42);
  const arma::vec sv = arma::svd(arma::mat(Y));
  const double D = 80.0, tau = o.lambda * D / 2.0;
  double best = 0;
  for (arma::uword j = 0; j < sv.n_elem; ++j) {
    const double shrunk = j < o.dim ? std::max(sv(j) - tau, 0.0) : 0.0;
    best += (sv(j) - shrunk) * (sv(j) - shrunk) / D + o.lambda * shrunk;
  }
  CHECK(fit.objective == doctest::Approx(best).epsilon(1e-5));
  CHECK(fit.objective >= best - 1e-12);
  CHECK(fit.trace.front() > fit.trace.back());
  // uniform mini-batches estimate the same objective without bias: large batches get close
  relmf_options mb = o;
  mb.solver = solver_type::minibatch;
  mb.sampling = sampling_type::uniform;
  mb.batch_size = 4096;
  mb.max_iter = 3000;
  mb.lr = 0.003;
  const relmf_fit sgd = fit_relmf(Y, mb, 43);
  const double reached = evaluate_objective(Y, sgd.weights.weight, sgd.model, o).value;
  CHECK(reached == doctest::Approx(best).epsilon(2e-3));
  CHECK(reached >= best - 1e-12);
}

namespace {
bool same(const arma::mat& a, const arma::mat& b) { return a.n_rows == b.n_rows && a.n_cols == b.n_cols && arma::all(arma::vectorise(a == b)); }
bool same_model(const relmf_model& a, const relmf_model& b) {
  return same(a.U, b.U) && same(a.V, b.V) && same(a.user_bias, b.user_bias) && same(a.item_bias, b.item_bias) &&
         a.global_bias == b.global_bias;
}
}  // namespace

TEST_CASE("recsys: results are bit-identical for 1, 2 and 3 threads") {
  // 1200 users x 700 items: several 256-user and 256-item pieces, several dense user blocks
  // (374 users each) grouped into pieces; 9000 users for more than one 4096-row Gram block.
  const arma::sp_mat Y = random_clicks(1200, 700, 0.02, 71);
  const arma::vec w = random_weights(Y, 72);
  for (const loss_case& lc : kCases) {
    CAPTURE(lc.name);
    relmf_options o = loss_options(lc.loss, lc.link, true);
    const relmf_model md = random_model(1200, 700, 4, true, 73, 0.3);
    o.threads = 1;
    const objective_eval one = evaluate_objective(Y, w, md, o);
    for (unsigned t : {2u, 3u}) {
      o.threads = t;
      const objective_eval more = evaluate_objective(Y, w, md, o);
      CHECK(more.value == one.value);
      CHECK(same_model(more.gradient, one.gradient));
    }
  }
  const arma::sp_mat Z = random_clicks(9000, 40, 0.05, 74);
  relmf_options full;
  full.dim = 3;
  full.loss = loss_type::squared;
  full.link = link_type::identity;
  full.biases = true;
  full.solver = solver_type::full_batch;
  full.max_iter = 5;
  full.lr = 0.01;
  full.clip = 0.1;
  relmf_options mini = full;
  mini.solver = solver_type::minibatch;
  mini.loss = loss_type::log;
  mini.link = link_type::logistic;
  mini.batch_size = 10000;
  std::vector<relmf_fit> fits_full, fits_mini;
  std::vector<recommendation> recs;
  std::vector<metric_table> cats, tests;
  const arma::uvec users = arma::regspace<arma::uvec>(0, 3, 8999);
  for (unsigned t : {1u, 2u, 3u}) {
    full.threads = t;
    mini.threads = t;
    fits_full.push_back(fit_relmf(Z, full, 5));
    fits_mini.push_back(fit_relmf(Z, mini, 5));
    recs.push_back(recommend(fits_full.back().model, users, 4, Z, t));
    metric_options mo;
    mo.threads = t;
    const relmf_model& model = fits_mini.front().model;
    const arma::uvec items = arma::uvec(users.n_elem).fill(7);
    arma::vec rel(users.n_elem);
    for (arma::uword e = 0; e < rel.n_elem; ++e) rel(e) = static_cast<double>(users(e) % 2);
    const auto scores_of = [&model](arma::uword u) { return user_scores(model, u); };
    cats.push_back(rank_metrics_catalogue(users, items, rel, 9000, 40, scores_of, Z, mo));
    tests.push_back(rank_metrics_test_items(users, items, predict_pairs(model, users, items), rel, mo));
  }
  for (std::size_t t = 1; t < 3; ++t) {
    CAPTURE(t);
    CHECK(same_model(fits_full[t].model, fits_full[0].model));
    CHECK(fits_full[t].trace == fits_full[0].trace);
    CHECK(same_model(fits_mini[t].model, fits_mini[0].model));
    CHECK(fits_mini[t].trace == fits_mini[0].trace);
    CHECK(arma::all(arma::vectorise(recs[t].items == recs[0].items)));
    CHECK(same(recs[t].scores, recs[0].scores));
    CHECK(same(cats[t].dcg_all, cats[0].dcg_all));
    CHECK(same(cats[t].map_all, cats[0].map_all));
    CHECK(same(tests[t].recall_all, tests[0].recall_all));
  }
  relmf_options bad = full;
  bad.threads = 0;
  CHECK_THROWS_WITH_AS(fit_relmf(Z, bad, 1), doctest::Contains("`threads`"), tessera::invalid_argument);
}

TEST_CASE("recsys: mini-batch Adam is reproducible from the seed and lowers the batch objective") {
  const arma::sp_mat Y = random_clicks(40, 30, 0.1, 51);
  relmf_options o;
  o.dim = 3;
  o.batch_size = 256;
  o.max_iter = 200;
  o.lr = 0.02;
  o.clip = 0.1;
  o.biases = true;
  o.sampling = sampling_type::balanced;
  const relmf_fit a = fit_relmf(Y, o, 7), b = fit_relmf(Y, o, 7), c = fit_relmf(Y, o, 8);
  CHECK(arma::approx_equal(a.model.U, b.model.U, "absdiff", 0.0));
  CHECK(arma::approx_equal(a.model.item_bias, b.model.item_bias, "absdiff", 0.0));
  CHECK_FALSE(arma::approx_equal(a.model.U, c.model.U, "absdiff", 1e-6));
  const arma::vec tr(a.trace);
  CHECK(arma::mean(tr.head(20)) > arma::mean(tr.tail(20)) + 0.05);
  CHECK(a.iterations == 200);
  CHECK_FALSE(a.converged);
}

TEST_CASE("recsys: popularity propensities, clipping and weights on a hand-worked example") {
  // item clicks: 4, 1, 0, 2 over 4 users
  const arma::uvec users{0, 1, 2, 3, 0, 1, 3}, items{0, 0, 0, 0, 1, 3, 3};
  const arma::sp_mat Y = clicks_from_pairs(users, items, 4, 4);
  const arma::vec theta = popularity_propensity(Y, 0.5);
  CHECK(theta(0) == doctest::Approx(1.0));
  CHECK(theta(1) == doctest::Approx(0.5));
  CHECK(theta(2) == 0.0);
  CHECK(theta(3) == doctest::Approx(std::sqrt(0.5)));
  propensity_spec ps;  // popularity, eta 0.5
  const click_weights cw = compute_weights(Y, ps, 0.6);
  REQUIRE(cw.weight.n_elem == 7);
  CHECK(cw.n_clipped == 1);
  for (arma::uword e = 0; e < 7; ++e) {
    const double expected = 1.0 / std::max(theta(cw.item(e)), 0.6);
    CHECK(cw.weight(e) == doctest::Approx(expected));
    CHECK(Y(cw.user(e), cw.item(e)) == 1.0);
  }
}

TEST_CASE("recsys: predict and recommend on a hand-built model") {
  relmf_model md;
  md.U = arma::mat(2, 1);
  md.U(0, 0) = 1.0;
  md.U(1, 0) = -1.0;
  md.V = arma::mat(arma::vec{0.5, 2.0, -1.0, 2.0});
  md.user_bias = arma::vec{0.0, 0.1};
  md.item_bias = arma::vec{0.0, 0.0, 0.0, 0.0};
  md.global_bias = 0.2;
  const arma::vec s = predict_pairs(md, arma::uvec{0, 1}, arma::uvec{1, 2}, false);
  CHECK(s(0) == doctest::Approx(2.2));
  CHECK(s(1) == doctest::Approx(1.3));
  const arma::vec r = predict_pairs(md, arma::uvec{0}, arma::uvec{1}, true);
  CHECK(r(0) == doctest::Approx(sig(2.2)));
  // user 0: scores .7, 2.2, -.8, 2.2 -> items 1, 3 (tie: lower index first), 0
  arma::sp_mat ex(2, 4);
  ex(1, 2) = 1;
  const recommendation rec = recommend(md, arma::uvec{0, 1}, 3, ex);
  CHECK(rec.items(0, 0) == 1);
  CHECK(rec.items(0, 1) == 3);
  CHECK(rec.items(0, 2) == 0);
  // user 1: scores -.2, -1.7, 1.3 (excluded), -1.7 -> items 0, 1, 3
  CHECK(rec.items(1, 0) == 0);
  CHECK(rec.items(1, 1) == 1);
  CHECK(rec.items(1, 2) == 3);
  CHECK(rec.scores(1, 0) == doctest::Approx(-0.2));
  const recommendation all = recommend(md, arma::uvec{1}, 4, ex);  // only 3 candidates
  CHECK(all.items(0, 3) == 4);
  CHECK(std::isnan(all.scores(0, 3)));
}

namespace {
template <class F>
void check_message(F&& f, const std::string& part) {
  try {
    f();
    FAIL("no exception; expected one mentioning: " << part);
  } catch (const tessera::invalid_argument& e) {
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(what.find(part) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("recsys: bad input gives clear errors") {
  const arma::sp_mat Y = random_clicks(6, 5, 0.3, 61);
  relmf_options o;
  o.dim = 2;
  o.max_iter = 2;
  o.batch_size = 8;
  // duplicates
  check_message([] { clicks_from_pairs(arma::uvec{0, 1, 0}, arma::uvec{2, 1, 2}, 3, 3); }, "more than once");
  CHECK(clicks_from_pairs(arma::uvec{0, 1, 0}, arma::uvec{2, 1, 2}, 3, 3, true).n_nonzero == 2);
  arma::sp_mat dup = Y;
  dup(1, 1) = 2.0;
  check_message([&] { fit_relmf(dup, o, 1); }, "duplicate");
  arma::sp_mat nan = Y;
  nan(2, 2) = arma::datum::nan;
  check_message([&] { fit_relmf(nan, o, 1); }, "NaN");
  arma::sp_mat neg = Y;
  neg(2, 3) = -1.0;
  check_message([&] { fit_relmf(neg, o, 1); }, "negative");
  check_message([&] { fit_relmf(arma::sp_mat(4, 4), o, 1); }, "no click");
  // ids
  check_message([] { clicks_from_pairs(arma::uvec{0, 5}, arma::uvec{0, 1}, 3, 3); }, "`users` entry 2");
  check_message([] { clicks_from_pairs(arma::uvec{0, 1}, arma::uvec{0, 3}, 3, 3); }, "`items` entry 2");
  const relmf_fit fit = fit_relmf(Y, o, 1);
  check_message([&] { predict_pairs(fit.model, arma::uvec{6}, arma::uvec{0}); }, "unknown user");
  check_message([&] { predict_pairs(fit.model, arma::uvec{0}, arma::uvec{5}); }, "unknown item");
  check_message([&] { recommend(fit.model, arma::uvec{9}, 2); }, "unknown user");
  // propensities
  for (double bad : {0.0, 1.5, arma::datum::nan, -0.1}) {
    relmf_options p = o;
    p.propensity.type = propensity_type::item;
    p.propensity.item = arma::vec(5, arma::fill::value(0.5));
    p.propensity.item(3) = bad;
    check_message([&] { fit_relmf(Y, p, 1); }, "(0, 1]");
  }
  relmf_options pp = o;
  pp.propensity.type = propensity_type::pair;
  pp.propensity.pair = arma::sp_mat(6, 5);
  check_message([&] { fit_relmf(Y, pp, 1); }, "missing");
  pp.propensity.item = arma::vec(4, arma::fill::ones);
  pp.propensity.type = propensity_type::item;
  check_message([&] { fit_relmf(Y, pp, 1); }, "one value per item");
  // options
  relmf_options bad = o;
  bad.clip = 1.5;
  check_message([&] { fit_relmf(Y, bad, 1); }, "`clip`");
  bad = o;
  bad.dim = 6;
  check_message([&] { fit_relmf(Y, bad, 1); }, "`dim`");
  bad.dim = 0;
  check_message([&] { fit_relmf(Y, bad, 1); }, "`dim`");
  bad = o;
  bad.link = link_type::identity;
  check_message([&] { fit_relmf(Y, bad, 1); }, "identity");
  bad = o;
  bad.lambda = -1;
  check_message([&] { fit_relmf(Y, bad, 1); }, "`lambda`");
  relmf_options balanced = o;
  balanced.sampling = sampling_type::balanced;
  check_message([&] { fit_relmf(arma::sp_mat(arma::mat(3, 3, arma::fill::ones)), balanced, 1); }, "no unclicked");
  // divergence is reported, not returned as NaN
  relmf_options wild = o;
  wild.lambda = 0;
  wild.lr = 1e6;
  wild.max_iter = 200;
  wild.clip = 0;
  wild.propensity.type = propensity_type::item;
  wild.propensity.item = arma::vec(5, arma::fill::value(1e-12));
  try {
    const relmf_fit f = fit_relmf(Y, wild, 3);
    CHECK(f.model.U.is_finite());
    CHECK(std::isfinite(f.objective));
  } catch (const tessera::numerical_error& e) {
    CHECK(std::string(e.what()).find("lambda") != std::string::npos);
  }
}
