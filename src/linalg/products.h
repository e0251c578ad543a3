// Dense products spread over the calling thread's OpenMP threads in pieces that the shapes alone
// fix, so that every entry of a result is the same sum, in the same order, on any thread count.
//
// Why the library needs them: it is built with Eigen's own parallel products off
// (EIGEN_DONT_PARALLELIZE, CMakeLists.txt). Eigen 3.4 chooses the blocking of a product's inner
// dimension from the number of threads it runs on (at most 320 deep on several threads on an
// AVX-512 machine, up to ~870 on one), so a product with a deep inner dimension — PᵀP over the
// users, the EASE projection's p × p products — gave other low bits with --threads 1 than with
// --threads 2. Products large enough for the threads to matter go through these instead; every
// piece is one single-threaded gemm() (linalg/gemm.h: OpenBLAS's kernels where configured).
// Private to the library.
#pragma once

#include "linsim/core/types.h"

namespace linsim {

// C = op(A) op(B), column-major, op(X) = Xᵀ when trans_x; op(A) is m × k, op(B) k × n, C m × n
// (leading dimensions as gemm() takes them). The pieces:
// - an output with either side above kProductTile is cut into tiles of at most kProductTile ×
//   kProductTile, each over the whole inner dimension;
// - a smaller output with a deep inner dimension (PᵀP, BᵀB: k × k from n × k) is summed over
//   fixed ranges of the inner dimension (at most kProductParts, none shallower than
//   kProductDepth), whose partial products are then added in range order.
// Inside a parallel region the pieces run in the calling thread, in the same order.
template <typename Scalar>
void multiply(bool trans_a, bool trans_b, Index m, Index n, Index k, const Scalar* A, Index lda, const Scalar* B,
              Index ldb, Scalar* C, Index ldc);

constexpr Index kProductTile = 1024;
constexpr Index kProductParts = 16;
constexpr Index kProductDepth = 2048;

// The same for Eigen operands: A B, Aᵀ B and A Bᵀ.
Matrix times(const Eigen::Ref<const Matrix>& A, const Eigen::Ref<const Matrix>& B);
MatrixF times(const Eigen::Ref<const MatrixF>& A, const Eigen::Ref<const MatrixF>& B);
Matrix transpose_times(const Eigen::Ref<const Matrix>& A, const Eigen::Ref<const Matrix>& B);
MatrixF transpose_times(const Eigen::Ref<const MatrixF>& A, const Eigen::Ref<const MatrixF>& B);
Matrix times_transpose(const Eigen::Ref<const Matrix>& A, const Eigen::Ref<const Matrix>& B);

}  // namespace linsim
