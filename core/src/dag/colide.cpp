#include "tessera/dag/colide.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tessera/common/error.hpp"
#include "tessera/common/linalg.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/dag/graph.hpp"
#include "tessera/optim/adam.hpp"

namespace tessera::dag {

path_options dagma_defaults() {
  path_options o;
  o.lambda = 0.03;
  o.domain_tol = 1e-16;
  return o;
}

namespace {

// R_jj = [(I - W)' S (I - W)]_jj from rhs = S (I - W): column sums of (I - W) o rhs.
arma::rowvec residual_variances(const arma::mat& W, const arma::mat& rhs) {
  arma::rowvec r(W.n_cols);
  for (arma::uword j = 0; j < W.n_cols; ++j) {
    double acc = rhs(j, j);  // identity part
    acc -= arma::dot(W.col(j), rhs.col(j));
    r(j) = std::max(acc, 0.0);
  }
  return r;
}

// Closed-form scale(s) at W, floored.
arma::vec closed_form_sigma(score_type score, const arma::rowvec& rdiag, const arma::vec& floor) {
  switch (score) {
    case score_type::colide_ev:
      return arma::vec{std::max(std::sqrt(arma::accu(rdiag) / static_cast<double>(rdiag.n_elem)), floor(0))};
    case score_type::colide_nv:
      return arma::max(arma::sqrt(rdiag.t()), floor);
    case score_type::dagma_least_squares:
      return arma::vec();
  }
  return arma::vec();
}

double score_only(score_type score, const arma::rowvec& rdiag, const arma::vec& sigma) {
  const double d = static_cast<double>(rdiag.n_elem);
  switch (score) {
    case score_type::colide_ev:
      return arma::accu(rdiag) / (2.0 * sigma(0)) + d * sigma(0) / 2.0;
    case score_type::colide_nv:
      return 0.5 * arma::accu(rdiag.t() / sigma + sigma);
    case score_type::dagma_least_squares:
      return 0.5 * arma::accu(rdiag);
  }
  return 0.0;
}

// Gradient in W of the smooth part of the score, from rhs = S (I - W).
void score_gradient(score_type score, const arma::mat& rhs, const arma::vec& sigma, arma::mat& out) {
  switch (score) {
    case score_type::colide_ev:
      out = rhs * (-1.0 / sigma(0));
      return;
    case score_type::colide_nv:
      out = -rhs;
      out.each_row() /= sigma.t();
      return;
    case score_type::dagma_least_squares:
      out = -rhs;
      return;
  }
}

// inv(s I - W o W) into Minv; false if singular.
bool domain_inverse(const arma::mat& W, double s, arma::mat& M, arma::mat& Minv) {
  M = -(W % W);
  M.diag() += s;
  return arma::inv(Minv, M);
}

bool in_domain(const arma::mat& Minv, double tol) { return Minv.min() >= -tol; }

// h(W, s) with M already known to be in the domain.
double log_det_barrier(const arma::mat& M, double s) {
  double val = 0, sign = 0;
  arma::log_det(val, sign, M);
  return -val + static_cast<double>(M.n_rows) * std::log(s);
}

void validate_options(const path_options& o, score_type score, arma::uword d) {
  check_positive(o.lambda, "lambda");
  require(o.stages >= 1, "`stages` (T) must be at least 1, not " + std::to_string(o.stages) + ".");
  check_positive(o.mu_init, "mu_init");
  check_in_closed(o.mu_factor, 1e-300, 1.0, "mu_factor");
  require(!o.s.empty(), "`s` must hold at least one value (the log-det parameter per stage).");
  for (double s : o.s) check_positive(s, "s");
  require(o.warm_iter >= 1, "`warm_iter` must be at least 1.");
  require(o.max_iter >= 1, "`max_iter` must be at least 1.");
  check_positive(o.lr, "lr");
  check_in_open(o.beta1, 0.0, 1.0, "beta1");
  check_in_open(o.beta2, 0.0, 1.0, "beta2");
  require(o.checkpoint >= 1, "`checkpoint` must be at least 1.");
  check_nonnegative(o.tol, "tol");
  check_nonnegative(o.domain_tol, "domain_tol");
  if (score != score_type::dagma_least_squares) check_positive(o.sigma_floor, "sigma_floor");
  check_nonnegative(o.threshold, "threshold");
  require(o.max_retries >= 0, "`max_retries` must be zero or positive.");
  if (!o.w_init.is_empty()) {
    require(o.w_init.n_rows == d && o.w_init.n_cols == d,
            "`w_init` must be a " + std::to_string(d) + " x " + std::to_string(d) +
                " matrix (one row and column per variable).");
    check_finite(o.w_init, "w_init");
    require(!o.zero_diagonal || arma::all(o.w_init.diag() == 0),
            "`w_init` must have a zero diagonal when `zero_diagonal` is true.");
    const double rho = arma::abs(arma::eig_gen(o.w_init % o.w_init)).max();
    require(rho < o.s.front(), "`w_init` lies outside the log-det domain of the first stage: the spectral "
                               "radius of w_init o w_init is " + format_number(rho) + ", which must be below s[1] = " +
                               format_number(o.s.front()) + ". Scale `w_init` down or raise `s`.");
  }
}

void check_not_collinear(const arma::mat& S, arma::uword n) {
  const arma::uword d = S.n_rows;
  if (n <= d || d < 2) return;  // with n <= d, S is singular by construction; sigma0 guards it
  const arma::vec sd = arma::sqrt(S.diag());
  const arma::mat C = S / (sd * sd.t());
  arma::vec values;
  arma::mat vectors;
  if (!arma::eig_sym(values, vectors, C)) return;
  if (values(0) > 1e-10 * static_cast<double>(d)) return;
  std::ostringstream os;
  os << "columns ";
  const arma::vec v = arma::abs(vectors.col(0));
  bool first = true;
  for (arma::uword j = 0; j < d; ++j) {
    if (v(j) > 0.05) {
      os << (first ? "" : ", ") << j + 1;
      first = false;
    }
  }
  os << " of `x` are exactly collinear (one is a linear combination of the others), so the "
        "structure is not identifiable: remove redundant columns before fitting.";
  throw invalid_argument(os.str());
}

struct stage_state {
  arma::mat W;
  arma::vec sigma;
  long iterations = 0;
  double objective = 0;
  bool success = false;
  bool stopped_early = false;
};

class path_solver {
 public:
  path_solver(const arma::mat& S, score_type score, const path_options& o, const arma::vec& floor,
              const runtime_context& ctx)
      : S_(S), score_(score), o_(o), floor_(floor), ctx_(ctx), d_(S.n_rows),
        adam_(S.n_rows, S.n_rows, optim::adam_options{o.beta1, o.beta2, 1e-8}) {}

  // Objective F at (W, sigma) given rhs = S (I - W) and M = sI - W o W in the domain.
  double objective(const arma::mat& W, const arma::mat& rhs, const arma::vec& sigma,
                   const arma::mat& M, double mu, double s) const {
    const double smooth = score_only(score_, residual_variances(W, rhs), sigma);
    return mu * (smooth + o_.lambda * arma::accu(arma::abs(W))) + log_det_barrier(M, s);
  }

  stage_state run(const arma::mat& W0, const arma::vec& sigma0, double mu, long iters, double s,
                  double lr, double done_before, double total) {
    stage_state st;
    st.W = W0;
    st.sigma = sigma0;
    adam_.reset();
    arma::mat& W = st.W;
    arma::mat M, Minv, grad, rhs = S_ - S_ * W;
    arma::mat dir(d_, d_, arma::fill::zeros);
    double obj_prev = 1e16;
    auto refresh = [&]() {
      rhs = S_ - S_ * W;
      st.sigma = closed_form_sigma(score_, residual_variances(W, rhs), floor_);
    };
    for (long t = 1; t <= iters; ++t) {
      bool ok = domain_inverse(W, s, M, Minv) && in_domain(Minv, o_.domain_tol);
      while (!ok) {
        if (t == 1 || s <= 0.9) return st;  // failure: the caller retries with a larger s
        W += lr * dir;                      // undo the last step
        lr *= 0.5;
        if (lr <= 1e-16) {                  // give up shrinking: keep the last in-domain W
          refresh();
          st.iterations = t;
          st.success = true;
          domain_inverse(W, s, M, Minv);
          st.objective = objective(W, rhs, st.sigma, M, mu, s);
          return st;
        }
        W -= lr * dir;
        refresh();
        ok = domain_inverse(W, s, M, Minv) && in_domain(Minv, o_.domain_tol);
      }
      score_gradient(score_, rhs, st.sigma, grad);
      grad += o_.lambda * arma::sign(W);
      grad *= mu;
      grad += 2.0 * (W % Minv.t());
      if (o_.zero_diagonal) grad.diag().zeros();  // the diagonal of W stays at zero
      dir = adam_.direction(grad);
      W -= lr * dir;
      refresh();
      st.iterations = t;

      if (t % o_.checkpoint == 0 || t == iters) {
        arma::mat Minv_new;
        const bool inside = domain_inverse(W, s, M, Minv_new) && in_domain(Minv_new, o_.domain_tol);
        if (!inside && t == iters) {  // never return a W outside the domain
          W += lr * dir;
          refresh();
          domain_inverse(W, s, M, Minv_new);
          st.objective = objective(W, rhs, st.sigma, M, mu, s);
          break;
        }
        if (inside) {
          const double obj_new = objective(W, rhs, st.sigma, M, mu, s);
          st.objective = obj_new;
          if (std::abs((obj_prev - obj_new) / obj_prev) <= o_.tol) {
            st.stopped_early = t < iters;
            break;
          }
          obj_prev = obj_new;
        }
        ctx_.report_progress(done_before + static_cast<double>(t), total);
      }
      if (t % 128 == 0) ctx_.check_interrupt();
    }
    st.success = true;
    return st;
  }

 private:
  const arma::mat& S_;
  score_type score_;
  const path_options& o_;
  const arma::vec& floor_;
  const runtime_context& ctx_;
  arma::uword d_;
  optim::adam adam_;
};

}  // namespace

score_eval evaluate_score(const arma::mat& S, const arma::mat& W, score_type score, double lambda,
                          const arma::vec& sigma_floor) {
  check_square(S, "S");
  require(W.n_rows == S.n_rows && W.n_cols == S.n_cols, "`W` must have the dimensions of `S`.");
  const arma::mat rhs = S - S * W;
  score_eval out;
  const arma::rowvec rdiag = residual_variances(W, rhs);
  out.sigma = closed_form_sigma(score, rdiag, sigma_floor);
  out.value = score_only(score, rdiag, out.sigma) + lambda * arma::accu(arma::abs(W));
  score_gradient(score, rhs, out.sigma, out.gradient);
  out.gradient += lambda * arma::sign(W);
  return out;
}

acyclicity_eval evaluate_acyclicity(const arma::mat& W, double s) {
  check_square(W, "W");
  check_positive(s, "s");
  arma::mat M, Minv;
  if (!domain_inverse(W, s, M, Minv) || !in_domain(Minv, 1e-12)) {
    throw numerical_error("W is outside the log-det domain for s = " + format_number(s) +
                          " (s must exceed the spectral radius of W o W).");
  }
  acyclicity_eval out;
  out.value = log_det_barrier(M, s);
  out.gradient = 2.0 * (W % Minv.t());
  return out;
}

dag_fit fit_linear_dag(const arma::mat& X, score_type score, const path_options& options,
                       const runtime_context& ctx) {
  check_min_rows(X, 2, "x");
  require(X.n_cols >= 1, "`x` must have at least one column (variable).");
  check_finite(X, "x");
  check_no_constant_columns(X, "x");
  const arma::uword n = X.n_rows, d = X.n_cols;
  validate_options(options, score, d);

  dag_fit fit;
  fit.score = score;
  fit.options = options;
  auto& sched = fit.options.s;
  while (static_cast<int>(sched.size()) < options.stages) sched.push_back(sched.back());
  sched.resize(static_cast<std::size_t>(options.stages));

  fit.center = arma::mean(X, 0).t();
  const arma::mat Xc = center_columns(X);
  const arma::mat S = (Xc.t() * Xc) / static_cast<double>(n);
  for (arma::uword j = 0; j < d; ++j) {
    if (!std::isfinite(S(j, j)) || !(S(j, j) > 0)) {
      throw invalid_argument("the variance of column " + std::to_string(j + 1) + " of `x` is " +
                             (std::isfinite(S(j, j)) ? "too small to represent (underflow)" : "too large to represent (overflow)") +
                             ": rescale `x`, for example standardise its columns.");
    }
  }
  require(S.is_finite(), "the covariances of `x` overflow: rescale `x`, for example standardise its columns.");
  check_not_collinear(S, n);

  const arma::vec sd = arma::sqrt(S.diag());
  arma::vec floor;
  if (score == score_type::colide_ev) floor = {options.sigma_floor * std::sqrt(arma::accu(S.diag()) / d)};
  if (score == score_type::colide_nv) floor = options.sigma_floor * sd;
  fit.sigma_floor = floor;

  arma::mat W = options.w_init.is_empty() ? arma::mat(d, d, arma::fill::zeros) : options.w_init;
  arma::vec sigma;
  if (options.w_init.is_empty()) {
    if (score == score_type::colide_ev) sigma = {std::max(sd.min(), floor(0))};
    if (score == score_type::colide_nv) sigma = arma::max(sd, floor);
  } else {
    sigma = closed_form_sigma(score, residual_variances(W, S - S * W), floor);
  }

  if (d == 1) {  // a single variable: no edges to learn
    fit.W_raw.zeros(1, 1);
    fit.W.zeros(1, 1);
    fit.sigma = closed_form_sigma(score, residual_variances(fit.W_raw, S), floor);
    fit.score_value = score_only(score, residual_variances(fit.W_raw, S), fit.sigma);
    fit.objective = fit.score_value;
    fit.message = "one variable: the graph has no edges";
    return fit;
  }

  const double total = static_cast<double>(options.stages - 1) * static_cast<double>(options.warm_iter) +
                       static_cast<double>(options.max_iter);
  double done = 0;
  path_solver solver(S, score, fit.options, floor, ctx);
  double mu = options.mu_init;
  std::ostringstream msg;
  for (int k = 0; k < options.stages; ++k) {
    const bool last = k == options.stages - 1;
    const long iters = last ? options.max_iter : options.warm_iter;
    double lr = options.lr;
    stage_record rec;
    rec.stage = k;
    rec.mu = mu;
    stage_state st;
    for (;;) {
      st = solver.run(W, sigma, mu, iters, sched[k], lr, done, total);
      if (st.success) break;
      if (rec.retries >= options.max_retries) break;
      ++rec.retries;
      lr *= 0.5;
      sched[k] += 0.1;
    }
    rec.s = sched[k];
    rec.lr = lr;
    rec.iterations = st.iterations;
    rec.objective = st.objective;
    rec.stopped_early = st.stopped_early;
    fit.stages.push_back(rec);
    fit.total_iterations += st.iterations;
    done += static_cast<double>(iters);
    ctx.report_progress(done, total);
    if (!st.success) {
      fit.converged = false;
      msg << "stage " << k + 1 << " left the log-det domain after " << options.max_retries
          << " retries (s raised to " << format_number(sched[k]) << "); returning the iterate of stage "
          << k << ". Try a smaller `lr` or standardising `x`.";
      break;
    }
    W = st.W;
    sigma = st.sigma;
    fit.objective = st.objective;
    mu *= options.mu_factor;
  }

  fit.W_raw = W;
  fit.sigma = sigma;
  const arma::mat rhs = S - S * W;
  fit.score_value = score_only(score, residual_variances(W, rhs), sigma) + options.lambda * arma::accu(arma::abs(W));
  const double s_last = fit.stages.back().s;
  arma::mat M, Minv;
  if (domain_inverse(W, s_last, M, Minv)) fit.h_value = log_det_barrier(M, s_last);
  to_dag_result dag = to_dag(W, options.threshold);
  fit.W = dag.W;
  fit.n_pruned = dag.n_pruned;
  const double self_loop = arma::abs(W.diag()).max();
  if (fit.converged && self_loop > options.threshold) {
    fit.converged = false;
    msg << "the path ended with a self-loop of weight " << format_number(self_loop)
        << " (above the threshold): the score dominated the acyclicity term. Standardise `x`, "
           "or use more stages, a smaller `lr` or `zero_diagonal`.";
  }
  if (fit.converged) {
    msg << "finished " << options.stages << " stages in " << fit.total_iterations << " Adam steps";
    if (fit.n_pruned > 0) msg << "; " << fit.n_pruned << " edge(s) above the threshold removed to break cycles";
  }
  fit.message = msg.str();
  return fit;
}

}  // namespace tessera::dag
