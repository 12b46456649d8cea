#pragma once
// Input laws for the montecarlo module: a sampler plus a log density, so that the
// adaptive importance sampler can draw from f (or from J laws f_j) and evaluate f_j at
// any point. Built-in: independent marginals (normal, lognormal, uniform, gamma, beta,
// quantiles and CDFs from Boost.Math, log densities in closed form so that far tails do
// not underflow) and a Gaussian copula on top of them. Any other law (an R function, a
// user's C++ code) plugs in through the two std::function members.
//
// Parameterisations (the same as R's d/p/q functions):
//   normal(mean, sd); lognormal(meanlog, sdlog); uniform(min, max);
//   gamma(shape, scale); beta(shape1, shape2).
// Gaussian copula with correlation matrix R (of the latent normals):
//   X_i = F_i^{-1}(Phi(Z_i)), Z ~ N(0, R);
//   log f(x) = sum_i log f_i(x_i) - log|R| / 2 - z' (R^{-1} - I) z / 2, z_i = Phi^{-1}(F_i(x_i)).
// Tails: probabilities above 1/2 are handled through complements, so z up to about
// +-37 maps to finite x and back.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tessera/common/arma.hpp"

namespace tessera::montecarlo {

enum class marginal_family { normal, lognormal, uniform, gamma, beta };

struct marginal {
  marginal_family family = marginal_family::normal;
  double a = 0;  // mean | meanlog | min | shape | shape1
  double b = 1;  // sd   | sdlog   | max | scale | shape2
};

// Validates the parameters (names the marginal by `name`).
void check_marginal(const marginal& m, const std::string& name);
// Lognormal with a given mean and coefficient of variation (the beam's parameterisation).
marginal lognormal_from_mean_cv(double mean, double cv);
double log_pdf(const marginal& m, double x);              // -Inf outside the support
double quantile_from_normal(const marginal& m, double z); // F^{-1}(Phi(z)), tail-safe
double normal_score(const marginal& m, double x);         // Phi^{-1}(F(x)), tail-safe
std::string family_name(marginal_family f);

struct input_law {
  arma::uword dim = 0;
  // n draws as the rows of an n x dim matrix; the seed fixes them.
  std::function<arma::mat(arma::uword n, std::uint64_t seed)> sample;
  // log f at each row of an n x dim matrix (-Inf outside the support).
  std::function<arma::vec(const arma::mat& x)> log_density;
};

// Independent marginals.
input_law independent_law(const std::vector<marginal>& marginals);
// Gaussian copula: `correlation` is the latent normals' correlation matrix (symmetric,
// unit diagonal, positive definite).
input_law gaussian_copula_law(const std::vector<marginal>& marginals, const arma::mat& correlation);
// N(0, I_d), the standard space of the Sobol' construction.
input_law standard_normal_law(arma::uword d);

}  // namespace tessera::montecarlo
