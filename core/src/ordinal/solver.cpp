#include "solver.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tessera::ordinal::detail {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

double log_sigmoid(double x) { return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x)); }

// P(a < latent <= b) for the logistic latent, accurate in both tails.
double interval_prob(double a, double b) {
  return a > 0 ? sigmoid(-a) - sigmoid(-b) : sigmoid(b) - sigmoid(a);
}

double soft_threshold(double z, double t) {
  if (z > t) return z - t;
  if (z < -t) return z + t;
  return 0.0;
}

// Per-row gradient and 2 x 2 Hessian of -u_i log P(y_i) in (eta_lo, eta_hi), where
// lo = y - 1 and hi = y (absent entries are zero).
struct row_derivatives {
  arma::vec gl, gh, hll, hlh, hhh;
};

row_derivatives derivatives(const problem& P, const arma::mat& eta, double p_min) {
  row_derivatives d;
  d.gl.zeros(P.n);
  d.gh.zeros(P.n);
  d.hll.zeros(P.n);
  d.hlh.zeros(P.n);
  d.hhh.zeros(P.n);
  for (arma::uword i = 0; i < P.n; ++i) {
    const arma::uword c = P.cls(i);
    const double u = P.u(i);
    if (c == 0) {
      const double b = eta(i, 0);
      const double Fb = sigmoid(b), Sb = sigmoid(-b);
      d.gh(i) = -u * Sb;
      d.hhh(i) = u * Fb * Sb;
    } else if (c == P.K - 1) {
      const double a = eta(i, P.M - 1);
      const double Fa = sigmoid(a), Sa = sigmoid(-a);
      d.gl(i) = u * Fa;
      d.hll(i) = u * Fa * Sa;
    } else {
      const double a = eta(i, c - 1), b = eta(i, c);
      const double Fa = sigmoid(a), Sa = sigmoid(-a), Fb = sigmoid(b), Sb = sigmoid(-b);
      const double fa = Fa * Sa, fb = Fb * Sb;
      const double dfa = fa * (Sa - Fa), dfb = fb * (Sb - Fb);
      const double pr = std::max(interval_prob(a, b), p_min);
      double hll = dfa / pr + fa * fa / (pr * pr);
      double hhh = -dfb / pr + fb * fb / (pr * pr);
      double hlh = -fa * fb / (pr * pr);
      // PSD projection (exact arithmetic never needs it: log-concavity).
      hll = std::max(hll, 0.0);
      hhh = std::max(hhh, 0.0);
      const double bound = std::sqrt(hll * hhh);
      hlh = std::clamp(hlh, -bound, bound);
      d.gl(i) = u * fa / pr;
      d.gh(i) = -u * fb / pr;
      d.hll(i) = u * hll;
      d.hlh(i) = u * hlh;
      d.hhh(i) = u * hhh;
    }
  }
  return d;
}

// dL/dbeta_k: class-k rows carry gh, class-(k+1) rows carry gl.
void gradients_from_rows(const problem& P, const arma::vec& gl, const arma::vec& gh,
                         arma::mat& g_psi, arma::vec& g_a) {
  arma::mat g_beta(P.p, P.M, arma::fill::zeros);
  g_a.zeros(P.M);
  for (arma::uword k = 0; k < P.M; ++k) {
    const arma::uword s0 = P.start(k), s1 = P.start(k + 1), s2 = P.start(k + 2);
    if (s1 > s0) {
      g_beta.col(k) += P.X.rows(s0, s1 - 1).t() * gh.subvec(s0, s1 - 1);
      g_a(k) += arma::accu(gh.subvec(s0, s1 - 1));
    }
    if (s2 > s1) {
      g_beta.col(k) += P.X.rows(s1, s2 - 1).t() * gl.subvec(s1, s2 - 1);
      g_a(k) += arma::accu(gl.subvec(s1, s2 - 1));
    }
  }
  // dL/dpsi_m = sum_{k >= m} dL/dbeta_k.
  g_psi = g_beta;
  for (arma::uword m = P.M - 1; m-- > 0;) g_psi.col(m) += g_psi.col(m + 1);
}

bool crosses(const arma::mat& eta) {
  for (arma::uword k = 0; k + 1 < eta.n_cols; ++k) {
    const double* lo = eta.colptr(k);
    const double* hi = eta.colptr(k + 1);
    for (arma::uword i = 0; i < eta.n_rows; ++i)
      if (hi[i] < lo[i]) return true;
  }
  return false;
}

}  // namespace

problem::problem(const arma::mat& X_in, const arma::uvec& y, arma::uword n_classes,
                 const arma::vec& weights, bool standardize)
    : n(X_in.n_rows), p(X_in.n_cols), K(n_classes), M(n_classes - 1) {
  const arma::uvec order = arma::stable_sort_index(y);
  cls = y(order);
  X = X_in.rows(order);
  u = weights.is_empty() ? arma::vec(n, arma::fill::ones) : arma::vec(weights(order));
  u /= arma::accu(u);
  start.zeros(K + 1);
  for (arma::uword i = 0; i < n; ++i) ++start(cls(i) + 1);
  start = arma::cumsum(start);
  center = u.t() * X;
  X.each_row() -= center;
  scale = arma::sqrt(u.t() * (X % X));
  zero_column.zeros(p);
  for (arma::uword j = 0; j < p; ++j) {
    if (!(scale(j) > 1e-10 * std::max(1.0, std::abs(center(j))))) {
      zero_column(j) = 1;
      X.col(j).zeros();
      scale(j) = 1;
    } else if (!standardize) {
      scale(j) = 1;
    }
  }
  X.each_row() /= scale;
  Xsq = X % X;
}

parameters null_parameters(const problem& P) {
  parameters theta;
  theta.a.zeros(P.M);
  theta.psi.zeros(P.p, P.M);
  double cum = 0;
  for (arma::uword k = 0; k < P.M; ++k) {
    const arma::uword s0 = P.start(k), s1 = P.start(k + 1);
    if (s1 > s0) cum += arma::accu(P.u.subvec(s0, s1 - 1));
    const double q = std::clamp(cum, 1e-300, 1.0);
    theta.a(k) = std::clamp(std::log(q) - std::log1p(-std::min(q, 1.0 - 1e-16)), -100.0, 100.0);
  }
  return theta;
}

arma::mat linear_predictors(const problem& P, const parameters& theta) {
  arma::mat eta = P.X * arma::cumsum(theta.psi, 1);
  eta.each_row() += theta.a.t();
  return eta;
}

double mean_loss(const problem& P, const arma::mat& eta) {
  if (crosses(eta)) return inf;
  double loss = 0;
  for (arma::uword i = 0; i < P.n; ++i) {
    const arma::uword c = P.cls(i);
    double lp;
    if (c == 0) {
      lp = log_sigmoid(eta(i, 0));
    } else if (c == P.K - 1) {
      lp = log_sigmoid(-eta(i, P.M - 1));
    } else {
      const double pr = interval_prob(eta(i, c - 1), eta(i, c));
      if (!(pr > 0)) return inf;
      lp = std::log(pr);
    }
    loss -= P.u(i) * lp;
  }
  return loss;
}

double penalty_value(const penalty& pen, double lambda, const arma::mat& psi) {
  if (lambda == 0) return 0;
  double v = 0;
  for (arma::uword m = 0; m < psi.n_cols; ++m)
    for (arma::uword j = 0; j < psi.n_rows; ++j) {
      const double f = pen.f(j, m), x = psi(j, m);
      if (f > 0 && std::isfinite(f) && x != 0)
        v += f * (pen.alpha * std::abs(x) + 0.5 * (1 - pen.alpha) * x * x);
    }
  return lambda * v;
}

void loss_gradient(const problem& P, const parameters& theta, double p_min, arma::mat& g_psi,
                   arma::vec& g_a) {
  const row_derivatives d = derivatives(P, linear_predictors(P, theta), p_min);
  gradients_from_rows(P, d.gl, d.gh, g_psi, g_a);
}

double kkt_violation(const problem& P, const penalty& pen, double lambda, const parameters& theta,
                     double p_min) {
  arma::mat g;
  arma::vec ga;
  loss_gradient(P, theta, p_min, g, ga);
  double worst = ga.is_empty() ? 0.0 : arma::abs(ga).max();
  for (arma::uword m = 0; m < P.M; ++m)
    for (arma::uword j = 0; j < P.p; ++j) {
      const double f = pen.f(j, m);
      if (!std::isfinite(f) || P.zero_column(j)) continue;
      const double x = theta.psi(j, m);
      const double l1 = lambda * f * pen.alpha;
      double r;
      if (x != 0)
        r = std::abs(g(j, m) + lambda * f * (1 - pen.alpha) * x + (x > 0 ? l1 : -l1));
      else
        r = std::max(0.0, std::abs(g(j, m)) - l1);
      worst = std::max(worst, r);
    }
  return worst;
}

solve_report solve(const problem& P, const penalty& pen, double lambda, bool lambda_infinite,
                   parameters& theta, const presto_options& opt) {
  solve_report rep;
  const arma::uword n = P.n, M = P.M;
  // Free coordinates (j, m); frozen ones stay at zero.
  std::vector<arma::uword> free_j, free_m;
  for (arma::uword m = 0; m < M; ++m)
    for (arma::uword j = 0; j < P.p; ++j) {
      const double f = pen.f(j, m);
      const bool frozen = !std::isfinite(f) || P.zero_column(j) || (lambda_infinite && f > 0);
      if (frozen) theta.psi(j, m) = 0;
      else { free_j.push_back(j); free_m.push_back(m); }
    }
  const arma::uword n_free = free_j.size();

  arma::mat eta = linear_predictors(P, theta);
  double F = mean_loss(P, eta) + penalty_value(pen, lambda, theta.psi);
  if (!std::isfinite(F)) {
    // The warm start crosses on the training rows: restart from the intercept-only fit.
    theta = null_parameters(P);
    eta = linear_predictors(P, theta);
    F = mean_loss(P, eta) + penalty_value(pen, lambda, theta.psi);
  }
  arma::vec rl(n), rh(n), clo(n), chi(n);
  arma::mat A(P.p, M), B(P.p, P.K), h(P.p, M);
  std::vector<char> active(n_free, 0);

  for (int iter = 1; iter <= opt.max_iter; ++iter) {
    rep.iterations = iter;
    const row_derivatives d = derivatives(P, eta, opt.p_min);
    rl = d.gl;
    rh = d.gh;
    clo = d.hll + d.hlh;
    chi = d.hlh + d.hhh;
    const arma::vec tot = d.hll + 2 * d.hlh + d.hhh;
    // Curvatures h_jm = sum_{class m} x^2 hhh + sum_{class > m} x^2 (hll + 2 hlh + hhh).
    A.zeros();
    B.zeros();
    for (arma::uword c = 0; c < P.K; ++c) {
      const arma::uword s0 = P.start(c), s1 = P.start(c + 1);
      if (s1 == s0) continue;
      const arma::mat Xc = P.Xsq.rows(s0, s1 - 1).t();
      if (c < M) A.col(c) = Xc * d.hhh.subvec(s0, s1 - 1);
      B.col(c) = Xc * tot.subvec(s0, s1 - 1);
    }
    for (arma::uword m = 0; m < M; ++m) {
      h.col(m) = A.col(m);
      for (arma::uword c = m + 1; c < P.K; ++c) h.col(m) += B.col(c);
    }
    const parameters start = theta;

    auto sweep_intercepts = [&]() {
      double change = 0;
      for (arma::uword k = 0; k < M; ++k) {
        const arma::uword s0 = P.start(k), s1 = P.start(k + 1), s2 = P.start(k + 2);
        double G = 0, H = 0;
        for (arma::uword i = s0; i < s1; ++i) { G += rh(i); H += d.hhh(i); }
        for (arma::uword i = s1; i < s2; ++i) { G += rl(i); H += d.hll(i); }
        if (!(H > 0)) continue;
        const double delta = -G / H;
        theta.a(k) += delta;
        for (arma::uword i = s0; i < s1; ++i) { rl(i) += d.hlh(i) * delta; rh(i) += d.hhh(i) * delta; }
        for (arma::uword i = s1; i < s2; ++i) { rl(i) += d.hll(i) * delta; rh(i) += d.hlh(i) * delta; }
        change = std::max(change, H * delta * delta);
      }
      return change;
    };
    auto update = [&](arma::uword q) {
      const arma::uword j = free_j[q], m = free_m[q];
      const arma::uword s1 = P.start(m + 1), s0 = P.start(m);
      const double* x = P.X.colptr(j);
      double G = 0;
      for (arma::uword i = s0; i < s1; ++i) G += x[i] * rh(i);
      for (arma::uword i = s1; i < n; ++i) G += x[i] * (rl(i) + rh(i));
      const double H = h(j, m), f = pen.f(j, m), old = theta.psi(j, m);
      const double denom = H + lambda * f * (1 - pen.alpha);
      if (!(denom > 0)) return 0.0;
      const double next = soft_threshold(H * old - G, lambda * f * pen.alpha) / denom;
      const double delta = next - old;
      if (delta == 0) return 0.0;
      theta.psi(j, m) = next;
      for (arma::uword i = s0; i < s1; ++i) {
        const double v = delta * x[i];
        rl(i) += d.hlh(i) * v;
        rh(i) += d.hhh(i) * v;
      }
      for (arma::uword i = s1; i < n; ++i) {
        const double v = delta * x[i];
        rl(i) += clo(i) * v;
        rh(i) += chi(i) * v;
      }
      return std::max(H, 1e-300) * delta * delta;
    };

    // Coordinate descent with an active set.
    bool inner_done = false;
    while (!inner_done && rep.sweeps < opt.max_sweeps) {
      // Full sweep.
      ++rep.sweeps;
      double change = sweep_intercepts();
      for (arma::uword q = 0; q < n_free; ++q) {
        change = std::max(change, update(q));
        active[q] = theta.psi(free_j[q], free_m[q]) != 0 || pen.f(free_j[q], free_m[q]) == 0;
      }
      if (change < opt.tol_inner) break;
      // Active sweeps to convergence.
      while (rep.sweeps < opt.max_sweeps) {
        ++rep.sweeps;
        double c2 = sweep_intercepts();
        for (arma::uword q = 0; q < n_free; ++q)
          if (active[q]) c2 = std::max(c2, update(q));
        if (c2 < opt.tol_inner) break;
      }
    }

    // Step halving on the true objective.
    const arma::vec da = theta.a - start.a;
    const arma::mat dpsi = theta.psi - start.psi;
    arma::mat deta = P.X * arma::cumsum(dpsi, 1);
    deta.each_row() += da.t();
    double t = 1;
    bool accepted = false;
    double F_new = F;
    bool all_crossed = true;
    for (int halving = 0; halving <= opt.max_halvings; ++halving, t *= 0.5) {
      const arma::mat eta_t = eta + t * deta;
      const arma::mat psi_t = start.psi + t * dpsi;
      const double Ft = mean_loss(P, eta_t) + penalty_value(pen, lambda, psi_t);
      if (std::isfinite(Ft)) all_crossed = false;
      if (std::isfinite(Ft) && Ft <= F) {
        theta.a = start.a + t * da;
        theta.psi = psi_t;
        eta = eta_t;
        F_new = Ft;
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      theta = start;
      // No decrease along the Newton direction: converged if the step was negligible.
      const double step = std::max(da.is_empty() ? 0.0 : arma::abs(da).max(),
                                   dpsi.is_empty() ? 0.0 : arma::abs(dpsi).max());
      if (all_crossed) {
        rep.converged = false;
        rep.message = "every halved Newton step crosses the cumulative probabilities of some "
                      "training rows: the fit stops on the non-crossing boundary (see its KKT "
                      "residual); a larger lambda avoids it";
      } else if (step > 1e-6) {
        rep.converged = false;
        rep.message = "step halving could not decrease the objective";
      }
      break;
    }
    const double rel = std::abs(F - F_new) / (std::abs(F) + 1e-100);
    F = F_new;
    if (rel < opt.tol) break;
    if (iter == opt.max_iter) {
      rep.converged = false;
      rep.message = "reached max_iter Newton iterations";
    }
  }
  rep.objective = F;
  return rep;
}

void to_original(const problem& P, const parameters& theta, arma::vec& intercepts, arma::mat& beta,
                 arma::mat& psi) {
  psi = theta.psi;
  psi.each_col() /= P.scale.t();
  beta = arma::cumsum(psi, 1);
  intercepts = theta.a - beta.t() * P.center.t();
}

}  // namespace tessera::ordinal::detail
