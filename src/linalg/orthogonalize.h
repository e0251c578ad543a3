// Projection of a block of vectors against an orthonormal basis, as the block Krylov solver
// (block_krylov.cc) forms it for each new block: by fixed chunks of rows spread over the calling
// thread's OpenMP threads, each chunk one single-threaded kernel (linalg/gemm.h: the panel
// kernels for blocks of 4, 8 and 16 columns, GEMM otherwise), the chunks' parts summed in chunk
// order, so that every result is the same on any thread count. Private to the library.
#pragma once

#include <vector>

#include "linsim/core/types.h"

namespace linsim {

// Rows per chunk: a chunk of a 400-column basis is 1.6 MB, so it stays in cache between the two
// products that read it in a fused pass.
constexpr Index kRowChunk = 512;

inline Index row_chunks(Index p) { return (p + kRowChunk - 1) / kRowChunk; }

// Qᵀ W in fixed chunks of rows: part(c) forms Q_cᵀ W_c (callers spread the chunks over threads),
// sum() adds the parts in chunk order.
class ChunkedCross {
 public:
  ChunkedCross(const Eigen::Ref<const Matrix>& Q, const Matrix& W);
  Index chunks() const { return static_cast<Index>(parts_.size()); }
  void part(Index c);
  Matrix sum() const;

 private:
  Eigen::Ref<const Matrix> Q_;
  const Matrix& W_;
  std::vector<Matrix> parts_;
};

// W ← (I − Q Qᵀ)² W for Q with orthonormal columns; returns the coefficients, Qᵀ W to rounding
// (classical Gram–Schmidt twice: "twice is enough", Giraud et al. 2005). Three passes over Q.
Matrix project_out(const Eigen::Ref<const Matrix>& Q, Matrix& W);

// The same for a W whose components along Q lie, but for rounding, along Q's columns
// [from, Q.cols()) — a new Krylov block, coupled to the last blocks alone: a first pass against
// those columns, then one over all of Q, repeated only for a block where that pass lost more than
// the DGKS criterion allows (Daniel, Gragg, Kaufman, Stewart 1976): two passes over Q instead of
// three. Correct for any W (one that breaks the premise costs the repeated pass); falls back to
// project_out where the coupled columns are more than half of Q. `repeated` (if given) is
// incremented when the full pass was repeated. Throws InvalidArgument unless 0 ≤ from ≤ Q.cols().
Matrix project_out_coupled(const Eigen::Ref<const Matrix>& Q, Index from, Matrix& W, Index* repeated = nullptr);

}  // namespace linsim
