// Rcpp glue for core/aggregate. Matching bag labels to codes and aggregates lives in
// R/aggregate.R; everything else is validated by the core.
#include "glue.h"

#include <optional>
#include <vector>

#include "tessera/aggregate/aggregate.hpp"

namespace agg = tessera::aggregate;

namespace {

Rcpp::NumericVector as_num(const arma::vec& v) { return Rcpp::NumericVector(v.begin(), v.end()); }

// Bags from 0-based integer codes (one per row) and the aggregates of the listed codes.
agg::bag_structure make_bags(const Rcpp::IntegerVector& codes, const std::string& scheme) {
  arma::uvec ids(codes.size());
  for (R_xlen_t i = 0; i < codes.size(); ++i) ids(i) = static_cast<arma::uword>(codes[i]);
  return agg::bags_from_ids(ids, scheme == "random"     ? agg::bag_scheme::random
                                 : scheme == "grouping" ? agg::bag_scheme::grouping
                                                        : agg::bag_scheme::given);
}

arma::vec aligned_means(const agg::bag_structure& bags, const Rcpp::IntegerVector& agg_codes,
                        const arma::vec& y_bag, Rcpp::Nullable<Rcpp::NumericVector> sizes) {
  arma::uvec aid(agg_codes.size());
  for (R_xlen_t i = 0; i < agg_codes.size(); ++i) aid(i) = static_cast<arma::uword>(agg_codes[i]);
  arma::vec y = agg::align_aggregates(bags, aid, y_bag);
  if (sizes.isNotNull()) {
    const arma::vec s = agg::align_aggregates(bags, aid, Rcpp::as<arma::vec>(sizes.get()), "sizes");
    y = agg::means_from_sums(bags, y, s);
  }
  return y;
}

tessera::aggregate::rho_method parse_rho(const std::string& m) {
  if (m == "fixed") return agg::rho_method::fixed;
  if (m == "oracle") return agg::rho_method::oracle;
  return agg::rho_method::cv;
}

// The options both fits share.
template <class Options>
void set_common(Options& o, bool intercept, double ridge, const std::string& method, double rho,
                const arma::vec& rho_grid, int folds, double seed) {
  o.intercept = intercept;
  o.ridge = ridge;
  o.method = parse_rho(method);
  o.rho = rho;
  o.rho_grid = rho_grid;
  o.folds = folds;
  o.seed = static_cast<std::uint64_t>(seed);
}

}  // namespace

// [[Rcpp::export(.agg_lm_cpp)]]
Rcpp::List agg_lm_cpp(const arma::mat& x, Rcpp::IntegerVector codes, Rcpp::IntegerVector agg_codes,
                      const arma::vec& y_bag, Rcpp::Nullable<Rcpp::NumericVector> sizes,
                      const std::string& scheme, const std::string& method, double rho,
                      const arma::vec& rho_grid, bool intercept, double ridge, int folds, double snr,
                      double rho_max, double seed) {
  TESSERA_GLUE_BEGIN
  const agg::bag_structure bags = make_bags(codes, scheme);
  const arma::vec ybar = aligned_means(bags, agg_codes, y_bag, sizes);
  agg::linear_options o;
  set_common(o, intercept, ridge, method, rho, rho_grid, folds, seed);
  o.snr = snr;
  o.rho_max = rho_max;
  const agg::linear_fit f = agg::fit_linear(x, bags, ybar, o);
  return Rcpp::List::create(
      Rcpp::Named("coef") = as_num(f.coef), Rcpp::Named("rho") = f.rho,
      Rcpp::Named("rho_grid") = as_num(f.rho_grid), Rcpp::Named("path") = f.path,
      Rcpp::Named("cv_mse") = as_num(f.cv_mse), Rcpp::Named("cv_se") = as_num(f.cv_se),
      Rcpp::Named("std_errors") = as_num(f.std_errors), Rcpp::Named("vcov") = f.vcov,
      Rcpp::Named("sigma2") = f.sigma2, Rcpp::Named("se_message") = f.se_message,
      Rcpp::Named("loss_bag") = f.losses.bag, Rcpp::Named("loss_instance") = f.losses.instance,
      Rcpp::Named("loss_within") = f.losses.within, Rcpp::Named("n") = static_cast<double>(f.n),
      Rcpp::Named("m") = static_cast<double>(f.m), Rcpp::Named("p") = static_cast<double>(f.p),
      Rcpp::Named("rank_bag") = static_cast<double>(f.rank_bag),
      Rcpp::Named("sizes") = as_num(arma::conv_to<arma::vec>::from(bags.sizes)),
      Rcpp::Named("y_bag") = as_num(ybar));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.agg_glm_cpp)]]
Rcpp::List agg_glm_cpp(const arma::mat& x, Rcpp::IntegerVector codes, Rcpp::IntegerVector agg_codes,
                       const arma::vec& y_bag, Rcpp::Nullable<Rcpp::NumericVector> sizes,
                       const std::string& scheme, const std::string& family, const std::string& method,
                       double rho, const arma::vec& rho_grid, bool intercept, double ridge, int folds,
                       int max_iter, double seed) {
  TESSERA_GLUE_BEGIN
  const agg::bag_structure bags = make_bags(codes, scheme);
  const arma::vec ybar = aligned_means(bags, agg_codes, y_bag, sizes);
  agg::glm_options o;
  o.family = family == "gaussian" ? agg::glm_family::gaussian
             : family == "poisson" ? agg::glm_family::poisson
                                   : agg::glm_family::binomial;
  set_common(o, intercept, ridge, method, rho, rho_grid, folds, seed);
  o.newton.max_iter = max_iter;
  const agg::glm_fit f = agg::fit_glm(x, bags, ybar, o);
  Rcpp::List out = Rcpp::List::create(
      Rcpp::Named("coef") = as_num(f.coef), Rcpp::Named("rho") = f.rho,
      Rcpp::Named("rho_grid") = as_num(f.rho_grid), Rcpp::Named("cv_mse") = as_num(f.cv_mse),
      Rcpp::Named("cv_se") = as_num(f.cv_se), Rcpp::Named("loss_bag") = f.losses.bag,
      Rcpp::Named("loss_instance") = f.losses.instance, Rcpp::Named("loss_within") = f.losses.within,
      Rcpp::Named("objective") = f.objective, Rcpp::Named("converged") = f.converged,
      Rcpp::Named("iterations") = f.iterations, Rcpp::Named("message") = f.message,
      Rcpp::Named("n") = static_cast<double>(f.n), Rcpp::Named("m") = static_cast<double>(f.m),
      Rcpp::Named("p") = static_cast<double>(f.p),
      Rcpp::Named("sizes") = as_num(arma::conv_to<arma::vec>::from(bags.sizes)),
      Rcpp::Named("y_bag") = as_num(ybar));
  // Rcpp::List::create takes at most 20 elements.
  out.push_back(as_num(f.std_errors), "std_errors");
  out.push_back(f.vcov, "vcov");
  out.push_back(f.dispersion, "sigma2");
  out.push_back(f.se_message, "se_message");
  return out;
  TESSERA_GLUE_END
}

// [[Rcpp::export(.agg_risk_cpp)]]
Rcpp::DataFrame agg_risk_cpp(double gamma, double k, const arma::vec& rho, double theta_norm2, double sigma2) {
  TESSERA_GLUE_BEGIN
  arma::vec tau(rho.n_elem), bias(rho.n_elem), var(rho.n_elem), risk(rho.n_elem);
  for (arma::uword j = 0; j < rho.n_elem; ++j) {
    const agg::risk_value r = agg::asymptotic_risk(gamma, k, rho(j), theta_norm2, sigma2);
    tau(j) = r.tau;
    bias(j) = r.bias;
    var(j) = r.variance;
    risk(j) = r.risk;
  }
  return Rcpp::DataFrame::create(Rcpp::Named("rho") = as_num(rho), Rcpp::Named("tau") = as_num(tau),
                                 Rcpp::Named("bias") = as_num(bias), Rcpp::Named("variance") = as_num(var),
                                 Rcpp::Named("risk") = as_num(risk));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.agg_oracle_cpp)]]
Rcpp::List agg_oracle_cpp(double gamma, double k, double theta_norm2, double sigma2, double rho_max) {
  TESSERA_GLUE_BEGIN
  const agg::oracle_rho_result o = agg::oracle_rho(gamma, k, theta_norm2, sigma2, rho_max);
  return Rcpp::List::create(Rcpp::Named("rho") = o.rho, Rcpp::Named("tau") = o.at.tau,
                            Rcpp::Named("bias") = o.at.bias, Rcpp::Named("variance") = o.at.variance,
                            Rcpp::Named("risk") = o.at.risk);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.agg_bag_size_cpp)]]
Rcpp::List agg_bag_size_cpp(double gamma, double theta_norm2, double sigma2, double epsilon, double clip,
                            double k_max, double rho_max) {
  TESSERA_GLUE_BEGIN
  const agg::bag_size_result r = agg::optimal_bag_size(gamma, theta_norm2, sigma2, epsilon, clip,
                                                       static_cast<arma::uword>(k_max), rho_max);
  arma::vec noise(r.risk_by_k.n_elem);
  for (arma::uword k = 1; k <= noise.n_elem; ++k)
    noise(k - 1) = agg::dp_noise_variance(sigma2, static_cast<double>(k), epsilon, clip);
  return Rcpp::List::create(Rcpp::Named("k") = static_cast<double>(r.k), Rcpp::Named("rho") = r.rho,
                            Rcpp::Named("risk") = r.risk, Rcpp::Named("risk_by_k") = as_num(r.risk_by_k),
                            Rcpp::Named("rho_by_k") = as_num(r.rho_by_k),
                            Rcpp::Named("noise_variance") = as_num(noise));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.agg_dp_cpp)]]
Rcpp::List agg_dp_cpp(const arma::vec& y, Rcpp::IntegerVector codes, double epsilon, double clip,
                      Rcpp::Nullable<Rcpp::NumericVector> seed) {
  TESSERA_GLUE_BEGIN
  const agg::bag_structure bags = make_bags(codes, "given");
  std::optional<std::uint64_t> s;
  if (seed.isNotNull()) s = static_cast<std::uint64_t>(Rcpp::NumericVector(seed.get())[0]);
  const agg::dp_release r = agg::dp_aggregate(y, bags, epsilon, clip, s);
  return Rcpp::List::create(
      Rcpp::Named("y_bag") = as_num(r.y_bag), Rcpp::Named("scale") = as_num(r.scale),
      Rcpp::Named("grid") = as_num(r.grid),
      Rcpp::Named("sizes") = as_num(arma::conv_to<arma::vec>::from(bags.sizes)),
      Rcpp::Named("codes") = as_num(arma::conv_to<arma::vec>::from(bags.ids)),
      Rcpp::Named("n_clipped") = static_cast<double>(r.n_clipped), Rcpp::Named("clipping") = r.clipping,
      Rcpp::Named("neighbours") = r.neighbours, Rcpp::Named("sampler") = r.sampler,
      Rcpp::Named("seeded") = r.seeded);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.agg_random_bags_cpp)]]
Rcpp::NumericVector agg_random_bags_cpp(double n, double k, double seed) {
  TESSERA_GLUE_BEGIN
  const agg::bag_structure b = agg::random_bags(static_cast<arma::uword>(n), static_cast<arma::uword>(k),
                                                static_cast<std::uint64_t>(seed));
  return as_num(arma::conv_to<arma::vec>::from(b.bag) + 1.0);
  TESSERA_GLUE_END
}

// Per-fold statistics of one chunk: G, GS as p x p x K arrays, b as p x K, yy, n, m per fold.
// [[Rcpp::export(.agg_stats_cpp)]]
Rcpp::List agg_stats_cpp(const arma::mat& x, Rcpp::IntegerVector codes, Rcpp::IntegerVector agg_codes,
                         const arma::vec& y_bag, bool intercept, double folds, double seed) {
  TESSERA_GLUE_BEGIN
  const agg::bag_structure bags = make_bags(codes, "given");
  const arma::vec ybar = aligned_means(bags, agg_codes, y_bag, R_NilValue);
  const auto K = static_cast<arma::uword>(folds);
  const std::vector<agg::linear_stats> f =
      K == 1 ? std::vector<agg::linear_stats>{agg::compute_stats(x, bags, ybar, intercept)}
             : agg::compute_fold_stats(x, bags, ybar, intercept, K, static_cast<std::uint64_t>(seed));
  const arma::uword p = f[0].p();
  arma::cube G(p, p, K), GS(p, p, K);
  arma::mat b(p, K);
  arma::vec yy(K), n(K), m(K);
  for (arma::uword j = 0; j < K; ++j) {
    G.slice(j) = f[j].G;
    GS.slice(j) = f[j].GS;
    b.col(j) = f[j].b;
    yy(j) = f[j].yy;
    n(j) = f[j].n;
    m(j) = f[j].m;
  }
  return Rcpp::List::create(Rcpp::Named("G") = G, Rcpp::Named("GS") = GS, Rcpp::Named("b") = b,
                            Rcpp::Named("yy") = as_num(yy), Rcpp::Named("n") = as_num(n),
                            Rcpp::Named("m") = as_num(m), Rcpp::Named("intercept") = intercept);
  TESSERA_GLUE_END
}

// Fits from merged per-fold statistics (the list made by .agg_stats_cpp, summed over chunks).
// [[Rcpp::export(.agg_fit_stats_cpp)]]
Rcpp::List agg_fit_stats_cpp(Rcpp::List st, const std::string& method, double rho, const arma::vec& rho_grid,
                             double ridge, double snr, double rho_max) {
  TESSERA_GLUE_BEGIN
  const arma::cube G = Rcpp::as<arma::cube>(st["G"]), GS = Rcpp::as<arma::cube>(st["GS"]);
  const arma::mat b = Rcpp::as<arma::mat>(st["b"]);
  const arma::vec yy = Rcpp::as<arma::vec>(st["yy"]), n = Rcpp::as<arma::vec>(st["n"]),
                  m = Rcpp::as<arma::vec>(st["m"]);
  const bool intercept = Rcpp::as<bool>(st["intercept"]);
  std::vector<agg::linear_stats> folds(G.n_slices);
  for (arma::uword j = 0; j < G.n_slices; ++j) {
    folds[j].G = G.slice(j);
    folds[j].GS = GS.slice(j);
    folds[j].b = b.col(j);
    folds[j].yy = yy(j);
    folds[j].n = n(j);
    folds[j].m = m(j);
    folds[j].intercept = intercept;
  }
  agg::linear_options o;
  o.method = parse_rho(method);
  o.rho = rho;
  o.rho_grid = rho_grid;
  o.ridge = ridge;
  o.snr = snr;
  o.rho_max = rho_max;
  if (o.method != agg::rho_method::cv) {  // fixed and oracle use the total
    agg::linear_stats total;
    for (const auto& f : folds) total.merge(f);
    folds = {total};
  }
  const agg::linear_fit f = agg::fit_linear_stats(folds, o);
  return Rcpp::List::create(Rcpp::Named("coef") = as_num(f.coef), Rcpp::Named("rho") = f.rho,
                            Rcpp::Named("rho_grid") = as_num(f.rho_grid), Rcpp::Named("path") = f.path,
                            Rcpp::Named("cv_mse") = as_num(f.cv_mse), Rcpp::Named("cv_se") = as_num(f.cv_se),
                            Rcpp::Named("std_errors") = as_num(f.std_errors), Rcpp::Named("vcov") = f.vcov,
                            Rcpp::Named("sigma2") = f.sigma2, Rcpp::Named("se_message") = f.se_message,
                            Rcpp::Named("loss_bag") = f.losses.bag, Rcpp::Named("loss_instance") = f.losses.instance,
                            Rcpp::Named("loss_within") = f.losses.within,
                            Rcpp::Named("n") = f.n * 1.0, Rcpp::Named("m") = f.m * 1.0,
                            Rcpp::Named("p") = f.p * 1.0);
  TESSERA_GLUE_END
}
