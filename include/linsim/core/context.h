// The explicit execution context passed to everything that threads or draws random numbers.
// There is no global state: results depend on the seed, never on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace linsim {

// The most threads a Context may ask for: 4 × the cores this process may run on. More threads than
// cores never makes linsim faster, each thread holds its own scratch (some kernels a p-vector),
// and the OpenMP runtime fails (or crashes) when it cannot create them: the bound turns a typo into
// a clear error instead.
int max_threads();

struct Context {
  // Number of threads for parallel kernels; 0 means all the cores. 0..max_threads().
  int threads = 0;
  // Seed for every random draw of one run.
  std::uint64_t seed = 42;

  // The thread count actually used (resolves 0). Throws InvalidArgument outside 0..max_threads().
  int thread_count() const;
};

// Receives progress messages of long computations (the library never prints itself).
using ProgressFn = std::function<void(const std::string&)>;

// Sets the thread count of the calling thread's parallel regions (the library's own and Eigen's
// parallel products) to ctx.thread_count() while it lives, and restores the previous count when
// it ends. The count is the calling thread's own OpenMP setting (the nthreads-var of its task):
// other threads — two Python threads calling linsim at once, say — keep theirs, and nothing
// process-wide changes. Every public entry point that runs parallel kernels opens one; nested
// scopes (an entry point calling another) restore in order.
class ThreadScope {
 public:
  explicit ThreadScope(const Context& ctx);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace linsim
