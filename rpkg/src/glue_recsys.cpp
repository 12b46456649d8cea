// Rcpp glue for core/recsys (Rel-MF). Argument checking that needs R types (ids, data
// frames, dgCMatrix dimnames) lives in R/recsys.R; everything else is validated by the core.
#include "glue.h"

#include "tessera/recsys/metrics.hpp"
#include "tessera/recsys/relmf.hpp"

namespace {

namespace rs = tessera::recsys;

rs::relmf_model model_from_list(const Rcpp::List& m) {
  rs::relmf_model md;
  md.U = Rcpp::as<arma::mat>(m["U"]);
  md.V = Rcpp::as<arma::mat>(m["V"]);
  md.user_bias = Rcpp::as<arma::vec>(m["user_bias"]);
  md.item_bias = Rcpp::as<arma::vec>(m["item_bias"]);
  md.global_bias = Rcpp::as<double>(m["global_bias"]);
  md.link = Rcpp::as<std::string>(m["link"]) == "identity" ? rs::link_type::identity : rs::link_type::logistic;
  return md;
}

arma::uvec to_index(const Rcpp::NumericVector& x) {
  arma::uvec out(x.size());
  for (R_xlen_t e = 0; e < x.size(); ++e) out(e) = static_cast<arma::uword>(x[e]);
  return out;
}

// A sparse matrix from 0-based triplets; duplicate triplets are summed (so a repeated click
// shows up as a 2, which the core rejects) and stored zeros dropped.
arma::sp_mat triplets(const Rcpp::NumericVector& i, const Rcpp::NumericVector& j, const Rcpp::NumericVector& x,
                      double n_rows, double n_cols) {
  arma::umat loc(2, i.size());
  for (R_xlen_t e = 0; e < i.size(); ++e) {
    loc(0, e) = static_cast<arma::uword>(i[e]);
    loc(1, e) = static_cast<arma::uword>(j[e]);
  }
  return arma::sp_mat(true, loc, arma::vec(x.begin(), x.size()), static_cast<arma::uword>(n_rows),
                      static_cast<arma::uword>(n_cols), true, true);
}

Rcpp::NumericVector as_numeric(const arma::vec& x) { return Rcpp::NumericVector(x.begin(), x.end()); }

// list(i, j, x, n_rows, n_cols) as made by R/recsys.R.
arma::sp_mat sparse_from_list(const Rcpp::List& s) {
  return triplets(s["i"], s["j"], s["x"], Rcpp::as<double>(s["n_rows"]), Rcpp::as<double>(s["n_cols"]));
}

rs::metric_options metric_opts(const Rcpp::NumericVector& k, const std::string& dcg, double threshold,
                               double threads) {
  rs::metric_options o;
  o.threads = static_cast<unsigned>(threads);
  o.k.clear();
  for (double v : k) o.k.push_back(static_cast<arma::uword>(v));
  o.dcg = dcg == "reference" ? rs::dcg_form::reference : rs::dcg_form::standard;
  o.relevant_threshold = threshold;
  return o;
}

Rcpp::List metric_list(const rs::metric_table& t) {
  return Rcpp::List::create(
      Rcpp::Named("dcg") = as_numeric(t.dcg), Rcpp::Named("recall") = as_numeric(t.recall),
      Rcpp::Named("map") = as_numeric(t.map), Rcpp::Named("dcg_all") = as_numeric(t.dcg_all),
      Rcpp::Named("recall_all") = as_numeric(t.recall_all), Rcpp::Named("map_all") = as_numeric(t.map_all),
      Rcpp::Named("n_users") = static_cast<double>(t.n_users),
      Rcpp::Named("n_users_relevant") = static_cast<double>(t.n_users_relevant));
}

}  // namespace

// [[Rcpp::export(.relmf_fit_cpp)]]
Rcpp::List relmf_fit_cpp(Rcpp::List clicks, Rcpp::List settings, const std::string& propensity,
                         Rcpp::NumericVector item_propensity, Rcpp::List pair_propensity, double seed,
                         bool verbose) {
  TESSERA_GLUE_BEGIN
  const arma::sp_mat Y = sparse_from_list(clicks);
  rs::relmf_options o;
  o.dim = static_cast<arma::uword>(Rcpp::as<double>(settings["dim"]));
  o.loss = Rcpp::as<std::string>(settings["loss"]) == "squared" ? rs::loss_type::squared : rs::loss_type::log;
  o.link = Rcpp::as<std::string>(settings["link"]) == "identity" ? rs::link_type::identity : rs::link_type::logistic;
  o.clip = Rcpp::as<double>(settings["clip"]);
  o.unlabeled_weight = Rcpp::as<double>(settings["unlabeled_weight"]);
  o.lambda = Rcpp::as<double>(settings["lambda"]);
  o.biases = Rcpp::as<bool>(settings["biases"]);
  o.solver = Rcpp::as<std::string>(settings["solver"]) == "full_batch" ? rs::solver_type::full_batch
                                                                        : rs::solver_type::minibatch;
  o.max_iter = static_cast<long>(Rcpp::as<double>(settings["max_iter"]));
  o.lr = Rcpp::as<double>(settings["lr"]);
  o.beta1 = Rcpp::as<double>(settings["beta1"]);
  o.beta2 = Rcpp::as<double>(settings["beta2"]);
  o.batch_size = static_cast<arma::uword>(Rcpp::as<double>(settings["batch_size"]));
  o.tol = Rcpp::as<double>(settings["tol"]);
  o.threads = static_cast<unsigned>(Rcpp::as<double>(settings["threads"]));
  const std::string sampling = Rcpp::as<std::string>(settings["sampling"]);
  o.sampling = sampling == "uniform"    ? rs::sampling_type::uniform
               : sampling == "balanced" ? rs::sampling_type::balanced
                                        : rs::sampling_type::automatic;
  o.propensity.eta = Rcpp::as<double>(settings["eta"]);
  if (propensity == "popularity") {
    o.propensity.type = rs::propensity_type::popularity;
  } else if (propensity == "none") {
    o.propensity.type = rs::propensity_type::none;
  } else if (propensity == "item") {
    o.propensity.type = rs::propensity_type::item;
    o.propensity.item = arma::vec(item_propensity.begin(), item_propensity.size());
  } else {
    o.propensity.type = rs::propensity_type::pair;
    o.propensity.pair = sparse_from_list(pair_propensity);
  }

  tessera_r::progress_bar bar(verbose, "Fitting Rel-MF");
  const tessera::runtime_context ctx = tessera_r::r_context(false, &bar);
  const rs::relmf_fit fit = rs::fit_relmf(Y, o, static_cast<std::uint64_t>(seed), ctx);
  const rs::click_weights& w = fit.weights;
  return Rcpp::List::create(
      Rcpp::Named("U") = fit.model.U, Rcpp::Named("V") = fit.model.V,
      Rcpp::Named("user_bias") = as_numeric(fit.model.user_bias),
      Rcpp::Named("item_bias") = as_numeric(fit.model.item_bias),
      Rcpp::Named("global_bias") = fit.model.global_bias,
      Rcpp::Named("item_propensity") = as_numeric(w.item_theta),
      Rcpp::Named("click_propensity") = as_numeric(w.theta),
      Rcpp::Named("click_weight") = as_numeric(w.weight),
      Rcpp::Named("n_clipped") = static_cast<double>(w.n_clipped),
      Rcpp::Named("trace") = Rcpp::NumericVector(fit.trace.begin(), fit.trace.end()),
      Rcpp::Named("objective") = fit.objective, Rcpp::Named("iterations") = static_cast<double>(fit.iterations),
      Rcpp::Named("converged") = fit.converged, Rcpp::Named("message") = fit.message);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.relmf_predict_cpp)]]
Rcpp::NumericVector relmf_predict_cpp(Rcpp::List model, Rcpp::NumericVector users, Rcpp::NumericVector items,
                                      bool response) {
  TESSERA_GLUE_BEGIN
  return as_numeric(rs::predict_pairs(model_from_list(model), to_index(users), to_index(items), response));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.relmf_recommend_cpp)]]
Rcpp::List relmf_recommend_cpp(Rcpp::List model, Rcpp::NumericVector users, double k, Rcpp::List exclude,
                               double threads) {
  TESSERA_GLUE_BEGIN
  const rs::recommendation r = rs::recommend(model_from_list(model), to_index(users), static_cast<arma::uword>(k),
                                             sparse_from_list(exclude), static_cast<unsigned>(threads));
  arma::mat items = arma::conv_to<arma::mat>::from(r.items);
  return Rcpp::List::create(Rcpp::Named("items") = items, Rcpp::Named("scores") = r.scores);
  TESSERA_GLUE_END
}

// [[Rcpp::export(.rank_metrics_test_cpp)]]
Rcpp::List rank_metrics_test_cpp(Rcpp::NumericVector users, Rcpp::NumericVector items, Rcpp::NumericVector scores,
                                 Rcpp::NumericVector relevance, Rcpp::NumericVector k, const std::string& dcg,
                                 double threshold, double threads) {
  TESSERA_GLUE_BEGIN
  return metric_list(rs::rank_metrics_test_items(to_index(users), to_index(items),
                                                 arma::vec(scores.begin(), scores.size()),
                                                 arma::vec(relevance.begin(), relevance.size()),
                                                 metric_opts(k, dcg, threshold, threads)));
  TESSERA_GLUE_END
}

// [[Rcpp::export(.rank_metrics_catalogue_cpp)]]
Rcpp::List rank_metrics_catalogue_cpp(Rcpp::List model, Rcpp::NumericVector users, Rcpp::NumericVector items,
                                      Rcpp::NumericVector relevance, Rcpp::List exclude,
                                      Rcpp::NumericVector k, const std::string& dcg, double threshold,
                                      double threads) {
  TESSERA_GLUE_BEGIN
  const rs::relmf_model md = model_from_list(model);
  const auto scores_of = [&md](arma::uword u) { return rs::user_scores(md, u); };
  return metric_list(rs::rank_metrics_catalogue(to_index(users), to_index(items),
                                                arma::vec(relevance.begin(), relevance.size()), md.U.n_rows,
                                                md.V.n_rows, scores_of, sparse_from_list(exclude), metric_opts(k, dcg, threshold, threads)));
  TESSERA_GLUE_END
}
