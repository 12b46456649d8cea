#pragma once
// Local differential privacy mechanisms: Gaussian (classic and analytic calibration),
// Laplace, and the l2-ball mechanism of Duchi, Jordan & Wainwright (JASA 2018).
//
// Calibration (every bound is a required, data-independent argument; nothing is read
// from the data):
// * classic Gaussian (Dwork & Roth 2014, Thm A.1): sigma = Delta2 sqrt(2 ln(1.25/delta)) / eps,
//   valid only for eps <= 1; a larger eps is rejected (the formula is then not a proof
//   of privacy; smartnoise-sdk #462). Use the analytic calibration instead.
// * analytic Gaussian (Balle & Wang, ICML 2018, Thm 8): the smallest sigma with
//     Phi(Delta/(2 sigma) - eps sigma/Delta) - e^eps Phi(-Delta/(2 sigma) - eps sigma/Delta) <= delta,
//   for any eps > 0. Solved by bisection on log sigma to relative precision 1e-13 and
//   returned from the upper side of the bracket, so the inequality always holds. The
//   e^eps Phi(.) term is evaluated in log space (asymptotic series beyond 20 sd), so
//   large eps does not overflow.
// * Laplace: b = Delta1 / eps (pure eps-DP).
// * Duchi l2-ball: input ||v|| <= r, output norm
//     B = r (e^eps + 1) / (e^eps - 1) / E|u_1|,  E|u_1| = Gamma(d/2) / (sqrt(pi) Gamma((d+1)/2)),
//   the value that makes the output unbiased (computed with lgamma). Mechanism:
//   round v to +-r v/||v|| with P(+) = 1/2 + ||v||/(2r) (v = 0: a uniform direction);
//   with probability e^eps/(e^eps + 1) output a uniform point of the radius-B sphere on
//   the rounded vector's side, otherwise one on the opposite side. The point is a
//   normalised Gaussian vector negated when on the wrong side; the output depends on
//   v only through that one sign, so its low-order bits carry nothing about v.
//
// Floating-point attacks (Mironov, CCS 2012): textbook Laplace/Gaussian noise added in
// double precision leaks the input through the gaps of the floating-point grid. In local
// DP every user message is exposed, so by default (`secure = true`) the Gaussian and
// Laplace mechanisms release on a grid gamma Z:
//   release_j = gamma * (round(v_j / gamma) + K_j),  K_j discrete Gaussian / discrete Laplace on Z,
// with gamma a power of two (exact in binary floating point, so sums of releases are
// exact and order-independent). The rounding moves neighbouring inputs apart by at most
// gamma sqrt(m) in l2 (gamma m in l1) over m coordinates, so the calibration uses the
// inflated sensitivity Delta + gamma sqrt(m) (Delta + gamma m); gamma is the largest power
// of two with gamma sqrt(m) <= Delta / 1024 (gamma m <= Delta/1024): at most 0.1% more noise.
// Why a grid with discrete noise rather than Mironov's snapping: snapping (clamp, add
// Laplace, round to a power-of-two grid) needs an exactly-rounded log and has no
// Gaussian analogue; the discrete Gaussian of Canonne, Kamath & Steinke (NeurIPS 2020)
// keeps the Gaussian mechanism's (eps, delta) guarantee (their Thm 15, multivariate,
// up to an additive slack 10 sum_{k<m} exp(-2 pi^2 s^2 k/(k+1)) with s = sigma/gamma,
// reported as `delta_slack` (bounded by 10 (m-1) exp(-pi^2 s^2): below 1e-300 for s >= 9,
// and s >= 1024 sigma/Delta here, i.e. for any eps up to several thousand), and the discrete
// Laplace is exactly eps-DP for integer sensitivity.
// Samplers: discrete Laplace with scale t as a fair sign times a geometric magnitude
// floor(-t log U), U uniform on (0, 1] from 53 random bits, rejecting "-0" (tail beyond
// 36.7 t, probability < 1e-16, cannot occur); discrete Gaussian by CKS Algorithm 3 (discrete
// Laplace proposal with t = floor(s) + 1, accepted with probability
// exp(-(|Y| - s^2/t)^2 / (2 s^2))). The acceptance test and the geometric inversion use
// double-precision exp/log, so the output probabilities are exact only to ~1e-15
// relative; the support (the grid) and hence the absence of low-bit leakage are exact.
// `secure = false` gives the textbook continuous mechanism (for comparison and benchmarks
// only; never for deployment).
#include <cstdint>
#include <string>

#include "tessera/common/arma.hpp"
#include "tessera/privacy/random.hpp"

namespace tessera::privacy {

enum class gaussian_calibration {
  automatic,  // classic when eps <= 1, analytic otherwise
  classic,    // Dwork-Roth; rejects eps > 1
  analytic    // Balle-Wang
};

std::string to_string(gaussian_calibration c);

// Checks shared by every mechanism (throw tessera::invalid_argument naming `name`).
void check_epsilon(double epsilon, const std::string& name = "epsilon");
void check_delta(double delta, const std::string& name = "delta");
void check_sensitivity(double sensitivity, const std::string& name);

// sigma of the classic Gaussian mechanism; eps must lie in (0, 1].
double classic_gaussian_sigma(double l2_sensitivity, double epsilon, double delta);
// sigma of the analytic Gaussian mechanism, any eps > 0.
double analytic_gaussian_sigma(double l2_sensitivity, double epsilon, double delta);
// The delta achieved by Gaussian noise sigma at (Delta, eps): Balle-Wang's equation's left side.
double gaussian_delta(double sigma, double l2_sensitivity, double epsilon);
// Laplace scale b = Delta1 / eps.
double laplace_scale(double l1_sensitivity, double epsilon);
// E|u_1| for u uniform on the unit sphere of R^d.
double sphere_mean_abs_coordinate(arma::uword d);
// Duchi et al.'s output norm B for radius r in dimension d.
double duchi_output_norm(double radius, arma::uword d, double epsilon);

// Exact-support samplers on the integers (see above).
long long sample_discrete_laplace(double scale, noise_source& src);
long long sample_discrete_gaussian(double sigma, noise_source& src);

// The power-of-two grid step for sensitivity Delta spread over m coordinates:
// largest 2^k with 2^k * spread <= Delta / 1024, spread = sqrt(m) (l2) or m (l1).
double grid_step(double sensitivity, double spread);

// The Gaussian mechanism for vectors of length m with l2 sensitivity Delta2 (the largest
// l2 distance between two users' vectors). Calibrated once, then release() per user.
class gaussian_mechanism {
 public:
  gaussian_mechanism(double l2_sensitivity, arma::uword dim, double epsilon, double delta,
                     gaussian_calibration calibration = gaussian_calibration::automatic,
                     bool secure = true);
  arma::vec release(const arma::vec& v, noise_source& src) const;

  double sigma() const { return sigma_; }              // noise sd (continuous units)
  double grid() const { return grid_; }                // gamma; 0 when secure = false
  double effective_sensitivity() const { return eff_sens_; }
  double delta_slack() const { return slack_; }        // CKS additive slack (0 if not secure)
  gaussian_calibration calibration_used() const { return used_; }
  double epsilon() const { return epsilon_; }
  double delta() const { return delta_; }
  arma::uword dim() const { return dim_; }

 private:
  double sens_, epsilon_, delta_, sigma_ = 0, grid_ = 0, eff_sens_ = 0, slack_ = 0;
  arma::uword dim_;
  bool secure_;
  gaussian_calibration used_;
};

// The Laplace mechanism for vectors of length m with l1 sensitivity Delta1 (pure eps-DP).
class laplace_mechanism {
 public:
  laplace_mechanism(double l1_sensitivity, arma::uword dim, double epsilon, bool secure = true);
  arma::vec release(const arma::vec& v, noise_source& src) const;

  double scale() const { return scale_; }
  double grid() const { return grid_; }
  double effective_sensitivity() const { return eff_sens_; }
  double epsilon() const { return epsilon_; }
  arma::uword dim() const { return dim_; }

 private:
  double sens_, epsilon_, scale_ = 0, grid_ = 0, eff_sens_ = 0;
  arma::uword dim_;
  bool secure_;
};

// Duchi, Jordan & Wainwright's l2-ball mechanism: eps-LDP, unbiased, output norm B.
class duchi_mechanism {
 public:
  duchi_mechanism(double radius, arma::uword dim, double epsilon);
  // v must have ||v|| <= radius (up to 1e-9 relative); larger throws invalid_argument.
  arma::vec release(const arma::vec& v, noise_source& src) const;

  double radius() const { return radius_; }
  double output_norm() const { return B_; }
  double epsilon() const { return epsilon_; }
  double agree_probability() const { return p_agree_; }  // e^eps / (e^eps + 1)
  arma::uword dim() const { return dim_; }

 private:
  double radius_, epsilon_, B_, p_agree_;
  arma::uword dim_;
};

}  // namespace tessera::privacy
