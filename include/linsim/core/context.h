// The explicit execution context passed to everything that threads or draws random numbers.
// There is no global state: results depend on the seed, never on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace linsim {

struct Context {
  // Number of threads for parallel kernels; 0 means all hardware threads.
  int threads = 0;
  // Seed for every random draw of one run.
  std::uint64_t seed = 42;

  // The thread count actually used (resolves 0).
  int thread_count() const;
};

// Receives progress messages of long computations (the library never prints itself).
using ProgressFn = std::function<void(const std::string&)>;

// Applies ctx.threads to OpenMP and Eigen for the current process. Cheap; call at the start
// of a library entry point that runs parallel kernels.
void use_threads(const Context& ctx);

}  // namespace linsim
