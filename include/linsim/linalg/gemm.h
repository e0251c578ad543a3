// One single-threaded GEMM for the blocked kernels that spread fixed tiles over OpenMP threads
// (the SPD inverse's panels, the all-items tiles). Each call runs in the calling thread only, so
// results never depend on the thread count.
//
// Backend, chosen once per process:
// - OpenBLAS, when libopenblas.so.0 can be loaded at run time and runs kernels for this CPU. Debian's
//   OpenBLAS misdetects some CPUs and falls back to its generic "Prescott" kernels (4–6× slower), and
//   it reads OPENBLAS_CORETYPE only while loading. So before loading it linsim sets OPENBLAS_CORETYPE,
//   if unset, from the CPU's own feature flags (AVX-512 F/BW/DQ/VL → SkylakeX; AVX2 + FMA → Haswell),
//   and afterwards uses it only if it reports that core (or the one the user set). It is called with
//   one OpenBLAS thread.
// - Otherwise Eigen's own kernels (compiled for the host with -march=native).
// LINSIM_GEMM=eigen forces Eigen.
#pragma once

#include <string>

#include "linsim/core/types.h"

namespace linsim {

// C = alpha · op(A) · op(B) + beta · C, column-major; op(X) = Xᵀ when trans_x. op(A) is m × k,
// op(B) k × n, C m × n; ld* are the leading dimensions (column strides).
template <typename Scalar>
void gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, Scalar alpha, const Scalar* A, Index lda,
          const Scalar* B, Index ldb, Scalar beta, Scalar* C, Index ldc);

// "openblas (SkylakeX)" or "eigen", with the reason when OpenBLAS was not used.
std::string gemm_backend();

}  // namespace linsim
