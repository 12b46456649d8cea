#pragma once
// Damped Newton's method for smooth convex objectives of a vector parameter (GLM-type
// losses with a few hundred coefficients at most: each step solves one p x p system).
//
// Step: solve (H + mu I) s = -g by Cholesky; mu starts at 0 and grows (x10 from
// `damping_init` relative to the mean Hessian diagonal) until the damped Hessian is
// positive definite. Backtracking (Armijo, halving) along s; a non-finite objective
// counts as a failed trial point, so the iterate never leaves the domain.
// Convergence: Newton decrement lambda^2 = -g's <= 2 * tol (the classical stopping rule,
// scale-free for self-concordant objectives), or the relative change of the objective
// below tol * (1 + |f|) over a full step.
#include <functional>
#include <string>

#include "tessera/common/arma.hpp"

namespace tessera::optim {

// Evaluates the objective at x. When grad/hess are non-null, also fills them.
// Return +Inf (or NaN) when x lies outside the domain.
using newton_objective = std::function<double(const arma::vec& x, arma::vec* grad, arma::mat* hess)>;

struct newton_options {
  int max_iter = 100;
  double tol = 1e-14;            // on the Newton decrement, see above
  int max_backtracks = 60;       // halvings of the step per iteration
  double armijo = 1e-4;          // sufficient-decrease constant
  double damping_init = 1e-8;    // first damping tried when H is not positive definite
};

struct newton_result {
  arma::vec x;
  double value = 0;
  arma::vec gradient;
  int iterations = 0;
  bool converged = false;
  std::string message;
};

// Minimises f from x0 (f(x0) must be finite; throws tessera::invalid_argument otherwise).
newton_result newton_minimize(const newton_objective& f, const arma::vec& x0,
                              const newton_options& options = {});

}  // namespace tessera::optim
