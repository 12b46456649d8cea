#include "tessera/optim/newton.hpp"

#include <cmath>

#include "tessera/common/validate.hpp"

namespace tessera::optim {

namespace {
// Cholesky of H + mu I with the smallest mu in {0, m * damping_init * 10^j} that works.
bool damped_solve(const arma::mat& H, const arma::vec& g, double damping_init, arma::vec& step) {
  const double scale = std::max(arma::mean(arma::abs(H.diag())), 1e-300);
  arma::mat R;
  double mu = 0;
  for (int attempt = 0; attempt < 40; ++attempt) {
    arma::mat Hd = H;
    if (mu > 0) Hd.diag() += mu;
    if (arma::chol(R, Hd)) {
      const arma::vec z = arma::solve(arma::trimatl(R.t()), -g);
      step = arma::solve(arma::trimatu(R), z);
      return step.is_finite();
    }
    mu = (mu == 0) ? scale * damping_init : mu * 10.0;
  }
  return false;
}
}  // namespace

newton_result newton_minimize(const newton_objective& f, const arma::vec& x0,
                              const newton_options& options) {
  require(options.max_iter >= 1, "`max_iter` must be at least 1.");
  require(options.tol > 0, "`tol` must be positive.");
  newton_result out;
  out.x = x0;
  arma::vec g;
  arma::mat H;
  double fx = f(out.x, &g, &H);
  require(std::isfinite(fx) && g.is_finite() && H.is_finite(),
          "the starting point of Newton's method must have a finite objective and derivatives; "
          "start from a point inside the domain.");
  out.message = "maximum number of iterations reached";
  for (int it = 1; it <= options.max_iter; ++it) {
    out.iterations = it;
    arma::vec step;
    if (!damped_solve(H, g, options.damping_init, step)) {
      out.message = "the Hessian could not be regularised to positive definite";
      break;
    }
    const double slope = arma::dot(g, step);  // negative for a descent direction
    if (!(slope < 0)) {
      out.converged = arma::norm(g, "inf") <= std::sqrt(options.tol);
      out.message = out.converged ? "converged (zero gradient)" : "no descent direction";
      break;
    }
    if (-slope <= 2.0 * options.tol) {
      out.converged = true;
      out.message = "converged (Newton decrement)";
      break;
    }
    double t = 1.0;
    bool accepted = false;
    double f_new = fx;
    arma::vec x_new;
    for (int bt = 0; bt <= options.max_backtracks; ++bt) {
      x_new = out.x + t * step;
      f_new = f(x_new, nullptr, nullptr);
      if (std::isfinite(f_new) && f_new <= fx + options.armijo * t * slope) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      // No decrease is possible at floating-point resolution: we are at the minimum
      // unless the gradient says otherwise.
      out.converged = -slope <= 1e3 * options.tol * (1.0 + std::abs(fx));
      out.message = out.converged ? "converged (no further decrease at machine precision)"
                                  : "line search failed";
      break;
    }
    const double change = fx - f_new;
    out.x = x_new;
    fx = f(out.x, &g, &H);
    if (t == 1.0 && change <= options.tol * (1.0 + std::abs(fx)) * 1e-3) {
      out.converged = true;
      out.message = "converged (objective change)";
      break;
    }
  }
  out.value = fx;
  out.gradient = g;
  return out;
}

}  // namespace tessera::optim
