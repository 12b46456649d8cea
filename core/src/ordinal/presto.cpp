#include "tessera/ordinal/presto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

#include "../common/parallel.hpp"
#include "solver.hpp"
#include "tessera/common/error.hpp"
#include "tessera/common/folds.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::ordinal {

namespace detail {

void validate_data(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                   const arma::vec& weights, arma::uword min_classes, bool check_constant) {
  require(n_classes >= min_classes,
          "`y` must have at least " + std::to_string(min_classes) + " ordered levels, but it has " +
              std::to_string(n_classes) +
              ": with two levels use logistic regression instead.");
  require(y.n_elem == X.n_rows, "`y` must have one value per row of `x`: it has " +
                                    std::to_string(y.n_elem) + " values for " +
                                    std::to_string(X.n_rows) + " rows.");
  require(X.n_cols >= 1, "`x` must have at least one column.");
  require(X.n_rows >= n_classes, "`x` must have at least as many rows as `y` has levels (" +
                                     std::to_string(n_classes) + "), but it has " +
                                     std::to_string(X.n_rows) + ".");
  check_finite(X, "x");
  for (arma::uword i = 0; i < y.n_elem; ++i)
    require(y(i) < n_classes, [&] {
      return "`y` must hold class codes 0.." + std::to_string(n_classes - 1) + ", but entry " +
             std::to_string(i + 1) + " is " + std::to_string(y(i)) + ".";
    });
  const arma::uvec counts = arma::hist(y, arma::regspace<arma::uvec>(0, n_classes - 1));
  std::string empty;
  for (arma::uword c = 0; c < n_classes; ++c)
    if (counts(c) == 0) empty += (empty.empty() ? "" : ", ") + std::to_string(c + 1);
  require(empty.empty(), "`y` has empty levels (" + empty +
                             "): drop unused levels before fitting (drop_empty_levels = TRUE in R).");
  if (!weights.is_empty()) {
    require(weights.n_elem == X.n_rows, "`weights` must have one value per row of `x`: it has " +
                                            std::to_string(weights.n_elem) + " values for " +
                                            std::to_string(X.n_rows) + " rows.");
    check_finite(weights, "weights");
    require(weights.min() > 0, "`weights` must be positive: remove rows with zero weight.");
  }
  if (check_constant) check_no_constant_columns(X, "x");
}

}  // namespace detail

namespace {

using detail::parameters;
using detail::problem;

detail::penalty make_penalty(presto_options& opt, arma::uword p, arma::uword M) {
  if (opt.block_factors.is_empty()) opt.block_factors.ones(M);
  if (opt.variable_factors.is_empty()) opt.variable_factors.ones(p);
  require(opt.block_factors.n_elem == M,
          "`block_factors` must have one value per threshold (" + std::to_string(M) + "), not " +
              std::to_string(opt.block_factors.n_elem) + ".");
  require(opt.variable_factors.n_elem == p,
          "`variable_factors` must have one value per column of `x` (" + std::to_string(p) +
              "), not " + std::to_string(opt.variable_factors.n_elem) + ".");
  for (double f : opt.block_factors)
    require(f >= 0 && !std::isnan(f), "`block_factors` must be >= 0 (Inf fixes a block at zero).");
  for (double f : opt.variable_factors)
    require(f >= 0 && !std::isnan(f), "`variable_factors` must be >= 0 (Inf fixes a column at zero).");
  detail::penalty pen;
  pen.alpha = opt.alpha;
  pen.f = opt.variable_factors * opt.block_factors.t();
  // 0 * inf: a frozen block stays frozen.
  for (arma::uword m = 0; m < M; ++m)
    for (arma::uword j = 0; j < p; ++j)
      if (!std::isfinite(opt.block_factors(m)) || !std::isfinite(opt.variable_factors(j)))
        pen.f(j, m) = std::numeric_limits<double>::infinity();
  return pen;
}

void validate_options(const presto_options& opt) {
  check_in_closed(opt.alpha, 0, 1, "alpha");
  check_at_least(opt.nlambda, 1, "nlambda");
  check_in_open(opt.lambda_min_ratio, 0, 1, "lambda_min_ratio");
  check_in_closed(opt.alpha_min, 1e-12, 1, "alpha_min");
  check_positive(opt.tol, "tol");
  check_positive(opt.tol_inner, "tol_inner");
  check_at_least(opt.max_iter, 1, "max_iter");
  check_at_least(opt.max_sweeps, 1, "max_sweeps");
  check_at_least(opt.max_halvings, 0, "max_halvings");
  check_in_open(opt.p_min, 0, 0.5, "p_min");
  check_positive(opt.barrier_start, "barrier_start");
  check_in_closed(opt.barrier_final, 1e-300, opt.barrier_start, "barrier_final");
  for (double l : opt.lambda)
    require(std::isfinite(l) && l >= 0,
            "`lambda` must hold finite values >= 0, but it contains " + format_number(l) + ".");
}

}  // namespace

namespace detail {

presto_fit fit_path(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                    presto_options opt, const arma::vec& weights, const runtime_context& context) {
  validate_options(opt);
  const problem P(X, y, n_classes, weights, opt.standardize);
  const penalty pen = make_penalty(opt, P.p, P.M);

  parameters theta = null_parameters(P);
  presto_fit fit;
  fit.n_obs = P.n;
  fit.n_features = P.p;
  fit.n_classes = P.K;
  fit.center = P.center;
  fit.scale = P.scale;

  // The fit with every penalised coordinate at zero, and lambda_max from its gradient.
  solve(P, pen, 0, true, theta, opt, false, context);
  {
    arma::mat g;
    arma::vec ga;
    loss_gradient(P, theta, opt.p_min, g, ga);
    double lmax = 0;
    for (arma::uword m = 0; m < P.M; ++m)
      for (arma::uword j = 0; j < P.p; ++j) {
        const double f = pen.f(j, m);
        if (f > 0 && std::isfinite(f) && !P.zero_column(j))
          lmax = std::max(lmax, std::abs(g(j, m)) / (f * std::max(opt.alpha, opt.alpha_min)));
      }
    fit.lambda_max = lmax;
  }
  const parameters null_theta = theta;
  constexpr double cold_restart_kkt = 1e-6;
  if (opt.lambda.is_empty()) {
    const double top = fit.lambda_max > 0 ? fit.lambda_max : 1.0;
    opt.lambda = arma::exp(arma::linspace(std::log(top), std::log(top * opt.lambda_min_ratio),
                                          static_cast<arma::uword>(opt.nlambda)));
    opt.lambda(0) = top;  // exactly (exp(log(x)) may round below x)
    if (fit.lambda_max == 0) opt.lambda.resize(1);
  } else {
    opt.lambda = arma::sort(opt.lambda, "descend");
  }
  const arma::uword L = opt.lambda.n_elem;
  fit.lambda = opt.lambda;
  fit.intercepts.zeros(P.M, L);
  fit.beta.zeros(P.p, P.M, L);
  fit.psi.zeros(P.p, P.M, L);
  fit.objective.zeros(L);
  fit.loglik.zeros(L);
  fit.n_nonzero.zeros(L);
  fit.iterations.zeros(L);
  fit.sweeps.zeros(L);
  fit.kkt_violation.zeros(L);
  fit.converged.zeros(L);
  fit.constrained.zeros(L);
  const double total_weight = weights.is_empty() ? static_cast<double>(P.n) : arma::accu(weights);
  for (arma::uword l = 0; l < L; ++l) {
    context.check_interrupt();
    // At or above lambda_max (with a <= alpha_min excluded, where lambda_max is only a
    // scale), the null fit satisfies the KKT conditions exactly: keep it, so the top of
    // the path has no rounding-level nonzeros.
    solve_report rep;
    auto kkt = [&]() { return kkt_violation(P, pen, opt.lambda(l), theta, opt.p_min, rep.multipliers); };
    double residual = 0;
    if (opt.alpha >= opt.alpha_min && opt.lambda(l) >= fit.lambda_max) {
      theta = null_theta;
      rep.objective = mean_loss(P, linear_predictors(P, theta));
      residual = kkt();
    } else {
      rep = solve(P, pen, opt.lambda(l), false, theta, opt, l > 0 && fit.constrained(l - 1), context);
      // Safeguard: a warm-started constrained solve occasionally stops (objective change
      // below tol after a full step) up to ~1e-7 above the optimum, with a Lagrangian KKT
      // residual up to ~1e-4 (seen at K >= 5 or p ~ n / 10; cause not yet found). Such a
      // lambda is solved again from the lambda = infinity fit and the lower objective kept.
      residual = kkt();
      if (rep.constrained && residual > cold_restart_kkt) {
        parameters cold = null_theta;
        const solve_report again = solve(P, pen, opt.lambda(l), false, cold, opt, false, context);
        if (again.objective < rep.objective) {
          theta = cold;
          rep = again;
          residual = kkt();
        }
      }
    }
    arma::vec a;
    arma::mat b, s;
    to_original(P, theta, a, b, s);
    fit.intercepts.col(l) = a;
    fit.beta.slice(l) = b;
    fit.psi.slice(l) = s;
    fit.objective(l) = rep.objective;
    fit.loglik(l) = -total_weight * mean_loss(P, linear_predictors(P, theta));
    fit.n_nonzero(l) = arma::accu(theta.psi != 0);
    fit.iterations(l) = rep.iterations;
    fit.sweeps(l) = rep.sweeps;
    fit.kkt_violation(l) = residual;
    fit.converged(l) = rep.converged;
    fit.constrained(l) = rep.constrained;
    if (!rep.converged && fit.message.empty())
      fit.message = "lambda " + std::to_string(l + 1) + " (" + format_number(opt.lambda(l)) +
                    "): " + rep.message;
    context.report_progress(static_cast<double>(l + 1), static_cast<double>(L));
  }
  fit.options = opt;
  return fit;
}

}  // namespace detail

presto_fit fit_presto(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                      const presto_options& options, const arma::vec& weights,
                      const runtime_context& context) {
  detail::validate_data(X, y, n_classes, weights, 3, true);
  return detail::fit_path(X, y, n_classes, options, weights, context);
}

namespace {

double row_measure(const arma::rowvec& prob, arma::uword yi, cv_measure measure, double p_min) {
  switch (measure) {
    case cv_measure::brier: {
      double s = 0;
      for (arma::uword c = 0; c < prob.n_elem; ++c) {
        const double e = prob(c) - (c == yi ? 1.0 : 0.0);
        s += e * e;
      }
      return s;
    }
    case cv_measure::deviance:
      return -2 * std::log(std::max(prob(yi), p_min));
    case cv_measure::misclassification:
      return prob.index_max() == yi ? 0.0 : 1.0;
  }
  return 0;
}

}  // namespace

presto_cv_fit cv_presto(const arma::mat& X, const arma::uvec& y, arma::uword n_classes,
                        const presto_options& options, const cv_options& cv,
                        const arma::vec& weights, const runtime_context& context) {
  detail::validate_data(X, y, n_classes, weights, 3, true);
  check_at_least(cv.nfolds, 2, "nfolds");
  check_in_closed(cv.threads, 1, 1024, "threads");
  const arma::uword F = static_cast<arma::uword>(cv.nfolds);
  require(F <= X.n_rows, "`nfolds` (" + std::to_string(F) + ") must not exceed the number of rows (" +
                             std::to_string(X.n_rows) + ").");
  presto_cv_fit out;
  out.measure = cv.measure;
  if (!cv.foldid.is_empty()) {
    require(cv.foldid.n_elem == X.n_rows, "`foldid` must have one value per row of `x`.");
    require(cv.foldid.max() < F, "`foldid` must hold values 0..nfolds-1.");
    out.foldid = cv.foldid;
  } else {
    const arma::uvec counts = arma::hist(y, arma::regspace<arma::uvec>(0, n_classes - 1));
    for (arma::uword c = 0; c < n_classes; ++c)
      require(counts(c) >= F, "level " + std::to_string(c + 1) + " of `y` has only " +
                                  std::to_string(counts(c)) + " observations, fewer than nfolds = " +
                                  std::to_string(F) +
                                  ": it cannot appear in every fold; lower nfolds or merge levels.");
    out.foldid = stratified_folds(y, cv.nfolds, cv.seed);
  }
  out.fit = detail::fit_path(X, y, n_classes, options, weights, context);
  presto_options fold_opt = out.fit.options;  // the full-data grid and factors
  const arma::uword L = out.fit.lambda.n_elem;
  out.fold_measure.zeros(L, F);
  out.fold_crossings.zeros(F);
  out.fold_converged.zeros(F);
  arma::vec fold_weight(F, arma::fill::zeros);
  const arma::vec w = weights.is_empty() ? arma::vec(X.n_rows, arma::fill::ones) : weights;
  arma::vec pooled(L, arma::fill::zeros);
  // The folds' training rows, checked before any fit.
  std::vector<arma::uvec> train(F), test(F);
  for (arma::uword f = 0; f < F; ++f) {
    train[f] = arma::find(out.foldid != f);
    test[f] = arma::find(out.foldid == f);
    require(!test[f].is_empty(), "fold " + std::to_string(f + 1) + " is empty: use fewer folds.");
    const arma::uvec counts =
        arma::hist(arma::uvec(y(train[f])), arma::regspace<arma::uvec>(0, n_classes - 1));
    for (arma::uword c = 0; c < n_classes; ++c)
      require(counts(c) > 0, "level " + std::to_string(c + 1) + " of `y` is absent from the training "
                             "rows of fold " + std::to_string(f + 1) +
                             ": every level must appear in every training fold; change `foldid`.");
  }
  // The fold paths, on up to cv.threads threads. Each task writes only its own fold's
  // slot and the pooling below runs in fold order, so the result does not depend on the
  // thread count. Only the calling thread may reach the R session: its tasks check for a
  // user interrupt, the workers' tasks run silently.
  std::vector<presto_fit> fold_fit(F);
  runtime_context interrupt_only;
  interrupt_only.interrupt_requested = context.interrupt_requested;
  const std::thread::id caller = std::this_thread::get_id();
  tessera::detail::parallel_tasks(F, static_cast<std::size_t>(cv.threads), [&](std::size_t f) {
    const runtime_context& ctx = std::this_thread::get_id() == caller ? interrupt_only : silent_context();
    const arma::vec wtr = weights.is_empty() ? arma::vec() : arma::vec(weights(train[f]));
    fold_fit[f] = detail::fit_path(X.rows(train[f]), y(train[f]), n_classes, fold_opt, wtr, ctx);
  });
  for (arma::uword f = 0; f < F; ++f) {
    const presto_fit& ff = fold_fit[f];
    out.fold_converged(f) = arma::all(ff.converged) ? 1 : 0;
    const arma::mat Xte = X.rows(test[f]);
    const arma::vec wte = w(test[f]);
    fold_weight(f) = arma::accu(wte);
    for (arma::uword l = 0; l < L; ++l) {
      const probability_prediction pr = predict_probabilities(
          ff.intercepts.col(l), ff.beta.slice(l), Xte, crossing_policy::clamp);
      out.fold_crossings(f) += pr.crossing_rows.n_elem;
      double s = 0;
      for (arma::uword i = 0; i < test[f].n_elem; ++i)
        s += wte(i) * row_measure(pr.prob.row(i), y(test[f](i)), cv.measure, fold_opt.p_min);
      pooled(l) += s;
      out.fold_measure(l, f) = s / fold_weight(f);
    }
  }
  const double W = arma::accu(fold_weight);
  out.cvm = pooled / W;
  out.cvsd.zeros(L);
  for (arma::uword l = 0; l < L; ++l) {
    double v = 0;
    for (arma::uword f = 0; f < F; ++f) {
      const double e = out.fold_measure(l, f) - out.cvm(l);
      v += fold_weight(f) * e * e;
    }
    out.cvsd(l) = std::sqrt(v / W / static_cast<double>(F - 1));
  }
  // Smallest cvm; ties to the largest lambda (the first index: the grid decreases).
  out.index_min = 0;
  for (arma::uword l = 1; l < L; ++l)
    if (out.cvm(l) < out.cvm(out.index_min)) out.index_min = l;
  const double bound = out.cvm(out.index_min) + out.cvsd(out.index_min);
  out.index_1se = out.index_min;
  for (arma::uword l = 0; l <= out.index_min; ++l)
    if (out.cvm(l) <= bound) { out.index_1se = l; break; }
  out.lambda_min = out.fit.lambda(out.index_min);
  out.lambda_1se = out.fit.lambda(out.index_1se);
  return out;
}

}  // namespace tessera::ordinal
