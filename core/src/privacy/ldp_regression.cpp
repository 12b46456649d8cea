#include "tessera/privacy/ldp_regression.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "tessera/common/error.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::privacy {

std::string to_string(noise_mechanism m) {
  return m == noise_mechanism::gaussian ? "gaussian" : "laplace";
}

std::string to_string(thresholding t) {
  static const char* const names[] = {"soft", "hard", "none"};  // the enum's order
  return names[static_cast<int>(t)];
}

std::string privacy_guarantee::statement() const {
  std::ostringstream os;
  os << "Each user's (x, y) is protected by (" << format_number(epsilon) << ", "
     << format_number(delta) << ")-local differential privacy";
  if (delta == 0) os << " (pure epsilon)";
  os << ": " << messages_per_user << " message" << (messages_per_user == 1 ? "" : "s")
     << " per user, " << mechanism << " mechanism";
  if (!budget_split.empty()) os << " (" << budget_split << ")";
  if (secure_noise) os << ", discrete noise on a power-of-two grid";
  if (delta_slack > 0) os << " (discrete-Gaussian slack " << format_number(delta_slack) << ")";
  os << (seeded ? "; noise from a seeded stream (reproducible simulation, not for deployment)."
                : "; noise from the operating system's secure generator.");
  return os.str();
}

// ---------------------------------------------------------------- bounds
void check_bounds(const bounds& b) {
  check_sensitivity(b.tau_x, "tau_x");
  check_sensitivity(b.tau_y, "tau_y");
  require(std::isfinite(b.x_radius) && b.x_radius >= 0,
          "`x_radius` must be 0 (unused) or a positive finite l2 radius, not " +
              format_number(b.x_radius) + ".");
}

arma::vec truncate_x(const arma::vec& x, const bounds& b) {
  arma::vec out = arma::clamp(x, -b.tau_x, b.tau_x);
  if (b.x_radius > 0) {
    const double nrm = arma::norm(out, 2);
    if (nrm > b.x_radius) out *= b.x_radius / nrm;
  }
  return out;
}

double truncate_y(double y, const bounds& b) { return std::clamp(y, -b.tau_y, b.tau_y); }

// ---------------------------------------------------------------- helpers
arma::vec pack_upper(const arma::mat& a) {
  const arma::uword d = a.n_rows;
  arma::vec v(d * (d + 1) / 2);
  arma::uword k = 0;
  for (arma::uword j = 0; j < d; ++j)
    for (arma::uword i = 0; i <= j; ++i) v(k++) = a(i, j);
  return v;
}

arma::mat unpack_upper(const arma::vec& v, arma::uword d) {
  arma::mat a(d, d);
  arma::uword k = 0;
  for (arma::uword j = 0; j < d; ++j)
    for (arma::uword i = 0; i <= j; ++i) { a(i, j) = v(k); a(j, i) = v(k); ++k; }
  return a;
}

arma::vec threshold(const arma::vec& u, double lambda, thresholding rule) {
  arma::vec out = u;
  if (rule == thresholding::none) return out;
  for (double& x : out) {
    if (rule == thresholding::soft) x = (x > 0 ? 1.0 : -1.0) * std::max(std::abs(x) - lambda, 0.0);
    else if (std::abs(x) <= lambda) x = 0.0;
  }
  return out;
}

namespace {

void check_share(double share) {
  require(std::isfinite(share) && share > 0 && share < 1,
          "`covariance_share` (the budget fraction of the covariance message) must lie strictly "
          "between 0 and 1, not " + format_number(share) + ".");
}

void check_data(const arma::mat& X, const arma::vec& y, const std::string& xname = "x") {
  require(X.n_rows >= 1 && X.n_cols >= 1, "`" + xname + "` must have at least one row and one column.");
  require(y.n_elem == X.n_rows, "`y` has length " + std::to_string(y.n_elem) + " but `" + xname +
                                    "` has " + std::to_string(X.n_rows) + " rows: give one response per user.");
  check_finite(X, xname);
  check_finite(y, "y");
}

void check_estimator(const estimator_options& o) {
  require(std::isfinite(o.lambda), "`lambda` must be finite (negative for the default).");
  check_positive(o.eigen_floor, "eigen_floor");
  check_positive(o.theta_norm, "theta_norm");
  check_positive(o.kappa, "kappa");
}

// The noise of user `user` in round `round`: its own seeded stream, or the shared OS
// generator (fresh entropy for every draw, so sharing it correlates nothing).
class user_streams {
 public:
  explicit user_streams(const std::optional<std::uint64_t>& seed)
      : seed_(seed), os_(noise_source::os_entropy()) {}
  noise_source& operator()(std::uint64_t user, std::uint64_t round) {
    if (!seed_) return os_;
    current_ = noise_source::seeded(*seed_, user, round);
    return *current_;
  }
 private:
  std::optional<std::uint64_t> seed_;
  noise_source os_;
  std::optional<noise_source> current_;
};

double users_needed(double cov_sd, arma::uword d, double kappa) {
  return std::ceil(4.0 * cov_sd * cov_sd * static_cast<double>(d) / (kappa * kappa));
}

std::string users_needed_text(double n, double needed, arma::uword d, double cov_sd, double kappa) {
  std::ostringstream os;
  os << "with n = " << format_number(n) << " users and d = " << d
     << " the privacy noise of the averaged covariance has spectral norm about 2 sd sqrt(d/n) = "
     << format_number(2.0 * cov_sd * std::sqrt(static_cast<double>(d) / n))
     << " (sd = " << format_number(cov_sd) << " per entry), above kappa = " << format_number(kappa)
     << " (the assumed smallest eigenvalue of Cov(x)): at least " << format_number(needed)
     << " users are needed for this d, epsilon and tau_x (or use fewer covariates, a larger "
        "epsilon, the public-covariates variant, or the eigen_floor policy).";
  return os.str();
}

arma::uvec support_of(const arma::vec& theta) { return arma::find(theta != 0.0); }

// theta = S_lambda(Sigma^-1 s) with the not-PD policy.
void solve_and_threshold(sparse_fit& fit, const estimator_options& o, arma::uword d) {
  arma::mat L;
  fit.covariance_pd = arma::chol(L, fit.sigma_hat, "lower");
  if (!fit.covariance_pd) {
    if (o.policy == not_pd_policy::fail) {
      throw numerical_error(
          "the server's covariance estimate is not positive definite: " +
          (fit.n_users_needed > 0 ? users_needed_text(fit.n_users, fit.n_users_needed, d, fit.cov_noise_sd, o.kappa)
                                  : std::string("too few observations for this d.")));
    }
    arma::vec eigval;
    arma::mat eigvec;
    require(arma::eig_sym(eigval, eigvec, fit.sigma_hat),
            "the covariance estimate could not be decomposed (non-finite entries?).");
    const double scale = std::max(arma::trace(fit.sigma_hat) / static_cast<double>(d), 0.0);
    const double floor = scale > 0 ? o.eigen_floor * scale : o.eigen_floor;
    fit.eigenvalues_floored = arma::accu(eigval < floor);
    eigval = arma::clamp(eigval, floor, arma::datum::inf);
    fit.sigma_hat = eigvec * arma::diagmat(eigval) * eigvec.t();
    fit.sigma_hat = 0.5 * (fit.sigma_hat + fit.sigma_hat.t());
    fit.message = std::to_string(fit.eigenvalues_floored) + " eigenvalue(s) of the noisy covariance raised to " +
                  format_number(floor) + " (eigen_floor policy).";
    if (!arma::chol(L, fit.sigma_hat, "lower"))
      throw numerical_error("the floored covariance estimate is still not positive definite; raise `eigen_floor`.");
  }
  const arma::vec z = arma::solve(arma::trimatl(L), fit.s_hat);
  fit.theta_unthresholded = arma::solve(arma::trimatu(L.t()), z);
  fit.rule = o.rule;
  fit.theta = threshold(fit.theta_unthresholded, fit.lambda, o.rule);
  fit.support = support_of(fit.theta);
}

double default_lambda(double cov_sd, double xy_sd, double theta_norm, arma::uword d, double n) {
  return (cov_sd * theta_norm + xy_sd) * std::sqrt(2.0 * std::log(2.0 * static_cast<double>(d)) / n);
}

}  // namespace

// ---------------------------------------------------------------- configs and client
void check_config(const noninteractive_config& c) {
  require(c.d >= 1, "`d` (the number of covariates) must be at least 1.");
  check_bounds(c.b);
  check_epsilon(c.epsilon);
  if (c.mechanism == noise_mechanism::gaussian) check_delta(c.delta);
  else require(c.delta == 0 || (c.delta > 0 && c.delta < 1),
               "`delta` must be 0 (unused) for the Laplace mechanism, not " + format_number(c.delta) + ".");
  if (!c.public_covariates) check_share(c.covariance_share);
}

noninteractive_client::noninteractive_client(const noninteractive_config& config) : config_(config) {
  check_config(config_);
  const double d = static_cast<double>(config_.d), tx = config_.b.tau_x, ty = config_.b.tau_y,
               r = config_.b.x_radius;
  const bool gauss = config_.mechanism == noise_mechanism::gaussian;
  // Diameters (see the header).
  double cov_sens, xy_sens;
  if (gauss) {
    cov_sens = 2.0 * d * tx * tx;
    xy_sens = 2.0 * std::sqrt(d) * tx * ty;
    if (r > 0) { cov_sens = std::min(cov_sens, 2.0 * r * r); xy_sens = std::min(xy_sens, 2.0 * r * ty); }
  } else {
    cov_sens = d * d * tx * tx;
    xy_sens = 2.0 * d * tx * ty;
    if (r > 0) { cov_sens = std::min(cov_sens, (d + 1.0) * r * r); xy_sens = std::min(xy_sens, 2.0 * std::sqrt(d) * r * ty); }
  }
  cov_sens_ = config_.public_covariates ? 0.0 : cov_sens;
  xy_sens_ = xy_sens;
  const double share = config_.public_covariates ? 0.0 : config_.covariance_share;
  const double eps2 = (1.0 - share) * config_.epsilon, del2 = (1.0 - share) * config_.delta;
  const arma::uword m = config_.d * (config_.d + 1) / 2;
  const auto too_big_for_classic = [&](double eps_msg, const char* which) {
    require(!(config_.calibration == gaussian_calibration::classic && eps_msg > 1.0),
            std::string("the ") + which + " message gets epsilon = " + format_number(eps_msg) +
                ", above 1, where the classic Gaussian calibration is not valid: use calibration "
                "\"analytic\" or \"automatic\".");
  };
  if (gauss) {
    if (!config_.public_covariates) {
      too_big_for_classic(share * config_.epsilon, "covariance");
      cov_g_.emplace(cov_sens, m, share * config_.epsilon, share * config_.delta, config_.calibration, config_.secure);
    }
    too_big_for_classic(eps2, "cross-product (x y)");
    xy_g_.emplace(xy_sens, config_.d, eps2, del2, config_.calibration, config_.secure);
  } else {
    if (!config_.public_covariates) cov_l_.emplace(cov_sens, m, share * config_.epsilon, config_.secure);
    xy_l_.emplace(xy_sens, config_.d, eps2, config_.secure);
  }
}

double noninteractive_client::cov_noise_sd() const {
  if (cov_g_) return cov_g_->sigma();
  if (cov_l_) return std::sqrt(2.0) * cov_l_->scale();
  return 0.0;
}
double noninteractive_client::xy_noise_sd() const {
  return xy_g_ ? xy_g_->sigma() : std::sqrt(2.0) * xy_l_->scale();
}
double noninteractive_client::cov_grid() const {
  return cov_g_ ? cov_g_->grid() : (cov_l_ ? cov_l_->grid() : 0.0);
}
double noninteractive_client::xy_grid() const { return xy_g_ ? xy_g_->grid() : xy_l_->grid(); }

privacy_guarantee noninteractive_client::guarantee(bool seeded) const {
  privacy_guarantee g;
  g.epsilon = config_.epsilon;
  g.delta = config_.mechanism == noise_mechanism::gaussian ? config_.delta : 0.0;
  g.messages_per_user = 1;
  g.secure_noise = config_.secure;
  g.seeded = seeded;
  if (config_.mechanism == noise_mechanism::gaussian) {
    std::string cal = to_string(xy_g_->calibration_used());
    if (cov_g_ && cov_g_->calibration_used() != xy_g_->calibration_used())
      cal = to_string(cov_g_->calibration_used()) + "/" + cal;
    g.mechanism = "gaussian (" + cal + ")";
    g.delta_slack = xy_g_->delta_slack() + (cov_g_ ? cov_g_->delta_slack() : 0.0);
  } else {
    g.mechanism = "laplace";
  }
  if (!config_.public_covariates)
    g.budget_split = "a share " + format_number(config_.covariance_share) +
                     " of the budget to the covariance message, the rest to x y";
  return g;
}

namespace {
// One user's checked and truncated data (both protocols).
struct truncated_user {
  arma::vec x;
  double y;
};
truncated_user truncate_user(const arma::vec& x, double y, arma::uword d, const bounds& b) {
  require(x.n_elem == d, "`x` has " + std::to_string(x.n_elem) + " entries but the protocol has d = " +
                             std::to_string(d) + ".");
  check_finite(x, "x");
  check_finite(y, "y");
  return {truncate_x(x, b), truncate_y(y, b)};
}
}  // namespace

noninteractive_report noninteractive_client::report(const arma::vec& x, double y, noise_source& src) const {
  const auto [xb, yb] = truncate_user(x, y, config_.d, config_.b);
  noninteractive_report r;
  if (!config_.public_covariates) {
    const arma::vec cov = pack_upper(xb * xb.t());
    r.cov_upper = cov_g_ ? cov_g_->release(cov, src) : cov_l_->release(cov, src);
  }
  const arma::vec xy = xb * yb;
  r.xy = xy_g_ ? xy_g_->release(xy, src) : xy_l_->release(xy, src);
  return r;
}

noninteractive_report ldp_report(const arma::vec& x, double y, const noninteractive_config& config,
                                 noise_source& src) {
  return noninteractive_client(config).report(x, y, src);
}

// ---------------------------------------------------------------- sums
noninteractive_sums::noninteractive_sums(arma::uword dim, bool cov)
    : d(dim), has_covariance(cov), cov_upper(cov ? dim * (dim + 1) / 2 : 0, arma::fill::zeros),
      xy(dim, arma::fill::zeros) {}

void noninteractive_sums::add(const noninteractive_report& r) {
  require(r.xy.n_elem == d && r.cov_upper.n_elem == cov_upper.n_elem,
          "the report's dimensions do not match the sums (d = " + std::to_string(d) +
              "): aggregate only reports of one protocol.");
  check_finite(r.xy, "report$xy");
  if (has_covariance) { check_finite(r.cov_upper, "report$cov_upper"); cov_upper += r.cov_upper; }
  xy += r.xy;
  n += 1;
}

void noninteractive_sums::merge(const noninteractive_sums& o) {
  require(o.d == d && o.has_covariance == has_covariance,
          "cannot merge sums of different protocols (d or covariance message differ).");
  if (has_covariance) cov_upper += o.cov_upper;
  xy += o.xy;
  n += o.n;
}

// ---------------------------------------------------------------- estimators
namespace {
// Checks and fields shared by the two server-side estimators.
sparse_fit start_fit(const char* method, const noninteractive_sums& sums, const noninteractive_client& client,
                     const estimator_options& o) {
  check_estimator(o);
  const auto& c = client.config();
  require(sums.d == c.d, "the sums' d differs from the client's.");
  require(sums.n >= 1, "no reports were aggregated: at least one user is needed.");
  sparse_fit fit;
  fit.method = method;
  fit.b = c.b;
  fit.n_users = sums.n;
  fit.cov_noise_sd = client.cov_noise_sd();
  fit.xy_noise_sd = client.xy_noise_sd();
  fit.cov_sensitivity = client.cov_sensitivity();
  fit.xy_sensitivity = client.xy_sensitivity();
  fit.s_hat = sums.xy / sums.n;
  return fit;
}

arma::mat truncate_rows(const arma::mat& X, const bounds& b) {
  arma::mat xb(X.n_rows, X.n_cols);
  for (arma::uword i = 0; i < X.n_rows; ++i) xb.row(i) = truncate_x(X.row(i).t(), b).t();
  return xb;
}
}  // namespace

sparse_fit estimate_noninteractive(const noninteractive_sums& sums, const noninteractive_client& client,
                                   const estimator_options& o) {
  const auto& c = client.config();
  require(!c.public_covariates && sums.has_covariance,
          "these sums hold no covariance message (public-covariates protocol): use estimate_public().");
  sparse_fit fit = start_fit("noninteractive", sums, client, o);
  fit.n_users_needed = users_needed(fit.cov_noise_sd, c.d, o.kappa);
  fit.sigma_hat = unpack_upper(sums.cov_upper / sums.n, c.d);
  fit.lambda = o.lambda >= 0 ? o.lambda
                             : default_lambda(fit.cov_noise_sd, fit.xy_noise_sd, o.theta_norm, c.d, sums.n);
  solve_and_threshold(fit, o, c.d);
  return fit;
}

sparse_fit estimate_public(const noninteractive_sums& sums, const arma::mat& public_x,
                           const noninteractive_client& client, const estimator_options& o) {
  const auto& c = client.config();
  require(c.public_covariates, "the client was not configured for public covariates (public_covariates = true).");
  require(public_x.n_cols == c.d, "`x_public` has " + std::to_string(public_x.n_cols) +
                                      " columns but the users' x has " + std::to_string(c.d) + ".");
  require(public_x.n_rows >= c.d + 1, "`x_public` has " + std::to_string(public_x.n_rows) +
                                          " rows: at least d + 1 = " + std::to_string(c.d + 1) +
                                          " public covariate vectors are needed.");
  check_finite(public_x, "x_public");
  sparse_fit fit = start_fit("public", sums, client, o);
  const arma::mat xb = truncate_rows(public_x, c.b);
  fit.sigma_hat = xb.t() * xb / static_cast<double>(public_x.n_rows);
  fit.lambda = o.lambda >= 0 ? o.lambda : default_lambda(0.0, fit.xy_noise_sd, o.theta_norm, c.d, sums.n);
  solve_and_threshold(fit, o, c.d);
  return fit;
}

namespace {
sparse_fit run_noninteractive(const arma::mat& X, const arma::vec& y, const arma::mat* public_x,
                              const noninteractive_options& options, const runtime_context& ctx) {
  check_data(X, y);
  noninteractive_config cfg = options.privacy;
  cfg.d = X.n_cols;
  cfg.public_covariates = public_x != nullptr;
  const noninteractive_client client(cfg);
  check_estimator(options.estimator);
  const double n = static_cast<double>(X.n_rows);
  if (!cfg.public_covariates && options.estimator.policy == not_pd_policy::fail) {
    const double needed = users_needed(client.cov_noise_sd(), cfg.d, options.estimator.kappa);
    require(n >= needed, "too few users for the non-interactive estimator: " +
                             users_needed_text(n, needed, cfg.d, client.cov_noise_sd(), options.estimator.kappa));
  }
  noninteractive_sums sums(cfg.d, !cfg.public_covariates);
  user_streams streams(options.seed);
  for (arma::uword i = 0; i < X.n_rows; ++i) {
    if (i % 4096 == 0) { ctx.check_interrupt(); ctx.report_progress(static_cast<double>(i), n); }
    sums.add(client.report(X.row(i).t(), y(i), streams(i, 0)));
  }
  ctx.report_progress(n, n);
  sparse_fit fit = public_x ? estimate_public(sums, *public_x, client, options.estimator)
                            : estimate_noninteractive(sums, client, options.estimator);
  fit.guarantee = client.guarantee(options.seed.has_value());
  return fit;
}
}  // namespace

sparse_fit fit_noninteractive(const arma::mat& X, const arma::vec& y, const noninteractive_options& options,
                              const runtime_context& context) {
  return run_noninteractive(X, y, nullptr, options, context);
}

sparse_fit fit_public(const arma::mat& X, const arma::vec& y, const arma::mat& public_x,
                      const noninteractive_options& options, const runtime_context& context) {
  return run_noninteractive(X, y, &public_x, options, context);
}

sparse_fit fit_truncated_byproduct(const arma::mat& X, const arma::vec& y, const bounds& b,
                                   const estimator_options& o) {
  check_data(X, y);
  check_bounds(b);
  check_estimator(o);
  const arma::uword d = X.n_cols;
  require(X.n_rows > d, "the by-product estimator needs more observations than covariates (n > d), "
                        "but n = " + std::to_string(X.n_rows) + " and d = " + std::to_string(d) + ".");
  const double n = static_cast<double>(X.n_rows);
  const arma::mat xb = truncate_rows(X, b);
  const arma::vec yb = arma::clamp(y, -b.tau_y, b.tau_y);
  sparse_fit fit;
  fit.method = "byproduct";
  fit.b = b;
  fit.n_users = n;
  fit.sigma_hat = xb.t() * xb / n;
  fit.s_hat = xb.t() * yb / n;
  fit.lambda = o.lambda >= 0 ? o.lambda
                             : arma::stddev(yb, 1) * std::sqrt(2.0 * std::log(2.0 * static_cast<double>(d)) / n);
  solve_and_threshold(fit, o, d);
  fit.guarantee.mechanism = "none (not private)";
  fit.guarantee.epsilon = arma::datum::inf;
  fit.guarantee.secure_noise = false;
  return fit;
}

// ---------------------------------------------------------------- interactive
void check_config(const interactive_config& c) {
  require(c.d >= 1, "`d` (the number of covariates) must be at least 1.");
  check_bounds(c.b);
  check_epsilon(c.epsilon);
  require(c.sparsity >= 1 && c.sparsity <= c.d,
          "`sparsity` (k', the number of nonzero coefficients kept) must lie between 1 and d = " +
              std::to_string(c.d) + ", not " + std::to_string(c.sparsity) + ".");
  check_positive(c.theta_radius, "theta_radius");
}

double interactive_radius(const interactive_config& c) {
  const double d = static_cast<double>(c.d), k = static_cast<double>(c.sparsity);
  double xnorm = std::sqrt(d) * c.b.tau_x;
  double xs = std::sqrt(k) * c.b.tau_x;  // l2 norm of x_bar on a k'-sparse support
  if (c.b.x_radius > 0) { xnorm = std::min(xnorm, c.b.x_radius); xs = std::min(xs, c.b.x_radius); }
  return xnorm * (xs * c.theta_radius + c.b.tau_y);
}

interactive_client::interactive_client(const interactive_config& config)
    : config_((check_config(config), config)), mech_(interactive_radius(config), config.d, config.epsilon) {}

arma::vec interactive_client::report(const arma::vec& x, double y, const arma::vec& theta, noise_source& src) const {
  require(theta.n_elem == config_.d, "`theta` has " + std::to_string(theta.n_elem) +
                                         " entries but the protocol has d = " + std::to_string(config_.d) + ".");
  check_finite(theta, "theta");
  const auto [xb, yb] = truncate_user(x, y, config_.d, config_.b);
  arma::vec g = xb * (arma::dot(xb, theta) - yb);
  const double nrm = arma::norm(g, 2), r = mech_.radius();
  if (nrm > r) g *= r / nrm;  // guarantees privacy whatever theta the server sent
  return mech_.release(g, src);
}

arma::vec ldp_gradient_report(const arma::vec& x, double y, const arma::vec& theta,
                              const interactive_config& config, noise_source& src) {
  return interactive_client(config).report(x, y, theta, src);
}

gradient_sums::gradient_sums(arma::uword dim) : d(dim), sum(dim, arma::fill::zeros) {}

void gradient_sums::add(const arma::vec& g) {
  require(g.n_elem == d, "the gradient report has " + std::to_string(g.n_elem) + " entries, not d = " +
                             std::to_string(d) + ".");
  check_finite(g, "report");
  sum += g;
  n += 1;
}

void gradient_sums::merge(const gradient_sums& o) {
  require(o.d == d, "cannot merge gradient sums of different dimensions.");
  sum += o.sum;
  n += o.n;
}

arma::vec iht_update(const arma::vec& theta, const gradient_sums& sums, double step, arma::uword sparsity,
                     double theta_radius) {
  require(sums.n >= 1, "no gradient reports were aggregated in this round.");
  require(theta.n_elem == sums.d && sparsity >= 1 && sparsity <= sums.d,
          "`theta` must have d entries and `sparsity` lie in [1, d].");
  check_positive(step, "step");
  check_positive(theta_radius, "theta_radius");
  const arma::vec full = theta - step * sums.sum / sums.n;
  // Keep the k' largest |entries| (stable: ties keep the lower index).
  const arma::uvec order = arma::stable_sort_index(arma::abs(full), "descend");
  arma::vec out(full.n_elem, arma::fill::zeros);
  for (arma::uword j = 0; j < sparsity; ++j) out(order(j)) = full(order(j));
  const double nrm = arma::norm(out, 2);
  if (nrm > theta_radius) out *= theta_radius / nrm;
  return out;
}

sparse_fit fit_interactive(const arma::mat& X, const arma::vec& y, const interactive_options& options,
                           const runtime_context& ctx) {
  check_data(X, y);
  interactive_config cfg = options.privacy;
  cfg.d = X.n_cols;
  const interactive_client client(cfg);
  check_positive(options.step, "step");
  const arma::uword n = X.n_rows;
  const arma::uword T = options.rounds > 0
                            ? options.rounds
                            : static_cast<arma::uword>(std::max(1.0, std::ceil(std::log(static_cast<double>(n)))));
  require(n >= T, "the interactive protocol needs at least one user per round: n = " + std::to_string(n) +
                      " users for T = " + std::to_string(T) + " rounds; give at least " + std::to_string(T) +
                      " users or fewer rounds.");
  const arma::uword m = n / T;
  sparse_fit fit;
  fit.method = "interactive";
  fit.b = cfg.b;
  fit.rounds = T;
  fit.group_size = m;
  fit.sparsity = cfg.sparsity;
  fit.step = options.step;
  fit.theta_radius = cfg.theta_radius;
  fit.duchi_radius = client.radius();
  fit.duchi_norm = client.mechanism().output_norm();
  fit.n_users = static_cast<double>(m * T);
  arma::vec theta(cfg.d, arma::fill::zeros);
  user_streams streams(options.seed);
  for (arma::uword t = 0; t < T; ++t) {
    ctx.check_interrupt();
    ctx.report_progress(static_cast<double>(t), static_cast<double>(T));
    gradient_sums sums(cfg.d);
    for (arma::uword i = t * m; i < (t + 1) * m; ++i) {
      sums.add(client.report(X.row(i).t(), y(i), theta, streams(i, t + 1)));
    }
    theta = iht_update(theta, sums, options.step, cfg.sparsity, cfg.theta_radius);
  }
  ctx.report_progress(static_cast<double>(T), static_cast<double>(T));
  fit.theta = theta;
  fit.support = support_of(theta);
  fit.guarantee.epsilon = cfg.epsilon;
  fit.guarantee.delta = 0;
  fit.guarantee.messages_per_user = 1;
  fit.guarantee.mechanism = "duchi l2-ball";
  fit.guarantee.secure_noise = false;
  fit.guarantee.seeded = options.seed.has_value();
  if (n > m * T)
    fit.message = std::to_string(n - m * T) + " user(s) beyond T * floor(n / T) were not used.";
  return fit;
}

}  // namespace tessera::privacy
