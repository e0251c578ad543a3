// Private: a stable counting sort by key on several threads, for the CSR and CSC copies that the
// reader (data/readers.cc, X's rows) and DataMatrix::csc (linalg/data_matrix.cc, X's columns)
// build from a sequence whose order must survive within each key.
#pragma once

#include <cstddef>
#include <vector>

#include "linsim/core/types.h"

namespace linsim::detail {

// The sequence is cut by the caller into `ranges` consecutive parts. count(t, per_key) adds range
// t's items to per_key[key]; scatter(t, next) writes each item of range t, in order, at next[key]++.
// `start` (keys + 1 entries) receives where each key's items begin. Range t writes from where the
// ranges before it end in each key, so the result is, array for array, what one pass over the
// whole sequence in order writes: the same on any number of ranges. Memory: one int per key and
// range.
template <typename Count, typename Scatter>
void counting_scatter(int ranges, Index keys, int* start, const Count& count, const Scatter& scatter) {
  // cursor[t][key]: first, the items of range t with that key; then where range t writes next.
  std::vector<std::vector<int>> cursor(static_cast<std::size_t>(ranges));
#pragma omp parallel for num_threads(ranges) schedule(static, 1)
  for (int t = 0; t < ranges; ++t) {
    std::vector<int>& per_key = cursor[static_cast<std::size_t>(t)];
    per_key.assign(static_cast<std::size_t>(keys), 0);
    count(t, per_key.data());
  }
  start[0] = 0;
  for (Index key = 0; key < keys; ++key) {
    int at = start[key];
    for (auto& c : cursor) {
      const int items = c[static_cast<std::size_t>(key)];
      c[static_cast<std::size_t>(key)] = at;
      at += items;
    }
    start[key + 1] = at;
  }
#pragma omp parallel for num_threads(ranges) schedule(static, 1)
  for (int t = 0; t < ranges; ++t) scatter(t, cursor[static_cast<std::size_t>(t)].data());
}

}  // namespace linsim::detail
