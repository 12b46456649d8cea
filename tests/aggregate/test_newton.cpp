#include <doctest/doctest.h>

#include <cmath>

#include "tessera/common/error.hpp"
#include "tessera/optim/newton.hpp"

TEST_CASE("optim::newton_minimize finds known minimisers") {
  // f(x) = sum exp(x_i) - c'x + (x_1 - x_2)^2 / 2 with c > 0; at c1 = c2 the minimiser is log c.
  const arma::vec c = {2.0, 2.0, 0.5};
  auto f = [&c](const arma::vec& x, arma::vec* g, arma::mat* H) {
    const arma::vec e = arma::exp(x);
    const double cross = x(0) - x(1);
    if (g) {
      *g = e - c;
      (*g)(0) += cross;
      (*g)(1) -= cross;
    }
    if (H) {
      *H = arma::diagmat(e);
      (*H)(0, 0) += 1; (*H)(1, 1) += 1; (*H)(0, 1) -= 1; (*H)(1, 0) -= 1;
    }
    return arma::accu(e) - arma::dot(c, x) + 0.5 * cross * cross;
  };
  const auto r = tessera::optim::newton_minimize(f, arma::vec{5.0, -5.0, 3.0});
  CHECK(r.converged);
  CHECK(arma::norm(r.x - arma::log(c)) < 1e-10);
  // A singular (positive semidefinite) Hessian is damped, not a crash: f = (x1 + x2 - 1)^2.
  auto g = [](const arma::vec& x, arma::vec* gr, arma::mat* H) {
    const double s = x(0) + x(1) - 1;
    if (gr) *gr = arma::vec{2 * s, 2 * s};
    if (H) *H = arma::mat{{2, 2}, {2, 2}};
    return s * s;
  };
  const auto r2 = tessera::optim::newton_minimize(g, arma::vec{3.0, 3.0});
  CHECK(r2.converged);
  CHECK(std::abs(r2.x(0) + r2.x(1) - 1) < 1e-7);
  // A start outside the domain is rejected.
  auto h = [](const arma::vec& x, arma::vec*, arma::mat*) { return x(0) > 0 ? -std::log(x(0)) : arma::datum::inf; };
  CHECK_THROWS_AS(tessera::optim::newton_minimize(h, arma::vec{-1.0}), tessera::invalid_argument);
}
