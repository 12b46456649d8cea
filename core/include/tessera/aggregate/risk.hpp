#pragma once
// Asymptotic bias, variance and risk of the interpolating estimator, the oracle rho, the
// risk under label differential privacy and the optimal bag size.
//
// Setting (the note's derived form of the paper's Theorem 2.5, Monte Carlo-checked): x ~
// N(0, I_d), y = x'theta0 + eps, eps ~ N(0, sigma^2), random bags of equal size k, n, d -> inf
// with gamma = d / n in (0, 1). Test MSE = sigma^2 + Bias + Var with
//   tau > 0 solving gamma = (1/k) tau/(1+tau) + (1 - 1/k) rho tau/(1 + rho tau),
//   a = tau/(k gamma (1+tau)), b = 1 - a, p = tau^2/(k gamma (1+tau)^2),
//   q = (k-1) rho^2 tau^2/(k gamma (1 + rho tau)^2),
//   Bias = ||theta0||^2 [b^2 - q (b - a)] / (1 - p - q),
//   Var  = sigma^2 tau / [1 + (k-1) rho ((1+tau)/(1+rho tau))^2].
// rho = 0: tau = gamma k/(1 - gamma k), Bias = 0; when gamma k >= 1 (no more bags than
// features) the bag-level risk is infinite and reported as +Inf (never NaN).
// The right side of the fixed point increases in tau, so tau is found by bisection.
//
// Label DP (dp.hpp): Laplace noise of scale 2C/(k eps) on each bag mean adds variance
// 8C^2/(k^2 eps^2) per bag, i.e. the noise level sigma^2 becomes sigma^2 + 8 C^2/(k eps^2) in
// Var (clipping bias ignored) [derived]. The optimal bag size minimises, over integer k in
// [1, k_max] and rho in [0, rho_max], Bias(k, rho) + (sigma^2 + 8C^2/(k eps^2)) Var1(k, rho).
// epsilon = +Inf means no privacy.
#include "tessera/common/arma.hpp"

namespace tessera::aggregate {

struct risk_value {
  double tau = 0;
  double bias = 0;       // ||E theta - theta0||^2-type term (scaled by ||theta0||^2)
  double variance = 0;
  double risk = 0;       // bias + variance (excess test MSE)
};

// gamma in (0, 1), k >= 1 (real allowed), rho >= 0, theta_norm2 >= 0, sigma2 >= 0.
risk_value asymptotic_risk(double gamma, double k, double rho, double theta_norm2, double sigma2);

// The fixed point tau alone (+Inf when rho = 0 and gamma k >= 1).
double fixed_point_tau(double gamma, double k, double rho);

struct oracle_rho_result {
  double rho = 0;
  risk_value at;         // risk at rho
};
// argmin over rho in [0, rho_max] of Bias + Var: a log-spaced grid of 400 points plus 0
// and rho_max, refined by golden-section search between the neighbours of the best point.
oracle_rho_result oracle_rho(double gamma, double k, double theta_norm2, double sigma2,
                             double rho_max = 1.0);

// Noise level of the aggregates after Laplace DP: sigma^2 + 8 C^2 / (k eps^2).
double dp_noise_variance(double sigma2, double k, double epsilon, double clip);

struct bag_size_result {
  arma::uword k = 1;            // optimal bag size
  double rho = 0;               // its optimal rho
  double risk = 0;              // its excess risk
  arma::vec risk_by_k;          // k = 1..k_max: min over rho
  arma::vec rho_by_k;
};
bag_size_result optimal_bag_size(double gamma, double theta_norm2, double sigma2, double epsilon,
                                 double clip, arma::uword k_max = 50, double rho_max = 1.0);

}  // namespace tessera::aggregate
