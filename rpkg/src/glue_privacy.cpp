// Rcpp glue for core/privacy. Argument checking that needs R types lives in R/privacy.R;
// everything else (bounds, epsilon, delta, dimensions) is validated by the core.
#include "glue.h"

#include <optional>

#include "tessera/common/validate.hpp"
#include "tessera/privacy/ldp_regression.hpp"

namespace tp = tessera::privacy;

namespace {

std::optional<std::uint64_t> parse_seed(Rcpp::Nullable<Rcpp::NumericVector> seed) {
  if (seed.isNull()) return std::nullopt;
  return static_cast<std::uint64_t>(Rcpp::NumericVector(seed.get())[0]);
}

tp::gaussian_calibration parse_calibration(const std::string& s) {
  if (s == "classic") return tp::gaussian_calibration::classic;
  if (s == "analytic") return tp::gaussian_calibration::analytic;
  return tp::gaussian_calibration::automatic;
}

tp::thresholding parse_threshold(const std::string& s) {
  if (s == "hard") return tp::thresholding::hard;
  if (s == "none") return tp::thresholding::none;
  return tp::thresholding::soft;
}

using tessera_r::option;

// The data-independent bounds, from the R settings list `p` (both protocols).
tp::bounds parse_bounds(const Rcpp::List& p) {
  return {option<double>(p, "tau_x"), option<double>(p, "tau_y"), option<double>(p, "x_radius")};
}

// The protocol settings shared by users and server, from the R list `p`.
tp::noninteractive_config parse_config(const Rcpp::List& p, arma::uword d, bool public_covariates) {
  tp::noninteractive_config c;
  c.d = d;
  c.b = parse_bounds(p);
  c.epsilon = option<double>(p, "epsilon");
  c.delta = option<double>(p, "delta");
  c.mechanism = option<std::string>(p, "mechanism") == "laplace" ? tp::noise_mechanism::laplace
                                                                 : tp::noise_mechanism::gaussian;
  c.calibration = parse_calibration(option<std::string>(p, "calibration"));
  c.covariance_share = option<double>(p, "covariance_share");
  c.secure = option<bool>(p, "secure");
  c.public_covariates = public_covariates;
  return c;
}

tp::estimator_options parse_estimator(const Rcpp::List& p) {
  tp::estimator_options o;
  o.lambda = option<double>(p, "lambda");
  o.rule = parse_threshold(option<std::string>(p, "threshold"));
  o.policy = option<std::string>(p, "not_pd") == "eigen_floor" ? tp::not_pd_policy::eigen_floor
                                                               : tp::not_pd_policy::fail;
  o.eigen_floor = option<double>(p, "eigen_floor");
  o.theta_norm = option<double>(p, "theta_norm");
  o.kappa = option<double>(p, "kappa");
  return o;
}

Rcpp::NumericVector as_r(const arma::vec& v) { return Rcpp::NumericVector(v.begin(), v.end()); }

Rcpp::List guarantee_list(const tp::privacy_guarantee& g) {
  return Rcpp::List::create(
      Rcpp::Named("epsilon") = g.epsilon, Rcpp::Named("delta") = g.delta,
      Rcpp::Named("messages_per_user") = g.messages_per_user, Rcpp::Named("mechanism") = g.mechanism,
      Rcpp::Named("secure_noise") = g.secure_noise, Rcpp::Named("seeded") = g.seeded,
      Rcpp::Named("delta_slack") = g.delta_slack, Rcpp::Named("budget_split") = g.budget_split,
      Rcpp::Named("statement") = g.statement());
}

Rcpp::List fit_list(const tp::sparse_fit& f) {
  Rcpp::IntegerVector support(f.support.n_elem);
  for (arma::uword j = 0; j < f.support.n_elem; ++j) support[j] = static_cast<int>(f.support(j)) + 1;
  return Rcpp::List::create(
      Rcpp::Named("coefficients") = as_r(f.theta),
      Rcpp::Named("coefficients_unthresholded") = as_r(f.theta_unthresholded),
      Rcpp::Named("support") = support, Rcpp::Named("lambda") = f.lambda,
      Rcpp::Named("threshold") = tp::to_string(f.rule), Rcpp::Named("sigma_hat") = f.sigma_hat,
      Rcpp::Named("s_hat") = as_r(f.s_hat), Rcpp::Named("covariance_pd") = f.covariance_pd,
      Rcpp::Named("eigenvalues_floored") = static_cast<double>(f.eigenvalues_floored),
      Rcpp::Named("n_users") = f.n_users, Rcpp::Named("n_users_needed") = f.n_users_needed,
      Rcpp::Named("noise_sd") = Rcpp::NumericVector::create(Rcpp::Named("covariance") = f.cov_noise_sd,
                                                            Rcpp::Named("xy") = f.xy_noise_sd),
      Rcpp::Named("sensitivity") = Rcpp::NumericVector::create(Rcpp::Named("covariance") = f.cov_sensitivity,
                                                               Rcpp::Named("xy") = f.xy_sensitivity),
      Rcpp::Named("interactive") = Rcpp::List::create(
          Rcpp::Named("rounds") = static_cast<double>(f.rounds),
          Rcpp::Named("group_size") = static_cast<double>(f.group_size),
          Rcpp::Named("sparsity") = static_cast<double>(f.sparsity), Rcpp::Named("step") = f.step,
          Rcpp::Named("duchi_radius") = f.duchi_radius, Rcpp::Named("duchi_norm") = f.duchi_norm,
          Rcpp::Named("theta_radius") = f.theta_radius),
      Rcpp::Named("guarantee") = guarantee_list(f.guarantee), Rcpp::Named("message") = f.message);
}

}  // namespace

// [[Rcpp::export(.ldp_fit_cpp)]]
Rcpp::List ldp_fit_cpp(const arma::mat& x, const arma::vec& y, Rcpp::Nullable<Rcpp::NumericMatrix> x_public,
                       const std::string& method, Rcpp::List p, Rcpp::Nullable<Rcpp::NumericVector> seed,
                       bool verbose) {
  TESSERA_GLUE_BEGIN
  tessera_r::progress_bar bar(verbose, "Running the LDP protocol");
  const tessera::runtime_context ctx = tessera_r::r_context(false, &bar);
  if (method == "interactive") {
    tp::interactive_options o;
    o.privacy.b = parse_bounds(p);
    o.privacy.epsilon = option<double>(p, "epsilon");
    o.privacy.sparsity = static_cast<arma::uword>(option<double>(p, "sparsity"));
    o.privacy.theta_radius = option<double>(p, "theta_radius");
    o.rounds = static_cast<arma::uword>(option<double>(p, "rounds"));
    o.step = option<double>(p, "step");
    o.seed = parse_seed(seed);
    return fit_list(tp::fit_interactive(x, y, o, ctx));
  }
  tp::noninteractive_options o;
  o.privacy = parse_config(p, x.n_cols, method == "public");
  o.estimator = parse_estimator(p);
  o.seed = parse_seed(seed);
  if (method == "public") {
    const arma::mat xp = Rcpp::as<arma::mat>(x_public.get());
    return fit_list(tp::fit_public(x, y, xp, o, ctx));
  }
  return fit_list(tp::fit_noninteractive(x, y, o, ctx));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.ldp_byproduct_cpp)]]
Rcpp::List ldp_byproduct_cpp(const arma::mat& x, const arma::vec& y, Rcpp::List p) {
  TESSERA_GLUE_BEGIN
  return fit_list(tp::fit_truncated_byproduct(x, y, parse_bounds(p), parse_estimator(p)));
  TESSERA_GLUE_END
}

// One release per row of x (one user each), user i's stream is (seed, first_user + i, round).
// [[Rcpp::export(.ldp_mechanism_cpp)]]
Rcpp::List ldp_mechanism_cpp(const arma::mat& x, const std::string& kind, double bound, double epsilon,
                             double delta, const std::string& calibration, bool secure,
                             Rcpp::Nullable<Rcpp::NumericVector> seed) {
  TESSERA_GLUE_BEGIN
  const auto s = parse_seed(seed);
  tp::noise_source os = tp::noise_source::os_entropy();
  arma::mat out(x.n_rows, x.n_cols);
  Rcpp::List info;
  auto run = [&](auto&& release) {
    for (arma::uword i = 0; i < x.n_rows; ++i) {
      if (s) {
        tp::noise_source src = tp::noise_source::seeded(*s, i, 0);
        out.row(i) = release(x.row(i).t(), src).t();
      } else {
        out.row(i) = release(x.row(i).t(), os).t();
      }
    }
  };
  if (kind == "gaussian") {
    const tp::gaussian_mechanism m(bound, x.n_cols, epsilon, delta, parse_calibration(calibration), secure);
    run([&](const arma::vec& v, tp::noise_source& src) { return m.release(v, src); });
    info = Rcpp::List::create(Rcpp::Named("sd") = m.sigma(), Rcpp::Named("grid") = m.grid(),
                              Rcpp::Named("effective_sensitivity") = m.effective_sensitivity(),
                              Rcpp::Named("calibration") = tp::to_string(m.calibration_used()),
                              Rcpp::Named("delta_slack") = m.delta_slack());
  } else if (kind == "laplace") {
    const tp::laplace_mechanism m(bound, x.n_cols, epsilon, secure);
    run([&](const arma::vec& v, tp::noise_source& src) { return m.release(v, src); });
    info = Rcpp::List::create(Rcpp::Named("scale") = m.scale(), Rcpp::Named("grid") = m.grid(),
                              Rcpp::Named("effective_sensitivity") = m.effective_sensitivity());
  } else {
    const tp::duchi_mechanism m(bound, x.n_cols, epsilon);
    run([&](const arma::vec& v, tp::noise_source& src) { return m.release(v, src); });
    info = Rcpp::List::create(Rcpp::Named("output_norm") = m.output_norm(),
                              Rcpp::Named("agree_probability") = m.agree_probability());
  }
  return Rcpp::List::create(Rcpp::Named("out") = out, Rcpp::Named("info") = info);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.ldp_sigma_cpp)]]
double ldp_sigma_cpp(double sensitivity, double epsilon, double delta, const std::string& calibration) {
  TESSERA_GLUE_BEGIN
  return calibration == "classic" ? tp::classic_gaussian_sigma(sensitivity, epsilon, delta)
                                  : tp::analytic_gaussian_sigma(sensitivity, epsilon, delta);
  TESSERA_GLUE_END
}

// The reports of the users in the rows of x (non-interactive protocol).
// [[Rcpp::export(.ldp_report_cpp)]]
Rcpp::List ldp_report_cpp(const arma::mat& x, const arma::vec& y, Rcpp::List p, bool public_covariates,
                          Rcpp::Nullable<Rcpp::NumericVector> seed, double first_user) {
  TESSERA_GLUE_BEGIN
  const tp::noninteractive_client client(parse_config(p, x.n_cols, public_covariates));
  const auto s = parse_seed(seed);
  tp::noise_source os = tp::noise_source::os_entropy();
  const arma::uword m = public_covariates ? 0 : x.n_cols * (x.n_cols + 1) / 2;
  arma::mat cov(x.n_rows, m), xy(x.n_rows, x.n_cols);
  for (arma::uword i = 0; i < x.n_rows; ++i) {
    std::optional<tp::noise_source> own;
    if (s) own.emplace(tp::noise_source::seeded(*s, static_cast<std::uint64_t>(first_user) + i, 0));
    const tp::noninteractive_report r = client.report(x.row(i).t(), y(i), own ? *own : os);
    if (m > 0) cov.row(i) = r.cov_upper.t();
    xy.row(i) = r.xy.t();
  }
  return Rcpp::List::create(Rcpp::Named("cov_upper") = cov, Rcpp::Named("xy") = xy,
                            Rcpp::Named("noise_sd") = Rcpp::NumericVector::create(
                                Rcpp::Named("covariance") = client.cov_noise_sd(),
                                Rcpp::Named("xy") = client.xy_noise_sd()),
                            Rcpp::Named("guarantee") = guarantee_list(client.guarantee(s.has_value())));
  TESSERA_GLUE_END
}

// The server's estimate from aggregated sums.
// [[Rcpp::export(.ldp_estimate_cpp)]]
Rcpp::List ldp_estimate_cpp(const arma::vec& cov_sum, const arma::vec& xy_sum, double n, Rcpp::List p,
                            Rcpp::Nullable<Rcpp::NumericMatrix> x_public, bool seeded) {
  TESSERA_GLUE_BEGIN
  const bool pub = x_public.isNotNull();
  const tp::noninteractive_client client(parse_config(p, xy_sum.n_elem, pub));
  tp::noninteractive_sums sums(xy_sum.n_elem, !pub);
  tessera::require(pub || cov_sum.n_elem == sums.cov_upper.n_elem,
                   "the covariance sums have the wrong length for d = " + std::to_string(xy_sum.n_elem) + ".");
  if (!pub) sums.cov_upper = cov_sum;
  sums.xy = xy_sum;
  sums.n = n;
  tp::sparse_fit f = pub ? tp::estimate_public(sums, Rcpp::as<arma::mat>(x_public.get()), client, parse_estimator(p))
                         : tp::estimate_noninteractive(sums, client, parse_estimator(p));
  f.guarantee = client.guarantee(seeded);
  return fit_list(f);
  TESSERA_GLUE_END
}
