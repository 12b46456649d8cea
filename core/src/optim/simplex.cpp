#include "tessera/optim/simplex.hpp"

#include <algorithm>
#include <cmath>

#include "tessera/common/validate.hpp"

namespace tessera::optim {

arma::vec project_to_simplex(const arma::vec& v, double floor) {
  const arma::uword K = v.n_elem;
  require(K > 0, "`v` must have at least one element to project onto the simplex.");
  const double mass = 1.0 - static_cast<double>(K) * floor;
  require(floor >= 0 && mass > 0, "`floor` must be in [0, 1/K) for the simplex of dimension K = " +
                                      std::to_string(K) + ", not " + format_number(floor) + ".");
  // Project w = v - floor onto { b >= 0, sum b = mass }.
  arma::vec w = v - floor;
  arma::vec u = arma::sort(w, "descend");
  double cumulative = 0, theta = 0;
  for (arma::uword k = 0; k < K; ++k) {
    cumulative += u(k);
    const double t = (cumulative - mass) / static_cast<double>(k + 1);
    if (u(k) - t > 0) theta = t;
  }
  arma::vec out = arma::clamp(w - theta, 0.0, arma::datum::inf) + floor;
  return out / arma::accu(out);  // removes rounding drift; keeps the floor up to 1 ulp
}

simplex_result minimise_on_simplex(
    const std::function<double(const arma::vec&, arma::vec&)>& value_and_gradient,
    const arma::vec& x0, const simplex_options& options) {
  simplex_result r;
  arma::vec x = project_to_simplex(x0, options.floor), g, xn, gn;
  double f = value_and_gradient(x, g);
  require(std::isfinite(f), "the objective must be finite at the starting point of the simplex search.");
  double t = options.step0;
  for (r.iterations = 0; r.iterations < options.max_iter; ++r.iterations) {
    bool accepted = false;
    double fn = f;
    for (int bt = 0; bt < 60; ++bt) {
      xn = project_to_simplex(x - t * g, options.floor);
      const arma::vec dx = xn - x;
      fn = value_and_gradient(xn, gn);
      if (std::isfinite(fn) &&
          fn <= f + arma::dot(g, dx) + arma::dot(dx, dx) / (2 * t) + 1e-15 * std::abs(f)) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {  // no decrease at any step length: stationary up to rounding
      r.converged = arma::abs(xn - x).max() < 1e-8;
      break;
    }
    const double change = arma::abs(xn - x).max();
    x = xn;
    f = fn;
    g = gn;
    if (change < options.tol) {
      r.converged = true;
      break;
    }
    t *= 2;
  }
  if (r.iterations >= options.max_iter) r.converged = false;
  r.x = x;
  r.value = f;
  return r;
}

}  // namespace tessera::optim
