#pragma once
// Directed graphs as d x d matrices: entry (i, j) != 0 means an edge i -> j.
#include <string>

#include "tessera/common/arma.hpp"

namespace tessera::dag {

// True when the nonzero pattern of `adjacency` has no directed cycle (self-loops count).
bool is_dag(const arma::mat& adjacency);

struct to_dag_result {
  arma::mat W;                    // weights of the kept edges, zero elsewhere; always a DAG
  arma::uword n_pruned = 0;       // edges above the threshold removed to break cycles
};

// Zero every |w| <= threshold; if cycles remain, remove the remaining edges one at a
// time, smallest |w| first, until the graph is a DAG (the CoLiDE reference's rule).
// The set removed is the shortest prefix of the edges sorted by |w| that leaves a DAG,
// found by bisection (acyclicity is monotone in edge removal), so the result equals
// one-at-a-time removal. Ties in |w| are broken by column-major position.
to_dag_result to_dag(const arma::mat& W, double threshold);

// Accuracy of an estimated graph against the true one, on the nonzero patterns
// (NOTEARS' count_accuracy, used by CoLiDE and DAGMA):
//   true positive  : estimated edge present in the truth with the same direction;
//   reversed       : estimated edge whose reverse is in the truth (and itself is not);
//   false positive : estimated edge absent from the true skeleton;
//   SHD            : extra + missing skeleton edges + reversed edges (a reversal counts once);
//   FDR = (reversed + FP) / estimated edges, TPR = TP / true edges,
//   FPR = (reversed + FP) / (d (d - 1) / 2 - true edges).
// Ratios with a zero denominator are 0 (the reference's max(., 1) convention).
struct graph_metrics {
  double fdr = 0, tpr = 0, fpr = 0;
  arma::uword shd = 0;
  arma::uword n_estimated = 0, n_true = 0;
  arma::uword true_positive = 0, reversed = 0, false_positive = 0;
  arma::uword missing = 0, extra = 0;  // skeleton edges missing from / added to the estimate
};

graph_metrics compare_graphs(const arma::mat& estimate, const arma::mat& truth);

}  // namespace tessera::dag
