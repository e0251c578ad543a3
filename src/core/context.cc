#include "linsim/core/context.h"

#include <omp.h>

#include <Eigen/Core>

namespace linsim {

int Context::thread_count() const { return threads > 0 ? threads : omp_get_num_procs(); }

void use_threads(const Context& ctx) {
  const int n = ctx.thread_count();
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

}  // namespace linsim
