#pragma once
// Stratified fold assignment for cross-validation, shared by every module that needs it
// (glm's binomial CV, the causal cross-fitting, ordinal's PRESTO CV).
#include <cstdint>

#include "tessera/common/arma.hpp"

namespace tessera {

// Fold ids 0..folds-1, one per entry of `strata` (integer labels, any values). The rows are
// shuffled with the seed, ordered by stratum (random order within a stratum) and dealt to
// the folds round-robin, so fold sizes differ by at most one overall, and a stratum with m
// members puts floor(m / folds) or ceil(m / folds) of them in each fold (so every fold gets
// one when m >= folds). Deterministic given (strata, folds, seed). Throws invalid_argument
// if folds < 2 or folds > strata.n_elem.
arma::uvec stratified_folds(const arma::uvec& strata, int folds, std::uint64_t seed);

}  // namespace tessera
