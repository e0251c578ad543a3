// The explicit execution context passed to everything that threads or draws random numbers.
// There is no global state: results depend on the seed, never on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace linsim {

// Receives progress messages of long computations (the library never prints itself).
using ProgressFn = std::function<void(const std::string&)>;

// Asked at the library's interruption points whether to stop: it returns normally to go on, or
// throws to stop (a binding throws its own exception when the user pressed Ctrl-C). The exception
// leaves the library unchanged, through RAII only: no partial result is returned and no
// unfinished output stays on disk.
using InterruptFn = std::function<void()>;

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
  // Called at interruption points (see interruption_point) while an entry point taking this
  // Context runs; empty: never interrupted.
  InterruptFn interrupt;

  // The thread count actually used (resolves 0). Throws InvalidArgument outside 0..max_threads().
  int thread_count() const;
};

// An interruption point: calls the InterruptFn of the innermost ThreadScope of the calling thread
// that has one, unless called inside a parallel region (an exception cannot leave one). Placed
// between the iterations, cycles and blocks of every long computation — the solvers' cycles, the
// cosine model's iterations, EASE's inverse, blocks of neighbour searches, the steps of evaluate,
// reproduce and audit — at most a fraction of a second apart on data the machine can hold.
void interruption_point();

// Sets the thread count of the calling thread's parallel regions (the library's own; Eigen's
// parallel products are compiled out, docs/api.md) to ctx.thread_count() while it lives, and restores the previous count when
// it ends. The count is the calling thread's own OpenMP setting (the nthreads-var of its task):
// other threads — two Python threads calling linsim at once, say — keep theirs, and nothing
// process-wide changes. Every public entry point that runs parallel kernels opens one; nested
// scopes (an entry point calling another) restore in order. It also makes ctx.interrupt, when set,
// the calling thread's interruption check for its lifetime (an inner scope without one keeps the
// outer's); ctx must then outlive the scope.
class ThreadScope {
 public:
  explicit ThreadScope(const Context& ctx);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
  const InterruptFn* previous_interrupt_;
};

}  // namespace linsim
