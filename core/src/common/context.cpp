#include "tessera/common/context.hpp"

#include "tessera/common/error.hpp"

namespace tessera {

void runtime_context::check_interrupt() const {
  if (interrupt_requested && interrupt_requested()) throw interrupted();
}

void runtime_context::report_progress(double done, double total) const {
  if (progress) progress(done, total);
}

void runtime_context::message(const std::string& text) const {
  if (log != nullptr) (*log) << text << '\n';
}

const runtime_context& silent_context() {
  static const runtime_context ctx;
  return ctx;
}

}  // namespace tessera
