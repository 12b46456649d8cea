#include "tessera/optim/adam.hpp"

#include <cmath>

#include "tessera/common/validate.hpp"

namespace tessera::optim {

adam::adam(arma::uword n_rows, arma::uword n_cols, const adam_options& options)
    : options_(options) {
  check_in_open(options.beta1, 0.0, 1.0, "beta1");
  check_in_open(options.beta2, 0.0, 1.0, "beta2");
  check_positive(options.epsilon, "epsilon");
  m_.zeros(n_rows, n_cols);
  v_.zeros(n_rows, n_cols);
  dir_.zeros(n_rows, n_cols);
}

void adam::reset() {
  m_.zeros();
  v_.zeros();
  t_ = 0;
}

const arma::mat& adam::direction(const arma::mat& grad) {
  const double b1 = options_.beta1, b2 = options_.beta2;
  ++t_;
  m_ = b1 * m_ + (1.0 - b1) * grad;
  v_ = b2 * v_ + (1.0 - b2) * arma::square(grad);
  const double c1 = 1.0 - std::pow(b1, static_cast<double>(t_));
  const double c2 = 1.0 - std::pow(b2, static_cast<double>(t_));
  dir_ = (m_ / c1) / (arma::sqrt(v_ / c2) + options_.epsilon);
  return dir_;
}

}  // namespace tessera::optim
