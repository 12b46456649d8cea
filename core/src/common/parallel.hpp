#pragma once
// Internal to the core: a minimal task pool on std::thread (the R build compiles without
// OpenMP, so the modules do not rely on it). Used by recsys and by the ordinal CV folds.
//
// Determinism contract. Callers cut the work into tasks whose boundaries depend only on the
// problem size (never on the thread count), each task writes only its own outputs, and any sum
// across tasks is formed afterwards by the caller in task order. Which thread runs a task then
// cannot change a single bit of the result, so results are identical for every `threads`.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace tessera::detail {

// Runs body(t) for t = 0 .. n_tasks - 1 on at most `threads` threads (the calling thread is one
// of them). If tasks throw, the exception of the lowest-numbered failing task is rethrown here
// (the same one for any thread count: tasks above a known failure are skipped, tasks below it
// still run).
template <class F>
void parallel_tasks(std::size_t n_tasks, std::size_t threads, F&& body) {
  const std::size_t workers = std::min(std::max<std::size_t>(threads, 1), n_tasks);
  if (workers <= 1) {
    for (std::size_t t = 0; t < n_tasks; ++t) body(t);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> failed_at{n_tasks};
  std::exception_ptr error;
  std::mutex mutex;
  auto run = [&] {
    for (;;) {
      const std::size_t t = next.fetch_add(1);
      if (t >= n_tasks) return;
      if (t > failed_at.load()) continue;
      try {
        body(t);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (t < failed_at.load()) {
          failed_at.store(t);
          error = std::current_exception();
        }
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(run);
    } catch (const std::system_error&) {
      break;  // no more threads available: the running ones share the remaining tasks
    }
  }
  run();
  for (std::thread& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

// [begin, end) ranges covering 0 .. n - 1 in pieces of `grain` (the last may be shorter).
struct index_range {
  std::size_t begin, end;
};
inline std::vector<index_range> fixed_ranges(std::size_t n, std::size_t grain) {
  grain = std::max<std::size_t>(grain, 1);
  std::vector<index_range> out;
  for (std::size_t b = 0; b < n; b += grain) out.push_back({b, std::min(n, b + grain)});
  return out;
}

}  // namespace tessera::detail
