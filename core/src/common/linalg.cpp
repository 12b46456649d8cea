#include "tessera/common/linalg.hpp"

namespace tessera {

arma::mat center_columns(const arma::mat& x) {
  return x.each_row() - arma::mean(x, 0);
}

arma::rowvec column_sd_population(const arma::mat& x) {
  return arma::stddev(x, 1, 0);  // norm_type 1: divide by n
}

}  // namespace tessera
