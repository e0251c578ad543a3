// EASE (Steck 2019) and its unconstrained relative, full-rank ridge regression of X on itself
// (MATH.md M3).
#pragma once

#include <type_traits>

#include "linsim/core/error.h"
#include "linsim/core/types.h"

namespace linsim {

// MATH.md M3: W = I − Pinv · dMat(1 / diag(Pinv)), Pinv = (G + λI)⁻¹, computed in G's storage
// (taken by value) by spd_inverse_in_place, whose pivots are those of a Cholesky factorisation of
// G + λI, in double or float. Throws InvalidArgument if G + λI is not positive definite (λ too
// small for rank-deficient data), or has a pivot so small relative to its largest diagonal entry
// that rounding would dominate the inverse: below 1e-12 in double, below 1e-5 in float (where a
// condition number of 1e5 already costs κ·u ≈ 0.6 % of relative accuracy).
template <typename Scalar = double>
MatrixOf<Scalar> ease_weights(MatrixOf<Scalar> G, double lambda);

// What every implementation of EASE (this one, linsim-mpi's on ScaLAPACK) accepts and how it
// refuses, so that the same data gets the same answer: the smallest Cholesky pivot relative to the
// largest diagonal entry of G + λI, and the InvalidArgument for one below it (or not positive).
template <typename Scalar>
constexpr double ease_pivot_floor() {
  return std::is_same_v<Scalar, double> ? 1e-12 : 1e-5;
}
template <typename Scalar>
InvalidArgument ease_not_positive_definite(double lambda);
// The InvalidArgument for a λ so far above XᵀX's scale that every weight underflows to 0 although
// items co-occur (`largest`: XᵀX's largest diagonal entry).
template <typename Scalar>
InvalidArgument ease_weights_underflow(double lambda, double largest);

}  // namespace linsim
