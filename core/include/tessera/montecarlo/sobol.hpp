#pragma once
// Sobol' indices by aISCV (Demange-Chryst, Bachoc, Morio 2023, section on sensitivity
// analysis), for a model y = m(x) with independent inputs x_i = F_i^{-1}(Phi(z_i)).
//
// Standard-normal space, Z = (U, U') ~ N(0, I_2d), pick-freeze points
//   A = U,  C_i = (U'_1, .., U_i, .., U'_d) (coordinate i from U, the others from U'),
//   B = U'  (only for total-order indices).
// Expectations (J = d + 2, or 2d + 2 with total order), all under N(0, I_2d):
//   I_i = E[y_A y_Ci] (i = 1..d),  m = E[y_A],  s = E[y_A^2],
//   D_i = E[(y_B - y_Ci)^2] / 2      (Jansen's form: B and C_i differ in coordinate i only).
// Indices (V = s - m^2):
//   S_i = (I_i - m^2) / V   (first order, as in the paper),
//   T_i = D_i / V           (total order: not in the paper; a decision of this module).
// Intervals: delta method with the full J x J covariance of the aISCV estimates;
//   dS_i/d(I_i, m, s) = (1/V, 2m(S_i - 1)/V, -S_i/V), dT_i/d(D_i, m, s) = (1/V, 2m T_i/V, -T_i/V).
// Weights of the aISCV criterion (a decision; the paper's choice for this case is not
// stated in the reference code): by default omega_j = sum_k (d index_k / d I_j)^2 at the
// batch-0 estimates, so the criterion is the sum of the indices' delta-method variances
// without cross terms. Explicit aiscv.weights override it.
// Cost: each point Z costs d + 1 model runs (d + 2 with total order); the budget is
// given in model runs and N = floor(runs / (d + 1 or d + 2)) points are used.
// The estimates are reported raw: they can fall below 0 or above 1 (no clipping).
#include <cstdint>
#include <functional>
#include <vector>

#include "tessera/common/arma.hpp"
#include "tessera/common/context.hpp"
#include "tessera/montecarlo/aiscv.hpp"
#include "tessera/montecarlo/laws.hpp"

namespace tessera::montecarlo {

// n x d physical inputs -> n outputs.
using model_function = std::function<arma::vec(const arma::mat& x)>;

struct sobol_options {
  arma::uword model_runs = 20000;  // total model evaluations (the budget)
  bool total_order = true;
  bool shrinkage = true;           // covariance shrinkage of the inner aISCV (replaces aiscv.shrinkage):
                                   // on by default here, see aiscv.hpp
  aiscv_options aiscv;             // its `budget` is overwritten from model_runs
};

struct sobol_result {
  arma::vec first, first_se, first_lower, first_upper;
  arma::vec total, total_se, total_lower, total_upper;  // empty without total order
  arma::mat index_covariance;   // covariance of (first, total) by the delta method
  double mean = 0, variance = 0;
  aiscv_result expectations;    // the J aISCV estimates behind the indices
  arma::uword model_runs = 0;   // runs actually used
  arma::uword points = 0;       // N
};

// Indices and delta-method covariance from the J estimates and their covariance.
sobol_result sobol_from_expectations(const arma::vec& estimate, const arma::mat& covariance, arma::uword d,
                                     bool total_order, double level);

class sobol_session {
 public:
  sobol_session(const std::vector<marginal>& marginals, const sobol_options& options, std::uint64_t seed);
  bool done() const { return inner_.done(); }
  std::string phase_name() const { return inner_.phase_name(); }
  // Physical points to run the model on: blocks A, C_1..C_d (and B) of n rows each.
  const arma::mat& ask() const { return points_; }
  void tell(const arma::vec& y);
  const sobol_result& result() const;
  arma::uword runs_per_point() const { return blocks_; }

 private:
  void prepare();
  std::vector<marginal> marginals_;
  sobol_options options_;
  arma::uword d_ = 0, blocks_ = 0, runs_ = 0;
  aiscv_session inner_;
  arma::mat points_;
  sobol_result result_;
};

sobol_result sobol_aiscv(const model_function& model, const std::vector<marginal>& marginals,
                         const sobol_options& options, std::uint64_t seed,
                         const runtime_context& context = silent_context());

}  // namespace tessera::montecarlo
