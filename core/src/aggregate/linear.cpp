#include "tessera/aggregate/linear.hpp"

#include <cmath>
#include <optional>

#include "tessera/aggregate/risk.hpp"
#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::aggregate {

std::string to_string(rho_method m) {
  switch (m) {
    case rho_method::fixed: return "fixed";
    case rho_method::oracle: return "oracle";
    default: return "cv";
  }
}

void linear_stats::merge(const linear_stats& other) {
  if (G.n_elem == 0 && n == 0) {
    *this = other;
    return;
  }
  require(other.p() == p() && other.intercept == intercept,
          "`stats` to merge must come from the same columns (and the same intercept setting): got " +
              std::to_string(p()) + " and " + std::to_string(other.p()) + " coefficients.");
  G += other.G;
  GS += other.GS;
  b += other.b;
  yy += other.yy;
  n += other.n;
  m += other.m;
}

linear_stats compute_stats(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                           bool intercept) {
  require(X.n_rows == bags.n_rows(), "`x` must have one row per bag assignment: " +
                                         std::to_string(X.n_rows) + " rows but " +
                                         std::to_string(bags.n_rows()) + " bag ids.");
  require(X.n_cols >= 1 || intercept, "`x` has no columns and no intercept was asked for.");
  require(ybar.n_elem == bags.n_bags(), "`y_bag` must have one aggregate per bag (" +
                                            std::to_string(bags.n_bags()) + "), but it has " +
                                            std::to_string(ybar.n_elem) + ".");
  check_finite(X, "x");
  check_finite(ybar, "y_bag");
  const arma::uword m = bags.n_bags();
  const arma::uword off = intercept ? 1 : 0;
  const arma::uword p = X.n_cols + off;
  arma::mat sums(m, p, arma::fill::zeros);  // per-bag sums of the design rows
  if (intercept) sums.col(0) = arma::conv_to<arma::vec>::from(bags.sizes);
  for (arma::uword j = 0; j < X.n_cols; ++j) {  // column-major: one pass per column
    const double* xj = X.colptr(j);
    double* sj = sums.colptr(j + off);
    for (arma::uword i = 0; i < X.n_rows; ++i) sj[bags.bag(i)] += xj[i];
  }
  const arma::vec size = arma::conv_to<arma::vec>::from(bags.sizes);
  linear_stats s;
  s.intercept = intercept;
  s.n = static_cast<double>(X.n_rows);
  s.m = static_cast<double>(m);
  // G_S = sum_a sums_a sums_a' / |B_a|; b = sum_a sums_a ybar_a.
  const arma::mat scaled = sums.each_col() / arma::sqrt(size);
  s.GS = scaled.t() * scaled;
  s.b = sums.t() * ybar;
  s.yy = arma::dot(size, ybar % ybar);
  s.G.set_size(p, p);
  const arma::mat XtX = X.t() * X;
  s.G.submat(off, off, p - 1, p - 1) = XtX;
  if (intercept) {
    const arma::rowvec colsum = arma::sum(X, 0);
    s.G(0, 0) = s.n;
    if (X.n_cols > 0) {
      s.G.submat(0, 1, 0, p - 1) = colsum;
      s.G.submat(1, 0, p - 1, 0) = colsum.t();
    }
  }
  return s;
}

std::vector<linear_stats> compute_fold_stats(const arma::mat& X, const bag_structure& bags,
                                             const arma::vec& ybar, bool intercept, arma::uword K,
                                             std::uint64_t seed) {
  require(K >= 1, "the number of folds must be at least 1.");
  const arma::uword m = bags.n_bags();
  // Balanced folds when there are at least K bags, else the bags take distinct random folds.
  const arma::uvec fold_of_bag =
      m >= K ? assign_folds(m, K, seed) : arma::uvec(assign_folds(K, K, seed).head(m));
  std::vector<linear_stats> folds;
  const arma::uword p = X.n_cols + (intercept ? 1 : 0);
  for (arma::uword f = 0; f < K; ++f) {
    const arma::uvec rows = arma::find(fold_of_bag.elem(bags.bag) == f);
    if (rows.is_empty()) {
      linear_stats z;
      z.intercept = intercept;
      z.G.zeros(p, p);
      z.GS.zeros(p, p);
      z.b.zeros(p);
      folds.push_back(z);
      continue;
    }
    const arma::uvec fbags = arma::find(fold_of_bag == f);
    const bag_structure sub = bags_from_ids(bags.bag.elem(rows), bags.scheme);
    folds.push_back(compute_stats(X.rows(rows), sub, ybar.elem(fbags), intercept));
  }
  return folds;
}

loss_values evaluate_losses(const linear_stats& stats, const arma::vec& theta) {
  require(theta.n_elem == stats.p(), "`theta` must have " + std::to_string(stats.p()) + " entries.");
  loss_values out;
  const double tb = arma::dot(theta, stats.b);
  out.bag = (stats.yy - 2 * tb + arma::dot(theta, stats.GS * theta)) / stats.n;
  out.instance = (stats.yy - 2 * tb + arma::dot(theta, stats.G * theta)) / stats.n;
  out.within = arma::dot(theta, (stats.G - stats.GS) * theta) / stats.n;
  return out;
}

namespace {
arma::mat ridge_matrix(const linear_stats& s, double ridge) {
  arma::mat P = arma::eye(s.p(), s.p()) * (s.n * ridge);
  if (s.intercept) P(0, 0) = 0;
  return P;
}

// Held-out score sum_a |B_a| (ybar_a - xbar_a'theta)^2 / m of a fold.
double bag_score(const linear_stats& f, const arma::vec& theta) {
  return (f.yy - 2 * arma::dot(theta, f.b) + arma::dot(theta, f.GS * theta)) / f.m;
}

void check_rho_value(double rho) {
  check_finite(rho, "rho");
  require(rho >= 0, "`rho` must be zero or positive (0 = bag level, 1 = instance level), not " +
                        format_number(rho) + ".");
}

arma::vec default_grid(bool with_zero) {
  const int n = 60;
  arma::vec g(n + (with_zero ? 1 : 0));
  arma::uword j = 0;
  if (with_zero) g(j++) = 0;
  for (int i = 0; i < n; ++i) g(j++) = std::pow(10.0, -3.0 + 3.0 * i / (n - 1));
  return g;
}
}  // namespace

rho_path::rho_path(const linear_stats& stats, double ridge) : ridge_(ridge) {
  check_nonnegative(ridge, "ridge");
  const arma::mat P = ridge_matrix(stats, ridge);
  const arma::mat Gt = stats.G + P;
  arma::mat R;  // upper: Gt = R'R, L = R'
  const bool ok = arma::chol(R, arma::symmatu(Gt));
  const double scale = std::max(arma::max(Gt.diag()), 1e-300);
  arma::mat Linv;
  bool well = ok;
  if (ok) {
    const arma::vec dg = R.diag();
    well = dg.min() * dg.min() > 1e-12 * scale;
  }
  const bool wide = static_cast<double>(stats.p()) > stats.n;
  require(well, "`x` does not have full column rank (" +
                    (wide ? "more coefficients (" + std::to_string(stats.p()) + ") than rows (" +
                                format_number(stats.n) + ")"
                          : std::string("collinear columns, or a constant column next to the intercept")) +
                    "): drop columns or set `ridge` > 0.");
  Linv = arma::inv(arma::trimatl(R.t()));
  arma::mat M = Linv * (stats.GS + P) * Linv.t();
  M = arma::symmatu(0.5 * (M + M.t()));
  arma::mat U;
  if (!arma::eig_sym(l_, U, M))
    throw numerical_error("the eigendecomposition of the bag-level Gram matrix failed.");
  l_ = arma::clamp(l_, 0.0, 1.0);
  V_ = Linv.t() * U;
  c_ = U.t() * (Linv * stats.b);
  rank_bag_ = arma::accu(l_ > 1e-10);
}

arma::vec rho_path::coef(double rho) const {
  check_rho_value(rho);
  const arma::vec d = (1.0 - rho) * l_ + rho;
  require(d.min() > 1e-10 * std::max(1.0, rho),
          "rho = 0 (the bag-level estimator) needs at least as many bags as coefficients, with "
          "linearly independent bag means, but the bag-level Gram matrix has rank " +
              std::to_string(rank_bag_) + " < " + std::to_string(l_.n_elem) +
              ": use rho > 0, more bags, or `ridge` > 0.");
  return V_ * (c_ / d);
}

arma::mat rho_path::inverse(double rho) const {
  check_rho_value(rho);
  const arma::vec d = (1.0 - rho) * l_ + rho;
  require(d.min() > 1e-10 * std::max(1.0, rho), "the system at rho = " + format_number(rho) +
                                                    " is singular: use rho > 0 or `ridge` > 0.");
  return V_ * arma::diagmat(1.0 / d) * V_.t();
}

namespace {
void validate_options(const linear_options& o) {
  check_nonnegative(o.ridge, "ridge");
  if (o.method == rho_method::fixed) check_rho_value(o.rho);
  if (o.method == rho_method::cv) {
    require(o.folds >= 2, "`folds` must be at least 2, not " + std::to_string(o.folds) + ".");
    for (double r : o.rho_grid) check_rho_value(r);
  }
  if (o.method == rho_method::oracle) {
    require(std::isfinite(o.snr) && o.snr > 0,
            "the oracle rho needs `snr` = ||theta0||^2 / sigma^2 > 0 (finite); supply it or use "
            "rho = \"cv\".");
    check_positive(o.rho_max, "rho_max");
  }
}
}  // namespace

std::optional<double> bag_level_noise(const linear_stats& t) {
  if (!(t.m > static_cast<double>(t.p()))) return std::nullopt;
  arma::vec th0;
  try {
    const rho_path bag(t, 0.0);
    if (bag.rank_bag() < t.p()) return std::nullopt;
    th0 = bag.coef(0.0);
  } catch (const invalid_argument&) {
    return std::nullopt;  // rank deficient without the ridge
  }
  const double rss = t.yy - 2 * arma::dot(th0, t.b) + arma::dot(th0, t.GS * th0);
  return std::max(rss, 0.0) / (t.m - static_cast<double>(t.p()));
}

std::string no_noise_estimate_message(const linear_stats& t) {
  return "standard errors need more bags than coefficients (m = " + format_number(t.m) +
         ", p = " + std::to_string(t.p()) +
         ") and a bag-level Gram matrix of full rank without the ridge";
}

linear_fit fit_linear_stats(const std::vector<linear_stats>& folds, const linear_options& options) {
  validate_options(options);
  require(!folds.empty(), "`folds` (sufficient statistics) must not be empty.");
  linear_stats total;
  for (const auto& f : folds) total.merge(f);
  require(total.n >= 1 && total.m >= 1, "there are no rows or no bags: supply data.");
  linear_fit fit;
  fit.options = options;
  fit.method = options.method;
  fit.n = static_cast<arma::uword>(total.n);
  fit.m = static_cast<arma::uword>(total.m);
  fit.p = total.p();
  fit.mean_bag_size = total.n / total.m;
  fit.intercept = total.intercept;
  fit.ridge = options.ridge;
  const rho_path path(total, options.ridge);
  fit.rank_bag = path.rank_bag();
  const bool bag_ok = path.rank_bag() == total.p();

  if (options.method == rho_method::fixed) {
    fit.rho = options.rho;
  } else if (options.method == rho_method::oracle) {
    const double gamma = static_cast<double>(total.p()) / total.n;
    require(gamma < 1, "the oracle rho needs fewer coefficients than rows (gamma = p/n < 1).");
    fit.rho = oracle_rho(gamma, fit.mean_bag_size, options.snr, 1.0, options.rho_max).rho;
  } else {
    require(folds.size() >= 2,
            "cross-validation over bags needs the statistics of at least 2 folds; give per-fold "
            "statistics or choose rho by `fixed`/`oracle`.");
    for (std::size_t f = 0; f < folds.size(); ++f)
      require(folds[f].m >= 1, "cross-validation fold " + std::to_string(f + 1) +
                                   " holds no bags: use fewer folds (or more bags).");
    fit.rho_grid = options.rho_grid.n_elem ? options.rho_grid : default_grid(bag_ok);
    const arma::uword ng = fit.rho_grid.n_elem;
    arma::mat scores(folds.size(), ng);
    for (std::size_t f = 0; f < folds.size(); ++f) {
      linear_stats train;
      for (std::size_t g = 0; g < folds.size(); ++g)
        if (g != f) train.merge(folds[g]);
      const rho_path fp(train, options.ridge);
      for (arma::uword j = 0; j < ng; ++j) {
        const double r = fit.rho_grid(j);
        const arma::vec d = (1.0 - r) * fp.eigenvalues() + r;
        scores(f, j) = d.min() > 1e-10 * std::max(1.0, r) ? bag_score(folds[f], fp.coef(r))
                                                           : arma::datum::inf;
      }
    }
    fit.cv_mse = arma::mean(scores, 0).t();
    fit.cv_se = (arma::stddev(scores, 0, 0) / std::sqrt(static_cast<double>(folds.size()))).t();
    require(arma::any(fit.cv_mse < arma::datum::inf),
            "no value of `rho_grid` could be fitted in every fold: add positive values.");
    fit.rho = fit.rho_grid(fit.cv_mse.index_min());
    fit.path.set_size(total.p(), ng);
    for (arma::uword j = 0; j < ng; ++j) fit.path.col(j) = path.coef(fit.rho_grid(j));
  }
  fit.coef = path.coef(fit.rho);
  fit.losses = evaluate_losses(total, fit.coef);

  if (options.standard_errors) {
    const std::optional<double> s2 = bag_level_noise(total);
    if (s2) {
      fit.sigma2 = *s2;
      const arma::mat Ainv = path.inverse(fit.rho);
      fit.vcov = fit.sigma2 * Ainv * total.GS * Ainv;
      fit.vcov = 0.5 * (fit.vcov + fit.vcov.t());
      fit.std_errors = arma::sqrt(arma::clamp(fit.vcov.diag(), 0.0, arma::datum::inf));
      fit.se_message = fit.rho > 0 ? "conditional on x; rho > 0 is biased, so the standard errors "
                                     "describe the spread around E[theta_rho], not theta0"
                                   : "conditional on x";
    } else {
      fit.se_message = no_noise_estimate_message(total);
    }
  }
  return fit;
}

linear_fit fit_linear(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                      const linear_options& options) {
  validate_options(options);
  std::vector<linear_stats> folds;
  if (options.method == rho_method::cv) {
    const arma::uword m = bags.n_bags();
    require(m >= 2, "cross-validation over bags needs at least 2 bags; there is " +
                        std::to_string(m) + ": fix `rho`.");
    const arma::uword K = std::min<arma::uword>(static_cast<arma::uword>(options.folds), m);
    folds = compute_fold_stats(X, bags, ybar, options.intercept, K, options.seed);
  } else {
    folds.push_back(compute_stats(X, bags, ybar, options.intercept));
  }
  return fit_linear_stats(folds, options);
}

arma::vec linear_predictor(const arma::vec& coef, bool intercept, const arma::mat& X) {
  const arma::uword off = intercept ? 1 : 0;
  require(X.n_cols + off == coef.n_elem,
          "`newdata` must have " + std::to_string(coef.n_elem - off) + " columns, not " +
              std::to_string(X.n_cols) + ".");
  check_finite(X, "newdata");
  arma::vec eta = X * coef.tail(X.n_cols);
  if (intercept) eta += coef(0);
  return eta;
}

arma::vec predict_instance(const linear_fit& fit, const arma::mat& X) {
  return linear_predictor(fit.coef, fit.intercept, X);
}

arma::vec predict_bag(const linear_fit& fit, const arma::mat& X, const bag_structure& bags) {
  return bag_means(predict_instance(fit, X), bags);
}

}  // namespace tessera::aggregate
