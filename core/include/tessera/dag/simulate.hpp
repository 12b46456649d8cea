#pragma once
// Linear structural equation models for benchmarking DAG learners, following the
// generator released with CoLiDE (and NOTEARS/DAGMA before it), with one seeded
// generator for everything so that the seed alone reproduces a data set.
#include <cstdint>

#include "tessera/common/arma.hpp"

namespace tessera::dag {

enum class graph_type {
  erdos_renyi,  // each pair joined with p = 2 e / (d^2 - d), oriented by a random order
  scale_free    // Barabasi-Albert, m = round(e / d); newer node -> older node, no permutation
};

enum class noise_type {
  gaussian,     // N(0, v)
  exponential,  // Exp with scale sqrt(v) (mean sqrt(v): not centred, as in the reference)
  laplace,      // Laplace(0, sqrt(v / 2))
  gumbel        // Gumbel(0, sqrt(6 v) / pi)
};

struct sem_options {
  arma::uword n_nodes = 10;
  arma::uword n_samples = 1000;
  arma::uword n_edges = 20;        // expected number of edges (ER) or e for m = round(e / d) (SF)
  graph_type graph = graph_type::erdos_renyi;
  noise_type noise = noise_type::gaussian;
  bool equal_variance = true;      // true: every noise variance = `variance`
  double variance = 1.0;
  double nv_low = 0.5, nv_high = 10.0;   // non-equal: variances ~ U(nv_low, nv_high)
  double weight_low = 0.5, weight_high = 2.0;  // |w| ~ U(weight_low, weight_high), random sign
};

struct sem_sample {
  arma::mat X;               // n_samples x n_nodes
  arma::mat W;               // weighted adjacency, W(i, j) != 0 means i -> j
  arma::vec noise_variance;  // per node
};

// A random DAG's 0/1 adjacency.
arma::mat simulate_graph(arma::uword n_nodes, arma::uword n_edges, graph_type graph, std::uint64_t seed);

// A graph, weights and n samples from X = X W + Z.
sem_sample simulate_sem(const sem_options& options, std::uint64_t seed);

}  // namespace tessera::dag
