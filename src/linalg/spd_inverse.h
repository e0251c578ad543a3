// The inverse of a symmetric positive definite matrix in its own storage (no second n × n copy),
// by the block sweep operator (symmetric Gauss–Jordan elimination on blocks of 256): p³ flops, the
// same as a Cholesky factorisation followed by LAPACK's trtri and lauum, but all of it rank-256
// updates of the lower triangle — one GEMM shape, run as fixed panels of single-threaded GEMM
// spread over threads, so the result does not depend on the thread count. Workspace: two n × 256.
#pragma once

#include "linsim/core/types.h"

namespace linsim {

// Replaces A (symmetric positive definite; only its lower triangle is read) by A⁻¹ (both
// triangles). Returns false, with A's contents unspecified, if the Cholesky factorisation finds
// a pivot that is not positive or below rel_pivot_floor × max |diag(A)|.
template <typename Scalar>
bool spd_inverse_in_place(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& A, double rel_pivot_floor);

}  // namespace linsim
