// Rcpp glue for core/ordinal (PRESTO and its baselines). Checks that need R types
// (factors, level names, formulas) live in R/ordinal.R; the core validates the rest.
#include "glue.h"

#include <cstdint>
#include <limits>

#include "tessera/ordinal/presto.hpp"

namespace {

namespace ord = tessera::ordinal;

arma::vec optional_vec(const Rcpp::Nullable<Rcpp::NumericVector>& v) {
  if (v.isNull()) return arma::vec();
  return Rcpp::as<arma::vec>(v.get());
}

ord::presto_options make_options(double alpha, int nlambda, double lambda_min_ratio,
                                 const Rcpp::Nullable<Rcpp::NumericVector>& lambda,
                                 const Rcpp::Nullable<Rcpp::NumericVector>& block_factors,
                                 const Rcpp::Nullable<Rcpp::NumericVector>& penalty_factor,
                                 bool standardize, const Rcpp::List& control) {
  ord::presto_options o;
  o.alpha = alpha;
  o.nlambda = nlambda;
  o.lambda_min_ratio = lambda_min_ratio;
  o.lambda = optional_vec(lambda);
  o.block_factors = optional_vec(block_factors);
  o.variable_factors = optional_vec(penalty_factor);
  o.standardize = standardize;
  o.tol = Rcpp::as<double>(control["tol"]);
  o.tol_inner = Rcpp::as<double>(control["tol_inner"]);
  o.max_iter = Rcpp::as<int>(control["max_iter"]);
  o.max_sweeps = Rcpp::as<int>(control["max_sweeps"]);
  o.max_halvings = Rcpp::as<int>(control["max_halvings"]);
  o.p_min = Rcpp::as<double>(control["p_min"]);
  o.alpha_min = Rcpp::as<double>(control["alpha_min"]);
  return o;
}

Rcpp::NumericVector as_r(const arma::vec& v) { return Rcpp::NumericVector(v.begin(), v.end()); }

Rcpp::List path_to_list(const ord::presto_fit& f) {
  return Rcpp::List::create(
      Rcpp::Named("lambda") = as_r(f.lambda), Rcpp::Named("lambda_max") = f.lambda_max,
      Rcpp::Named("a0") = f.intercepts, Rcpp::Named("beta") = f.beta, Rcpp::Named("psi") = f.psi,
      Rcpp::Named("objective") = as_r(f.objective), Rcpp::Named("loglik") = as_r(f.loglik),
      Rcpp::Named("df") = as_r(arma::conv_to<arma::vec>::from(f.n_nonzero)),
      Rcpp::Named("iterations") = as_r(arma::conv_to<arma::vec>::from(f.iterations)),
      Rcpp::Named("sweeps") = as_r(arma::conv_to<arma::vec>::from(f.sweeps)),
      Rcpp::Named("kkt") = as_r(f.kkt_violation),
      Rcpp::Named("converged") = Rcpp::LogicalVector(f.converged.begin(), f.converged.end()),
      Rcpp::Named("constrained") = Rcpp::LogicalVector(f.constrained.begin(), f.constrained.end()),
      Rcpp::Named("message") = f.message,
      Rcpp::Named("center") = as_r(f.center.t()), Rcpp::Named("scale") = as_r(f.scale.t()),
      Rcpp::Named("block_factors") = as_r(f.options.block_factors),
      Rcpp::Named("penalty_factor") = as_r(f.options.variable_factors));
}

}  // namespace

// [[Rcpp::export(.presto_fit_cpp)]]
Rcpp::List presto_fit_cpp(const arma::mat& x, const arma::uvec& y, int n_classes,
                          Rcpp::Nullable<Rcpp::NumericVector> weights, double alpha, int nlambda,
                          double lambda_min_ratio, Rcpp::Nullable<Rcpp::NumericVector> lambda,
                          Rcpp::Nullable<Rcpp::NumericVector> block_factors,
                          Rcpp::Nullable<Rcpp::NumericVector> penalty_factor, bool standardize,
                          Rcpp::List control, bool verbose) {
  TESSERA_GLUE_BEGIN
  const ord::presto_options o = make_options(alpha, nlambda, lambda_min_ratio, lambda, block_factors,
                                             penalty_factor, standardize, control);
  tessera_r::progress_bar bar(verbose, "Fitting the PRESTO path");
  const tessera::runtime_context ctx = tessera_r::r_context(false, &bar);
  const ord::presto_fit f = ord::fit_presto(x, y, static_cast<arma::uword>(n_classes), o,
                                            optional_vec(weights), ctx);
  return path_to_list(f);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.presto_cv_cpp)]]
Rcpp::List presto_cv_cpp(const arma::mat& x, const arma::uvec& y, int n_classes,
                         Rcpp::Nullable<Rcpp::NumericVector> weights, double alpha, int nlambda,
                         double lambda_min_ratio, Rcpp::Nullable<Rcpp::NumericVector> lambda,
                         Rcpp::Nullable<Rcpp::NumericVector> block_factors,
                         Rcpp::Nullable<Rcpp::NumericVector> penalty_factor, bool standardize,
                         Rcpp::List control, int nfolds, std::string measure, double seed,
                         Rcpp::Nullable<Rcpp::NumericVector> foldid, int threads, bool verbose) {
  TESSERA_GLUE_BEGIN
  const ord::presto_options o = make_options(alpha, nlambda, lambda_min_ratio, lambda, block_factors,
                                             penalty_factor, standardize, control);
  ord::cv_options cv;
  cv.nfolds = nfolds;
  cv.threads = threads;
  cv.measure = measure == "deviance" ? ord::cv_measure::deviance
               : measure == "class"  ? ord::cv_measure::misclassification
                                     : ord::cv_measure::brier;
  cv.seed = static_cast<std::uint64_t>(seed);
  if (foldid.isNotNull()) cv.foldid = arma::conv_to<arma::uvec>::from(Rcpp::as<arma::vec>(foldid.get()));
  tessera_r::progress_bar bar(verbose, "Fitting the PRESTO path");
  const tessera::runtime_context ctx = tessera_r::r_context(false, &bar);
  const ord::presto_cv_fit f =
      ord::cv_presto(x, y, static_cast<arma::uword>(n_classes), o, cv, optional_vec(weights), ctx);
  return Rcpp::List::create(
      Rcpp::Named("fit") = path_to_list(f.fit), Rcpp::Named("cvm") = as_r(f.cvm),
      Rcpp::Named("cvsd") = as_r(f.cvsd), Rcpp::Named("fold_measure") = f.fold_measure,
      Rcpp::Named("index_min") = static_cast<double>(f.index_min + 1),
      Rcpp::Named("index_1se") = static_cast<double>(f.index_1se + 1),
      Rcpp::Named("foldid") = as_r(arma::conv_to<arma::vec>::from(f.foldid) + 1),
      Rcpp::Named("fold_crossings") = as_r(arma::conv_to<arma::vec>::from(f.fold_crossings)),
      Rcpp::Named("fold_converged") =
          Rcpp::LogicalVector(f.fold_converged.begin(), f.fold_converged.end()));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.presto_predict_cpp)]]
Rcpp::List presto_predict_cpp(const arma::vec& intercepts, const arma::mat& beta,
                              const arma::mat& x, std::string crossing) {
  TESSERA_GLUE_BEGIN
  const ord::crossing_policy policy = crossing == "error" ? ord::crossing_policy::error
                                      : crossing == "clamp" ? ord::crossing_policy::clamp
                                                            : ord::crossing_policy::warn;
  const ord::probability_prediction p = ord::predict_probabilities(intercepts, beta, x, policy);
  return Rcpp::List::create(
      Rcpp::Named("prob") = p.prob,
      Rcpp::Named("crossing_rows") = as_r(arma::conv_to<arma::vec>::from(p.crossing_rows) + 1),
      Rcpp::Named("link") = ord::predict_link(intercepts, beta, x));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.presto_baseline_cpp)]]
Rcpp::List presto_baseline_cpp(const arma::mat& x, const arma::uvec& y, int n_classes,
                               Rcpp::Nullable<Rcpp::NumericVector> weights, std::string type) {
  TESSERA_GLUE_BEGIN
  const arma::vec w = optional_vec(weights);
  const ord::ordinal_fit f =
      type == "po" ? ord::fit_proportional_odds(x, y, static_cast<arma::uword>(n_classes), w)
                   : ord::fit_separate_logits(x, y, static_cast<arma::uword>(n_classes), w);
  return Rcpp::List::create(Rcpp::Named("a0") = as_r(f.intercepts), Rcpp::Named("beta") = f.beta,
                            Rcpp::Named("loglik") = f.loglik, Rcpp::Named("converged") = f.converged,
                            Rcpp::Named("iterations") = f.iterations,
                            Rcpp::Named("message") = f.message);
  TESSERA_GLUE_END
}
