#include "tessera/dag/simulate.hpp"

#include <cmath>
#include <vector>

#include <boost/math/constants/constants.hpp>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/extreme_value_distribution.hpp>
#include <boost/random/laplace_distribution.hpp>

#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"
#include "tessera/dag/graph.hpp"

namespace tessera::dag {

namespace {

void validate_graph_args(arma::uword n_nodes, arma::uword n_edges, graph_type graph) {
  require(n_nodes >= 1, "`n_nodes` must be at least 1.");
  if (graph == graph_type::scale_free && n_edges > 0) {
    require(std::lround(static_cast<double>(n_edges) / static_cast<double>(n_nodes)) >= 1,
            "a scale-free graph attaches m = round(n_edges / n_nodes) edges per node, so `n_edges` (" +
                std::to_string(n_edges) + ") must be at least n_nodes / 2 (" + format_number(0.5 * n_nodes) +
                ") or 0.");
  }
  const double max_edges = 0.5 * static_cast<double>(n_nodes) * static_cast<double>(n_nodes - 1);
  require(static_cast<double>(n_edges) <= max_edges,
          "`n_edges` (" + std::to_string(n_edges) + ") exceeds the " +
              format_number(max_edges) + " possible edges of a DAG on " +
              std::to_string(n_nodes) + " nodes.");
}

arma::mat erdos_renyi(arma::uword d, arma::uword e, rng_engine& rng) {
  arma::mat A(d, d, arma::fill::zeros);
  if (d < 2) return A;
  const double p = 2.0 * static_cast<double>(e) / (static_cast<double>(d) * static_cast<double>(d - 1));
  // Edges on the upper triangle of a random order: node perm(i) -> perm(j) for i < j.
  const arma::uvec perm = draw_permutation(rng, d);
  for (arma::uword i = 0; i < d; ++i)
    for (arma::uword j = i + 1; j < d; ++j)
      if (draw_uniform(rng) < p) A(perm(i), perm(j)) = 1.0;
  return A;
}

arma::mat barabasi_albert(arma::uword d, arma::uword e, rng_engine& rng) {
  arma::mat A(d, d, arma::fill::zeros);
  const auto m = static_cast<arma::uword>(std::lround(static_cast<double>(e) / static_cast<double>(d)));
  if (m == 0 || d <= m) return A;
  // Start from a star on nodes 0..m (node 0 the centre); each later node attaches to m
  // distinct earlier nodes drawn with probability proportional to their degree.
  std::vector<arma::uword> endpoints;  // each node listed once per incident edge
  for (arma::uword k = 1; k <= m; ++k) {
    A(k, 0) = 1.0;  // newer -> older
    endpoints.push_back(0);
    endpoints.push_back(k);
  }
  for (arma::uword v = m + 1; v < d; ++v) {
    std::vector<arma::uword> targets;
    while (targets.size() < m) {
      const auto pick = endpoints[static_cast<std::size_t>(
          draw_integer(rng, 0, static_cast<long long>(endpoints.size()) - 1))];
      bool fresh = true;
      for (auto t : targets) fresh = fresh && (t != pick);
      if (fresh) targets.push_back(pick);
    }
    for (auto t : targets) {
      A(v, t) = 1.0;
      endpoints.push_back(t);
      endpoints.push_back(v);
    }
  }
  return A;
}

// A topological order of a DAG's nodes (Kahn).
std::vector<arma::uword> topological_order(const arma::mat& A) {
  const arma::uword d = A.n_rows;
  std::vector<arma::uword> indegree(d, 0), order, queue;
  for (arma::uword j = 0; j < d; ++j)
    for (arma::uword i = 0; i < d; ++i)
      if (A(i, j) != 0) ++indegree[j];
  for (arma::uword j = 0; j < d; ++j)
    if (indegree[j] == 0) queue.push_back(j);
  while (!queue.empty()) {
    const arma::uword i = queue.front();
    queue.erase(queue.begin());
    order.push_back(i);
    for (arma::uword j = 0; j < d; ++j)
      if (A(i, j) != 0 && --indegree[j] == 0) queue.push_back(j);
  }
  return order;
}

arma::mat simulate_graph_with(arma::uword d, arma::uword e, graph_type graph, rng_engine& rng) {
  return graph == graph_type::erdos_renyi ? erdos_renyi(d, e, rng) : barabasi_albert(d, e, rng);
}

}  // namespace

arma::mat simulate_graph(arma::uword n_nodes, arma::uword n_edges, graph_type graph, std::uint64_t seed) {
  validate_graph_args(n_nodes, n_edges, graph);
  rng_engine rng = make_rng(seed);
  return simulate_graph_with(n_nodes, n_edges, graph, rng);
}

sem_sample simulate_sem(const sem_options& o, std::uint64_t seed) {
  validate_graph_args(o.n_nodes, o.n_edges, o.graph);
  require(o.n_samples >= 1, "`n_samples` must be at least 1.");
  check_positive(o.variance, "variance");
  if (!o.equal_variance) {
    check_positive(o.nv_low, "nv_low");
    require(std::isfinite(o.nv_high) && o.nv_high >= o.nv_low,
            "`nv_high` must be finite and at least `nv_low`.");
  }
  check_nonnegative(o.weight_low, "weight_low");
  require(std::isfinite(o.weight_high) && o.weight_high >= o.weight_low,
          "`weight_high` must be finite and at least `weight_low`.");

  rng_engine rng = make_rng(seed);
  const arma::uword d = o.n_nodes, n = o.n_samples;
  sem_sample out;
  out.W = simulate_graph_with(d, o.n_edges, o.graph, rng);
  for (double& w : out.W) {
    if (w == 0) continue;
    const double magnitude = draw_uniform(rng, o.weight_low, o.weight_high);
    w = draw_uniform(rng) < 0.5 ? -magnitude : magnitude;
  }
  out.noise_variance.set_size(d);
  for (arma::uword j = 0; j < d; ++j)
    out.noise_variance(j) = o.equal_variance ? o.variance : draw_uniform(rng, o.nv_low, o.nv_high);

  out.X.zeros(n, d);
  const double pi = boost::math::constants::pi<double>();
  for (const arma::uword j : topological_order(out.W)) {
    const double v = out.noise_variance(j);
    arma::vec z(n);
    switch (o.noise) {
      case noise_type::gaussian: {
        const double sd = std::sqrt(v);
        for (double& x : z) x = sd * draw_normal(rng);
        break;
      }
      case noise_type::exponential: {
        boost::random::exponential_distribution<double> dist(1.0 / std::sqrt(v));  // rate
        for (double& x : z) x = dist(rng);
        break;
      }
      case noise_type::laplace: {
        boost::random::laplace_distribution<double> dist(0.0, std::sqrt(v / 2.0));
        for (double& x : z) x = dist(rng);
        break;
      }
      case noise_type::gumbel: {
        boost::random::extreme_value_distribution<double> dist(0.0, std::sqrt(6.0 * v) / pi);
        for (double& x : z) x = dist(rng);
        break;
      }
    }
    out.X.col(j) = out.X * out.W.col(j) + z;
  }
  if (!out.X.is_finite()) {
    throw invalid_argument("the simulated data overflowed (non-finite values): reduce `weight_high` or the "
                           "noise variance, or use fewer nodes.");
  }
  return out;
}

}  // namespace tessera::dag
