#pragma once
// Input validation shared by every public entry point. Each check throws
// tessera::invalid_argument with a message that names the argument and the fix.
#include <cstddef>
#include <string>
#include <type_traits>

#include "tessera/common/arma.hpp"
#include "tessera/common/error.hpp"

namespace tessera {

// Throws invalid_argument(message) unless condition holds.
void require(bool condition, const std::string& message);

// The same check for hot loops: make_message() builds the message only when the check
// fails, so a passing check costs one branch. Call as require(ok, [&] { return "..."; }).
template <class MakeMessage, class = std::enable_if_t<std::is_invocable_r_v<std::string, MakeMessage&>>>
void require(bool condition, MakeMessage&& make_message) {
  if (!condition) throw invalid_argument(make_message());
}

// Every entry finite (no NaN, no Inf).
void check_finite(const arma::mat& x, const std::string& name);
void check_finite(const arma::vec& x, const std::string& name);
void check_finite(double x, const std::string& name);

// Scalars.
void check_positive(double x, const std::string& name);      // x > 0, finite
void check_nonnegative(double x, const std::string& name);   // x >= 0, finite
void check_in_closed(double x, double lo, double hi, const std::string& name);
void check_in_open(double x, double lo, double hi, const std::string& name);
void check_at_least(long long x, long long lo, const std::string& name);

// Matrices.
void check_min_rows(const arma::mat& x, std::size_t n, const std::string& name);
void check_square(const arma::mat& x, const std::string& name);
// No column with zero variance; the message gives the 1-based column index.
void check_no_constant_columns(const arma::mat& x, const std::string& name);

// Formats a double for messages: shortest round-trip-ish representation.
std::string format_number(double x);

}  // namespace tessera
