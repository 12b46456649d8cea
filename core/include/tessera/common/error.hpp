#pragma once
// Errors the core throws. Every message names the argument, says what was wrong and
// what to do; callers (the R glue, C++ users) show it unchanged.
#include <stdexcept>
#include <string>

namespace tessera {

// Bad input: the caller can fix it.
class invalid_argument : public std::invalid_argument {
 public:
  explicit invalid_argument(const std::string& what) : std::invalid_argument(what) {}
};

// The numerics failed: no convergence, a singular system, the iterate left the domain.
class numerical_error : public std::runtime_error {
 public:
  explicit numerical_error(const std::string& what) : std::runtime_error(what) {}
};

// The user asked to stop (the runtime context's interrupt callback said so).
class interrupted : public std::runtime_error {
 public:
  interrupted() : std::runtime_error("interrupted by the user") {}
};

}  // namespace tessera
