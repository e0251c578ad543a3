// The one top-k selection of the library. Order: higher score first; equal scores by lower
// index. NaN scores are never selected.
#pragma once

#include <span>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

struct Neighbor {
  Index index;
  double score;
};

// The k best entries of scores[0..n) in order, skipping the indices in `excluded` (sorted
// ascending). Returns fewer than k when fewer remain. O(n log k).
std::vector<Neighbor> select_top_k(const double* scores, Index n, Index k,
                                   std::span<const int> excluded = {});

}  // namespace linsim
