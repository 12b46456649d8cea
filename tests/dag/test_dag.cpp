#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tessera/common/error.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/dag/colide.hpp"
#include "tessera/dag/graph.hpp"
#include "tessera/dag/simulate.hpp"

using namespace tessera;
using namespace tessera::dag;

namespace {

arma::mat sample_cov(const arma::mat& X) {
  const arma::mat Xc = X.each_row() - arma::mean(X, 0);
  return Xc.t() * Xc / static_cast<double>(X.n_rows);
}

// A W with every entry away from zero (so |W|_1 is differentiable) and small enough to
// lie in the log-det domain for s = 1.
arma::mat dense_small_W(arma::uword d, std::uint64_t seed) {
  rng_engine rng = make_rng(seed);
  arma::mat W(d, d);
  for (double& w : W) w = (draw_uniform(rng) < 0.5 ? -1 : 1) * draw_uniform(rng, 0.05, 0.2);
  return W;
}

// A small simulated SEM (ER graph, Gaussian equal-variance noise).
sem_sample small_sem(arma::uword nodes, arma::uword edges, arma::uword n, std::uint64_t seed) {
  sem_options o;
  o.n_nodes = nodes;
  o.n_edges = edges;
  o.n_samples = n;
  return simulate_sem(o, seed);
}

// The default path with a short Adam budget, for fast tests.
path_options short_path() {
  path_options p;
  p.warm_iter = 2000;
  p.max_iter = 4000;
  return p;
}

// Central finite difference of f at W in every coordinate.
template <class F>
arma::mat numerical_gradient(F f, const arma::mat& W, double h = 1e-6) {
  arma::mat g(arma::size(W));
  for (arma::uword k = 0; k < W.n_elem; ++k) {
    arma::mat a = W, b = W;
    a(k) += h;
    b(k) -= h;
    g(k) = (f(a) - f(b)) / (2 * h);
  }
  return g;
}

// Removes the remaining edges one at a time, smallest |w| first (the reference rule).
arma::mat to_dag_one_at_a_time(arma::mat W, double thr) {
  W.elem(arma::find(arma::abs(W) <= thr)).zeros();
  while (!is_dag(W)) {
    const arma::uvec nz = arma::find(W != 0);
    arma::uword best = nz(0);
    for (arma::uword k : nz)
      if (std::abs(W(k)) < std::abs(W(best))) best = k;
    W(best) = 0;
  }
  return W;
}

}  // namespace

TEST_CASE("score gradients equal finite differences of the profiled score") {
  sem_options o;
  o.n_nodes = 5;
  o.n_edges = 5;
  o.n_samples = 300;
  const auto sim = simulate_sem(o, 11);
  const arma::mat S = sample_cov(sim.X);
  const arma::mat W = dense_small_W(5, 3);
  const double lambda = 0.05;
  for (score_type sc : {score_type::colide_ev, score_type::colide_nv, score_type::dagma_least_squares}) {
    const arma::vec floor = sc == score_type::colide_nv ? arma::vec(5, arma::fill::value(1e-6))
                                                        : arma::vec(1, arma::fill::value(1e-6));
    // The score with sigma re-optimised at every W: by the envelope theorem its gradient
    // is the partial gradient at the optimal sigma, which evaluate_score returns.
    auto value = [&](const arma::mat& V) { return evaluate_score(S, V, sc, lambda, floor).value; };
    const arma::mat analytic = evaluate_score(S, W, sc, lambda, floor).gradient;
    const arma::mat numeric = numerical_gradient(value, W);
    CHECK(arma::abs(analytic - numeric).max() < 1e-6 * std::max(1.0, arma::abs(numeric).max()));
  }
}

TEST_CASE("acyclicity h: gradient matches finite differences; zero on DAGs, positive on cycles") {
  const arma::mat W = dense_small_W(6, 5);
  for (double s : {1.0, 0.8}) {
    auto value = [&](const arma::mat& V) { return evaluate_acyclicity(V, s).value; };
    const arma::mat numeric = numerical_gradient(value, W);
    CHECK(arma::abs(evaluate_acyclicity(W, s).gradient - numeric).max() < 1e-6);
  }
  arma::mat dag(4, 4, arma::fill::zeros);
  dag(0, 1) = 0.9;
  dag(1, 2) = -0.6;
  dag(0, 3) = 0.4;
  CHECK(std::abs(evaluate_acyclicity(dag, 1.0).value) < 1e-12);
  arma::mat cyc = dag;
  cyc(2, 0) = 0.3;  // 0 -> 1 -> 2 -> 0
  CHECK(evaluate_acyclicity(cyc, 1.0).value > 1e-4);
  arma::mat big = cyc * 5.0;  // spectral radius of W o W above 1
  CHECK_THROWS_AS(evaluate_acyclicity(big, 1.0), tessera::numerical_error);
}

TEST_CASE("closed-form noise scales: equal the residual sds computed from X and minimise the score") {
  sem_options o;
  o.n_nodes = 6;
  o.n_edges = 6;
  o.n_samples = 400;
  o.equal_variance = false;
  const auto sim = simulate_sem(o, 21);
  const arma::mat Xc = sim.X.each_row() - arma::mean(sim.X, 0);
  const arma::mat S = sample_cov(sim.X);
  const arma::mat W = dense_small_W(6, 8);
  const arma::mat resid = Xc * (arma::eye(6, 6) - W);
  const double n = 400, d = 6;
  const arma::vec tiny1(1, arma::fill::value(1e-9)), tinyd(6, arma::fill::value(1e-9));

  const score_eval ev = evaluate_score(S, W, score_type::colide_ev, 0.0, tiny1);
  CHECK(ev.sigma(0) == doctest::Approx(arma::norm(resid, "fro") / std::sqrt(n * d)).epsilon(1e-10));
  // Profiled EV score = sqrt(d / n) ||X (I - W)||_F (the square-root-lasso form).
  CHECK(ev.value == doctest::Approx(std::sqrt(d / n) * arma::norm(resid, "fro")).epsilon(1e-10));
  const score_eval nv = evaluate_score(S, W, score_type::colide_nv, 0.0, tinyd);
  for (arma::uword j = 0; j < 6; ++j)
    CHECK(nv.sigma(j) == doctest::Approx(arma::norm(resid.col(j)) / std::sqrt(n)).epsilon(1e-10));
  // The floor binds when the residual scale is below it.
  const arma::vec high(1, arma::fill::value(1e3));
  CHECK(evaluate_score(S, W, score_type::colide_ev, 0.0, high).sigma(0) == 1e3);
}

TEST_CASE("to_dag: always a DAG, equal to one-at-a-time pruning, threshold inclusive") {
  rng_engine rng = make_rng(99);
  for (int rep = 0; rep < 50; ++rep) {
    arma::mat W = draw_normal(rng, 7, 7);
    W.diag().zeros();
    const to_dag_result r = to_dag(W, 0.3);
    CHECK(is_dag(r.W));
    CHECK(arma::approx_equal(r.W, to_dag_one_at_a_time(W, 0.3), "absdiff", 0.0));
  }
  arma::mat two_cycle = {{0, 0.9}, {0.5, 0}};
  const to_dag_result r = to_dag(two_cycle, 0.3);
  CHECK(r.W(0, 1) == 0.9);
  CHECK(r.W(1, 0) == 0.0);
  CHECK(r.n_pruned == 1);
  arma::mat at_threshold = {{0, 0.3}, {0, 0}};
  CHECK(arma::accu(arma::abs(to_dag(at_threshold, 0.3).W)) == 0.0);
  CHECK_THROWS_AS(to_dag(two_cycle, -1), tessera::invalid_argument);
}

TEST_CASE("metrics: hand-worked examples") {
  // truth: a -> b, b -> c. estimate: b -> a (reversed), a -> c (extra).
  arma::mat truth(3, 3, arma::fill::zeros), est(3, 3, arma::fill::zeros);
  truth(0, 1) = 1;
  truth(1, 2) = 1;
  est(1, 0) = 1;
  est(0, 2) = 1;
  const graph_metrics m = compare_graphs(est, truth);
  CHECK(m.true_positive == 0);
  CHECK(m.reversed == 1);
  CHECK(m.false_positive == 1);
  CHECK(m.extra == 1);    // a - c
  CHECK(m.missing == 1);  // b - c
  CHECK(m.shd == 3);
  CHECK(m.fdr == doctest::Approx(1.0));
  CHECK(m.tpr == doctest::Approx(0.0));
  CHECK(m.fpr == doctest::Approx(2.0));  // (1 + 1) / (3 - 2): the reference's definition
  const graph_metrics same = compare_graphs(truth, truth);
  CHECK(same.shd == 0);
  CHECK(same.tpr == 1.0);
  CHECK(same.fdr == 0.0);
  arma::mat loop = truth;
  loop(1, 1) = 1;
  CHECK_THROWS_WITH_AS(compare_graphs(loop, truth), doctest::Contains("self-loop"), tessera::invalid_argument);
  CHECK_THROWS_AS(compare_graphs(truth, arma::mat(4, 4, arma::fill::zeros)), tessera::invalid_argument);
}

TEST_CASE("simulate_sem: DAGs, edge counts, weights and noise laws") {
  // ER: the expected number of edges is n_edges (mean over seeds within 4 SE).
  const int reps = 200;
  double total = 0, total_sq = 0;
  for (int s = 0; s < reps; ++s) {
    const arma::mat A = simulate_graph(20, 40, graph_type::erdos_renyi, s);
    CHECK(is_dag(A));
    const double e = arma::accu(A != 0);
    total += e;
    total_sq += e * e;
  }
  const double mean = total / reps, sd = std::sqrt(total_sq / reps - mean * mean);
  CHECK(std::abs(mean - 40) < 4 * sd / std::sqrt(double(reps)));
  // SF: star on m + 1 nodes, then m edges per new node.
  const arma::mat B = simulate_graph(20, 40, graph_type::scale_free, 1);
  CHECK(is_dag(B));
  CHECK(arma::accu(B != 0) == 2 + 2 * (20 - 3));

  sem_options o;
  o.n_nodes = 6;
  o.n_edges = 6;
  o.n_samples = 20000;
  o.variance = 2.0;
  for (noise_type nt : {noise_type::gaussian, noise_type::exponential, noise_type::laplace, noise_type::gumbel}) {
    o.noise = nt;
    const auto sim = simulate_sem(o, 3);
    CHECK(is_dag(sim.W));
    const arma::vec w = arma::nonzeros(arma::abs(sim.W));
    CHECK(w.min() >= 0.5);
    CHECK(w.max() <= 2.0);
    const arma::mat Z = sim.X - sim.X * sim.W;  // the noise, exactly
    for (arma::uword j = 0; j < 6; ++j) {
      // Variance v = 2 for every law (SE of a sample variance < 0.1 here for these laws).
      CHECK(std::abs(arma::var(Z.col(j)) - 2.0) < 0.15);
      const double mu = arma::mean(Z.col(j));
      if (nt == noise_type::exponential) CHECK(std::abs(mu - std::sqrt(2.0)) < 0.05);
      if (nt == noise_type::gaussian || nt == noise_type::laplace) CHECK(std::abs(mu) < 0.05);
    }
  }
  o.equal_variance = false;
  o.noise = noise_type::gaussian;
  const auto nv = simulate_sem(o, 4);
  CHECK(nv.noise_variance.min() >= 0.5);
  CHECK(nv.noise_variance.max() <= 10.0);
  CHECK(arma::approx_equal(simulate_sem(o, 4).X, nv.X, "absdiff", 0.0));  // the seed reproduces
  CHECK_THROWS_AS(simulate_graph(4, 7, graph_type::erdos_renyi, 1), tessera::invalid_argument);
}

TEST_CASE("CoLiDE and DAGMA recover simulated ER graphs (d = 10, n = 1000)") {
  // Measured over seeds 1..20 with the default schedule (tests/dag/README.md): on equal-variance
  // data CoLiDE-EV and DAGMA have SHD 0-2 (mean 0.55 and 0.35); on non-equal-variance data
  // CoLiDE-NV has median 1.5 but a heavy tail (up to 19), which the reference code reproduces
  // exactly (same SHD on the same data). Bounds on the mean over seeds 1..6: 2 (EV, DAGMA) and
  // 4 (NV), about three times the measured 20-seed means of 0.55, 0.35 and 3.9 / 1.3 (seeds 1..6).
  for (score_type sc : {score_type::colide_ev, score_type::colide_nv, score_type::dagma_least_squares}) {
    double shd = 0;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      sem_options o;
      o.n_nodes = 10;
      o.n_edges = 20;
      o.equal_variance = sc != score_type::colide_nv;
      const auto sim = simulate_sem(o, seed);
      const path_options p = sc == score_type::dagma_least_squares ? dagma_defaults() : path_options{};
      const dag_fit fit = fit_linear_dag(sim.X, sc, p);
      CHECK(fit.converged);
      CHECK(is_dag(fit.W));
      const arma::uword err = compare_graphs(fit.W, sim.W).shd;
      shd += static_cast<double>(err);
      if (sc == score_type::colide_ev) {
        // True noise sd 1; sampling error about 1 / sqrt(2 n d) = 0.007 plus L1 shrinkage bias.
        CHECK(std::abs(fit.sigma(0) - 1.0) < 0.05);
      }
      if (sc == score_type::colide_nv && err == 0) {
        // With the right graph each sd is estimated from n = 1000 residuals (SE about 2%).
        const arma::vec rel = fit.sigma / arma::sqrt(sim.noise_variance) - 1.0;
        CHECK(arma::abs(rel).max() < 0.1);
      }
    }
    CHECK(shd / 6 <= (sc == score_type::colide_nv ? 4.0 : 2.0));
  }
}

TEST_CASE("CoLiDE-EV and -NV agree with the authors' reference implementation") {
  // tests/fixtures/dag: the reference fit() on 400 x 6 data drawn with numpy.
  const std::string dir = TESSERA_FIXTURES_DIR "/dag/";
  arma::mat X;
  REQUIRE(X.load(dir + "sem_x.csv", arma::csv_ascii));
  path_options p;
  p.stages = 3;
  p.s = {1.0, 0.9, 0.8};
  p.warm_iter = 3000;
  p.max_iter = 6000;
  for (const char* name : {"ev", "nv"}) {
    arma::mat W_ref, sigma_ref;
    REQUIRE(W_ref.load(dir + "colide_" + name + "_W.csv", arma::csv_ascii));
    REQUIRE(sigma_ref.load(dir + "colide_" + name + "_sigma.csv", arma::csv_ascii));
    const dag_fit fit = fit_linear_dag(X, std::string(name) == "ev" ? score_type::colide_ev : score_type::colide_nv, p);
    // Same algorithm, same schedule: the iterates differ only by floating-point rounding
    // (tessera forms S (I - W) once per step; the reference recomputes it).
    CHECK(arma::abs(fit.W_raw - W_ref).max() < 1e-3);
    CHECK(arma::abs(fit.sigma - arma::vectorise(sigma_ref)).max() < 1e-3);
  }
}

TEST_CASE("fit: deterministic, never modifies its input, and handles edge cases") {
  const auto sim = small_sem(4, 3, 200, 8);
  const path_options p = short_path();
  const arma::mat X = sim.X;
  const dag_fit a = fit_linear_dag(X, score_type::colide_ev, p);
  const dag_fit b = fit_linear_dag(X, score_type::colide_ev, p);
  CHECK(arma::approx_equal(a.W_raw, b.W_raw, "absdiff", 0.0));
  CHECK(arma::approx_equal(X, sim.X, "absdiff", 0.0));
  CHECK(a.stages.size() == 5);
  // The returned W is inside the log-det domain of the last stage.
  arma::cx_vec eig = arma::eig_gen(a.W_raw % a.W_raw);
  CHECK(arma::abs(eig).max() < a.stages.back().s);

  // Scaling the data scales the noise estimate and leaves a scale-free score's W alone
  // (CoLiDE-EV with lambda scaled accordingly is equivariant: sqrt-lasso form).
  const dag_fit one = fit_linear_dag(arma::mat(X.col(0)), score_type::colide_nv, p);
  CHECK(one.W.n_elem == 1);
  CHECK(one.W(0, 0) == 0.0);

  arma::mat bad = X;
  bad(3, 2) = arma::datum::nan;
  CHECK_THROWS_WITH_AS(fit_linear_dag(bad, score_type::colide_ev, p), doctest::Contains("finite"),
                       tessera::invalid_argument);
  arma::mat constant = X;
  constant.col(1).fill(2.0);
  CHECK_THROWS_WITH_AS(fit_linear_dag(constant, score_type::colide_ev, p),
                       doctest::Contains("column 2 is constant"), tessera::invalid_argument);
  arma::mat collinear = X;
  collinear.col(3) = 0.5 * X.col(0) - 2.0 * X.col(1);
  CHECK_THROWS_WITH_AS(fit_linear_dag(collinear, score_type::colide_nv, p),
                       doctest::Contains("collinear"), tessera::invalid_argument);
  CHECK_THROWS_AS(fit_linear_dag(X.rows(0, 0), score_type::colide_ev, p), tessera::invalid_argument);
  path_options neg = p;
  neg.lambda = 0;
  CHECK_THROWS_WITH_AS(fit_linear_dag(X, score_type::colide_ev, neg), doctest::Contains("`lambda`"),
                       tessera::invalid_argument);
  neg = p;
  neg.threshold = -0.1;
  CHECK_THROWS_AS(fit_linear_dag(X, score_type::colide_ev, neg), tessera::invalid_argument);
  neg = p;
  neg.w_init = arma::mat(3, 3, arma::fill::zeros);
  CHECK_THROWS_WITH_AS(fit_linear_dag(X, score_type::colide_ev, neg), doctest::Contains("w_init"),
                       tessera::invalid_argument);
}

TEST_CASE("fit: the context's interrupt stops a long fit cleanly") {
  sem_options o;
  o.n_nodes = 5;
  o.n_edges = 5;
  const auto sim = simulate_sem(o, 2);
  runtime_context ctx;
  int calls = 0;
  ctx.interrupt_requested = [&] { return ++calls > 3; };
  CHECK_THROWS_AS(fit_linear_dag(sim.X, score_type::colide_ev, path_options{}, ctx), tessera::interrupted);
}

TEST_CASE("fit: scale problems, self-loops and w_init outside the domain are reported") {
  const auto sim = small_sem(4, 4, 300, 12);
  const path_options p = short_path();
  CHECK_THROWS_WITH_AS(fit_linear_dag(sim.X * 1e-200, score_type::colide_ev, p), doctest::Contains("underflow"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(fit_linear_dag(sim.X * 1e200, score_type::colide_ev, p), doctest::Contains("overflow"),
                       tessera::invalid_argument);
  // At a scale of 1e8 the score swamps h and columns regress on themselves (measured: a
  // self-loop of weight 0.998 on these data); the fit must say so.
  const dag_fit swamped = fit_linear_dag(sim.X * 1e8, score_type::colide_ev, p);
  CHECK(arma::abs(swamped.W_raw.diag()).max() > p.threshold);
  CHECK_FALSE(swamped.converged);
  CHECK(swamped.message.find("self-loop") != std::string::npos);
  path_options zd = p;
  zd.zero_diagonal = true;
  const dag_fit masked = fit_linear_dag(sim.X * 1e8, score_type::colide_ev, zd);
  CHECK(arma::abs(masked.W_raw.diag()).max() == 0.0);
  path_options far = p;
  far.w_init = arma::mat(4, 4, arma::fill::ones);
  far.w_init.diag().zeros();
  CHECK_THROWS_WITH_AS(fit_linear_dag(sim.X, score_type::colide_ev, far), doctest::Contains("log-det domain"),
                       tessera::invalid_argument);
}

TEST_CASE("simulate_sem and draws: degenerate ranges and scale-free sizes") {
  rng_engine rng = make_rng(1);
  CHECK(draw_uniform(rng, 2.0, 2.0) == 2.0);
  sem_options o;
  o.n_nodes = 5;
  o.n_edges = 4;
  o.weight_low = o.weight_high = 1.0;  // used to hang in Boost's sampler
  const auto sim = simulate_sem(o, 3);
  CHECK(arma::all(arma::nonzeros(arma::abs(sim.W)) == 1.0));
  o.nv_low = 0;  // unused with equal variances: accepted
  CHECK_NOTHROW(simulate_sem(o, 3));
  CHECK_THROWS_WITH_AS(simulate_graph(10, 4, graph_type::scale_free, 1), doctest::Contains("at least n_nodes / 2"),
                       tessera::invalid_argument);
  CHECK(arma::accu(simulate_graph(10, 0, graph_type::scale_free, 1)) == 0.0);
}
