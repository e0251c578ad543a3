// One single-threaded GEMM for the blocked kernels that spread fixed tiles over OpenMP threads
// (the SPD inverse's panels, the all-items tiles). Each call runs in the calling thread only, so
// results never depend on the thread count.
//
// Backend: OpenBLAS when the program chose it with configure_gemm() (linsim/core/setup.h, which
// explains the choice), otherwise Eigen's own kernels (compiled for the host with -march=native).
// Private to the library: callers see only the kernels that use it.
#pragma once

#include <string>

#include "linsim/core/setup.h"
#include "linsim/core/types.h"

namespace linsim {

// C = alpha · op(A) · op(B) + beta · C, column-major; op(X) = Xᵀ when trans_x. op(A) is m × k,
// op(B) k × n, C m × n; ld* are the leading dimensions (column strides).
template <typename Scalar>
void gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, Scalar alpha, const Scalar* A, Index lda,
          const Scalar* B, Index ldb, Scalar beta, Scalar* C, Index ldc);

}  // namespace linsim
