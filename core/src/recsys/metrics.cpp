#include "tessera/recsys/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "tessera/common/error.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/recsys/relmf.hpp"
#include "../common/parallel.hpp"

namespace tessera::recsys {

namespace {

void validate_metric_options(const metric_options& o) {
  require(!o.k.empty(), "`k` must hold at least one cut-off.");
  for (arma::uword k : o.k) require(k >= 1, "every cut-off in `k` must be at least 1.");
  check_finite(o.relevant_threshold, "relevant_threshold");
  check_threads(o.threads);
}

void validate_test_rows(const arma::uvec& users, const arma::uvec& items, const arma::vec& relevance) {
  require(users.n_elem == items.n_elem && users.n_elem == relevance.n_elem,
          "`users`, `items` and `relevance` must have the same length (one per test pair).");
  require(users.n_elem >= 1, "the test set is empty: give at least one (user, item, relevance) row.");
  for (arma::uword e = 0; e < relevance.n_elem; ++e) {
    const double r = relevance(e);
    require(std::isfinite(r) && r >= 0, [&] {
      return "`relevance` must be finite and >= 0, but entry " + std::to_string(e + 1) + " is " +
             format_number(r) + ".";
    });
  }
}

// Adds one user's metrics. ranked: relevance of the ranked items, best first (at least the
// top max K, or all if fewer); total: sum of the user's test relevance; n_rel: relevant items.
class accumulator {
 public:
  explicit accumulator(const metric_options& o) : o_(o) {
    const arma::uword nk = o.k.size();
    t_.k = o.k;
    for (arma::vec* v : {&t_.dcg, &t_.recall, &t_.map, &t_.dcg_all, &t_.recall_all, &t_.map_all}) v->zeros(nk);
  }


  void add(const std::vector<double>& ranked, double total, arma::uword n_rel) {
    ++t_.n_users;
    if (n_rel > 0) ++t_.n_users_relevant;
    for (std::size_t j = 0; j < o_.k.size(); ++j) {
      const std::size_t depth = std::min<std::size_t>(o_.k[j], ranked.size());
      double dcg = 0, gain = 0, ap = 0;
      arma::uword hits = 0;
      for (std::size_t r = 1; r <= depth; ++r) {
        const double rel = ranked[r - 1];
        const double pos = static_cast<double>(r);
        const double disc = o_.dcg == dcg_form::standard ? 1.0 / std::log2(pos + 1.0)
                                                         : 1.0 / std::log2(std::max(pos, 2.0));
        dcg += rel * disc;
        gain += rel;
        if (rel > o_.relevant_threshold) {
          ++hits;
          ap += static_cast<double>(hits) / pos;
        }
      }
      const double recall = total > 0 ? gain / total : 0.0;
      ap = n_rel > 0 ? ap / static_cast<double>(n_rel) : 0.0;
      t_.dcg_all(j) += dcg;
      t_.recall_all(j) += recall;
      t_.map_all(j) += ap;
      if (n_rel > 0) {
        t_.dcg(j) += dcg;
        t_.recall(j) += recall;
        t_.map(j) += ap;
      }
    }
  }

  metric_table finish() {
    const double all = static_cast<double>(std::max<arma::uword>(t_.n_users, 1));
    const double rel = static_cast<double>(t_.n_users_relevant);
    t_.dcg_all /= all;
    t_.recall_all /= all;
    t_.map_all /= all;
    for (arma::vec* v : {&t_.dcg, &t_.recall, &t_.map}) {
      if (rel > 0) {
        *v /= rel;
      } else {
        v->fill(arma::datum::nan);  // no user with a relevant item: undefined
      }
    }
    return t_;
  }

 private:
  const metric_options& o_;
  metric_table t_;
};

// Row order grouped by user, then by item; duplicates rejected.
std::vector<arma::uword> group_by_user(const arma::uvec& users, const arma::uvec& items) {
  std::vector<arma::uword> order(users.n_elem);
  std::iota(order.begin(), order.end(), arma::uword(0));
  std::sort(order.begin(), order.end(), [&](arma::uword a, arma::uword b) {
    return users(a) < users(b) || (users(a) == users(b) && items(a) < items(b));
  });
  for (std::size_t j = 1; j < order.size(); ++j) {
    const arma::uword a = order[j - 1], b = order[j];
    require(!(users(a) == users(b) && items(a) == items(b)),
            "the test pair (user " + std::to_string(users(b) + 1) + ", item " + std::to_string(items(b) + 1) +
                ") appears more than once; each (user, item) pair may be evaluated once.");
  }
  return order;
}

// [start, end) positions in `order` of each user's rows.
std::vector<detail::index_range> user_groups(const std::vector<arma::uword>& order, const arma::uvec& users) {
  std::vector<detail::index_range> groups;
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start;
    while (end < order.size() && users(order[end]) == users(order[start])) ++end;
    groups.push_back({start, end});
    start = end;
  }
  return groups;
}

// One user's ranked relevance (best first), total relevance and number of relevant items.
struct user_ranking {
  std::vector<double> ranked;
  double total = 0;
  arma::uword n_rel = 0;
};

// Ranks users' lists in parallel (fixed pieces of users), then adds them in user order.
template <class F>
metric_table accumulate_users(const std::vector<detail::index_range>& groups, const metric_options& o, F&& rank) {
  std::vector<user_ranking> per_user(groups.size());
  const std::vector<detail::index_range> pieces = detail::fixed_ranges(groups.size(), 64);
  detail::parallel_tasks(pieces.size(), o.threads, [&](std::size_t p) {
    for (std::size_t g = pieces[p].begin; g < pieces[p].end; ++g) per_user[g] = rank(g);
  });
  accumulator acc(o);
  for (const user_ranking& r : per_user) acc.add(r.ranked, r.total, r.n_rel);
  return acc.finish();
}

}  // namespace

metric_table rank_metrics_test_items(const arma::uvec& users, const arma::uvec& items,
                                     const arma::vec& scores, const arma::vec& relevance,
                                     const metric_options& options) {
  validate_metric_options(options);
  validate_test_rows(users, items, relevance);
  require(scores.n_elem == users.n_elem, "`scores` must have one value per test pair.");
  check_finite(scores, "scores");
  const std::vector<arma::uword> order = group_by_user(users, items);
  const std::vector<detail::index_range> groups = user_groups(order, users);
  return accumulate_users(groups, options, [&](std::size_t g) {
    std::vector<arma::uword> rows(order.begin() + static_cast<std::ptrdiff_t>(groups[g].begin),
                                  order.begin() + static_cast<std::ptrdiff_t>(groups[g].end));
    // rows are in item order already, so a stable sort on score breaks ties by item index
    std::stable_sort(rows.begin(), rows.end(), [&](arma::uword a, arma::uword b) { return scores(a) > scores(b); });
    user_ranking r;
    for (arma::uword row : rows) {
      r.ranked.push_back(relevance(row));
      r.total += relevance(row);
      if (relevance(row) > options.relevant_threshold) ++r.n_rel;
    }
    return r;
  });
}

metric_table rank_metrics_catalogue(const arma::uvec& users, const arma::uvec& items,
                                    const arma::vec& relevance, arma::uword n_users,
                                    arma::uword n_items,
                                    const std::function<arma::rowvec(arma::uword)>& scores_of,
                                    const arma::sp_mat& exclude, const metric_options& options) {
  validate_metric_options(options);
  validate_test_rows(users, items, relevance);
  for (arma::uword e = 0; e < users.n_elem; ++e) {
    require(users(e) < n_users && items(e) < n_items, [&] {
      return "test pair " + std::to_string(e + 1) + " (user " + std::to_string(users(e) + 1) + ", item " +
             std::to_string(items(e) + 1) + ") is outside the fitted " + std::to_string(n_users) +
             " users x " + std::to_string(n_items) + " items.";
    });
  }
  const bool has_exclude = exclude.n_rows > 0 || exclude.n_cols > 0;
  if (has_exclude) {
    require(exclude.n_rows == n_users && exclude.n_cols == n_items,
            "`exclude` must be a " + std::to_string(n_users) + " x " + std::to_string(n_items) + " matrix.");
  }
  const arma::sp_mat ex_t = has_exclude ? arma::sp_mat(exclude.t()) : arma::sp_mat();
  ex_t.sync();
  const std::vector<arma::uword> order = group_by_user(users, items);
  const std::vector<detail::index_range> groups = user_groups(order, users);
  const arma::uword max_k = *std::max_element(options.k.begin(), options.k.end());
  return accumulate_users(groups, options, [&](std::size_t g) {
    const arma::uword u = users(order[groups[g].begin]);
    user_ranking r;
    std::vector<double> rel(n_items, 0.0);
    for (std::size_t q = groups[g].begin; q < groups[g].end; ++q) {
      const arma::uword row = order[q];
      rel[items(row)] = relevance(row);
      r.total += relevance(row);
      if (relevance(row) > options.relevant_threshold) ++r.n_rel;
    }
    const arma::rowvec s = scores_of(u);
    require(s.n_elem == n_items, "the score function must return one score per item (" +
                                     std::to_string(n_items) + ").");
    std::vector<char> skip(n_items, 0);
    if (has_exclude) {
      for (arma::uword q = ex_t.col_ptrs[u]; q < ex_t.col_ptrs[u + 1]; ++q) skip[ex_t.row_indices[q]] = 1;
    }
    std::vector<arma::uword> cand;
    for (arma::uword i = 0; i < n_items; ++i) {
      if (skip[i]) continue;
      require(std::isfinite(s(i)), [&] {
        return "the score of user " + std::to_string(u + 1) + " for item " + std::to_string(i + 1) +
               " is not finite.";
      });
      cand.push_back(i);
    }
    const std::size_t take = std::min<std::size_t>(max_k, cand.size());
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(take), cand.end(),
                      [&](arma::uword a, arma::uword b) { return s(a) > s(b) || (s(a) == s(b) && a < b); });
    for (std::size_t j = 0; j < take; ++j) r.ranked.push_back(rel[cand[j]]);
    return r;
  });
}

}  // namespace tessera::recsys
