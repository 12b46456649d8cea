#pragma once
// Bags for learning from aggregate responses: which rows share one aggregate.
//
// A bag structure maps every row to a dense bag index 0..m-1. Bags come from
//   * `bags_from_ids`: any non-negative integer ids per row (a grouping column or given
//     bag ids; R passes factor codes); dense index = rank of the id among the sorted
//     distinct ids;
//   * `random_bags`: a uniformly random partition of n rows into bags of size k (the
//     setting of the theory). When k does not divide n the last n mod k rows of the
//     permutation form one smaller bag (recorded in `sizes`).
// The structure records which (`scheme`): the asymptotic risk formulas and the bag-level
// cross-validation identity hold for random bags only.
//
// Aggregates: one mean response per bag, aligned to the dense index by `align_aggregates`
// (each bag exactly one aggregate, each aggregate at least one row), or computed from
// individual responses by `bag_means`, or from sums and sizes by `means_from_sums`.
#include <cstdint>
#include <string>

#include "tessera/common/arma.hpp"

namespace tessera::aggregate {

enum class bag_scheme { given, random, grouping };
std::string to_string(bag_scheme s);

struct bag_structure {
  arma::uvec bag;      // length n: dense bag index of each row
  arma::uvec sizes;    // length m: |B_a|, all >= 1
  arma::uvec ids;      // length m: the original id of each dense bag (sorted)
  bag_scheme scheme = bag_scheme::given;
  arma::uword n_rows() const { return bag.n_elem; }
  arma::uword n_bags() const { return sizes.n_elem; }
  bool equal_sizes() const;
};

// From per-row ids (n >= 1). `scheme` is recorded (given or grouping).
bag_structure bags_from_ids(const arma::uvec& ids, bag_scheme scheme = bag_scheme::given);

// A random partition of 0..n-1 into bags of size k (1 <= k <= n), seeded.
bag_structure random_bags(arma::uword n, arma::uword k, std::uint64_t seed);

// Size-weighted per-bag means of individual responses y (length n).
arma::vec bag_means(const arma::vec& y, const bag_structure& bags);

// Per-bag aggregates in dense order from (aggregate ids, values). Throws when a bag has no
// aggregate, an aggregate id has no rows, or an id repeats. `name` names the values in
// messages.
arma::vec align_aggregates(const bag_structure& bags, const arma::uvec& aggregate_ids,
                           const arma::vec& values, const std::string& name = "y_bag");

// Means from bag sums and the stated sizes (dense order); the sizes must be positive and
// equal the number of rows of each bag.
arma::vec means_from_sums(const bag_structure& bags, const arma::vec& sums, const arma::vec& sizes);

// Cross-validation folds over bags: fold index (0..K-1) of each of m bags, balanced, from
// a seeded permutation (1 <= K <= m).
arma::uvec assign_folds(arma::uword m, arma::uword K, std::uint64_t seed);

}  // namespace tessera::aggregate
