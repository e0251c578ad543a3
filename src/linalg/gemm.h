// The dense kernels taken from OpenBLAS when it runs this CPU's kernels: one single-threaded GEMM
// for the blocked kernels that spread fixed tiles over OpenMP threads (the SPD inverse's panels,
// the all-items tiles, DataMatrix's dense row blocks, the pieces of linalg/products.h), and the
// dense symmetric eigen-solver. Each
// call runs in the calling thread only, so results never depend on the thread count. Beside
// them, the panel products of the block Krylov solver's orthogonalisation, which are faster by
// kernels of their own than through either GEMM.
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

// Products of a tall panel Q (h × m, column-major, leading dimension lq) with a block of b
// columns, as the block Krylov solver's orthogonalisation forms them chunk by chunk: H = Qᵀ W
// (H m × b, W h × b) and W += α Q H. Kernels of their own for b = 4, 8 and 16 in AVX-512 builds
// (they return false and do nothing for any other b, and for every b without AVX-512: the caller
// runs the GEMM): each reads Q once and does b multiply-adds per element of it, where GEMM first
// packs Q into its own layout — one more copy of the panel per call. W goes through a row-major
// copy of at most 512 rows on the stack (64 KB at b = 16), so that each element of Q is broadcast
// against a whole row of W (bench/README.md, BM_PanelPass). Sums in a fixed order, in the calling
// thread.
bool panel_cross(const double* Q, Index lq, Index h, Index m, const double* W, Index lw, Index b, double* H,
                 Index ldh);
bool panel_update(const double* Q, Index lq, Index h, Index m, const double* H, Index ldh, Index b, double alpha,
                  double* W, Index lw);

// The k largest eigenpairs of the dense symmetric matrix S (its lower triangle is read): values
// descending, vectors p × k (signs as the solver returns them). With OpenBLAS, LAPACK's dsyevr
// (a blocked reduction to tridiagonal form, then only the k wanted pairs of the tridiagonal
// matrix — by bisection and inverse iteration, or by MRRR when k = p — and their
// back-transformation); otherwise
// Eigen's SelfAdjointEigenSolver (the full decomposition; its reduction is unblocked, 7× slower at
// p = 1,000 and 16× at p = 4,000: bench/README.md, BM_DenseTopEigen). Throws InvalidArgument
// unless 1 ≤ k ≤ p, Error on a non-finite entry or when the solver fails.
void dense_top_eigen(const Matrix& S, Index k, Vector& values, Matrix& vectors);

// Rough seconds dense_top_eigen takes for a p × p matrix on this class of machine (cubic in p;
// measured: LAPACK 0.10–0.13 s, Eigen 0.69–0.87 s at p = 1,000, BM_DenseTopEigen and a side
// harness; 5.5 s and 88 s at p = 4,000). It depends on the backend, and so may auto's route.
double dense_top_eigen_seconds(Index p);

// The block Krylov solver's cost per nonzero of X and vector product with XᵀX,
// reorthogonalisation included (measured at k = 100 on 138,000 × 20,000 simulated data, 2 cores):
// with dense_top_eigen_seconds, the cost model of the route choice (spectrum.cc) and of the
// solver's tests between restarts (block_krylov.cc).
constexpr double kKrylovSecondsPerNonzeroAndVector = 0.5e-9;

}  // namespace linsim
