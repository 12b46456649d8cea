#pragma once
// Small linear-algebra helpers shared by the estimators.
#include "tessera/common/arma.hpp"

namespace tessera {

// Columns centred to mean zero (a copy; the input is never modified).
arma::mat center_columns(const arma::mat& x);

// Population standard deviation of each column (divide by n, not n - 1).
arma::rowvec column_sd_population(const arma::mat& x);

}  // namespace tessera
