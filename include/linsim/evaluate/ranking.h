// Top-N accuracy (MATH.md M7): Recall@k normalised by min(k, |target|) and NDCG@k with binary
// relevance, per user.
#pragma once

#include <span>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

// `ranked`: item indices, best first (at least the top k). `target`: the held-out items,
// sorted ascending. Both return 0 for an empty target.
double recall_at_k(std::span<const Index> ranked, std::span<const int> target, Index k);
double ndcg_at_k(std::span<const Index> ranked, std::span<const int> target, Index k);

// mean_and_se: the mean (NaN without values) and its standard error sd / sqrt(n) (NaN below
// two values: one value has no spread).
struct MeanSe {
  double mean = 0;
  double se = 0;
};
MeanSe mean_and_se(const std::vector<double>& values);

}  // namespace linsim
