// Row normalisation and the one zero-norm policy of the library (MATH.md M4), shared by the
// models that normalise inside their objective (M5) and by every cosine-based measure.
#pragma once

#include "linsim/core/types.h"

namespace linsim {

// A row whose norm is at most kRelativeNormFloor times the largest row norm is a zero vector: it
// has no direction and its cosine with anything is 0.
inline constexpr double kRelativeNormFloor = 1e-10;

// Rows scaled to unit length; zero vectors (per the policy above) become exactly zero.
Matrix normalize_rows(Matrix F);
SparseMatrix normalize_rows(SparseMatrix F);

}  // namespace linsim
