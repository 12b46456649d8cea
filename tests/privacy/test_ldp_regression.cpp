// Sparse LDP regression: calibration, client/server, estimators against known truth, bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "tessera/common/error.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/privacy/ldp_regression.hpp"

using namespace tessera::privacy;

namespace {
struct sim {
  arma::mat X;
  arma::vec y, theta;
};
// x ~ N(0, I_d), theta* with k entries, y = x theta* + noise_sd * N(0, 1).
sim simulate(arma::uword n, arma::uword d, const arma::vec& theta_k, double noise_sd, std::uint64_t seed) {
  auto rng = tessera::make_rng(seed);
  sim s;
  s.X = tessera::draw_normal(rng, n, d);
  s.theta = arma::zeros(d);
  for (arma::uword j = 0; j < theta_k.n_elem; ++j) s.theta(2 * j) = theta_k(j);
  s.y = s.X * s.theta + noise_sd * tessera::draw_normal(rng, n, 1);
  return s;
}

noninteractive_config base_config(arma::uword d) {
  noninteractive_config c;
  c.d = d;
  c.b.tau_x = 3;
  c.b.tau_y = 4;
  c.epsilon = 1;
  c.delta = 1e-6;
  return c;
}
}  // namespace

TEST_CASE("pack/unpack and thresholding") {
  arma::mat a = {{1, 2, 3}, {2, 5, 6}, {3, 6, 9}};
  const arma::vec p = pack_upper(a);
  CHECK(p.n_elem == 6u);
  CHECK(arma::approx_equal(p, arma::vec{1, 2, 5, 3, 6, 9}, "absdiff", 0));
  CHECK(arma::approx_equal(unpack_upper(p, 3), a, "absdiff", 0));
  const arma::vec u = {-2.0, -0.5, 0.0, 0.3, 1.5};
  CHECK(arma::approx_equal(threshold(u, 1.0, thresholding::soft), arma::vec{-1.0, 0, 0, 0, 0.5}, "absdiff", 1e-15));
  CHECK(arma::approx_equal(threshold(u, 1.0, thresholding::hard), arma::vec{-2.0, 0, 0, 0, 1.5}, "absdiff", 0));
  CHECK(arma::approx_equal(threshold(u, 1.0, thresholding::none), u, "absdiff", 0));
}

TEST_CASE("non-interactive noise scales are the note's formulas") {
  const double tx = 1.5, ty = 2.0, eps = 1.6, delta = 1e-5;  // eps/2 = 0.8 per message: classic
  for (arma::uword d : {1u, 4u, 10u}) {
    noninteractive_config c;
    c.d = d;
    c.b.tau_x = tx;
    c.b.tau_y = ty;
    c.epsilon = eps;
    c.delta = delta;
    c.secure = false;  // no grid inflation: the bare formulas
    const noninteractive_client cl(c);
    const double dd = double(d);
    CHECK(cl.cov_noise_sd() * cl.cov_noise_sd() ==
          doctest::Approx(32 * dd * dd * std::pow(tx, 4) * std::log(2.5 / delta) / (eps * eps)).epsilon(1e-12));
    CHECK(cl.xy_noise_sd() * cl.xy_noise_sd() ==
          doctest::Approx(32 * dd * tx * tx * ty * ty * std::log(2.5 / delta) / (eps * eps)).epsilon(1e-12));
    // Secure noise: within 0.1% of the formula.
    c.secure = true;
    const noninteractive_client cs(c);
    CHECK(cs.cov_noise_sd() / cl.cov_noise_sd() >= 1.0);
    CHECK(cs.cov_noise_sd() / cl.cov_noise_sd() <= 1.0 + 1.0 / 1024);
    // Public variant: the whole budget on x y: sigma2^2 = 8 d tau_x^2 tau_y^2 ln(1.25/delta)/eps^2.
    c.public_covariates = true;
    c.secure = false;
    c.epsilon = 0.7;
    const noninteractive_client cp(c);
    CHECK(cp.xy_noise_sd() * cp.xy_noise_sd() ==
          doctest::Approx(8 * dd * tx * tx * ty * ty * std::log(1.25 / delta) / (0.7 * 0.7)).epsilon(1e-12));
    CHECK(cp.cov_noise_sd() == 0.0);
  }
  // Laplace: b = Delta1 / eps_message with the l1 diameters d^2 tau_x^2 and 2 d tau_x tau_y.
  noninteractive_config c = base_config(3);
  c.mechanism = noise_mechanism::laplace;
  c.delta = 0;
  c.secure = false;
  const noninteractive_client cl(c);
  CHECK(cl.cov_noise_sd() == doctest::Approx(std::sqrt(2.0) * 9 * 9 / 0.5));
  CHECK(cl.xy_noise_sd() == doctest::Approx(std::sqrt(2.0) * 2 * 3 * 3 * 4 / 0.5));
  CHECK(cl.guarantee(true).delta == 0.0);
  // An l2 radius on x lowers the sensitivities.
  noninteractive_config cr = base_config(10);
  cr.b.x_radius = 2.0;
  const noninteractive_client ccr(cr);
  CHECK(ccr.cov_sensitivity() == doctest::Approx(8.0));
  CHECK(ccr.xy_sensitivity() == doctest::Approx(16.0));
}

TEST_CASE("reports are unbiased, use distinct noise per user, and sums merge exactly in any order") {
  noninteractive_config c = base_config(3);
  c.epsilon = 4;
  const noninteractive_client cl(c);
  const arma::vec x = {0.5, -4.0, 1.0};  // second coordinate truncated to -3
  const double y = 5.0;                  // truncated to 4
  const arma::vec xb = {0.5, -3.0, 1.0};
  const int n = 20000;
  noninteractive_sums all(3, true);
  std::set<std::vector<double>> distinct;
  std::vector<noninteractive_report> reps;
  for (int i = 0; i < n; ++i) {
    noise_source s = noise_source::seeded(9, i, 0);
    reps.push_back(cl.report(x, y, s));
    all.add(reps.back());
    std::vector<double> key(reps.back().xy.begin(), reps.back().xy.end());
    key.insert(key.end(), reps.back().cov_upper.begin(), reps.back().cov_upper.end());
    distinct.insert(key);
  }
  CHECK(distinct.size() == static_cast<std::size_t>(n));  // no noise reused across users
  const arma::vec cov_mean = all.cov_upper / all.n, xy_mean = all.xy / all.n;
  const arma::vec cov_true = pack_upper(xb * xb.t()), xy_true = xb * 4.0;
  CHECK(arma::abs(cov_mean - cov_true).max() < 4.5 * cl.cov_noise_sd() / std::sqrt(double(n)));
  CHECK(arma::abs(xy_mean - xy_true).max() < 4.5 * cl.xy_noise_sd() / std::sqrt(double(n)));
  // Any chunking and order: bit-identical sums.
  noninteractive_sums a(3, true), b(3, true), rev(3, true);
  for (int i = 0; i < n; ++i) (i % 3 == 0 ? a : b).add(reps[i]);
  for (int i = n - 1; i >= 0; --i) rev.add(reps[i]);
  noninteractive_sums ab = b;
  ab.merge(a);
  CHECK(arma::all(ab.cov_upper == all.cov_upper));
  CHECK(arma::all(ab.xy == all.xy));
  CHECK(arma::all(rev.cov_upper == all.cov_upper));
  CHECK(ab.n == all.n);
  // ldp_report on its own gives the same message as the client.
  noise_source s1 = noise_source::seeded(9, 5, 0), s2 = noise_source::seeded(9, 5, 0);
  CHECK(arma::all(ldp_report(x, y, c, s1).xy == cl.report(x, y, s2).xy));
  CHECK_THROWS_AS(all.merge(noninteractive_sums(4, true)), tessera::invalid_argument);
}

TEST_CASE("non-interactive estimator recovers a sparse theta within its noise level") {
  const arma::uword d = 4;
  const sim s = simulate(300000, d, arma::vec{0.8, -0.6}, 0.5, 1);
  noninteractive_options o;
  o.privacy = base_config(d);
  o.privacy.epsilon = 16;
  o.seed = 5;
  const sparse_fit f = fit_noninteractive(s.X, s.y, o);
  CHECK(f.method == "noninteractive");
  CHECK(f.covariance_pd);
  CHECK(f.guarantee.messages_per_user == 1);
  CHECK(f.guarantee.seeded);
  // First-order error: Sigma^-1 (N2_bar - N1_bar theta), coordinates with sd
  // sqrt(sd2^2 + sd1^2 ||theta||^2 (1 + theta_j^2/||theta||^2)) / sqrt(n) (Sigma ~ I).
  const double n = double(s.X.n_rows), th2 = arma::dot(s.theta, s.theta);
  const double sd = std::sqrt((f.xy_noise_sd * f.xy_noise_sd + 2 * f.cov_noise_sd * f.cov_noise_sd * th2) / n);
  CAPTURE(sd);
  CAPTURE(f.theta_unthresholded);
  CHECK(arma::abs(f.theta_unthresholded - s.theta).max() < 4.5 * sd + 0.02);  // 0.02: truncation bias
  // Soft thresholding at the default lambda removes the null coordinates and moves the
  // others by exactly lambda.
  CHECK(arma::all(f.support == arma::uvec{0, 2}));
  for (arma::uword j : f.support) CHECK(std::abs(f.theta(j) - f.theta_unthresholded(j)) == doctest::Approx(f.lambda));
  // Seeded runs repeat exactly; OS-seeded runs do not.
  const arma::mat Xs = s.X.rows(0, 59999);
  const arma::vec ys = s.y.subvec(0, 59999);
  o.estimator.policy = not_pd_policy::eigen_floor;
  const sparse_fit a = fit_noninteractive(Xs, ys, o), b = fit_noninteractive(Xs, ys, o);
  CHECK(arma::all(a.theta_unthresholded == b.theta_unthresholded));
  o.seed.reset();
  const sparse_fit c = fit_noninteractive(Xs, ys, o), e = fit_noninteractive(Xs, ys, o);
  CHECK_FALSE(c.guarantee.seeded);
  CHECK(arma::any(c.theta_unthresholded != e.theta_unthresholded));
}

TEST_CASE("public-covariates variant and the non-private by-product") {
  const arma::uword d = 6;
  const sim s = simulate(100000, d, arma::vec{0.7, 0.5, -0.4}, 0.5, 2);
  const sim pub = simulate(5000, d, arma::vec{0.0}, 1.0, 3);
  noninteractive_options o;
  o.privacy = base_config(d);
  o.privacy.epsilon = 2;
  o.seed = 8;
  const sparse_fit f = fit_public(s.X, s.y, pub.X, o);
  CHECK(f.method == "public");
  CHECK(f.cov_noise_sd == 0.0);
  // Error ~ Sigma_hat^-1 N2_bar: sd2/sqrt(n) per coordinate, Sigma_hat from 5000 public rows.
  const double sd = f.xy_noise_sd / std::sqrt(double(s.X.n_rows));
  CAPTURE(sd);
  CHECK(arma::abs(f.theta_unthresholded - s.theta).max() < 4.5 * sd + 0.05);
  // By-product: classical regime, known truth, error at the OLS rate.
  const sim t = simulate(20000, 10, arma::vec{1.0, -0.5, 0.25}, 1.0, 4);
  bounds b;
  b.tau_x = 5;
  b.tau_y = 10;
  const sparse_fit g = fit_truncated_byproduct(t.X, t.y, b);
  CHECK(arma::abs(g.theta_unthresholded - t.theta).max() < 4.5 / std::sqrt(20000.0));
  CHECK(arma::all(g.support == arma::uvec{0, 2, 4}));
  // Hard thresholding keeps the surviving entries unchanged.
  estimator_options eo;
  eo.rule = thresholding::hard;
  eo.lambda = 0.1;
  const sparse_fit h = fit_truncated_byproduct(t.X, t.y, b, eo);
  for (arma::uword j : h.support) CHECK(h.theta(j) == h.theta_unthresholded(j));
}

TEST_CASE("too few users: the error says how many are needed; eigen_floor is recorded") {
  const arma::uword d = 8;
  const sim s = simulate(2000, d, arma::vec{0.5}, 0.5, 5);
  noninteractive_options o;
  o.privacy = base_config(d);
  o.seed = 1;
  CHECK_THROWS_WITH_AS(fit_noninteractive(s.X, s.y, o), doctest::Contains("users are needed"),
                       tessera::invalid_argument);
  o.estimator.policy = not_pd_policy::eigen_floor;
  const sparse_fit f = fit_noninteractive(s.X, s.y, o);
  CHECK_FALSE(f.covariance_pd);
  CHECK(f.eigenvalues_floored >= 1u);
  CHECK(f.message.find("eigen_floor") != std::string::npos);
  CHECK(f.n_users_needed > 2000);
  const arma::vec ev = arma::eig_sym(f.sigma_hat);
  CHECK(ev.min() > 0);
  CHECK(arma::all(arma::abs(f.theta) < arma::datum::inf));
}

TEST_CASE("IHT server step and the interactive estimator") {
  // H_k' keeps the k' largest |entries| of theta - eta * mean, then projects to the ball.
  gradient_sums gs(4);
  gs.add(arma::vec{-2.0, 0.2, 1.0, 0.0});
  gs.add(arma::vec{-2.0, 0.0, 1.0, 0.2});
  const arma::vec th = iht_update(arma::vec{0.1, 0.0, 0.0, 0.0}, gs, 0.5, 2, 10.0);
  CHECK(arma::approx_equal(th, arma::vec{1.1, 0.0, -0.5, 0.0}, "absdiff", 1e-15));
  const arma::vec thp = iht_update(arma::vec{0.1, 0.0, 0.0, 0.0}, gs, 0.5, 2, 1.0);
  CHECK(arma::norm(thp) == doctest::Approx(1.0));
  CHECK(thp(0) / thp(2) == doctest::Approx(-1.1 / 0.5));
  // The radius of the note: sqrt(d) tau_x (sqrt(k') tau_x R + tau_y).
  interactive_config ic;
  ic.d = 5;
  ic.b.tau_x = 1.5;
  ic.b.tau_y = 2;
  ic.epsilon = 8;
  ic.sparsity = 2;
  CHECK(interactive_radius(ic) == doctest::Approx(std::sqrt(5.0) * 1.5 * (std::sqrt(2.0) * 1.5 + 2)));
  // A hostile theta cannot break the bound: the report still has norm B.
  const interactive_client cl(ic);
  noise_source src = noise_source::seeded(1, 0, 1);
  const arma::vec rep = cl.report(arma::vec{9, 9, 9, 9, 9}, 9, arma::vec{100, 100, 100, 100, 100}, src);
  CHECK(arma::norm(rep) == doctest::Approx(cl.mechanism().output_norm()));
  // Known truth: d = 5, theta* = (0.8, 0, -0.6, 0, 0).
  const sim s = simulate(300000, 5, arma::vec{0.8, -0.6}, 0.3, 6);
  interactive_options o;
  o.privacy = ic;
  o.seed = 3;
  const sparse_fit f = fit_interactive(s.X, s.y, o);
  CHECK(f.rounds == static_cast<arma::uword>(std::ceil(std::log(300000.0))));
  CHECK(f.guarantee.delta == 0.0);
  CAPTURE(f.theta);
  CHECK(arma::all(f.support == arma::uvec{0, 2}));
  // Last round's noise: B / sqrt(d m) per coordinate (Duchi output norm B spread over d
  // coordinates, averaged over m users), on k' coordinates; 3 sd.
  const double noise = f.duchi_norm / std::sqrt(5.0 * double(f.group_size));
  CHECK(arma::norm(f.theta - s.theta) < 3 * std::sqrt(2.0) * noise);
}

TEST_CASE("regression entry points reject bad input with named arguments") {
  const sim s = simulate(50, 3, arma::vec{0.5}, 0.5, 7);
  noninteractive_options o;
  o.privacy = base_config(3);
  o.estimator.policy = not_pd_policy::eigen_floor;
  auto bad = [&](auto mutate, const char* text) {
    noninteractive_options oo = o;
    mutate(oo);
    CHECK_THROWS_WITH_AS(fit_noninteractive(s.X, s.y, oo), doctest::Contains(text), tessera::invalid_argument);
  };
  bad([](noninteractive_options& x) { x.privacy.b.tau_x = 0; }, "tau_x");
  bad([](noninteractive_options& x) { x.privacy.b.tau_y = -1; }, "tau_y");
  bad([](noninteractive_options& x) { x.privacy.b.tau_x = NAN; }, "tau_x");
  bad([](noninteractive_options& x) { x.privacy.epsilon = 0; }, "epsilon");
  bad([](noninteractive_options& x) { x.privacy.epsilon = INFINITY; }, "epsilon");
  bad([](noninteractive_options& x) { x.privacy.delta = 0; }, "delta");
  bad([](noninteractive_options& x) { x.privacy.delta = 1; }, "delta");
  bad([](noninteractive_options& x) { x.privacy.covariance_share = 1; }, "covariance_share");
  bad([](noninteractive_options& x) {
    x.privacy.calibration = gaussian_calibration::classic;
    x.privacy.epsilon = 4;
  }, "classic");
  arma::mat Xn = s.X;
  Xn(2, 1) = NAN;
  CHECK_THROWS_WITH_AS(fit_noninteractive(Xn, s.y, o), doctest::Contains("finite"), tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(fit_noninteractive(s.X, arma::vec(49, arma::fill::zeros), o), doctest::Contains("`y`"),
                       tessera::invalid_argument);
  CHECK_THROWS_WITH_AS(fit_public(s.X, s.y, arma::mat(2, 3, arma::fill::randn), o), doctest::Contains("x_public"),
                       tessera::invalid_argument);
  bounds b;
  b.tau_x = 1;
  b.tau_y = 1;
  CHECK_THROWS_WITH_AS(fit_truncated_byproduct(s.X.rows(0, 2), s.y.subvec(0, 2), b), doctest::Contains("n > d"),
                       tessera::invalid_argument);
  interactive_options io;
  io.privacy.b = b;
  io.privacy.epsilon = 1;
  io.privacy.sparsity = 4;  // k' > d = 3
  CHECK_THROWS_WITH_AS(fit_interactive(s.X, s.y, io), doctest::Contains("sparsity"), tessera::invalid_argument);
  io.privacy.sparsity = 1;
  io.rounds = 60;  // more rounds than users
  CHECK_THROWS_WITH_AS(fit_interactive(s.X, s.y, io), doctest::Contains("users"), tessera::invalid_argument);
}
