#include "tessera/glm/glm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "tessera/common/error.hpp"
#include "tessera/common/folds.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::glm {

namespace {

constexpr double kMuClamp = 1e-5;        // working-weight clamp of the penalised IRLS (glmnet's pmin)
constexpr double kSeparationProb = 1e-8; // fitted probability this close to 0/1 flags separation

double expit(double eta) {
  return eta >= 0 ? 1.0 / (1.0 + std::exp(-eta)) : std::exp(eta) / (1.0 + std::exp(eta));
}

arma::vec expit(const arma::vec& eta) {
  arma::vec mu(eta.n_elem);
  for (arma::uword i = 0; i < eta.n_elem; ++i) mu(i) = expit(eta(i));
  return mu;
}

// Weighted mean loss (gaussian: squared error / 2 * 2 = squared error; binomial: deviance)
// per observation, with probabilities clamped away from 0 and 1 for the logarithms.
arma::vec unit_deviance(family link, const arma::vec& y, const arma::vec& eta) {
  arma::vec d(y.n_elem);
  if (link == family::gaussian) return arma::square(y - eta);
  for (arma::uword i = 0; i < y.n_elem; ++i) {
    // -2 [y eta - log(1 + exp(eta))], computed stably.
    const double e = eta(i);
    const double log1pexp = e > 0 ? e + std::log1p(std::exp(-e)) : std::log1p(std::exp(e));
    d(i) = 2.0 * (log1pexp - y(i) * e);
  }
  return d;
}

struct standardized {
  arma::mat X;              // centred (if intercept) and scaled columns
  arma::rowvec center, scale;
  arma::vec w;              // weights normalised to sum 1
  arma::vec pf;             // penalty factors
  arma::uvec usable;        // 1 if the column has positive weighted variance
};

standardized standardize(const arma::mat& X, const arma::vec& w_raw, const fit_options& o) {
  standardized s;
  const arma::uword p = X.n_cols;
  s.w = w_raw / arma::accu(w_raw);
  s.center.zeros(p);
  s.scale.ones(p);
  s.usable.ones(p);
  s.X = X;
  for (arma::uword j = 0; j < p; ++j) {
    const double m = arma::dot(s.w, X.col(j));
    const double sd = std::sqrt(std::max(0.0, arma::dot(s.w, arma::square(X.col(j) - m))));
    if (o.intercept) s.center(j) = m;
    if (sd <= 1e-12 * std::max(1.0, std::abs(m))) {
      // Constant column: redundant with the intercept (or itself an intercept).
      if (o.intercept || m == 0) s.usable(j) = 0;
    } else if (o.standardize) {
      s.scale(j) = sd;
    }
    s.X.col(j) = (X.col(j) - s.center(j)) / s.scale(j);
    if (!s.usable(j)) s.X.col(j).zeros();
  }
  s.pf = o.penalty_factor.is_empty() ? arma::vec(p, arma::fill::ones) : o.penalty_factor;
  return s;
}

// The penalised problem on the standardised design, solved at one lambda after another
// with warm starts (the glmnet algorithm):
//  * gaussian, p < kCovarianceMaxP: "covariance" updates. The gradient g_j = x_j'W(y - b0 - Xb)
//    is kept for every column; a coordinate move d of b_j updates it by -d * x_k'W x_j, whose
//    column is computed once, when j first moves. A sweep costs O(p) per active coordinate
//    and the KKT check is free.
//  * otherwise ("naive"): the weighted residual W(z - eta) is updated in O(n) per move; the
//    logistic model runs IRLS around it (working weights clamped at kMuClamp, as glmnet).
//  * sequential strong rule: at lambda_k only the columns that were ever active or whose
//    |g_j| exceeds alpha pf_j (2 lambda_k - lambda_{k-1}) enter the coordinate descent;
//    afterwards every other column is checked against the KKT condition |g_j| <= lambda alpha
//    pf_j and violators are added before solving again.
//  * inside the strong set, a full sweep is followed by sweeps over the nonzero coefficients
//    until they settle, then a confirming full sweep (active-set cycling).
//  * convergence: the largest weighted squared move max_j x_j'Wx_j (delta b_j)^2 of a sweep
//    (intercept included) below tol times the weighted variance of y; the IRLS loop stops
//    when the same criterion holds for the move of a whole IRLS step.
constexpr arma::uword kCovarianceMaxP = 500;  // glmnet: type.gaussian = "covariance" if p < 500

double soft_threshold(double u, double t) { return u > t ? u - t : (u < -t ? u + t : 0.0); }

class penalised_solver {
 public:
  penalised_solver(const standardized& s, const arma::vec& y, const fit_options& o)
      : s_(s), y_(y), o_(o), p_(s.X.n_cols) {
    b.zeros(p_);
    ever_.assign(p_, 0);
    strong_.assign(p_, 0);
    const double ybar = o.intercept ? arma::dot(s.w, y) : (o.link == family::gaussian ? 0.0 : 0.5);
    ref_ = o.intercept ? arma::dot(s.w, arma::square(y - ybar)) : arma::dot(s.w, arma::square(y));
    if (!(ref_ > 0)) ref_ = 1.0;
    thr_ = o.tol * ref_;
    if (o.link == family::binomial) {
      b0 = o.intercept ? std::log(ybar / (1 - ybar)) : 0.0;
      null_dev_ = arma::dot(s.w, unit_deviance(family::binomial, y, arma::vec(y.n_elem).fill(b0)));
    } else {
      b0 = ybar;
      null_dev_ = ref_;
    }
    eta_ = arma::vec(y.n_elem).fill(b0);
    covariance_ = o.link == family::gaussian && p_ < kCovarianceMaxP;
    // Gradient at the null fit (all penalised coefficients zero).
    if (o.link == family::gaussian) {
      gy_ = s.X.t() * (s.w % (y - b0));
      g_ = gy_;
    } else {
      g_ = s.X.t() * (s.w % (y - expit(eta_)));
    }
    if (covariance_) {
      xv_.set_size(p_);
      for (arma::uword j = 0; j < p_; ++j) xv_(j) = arma::dot(s.w, arma::square(s.X.col(j)));
      cov_.set_size(p_, p_);
      have_col_.assign(p_, 0);
    }
  }

  // Smallest lambda at which all penalised coefficients are zero (alpha floored at 1e-3);
  // valid before the first solve, while the gradient is the one at the null fit.
  double lambda_max() const {
    const double a = std::max(o_.alpha, 1e-3);
    double lm = 0;
    for (arma::uword j = 0; j < p_; ++j)
      if (s_.usable(j) && s_.pf(j) > 0) lm = std::max(lm, std::abs(g_(j)) / (a * s_.pf(j)));
    return lm > 0 ? lm : 1.0;
  }

  // Solves at lam, warm-started at the current (b0, b); lam_prev is the previous lambda.
  void solve(double lam, double lam_prev) {
    const double cut = o_.alpha * (2 * lam - lam_prev);
    for (arma::uword j = 0; j < p_; ++j)
      strong_[j] = s_.usable(j) && (ever_[j] || s_.pf(j) == 0 || std::abs(g_(j)) > cut * s_.pf(j));
    converged = false;
    sweeps = 0;
    irls = 0;
    for (;;) {
      if (covariance_) {
        converged = cd_covariance(lam);
      } else {
        converged = irls_naive(lam);
      }
      if (!converged) break;
      // KKT check on the columns left out.
      bool violated = false;
      for (arma::uword j = 0; j < p_; ++j) {
        if (strong_[j] || !s_.usable(j)) continue;
        if (std::abs(g_(j)) > lam * o_.alpha * s_.pf(j) * (1 + 1e-12)) {
          strong_[j] = 1;
          violated = true;
        }
      }
      if (!violated) break;
    }
    for (arma::uword j = 0; j < p_; ++j)
      if (b(j) != 0) ever_[j] = 1;
  }

  // Fraction of the null deviance explained by the current fit.
  double deviance_ratio() const {
    double dev;
    if (covariance_) {
      dev = ref_ - arma::dot(b, gy_) - arma::dot(b, g_);
    } else {
      dev = arma::dot(s_.w, unit_deviance(o_.link, y_, eta_));
    }
    return 1 - dev / null_dev_;
  }

  double b0 = 0;
  arma::vec b;
  bool converged = true;
  long sweeps = 0;
  int irls = 0;

 private:
  void ensure_cov_col(arma::uword j) {
    if (!have_col_[j]) {
      cov_.col(j) = s_.X.t() * (s_.w % s_.X.col(j));
      have_col_[j] = 1;
    }
  }

  // Gaussian, covariance updates on the strong set; true when converged.
  bool cd_covariance(double lam) {
    bool all = true;  // sweep over the whole strong set (true) or only the nonzero coefficients
    while (sweeps < o_.max_sweeps) {
      ++sweeps;
      double maxd = 0;
      for (arma::uword j = 0; j < p_; ++j) {
        if (!strong_[j] || xv_(j) <= 0 || (!all && b(j) == 0)) continue;
        const double u = g_(j) + xv_(j) * b(j);
        const double bn =
            soft_threshold(u, lam * o_.alpha * s_.pf(j)) / (xv_(j) + lam * (1 - o_.alpha) * s_.pf(j));
        const double d = bn - b(j);
        if (d != 0) {
          b(j) = bn;
          ensure_cov_col(j);
          g_ -= d * cov_.col(j);
          maxd = std::max(maxd, xv_(j) * d * d);
        }
      }
      if (maxd < thr_) {
        if (all) return true;
        all = true;
      } else {
        all = false;
      }
    }
    return false;
  }

  // Naive updates with IRLS (binomial) or a single weighted least-squares pass (gaussian).
  bool irls_naive(double lam) {
    const bool logistic = o_.link == family::binomial;
    const arma::uword n = y_.n_elem;
    arma::vec W = s_.w, rw(n), xv(p_);
    std::vector<char> have_xv(p_, 0);
    for (int it = 1; it <= o_.max_irls; ++it) {
      ++irls;
      if (logistic) {
        const arma::vec mu = expit(eta_);
        const arma::vec muc = arma::clamp(mu, kMuClamp, 1 - kMuClamp);
        W = s_.w % muc % (1 - muc);
        rw = s_.w % (y_ - mu);
      } else {
        rw = s_.w % (y_ - eta_);
      }
      const double sw = arma::accu(W);
      std::fill(have_xv.begin(), have_xv.end(), 0);
      const double b0_old = b0;
      const arma::vec b_old = b;
      bool all = true, inner_ok = false;
      while (sweeps < o_.max_sweeps) {
        ++sweeps;
        double maxd = 0;
        if (o_.intercept) {
          const double d = arma::accu(rw) / sw;
          if (d != 0) {
            b0 += d;
            rw -= d * W;
            maxd = std::max(maxd, sw * d * d);
          }
        }
        for (arma::uword j = 0; j < p_; ++j) {
          if (!strong_[j] || (!all && b(j) == 0)) continue;
          if (!have_xv[j]) {
            xv(j) = arma::dot(W, arma::square(s_.X.col(j)));
            have_xv[j] = 1;
          }
          if (xv(j) <= 0) continue;
          const double u = arma::dot(s_.X.col(j), rw) + xv(j) * b(j);
          const double bn =
              soft_threshold(u, lam * o_.alpha * s_.pf(j)) / (xv(j) + lam * (1 - o_.alpha) * s_.pf(j));
          const double d = bn - b(j);
          if (d != 0) {
            b(j) = bn;
            rw -= d * (W % s_.X.col(j));
            maxd = std::max(maxd, xv(j) * d * d);
          }
        }
        if (maxd < thr_) {
          if (all) {
            inner_ok = true;
            break;
          }
          all = true;
        } else {
          all = false;
        }
      }
      // Refresh the linear predictor from the nonzero coefficients.
      eta_.fill(b0);
      double outer = o_.intercept ? sw * (b0 - b0_old) * (b0 - b0_old) : 0.0;
      for (arma::uword j = 0; j < p_; ++j) {
        if (b(j) != 0) eta_ += b(j) * s_.X.col(j);
        if (have_xv[j]) outer = std::max(outer, xv(j) * (b(j) - b_old(j)) * (b(j) - b_old(j)));
      }
      if (!inner_ok) return false;
      if (!logistic || outer < thr_) {
        g_ = s_.X.t() * (s_.w % (y_ - (logistic ? expit(eta_) : eta_)));
        return true;
      }
    }
    return false;
  }

  const standardized& s_;
  const arma::vec& y_;
  const fit_options& o_;
  arma::uword p_;
  double ref_ = 1, thr_ = 0, null_dev_ = 1;
  bool covariance_ = false;
  arma::vec eta_, g_, gy_, xv_;
  arma::mat cov_;
  std::vector<char> have_col_;

 public:
  std::vector<char> ever_, strong_;
};

// Fits the standardised problem along `lambda` (decreasing) with warm starts. With
// `early_stop`, stops as glmnet does for a generated path: after at least 5 lambdas, when the
// deviance ratio exceeds 0.999 or its gain falls below 1e-5 (relative to the ratio for the
// gaussian family, absolute for the binomial). Calls visit(k, solver) after each lambda.
template <class Visit>
arma::uword solve_path(const standardized& s, const arma::vec& y, const fit_options& o, const arma::vec& lambda,
                       bool early_stop, Visit visit) {
  penalised_solver solver(s, y, o);
  double lam_prev = std::max(solver.lambda_max(), lambda.is_empty() ? 0.0 : lambda(0));
  double dr_prev = 0;
  for (arma::uword k = 0; k < lambda.n_elem; ++k) {
    solver.solve(lambda(k), lam_prev);
    lam_prev = lambda(k);
    visit(k, solver);
    if (!early_stop || k + 1 < 5) {
      if (early_stop) dr_prev = solver.deviance_ratio();
      continue;
    }
    const double dr = solver.deviance_ratio();
    const double gain = dr - dr_prev;
    dr_prev = dr;
    if (dr > 0.999) return k + 1;
    if (o.link == family::gaussian ? gain < 1e-5 * dr : gain < 1e-5) return k + 1;
  }
  return lambda.n_elem;
}

// One penalised fit at `lam` (cold start, strong rule relative to lambda_max).
void fit_penalised(const standardized& s, const arma::vec& y, double lam, const fit_options& o, double& b0,
                   arma::vec& b, glm_fit& out) {
  solve_path(s, y, o, arma::vec{lam}, false, [&](arma::uword, const penalised_solver& sv) {
    b0 = sv.b0;
    b = sv.b;
    out.converged = sv.converged;
    out.iterations = o.link == family::gaussian ? static_cast<int>(sv.sweeps) : sv.irls;
  });
  if (!out.converged)
    out.message = o.link == family::gaussian ? "coordinate descent reached max_sweeps before converging"
                                             : "IRLS reached max_irls (or max_sweeps) before converging";
}
void to_original_scale(const standardized& s, double b0, const arma::vec& b, glm_fit& out) {
  out.beta = b / s.scale.t();
  out.intercept = b0 - arma::dot(s.center, out.beta);
  out.x_center = s.center;
  out.x_scale = s.scale;
}

void validate(const arma::mat& X, const arma::vec& y, const arma::vec& w, const fit_options& o) {
  require(y.n_elem >= 2, "`y` must have at least 2 observations, not " + std::to_string(y.n_elem) + ".");
  require(X.n_rows == y.n_elem, "`X` must have one row per element of `y` (" + std::to_string(y.n_elem) +
                                    "), not " + std::to_string(X.n_rows) + " rows.");
  check_finite(X, "X");
  check_finite(y, "y");
  if (!w.is_empty()) {
    require(w.n_elem == y.n_elem, "`weights` must have one entry per observation (" +
                                      std::to_string(y.n_elem) + "), or be empty for equal weights.");
    check_finite(w, "weights");
    require(w.min() >= 0, "`weights` must be non-negative; drop observations instead of negative weights.");
    require(arma::accu(w) > 0, "`weights` must have a positive sum.");
  }
  check_nonnegative(o.lambda, "lambda");
  check_in_closed(o.alpha, 0.0, 1.0, "alpha");
  check_positive(o.tol, "tol");
  check_at_least(o.max_sweeps, 1, "max_sweeps");
  check_at_least(o.max_irls, 1, "max_irls");
  check_positive(o.separation_lambda, "separation_lambda");
  if (!o.penalty_factor.is_empty()) {
    require(o.penalty_factor.n_elem == X.n_cols,
            "`penalty_factor` must have one entry per column of `X` (" + std::to_string(X.n_cols) + ").");
    check_finite(o.penalty_factor, "penalty_factor");
    require(o.penalty_factor.min() >= 0, "`penalty_factor` must be non-negative.");
  }
  if (o.link == family::binomial) {
    for (arma::uword i = 0; i < y.n_elem; ++i)
      if (y(i) != 0 && y(i) != 1)
        throw invalid_argument("`y` must be 0/1 for a logistic fit, but entry " + std::to_string(i + 1) + " is " +
                               format_number(y(i)) + ".");
    const arma::vec ww = w.is_empty() ? arma::vec(y.n_elem, arma::fill::ones) : w;
    const double s1 = arma::dot(ww, y), s0 = arma::dot(ww, 1 - y);
    require(s1 > 0 && s0 > 0, "`y` has a single class (all " + std::string(s1 > 0 ? "1" : "0") +
                                  " among positively weighted observations): a logistic fit needs both "
                                  "0s and 1s; model the constant probability directly instead.");
  }
}

// Unpenalised fit by direct solve (gaussian) or Newton with step halving (binomial).
glm_fit fit_unpenalised(const arma::mat& X, const arma::vec& y, const arma::vec& w, const fit_options& o) {
  glm_fit out;
  out.link = o.link;
  out.alpha = o.alpha;
  const arma::uword n = X.n_rows, p = X.n_cols;
  const standardized s = standardize(X, w, o);
  for (arma::uword j = 0; j < p; ++j)
    require(s.usable(j) || !o.intercept,
            "`X` column " + std::to_string(j + 1) +
                " is constant, which makes the unpenalised fit singular: drop it or use lambda > 0.");
  // Work on the standardised design for conditioning, convert back at the end.
  arma::mat D = o.intercept ? arma::join_horiz(arma::ones(n), s.X) : s.X;
  const arma::uword k = D.n_cols;
  auto solve_checked = [&](const arma::mat& H, const arma::vec& g) {
    arma::vec step;
    const double rc = k ? arma::rcond(H) : 1.0;
    if (!(rc > 1e-13) || !arma::solve(step, H, g, arma::solve_opts::no_approx))
      throw invalid_argument("`X` has exactly collinear columns (or too few observations with positive "
                             "weight), so the unpenalised fit is singular: drop redundant columns or use "
                             "lambda > 0.");
    return step;
  };
  arma::vec theta(k, arma::fill::zeros);
  arma::mat H;
  if (o.link == family::gaussian) {
    H = D.t() * (D.each_col() % s.w);
    theta = solve_checked(H, D.t() * (s.w % y));
    out.iterations = 1;
    const arma::vec r = y - D * theta;
    const double nz = static_cast<double>(arma::accu(w > 0));
    const double rss = arma::dot(w, arma::square(r));  // raw weights, as lm
    const double sigma2 = nz > k ? rss / (nz - k) : std::numeric_limits<double>::quiet_NaN();
    arma::mat Hraw = D.t() * (D.each_col() % w);
    out.vcov = sigma2 * arma::inv_sympd(arma::symmatu(Hraw));
  } else {
    const double ybar = arma::dot(s.w, y);
    if (o.intercept) theta(0) = std::log(ybar / (1 - ybar));
    double dev = arma::dot(s.w, unit_deviance(o.link, y, D * theta));
    out.converged = false;
    for (int it = 1; it <= o.max_irls; ++it) {
      const arma::vec mu = expit(D * theta);
      const arma::vec W = s.w % mu % (1 - mu);
      H = D.t() * (D.each_col() % W);
      const arma::vec step = solve_checked(H, D.t() * (s.w % (y - mu)));
      double t = 1.0, dev_new = 0;
      arma::vec cand;
      for (int h = 0; h < 30; ++h, t /= 2) {
        cand = theta + t * step;
        dev_new = arma::dot(s.w, unit_deviance(o.link, y, D * cand));
        if (dev_new <= dev + 1e-12 * (std::abs(dev) + 1)) break;
      }
      theta = cand;
      out.iterations = it;
      const bool small = std::abs(dev_new - dev) / (std::abs(dev_new) + 0.1) < 1e-10;
      dev = dev_new;
      if (small) {
        out.converged = true;
        break;
      }
    }
    const arma::vec mu = expit(D * theta);
    bool extreme = false;
    for (arma::uword i = 0; i < n; ++i)
      if (w.empty() || w(i) > 0) extreme = extreme || mu(i) < kSeparationProb || mu(i) > 1 - kSeparationProb;
    if (extreme || !out.converged) {
      out.separation = true;
      return out;  // the caller handles it
    }
    const arma::mat Hraw = D.t() * (D.each_col() % (w % mu % (1 - mu)));
    out.vcov = arma::inv_sympd(arma::symmatu(Hraw));
  }
  // Back to the original scale: theta = (c0, c) on the standardised columns.
  const double c0 = o.intercept ? theta(0) : 0.0;
  const arma::vec c = o.intercept ? arma::vec(theta.tail(p)) : theta;
  to_original_scale(s, c0, c, out);
  // The covariance transforms by the same linear map T: (b0, b) = T (c0, c).
  if (o.intercept) {
    arma::mat T(k, k, arma::fill::zeros);
    T(0, 0) = 1;
    for (arma::uword j = 0; j < p; ++j) {
      T(1 + j, 1 + j) = 1.0 / s.scale(j);
      T(0, 1 + j) = -s.center(j) / s.scale(j);
    }
    // vcov was computed on the standardised design: map it.
    out.vcov = T * out.vcov * T.t();
  } else {
    const arma::vec inv = 1.0 / s.scale.t();
    out.vcov = arma::diagmat(inv) * out.vcov * arma::diagmat(inv);
  }
  if (!o.intercept) {
    // Report a (p+1)x(p+1) matrix with a zero intercept row/column for a uniform layout.
    arma::mat V(p + 1, p + 1, arma::fill::zeros);
    V.submat(1, 1, p, p) = out.vcov;
    out.vcov = V;
  }
  return out;
}

// The path on standardised data, coefficients returned on the original scale.
path_fit path_on(const standardized& s, const arma::vec& y, const fit_options& o, const arma::vec& lambda,
                 bool early_stop) {
  path_fit out;
  out.intercept.set_size(lambda.n_elem);
  out.beta.set_size(s.X.n_cols, lambda.n_elem);
  out.dev_ratio.set_size(lambda.n_elem);
  const arma::uword L = solve_path(s, y, o, lambda, early_stop, [&](arma::uword k, const penalised_solver& sv) {
    glm_fit tmp;
    to_original_scale(s, sv.b0, sv.b, tmp);
    out.intercept(k) = tmp.intercept;
    out.beta.col(k) = tmp.beta;
    out.dev_ratio(k) = sv.deviance_ratio();
    out.converged = out.converged && sv.converged;
  });
  out.lambda = lambda.head(L);
  out.intercept = out.intercept.head(L);
  out.beta = out.beta.head_cols(L);
  out.dev_ratio = out.dev_ratio.head(L);
  return out;
}

// Mean deviance of the fit and of the null (intercept-only) model, weights normalised.
void set_deviances(glm_fit& out, const arma::mat& X, const arma::vec& y, const arma::vec& w,
                   const fit_options& options) {
  const arma::vec wn = w / arma::accu(w);
  out.deviance = arma::dot(wn, unit_deviance(options.link, y, out.intercept + X * out.beta));
  const double ybar = options.intercept ? arma::dot(wn, y) : (options.link == family::gaussian ? 0.0 : 0.5);
  const double eta0 = options.link == family::gaussian ? ybar : std::log(ybar / (1 - ybar));
  out.null_deviance = arma::dot(wn, unit_deviance(options.link, y, arma::vec(y.n_elem).fill(eta0)));
}

}  // namespace

arma::vec glm_fit::predict_link(const arma::mat& X) const {
  require(X.n_cols == beta.n_elem, "`X` must have " + std::to_string(beta.n_elem) +
                                       " columns (as in the fit), not " + std::to_string(X.n_cols) + ".");
  check_finite(X, "X");
  return intercept + X * beta;
}

arma::vec glm_fit::predict(const arma::mat& X) const {
  const arma::vec eta = predict_link(X);
  return link == family::gaussian ? eta : expit(eta);
}

glm_fit fit(const arma::mat& X, const arma::vec& y, const arma::vec& weights, const fit_options& options) {
  validate(X, y, weights, options);
  const arma::vec w = weights.is_empty() ? arma::vec(y.n_elem, arma::fill::ones) : weights;
  const standardized s = standardize(X, w, options);
  glm_fit out;
  if (options.lambda == 0) {
    out = fit_unpenalised(X, y, w, options);
    if (!out.separation) {
      out.lambda = 0;
      out.alpha = options.alpha;
    } else {
      if (options.on_separation == separation_action::error)
        throw numerical_error("the logistic fit shows separation (fitted probabilities numerically 0 or 1): "
                              "the maximum likelihood estimate does not exist; use a penalised fit.");
      fit_options o = options;
      o.lambda = options.separation_lambda;
      o.alpha = 0.0;
      double b0 = 0;
      arma::vec b(X.n_cols, arma::fill::zeros);
      glm_fit pen;
      pen.link = options.link;
      fit_penalised(s, y, o.lambda, o, b0, b, pen);
      to_original_scale(s, b0, b, pen);
      pen.lambda = o.lambda;
      pen.alpha = 0.0;
      pen.separation = true;
      pen.message = "separation detected (fitted probabilities numerically 0 or 1); refitted with a ridge "
                    "penalty lambda = " + format_number(o.lambda) +
                    (pen.message.empty() ? std::string() : "; " + pen.message);
      out = pen;
    }
  } else {
    double b0 = 0;
    arma::vec b(X.n_cols, arma::fill::zeros);
    if (options.link == family::binomial && options.intercept) {
      const double ybar = arma::dot(s.w, y);
      b0 = std::log(ybar / (1 - ybar));
    }
    out.link = options.link;
    fit_penalised(s, y, options.lambda, options, b0, b, out);
    to_original_scale(s, b0, b, out);
    out.lambda = options.lambda;
    out.alpha = options.alpha;
  }
  out.link = options.link;
  set_deviances(out, X, y, w, options);
  return out;
}

double lambda_max(const arma::mat& X, const arma::vec& y, const arma::vec& weights, const fit_options& options) {
  validate(X, y, weights, options);
  const arma::vec w = weights.is_empty() ? arma::vec(y.n_elem, arma::fill::ones) : weights;
  const standardized s = standardize(X, w, options);
  return penalised_solver(s, y, options).lambda_max();
}

arma::vec lambda_path(const arma::mat& X, const arma::vec& y, const arma::vec& weights,
                      const fit_options& options, const path_options& path) {
  if (!path.lambda.is_empty()) {
    check_finite(path.lambda, "lambda");
    require(path.lambda.min() > 0, "`lambda` path values must be positive.");
    return arma::sort(path.lambda, "descend");
  }
  check_at_least(path.n_lambda, 2, "n_lambda");
  double ratio = path.lambda_min_ratio;
  if (ratio < 0) ratio = X.n_rows > X.n_cols ? 1e-4 : 1e-2;
  check_in_open(ratio, 0.0, 1.0, "lambda_min_ratio");
  const double lm = lambda_max(X, y, weights, options);
  arma::vec lam(path.n_lambda);
  for (int k = 0; k < path.n_lambda; ++k) lam(k) = lm * std::pow(ratio, k / double(path.n_lambda - 1));
  return lam;
}

arma::uvec make_folds(arma::uword n, int folds, std::uint64_t seed) {
  check_at_least(folds, 2, "folds");
  require(static_cast<arma::uword>(folds) <= n, "`folds` (" + std::to_string(folds) +
                                                    ") must not exceed the number of observations (" +
                                                    std::to_string(n) + ").");
  rng_engine rng = make_rng(seed, 0x601d5);
  const arma::uvec perm = draw_permutation(rng, n);
  arma::uvec id(n);
  for (arma::uword i = 0; i < n; ++i) id(perm(i)) = i % static_cast<arma::uword>(folds);
  return id;
}

arma::uvec make_stratified_folds(const arma::uvec& strata, int folds, std::uint64_t seed) {
  return stratified_folds(strata, folds, seed);
}

path_fit fit_path(const arma::mat& X, const arma::vec& y, const arma::vec& weights, const fit_options& options,
                  const path_options& path) {
  validate(X, y, weights, options);
  const arma::vec w = weights.is_empty() ? arma::vec(y.n_elem, arma::fill::ones) : weights;
  return path_on(standardize(X, w, options), y, options, lambda_path(X, y, w, options, path), path.lambda.is_empty());
}

cv_fit cross_validate(const arma::mat& X, const arma::vec& y, const arma::vec& weights,
                      const fit_options& options, const cv_options& cv, std::uint64_t seed) {
  validate(X, y, weights, options);
  check_at_least(cv.folds, 2, "folds");
  const arma::uword n = y.n_elem;
  const arma::vec w = weights.is_empty() ? arma::vec(n, arma::fill::ones) : weights;
  cv_fit out;
  out.lambda = lambda_path(X, y, w, options, cv.path);
  if (!cv.fold_id.is_empty()) {
    require(cv.fold_id.n_elem == n, "`fold_id` must have one entry per observation (" + std::to_string(n) + ").");
    require(cv.fold_id.max() < static_cast<arma::uword>(cv.folds),
            "`fold_id` values must lie in 0..folds-1 (folds = " + std::to_string(cv.folds) + ").");
    out.fold_id = cv.fold_id;
  } else {
    out.fold_id = options.link == family::binomial
                      ? make_stratified_folds(arma::conv_to<arma::uvec>::from(y), cv.folds, seed)
                      : make_folds(n, cv.folds, seed);
  }
  // The path on all the data first (as cv.glmnet): a generated path may stop early, and the
  // folds then use the shortened sequence; the chosen fit is read off this path.
  const standardized s_all = standardize(X, w, options);
  const path_fit full = path_on(s_all, y, options, out.lambda, cv.path.lambda.is_empty());
  out.lambda = full.lambda;
  const arma::uword L = out.lambda.n_elem;
  const arma::uword K = static_cast<arma::uword>(cv.folds);
  arma::mat cvraw(K, L, arma::fill::zeros);
  arma::vec fold_w(K, arma::fill::zeros);
  for (arma::uword k = 0; k < K; ++k) {
    const arma::uvec tr = arma::find(out.fold_id != k), te = arma::find(out.fold_id == k);
    const arma::vec ytr = y(tr), wtr = w(tr), yte = y(te), wte = w(te);
    fold_w(k) = arma::accu(wte);
    if (options.link == family::binomial) {
      const double s1 = arma::dot(wtr, ytr), s0 = arma::dot(wtr, 1 - ytr);
      require(s1 > 0 && s0 > 0, "`y` has too few observations of one class for " + std::to_string(K) +
                                    "-fold cross-validation: use fewer folds.");
    }
    const path_fit pf = path_on(standardize(X.rows(tr), wtr, options), ytr, options, out.lambda, false);
    const arma::mat eta_all = X.rows(te) * pf.beta;
    for (arma::uword l = 0; l < L; ++l) {
      arma::vec eta = eta_all.col(l) + pf.intercept(l);
      if (options.link == family::binomial) {
        // Held-out deviance with probabilities clamped as cv.glmnet does.
        const arma::vec mu = arma::clamp(expit(eta), kMuClamp, 1 - kMuClamp);
        eta = arma::log(mu / (1 - mu));
      }
      cvraw(k, l) = fold_w(k) > 0 ? arma::dot(wte, unit_deviance(options.link, yte, eta)) / fold_w(k) : 0.0;
    }
  }
  const double W = arma::accu(fold_w);
  out.cvm = (fold_w.t() * cvraw).t() / W;
  out.cvsd.set_size(L);
  for (arma::uword l = 0; l < L; ++l) {
    const arma::vec dev = cvraw.col(l) - out.cvm(l);
    out.cvsd(l) = std::sqrt(arma::dot(fold_w, arma::square(dev)) / W / (K - 1));
  }
  const arma::uword imin = out.cvm.index_min();
  out.lambda_min = out.lambda(imin);
  out.lambda_1se = out.lambda_min;
  arma::uword i1se = imin;
  for (arma::uword l = 0; l < L; ++l)
    if (out.cvm(l) <= out.cvm(imin) + out.cvsd(imin)) {
      out.lambda_1se = out.lambda(l);
      i1se = l;
      break;
    }
  const arma::uword ic = cv.rule == cv_rule::min ? imin : i1se;
  glm_fit& f = out.fit;
  f.link = options.link;
  f.intercept = full.intercept(ic);
  f.beta = full.beta.col(ic);
  f.x_center = s_all.center;
  f.x_scale = s_all.scale;
  f.lambda = out.lambda(ic);
  f.alpha = options.alpha;
  f.converged = full.converged;
  if (!f.converged) f.message = "the solver reached max_sweeps or max_irls before converging on the path";
  set_deviances(f, X, y, w, options);
  return out;
}

}  // namespace tessera::glm
