// EASE (Steck 2019) and its unconstrained relative, full-rank ridge regression of X on itself
// (MATH.md M3).
#pragma once

#include "linsim/core/types.h"

namespace linsim {

// MATH.md M3: W = I − Pinv · dMat(1 / diag(Pinv)), Pinv = (G + λI)⁻¹, computed in G's storage
// (taken by value) by spd_inverse_in_place, whose pivots are those of a Cholesky factorisation of
// G + λI. Throws InvalidArgument if G + λI is not positive definite (λ too small for
// rank-deficient data).
Matrix ease_weights(Matrix G, double lambda);

}  // namespace linsim
