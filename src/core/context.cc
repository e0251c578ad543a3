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

namespace {
// The calling thread's interruption check (the innermost ThreadScope's that has one); a thread's
// own, like its OpenMP thread count, so two threads calling linsim never see each other's.
thread_local const InterruptFn* current_interrupt = nullptr;
}  // namespace

void interruption_point() {
  if (current_interrupt != nullptr && !omp_in_parallel()) (*current_interrupt)();
}

ThreadScope::ThreadScope(const Context& ctx)
    : previous_(omp_get_max_threads()), previous_interrupt_(current_interrupt) {
  omp_set_num_threads(ctx.thread_count());
  if (ctx.interrupt) current_interrupt = &ctx.interrupt;
}

ThreadScope::~ThreadScope() {
  omp_set_num_threads(previous_);
  current_interrupt = previous_interrupt_;
}

}  // namespace linsim
