// Top-N neighbours and recommendations in blocks: one block of scores at a time (a GEMM for
// dense factors), then select_top_k per row in parallel. Memory stays at one block.
#pragma once

#include <vector>

#include "linsim/core/context.h"
#include "linsim/models/model.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/top_k.h"

namespace linsim {

using NeighborLists = std::vector<std::vector<Neighbor>>;

// The `top` most similar rows for each query, the query itself excluded unless include_self.
NeighborLists top_neighbors(const SimilaritySpace& space, const std::vector<Index>& queries, Index top,
                            bool include_self, const Context& ctx);

// The `top` highest-scoring items for each row of Xq (users as interaction rows), scored by the
// model (dot products, MATH.md M4); the row's own items are excluded when exclude_seen.
NeighborLists recommend(const Model& model, const SparseMatrix& Xq, const std::vector<Index>& rows,
                        Index top, bool exclude_seen, const Context& ctx);

}  // namespace linsim
