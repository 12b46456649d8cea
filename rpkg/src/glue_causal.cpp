// Rcpp glue for core/causal. R-side argument checking (formula, factor coding, learner
// specifications) lives in R/causal.R; everything else is validated by the core.
#include "glue.h"

#include <string>
#include <vector>

#include "tessera/causal/iv_ate.hpp"

namespace {

namespace tc = tessera::causal;

// A learner from its R specification: a built-in name, or an R function
// fp(x, y, x_new, binary, seed) returning predictions at x_new.
tc::learner make_learner(SEXP spec, const std::string& name) {
  if (TYPEOF(spec) == STRSXP) {
    const std::string s = Rcpp::as<std::string>(spec);
    tc::learner l;
    if (s == "glm") l = tc::glm_learner();
    else if (s == "lasso") l = tc::penalised_learner(1.0, 1);
    else if (s == "ridge") l = tc::penalised_learner(0.0, 1);
    else if (s == "enet") l = tc::penalised_learner(0.5, 1);
    else if (s == "lasso2") l = tc::penalised_learner(1.0, 2);
    else if (s == "ridge2") l = tc::penalised_learner(0.0, 2);
    else if (s == "mean") l = tc::mean_learner();
    else throw tessera::invalid_argument("unknown built-in learner '" + s + "'.");
    l.name = name;
    return l;
  }
  Rcpp::Function fp(spec);
  tc::learner l;
  l.name = name;
  l.fit_predict = [fp](const arma::mat& x, const arma::vec& y, const arma::mat& x_new, bool binary,
                       std::uint64_t seed) -> arma::vec {
    SEXP out = fp(Rcpp::wrap(x), Rcpp::NumericVector(y.begin(), y.end()), Rcpp::wrap(x_new), binary,
                  static_cast<double>(seed % 2147483647ULL));
    if (Rf_inherits(out, "tessera_learner_error"))
      throw tessera::invalid_argument(Rcpp::as<std::string>(out));
    if (!Rf_isNumeric(out) && !Rf_isLogical(out))
      throw tessera::invalid_argument("predictions must be a numeric vector");
    const Rcpp::NumericVector v(out);
    return arma::vec(Rcpp::as<std::vector<double>>(v));
  };
  return l;
}

std::vector<tc::learner> make_learners(Rcpp::List specs, Rcpp::CharacterVector names) {
  std::vector<tc::learner> out;
  for (R_xlen_t i = 0; i < specs.size(); ++i)
    out.push_back(make_learner(specs[i], Rcpp::as<std::string>(names[i])));
  return out;
}

tc::trim_options make_trim(double trim_pi, double trim_v, double max_weak_share) {
  tc::trim_options t;
  t.trim_pi = trim_pi;
  t.trim_v = trim_v;
  t.max_weak_share = max_weak_share;
  return t;
}

Rcpp::NumericVector as_r(const arma::vec& v) { return Rcpp::NumericVector(v.begin(), v.end()); }

Rcpp::List to_list(const tc::iv_ate_result& r) {
  const auto& d = r.diag;
  Rcpp::List diag = Rcpp::List::create(
      Rcpp::Named("v_diff") = as_r(d.v_diff), Rcpp::Named("v_diff_quantiles") = as_r(d.v_diff_quantiles),
      Rcpp::Named("share_weak") = d.share_weak, Rcpp::Named("share_p_equal") = d.share_p_equal,
      Rcpp::Named("share_p_sum_one") = d.share_p_sum_one, Rcpp::Named("pi_min") = d.pi_min,
      Rcpp::Named("pi_max") = d.pi_max, Rcpp::Named("n_trim_pi") = static_cast<double>(d.n_trim_pi),
      Rcpp::Named("n_trim_v") = static_cast<double>(d.n_trim_v), Rcpp::Named("one_sided") = d.one_sided,
      Rcpp::Named("one_sided_arm") = d.one_sided_arm, Rcpp::Named("one_sided_value") = d.one_sided_value,
      Rcpp::Named("arm_counts") = as_r(arma::conv_to<arma::vec>::from(d.arm_counts)),
      Rcpp::Named("warnings") = Rcpp::wrap(d.warnings));
  Rcpp::NumericMatrix nu = Rcpp::wrap(r.nuisance);
  if (r.nuisance.n_cols == r.nuisance_names.size() && r.nuisance.n_cols > 0)
    Rcpp::colnames(nu) = Rcpp::wrap(r.nuisance_names);
  Rcpp::List out;
  out["method"] = r.method;
  out["estimate"] = r.estimate;
  out["se"] = r.se;
  out["ci"] = Rcpp::NumericVector::create(r.ci_lower, r.ci_upper);
  out["level"] = r.level;
  out["pseudo_outcome"] = as_r(r.pseudo_outcome);
  out["nuisance"] = nu;
  out["diagnostics"] = diag;
  out["theta"] = as_r(r.theta);
  out["vcov_theta"] = r.vcov_theta;
  out["beta"] = as_r(r.beta);
  out["beta_se"] = as_r(r.beta_se);
  out["model_messages"] = Rcpp::wrap(r.model_messages);
  out["replicates"] = as_r(r.replicates);
  out["bootstrap"] = Rcpp::NumericVector::create(r.bootstrap_se, r.bootstrap_lower, r.bootstrap_upper);
  out["folds"] = r.folds;
  out["fold_id"] = as_r(arma::conv_to<arma::vec>::from(r.fold_id) + 1);
  out["tuples"] = Rcpp::wrap(arma::conv_to<arma::mat>::from(r.tuples) + 1);
  out["pseudo_risk"] = as_r(r.pseudo_risk);
  out["tuple_estimate"] = as_r(r.tuple_estimate);
  out["pseudo_risk_terms"] = r.pseudo_risk_terms;
  out["tuple_fold_estimate"] = r.tuple_fold_estimate;
  out["selected"] = static_cast<double>(r.selected) + 1;
  out["learner_names"] = Rcpp::wrap(r.learner_names);
  return out;
}

}  // namespace

// [[Rcpp::export(.iv_mdml_cpp)]]
Rcpp::List iv_mdml_cpp(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                       Rcpp::List pi_specs, Rcpp::CharacterVector pi_names, Rcpp::List p_specs,
                       Rcpp::CharacterVector p_names, Rcpp::List mu_specs, Rcpp::CharacterVector mu_names,
                       bool selective, int folds, int repeats, double trim_pi, double trim_v,
                       double max_weak_share, double level, double seed, bool verbose) {
  TESSERA_GLUE_BEGIN
  tc::mdml_options o;
  o.folds = folds;
  o.repeats = repeats;
  o.level = level;
  o.trim = make_trim(trim_pi, trim_v, max_weak_share);
  const auto pis = make_learners(pi_specs, pi_names), ps = make_learners(p_specs, p_names),
             mus = make_learners(mu_specs, mu_names);
  tessera_r::progress_bar bar(verbose, "Cross-fitting the nuisances");
  const tessera::runtime_context ctx = tessera_r::r_context(false, &bar);
  const auto s = static_cast<std::uint64_t>(seed);
  const tc::iv_ate_result r = selective ? tc::fit_selective(y, a, z, x, pis, ps, mus, o, s, ctx)
                                        : tc::fit_mdml(y, a, z, x, pis.at(0), ps.at(0), mus.at(0), o, s, ctx);
  return to_list(r);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.iv_mr_cpp)]]
Rcpp::List iv_mr_cpp(const arma::vec& y, const arma::vec& a, const arma::vec& z, const arma::mat& x,
                     double trim_pi, double trim_v, double max_weak_share, double level, int bootstrap,
                     double seed, bool verbose) {
  TESSERA_GLUE_BEGIN
  tc::mr_options o;
  o.level = level;
  o.bootstrap = bootstrap;
  o.trim = make_trim(trim_pi, trim_v, max_weak_share);
  tessera_r::progress_bar bar(verbose, "Bootstrapping");
  const tessera::runtime_context ctx = tessera_r::r_context(false, &bar);
  return to_list(tc::fit_mr(y, a, z, x, o, static_cast<std::uint64_t>(seed), ctx));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.iv_wald_cpp)]]
Rcpp::List iv_wald_cpp(const arma::vec& y, const arma::vec& a, const arma::vec& z, double level) {
  TESSERA_GLUE_BEGIN
  return to_list(tc::fit_wald(y, a, z, level));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.iv_dr_cpp)]]
Rcpp::List iv_dr_cpp(const arma::vec& y, const arma::vec& a, const arma::mat& x, SEXP e_spec, std::string e_name,
                     SEXP mu_spec, std::string mu_name, int folds, double trim, double level, double seed) {
  TESSERA_GLUE_BEGIN
  return to_list(tc::fit_dr_no_confounding(y, a, x, make_learner(e_spec, e_name), make_learner(mu_spec, mu_name),
                                           folds, trim, level, static_cast<std::uint64_t>(seed)));
  TESSERA_GLUE_END
}
