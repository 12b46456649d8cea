// Rcpp glue for core/dag. Argument checking that needs R types lives in R/dag.R;
// everything else is validated by the core.
#include "glue.h"

#include "tessera/dag/colide.hpp"
#include "tessera/dag/graph.hpp"
#include "tessera/dag/simulate.hpp"

namespace {

tessera::dag::score_type parse_score(const std::string& score) {
  if (score == "colide_ev") return tessera::dag::score_type::colide_ev;
  if (score == "colide_nv") return tessera::dag::score_type::colide_nv;
  return tessera::dag::score_type::dagma_least_squares;
}

}  // namespace

// [[Rcpp::export(.dag_fit_cpp)]]
Rcpp::List dag_fit_cpp(const arma::mat& x, const std::string& score, double lambda, double threshold,
                       Rcpp::List control, Rcpp::Nullable<Rcpp::NumericMatrix> w_init, bool verbose) {
  TESSERA_GLUE_BEGIN
  tessera::dag::path_options o =
      score == "dagma" ? tessera::dag::dagma_defaults() : tessera::dag::path_options{};
  o.lambda = lambda;
  o.threshold = threshold;
  o.stages = Rcpp::as<int>(control["stages"]);
  o.s = Rcpp::as<std::vector<double>>(control["s"]);
  o.warm_iter = static_cast<long>(Rcpp::as<double>(control["warm_iter"]));
  o.max_iter = static_cast<long>(Rcpp::as<double>(control["max_iter"]));
  o.lr = Rcpp::as<double>(control["lr"]);
  o.mu_init = Rcpp::as<double>(control["mu_init"]);
  o.mu_factor = Rcpp::as<double>(control["mu_factor"]);
  o.beta1 = Rcpp::as<double>(control["beta1"]);
  o.beta2 = Rcpp::as<double>(control["beta2"]);
  o.checkpoint = static_cast<long>(Rcpp::as<double>(control["checkpoint"]));
  o.tol = Rcpp::as<double>(control["tol"]);
  o.sigma_floor = Rcpp::as<double>(control["sigma_floor"]);
  o.max_retries = Rcpp::as<int>(control["max_retries"]);
  if (w_init.isNotNull()) o.w_init = Rcpp::as<arma::mat>(w_init.get());

  tessera_r::progress_bar bar(verbose, "Fitting the DAG path");
  const tessera::runtime_context ctx = tessera_r::r_context(false, &bar);
  const tessera::dag::dag_fit fit = tessera::dag::fit_linear_dag(x, parse_score(score), o, ctx);

  const auto n_stages = fit.stages.size();
  Rcpp::IntegerVector st_stage(n_stages), st_retries(n_stages);
  Rcpp::NumericVector st_mu(n_stages), st_s(n_stages), st_lr(n_stages), st_iter(n_stages), st_obj(n_stages);
  Rcpp::LogicalVector st_early(n_stages);
  for (std::size_t k = 0; k < n_stages; ++k) {
    const auto& r = fit.stages[k];
    st_stage[k] = r.stage + 1;
    st_mu[k] = r.mu;
    st_s[k] = r.s;
    st_lr[k] = r.lr;
    st_iter[k] = static_cast<double>(r.iterations);
    st_retries[k] = r.retries;
    st_obj[k] = r.objective;
    st_early[k] = r.stopped_early;
  }
  Rcpp::DataFrame stages = Rcpp::DataFrame::create(
      Rcpp::Named("stage") = st_stage, Rcpp::Named("mu") = st_mu, Rcpp::Named("s") = st_s,
      Rcpp::Named("lr") = st_lr, Rcpp::Named("iterations") = st_iter, Rcpp::Named("retries") = st_retries,
      Rcpp::Named("objective") = st_obj, Rcpp::Named("stopped_early") = st_early);

  return Rcpp::List::create(
      Rcpp::Named("W") = fit.W, Rcpp::Named("W_raw") = fit.W_raw,
      Rcpp::Named("sigma") = Rcpp::NumericVector(fit.sigma.begin(), fit.sigma.end()),
      Rcpp::Named("sigma_floor") = Rcpp::NumericVector(fit.sigma_floor.begin(), fit.sigma_floor.end()),
      Rcpp::Named("objective") = fit.objective, Rcpp::Named("score") = fit.score_value,
      Rcpp::Named("h") = fit.h_value, Rcpp::Named("n_pruned") = static_cast<double>(fit.n_pruned),
      Rcpp::Named("iterations") = static_cast<double>(fit.total_iterations),
      Rcpp::Named("converged") = fit.converged, Rcpp::Named("message") = fit.message,
      Rcpp::Named("stages") = stages,
      Rcpp::Named("center") = Rcpp::NumericVector(fit.center.begin(), fit.center.end()),
      Rcpp::Named("s") = Rcpp::NumericVector(fit.options.s.begin(), fit.options.s.end()));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.simulate_sem_cpp)]]
Rcpp::List simulate_sem_cpp(double n, double d, double edges, const std::string& graph,
                            const std::string& noise, bool equal_variance, double variance,
                            Rcpp::NumericVector nv_range, Rcpp::NumericVector weight_range, double seed) {
  TESSERA_GLUE_BEGIN
  tessera::dag::sem_options o;
  o.n_samples = static_cast<arma::uword>(n);
  o.n_nodes = static_cast<arma::uword>(d);
  o.n_edges = static_cast<arma::uword>(edges);
  o.graph = graph == "er" ? tessera::dag::graph_type::erdos_renyi : tessera::dag::graph_type::scale_free;
  o.noise = noise == "gaussian"      ? tessera::dag::noise_type::gaussian
            : noise == "exponential" ? tessera::dag::noise_type::exponential
            : noise == "laplace"     ? tessera::dag::noise_type::laplace
                                     : tessera::dag::noise_type::gumbel;
  o.equal_variance = equal_variance;
  o.variance = variance;
  o.nv_low = nv_range[0];
  o.nv_high = nv_range[1];
  o.weight_low = weight_range[0];
  o.weight_high = weight_range[1];
  const auto sim = tessera::dag::simulate_sem(o, static_cast<std::uint64_t>(seed));
  return Rcpp::List::create(
      Rcpp::Named("x") = sim.X, Rcpp::Named("W") = sim.W,
      Rcpp::Named("noise_variance") = Rcpp::NumericVector(sim.noise_variance.begin(), sim.noise_variance.end()));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.dag_metrics_cpp)]]
Rcpp::List dag_metrics_cpp(const arma::mat& estimate, const arma::mat& truth) {
  TESSERA_GLUE_BEGIN
  const auto m = tessera::dag::compare_graphs(estimate, truth);
  return Rcpp::List::create(
      Rcpp::Named("shd") = static_cast<double>(m.shd), Rcpp::Named("tpr") = m.tpr,
      Rcpp::Named("fdr") = m.fdr, Rcpp::Named("fpr") = m.fpr,
      Rcpp::Named("n_estimated") = static_cast<double>(m.n_estimated),
      Rcpp::Named("n_true") = static_cast<double>(m.n_true),
      Rcpp::Named("true_positive") = static_cast<double>(m.true_positive),
      Rcpp::Named("reversed") = static_cast<double>(m.reversed),
      Rcpp::Named("false_positive") = static_cast<double>(m.false_positive),
      Rcpp::Named("missing") = static_cast<double>(m.missing),
      Rcpp::Named("extra") = static_cast<double>(m.extra));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.to_dag_cpp)]]
Rcpp::List to_dag_cpp(const arma::mat& W, double threshold) {
  TESSERA_GLUE_BEGIN
  const auto r = tessera::dag::to_dag(W, threshold);
  return Rcpp::List::create(Rcpp::Named("W") = r.W, Rcpp::Named("n_pruned") = static_cast<double>(r.n_pruned));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.is_dag_cpp)]]
bool is_dag_cpp(const arma::mat& W) {
  TESSERA_GLUE_BEGIN
  return tessera::dag::is_dag(W);
  TESSERA_GLUE_END
}
