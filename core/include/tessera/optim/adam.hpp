#pragma once
// Adam (Kingma & Ba 2015) on a matrix parameter, split so that callers can backtrack:
// `direction(grad)` updates the moment estimates and returns the bias-corrected step
// direction m_hat / (sqrt(v_hat) + eps); the caller applies `x -= lr * direction` and
// may undo or shrink that step (as the DAGMA/CoLiDE domain backtracking does) without
// touching the moments again.
#include "tessera/common/arma.hpp"

namespace tessera::optim {

struct adam_options {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
};

class adam {
 public:
  adam(arma::uword n_rows, arma::uword n_cols, const adam_options& options = {});

  // Zero the moments and the step count (a fresh start).
  void reset();
  // One Adam update of the moments with gradient `grad`; returns the step direction.
  const arma::mat& direction(const arma::mat& grad);
  // Number of updates since the last reset (the bias-correction exponent).
  long long steps() const { return t_; }
  const adam_options& options() const { return options_; }

 private:
  adam_options options_;
  arma::mat m_, v_, dir_;
  long long t_ = 0;
};

}  // namespace tessera::optim
