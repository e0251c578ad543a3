// Top-N neighbours and recommendations in blocks: one block of scores at a time (a GEMM for
// dense factors), then select_top_k per row in parallel; memory stays at one block (in single
// precision, one chunk of at most 64 queries per thread). All items against all items on dense
// factors goes through the symmetric tile kernel (all_items_top).
#pragma once

#include <vector>

#include "linsim/core/context.h"
#include "linsim/models/model.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/top_k.h"

namespace linsim {

using NeighborLists = std::vector<std::vector<Neighbor>>;

// Arithmetic of the scores of a dense factor space: float32 halves the bytes and doubles the GEMM
// rate; its scores carry ~1e-7 relative rounding, so neighbours whose float64 scores differ by
// less than that may swap places or change at the k-th position.
enum class Precision { kFloat64, kFloat32 };

// The `top` most similar rows for each query, the query itself excluded unless include_self.
// When the queries are all rows in order and the space is a dense factor space, the symmetric
// all-items kernel runs (all_items_top). `precision` applies to dense factor spaces, to any queries
// (others than every row in order go by chunks of float GEMM); kFloat32 on a space without factors
// (raw, EASE's weights) is an InvalidArgument.
NeighborLists top_neighbors(const SimilaritySpace& space, const std::vector<Index>& queries, Index top,
                            bool include_self, const Context& ctx, Precision precision = Precision::kFloat64);

// All-items top-N over the rows of F, sim(i, j) = ⟨f_i, f_j⟩. The score matrix is symmetric, so
// only its tiles on and above the diagonal are computed (p² k flops instead of 2 p² k), each by a
// single-threaded GEMM on fixed 512 × 512 tiles, and every tile feeds the running selections of both
// its rows and its columns. Results do not depend on the thread count.
NeighborLists all_items_top(const Matrix& F, Index top, bool include_self, Precision precision,
                            const Context& ctx);

// The `top` highest-scoring items for each row of Xq (users as interaction rows), scored by the
// model (dot products, MATH.md M4); the row's own items are excluded when exclude_seen.
NeighborLists recommend(const Model& model, const SparseView& Xq, const std::vector<Index>& rows,
                        Index top, bool exclude_seen, const Context& ctx);

}  // namespace linsim
