#pragma once
// Convex minimisation over a floored probability simplex
//   S = { a in R^K : a_k >= floor, sum_k a_k = 1 },
// by projected gradient with Armijo backtracking (the standard sufficient-decrease
// test f(a+) <= f(a) + g'(a+ - a) + |a+ - a|^2 / (2 t) for convex, smooth f) and the
// exact Euclidean projection onto S (sort-based, Held-Wolfe-Crowder / Duchi et al.
// 2008, shifted by the floor). No external optimiser.
#include <functional>

#include "tessera/common/arma.hpp"

namespace tessera::optim {

// Euclidean projection of v onto { a >= floor, sum a = 1 }; needs K * floor < 1.
arma::vec project_to_simplex(const arma::vec& v, double floor = 0.0);

struct simplex_options {
  double floor = 0.0;       // lower bound of every coordinate
  int max_iter = 2000;      // projected-gradient steps
  double tol = 1e-10;       // stop when max |a+ - a| < tol
  double step0 = 1.0;       // initial step length (adapted: doubled after a success)
};

struct simplex_result {
  arma::vec x;
  double value = 0;
  int iterations = 0;
  bool converged = false;
};

// Minimises a convex differentiable f from x0 (projected first). `value_and_gradient`
// returns f(x) and writes the gradient into its second argument; it may return +Inf
// for points outside f's domain (the step is then shortened).
simplex_result minimise_on_simplex(
    const std::function<double(const arma::vec& x, arma::vec& gradient)>& value_and_gradient,
    const arma::vec& x0, const simplex_options& options = {});

}  // namespace tessera::optim
