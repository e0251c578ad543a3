#include "linsim/evaluate/rank_correlation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {

Vector average_ranks(const Vector& values) {
  if (values.hasNaN()) throw InvalidArgument("average_ranks: a value is NaN (NaN has no rank)");
  const Index n = values.size();
  std::vector<Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return values(a) < values(b); });
  Vector ranks(n);
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    while (end < order.size() && values(order[end]) == values(order[start])) ++end;
    // Positions start..end−1 hold ranks start+1..end: their mean.
    const double rank = 0.5 * static_cast<double>(start + 1 + end);
    for (size_t r = start; r < end; ++r) ranks(order[r]) = rank;
    start = end;
  }
  return ranks;
}

double spearman(const Vector& x, const Vector& y) {
  if (x.size() != y.size()) {
    throw InvalidArgument(fmt::format("spearman: the two sides have {} and {} values", x.size(), y.size()));
  }
  if (x.size() < 2 || x.hasNaN() || y.hasNaN()) return std::nan("");
  const Vector rx = average_ranks(x), ry = average_ranks(y);
  const Vector cx = rx.array() - rx.mean(), cy = ry.array() - ry.mean();
  const double den = cx.norm() * cy.norm();
  return den > 0 ? cx.dot(cy) / den : std::nan("");
}

}  // namespace linsim
