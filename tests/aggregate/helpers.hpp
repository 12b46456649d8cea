#pragma once
// Test helpers for the aggregate module: simulated data and direct (n x n) definitions.
#include <cstdint>

#include "tessera/aggregate/aggregate.hpp"
#include "tessera/common/rng.hpp"

namespace aggtest {

using namespace tessera::aggregate;

// Bags of unequal sizes 1..max_size (consecutive rows), ids shuffled and non-contiguous.
inline bag_structure uneven_bags(arma::uword n, arma::uword max_size, std::uint64_t seed) {
  auto rng = tessera::make_rng(seed, 7);
  arma::uvec ids(n);
  arma::uword i = 0, id = 1000;
  while (i < n) {
    const auto sz = static_cast<arma::uword>(tessera::draw_integer(rng, 1, static_cast<long long>(max_size)));
    for (arma::uword j = 0; j < sz && i < n; ++j) ids(i++) = id;
    id += 3;
  }
  return bags_from_ids(ids);
}

// The n x n block-averaging projection S.
inline arma::mat averaging_matrix(const bag_structure& bags) {
  const arma::uword n = bags.n_rows();
  arma::mat S(n, n, arma::fill::zeros);
  for (arma::uword i = 0; i < n; ++i)
    for (arma::uword j = 0; j < n; ++j)
      if (bags.bag(i) == bags.bag(j)) S(i, j) = 1.0 / static_cast<double>(bags.sizes(bags.bag(i)));
  return S;
}

inline arma::mat with_intercept(const arma::mat& X) { return arma::join_rows(arma::ones(X.n_rows), X); }

}  // namespace aggtest
