#include "linsim/core/context.h"

#include <omp.h>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {

int max_threads() { return 4 * omp_get_num_procs(); }

int Context::thread_count() const {
  if (threads < 0 || threads > max_threads()) {
    throw InvalidArgument(fmt::format("--threads must be in [0, {}] (4 x the {} cores; 0: all cores), got {}",
                                      max_threads(), omp_get_num_procs(), threads));
  }
  return threads > 0 ? threads : omp_get_num_procs();
}

ThreadScope::ThreadScope(const Context& ctx) : previous_(omp_get_max_threads()) {
  omp_set_num_threads(ctx.thread_count());
}

ThreadScope::~ThreadScope() { omp_set_num_threads(previous_); }

}  // namespace linsim
