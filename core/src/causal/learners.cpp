// Built-in nuisance learners of the causal module, all built on tessera::glm.
#include <string>

#include "tessera/causal/iv_ate.hpp"
#include "tessera/common/validate.hpp"

namespace tessera::causal {

arma::mat polynomial_basis(const arma::mat& x, int degree) {
  require(degree == 1 || degree == 2, "`degree` must be 1 or 2, not " + std::to_string(degree) + ".");
  if (degree == 1 || x.n_cols == 0) return x;
  const arma::uword p = x.n_cols;
  arma::mat out(x.n_rows, p + p * (p + 1) / 2);
  out.cols(0, p - 1) = x;
  arma::uword c = p;
  for (arma::uword j = 0; j < p; ++j)
    for (arma::uword k = j; k < p; ++k) out.col(c++) = x.col(j) % x.col(k);
  return out;
}

namespace {
glm::fit_options options_for(bool binary) {
  glm::fit_options o;
  o.link = binary ? glm::family::binomial : glm::family::gaussian;
  return o;
}
}  // namespace

learner glm_learner() {
  learner l;
  l.name = "glm";
  l.fit_predict = [](const arma::mat& x, const arma::vec& t, const arma::mat& x_new, bool binary,
                     std::uint64_t) { return glm::fit(x, t, {}, options_for(binary)).predict(x_new); };
  return l;
}

learner penalised_learner(double alpha, int degree, int cv_folds, glm::cv_rule rule) {
  check_in_closed(alpha, 0.0, 1.0, "alpha");
  require(degree == 1 || degree == 2, "`degree` must be 1 or 2, not " + std::to_string(degree) + ".");
  check_at_least(cv_folds, 2, "cv_folds");
  learner l;
  l.name = std::string(alpha == 1 ? "lasso" : (alpha == 0 ? "ridge" : "elastic net")) +
           (degree == 2 ? " (degree 2)" : "");
  l.fit_predict = [alpha, degree, cv_folds, rule](const arma::mat& x, const arma::vec& t, const arma::mat& x_new,
                                                   bool binary, std::uint64_t seed) -> arma::vec {
    if (x.n_cols == 0) return arma::vec(arma::vec(x_new.n_rows).fill(arma::mean(t)));
    glm::fit_options o = options_for(binary);
    o.alpha = alpha;
    o.tol = 1e-7;
    glm::cv_options cv;
    cv.folds = cv_folds;
    cv.rule = rule;
    cv.path.n_lambda = 50;
    return glm::cross_validate(polynomial_basis(x, degree), t, {}, o, cv, seed).fit.predict(
        polynomial_basis(x_new, degree));
  };
  return l;
}

learner mean_learner() {
  learner l;
  l.name = "mean";
  l.fit_predict = [](const arma::mat&, const arma::vec& t, const arma::mat& x_new, bool, std::uint64_t) -> arma::vec {
    return arma::vec(x_new.n_rows).fill(arma::mean(t));
  };
  return l;
}

}  // namespace tessera::causal
