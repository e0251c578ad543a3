#include "linsim/similarity/top_k.h"

namespace linsim {

std::vector<Neighbor> select_top_k(const double* scores, Index n, Index k,
                                   std::span<const int> excluded) {
  TopKSelector<double> selector(std::min(k, n));  // never more than there are: memory follows n
  size_t next_excluded = 0;
  for (Index j = 0; j < n; ++j) {
    if (!(scores[j] >= selector.threshold())) continue;
    while (next_excluded < excluded.size() && excluded[next_excluded] < j) ++next_excluded;
    if (next_excluded < excluded.size() && excluded[next_excluded] == j) continue;
    selector.offer(j, scores[j]);
  }
  return selector.take();
}

}  // namespace linsim
