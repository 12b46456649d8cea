// Rcpp glue for core/montecarlo: aISCV and Sobol' sessions held in external pointers,
// driven from R (ask / tell), so phi and the model stay plain R functions and the
// deferred mode is the same code path. Argument checking that needs R types lives in
// R/montecarlo.R; everything else is validated by the core.
#include "glue.h"

#include <memory>

#include "tessera/montecarlo/aiscv.hpp"
#include "tessera/montecarlo/sobol.hpp"

namespace mc = tessera::montecarlo;

namespace {

mc::marginal_family parse_family(const std::string& f) {
  if (f == "normal") return mc::marginal_family::normal;
  if (f == "lognormal") return mc::marginal_family::lognormal;
  if (f == "uniform") return mc::marginal_family::uniform;
  if (f == "gamma") return mc::marginal_family::gamma;
  return mc::marginal_family::beta;
}

std::vector<mc::marginal> parse_marginals(const Rcpp::List& law) {
  const Rcpp::CharacterVector fam = law["family"];
  const Rcpp::NumericVector a = law["a"], b = law["b"];
  std::vector<mc::marginal> out;
  for (R_xlen_t i = 0; i < fam.size(); ++i)
    out.push_back(mc::marginal{parse_family(Rcpp::as<std::string>(fam[i])), a[i], b[i]});
  return out;
}

mc::input_law parse_law(const Rcpp::List& law) {
  const std::string type = Rcpp::as<std::string>(law["type"]);
  if (type == "function") {
    mc::input_law out;
    out.dim = static_cast<arma::uword>(Rcpp::as<double>(law["dim"]));
    Rcpp::Function sampler = law["sample"], logd = law["log_density"];
    out.sample = [sampler](arma::uword n, std::uint64_t seed) {
      return Rcpp::as<arma::mat>(sampler(static_cast<double>(n), static_cast<double>(seed % 2147483647ULL)));
    };
    out.log_density = [logd](const arma::mat& x) { return Rcpp::as<arma::vec>(logd(x)); };
    return out;
  }
  const std::vector<mc::marginal> m = parse_marginals(law);
  if (law.containsElementNamed("correlation") && !Rf_isNull(law["correlation"]))
    return mc::gaussian_copula_law(m, Rcpp::as<arma::mat>(law["correlation"]));
  return mc::independent_law(m);
}

mc::aiscv_options parse_options(const Rcpp::List& o) {
  mc::aiscv_options out;
  out.budget = static_cast<arma::uword>(Rcpp::as<double>(o["budget"]));
  out.adapt_fraction = Rcpp::as<double>(o["adapt_frac"]);
  out.batch_fraction = Rcpp::as<double>(o["batch_frac"]);
  out.family = Rcpp::as<std::string>(o["family"]) == "mixture" ? mc::proposal_family::gaussian_mixture
                                                                : mc::proposal_family::single_gaussian;
  out.mixture_components = static_cast<arma::uword>(Rcpp::as<double>(o["components"]));
  out.diagonal = Rcpp::as<bool>(o["diagonal"]);
  out.jitter = Rcpp::as<double>(o["jitter"]);
  out.level = Rcpp::as<double>(o["level"]);
  out.defensive = Rcpp::as<double>(o["defensive"]);
  out.shrinkage = Rcpp::as<bool>(o["shrinkage"]);
  if (!Rf_isNull(o["weights"])) out.weights = Rcpp::as<arma::vec>(o["weights"]);
  return out;
}

Rcpp::NumericVector as_r(const arma::vec& v) { return Rcpp::NumericVector(v.begin(), v.end()); }

Rcpp::List components_to_r(const std::vector<mc::gaussian_mixture>& comps) {
  Rcpp::List out(comps.size());
  for (std::size_t j = 0; j < comps.size(); ++j) {
    Rcpp::List means(comps[j].components.size()), covs(comps[j].components.size());
    for (std::size_t k = 0; k < comps[j].components.size(); ++k) {
      means[k] = as_r(comps[j].components[k].mean);
      covs[k] = comps[j].components[k].cov;
    }
    out[j] = Rcpp::List::create(Rcpp::Named("weights") = as_r(comps[j].weights), Rcpp::Named("means") = means,
                                Rcpp::Named("covariances") = covs);
  }
  return out;
}

Rcpp::List result_to_r(const mc::aiscv_result& r) {
  const std::size_t S = r.history.size();
  const arma::uword J = r.estimate.n_elem;
  Rcpp::NumericVector batch(S), n_points(S), n_total(S), criterion(S), jitter(S), shrinkage(S);
  arma::mat est(S, J), s2(S, J), alpha(S, J), beta(S, J);
  alpha.fill(NA_REAL);
  for (std::size_t s = 0; s < S; ++s) {
    const auto& h = r.history[s];
    batch[s] = static_cast<double>(h.batch);
    n_points[s] = static_cast<double>(h.n_points);
    n_total[s] = static_cast<double>(h.n_total);
    criterion[s] = h.criterion;
    jitter[s] = h.jitter;
    shrinkage[s] = h.shrinkage;
    est.row(s) = h.estimate.t();
    s2.row(s) = h.s2.t();
    beta.row(s) = h.beta.t();
    if (!h.alpha.is_empty()) alpha.row(s) = h.alpha.t();
  }
  Rcpp::LogicalVector degenerate(r.cv_degenerate.begin(), r.cv_degenerate.end());
  Rcpp::List out = Rcpp::List::create(
      Rcpp::Named("estimate") = as_r(r.estimate), Rcpp::Named("se") = as_r(r.se),
      Rcpp::Named("lower") = as_r(r.lower), Rcpp::Named("upper") = as_r(r.upper),
      Rcpp::Named("covariance") = r.covariance, Rcpp::Named("ess") = as_r(r.ess),
      Rcpp::Named("alpha") = as_r(r.alpha), Rcpp::Named("beta") = as_r(r.beta),
      Rcpp::Named("weights") = as_r(r.weights), Rcpp::Named("cv_degenerate") = degenerate,
      Rcpp::Named("n_adapt") = static_cast<double>(r.n_adapt), Rcpp::Named("n_final") = static_cast<double>(r.n_final),
      Rcpp::Named("stop_reason") = r.stop_reason, Rcpp::Named("level") = r.level,
      Rcpp::Named("components") = components_to_r(r.components),
      Rcpp::Named("history") = Rcpp::DataFrame::create(
          Rcpp::Named("batch") = batch, Rcpp::Named("n_points") = n_points, Rcpp::Named("n_total") = n_total,
          Rcpp::Named("criterion") = criterion, Rcpp::Named("jitter") = jitter,
          Rcpp::Named("shrinkage") = shrinkage),
      Rcpp::Named("history_estimate") = est, Rcpp::Named("history_s2") = s2,
      Rcpp::Named("history_alpha") = alpha, Rcpp::Named("history_beta") = beta);
  out.push_back(r.defensive, "defensive");  // List::create takes at most 20 entries
  return out;
}

template <class Session>
Session& get(SEXP ptr) {
  Rcpp::XPtr<Session> p(ptr);
  if (p.get() == nullptr)
    throw tessera::invalid_argument("this request's session no longer exists (it does not survive saving and "
                                    "reloading the R session): start again.");
  return *p;
}

// The phase and the points awaiting evaluation.
template <class Session>
Rcpp::List state_of(SEXP ptr) {
  const auto& s = get<Session>(ptr);
  return Rcpp::List::create(Rcpp::Named("phase") = s.phase_name(), Rcpp::Named("X") = s.ask());
}

}  // namespace

// [[Rcpp::export(.mc_session_new)]]
SEXP mc_session_new(Rcpp::List laws, double n_outputs, Rcpp::List options, double seed) {
  TESSERA_GLUE_BEGIN
  std::vector<mc::input_law> parsed;
  for (R_xlen_t l = 0; l < laws.size(); ++l) parsed.push_back(parse_law(laws[l]));
  auto* s = new mc::aiscv_session(parsed, static_cast<arma::uword>(n_outputs), parse_options(options),
                                  static_cast<std::uint64_t>(seed));
  return Rcpp::XPtr<mc::aiscv_session>(s, true);
  TESSERA_GLUE_END
}

// The phase and points of a session; kind is "aiscv" or "sobol".
// [[Rcpp::export(.mc_state)]]
Rcpp::List mc_state(SEXP ptr, const std::string& kind) {
  TESSERA_GLUE_BEGIN
  return kind == "sobol" ? state_of<mc::sobol_session>(ptr) : state_of<mc::aiscv_session>(ptr);
  TESSERA_GLUE_END
}

// Passes the values at the current points to a session.
// [[Rcpp::export(.mc_tell)]]
void mc_tell(SEXP ptr, const std::string& kind, const arma::mat& values) {
  TESSERA_GLUE_BEGIN
  if (kind == "sobol") {
    get<mc::sobol_session>(ptr).tell(arma::vectorise(values));
  } else {
    get<mc::aiscv_session>(ptr).tell(values);
  }
  TESSERA_GLUE_END
}

// [[Rcpp::export(.mc_session_result)]]
Rcpp::List mc_session_result(SEXP ptr) {
  TESSERA_GLUE_BEGIN
  return result_to_r(get<mc::aiscv_session>(ptr).result());
  TESSERA_GLUE_END
}

// [[Rcpp::export(.mc_sobol_new)]]
SEXP mc_sobol_new(Rcpp::List law, double model_runs, bool total, Rcpp::List options, double seed) {
  TESSERA_GLUE_BEGIN
  mc::sobol_options o;
  o.model_runs = static_cast<arma::uword>(model_runs);
  o.total_order = total;
  o.aiscv = parse_options(options);
  o.shrinkage = o.aiscv.shrinkage;
  auto* s = new mc::sobol_session(parse_marginals(law), o, static_cast<std::uint64_t>(seed));
  return Rcpp::XPtr<mc::sobol_session>(s, true);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.mc_sobol_result)]]
Rcpp::List mc_sobol_result(SEXP ptr) {
  TESSERA_GLUE_BEGIN
  const mc::sobol_result& r = get<mc::sobol_session>(ptr).result();
  return Rcpp::List::create(
      Rcpp::Named("first") = as_r(r.first), Rcpp::Named("first_se") = as_r(r.first_se),
      Rcpp::Named("first_lower") = as_r(r.first_lower), Rcpp::Named("first_upper") = as_r(r.first_upper),
      Rcpp::Named("total") = as_r(r.total), Rcpp::Named("total_se") = as_r(r.total_se),
      Rcpp::Named("total_lower") = as_r(r.total_lower), Rcpp::Named("total_upper") = as_r(r.total_upper),
      Rcpp::Named("index_covariance") = r.index_covariance, Rcpp::Named("mean") = r.mean,
      Rcpp::Named("variance") = r.variance, Rcpp::Named("expectations") = result_to_r(r.expectations),
      Rcpp::Named("model_runs") = static_cast<double>(r.model_runs), Rcpp::Named("points") = static_cast<double>(r.points));
  TESSERA_GLUE_END
}
