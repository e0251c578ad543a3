#include "linsim/evaluate/ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace linsim {
namespace {

bool contains(std::span<const int> sorted, Index item) {
  return std::binary_search(sorted.begin(), sorted.end(), static_cast<int>(item));
}

}  // namespace

double recall_at_k(std::span<const Index> ranked, std::span<const int> target, Index k) {
  if (target.empty()) return 0;
  const auto depth = std::min<size_t>(static_cast<size_t>(k), ranked.size());
  double hits = 0;
  for (size_t r = 0; r < depth; ++r) hits += contains(target, ranked[r]) ? 1.0 : 0.0;
  // MATH.md M7: Recall@k = hits / min(k, |target|)
  return hits / static_cast<double>(std::min<size_t>(static_cast<size_t>(k), target.size()));
}

double ndcg_at_k(std::span<const Index> ranked, std::span<const int> target, Index k) {
  if (target.empty()) return 0;
  const auto depth = std::min<size_t>(static_cast<size_t>(k), ranked.size());
  // MATH.md M7: NDCG@k with binary relevance, DCG = Σ_{hits at rank r} 1 / log2(r + 1), over the ideal DCG.
  double dcg = 0;
  for (size_t r = 0; r < depth; ++r) {
    if (contains(target, ranked[r])) dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
  }
  double idcg = 0;
  const size_t ideal = std::min<size_t>(static_cast<size_t>(k), target.size());
  for (size_t r = 0; r < ideal; ++r) idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
  return dcg / idcg;
}

MeanSe mean_and_se(const std::vector<double>& values) {
  // No value: no mean; one value: no spread. Both are NaN ("undefined", null in JSON), never a 0
  // that would read as a measured mean or a measured certainty.
  MeanSe m{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  if (values.empty()) return m;
  const double n = static_cast<double>(values.size());
  m.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - m.mean) * (v - m.mean);
    m.se = std::sqrt(ss / (n - 1)) / std::sqrt(n);
  }
  return m;
}

}  // namespace linsim
