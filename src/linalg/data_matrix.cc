#include "linsim/linalg/data_matrix.h"

#include <fmt/format.h>

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <mutex>
#include <type_traits>
#include <vector>

#include "core/counting_scatter.h"
#include "linalg/gemm.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/linalg/gram.h"

namespace linsim {

DataMatrix::DataMatrix(const SparseView& Y, Vector center) : Y_(Y), m_(std::move(center)) {
  if (m_.size() != 0 && m_.size() != Y.cols()) {
    throw InvalidArgument(fmt::format("column centre has {} entries for {} columns", m_.size(), Y.cols()));
  }
  colsum_ = Vector::Zero(Y.cols());
  // Y's entries are [outer[0], outer[n]) of its arrays: a view of some rows of a matrix
  // (middleRows) keeps the whole matrix's arrays.
  const Index first = Y.outerIndexPtr()[0];
  const double* value = Y.valuePtr() + first;
  // One pass by rows, in the arrays' order. Rows whose column indices strictly increase (every
  // matrix the readers and the Python package make; Eigen's own only by convention) never name an
  // item twice, which fused_gram_rows relies on to load several accumulator rows before storing any.
  const int* outer = Y.outerIndexPtr();
  unit_values_ = true;
  distinct_in_rows_ = true;
  for (Index r = 0; r < Y.rows(); ++r) {
    for (int q = outer[r]; q < outer[r + 1]; ++q) {
      const int j = Y.innerIndexPtr()[q];
      colsum_(j) += Y.valuePtr()[q];
      unit_values_ = unit_values_ && Y.valuePtr()[q] == 1.0;
      distinct_in_rows_ = distinct_in_rows_ && (q == outer[r] || j > Y.innerIndexPtr()[q - 1]);
    }
  }
  y2_ = Eigen::Map<const Vector>(value, Y.nonZeros()).squaredNorm();  // ‖Y‖²_F, asked for per objective
  const double cells = static_cast<double>(Y.rows()) * static_cast<double>(Y.cols());
  prefer_dense_ = cells > 0 && static_cast<double>(Y.nonZeros()) >= 0.05 * cells && 8.0 * cells <= 2.0 * (1 << 30);
}

const Matrix& DataMatrix::dense() const {
  const std::lock_guard<std::mutex> hold(*build_lock_);
  if (!have_dense_) {
    dense_ = Matrix::Zero(Y_.rows(), Y_.cols());
    for (Index u = 0; u < Y_.rows(); ++u) {
      for (SparseView::InnerIterator it(Y_, u); it; ++it) dense_(u, it.col()) += it.value();  // repeats summed
    }
    have_dense_ = true;
  }
  return dense_;
}

namespace {

constexpr Index kRowBlock = 256;

// One output row of S M for a column strip [c0, c0 + W) of a row-major M with leading
// dimension ld: the strip's sums stay in registers across the row's nonzeros (W doubles are W/8
// 512-bit registers), so each nonzero costs one gather of W contiguous doubles and W FMAs.
// Strips wider than 16 spill registers and run slower (measured: 8.8 vs 4.4 ms per vector).
//
// The gathered rows are random, so the kernel asks for the row kGatherAhead nonzeros further on
// while it sums this one — further on in the run of rows its caller visits, not only in this row:
// `limit` is the end of that run's nonzeros (consecutive rows, so consecutive nonzeros). On the
// two-pass Gram product of 1,000,000 × 200,000 with 50M nonzeros and float blocks of 16
// (BM_GramBlockWide, whose second pass gathers from a 64 MB block), 228–318 ms per product
// against 315–408 ms with 16 ahead inside each row only (three runs of three, alternated, AMD
// EPYC); 16 ahead across rows: 309–447 ms, 32: 243–355 ms. Products whose blocks sit in cache
// gain less: X M with 100 and 256 columns at 138,000 × 20,000 (BM_SparseTimes, several strips
// per block) 138–142 and 705–746 ms against 142–191 and 736–1,073 ms row by row; a single vector's
// two passes (BM_GramBlock/1/0) 21.3–22.2 against 23.2–23.8 ms (three alternated runs).
constexpr Index kGatherAhead = 64;

// M and out may be float (the solver's single-precision blocks): the sums are double either way.
// `shift` (or null) is subtracted from the sums before they are stored. With `kUnit` every value
// is 1 and the values are not read: the same sums (1 · m rounds to m), without streaming 8 bytes
// per nonzero beside the 4 of its index.
template <int W, bool kUnit, typename In, typename OutScalar>
void strip_row(const int* inner, const double* value, Index begin, Index end, Index limit, const In* M, Index ld,
               OutScalar* out, Index out_stride, const double* shift) {
  double acc[W] = {};
  for (Index q = begin; q < end; ++q) {
    if (q + kGatherAhead < limit) {
      const char* row = reinterpret_cast<const char*>(M + static_cast<Index>(inner[q + kGatherAhead]) * ld);
      for (size_t line = 0; line < W * sizeof(In); line += 64) __builtin_prefetch(row + line);
    }
    const In* m = M + static_cast<Index>(inner[q]) * ld;
    if constexpr (kUnit) {
#pragma omp simd
      for (int c = 0; c < W; ++c) acc[c] += static_cast<double>(m[c]);
    } else {
      const double v = value[q];
#pragma omp simd
      for (int c = 0; c < W; ++c) acc[c] += v * static_cast<double>(m[c]);
    }
  }
  if (shift != nullptr) {
    for (int c = 0; c < W; ++c) acc[c] -= shift[c];
  }
  for (int c = 0; c < W; ++c) out[c * out_stride] = static_cast<OutScalar>(acc[c]);
}

// out = S M for a row-major sparse S and row-major M, by blocks of kRowBlock rows over the threads
// and within a block strip by strip (16, 8, 4 and single columns) over its rows, so that a strip's
// gathers run through the block's nonzeros in order and prefetch across rows; the order of each
// entry's sum never depends on the thread count. Out is row-major (the iterative solvers' blocks)
// or column-major (a final n × k product, written in place rather than converted from a
// row-major copy). `shift` (k entries, or null) is subtracted from every output row in double,
// before the result is stored (which may round it to float). A null `value` means every value is 1
// (binarised data), whose values are then never read. `use` is what the result is to the huge-page
// advice: gathered where a second pass reads its rows at random (X M of a two-pass product).
// sparse_times_into writes the same into `out`, already rows × M.cols().
template <typename Out, typename In>
void sparse_times_into(const int* outer, const int* inner, const double* value, Index rows, const In& M, Out& out,
                       const double* shift = nullptr) {
  static_assert(In::IsRowMajor);
  using Scalar = typename In::Scalar;
  const Index k = M.cols();
  // The strips' widths, left to right: 16 while 16 columns remain, then 8, 4 and single ones.
  const auto width_at = [k](Index c) -> Index { return k - c >= 16 ? 16 : (k - c >= 8 ? 8 : (k - c >= 4 ? 4 : 1)); };
  // Wider than one strip, M is read strip by strip: each strip's gathers take W of every row's k
  // entries, rows spread over all of M. Copied strip-major first (the strip at column c holds its W
  // columns as rows of W from c · m on), a strip's gathers come from one contiguous m × W table
  // (2.5 MB at m = 20,000 and W = 16, against 16 MB for all of a 100-column M): whole cache lines
  // per row, and a few hundred pages instead of thousands. BM_SparseTimes (X M on (a)'s shape):
  // 157–206 against 222–316 ms at 100 columns, 881–993 against 1,219–1,352 ms at 256 (three
  // alternated runs). Only where a strip's table stays in the cache (kPanelBytes) and the gathers
  // outweigh the copy (nnz ≥ kPanelUses · m): Xᵀ R through the column copy, whose 138,000 × 16
  // tables do not, measured slower with it (BM_SparseTransposeTimes). The sums are the same bits:
  // only where M's numbers sit changes.
  constexpr std::size_t kPanelBytes = std::size_t{8} << 20;
  constexpr Index kPanelUses = 8;
  const Index m = M.rows();
  const Index nnz = static_cast<Index>(outer[rows]) - static_cast<Index>(outer[0]);
  Scalar* panels = nullptr;
  std::unique_ptr<Scalar, void (*)(void*)> panel_store(nullptr, std::free);
  if (k > 16 && m > 0 && static_cast<std::size_t>(m) * 16 * sizeof(Scalar) <= kPanelBytes && nnz >= kPanelUses * m) {
    const std::size_t bytes = (static_cast<std::size_t>(m * k) * sizeof(Scalar) + 63) / 64 * 64;
    panel_store.reset(static_cast<Scalar*>(std::aligned_alloc(64, bytes)));
    if (!panel_store) throw std::bad_alloc();
    panels = panel_store.get();
    prefer_huge_pages(panels, bytes, PageUse::kGathered);
#pragma omp parallel for schedule(static)
    for (Index r0 = 0; r0 < m; r0 += 256) {
      const Index r1 = std::min(m, r0 + 256);
      for (Index c = 0; c < k;) {
        const Index w = width_at(c);
        Scalar* to = panels + c * m;
        for (Index r = r0; r < r1; ++r) {
          const Scalar* from = M.data() + r * k + c;
          for (Index j = 0; j < w; ++j) to[r * w + j] = from[j];
        }
        c += w;
      }
    }
  }
  const Index row_step = Out::IsRowMajor ? k : 1;
  const Index column_step = Out::IsRowMajor ? 1 : rows;
  const Index blocks = (rows + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index r0 = blk * kRowBlock, r1 = std::min(rows, r0 + kRowBlock);
    const Index limit = outer[r1];
    auto strips = [&](auto width, Index c) {
      constexpr int W = decltype(width)::value;
      const double* s = shift != nullptr ? shift + c : nullptr;
      auto rows_of = [&](auto unit) {
        for (Index r = r0; r < r1; ++r) {
          strip_row<W, decltype(unit)::value>(inner, value, outer[r], outer[r + 1], limit,
                                              panels != nullptr ? panels + c * m : M.data() + c, panels != nullptr ? W : k,
                                              out.data() + r * row_step + c * column_step, column_step, s);
        }
      };
      if (value == nullptr) {
        rows_of(std::true_type{});
      } else {
        rows_of(std::false_type{});
      }
    };
    Index c = 0;
    for (; c + 16 <= k; c += 16) strips(std::integral_constant<int, 16>{}, c);
    for (; c + 8 <= k; c += 8) strips(std::integral_constant<int, 8>{}, c);
    for (; c + 4 <= k; c += 4) strips(std::integral_constant<int, 4>{}, c);
    for (; c < k; ++c) strips(std::integral_constant<int, 1>{}, c);
  }
}
template <typename Out, typename In>
Out sparse_times(const int* outer, const int* inner, const double* value, Index rows, const In& M, PageUse use,
                 const double* shift = nullptr) {
  Out out(rows, M.cols());
  prefer_huge_pages(out, use);
  sparse_times_into(outer, inner, value, rows, M, out, shift);
  return out;
}

// Columns [c, c + W) of one item range of Xᵀ R, scattered (DataMatrix::item_ranges_locked): for each
// user u in order, R's W entries of row u, converted to double once, are added (times the values)
// into the result's rows of the range's items in row u. A range's rows of the result (out, p × ld,
// row-major, zeroed) stay in the cache, where gathering R's rows item by item through the column
// copy takes each from memory once R is beyond the cache; each result row is prefetched
// kScatterAhead entries ahead. Every item gets its terms in the order of the users, as the column
// copy's sum (strip_row) takes them, by the same operations (this file is compiled with
// -ffp-contract=off: GCC fused v · x into the sum in some strip widths and not in others): the
// same bits. `start` has n + 1 entries; a null `value` means every value is 1.
// On (d)'s shape (1,000,000 × 200,000, 50M nonzeros, float R of 16 columns; bench/README.md, (d))
// the pass took 85–110 ms in 4 to 12 ranges against 190–250 ms through the column copy (side
// harness, AMD EPYC VM); 32 ahead measured as well as 16 and 64.
constexpr Index kScatterAhead = 32;

template <int W, bool kUnit, typename In>
void scatter_range(const int* start, const int* index, const double* value, Index n, const In* R, Index ld, Index c,
                   double* out) {
  const Index end = start[n];
  for (Index u = 0; u < n; ++u) {
    const Index q0 = start[u], q1 = start[u + 1];
    if (q0 == q1) continue;
    double t[W];
    const In* r = R + u * ld + c;
    for (int i = 0; i < W; ++i) t[i] = static_cast<double>(r[i]);
    for (Index q = q0; q < q1; ++q) {
      if (q + kScatterAhead < end) {
        const char* ahead = reinterpret_cast<const char*>(out + static_cast<Index>(index[q + kScatterAhead]) * ld + c);
        for (size_t line = 0; line < W * sizeof(double); line += 64) __builtin_prefetch(ahead + line, 1);
        __builtin_prefetch(ahead + W * sizeof(double) - 1, 1);
      }
      double* z = out + static_cast<Index>(index[q]) * ld + c;
      if constexpr (kUnit) {
#pragma omp simd
        for (int i = 0; i < W; ++i) z[i] += t[i];
      } else {
        const double v = value[q];
#pragma omp simd
        for (int i = 0; i < W; ++i) z[i] += v * t[i];
      }
    }
  }
}

// `m` resized to rows × cols, the huge-page advice given where that took a fresh allocation.
template <typename Dense>
Dense& sized(Dense& m, Index rows, Index cols, PageUse use) {
  if (m.rows() == rows && m.cols() == cols) return m;
  const bool fresh = m.size() != rows * cols;
  m.resize(rows, cols);
  if (fresh) prefer_huge_pages(m, use);
  return m;
}

// product(B) for a column-major M given as row-major double blocks B (the layout the products
// read: the sparse kernels gather rows of it): a wide M — EASE's p × p weights, in double or float —
// is converted at most 256 columns at a time, never as a whole second copy. Each output entry is
// the same sum as with M converted whole.
template <typename Out, typename In, typename Product>
Out in_row_major_blocks(const In& M, Index out_rows, const Product& product) {
  constexpr Index kColumnBlock = 256;
  if (M.cols() <= kColumnBlock) return product(RowMatrix(M.template cast<double>()));
  Out out(out_rows, M.cols());
  for (Index j0 = 0; j0 < M.cols(); j0 += kColumnBlock) {
    const Index w = std::min(kColumnBlock, M.cols() - j0);
    out.middleCols(j0, w) = product(RowMatrix(M.middleCols(j0, w).template cast<double>()));
  }
  return out;
}

// The one pass prefetches the gathered row and the accumulator row 16 nonzeros ahead inside a row:
// its blocks sit in cache, and prefetching across rows, or further ahead, measured the same
// (BM_GramBlock/8/0 and /16/0, alternated runs).
constexpr int kPrefetchAhead = 16;

// Where every row's column indices strictly increase (DataMatrix's distinct_in_rows_), so that no
// row names an item twice, the one pass adds t to its accumulator rows eight at a time, all eight
// loaded before any is stored. One at a time, each load of the scatter waits until the store
// before it is known to write another row; grouped, BM_GramBlock/8/0 took 12.0–13.1 ms against
// 14.8–14.9 ms, and on (a)'s data 1.68–1.81 against 1.79–2.07 ms per vector (bench/README.md;
// groups of 2, 4 and 16 measured slower than 8). Every row still gets its additions in row
// order, so the sums are the same bits. Measured with AVX-512 only, where eight rows of 16
// doubles fit the 32 vector registers; other builds keep one row at a time (a group of 1).
#if defined(__AVX512F__)
constexpr int kScatterGroup = 8;
#else
constexpr int kScatterGroup = 1;
#endif

// The Gram product in one pass over Y by rows (users): for each row u, t = Y_u M − s is formed in
// registers (W sums of a column strip, as strip_row does), then added into the accumulator's rows
// of the row's items, acc_j += y_uj t. Each nonzero is read once instead of once in a CSR pass
// for X_w M and once more in a CSC pass for X_wᵀ(X_w M), the n × b intermediate never exists, and
// the rows gathered (M) and scattered (acc) are p × b blocks that stay in the core's cache
// (MATH.md M1: the operator G = X_wᵀX_w of the eigen-solvers). With `kUnit` every value is 1
// (binarised data): the values array is not read at all. `tsum` (or null) collects Σ_u t, the
// column sums of X_w M, for the centring's correction. Sums in double, whatever In is.
template <int W, bool kUnit, typename In>
void fused_gram_rows(const int* outer, const int* inner, const double* value, Index r0, Index r1, const In* M,
                     Index ld, double* acc, const double* shift, double* tsum, bool distinct) {
  // The sums are GCC/Clang vectors of at most 8 doubles (one 512-bit register; a wider vector
  // type would live on the stack), two sets of them for alternate nonzeros so that consecutive
  // additions do not wait for each other.
  constexpr int L = W >= 8 ? 8 : W;
  constexpr int kPieces = W / L;
  typedef double V __attribute__((vector_size(8 * L)));
  typedef In VIn __attribute__((vector_size(sizeof(In) * L)));
  auto load = [](const In* from) {
    VIn x;
    __builtin_memcpy(&x, from, sizeof x);
    return __builtin_convertvector(x, V);
  };
  for (Index r = r0; r < r1; ++r) {
    const int begin = outer[r], end = outer[r + 1];
    V even[kPieces], odd[kPieces];
#pragma GCC unroll 4
    for (int v = 0; v < kPieces; ++v) even[v] = odd[v] = V{};
    auto prefetch = [&](int q) {  // the gathered row and the accumulator row it will update
      const Index at = static_cast<Index>(inner[q]) * ld;
      for (size_t line = 0; line < W * sizeof(In); line += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(M + at) + line);
      for (size_t line = 0; line < W * sizeof(double); line += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(acc + at) + line, 1);
    };
    int q = begin;
    for (; q + 1 < end; q += 2) {
      if (q < end - kPrefetchAhead - 1) {
        prefetch(q + kPrefetchAhead);
        prefetch(q + kPrefetchAhead + 1);
      }
      const In* a = M + static_cast<Index>(inner[q]) * ld;
      const In* b = M + static_cast<Index>(inner[q + 1]) * ld;
      const double va = kUnit ? 1.0 : value[q], vb = kUnit ? 1.0 : value[q + 1];
#pragma GCC unroll 4
      for (int v = 0; v < kPieces; ++v) {
        if constexpr (kUnit) {
          even[v] += load(a + v * L);
          odd[v] += load(b + v * L);
        } else {
          even[v] += va * load(a + v * L);
          odd[v] += vb * load(b + v * L);
        }
      }
    }
    if (q < end) {
      const In* a = M + static_cast<Index>(inner[q]) * ld;
      const double va = kUnit ? 1.0 : value[q];
#pragma GCC unroll 4
      for (int v = 0; v < kPieces; ++v) even[v] += va * load(a + v * L);
    }
    V t[kPieces];
#pragma GCC unroll 4
    for (int v = 0; v < kPieces; ++v) t[v] = even[v] + odd[v];
    if (shift != nullptr) {
#pragma GCC unroll 4
      for (int v = 0; v < kPieces; ++v) {
        V s, sum;
        __builtin_memcpy(&s, shift + v * L, sizeof s);
        __builtin_memcpy(&sum, tsum + v * L, sizeof sum);
        t[v] -= s;
        sum += t[v];
        __builtin_memcpy(tsum + v * L, &sum, sizeof sum);
      }
    }
    // t into the accumulator rows of nonzeros q0 … q0 + G − 1, all G rows loaded before any is
    // stored (kScatterGroup).
    auto add_rows = [&](auto group, int q0) {
      constexpr int G = decltype(group)::value;
      double* a[G];
      V x[G][kPieces];
#pragma GCC unroll 8
      for (int i = 0; i < G; ++i) {
        a[i] = acc + static_cast<Index>(inner[q0 + i]) * ld;
#pragma GCC unroll 4
        for (int v = 0; v < kPieces; ++v) __builtin_memcpy(&x[i][v], a[i] + v * L, sizeof(V));
      }
#pragma GCC unroll 8
      for (int i = 0; i < G; ++i) {
        const double va = kUnit ? 1.0 : value[q0 + i];
#pragma GCC unroll 4
        for (int v = 0; v < kPieces; ++v) {
          if constexpr (kUnit) {
            x[i][v] += t[v];
          } else {
            x[i][v] += va * t[v];
          }
          __builtin_memcpy(a[i] + v * L, &x[i][v], sizeof(V));
        }
      }
    };
    q = begin;
    if (distinct) {
      for (; q + kScatterGroup <= end; q += kScatterGroup) add_rows(std::integral_constant<int, kScatterGroup>{}, q);
    }
    for (; q < end; ++q) add_rows(std::integral_constant<int, 1>{}, q);
  }
}

// One chunk of rows through fused_gram_rows, strip by strip (16, 8, 4, 1 columns): acc and tsum
// are the chunk's own, M and acc have b columns.
template <bool kUnit, typename In>
void fused_gram_chunk(const int* outer, const int* inner, const double* value, Index r0, Index r1, const In* M,
                      Index b, double* acc, const double* shift, double* tsum, bool distinct) {
  // Rows of a strip are visited per user, so a user's indices are read from cache after the
  // first strip.
  constexpr Index kRowsPerPass = 64;
  for (Index s0 = r0; s0 < r1; s0 += kRowsPerPass) {
    const Index s1 = std::min(r1, s0 + kRowsPerPass);
    Index c = 0;
    auto at = [&](const double* base, Index c0) { return base != nullptr ? base + c0 : nullptr; };
    auto sum_at = [&](Index c0) { return shift != nullptr ? tsum + c0 : nullptr; };
    for (; c + 16 <= b; c += 16)
      fused_gram_rows<16, kUnit>(outer, inner, value, s0, s1, M + c, b, acc + c, at(shift, c), sum_at(c),
                                    distinct);
    for (; c + 8 <= b; c += 8)
      fused_gram_rows<8, kUnit>(outer, inner, value, s0, s1, M + c, b, acc + c, at(shift, c), sum_at(c),
                                    distinct);
    for (; c + 4 <= b; c += 4)
      fused_gram_rows<4, kUnit>(outer, inner, value, s0, s1, M + c, b, acc + c, at(shift, c), sum_at(c),
                                    distinct);
    for (; c < b; ++c)
      fused_gram_rows<1, kUnit>(outer, inner, value, s0, s1, M + c, b, acc + c, at(shift, c), sum_at(c),
                                    distinct);
  }
}

// C = op(D) B on the dense copy D (n × p, column-major): op(D) = D, or Dᵀ when `transposed`; B
// is op(D)'s columns × c, column-major or row-major (the column-major c × rows matrix Bᵀ); C
// likewise. Fixed blocks of kRowBlock rows of C, each one single-threaded GEMM (linalg/gemm.h:
// OpenBLAS's where configured), so the arithmetic is the same for any thread count; neither
// operand is copied into another layout (the GEMM is told which it gets).
void dense_product(const Matrix& D, bool transposed, const double* B, bool b_row_major, Index c, double* C,
                   bool c_row_major) {
  const Index n = D.rows();
  const Index out_rows = transposed ? D.cols() : n;
  const Index inner = transposed ? n : D.cols();
  if (out_rows == 0 || c == 0) return;
  const Index ldb = b_row_major ? c : inner;
#pragma omp parallel for schedule(dynamic, 1)
  for (Index r0 = 0; r0 < out_rows; r0 += kRowBlock) {
    const Index h = std::min(kRowBlock, out_rows - r0);
    // op(D)'s rows [r0, r0 + h): D's rows (h × p) or, transposed, D's columns (n × h).
    const double* A = transposed ? D.data() + r0 * n : D.data() + r0;
    if (c_row_major) {  // Cᵀ's columns [r0, r0 + h) = op(B)ᵀ op(A)ᵀ
      gemm<double>(!b_row_major, !transposed, c, h, inner, 1.0, B, ldb, A, n, 0.0, C + r0 * c, c);
    } else {
      gemm<double>(transposed, b_row_major, h, c, inner, 1.0, A, n, B, ldb, 0.0, C + r0, out_rows);
    }
  }
}

}  // namespace

const ColumnCopy& DataMatrix::csc() const {
  const std::lock_guard<std::mutex> hold(*build_lock_);
  return csc_locked();
}

const ColumnCopy& DataMatrix::csc_locked() const {
  if (!have_csc_) {
    // Transposed by counting, into arrays advised to take huge pages before they are written:
    // the copy of 50M nonzeros is 600 MB (200 MB without values), ~150,000 first touches of 4 KiB
    // pages otherwise, and the two-pass Gram product streams it once per block. Rows stay in order within a column.
    // The rows are cut into ranges of about equal nonzeros, one per thread: each counts its
    // range's entries per column, and scatters them from where the ranges before it end in that
    // column — the same arrays as one pass in row order, on any number of threads, while the
    // scattered writes share the cores (1M × 200,000 with 50M nonzeros, BM_ColumnCopy and (d) of
    // bench/README.md, with values: 0.64–1.27 s on two threads against 1.05–4.22 s on one).
    // Binarised data gets no values: the kernels read none (two thirds of the copy's bytes, and
    // of the second pass's stream: bench/README.md, (d)).
    const Index n = Y_.rows(), p = Y_.cols();
    const int* outer = Y_.outerIndexPtr();
    const int first = outer[0];  // a view of some rows keeps the whole matrix's arrays
    const int* inner = Y_.innerIndexPtr();
    const double* value = Y_.valuePtr();
    const Index nnz = outer[n] - first;
    Yc_.rows_ = n;
    Yc_.start_.resize(p + 1);
    Yc_.index_.resize(nnz);
    Yc_.value_.resize(unit_values_ ? 0 : nnz);
    prefer_huge_pages(Yc_.index_, PageUse::kBulk);  // streamed by the second pass
    prefer_huge_pages(Yc_.value_, PageUse::kBulk);
    // At most 8 ranges, and none where a range's counts (p ints) would outweigh its nonzeros.
    const int ranges = static_cast<int>(std::clamp<Index>(std::min<Index>(omp_get_max_threads(), nnz / std::max<Index>(p, 1)), 1, 8));
    std::vector<Index> row_from(static_cast<std::size_t>(ranges) + 1, n);  // range t: rows [row_from[t], row_from[t + 1])
    row_from[0] = 0;
    for (int t = 1; t < ranges; ++t) {
      const std::int64_t target = first + static_cast<std::int64_t>(nnz) * t / ranges;
      row_from[static_cast<std::size_t>(t)] = std::lower_bound(outer, outer + n, target) - outer;
    }
    int* rows_of = Yc_.index_.data();
    double* values_of = unit_values_ ? nullptr : Yc_.value_.data();
    detail::counting_scatter(
        ranges, p, Yc_.start_.data(),
        [&](int t, int* count) {
          for (int q = outer[row_from[t]]; q < outer[row_from[t + 1]]; ++q) ++count[inner[q]];
        },
        [&](int t, int* next) {
          for (Index u = row_from[t]; u < row_from[t + 1]; ++u) {
            for (int q = outer[u]; q < outer[u + 1]; ++q) {
              const int at = next[inner[q]]++;
              rows_of[at] = static_cast<int>(u);
              if (values_of != nullptr) values_of[at] = value[q];
            }
          }
        });
    have_csc_ = true;
  }
  return Yc_;
}

const DataMatrix::ItemRanges& DataMatrix::item_ranges_locked() const {
  if (!have_ranges_) {
    const Index n = rows(), p = cols();
    const int* outer = Y_.outerIndexPtr();
    const int* inner = Y_.innerIndexPtr();
    const double* value = Y_.valuePtr();
    const Index nnz = outer[n] - outer[0];  // a view of some rows keeps the whole matrix's arrays
    const Index count = item_range_count(p);
    // The ranges' first items: about nnz / count entries per range, by the items' entry counts.
    std::vector<Index> before(static_cast<std::size_t>(p) + 1, 0);  // entries of the items before j
    for (int q = outer[0]; q < outer[n]; ++q) ++before[static_cast<std::size_t>(inner[q]) + 1];
    for (Index j = 0; j < p; ++j) before[static_cast<std::size_t>(j) + 1] += before[static_cast<std::size_t>(j)];
    ItemRanges& g = ranges_;
    g.first_item.assign(static_cast<std::size_t>(count) + 1, p);
    g.first_item[0] = 0;
    for (Index r = 1; r < count; ++r) {
      g.first_item[static_cast<std::size_t>(r)] =
          std::lower_bound(before.begin(), before.end(), nnz * r / count) - before.begin();
      g.first_item[static_cast<std::size_t>(r)] = std::clamp(g.first_item[static_cast<std::size_t>(r)],
                                                             g.first_item[static_cast<std::size_t>(r - 1)], p);
    }
    // The entries keyed by (range r, row u), key r n + u, counted, then copied in key order, each
    // key's in the row's order (a repeated item's entries stay in order too): two passes over the
    // rows, a table of the items' ranges sending each entry to its range. A key belongs to one row,
    // so threads split by rows never share one: the counts go straight into `start`, without the
    // per-thread counts of counting_scatter (one int per key and thread, 32 MB each on (d)).
    // (Before, every range scanned all rows, twice: 16 passes over the 200 MB of indices on (d).)
    g.start.resize(count * n + 1);
    g.index.resize(nnz);
    g.value.resize(unit_values_ ? 0 : nnz);
    prefer_huge_pages(g.index, PageUse::kBulk);  // streamed by every product
    prefer_huge_pages(g.value, PageUse::kBulk);
    std::vector<int> range_of(static_cast<std::size_t>(p));
    for (Index r = 0; r < count; ++r) {
      std::fill(range_of.begin() + g.first_item[static_cast<std::size_t>(r)],
                range_of.begin() + g.first_item[static_cast<std::size_t>(r) + 1], static_cast<int>(r));
    }
    int* start = g.start.data();
#pragma omp parallel
    {
      std::vector<int> here(static_cast<std::size_t>(count));
#pragma omp for schedule(static)
      for (Index u = 0; u < n; ++u) {
        std::fill(here.begin(), here.end(), 0);
        for (int q = outer[u]; q < outer[u + 1]; ++q) ++here[static_cast<std::size_t>(range_of[inner[q]])];
        for (Index r = 0; r < count; ++r) start[r * n + u + 1] = here[static_cast<std::size_t>(r)];
      }
    }
    start[0] = 0;
    for (Index key = 0; key < count * n; ++key) start[key + 1] += start[key];
#pragma omp parallel
    {
      std::vector<int> at(static_cast<std::size_t>(count));
#pragma omp for schedule(static)
      for (Index u = 0; u < n; ++u) {
        for (Index r = 0; r < count; ++r) at[static_cast<std::size_t>(r)] = start[r * n + u];
        for (int q = outer[u]; q < outer[u + 1]; ++q) {
          const int j = inner[q];
          const int to = at[static_cast<std::size_t>(range_of[j])]++;
          g.index[to] = j;
          if (!unit_values_) g.value[to] = value[q];
        }
      }
    }
    have_ranges_ = true;
  }
  return ranges_;
}

template <typename Out, typename In>
Out DataMatrix::sparse_transpose_times(const In& R) const {
  const Index n = rows(), p = cols(), b = R.cols();
  // One transposed copy per object: the one already built, whichever products it served (both
  // routes give the same bits), else the one the shape favours, chosen and built under the lock
  // so that threads asking at once agree (transposed_copy_bytes counts one).
  const ColumnCopy* C = nullptr;
  const ItemRanges* ranges = nullptr;
  {
    const std::lock_guard<std::mutex> hold(*build_lock_);
    if (have_ranges_ || (!have_csc_ && transpose_by_item_ranges(n, p, Y_.nonZeros(), b, sizeof(typename In::Scalar)))) {
      ranges = &item_ranges_locked();
    } else {
      C = &csc_locked();
    }
  }
  if (C != nullptr) {
    // The CSC arrays read as a row-major Yᵀ: one output row per item, gathering R's rows.
    return sparse_times<Out>(C->outerIndexPtr(), C->innerIndexPtr(), C->valuePtr(), p, R, PageUse::kBulk);
  }
  const ItemRanges& g = *ranges;
  const Index count = static_cast<Index>(g.first_item.size()) - 1;
  RowMatrix out(p, b);
  prefer_huge_pages(out, PageUse::kBulk);
  const double* value = unit_values_ ? nullptr : g.value.data();
#pragma omp parallel for schedule(dynamic, 1)
  for (Index r = 0; r < count; ++r) {
    const Index j0 = g.first_item[static_cast<std::size_t>(r)], j1 = g.first_item[static_cast<std::size_t>(r) + 1];
    std::fill(out.data() + j0 * b, out.data() + j1 * b, 0.0);
    const int* start = g.start.data() + r * n;  // n + 1 entries: the last is the next range's first
    auto strips = [&](auto width, Index c) {
      constexpr int W = decltype(width)::value;
      if (value == nullptr) {
        scatter_range<W, true>(start, g.index.data(), nullptr, n, R.data(), b, c, out.data());
      } else {
        scatter_range<W, false>(start, g.index.data(), value, n, R.data(), b, c, out.data());
      }
    };
    Index c = 0;
    for (; c + 16 <= b; c += 16) strips(std::integral_constant<int, 16>{}, c);
    for (; c + 8 <= b; c += 8) strips(std::integral_constant<int, 8>{}, c);
    for (; c + 4 <= b; c += 4) strips(std::integral_constant<int, 4>{}, c);
    for (; c < b; ++c) strips(std::integral_constant<int, 1>{}, c);
  }
  if constexpr (Out::IsRowMajor) {
    return out;
  } else {
    return Out(out);
  }
}

template <typename Out>
Out DataMatrix::times_impl(const RowMatrix& M) const {
  if (M.rows() != cols()) {
    throw InvalidArgument(fmt::format("X M: M has {} rows for {} columns of X", M.rows(), cols()));
  }
  Out out;
  if (prefer_dense_) {
    out.resize(rows(), M.cols());
    dense_product(dense(), false, M.data(), true, M.cols(), out.data(), Out::IsRowMajor);
  } else {
    // A row-major X M is the first pass of a two-pass product, whose second gathers its rows; a
    // column-major one is a final n × k product, written once.
    out = sparse_times<Out>(Y_.outerIndexPtr(), Y_.innerIndexPtr(), row_values(), rows(), M,
                            Out::IsRowMajor ? PageUse::kGathered : PageUse::kBulk);
  }
  if (centered()) out.rowwise() -= (m_.transpose() * M);
  return out;
}

template <typename Out>
Out DataMatrix::transpose_times_impl(const RowMatrix& R) const {
  if (R.rows() != rows()) {
    throw InvalidArgument(fmt::format("Xᵀ R: R has {} rows for {} rows of X", R.rows(), rows()));
  }
  Out out;
  if (prefer_dense_) {
    out.resize(cols(), R.cols());
    dense_product(dense(), true, R.data(), true, R.cols(), out.data(), Out::IsRowMajor);
  } else {
    out = sparse_transpose_times<Out>(R);
  }
  if (centered()) out.noalias() -= m_ * R.colwise().sum();
  return out;
}

Matrix DataMatrix::times(const Matrix& M) const {
  if (M.rows() != cols()) {
    throw InvalidArgument(fmt::format("X M: M has {} rows for {} columns of X", M.rows(), cols()));
  }
  if (prefer_dense_) {  // the GEMM reads M as it is: no row-major copy
    Matrix out(rows(), M.cols());
    dense_product(dense(), false, M.data(), false, M.cols(), out.data(), false);
    if (centered()) out.rowwise() -= (m_.transpose() * M);
    return out;
  }
  return in_row_major_blocks<Matrix>(M, rows(), [&](const RowMatrix& B) { return times_impl<Matrix>(B); });
}
Matrix DataMatrix::times(const MatrixF& M) const {
  return in_row_major_blocks<Matrix>(M, rows(), [&](const RowMatrix& B) { return times_impl<Matrix>(B); });
}
Matrix DataMatrix::transpose_times(const Matrix& R) const {
  if (R.rows() != rows()) {
    throw InvalidArgument(fmt::format("Xᵀ R: R has {} rows for {} rows of X", R.rows(), rows()));
  }
  if (prefer_dense_) {
    Matrix out(cols(), R.cols());
    dense_product(dense(), true, R.data(), false, R.cols(), out.data(), false);
    if (centered()) out.noalias() -= m_ * R.colwise().sum();
    return out;
  }
  return in_row_major_blocks<Matrix>(R, cols(), [&](const RowMatrix& B) { return transpose_times_impl<Matrix>(B); });
}
RowMatrix DataMatrix::times_rows(const RowMatrix& M) const { return times_impl<RowMatrix>(M); }
RowMatrix DataMatrix::transpose_times_rows(const RowMatrix& R) const { return transpose_times_impl<RowMatrix>(R); }

// The one pass wins while a chunk's p × b accumulator stays near the core's cache: measured at
// b = 16 on 138,000 users × 72 nonzeros (float blocks / double): p = 20,000 (2.5 MB): 2.0–2.4
// against 3.3–3.7 / 7.0–8.3 ms per vector; p = 50,000 (6.4 MB): 3.4–3.9 against 5.6 / 7.4;
// p = 100,000 (12.8 MB): a tie in float; p = 200,000 (25.6 MB): 6.4 against 5.0 — the two passes
// win. Depends on p and b alone, so every process of a distributed fit takes the same branch.
bool gram_one_pass(Index p, Index b) {
  return b >= 4 && 8.0 * static_cast<double>(p) * static_cast<double>(b) <= 8.0 * (1 << 20);
}

// Ranges of ~4 MiB of result rows of 16 doubles (128 bytes per item) on average — they are cut by
// nonzeros, so ranges of rarely used items are wider — in multiples of 4 so
// that two or four threads share them evenly: 8 for p = 200,000. Measured on (d)'s shape (side
// harness, float R of 16 columns): 4, 6, 8, 10 and 12 ranges alike (85–111 ms), 2 ranges (12.8 MB
// each, two threads at once) 298 ms.
Index item_range_count(Index p) {
  constexpr Index kRangeBytes = Index{4} << 20;
  const Index groups = (std::max<Index>(p, 1) * 128 + 4 * kRangeBytes - 1) / (4 * kRangeBytes);
  return 4 * groups;
}

// Measured (side harness, AMD EPYC VM, 32 MB L3; float R, b = 16, two threads; ranges against the
// column copy): R of 1,000,000 rows (64 MB) 85–111 against 190–250 ms; 400,000 (25.6 MB) 33–41
// against 75–82; 250,000 (16 MB) 20–25 against 20–23, a tie; 138,000 (8.8 MB, (a)'s shape) 10–14
// against 8–11, so the column copy there. Each range streams all of R: 10,000,000 users with 4
// nonzeros each, half a nonzero per user and range in 8 ranges, 239 ms against 203–235 (in 4
// ranges, one per user and range, 164); 4,000,000 users with 10, 8 ranges, 145 against 199–255.
bool transpose_by_item_ranges(Index n, Index p, Index nnz, Index b, std::size_t scalar_bytes) {
  const double strip = static_cast<double>(n) * static_cast<double>(std::min<Index>(b, 16)) * static_cast<double>(scalar_bytes);
  return strip > 16.0 * (1 << 20) && static_cast<double>(nnz) >= static_cast<double>(item_range_count(p)) * static_cast<double>(n);
}

double transposed_copy_bytes(Index n, Index p, Index nnz) {
  const double ranges = static_cast<double>(item_range_count(p));
  const double starts = std::max(4.0 * static_cast<double>(p + 1),
                                 4.0 * (ranges * static_cast<double>(n) + 1.0) + 8.0 * (ranges + 1.0));
  return 12.0 * static_cast<double>(nnz) + starts;
}

double DataMatrix::first_use_bytes() const {
  const std::lock_guard<std::mutex> hold(*build_lock_);
  const auto bytes = [](const auto& a) { return static_cast<double>(a.size()) * sizeof(a.data()[0]); };
  return bytes(Yc_.start_) + bytes(Yc_.index_) + bytes(Yc_.value_) + bytes(ranges_.first_item) + bytes(ranges_.start) +
         bytes(ranges_.index) + bytes(ranges_.value) + bytes(dense_) + bytes(kept_gram_);
}

namespace {

// The one pass splits the rows into chunks by their nonzeros, each summed by one thread into its
// own p × b accumulator (≤ 8 MiB by gram_one_pass); the accumulators are then added in chunk
// order. The chunks depend on the data alone, so the result never depends on the thread count.
// The threads take the chunks in order as each finishes one, so what the last chunks leave
// uneven between them is waited for: with eighths of the nonzeros on (a)'s data (bench/README.md,
// BM_GramBlock/8/0) one of the VM's two threads ran its chunks 8–20 % slower than the other
// (3.2–3.6 against 2.9–3.1 ms each), and the threads were busy 92–96 % of the pass. So the last
// quarter is cut finer, into two sixteenths and four thirty-seconds: 98–99 % busy. Six eighths
// first keep the largest chunk at 1/8, so 8 threads are no worse off than with eighths
// throughout. A chunk of under 2^16 nonzeros is not worth its p × b zeroing and sum: smaller data
// has fewer, equal chunks.
constexpr Index kGramChunks = 12;  // the most gram_chunk_starts makes (gram_workspace_bytes)

// The chunks' first nonzeros as fractions of all of them, the last fraction 1.
std::vector<double> gram_chunk_starts(Index nonzeros) {
  std::vector<double> starts{0.0};
  const Index equal = std::clamp<Index>(nonzeros >> 16, 1, 8);
  if (equal < 8 || (nonzeros >> 5) < (Index{1} << 16)) {
    for (Index c = 1; c <= equal; ++c) starts.push_back(static_cast<double>(c) / static_cast<double>(equal));
    return starts;
  }
  for (Index c = 1; c <= 6; ++c) starts.push_back(static_cast<double>(c) / 8);
  for (Index c = 1; c <= 2; ++c) starts.push_back(0.75 + static_cast<double>(c) / 16);
  for (Index c = 1; c <= 4; ++c) starts.push_back(0.875 + static_cast<double>(c) / 32);
  return starts;
}

}  // namespace

double gram_workspace_bytes(Index n, Index p, Index b) {
  const double block = 8.0 * static_cast<double>(b);
  // The chunks' accumulators, or the two passes' n × b intermediate: in double, or in float with
  // the float copy of the p × b block it gathers from.
  return gram_one_pass(p, b) ? static_cast<double>(kGramChunks) * block * static_cast<double>(p)
                             : std::max(block * static_cast<double>(n), 0.5 * block * static_cast<double>(n + p));
}

template <typename In>
RowMatrix DataMatrix::fused_gram(const In& M) const {
  const Index p = cols(), b = M.cols();
  const int* outer = Y_.outerIndexPtr();
  const int* inner = Y_.innerIndexPtr();
  const double* value = Y_.valuePtr();
  // Shift s = Mᵀm: X_w M = Y M − 1 sᵀ, formed per row before it is scattered.
  Vector shift;
  if (centered()) shift = (m_.transpose() * M.template cast<double>()).transpose();
  // Chunk boundaries: the first row whose nonzeros start at or after each chunk's share of them.
  const std::vector<double> starts = gram_chunk_starts(Y_.nonZeros());
  const auto chunks = static_cast<Index>(starts.size()) - 1;
  std::vector<Index> first(static_cast<size_t>(chunks) + 1, rows());
  first[0] = 0;
  for (Index c = 1; c < chunks; ++c) {
    const auto target = static_cast<int>(static_cast<double>(Y_.nonZeros()) * starts[static_cast<size_t>(c)]);
    first[static_cast<size_t>(c)] = std::lower_bound(outer, outer + rows(), target) - outer;
  }
  // The accumulators live as long as this object (zeroing them costs what allocating them would,
  // without the page faults), unless another thread is using them.
  std::unique_lock<std::mutex> hold(workspace_->lock, std::try_to_lock);
  std::vector<double> local;
  std::vector<double>& acc = hold.owns_lock() ? workspace_->acc : local;
  if (hold.owns_lock()) workspace_->keep_one_pass();
  // A chunk's p × b rows, then its Σ_u t; every chunk on a 64-byte boundary, so that the rows of
  // a 16-column block are whole cache lines (a split load costs two).
  const auto stride = static_cast<size_t>((p * b + b + 7) / 8 * 8);
  if (acc.size() < stride * static_cast<size_t>(chunks) + 8) acc.assign(stride * static_cast<size_t>(chunks) + 8, 0.0);
  double* const base = acc.data() + (8 - reinterpret_cast<std::uintptr_t>(acc.data()) / sizeof(double) % 8) % 8;
  const bool unit = unit_values();
#pragma omp parallel for schedule(dynamic, 1)
  for (Index c = 0; c < chunks; ++c) {
    double* a = base + stride * static_cast<size_t>(c);
    std::fill(a, a + stride, 0.0);
    const Index r0 = first[static_cast<size_t>(c)], r1 = first[static_cast<size_t>(c) + 1];
    const double* s = centered() ? shift.data() : nullptr;
    if (unit) {
      fused_gram_chunk<true>(outer, inner, value, r0, r1, M.data(), b, a, s, a + p * b, distinct_in_rows_);
    } else {
      fused_gram_chunk<false>(outer, inner, value, r0, r1, M.data(), b, a, s, a + p * b, distinct_in_rows_);
    }
  }
  RowMatrix out(p, b);
  constexpr Index kItemBlock = 1024;
#pragma omp parallel for schedule(static)
  for (Index j0 = 0; j0 < p; j0 += kItemBlock) {
    const Index len = std::min(kItemBlock, p - j0) * b;
    double* o = out.data() + j0 * b;
    std::copy(base + j0 * b, base + j0 * b + len, o);
    for (Index c = 1; c < chunks; ++c) {
      const double* a = base + stride * static_cast<size_t>(c) + j0 * b;
      for (Index i = 0; i < len; ++i) o[i] += a[i];
    }
  }
  if (centered()) {  // X_wᵀ(X_w M) = Yᵀ(X_w M) − m 1ᵀ(X_w M)
    Eigen::RowVectorXd total = Eigen::RowVectorXd::Zero(b);
    for (Index c = 0; c < chunks; ++c) {
      total += Eigen::Map<const Eigen::RowVectorXd>(base + stride * static_cast<size_t>(c) + p * b, b);
    }
    out.noalias() -= m_ * total;
  }
  return out;
}

RowMatrix DataMatrix::gram_times_rows(const RowMatrix& M, bool float32) const {
  if (!prefer_dense_ && gram_one_pass(cols(), M.cols())) {
    return float32 ? fused_gram(RowMatrixF(M.cast<float>())) : fused_gram(M);
  }
  if (prefer_dense_) return transpose_times_rows(times_rows(M));
  // Two passes, whose n × b intermediate (and the float copy of M it is gathered from) live as
  // long as this object, as the one pass's accumulators do: a solver asks for them every product.
  // Allocated anew each time, a block over glibc's 32 MB threshold is mapped fresh and its pages
  // faulted in and zeroed at every product (the linsim programs raise the threshold with mallopt;
  // a library caller, Python's included, has the allocator's default): measured on (d),
  // bench/README.md, "Python package".
  std::unique_lock<std::mutex> hold(workspace_->lock, std::try_to_lock);
  GramWorkspace local;
  GramWorkspace& work = hold.owns_lock() ? *workspace_ : local;
  work.keep_two_passes(float32);
  const Index n = rows(), p = cols(), b = M.cols();
  if (!float32) {  // times_rows(M) into the kept block, then transpose_times_rows of it
    RowMatrix& XM = sized(work.xm, n, b, PageUse::kGathered);  // gathered at random rows
    sparse_times_into(Y_.outerIndexPtr(), Y_.innerIndexPtr(), row_values(), n, M, XM);
    if (centered()) XM.rowwise() -= (m_.transpose() * M);
    return transpose_times_rows(XM);
  }
  RowMatrixF& Mf = sized(work.mf, p, b, PageUse::kGathered);  // gathered at random rows
  Mf = M.cast<float>();
  // The centring is applied in double before X_w M is rounded, so that a large mean cancelling
  // does not leave a rounding error larger than u‖X_w M‖.
  Vector shift;
  if (centered()) shift = (m_.transpose() * Mf.cast<double>()).transpose();
  RowMatrixF& XM = sized(work.xm_f, n, b, PageUse::kGathered);
  sparse_times_into(Y_.outerIndexPtr(), Y_.innerIndexPtr(), row_values(), n, Mf, XM,
                    centered() ? shift.data() : nullptr);
  RowMatrix out = sparse_transpose_times<RowMatrix>(XM);
  if (centered()) out.noalias() -= m_ * XM.cast<double>().colwise().sum();
  return out;
}

template <typename Scalar>
MatrixOf<Scalar> DataMatrix::gram(const Context& ctx) const {
  if constexpr (std::is_same_v<Scalar, double>) {
    if (keep_gram_) {
      const std::lock_guard<std::mutex> hold(*build_lock_);
      if (kept_gram_.size() == 0) kept_gram_ = gram_matrix<double>(Y_, ctx, m_);
      return kept_gram_;
    }
  }
  return gram_matrix<Scalar>(Y_, ctx, m_);
}
template Matrix DataMatrix::gram<double>(const Context&) const;
template MatrixF DataMatrix::gram<float>(const Context&) const;

double DataMatrix::squared_norm() const {
  if (!centered()) return y2_;
  return y2_ - 2.0 * m_.dot(colsum_) + static_cast<double>(rows()) * m_.squaredNorm();
}

}  // namespace linsim
