// Shared by every Rcpp glue file: the runtime context wired to R (console, cli
// progress bar, user interrupts) and the translation of core exceptions.
#pragma once
#include <RcppArmadillo.h>
#include <cli/progress.h>

#include <string>

#include "tessera/common/context.hpp"
#include "tessera/common/error.hpp"

namespace tessera_r {

// A cli progress bar owned by the glue; shown only when `verbose` and R is interactive
// (cli's own rules decide; it appears after cli's show-after delay).
class progress_bar {
 public:
  progress_bar(bool verbose, const char* name) : verbose_(verbose), name_(name) {}
  ~progress_bar() {
    if (bar_ != R_NilValue) {
      cli_progress_done(bar_);
      R_ReleaseObject(bar_);
    }
  }
  void update(double done, double total) {
    if (!verbose_) return;
    if (bar_ == R_NilValue) {  // created on first use, once the total is known
      bar_ = cli_progress_bar(total, R_NilValue);
      R_PreserveObject(bar_);
      cli_progress_set_name(bar_, name_);
    }
    if (CLI_SHOULD_TICK || done >= total) cli_progress_set(bar_, done);  // always show completion
  }
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;

 private:
  bool verbose_;
  const char* name_;
  SEXP bar_ = R_NilValue;
};

// True if the user pressed Ctrl-C (checked without longjmp-ing through C++ frames).
inline bool interrupt_pending() {
  try {
    Rcpp::checkUserInterrupt();
    return false;
  } catch (Rcpp::internal::InterruptedException&) {
    return true;
  }
}

// A context that logs to the R console when verbose and polls for interrupts.
inline tessera::runtime_context r_context(bool verbose, progress_bar* bar) {
  tessera::runtime_context ctx;
  if (verbose) ctx.log = &Rcpp::Rcout;
  ctx.interrupt_requested = &interrupt_pending;
  if (bar != nullptr) ctx.progress = [bar](double done, double total) { bar->update(done, total); };
  return ctx;
}

// One named option of a settings list made on the R side, converted to T. A missing name
// is an error naming it (Rcpp alone reports an anonymous index error).
template <class T>
T option(const Rcpp::List& options, const char* name) {
  if (!options.containsElementNamed(name))
    throw tessera::invalid_argument(std::string("the settings list lacks the option `") + name +
                                    "` (an internal inconsistency between the R code and the glue).");
  return Rcpp::as<T>(options[name]);
}

}  // namespace tessera_r

// Wraps the body of an exported glue function: core exceptions become R errors with the
// same message (the R side re-raises them with cli), a user interrupt stays an interrupt.
#define TESSERA_GLUE_BEGIN try {
#define TESSERA_GLUE_END                                                 \
  }                                                                      \
  catch (tessera::interrupted&) {                                        \
    throw Rcpp::internal::InterruptedException();                        \
  }                                                                      \
  catch (tessera::invalid_argument & e) {                                \
    Rcpp::stop(std::string("tessera_invalid_argument: ") + e.what());    \
  }                                                                      \
  catch (tessera::numerical_error & e) {                                 \
    Rcpp::stop(std::string("tessera_numerical_error: ") + e.what());     \
  }                                                                      \
  catch (std::bad_alloc&) {                                              \
    Rcpp::stop("tessera_invalid_argument: not enough memory for a problem of this size: " \
               "reduce the number of variables or observations.");     \
  }
