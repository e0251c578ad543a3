#include "linsim/similarity/neighbors.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <mutex>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <omp.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linalg/gemm.h"

namespace linsim {
namespace {

// `top` for a search over `candidates` rows: at least 1; more than there are candidates returns
// them all (and costs no more memory than that). Rows are indexed by int in the selections.
Index checked_top(Index top, Index candidates) {
  if (top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", top));
  if (candidates > std::numeric_limits<int>::max()) {
    throw InvalidArgument(fmt::format("{} rows to search: at most 2^31 - 1 are supported", candidates));
  }
  return std::min(top, std::max<Index>(candidates, 1));
}

bool all_in_order(const std::vector<Index>& queries, Index size) {
  if (static_cast<Index>(queries.size()) != size) return false;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (queries[i] != static_cast<Index>(i)) return false;
  }
  return true;
}

constexpr Index kTile = 512;
constexpr Index kChunk = 16;  // scores checked against the thresholds at once (one AVX-512 compare)

// Bit i set where x[i] ≥ t[i] (or ≥ t), i < n ≤ kChunk: the quick test before the per-entry path,
// which then visits the set bits only. A full chunk is one AVX-512 compare into a mask for floats
// (two for doubles) where the compiler targets AVX-512; elsewhere, and for the last partial chunk,
// the plain loop (GCC does not reliably vectorise it once inlined into the tile loop).
template <typename Scalar, typename Threshold>
uint32_t at_least_mask(const Scalar* x, Threshold t, Index n) {
  auto at = [&](Index i) {
    if constexpr (std::is_pointer_v<Threshold>) return t[i];
    else return t;
  };
#if defined(__AVX512F__)
  if (n == kChunk) {
    static_assert(kChunk == 16);
    if constexpr (std::is_same_v<Scalar, float>) {
      __m512 tv;
      if constexpr (std::is_pointer_v<Threshold>) tv = _mm512_loadu_ps(t);
      else tv = _mm512_set1_ps(t);
      return _mm512_cmp_ps_mask(_mm512_loadu_ps(x), tv, _CMP_GE_OQ);
    } else {
      __m512d lo, hi;
      if constexpr (std::is_pointer_v<Threshold>) {
        lo = _mm512_loadu_pd(t);
        hi = _mm512_loadu_pd(t + 8);
      } else {
        lo = hi = _mm512_set1_pd(t);
      }
      return static_cast<uint32_t>(_mm512_cmp_pd_mask(_mm512_loadu_pd(x), lo, _CMP_GE_OQ)) |
             static_cast<uint32_t>(_mm512_cmp_pd_mask(_mm512_loadu_pd(x + 8), hi, _CMP_GE_OQ)) << 8;
    }
  }
#endif
  uint32_t mask = 0;
  for (Index i = 0; i < n; ++i) mask |= static_cast<uint32_t>(x[i] >= at(i)) << i;
  return mask;
}

template <typename Scalar>
NeighborLists all_items_top_impl(const Matrix& F, Index top, bool include_self) {
  using Dense = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const Index p = F.rows();
  const Index k = F.cols();
  const Dense Ft = F.transpose().cast<Scalar>();  // column i = f_i
  const Index blocks = (p + kTile - 1) / kTile;
  // Tiles (I, J), J ≥ I, by diagonals J − I = 0, 1, …: consecutive tiles rarely share a block, so
  // the two threads seldom wait for the same block's selections.
  std::vector<std::pair<Index, Index>> tiles;
  for (Index d = 0; d < blocks; ++d)
    for (Index I = 0; I + d < blocks; ++I) tiles.emplace_back(I, I + d);
  std::vector<TopKSelector<Scalar>> selectors(static_cast<size_t>(p), TopKSelector<Scalar>(top));
  std::vector<std::mutex> block_locks(static_cast<size_t>(blocks));

  // Tiles go in waves of kWave, with an interruption point between them; a thread waits at most
  // one tile (~1 ms at k = 64) at the end of a wave.
  constexpr size_t kWave = 256;
  for (size_t wave = 0; wave < tiles.size(); wave += kWave) {
    interruption_point();
    const size_t wave_end = std::min(tiles.size(), wave + kWave);
#pragma omp parallel
    {
      Dense T(kTile, kTile);
      std::vector<Scalar> threshold(static_cast<size_t>(kTile));
#pragma omp for schedule(dynamic, 1)
      for (size_t t = wave; t < wave_end; ++t) {
        const auto [I, J] = tiles[t];
        const Index i0 = I * kTile, h = std::min(kTile, p - i0);
        const Index j0 = J * kTile, w = std::min(kTile, p - j0);
        auto S = T.topLeftCorner(h, w);
        gemm<Scalar>(true, false, h, w, k, Scalar(1), Ft.data() + i0 * k, k, Ft.data() + j0 * k, k, Scalar(0),
                     T.data(), kTile);
        const bool diagonal = I == J;
        if (!diagonal) {  // rows of block I: column j of S offers (j0 + j, S(i, j)) to row i0 + i
          std::lock_guard<std::mutex> lock(block_locks[static_cast<size_t>(I)]);
          Scalar* thr = threshold.data();
          for (Index i = 0; i < h; ++i) thr[i] = selectors[static_cast<size_t>(i0 + i)].threshold();
          for (Index j = 0; j < w; ++j) {
            const Scalar* column = S.col(j).data();
            for (Index c = 0; c < h; c += kChunk) {
              const Index e = std::min(c + kChunk, h);
              for (uint32_t m = at_least_mask(column + c, static_cast<const Scalar*>(thr + c), e - c); m != 0;
                   m &= m - 1) {
                const Index i = c + std::countr_zero(m);
                auto& selector = selectors[static_cast<size_t>(i0 + i)];
                selector.offer(j0 + j, column[i]);
                thr[i] = selector.threshold();
              }
            }
          }
        }
        {  // rows of block J, by symmetry: column j of S is row j0 + j's scores against block I. A
           // diagonal tile is symmetric, so this side alone covers it, reading each row's scores in
           // order while its selection is still empty (the first tile every row sees).
          std::lock_guard<std::mutex> lock(block_locks[static_cast<size_t>(J)]);
          for (Index j = 0; j < w; ++j) {
            const Scalar* column = S.col(j).data();
            auto& selector = selectors[static_cast<size_t>(j0 + j)];
            for (Index c = 0; c < h; c += kChunk) {
              const Index e = std::min(c + kChunk, h);
              for (uint32_t m = at_least_mask(column + c, selector.threshold(), e - c); m != 0; m &= m - 1) {
                const Index i = c + std::countr_zero(m);
                if (!diagonal || i != j || include_self) selector.offer(i0 + i, column[i]);
              }
            }
          }
        }
      }
    }
  }
  NeighborLists lists(static_cast<size_t>(p));
#pragma omp parallel for schedule(dynamic, 64)
  for (Index i = 0; i < p; ++i) lists[static_cast<size_t>(i)] = selectors[static_cast<size_t>(i)].take();
  return lists;
}

}  // namespace

NeighborLists all_items_top(const Matrix& F, Index top, bool include_self, Precision precision,
                            const Context& ctx) {
  top = checked_top(top, F.rows());
  const ThreadScope thread_scope(ctx);
  // Every row keeps a selection of up to 4 × top entries until the end, then its top list.
  const double entry = precision == Precision::kFloat32 ? 8.0 : 16.0;
  const double need = static_cast<double>(F.rows()) * static_cast<double>(top) * (4.0 * entry + sizeof(Neighbor));
  if (const auto shortfall = memory_shortfall(need)) {
    throw OutOfMemory(fmt::format("the top {} of all {} rows need about {} of memory, {}; use a "
                            "smaller --top or query a subset",
                            top, F.rows(), format_bytes(need), shortfall->more_than()));
  }
  return precision == Precision::kFloat32 ? all_items_top_impl<float>(F, top, include_self)
                                          : all_items_top_impl<double>(F, top, include_self);
}

namespace {

// Bytes of one block of double scores `width` wide for `queries` queries (for_each_score_block,
// recommend).
double score_block_bytes(size_t queries, Index width) {
  const double rows = std::min(static_cast<double>(queries), static_cast<double>(score_block_rows(width)));
  return 8.0 * rows * static_cast<double>(width);
}

// Fails fast where the lists asked for cannot fit: `queries` lists of up to `top` neighbours each,
// beside the `scoring` bytes their scores take meanwhile. all_items_top checks its own, larger
// need.
void check_lists_memory(size_t queries, Index top, double scoring) {
  const double lists = static_cast<double>(queries) *
                       (static_cast<double>(top) * sizeof(Neighbor) + sizeof(std::vector<Neighbor>));
  const double need = lists + scoring;
  if (need < 64e6) return;  // small searches (every single query) need no reading of the limits
  if (const auto shortfall = memory_shortfall(need)) {
    throw OutOfMemory(fmt::format("the top {} of {} queries need about {} of memory, {}; use a smaller --top or "
                                  "fewer queries",
                                  top, queries, format_bytes(need), shortfall->more_than()));
  }
}

// Single precision for queries of a factor space other than every row in order (which the
// all-items kernel serves): chunks of queries scored against every row by one single-threaded
// float GEMM each, then selected from (as doubles, which hold the float scores exactly). The
// chunks follow the query list, not the threads, so the lists do not depend on the thread count;
// like all_items_top's, the scores carry float rounding (~1e-7 relative), and the same query can
// differ in its last bits between batches.
NeighborLists float_factor_neighbors(const Matrix& F, const std::vector<Index>& queries, Index top,
                                     bool include_self) {
  const Index p = F.rows(), k = F.cols();
  const Index count = static_cast<Index>(queries.size());
  // Up to 64 queries per chunk (a few chunks for the threads to share even in a short list),
  // fewer where a chunk's p scores each would pass 32 MB; a thread's buffers are made when it
  // takes its first chunk, and sized to the list.
  const Index chunk = std::clamp<Index>((Index{32} << 20) / (4 * std::max<Index>(p, 1)), 1, 64);
  const Index width = std::min(chunk, count);
  const Index chunks = (count + chunk - 1) / chunk;
  // Beside the lists: the float copy of F, and each thread's chunk of scores and its row in double.
  check_lists_memory(queries.size(), top,
                     4.0 * static_cast<double>(p) * static_cast<double>(k) +
                         static_cast<double>(omp_get_max_threads()) * static_cast<double>(p) *
                             (4.0 * static_cast<double>(width) + 8.0));
  const MatrixF Ft = F.transpose().cast<float>();  // column i = f_i
  constexpr Index kWave = 64;  // chunks between interruption points
  NeighborLists lists(queries.size());
  for (Index wave = 0; wave < chunks; wave += kWave) {
    interruption_point();
    const Index wave_end = std::min(chunks, wave + kWave);
#pragma omp parallel num_threads(static_cast<int>(std::min<Index>(omp_get_max_threads(), wave_end - wave)))
    {
      MatrixF Q, S;
      std::vector<double> scores;
#pragma omp for schedule(dynamic, 1)
      for (Index c = wave; c < wave_end; ++c) {
        if (S.size() == 0) {
          Q.resize(k, width);
          S.resize(p, width);
          scores.resize(static_cast<size_t>(p));
        }
        const Index q0 = c * chunk, w = std::min(chunk, count - q0);
        for (Index r = 0; r < w; ++r) Q.col(r) = Ft.col(queries[static_cast<size_t>(q0 + r)]);
        gemm<float>(true, false, p, w, k, 1.0f, Ft.data(), k, Q.data(), k, 0.0f, S.data(), p);
        for (Index r = 0; r < w; ++r) {
          std::copy(S.col(r).data(), S.col(r).data() + p, scores.begin());
          const int self = static_cast<int>(queries[static_cast<size_t>(q0 + r)]);
          const std::span<const int> excluded = include_self ? std::span<const int>{} : std::span<const int>(&self, 1);
          lists[static_cast<size_t>(q0 + r)] = select_top_k(scores.data(), p, top, excluded);
        }
      }
    }
  }
  return lists;
}

}  // namespace

NeighborLists top_neighbors(const SimilaritySpace& space, const std::vector<Index>& queries, Index top,
                            bool include_self, const Context& ctx, Precision precision) {
  const Index size = space.size();
  top = checked_top(top, size);
  const ThreadScope thread_scope(ctx);
  for (Index q : queries) {
    if (q < 0 || q >= size) throw InvalidArgument(fmt::format("query index {} outside [0, {})", q, size));
  }
  if (const Matrix* F = space.dense_factors(); F != nullptr && all_in_order(queries, size)) {
    return all_items_top(*F, top, include_self, precision, ctx);
  }
  if (precision == Precision::kFloat32) {
    const Matrix* F = space.dense_factors();
    if (F == nullptr) {
      throw InvalidArgument("single precision needs a space with factors (dot, cosine or projected on an embedding "
                            "model); this one has none");
    }
    return float_factor_neighbors(*F, queries, top, include_self);
  }
  check_lists_memory(queries.size(), top, score_block_bytes(queries.size(), size));
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

NeighborLists recommend(const Model& model, const SparseView& Xq, const std::vector<Index>& rows,
                        Index top, bool exclude_seen, const Context& ctx) {
  const Index p = model.n_items();
  top = checked_top(top, p);
  const ThreadScope thread_scope(ctx);
  check_lists_memory(rows.size(), top, score_block_bytes(rows.size(), p));
  NeighborLists lists(rows.size());
  const auto step = static_cast<size_t>(score_block_rows(p));
  for (size_t first = 0; first < rows.size(); first += step) {
    interruption_point();
    const size_t count = std::min(step, rows.size() - first);
    SparseMatrix block(static_cast<Index>(count), Xq.cols());
    std::vector<Eigen::Triplet<double, int>> entries;
    for (size_t r = 0; r < count; ++r) {
      for (SparseView::InnerIterator it(Xq, rows[first + r]); it; ++it) {
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
