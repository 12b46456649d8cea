#pragma once
// Test helper shared by the glm and causal tests: the message of the tessera::invalid_argument
// that f() throws, or "no error".
#include <string>

#include "tessera/common/error.hpp"

template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const tessera::invalid_argument& e) {
    return std::string(e.what());
  }
  return std::string("no error");
}
