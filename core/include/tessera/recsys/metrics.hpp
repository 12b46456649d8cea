#pragma once
// Ranking metrics for recommenders evaluated on held-out relevance (Saito et al., WSDM 2020,
// evaluated on each user's missing-at-random test items).
//
// For one user, items are sorted by score, descending; ties are broken by the lower item index
// first. rel_r is the relevance (>= 0, may be graded) of the item at rank r (1-based); an item
// is "relevant" when its relevance exceeds `relevant_threshold`. With K truncated to the list
// length:
//   DCG@K    = sum_{r <= K} rel_r * d(r),  d(r) = 1 / log2(r + 1)        (dcg_form::standard,
//              the paper's 1{Z <= K} / log(Z + 1) with base-2 logarithm), or
//              d(r) = 1 / log2(max(r, 2))  (dcg_form::reference: the authors' code, which gives
//              weight 1 to ranks 1 and 2). Not normalised by the ideal DCG.
//   Recall@K = sum_{r <= K} rel_r / sum_all rel   (all = every test item of the user).
//   MAP@K    = (1 / n_rel) sum_{r <= K, item r relevant} precision@r, precision@r = (number of
//              relevant items in ranks 1..r) / r, n_rel = the user's relevant test items (the
//              ICTIR code's denominator).
// Averages: over users with at least one relevant test item (the `*` fields), and over all users
// with at least one test item, where users without relevant items contribute 0 (`*_all`).
//
// Two variants. rank_metrics_test_items: rank only each user's own test items (the paper's MAR
// protocol). rank_metrics_catalogue (in relmf.hpp's terms: any user x item score matrix) ranks
// every item of the catalogue except excluded ones (typically the training clicks); items that
// are not in the test set have relevance 0; an excluded test item cannot be ranked but still
// counts in sum_all rel and n_rel. When no user has a relevant item the `*` fields are NaN
// (undefined); the `*_all` fields are always defined.
#include <functional>
#include <vector>

#include "tessera/common/arma.hpp"

namespace tessera::recsys {

enum class dcg_form { standard, reference };

struct metric_options {
  std::vector<arma::uword> k = {1, 3, 5};
  dcg_form dcg = dcg_form::standard;
  double relevant_threshold = 0.0;
  unsigned threads = 1;  // users are scored and ranked in parallel; results do not depend on it
};

struct metric_table {
  std::vector<arma::uword> k;
  arma::vec dcg, recall, map;               // over users with a relevant test item
  arma::vec dcg_all, recall_all, map_all;   // over all users with a test item
  arma::uword n_users = 0;                  // users with a test item
  arma::uword n_users_relevant = 0;         // ... and at least one relevant one
};

// Test items only. users, items, scores, relevance: one entry per test (user, item) pair;
// a (user, item) pair may appear once.
metric_table rank_metrics_test_items(const arma::uvec& users, const arma::uvec& items,
                                     const arma::vec& scores, const arma::vec& relevance,
                                     const metric_options& options = {});

// Whole catalogue of n_items items. `scores_of(u)` returns the n_items scores of user u;
// `exclude` (n_users x n_items, may be empty) marks items not to rank. With threads > 1,
// `scores_of` is called from several threads at once and must be safe for that.
metric_table rank_metrics_catalogue(const arma::uvec& users, const arma::uvec& items,
                                    const arma::vec& relevance, arma::uword n_users,
                                    arma::uword n_items,
                                    const std::function<arma::rowvec(arma::uword)>& scores_of,
                                    const arma::sp_mat& exclude = arma::sp_mat(),
                                    const metric_options& options = {});

}  // namespace tessera::recsys
