#pragma once
// Sparse linear regression under local differential privacy (LDP): Zhu, Ding, Aggarwal,
// Xu & Wang, "Improved analysis of sparse linear regression in local differential
// privacy model", ICLR 2024 (arXiv 2310.07367).
//
// Model y = <theta*, x> + zeta, ||theta*||_0 <= k. Every user i holds (x_i, y_i) and
// only ever sends privatised messages; the server never sees raw data.
//
// Non-interactive protocol (the paper's Algorithm 1), one message per user:
//   truncate coordinate-wise x_bar = sign(x) min(|x|, tau_x), y_bar = sign(y) min(|y|, tau_y)
//   [optionally shrink x_bar into the l2 ball of radius x_radius];
//   release the upper triangle (diagonal included, m = d(d+1)/2 entries) of
//   x_bar x_bar^T + N1 and x_bar y_bar + N2.
//   Server: Sigma_hat = sum / n (mirrored), s_hat = sum / n, theta = S_lambda(Sigma_hat^-1 s_hat),
//   Cholesky solve, S_lambda soft (default) or hard thresholding at lambda.
// Public-covariates variant: Sigma_hat from m public (truncated, noise-free) x's; users
//   send only x_bar y_bar + N2 with the whole budget.
// Non-private by-product: S_lambda((X_bar^T X_bar)^-1 X_bar^T y_bar) on truncated data.
// Sequentially interactive rectified LDP-IHT (Algorithm 2): T disjoint groups of
//   m = floor(n/T) users (in the order given; the n - T m left over send nothing);
//   theta_0 = 0; group t receives theta_{t-1}, each user sends the Duchi mechanism's
//   release of g = x_bar (x_bar^T theta_{t-1} - y_bar) with radius
//   r = sqrt(d) tau_x (sqrt(k') tau_x R + tau_y) (R: the l2 radius of theta, 1 in the paper);
//   server: theta' = theta_{t-1} - eta mean(g), keep the k' largest |theta'_j| (ties: lower
//   index), project onto the l2 ball of radius R. H_k' is applied to the fresh iterate
//   (arXiv v1 prints t-1 there by mistake). Each user reports once: pure eps-LDP.
//
// Privacy accounting and calibration (all bounds required, data-independent):
// * Gaussian (default), budget split (eps1, delta1) = share (eps, delta) for the covariance
//   message and the rest for x y (share = 1/2: the note's (eps/2, delta/2)); basic
//   composition gives (eps, delta)-LDP. l2 sensitivities (diameters) as in the note:
//   covariance 2 d tau_x^2 (or 2 x_radius^2 if smaller), cross product 2 sqrt(d) tau_x tau_y
//   (or 2 x_radius tau_y). With the classic calibration this is exactly
//   sigma1^2 = 32 d^2 tau_x^4 ln(2.5/delta)/eps^2 and sigma2^2 = 32 d tau_x^2 tau_y^2 ln(2.5/delta)/eps^2
//   (before the 0.1% grid inflation of mechanisms.hpp). [Decision] The tighter
//   diameter sqrt(2) d tau_x^2 (PSD matrices have nonnegative inner products) is not used,
//   to stay with the paper's constants.
// * calibration automatic: classic when the message's eps <= 1, otherwise analytic
//   (Balle-Wang); classic with a message eps > 1 is rejected.
// * Laplace (option): pure eps-LDP, matching the model of the paper's lower bound.
//   l1 diameters: covariance d^2 tau_x^2 (diagonal entries differ by <= tau_x^2,
//   off-diagonal by <= 2 tau_x^2), or (d+1) x_radius^2 if smaller; cross product
//   2 d tau_x tau_y, or 2 sqrt(d) x_radius tau_y.
// * Public variant: the single message gets (eps, delta).
// * [Decision on r] The note leaves the role of r unsure; here it is an optional l2
//   shrinkage radius of x_bar (`x_radius`, 0 = off), which lowers the sensitivities as
//   above. No final projection of theta is done in the non-interactive estimator.
// * Interactive: the Duchi mechanism, pure eps; the client clips g to norm r, a no-op
//   when the server sends a k'-sparse theta with ||theta|| <= R, and the guarantee
//   whatever the server sends.
//
// Server-side policies [decisions]:
// * lambda default (lambda < 0): (sd1 R + sd2) sqrt(2 log(2d) / n), the l_inf size of
//   N1_bar theta* + N2_bar (sd1, sd2: per-entry noise sd of the messages, R = theta_norm,
//   assumed ||theta*||_2, default 1); the paper's ||Sigma^-1||_inf factor is taken as 1.
//   For the by-product it is sd(y_bar) sqrt(2 log(2d) / n).
// * Sigma_hat not positive definite (likely unless n >> d^2 sigma1^2, the paper's n >~ d^4):
//   policy `fail` (default) throws numerical_error saying how many users are needed;
//   policy `eigen_floor` raises the eigenvalues of Sigma_hat below
//   floor = eigen_floor * max(trace(Sigma_hat)/d, 0) (or eigen_floor if that is 0) to the
//   floor (post-processing: no privacy cost, not in the paper) and records how many.
// * Users needed: the averaged covariance noise has spectral norm about 2 sd1 sqrt(d/n);
//   the estimator needs it below kappa, the smallest eigenvalue of Cov(x_bar) (kappa = 1
//   for standardised covariates by default), i.e. n >= 4 sd1^2 d / kappa^2.
//   fit_noninteractive refuses smaller n under policy `fail` before any computation.
//
// Randomness: a seed gives reproducible streams, stream_seed(seed, user, round) per user
// (round 0 in the non-interactive protocols, t in round t); no seed (the default) means
// the OS's CSPRNG (random.hpp).
#include <cstdint>
#include <optional>
#include <string>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"
#include "tessera/privacy/mechanisms.hpp"
#include "tessera/privacy/random.hpp"

namespace tessera::privacy {

// Data-independent bounds, fixed before any data is seen.
struct bounds {
  double tau_x = 0;     // coordinate-wise truncation of x (required, > 0)
  double tau_y = 0;     // truncation of y (required, > 0)
  double x_radius = 0;  // optional l2 radius of the truncated x (0: not used)
};
void check_bounds(const bounds& b);
arma::vec truncate_x(const arma::vec& x, const bounds& b);
double truncate_y(double y, const bounds& b);

enum class noise_mechanism { gaussian, laplace };
enum class thresholding { soft, hard, none };
enum class not_pd_policy { fail, eigen_floor };
std::string to_string(noise_mechanism m);
std::string to_string(thresholding t);

// What one fit guarantees to each user.
struct privacy_guarantee {
  double epsilon = 0;
  double delta = 0;             // 0 for pure eps-LDP
  int messages_per_user = 1;
  std::string mechanism;        // e.g. "gaussian (analytic)", "laplace", "duchi l2-ball"
  std::string budget_split;     // how epsilon (and delta) is divided between messages, if at all
  bool secure_noise = true;     // discrete noise on a grid
  bool seeded = false;          // reproducible stream (simulation), not for deployment
  double delta_slack = 0;       // discrete-Gaussian slack (mechanisms.hpp), included in no delta
  std::string statement() const;
};

// Agreed in advance by users and server (non-interactive and public variants).
struct noninteractive_config {
  arma::uword d = 0;
  bounds b;
  double epsilon = 0;
  double delta = 0;                 // required for the Gaussian mechanism
  noise_mechanism mechanism = noise_mechanism::gaussian;
  gaussian_calibration calibration = gaussian_calibration::automatic;
  double covariance_share = 0.5;    // budget fraction for the covariance message, in (0, 1)
  bool secure = true;               // discrete noise on a grid (mechanisms.hpp)
  bool public_covariates = false;   // users send only x y (the public-data variant)
};
void check_config(const noninteractive_config& c);

// One user's message.
struct noninteractive_report {
  arma::vec cov_upper;  // upper triangle of x x^T + N1, column-major (empty when public)
  arma::vec xy;         // x y + N2
};

// The user-side randomiser: calibrates once, then report() per user.
class noninteractive_client {
 public:
  explicit noninteractive_client(const noninteractive_config& config);
  noninteractive_report report(const arma::vec& x, double y, noise_source& src) const;

  const noninteractive_config& config() const { return config_; }
  double cov_noise_sd() const;  // per-entry sd of N1 (0 when public)
  double xy_noise_sd() const;   // per-entry sd of N2
  double cov_sensitivity() const { return cov_sens_; }
  double xy_sensitivity() const { return xy_sens_; }
  double cov_grid() const;
  double xy_grid() const;
  privacy_guarantee guarantee(bool seeded) const;
  const std::optional<gaussian_mechanism>& cov_gaussian() const { return cov_g_; }
  const std::optional<gaussian_mechanism>& xy_gaussian() const { return xy_g_; }

 private:
  noninteractive_config config_;
  double cov_sens_ = 0, xy_sens_ = 0;
  std::optional<gaussian_mechanism> cov_g_, xy_g_;
  std::optional<laplace_mechanism> cov_l_, xy_l_;
};

// One user's message, for a user on their own (calibrates on every call).
noninteractive_report ldp_report(const arma::vec& x, double y, const noninteractive_config& config,
                                 noise_source& src);

// Mergeable server-side sums: add reports in any order, merge chunks in any order.
// With secure noise every value is a multiple of a power-of-two grid, so the sums are
// exact and bit-identical whatever the order or chunking.
struct noninteractive_sums {
  arma::uword d = 0;
  bool has_covariance = true;
  double n = 0;
  arma::vec cov_upper;
  arma::vec xy;
  noninteractive_sums() = default;
  noninteractive_sums(arma::uword d, bool has_covariance);
  void add(const noninteractive_report& r);
  void merge(const noninteractive_sums& other);
};

// Upper triangle (column-major, diagonal included) <-> symmetric matrix.
arma::vec pack_upper(const arma::mat& a);
arma::mat unpack_upper(const arma::vec& v, arma::uword d);

struct estimator_options {
  double lambda = -1;               // threshold; < 0: the default formula above
  thresholding rule = thresholding::soft;
  not_pd_policy policy = not_pd_policy::fail;
  double eigen_floor = 1e-2;        // relative floor for policy eigen_floor
  double theta_norm = 1;            // assumed ||theta*||_2, only for the default lambda
  double kappa = 1;                 // assumed min eigenvalue of Cov(x_bar), for the users-needed check
};

struct sparse_fit {
  std::string method;               // "noninteractive", "public", "interactive", "byproduct"
  arma::vec theta;                  // the estimate
  arma::vec theta_unthresholded;    // before S_lambda (non-interactive, public, by-product)
  arma::uvec support;               // 0-based indices of nonzero entries
  double lambda = 0;
  thresholding rule = thresholding::soft;
  arma::mat sigma_hat;              // the server's covariance estimate (after any floor)
  arma::vec s_hat;
  bool covariance_pd = true;        // Sigma_hat was positive definite as estimated
  arma::uword eigenvalues_floored = 0;
  double n_users = 0;               // users whose messages were used
  double n_users_needed = 0;        // 4 sd1^2 d / kappa^2 (non-interactive), else 0
  double cov_noise_sd = 0, xy_noise_sd = 0;   // per-entry noise sd of the messages
  double cov_sensitivity = 0, xy_sensitivity = 0;
  // Interactive only.
  arma::uword rounds = 0, group_size = 0, sparsity = 0;
  double step = 0, duchi_radius = 0, duchi_norm = 0, theta_radius = 0;
  privacy_guarantee guarantee;
  bounds b;
  std::string message;
};

// Server: estimate from the sums. `client` supplies the calibration (noise sd).
sparse_fit estimate_noninteractive(const noninteractive_sums& sums, const noninteractive_client& client,
                                   const estimator_options& options = {});
// Server, public variant: Sigma_hat from public covariates (rows), truncated with the same bounds.
sparse_fit estimate_public(const noninteractive_sums& sums, const arma::mat& public_x,
                           const noninteractive_client& client, const estimator_options& options = {});

// Simulation / convenience: run the whole protocol on a data set (rows are users).
// seed empty: OS CSPRNG.
struct noninteractive_options {
  noninteractive_config privacy;    // d is taken from X
  estimator_options estimator;
  std::optional<std::uint64_t> seed;
};
sparse_fit fit_noninteractive(const arma::mat& X, const arma::vec& y, const noninteractive_options& options,
                              const runtime_context& context = silent_context());
sparse_fit fit_public(const arma::mat& X, const arma::vec& y, const arma::mat& public_x,
                      const noninteractive_options& options,
                      const runtime_context& context = silent_context());
// The non-private by-product on truncated data (needs n > d).
sparse_fit fit_truncated_byproduct(const arma::mat& X, const arma::vec& y, const bounds& b,
                                   const estimator_options& options = {});

// ---- Sequentially interactive LDP-IHT ----
struct interactive_config {
  arma::uword d = 0;
  bounds b;
  double epsilon = 0;
  arma::uword sparsity = 0;         // k' (the paper's theory: 8k); required, 1 <= k' <= d
  double theta_radius = 1;          // R
};
void check_config(const interactive_config& c);

class interactive_client {
 public:
  explicit interactive_client(const interactive_config& config);
  // The privatised gradient of one user at the server's theta.
  arma::vec report(const arma::vec& x, double y, const arma::vec& theta, noise_source& src) const;
  double radius() const { return mech_.radius(); }
  const duchi_mechanism& mechanism() const { return mech_; }
  const interactive_config& config() const { return config_; }

 private:
  interactive_config config_;
  duchi_mechanism mech_;
};

// r = sqrt(d) tau_x (sqrt(k') tau_x R + tau_y).
double interactive_radius(const interactive_config& c);

arma::vec ldp_gradient_report(const arma::vec& x, double y, const arma::vec& theta,
                              const interactive_config& config, noise_source& src);

struct gradient_sums {
  arma::uword d = 0;
  double n = 0;
  arma::vec sum;
  gradient_sums() = default;
  explicit gradient_sums(arma::uword d);
  void add(const arma::vec& g);
  void merge(const gradient_sums& other);
};

// Server update: H_k'(theta - eta * mean) projected onto the l2 ball of radius R.
arma::vec iht_update(const arma::vec& theta, const gradient_sums& sums, double step,
                     arma::uword sparsity, double theta_radius);

struct interactive_options {
  interactive_config privacy;       // d from X
  arma::uword rounds = 0;           // T; 0: ceil(ln n)
  double step = 1;                  // eta
  std::optional<std::uint64_t> seed;
};
sparse_fit fit_interactive(const arma::mat& X, const arma::vec& y, const interactive_options& options,
                           const runtime_context& context = silent_context());

// Soft / hard thresholding (entry-wise).
arma::vec threshold(const arma::vec& u, double lambda, thresholding rule);

}  // namespace tessera::privacy
