#include "tessera/dag/graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tessera/common/validate.hpp"

namespace tessera::dag {

bool is_dag(const arma::mat& adjacency) {
  check_square(adjacency, "adjacency");
  check_finite(adjacency, "adjacency");
  const arma::uword d = adjacency.n_rows;
  // Kahn's algorithm on the nonzero pattern.
  std::vector<arma::uword> indegree(d, 0);
  for (arma::uword j = 0; j < d; ++j)
    for (arma::uword i = 0; i < d; ++i)
      if (adjacency(i, j) != 0) ++indegree[j];
  std::vector<arma::uword> queue;
  for (arma::uword j = 0; j < d; ++j)
    if (indegree[j] == 0) queue.push_back(j);
  arma::uword seen = 0;
  while (!queue.empty()) {
    const arma::uword i = queue.back();
    queue.pop_back();
    ++seen;
    for (arma::uword j = 0; j < d; ++j) {
      if (adjacency(i, j) != 0 && --indegree[j] == 0) queue.push_back(j);
    }
  }
  return seen == d;
}

to_dag_result to_dag(const arma::mat& W, double threshold) {
  check_square(W, "W");
  check_finite(W, "W");
  check_nonnegative(threshold, "threshold");
  to_dag_result out;
  out.W = W;
  out.W.elem(arma::find(arma::abs(W) <= threshold)).zeros();
  if (is_dag(out.W)) return out;

  // Remaining edges sorted by |w| ascending (stable: column-major order breaks ties).
  const arma::uvec edges = arma::find(out.W != 0);
  std::vector<arma::uword> order(edges.n_elem);
  std::iota(order.begin(), order.end(), arma::uword{0});
  std::stable_sort(order.begin(), order.end(), [&](arma::uword a, arma::uword b) {
    return std::abs(out.W(edges(a))) < std::abs(out.W(edges(b)));
  });
  auto without_first = [&](arma::uword k) {
    arma::mat G = out.W;
    for (arma::uword r = 0; r < k; ++r) G(edges(order[r])) = 0;
    return G;
  };
  // Smallest k such that removing the k weakest edges leaves a DAG.
  arma::uword lo = 0, hi = edges.n_elem;  // without_first(hi) is empty, hence a DAG
  while (lo < hi) {
    const arma::uword mid = lo + (hi - lo) / 2;
    if (is_dag(without_first(mid))) hi = mid; else lo = mid + 1;
  }
  out.W = without_first(lo);
  out.n_pruned = lo;
  return out;
}

graph_metrics compare_graphs(const arma::mat& estimate, const arma::mat& truth) {
  check_square(estimate, "estimate");
  check_square(truth, "truth");
  require(estimate.n_rows == truth.n_rows,
          "`estimate` and `truth` must have the same number of nodes, but they have " +
              std::to_string(estimate.n_rows) + " and " + std::to_string(truth.n_rows) + ".");
  check_finite(estimate, "estimate");
  check_finite(truth, "truth");
  require(truth.n_rows >= 1, "`truth` must have at least one node.");
  const arma::uword d = truth.n_rows;
  for (arma::uword i = 0; i < d; ++i) {
    require(estimate(i, i) == 0, "`estimate` has a self-loop at node " + std::to_string(i + 1) +
                                     ": a DAG has a zero diagonal.");
    require(truth(i, i) == 0, "`truth` has a self-loop at node " + std::to_string(i + 1) +
                                  ": a DAG has a zero diagonal.");
  }
  graph_metrics m;
  for (arma::uword i = 0; i < d; ++i) {
    for (arma::uword j = 0; j < d; ++j) {
      if (i == j) continue;
      const bool est = estimate(i, j) != 0, tru = truth(i, j) != 0, tru_rev = truth(j, i) != 0;
      if (tru) ++m.n_true;
      if (!est) continue;
      ++m.n_estimated;
      if (tru) ++m.true_positive;
      else if (tru_rev) ++m.reversed;
      else ++m.false_positive;
    }
  }
  // Skeleton differences, each unordered pair once.
  for (arma::uword i = 0; i < d; ++i) {
    for (arma::uword j = i + 1; j < d; ++j) {
      const bool est = estimate(i, j) != 0 || estimate(j, i) != 0;
      const bool tru = truth(i, j) != 0 || truth(j, i) != 0;
      if (est && !tru) ++m.extra;
      if (tru && !est) ++m.missing;
    }
  }
  m.shd = m.extra + m.missing + m.reversed;
  const double negatives = 0.5 * static_cast<double>(d) * static_cast<double>(d - 1) -
                           static_cast<double>(m.n_true);
  const double wrong = static_cast<double>(m.reversed + m.false_positive);
  m.fdr = wrong / std::max<double>(static_cast<double>(m.n_estimated), 1.0);
  m.tpr = static_cast<double>(m.true_positive) / std::max<double>(static_cast<double>(m.n_true), 1.0);
  m.fpr = wrong / std::max(negatives, 1.0);
  return m;
}

}  // namespace tessera::dag
