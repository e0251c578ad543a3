#include "linsim/similarity/top_k.h"

#include <algorithm>
#include <cmath>

namespace linsim {
namespace {

// a ranks before b.
bool better(const Neighbor& a, const Neighbor& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

}  // namespace

std::vector<Neighbor> select_top_k(const double* scores, Index n, Index k,
                                   std::span<const int> excluded) {
  std::vector<Neighbor> heap;  // min-heap by rank: heap.front() is the worst kept
  if (k <= 0) return heap;
  heap.reserve(static_cast<size_t>(std::min(k, n)));
  auto worse_first = [](const Neighbor& a, const Neighbor& b) { return better(a, b); };
  size_t next_excluded = 0;
  for (Index j = 0; j < n; ++j) {
    while (next_excluded < excluded.size() && excluded[next_excluded] < j) ++next_excluded;
    if (next_excluded < excluded.size() && excluded[next_excluded] == j) continue;
    const double s = scores[j];
    if (std::isnan(s)) continue;
    if (static_cast<Index>(heap.size()) < k) {
      heap.push_back({j, s});
      std::push_heap(heap.begin(), heap.end(), worse_first);
    } else if (s > heap.front().score) {  // equal score: the kept one has the lower index
      std::pop_heap(heap.begin(), heap.end(), worse_first);
      heap.back() = {j, s};
      std::push_heap(heap.begin(), heap.end(), worse_first);
    }
  }
  std::sort(heap.begin(), heap.end(), better);
  return heap;
}

}  // namespace linsim
