#include "tessera/common/folds.hpp"

#include <string>

#include "tessera/common/rng.hpp"
#include "tessera/common/validate.hpp"

namespace tessera {

arma::uvec stratified_folds(const arma::uvec& strata, int folds, std::uint64_t seed) {
  check_at_least(folds, 2, "folds");
  const arma::uword n = strata.n_elem;
  require(static_cast<arma::uword>(folds) <= n, "`folds` (" + std::to_string(folds) +
                                                    ") must not exceed the number of observations (" +
                                                    std::to_string(n) + ").");
  rng_engine rng = make_rng(seed, 0x5742a);
  const arma::uvec perm = draw_permutation(rng, n);
  // Order by stratum, random within stratum, then deal folds round-robin.
  const arma::uvec order = perm(arma::stable_sort_index(strata(perm)));
  arma::uvec id(n);
  for (arma::uword i = 0; i < n; ++i) id(order(i)) = i % static_cast<arma::uword>(folds);
  return id;
}

}  // namespace tessera
