#include "linsim/similarity/neighbors.h"

#include <algorithm>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {
namespace {

void check_top(Index top) {
  if (top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", top));
}

}  // namespace

NeighborLists top_neighbors(const SimilaritySpace& space, const std::vector<Index>& queries, Index top,
                            bool include_self, const Context& ctx) {
  check_top(top);
  use_threads(ctx);
  const Index size = space.size();
  for (Index q : queries) {
    if (q < 0 || q >= size) throw InvalidArgument(fmt::format("query index {} outside [0, {})", q, size));
  }
  NeighborLists lists(queries.size());
  for_each_score_block(space, queries, [&](size_t first, const std::vector<Index>& block, const RowMatrix& scores) {
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t r = 0; r < block.size(); ++r) {
      const int self = static_cast<int>(block[r]);
      const std::span<const int> excluded = include_self ? std::span<const int>{} : std::span<const int>(&self, 1);
      lists[first + r] = select_top_k(scores.row(static_cast<Index>(r)).data(), size, top, excluded);
    }
  });
  return lists;
}

NeighborLists recommend(const Model& model, const SparseMatrix& Xq, const std::vector<Index>& rows,
                        Index top, bool exclude_seen, const Context& ctx) {
  check_top(top);
  use_threads(ctx);
  const Index p = model.n_items();
  NeighborLists lists(rows.size());
  const auto step = static_cast<size_t>(score_block_rows(p));
  for (size_t first = 0; first < rows.size(); first += step) {
    const size_t count = std::min(step, rows.size() - first);
    SparseMatrix block(static_cast<Index>(count), Xq.cols());
    std::vector<Eigen::Triplet<double, int>> entries;
    for (size_t r = 0; r < count; ++r) {
      for (SparseMatrix::InnerIterator it(Xq, rows[first + r]); it; ++it) {
        entries.emplace_back(static_cast<int>(r), static_cast<int>(it.col()), it.value());
      }
    }
    block.setFromTriplets(entries.begin(), entries.end());
    const RowMatrix scores = score_users(model, block);
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t r = 0; r < count; ++r) {
      const auto u = static_cast<Index>(r);
      std::span<const int> seen;
      if (exclude_seen) {
        seen = std::span<const int>(block.innerIndexPtr() + block.outerIndexPtr()[u],
                                    static_cast<size_t>(block.outerIndexPtr()[u + 1] - block.outerIndexPtr()[u]));
      }
      lists[first + r] = select_top_k(scores.row(u).data(), p, top, seen);
    }
  }
  return lists;
}

}  // namespace linsim
