// The inverse of a symmetric positive definite matrix in its own storage (no second n × n copy):
// Cholesky A = L Lᵀ, then L⁻¹ (blocked, like LAPACK's trtri) and A⁻¹ = L⁻ᵀ L⁻¹ (like lauum),
// each step overwriting the lower triangle block by block with workspaces of n × 256. The large
// products run as fixed blocks of single-threaded GEMM spread over threads, so the result does not
// depend on the thread count.
#pragma once

#include "linsim/core/types.h"

namespace linsim {

// Replaces A (symmetric positive definite; only its lower triangle is read) by A⁻¹ (both
// triangles). Returns false, with A's contents unspecified, if the Cholesky factorisation finds
// a pivot that is not positive or below rel_pivot_floor × max |diag(A)|.
template <typename Scalar>
bool spd_inverse_in_place(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& A, double rel_pivot_floor);

}  // namespace linsim
