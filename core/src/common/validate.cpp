#include "tessera/common/validate.hpp"

#include <cmath>
#include <sstream>

namespace tessera {

void require(bool condition, const std::string& message) {
  if (!condition) throw invalid_argument(message);
}

std::string format_number(double x) {
  std::ostringstream os;
  os.precision(6);
  os << x;
  return os.str();
}

namespace {
template <class M>
void check_finite_impl(const M& x, const std::string& name) {
  for (arma::uword j = 0; j < x.n_cols; ++j) {
    for (arma::uword i = 0; i < x.n_rows; ++i) {
      const double v = x(i, j);
      if (!std::isfinite(v)) {
        std::ostringstream os;
        os << "`" << name << "` must contain only finite values, but entry [" << i + 1;
        if (x.n_cols > 1) os << ", " << j + 1;
        os << "] is " << (std::isnan(v) ? "NaN/NA" : "infinite")
           << ": remove or impute missing and infinite values first.";
        throw invalid_argument(os.str());
      }
    }
  }
}
}  // namespace

void check_finite(const arma::mat& x, const std::string& name) { check_finite_impl(x, name); }
void check_finite(const arma::vec& x, const std::string& name) { check_finite_impl(x, name); }

void check_finite(double x, const std::string& name) {
  require(std::isfinite(x), "`" + name + "` must be a finite number, not " + format_number(x) + ".");
}

void check_positive(double x, const std::string& name) {
  check_finite(x, name);
  require(x > 0, "`" + name + "` must be positive, not " + format_number(x) + ".");
}

void check_nonnegative(double x, const std::string& name) {
  check_finite(x, name);
  require(x >= 0, "`" + name + "` must be zero or positive, not " + format_number(x) + ".");
}

void check_in_closed(double x, double lo, double hi, const std::string& name) {
  check_finite(x, name);
  require(x >= lo && x <= hi, "`" + name + "` must lie in [" + format_number(lo) + ", " +
                                  format_number(hi) + "], not " + format_number(x) + ".");
}

void check_in_open(double x, double lo, double hi, const std::string& name) {
  check_finite(x, name);
  require(x > lo && x < hi, "`" + name + "` must lie strictly between " + format_number(lo) +
                                " and " + format_number(hi) + ", not " + format_number(x) + ".");
}

void check_at_least(long long x, long long lo, const std::string& name) {
  require(x >= lo, "`" + name + "` must be at least " + std::to_string(lo) + ", not " +
                       std::to_string(x) + ".");
}

void check_min_rows(const arma::mat& x, std::size_t n, const std::string& name) {
  require(x.n_rows >= n, "`" + name + "` must have at least " + std::to_string(n) +
                             " rows (observations), but it has " + std::to_string(x.n_rows) + ".");
}

void check_square(const arma::mat& x, const std::string& name) {
  require(x.n_rows == x.n_cols, "`" + name + "` must be a square matrix, but it is " +
                                    std::to_string(x.n_rows) + " x " + std::to_string(x.n_cols) + ".");
}

void check_no_constant_columns(const arma::mat& x, const std::string& name) {
  for (arma::uword j = 0; j < x.n_cols; ++j) {
    const double lo = x.col(j).min(), hi = x.col(j).max();
    // Constant up to rounding relative to the column's magnitude.
    const double scale = std::max(std::abs(lo), std::abs(hi));
    if (!(hi - lo > 1e-12 * scale) || hi == lo) {
      throw invalid_argument("`" + name + "` column " + std::to_string(j + 1) +
                             " is constant (zero variance): remove it before fitting.");
    }
  }
}

}  // namespace tessera
