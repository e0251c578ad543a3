// Rank correlation: Spearman's ρ, the Pearson correlation of average ranks. The one definition
// behind the audit's truth section and `linsim evaluate-words`.
#pragma once

#include "linsim/core/types.h"

namespace linsim {

// 1-based ranks of `values` in ascending order; tied values share the mean of the ranks they span
// ({10, 20, 20, 30} → {1, 2.5, 2.5, 4}). NaN values are not allowed (InvalidArgument).
Vector average_ranks(const Vector& values);

// Spearman's ρ of x and y: the Pearson correlation of average_ranks(x) and average_ranks(y). NaN
// when there are fewer than 2 values, when either side is constant, or when a value is NaN.
// Throws InvalidArgument when the sizes differ.
double spearman(const Vector& x, const Vector& y);

}  // namespace linsim
