#pragma once
// The runtime context: how the core talks to the outside world. It never writes to
// stdout/stderr itself. A log stream, a progress callback and an interrupt callback,
// all no-ops by default; the R glue plugs in the R console stream, a cli progress bar and
// R's user-interrupt check.
#include <functional>
#include <ostream>
#include <string>

namespace tessera {

struct runtime_context {
  // Where verbose messages go; nullptr means nowhere.
  std::ostream* log = nullptr;
  // Called with (done, total) units of work; empty means no progress reporting.
  std::function<void(double done, double total)> progress;
  // Returns true when the user asked to stop; empty means never.
  std::function<bool()> interrupt_requested;

  // Throws tessera::interrupted if the user asked to stop. Call it between units of
  // work, outside parallel regions.
  void check_interrupt() const;
  void report_progress(double done, double total) const;
  void message(const std::string& text) const;
};

// A context that does nothing: the default argument of every entry point.
const runtime_context& silent_context();

}  // namespace tessera
