#include "tessera/aggregate/glm.hpp"

#include <cmath>
#include <optional>
#include <vector>

#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::aggregate {

std::string to_string(glm_family f) {
  switch (f) {
    case glm_family::gaussian: return "gaussian";
    case glm_family::poisson: return "poisson";
    default: return "binomial";
  }
}

namespace {

// Cumulant b and its first two derivatives, elementwise and overflow-safe.
arma::vec cumulant(const arma::vec& eta, glm_family f) {
  arma::vec out(eta.n_elem);
  for (arma::uword i = 0; i < eta.n_elem; ++i) {
    const double e = eta(i);
    switch (f) {
      case glm_family::gaussian: out(i) = 0.5 * e * e; break;
      case glm_family::poisson: out(i) = std::exp(e); break;
      default: out(i) = e > 0 ? e + std::log1p(std::exp(-e)) : std::log1p(std::exp(e));
    }
  }
  return out;
}
arma::vec mean_fn(const arma::vec& eta, glm_family f) {
  switch (f) {
    case glm_family::gaussian: return eta;
    case glm_family::poisson: return arma::exp(eta);
    default: {
      arma::vec out(eta.n_elem);
      for (arma::uword i = 0; i < eta.n_elem; ++i)
        out(i) = eta(i) >= 0 ? 1.0 / (1.0 + std::exp(-eta(i))) : std::exp(eta(i)) / (1.0 + std::exp(eta(i)));
      return out;
    }
  }
}
arma::vec variance_fn(const arma::vec& eta, glm_family f) {
  switch (f) {
    case glm_family::gaussian: return arma::ones(eta.n_elem);
    case glm_family::poisson: return arma::exp(eta);
    default: {
      const arma::vec mu = mean_fn(eta, f);
      return mu % (1.0 - mu);
    }
  }
}

// The data of one problem: design with the intercept column, bag means of the design,
// sizes, aggregates.
struct problem {
  arma::mat X, Xbar;
  arma::vec w, ybar;
  arma::uvec bag;
  double n = 0;
};

problem make_problem(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar, bool intercept) {
  problem pr;
  pr.X = intercept ? arma::join_rows(arma::ones(X.n_rows), X) : X;
  pr.w = arma::conv_to<arma::vec>::from(bags.sizes);
  pr.Xbar.zeros(bags.n_bags(), pr.X.n_cols);
  for (arma::uword i = 0; i < X.n_rows; ++i) pr.Xbar.row(bags.bag(i)) += pr.X.row(i);
  pr.Xbar.each_col() /= pr.w;
  pr.ybar = ybar;
  pr.bag = bags.bag;
  pr.n = static_cast<double>(X.n_rows);
  return pr;
}

glm_losses losses_of(const problem& pr, const arma::vec& theta, glm_family f) {
  const arma::vec eta = pr.X * theta, etabar = pr.Xbar * theta;
  glm_losses out;
  const double lin = arma::dot(pr.w % pr.ybar, etabar);
  out.bag = (arma::dot(pr.w, cumulant(etabar, f)) - lin) / pr.n;
  out.instance = (arma::accu(cumulant(eta, f)) - lin) / pr.n;
  // Within-bag term from its own definition: sum_i [b(eta_i) - b(etabar_{a(i)})] / n.
  out.within = arma::accu(cumulant(eta, f) - cumulant(etabar.elem(pr.bag), f)) / pr.n;
  return out;
}

optim::newton_objective objective(const problem& pr, glm_family f, double rho, const arma::vec& P,
                                  double ridge) {
  return [&pr, f, rho, P, ridge](const arma::vec& th, arma::vec* grad, arma::mat* hess) {
    const arma::vec eta = pr.X * th, etabar = pr.Xbar * th;
    const double val = ((1 - rho) * arma::dot(pr.w, cumulant(etabar, f)) +
                        rho * arma::accu(cumulant(eta, f)) - arma::dot(pr.w % pr.ybar, etabar)) /
                           pr.n +
                       0.5 * ridge * arma::dot(P % th, th);
    if (grad) {
      *grad = ((1 - rho) * pr.Xbar.t() * (pr.w % mean_fn(etabar, f)) +
               rho * pr.X.t() * mean_fn(eta, f) - pr.Xbar.t() * (pr.w % pr.ybar)) /
                  pr.n +
              ridge * (P % th);
    }
    if (hess) {
      arma::mat H(th.n_elem, th.n_elem, arma::fill::zeros);
      if (rho < 1) H += (1 - rho) * pr.Xbar.t() * (pr.Xbar.each_col() % (pr.w % variance_fn(etabar, f)));
      if (rho > 0) H += rho * pr.X.t() * (pr.X.each_col() % variance_fn(eta, f));
      *hess = H / pr.n;
      hess->diag() += ridge * P;
    }
    return std::isfinite(val) ? val : arma::datum::inf;
  };
}

void check_response(const arma::vec& ybar, glm_family f) {
  check_finite(ybar, "y_bag");
  if (f == glm_family::binomial)
    require(ybar.min() >= 0 && ybar.max() <= 1,
            "`y_bag` must hold bag proportions in [0, 1] for the binomial family.");
  if (f == glm_family::poisson)
    require(ybar.min() >= 0, "`y_bag` must be zero or positive for the poisson family.");
}

struct solve_out {
  arma::vec theta;
  optim::newton_result res;
};

solve_out solve(const problem& pr, glm_family f, double rho, double ridge, bool intercept,
                const arma::vec& start, const optim::newton_options& nopt) {
  arma::vec P(pr.X.n_cols, arma::fill::ones);
  if (intercept) P(0) = 0;
  const auto obj = objective(pr, f, rho, P, ridge);
  solve_out out;
  out.res = optim::newton_minimize(obj, start, nopt);
  out.theta = out.res.x;
  return out;
}

double held_out_score(const problem& test, const arma::vec& theta, glm_family f) {
  arma::vec mu = mean_fn(test.X * theta, f);
  arma::vec s(test.w.n_elem, arma::fill::zeros);
  for (arma::uword i = 0; i < mu.n_elem; ++i) s(test.bag(i)) += mu(i);
  const arma::vec r = test.ybar - s / test.w;
  return arma::dot(test.w, r % r) / static_cast<double>(test.w.n_elem);
}

void check_rho(double r) {
  check_finite(r, "rho");
  require(r >= 0, "`rho` must be zero or positive (0 = bag level, 1 = instance level), not " +
                      format_number(r) + ".");
}

// Sandwich standard errors, conditional on x (see glm.hpp).
void glm_standard_errors(glm_fit& fit, const problem& pr, const arma::mat& X, const bag_structure& bags,
                         const arma::vec& ybar) {
  if (!fit.converged) {
    fit.se_message = "no standard errors: the fit did not converge (" + fit.message + ")";
    return;
  }
  double phi = 1;
  if (fit.family == glm_family::gaussian) {
    const linear_stats st = compute_stats(X, bags, ybar, fit.intercept);
    const std::optional<double> s2 = bag_level_noise(st);
    if (!s2) {
      fit.se_message = no_noise_estimate_message(st);
      return;
    }
    phi = *s2;
  }
  arma::vec P(pr.X.n_cols, arma::fill::ones);
  if (fit.intercept) P(0) = 0;
  arma::mat H;
  arma::vec g;
  objective(pr, fit.family, fit.rho, P, fit.ridge)(fit.coef, &g, &H);
  // Var(ybar_a) = phi sum_{i in B_a} V(mu_i) / |B_a|^2 at the fitted means.
  const arma::vec v = variance_fn(pr.X * fit.coef, fit.family);
  arma::vec vbag(pr.w.n_elem, arma::fill::zeros);
  for (arma::uword i = 0; i < v.n_elem; ++i) vbag(pr.bag(i)) += v(i);
  const arma::mat M = phi * pr.Xbar.t() * (pr.Xbar.each_col() % vbag) / (pr.n * pr.n);
  arma::mat Hinv;
  if (!arma::inv_sympd(Hinv, 0.5 * (H + H.t())) || !Hinv.is_finite()) {
    fit.se_message = "no standard errors: the Hessian at the estimate is singular";
    return;
  }
  fit.dispersion = phi;
  fit.vcov = Hinv * M * Hinv;
  fit.vcov = 0.5 * (fit.vcov + fit.vcov.t());
  fit.std_errors = arma::sqrt(arma::clamp(fit.vcov.diag(), 0.0, arma::datum::inf));
  fit.se_message = std::string("sandwich, conditional on x, with Var(ybar_a) from the fitted means") +
                   (fit.family == glm_family::gaussian ? " and sigma^2 from the bag-level fit" : "") +
                   (fit.rho > 0 ? "; rho > 0 is biased, so they describe the spread around the "
                                  "estimator's limit, not theta0"
                                : "");
}

}  // namespace

glm_losses evaluate_glm_losses(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                               const arma::vec& theta, glm_family family, bool intercept) {
  const problem pr = make_problem(X, bags, ybar, intercept);
  require(theta.n_elem == pr.X.n_cols, "`theta` must have " + std::to_string(pr.X.n_cols) + " entries.");
  return losses_of(pr, theta, family);
}

glm_fit fit_glm(const arma::mat& X, const bag_structure& bags, const arma::vec& ybar,
                const glm_options& options) {
  require(X.n_rows == bags.n_rows(), "`x` must have one row per bag assignment: " +
                                         std::to_string(X.n_rows) + " rows but " +
                                         std::to_string(bags.n_rows()) + " bag ids.");
  require(ybar.n_elem == bags.n_bags(), "`y_bag` must have one aggregate per bag (" +
                                            std::to_string(bags.n_bags()) + "), but it has " +
                                            std::to_string(ybar.n_elem) + ".");
  check_finite(X, "x");
  check_response(ybar, options.family);
  check_nonnegative(options.ridge, "ridge");
  require(options.method != rho_method::oracle,
          "the oracle rho is defined for the linear model only: use rho = \"cv\" or a number.");
  const arma::uword p = X.n_cols + (options.intercept ? 1 : 0);
  const arma::uword m = bags.n_bags();
  const bool bag_ok = options.ridge > 0 || m >= p;
  auto check_bag_rho = [&](double r) {
    check_rho(r);
    require(r > 0 || bag_ok,
            "rho = 0 (the bag-level estimator) needs at least as many bags as coefficients: m = " +
                std::to_string(m) + " bags, p = " + std::to_string(p) +
                " coefficients; use rho > 0, more bags, or `ridge` > 0.");
  };

  glm_fit fit;
  fit.options = options;
  fit.method = options.method;
  fit.family = options.family;
  fit.intercept = options.intercept;
  fit.ridge = options.ridge;
  fit.n = X.n_rows;
  fit.m = m;
  fit.p = p;
  const problem full = make_problem(X, bags, ybar, options.intercept);

  if (options.method == rho_method::fixed) {
    check_bag_rho(options.rho);
    fit.rho = options.rho;
  } else {
    require(options.folds >= 2, "`folds` must be at least 2, not " + std::to_string(options.folds) + ".");
    require(m >= 2, "cross-validation over bags needs at least 2 bags: fix `rho`.");
    if (options.rho_grid.n_elem) {
      for (double r : options.rho_grid) check_bag_rho(r);
      fit.rho_grid = options.rho_grid;
    } else {
      const arma::vec pos = {0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0};
      fit.rho_grid = bag_ok ? arma::vec(arma::join_cols(arma::vec{0.0}, pos)) : pos;
    }
    // Fit the grid from the largest rho down (better conditioned first), warm-started.
    const arma::uvec order = arma::sort_index(fit.rho_grid, "descend");
    const arma::uword K = std::min<arma::uword>(static_cast<arma::uword>(options.folds), m);
    const arma::uvec fold_of_bag = assign_folds(m, K, options.seed);
    const arma::uvec fold_of_row = fold_of_bag.elem(bags.bag);
    arma::mat scores(K, fit.rho_grid.n_elem);
    for (arma::uword f = 0; f < K; ++f) {
      const arma::uvec tr = arma::find(fold_of_row != f), te = arma::find(fold_of_row == f);
      const bag_structure btr = bags_from_ids(bags.bag.elem(tr)), bte = bags_from_ids(bags.bag.elem(te));
      const problem ptr = make_problem(X.rows(tr), btr, ybar.elem(btr.ids), options.intercept);
      const problem pte = make_problem(X.rows(te), bte, ybar.elem(bte.ids), options.intercept);
      arma::vec start(p, arma::fill::zeros);
      for (arma::uword j : order) {
        const solve_out s = solve(ptr, options.family, fit.rho_grid(j), options.ridge,
                                  options.intercept, start, options.newton);
        scores(f, j) = s.res.converged ? held_out_score(pte, s.theta, options.family)
                                       : arma::datum::inf;
        if (s.res.converged) start = s.theta;
      }
    }
    fit.cv_mse = arma::mean(scores, 0).t();
    fit.cv_se = (arma::stddev(scores, 0, 0) / std::sqrt(static_cast<double>(K))).t();
    require(arma::any(fit.cv_mse < arma::datum::inf),
            "no value of the rho grid converged in every fold; add `ridge` > 0 or positive rho values.");
    fit.rho = fit.rho_grid(fit.cv_mse.index_min());
  }
  const solve_out s = solve(full, options.family, fit.rho, options.ridge, options.intercept,
                            arma::zeros(p), options.newton);
  fit.coef = s.theta;
  fit.objective = s.res.value;
  fit.converged = s.res.converged;
  fit.iterations = s.res.iterations;
  fit.message = s.res.message;
  fit.losses = losses_of(full, fit.coef, options.family);
  if (options.standard_errors) glm_standard_errors(fit, full, X, bags, ybar);
  return fit;
}

arma::vec predict_glm(const glm_fit& fit, const arma::mat& X, bool response) {
  const arma::vec eta = linear_predictor(fit.coef, fit.intercept, X);
  return response ? mean_fn(eta, fit.family) : eta;
}

arma::vec predict_glm_bag(const glm_fit& fit, const arma::mat& X, const bag_structure& bags) {
  return bag_means(predict_glm(fit, X, true), bags);
}

}  // namespace tessera::aggregate
