#include "linsim/linalg/data_matrix.h"

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/linalg/gram.h"

namespace linsim {

DataMatrix::DataMatrix(const SparseView& Y, Vector center) : Y_(Y), m_(std::move(center)) {
  if (m_.size() != 0 && m_.size() != Y.cols()) {
    throw InvalidArgument(fmt::format("column centre has {} entries for {} columns", m_.size(), Y.cols()));
  }
  colsum_ = Vector::Zero(Y.cols());
  const int* inner = Y.innerIndexPtr();
  const double* value = Y.valuePtr();
  for (Index q = 0; q < Y.nonZeros(); ++q) colsum_(inner[q]) += value[q];
  const double cells = static_cast<double>(Y.rows()) * static_cast<double>(Y.cols());
  prefer_dense_ = cells > 0 && static_cast<double>(Y.nonZeros()) >= 0.05 * cells && 8.0 * cells <= 2.0 * (1 << 30);
}

const Matrix& DataMatrix::dense() const {
  if (!have_dense_) {
    dense_ = Matrix::Zero(Y_.rows(), Y_.cols());
    for (Index u = 0; u < Y_.rows(); ++u) {
      for (SparseView::InnerIterator it(Y_, u); it; ++it) dense_(u, it.col()) = it.value();
    }
    have_dense_ = true;
  }
  return dense_;
}

namespace {

constexpr Index kRowBlock = 256;

// One output row of S M for a column strip [c0, c0 + W) of a row-major M with leading
// dimension ld: the strip's sums stay in registers across the row's nonzeros (W doubles are W/8
// 256-bit registers), so each nonzero costs one gather of W contiguous doubles and W FMAs.
// Strips wider than 16 spill registers and run slower (measured: 8.8 vs 4.4 ms per vector).
constexpr int kPrefetchAhead = 16;

// M and out may be float (the solver's single-precision blocks): the sums are double either way.
// `shift` (or null) is subtracted from the sums before they are stored.
template <int W, typename In, typename OutScalar>
void strip_row(const int* inner, const double* value, int begin, int end, const In* M, Index ld, OutScalar* out,
               Index out_stride, const double* shift) {
  double acc[W] = {};
  for (int q = begin; q < end; ++q) {
    // The gathered rows are random: ask for the row 16 nonzeros ahead now, so that its cache
    // lines arrive while this one is summed (measured on the 1M × 200k benchmark with float
    // blocks: 48 against 57-65 ms per vector product).
    if (q < end - kPrefetchAhead) {  // not q + ahead < end: that overflows int near 2^31 nonzeros
      const char* ahead = reinterpret_cast<const char*>(M + static_cast<Index>(inner[q + kPrefetchAhead]) * ld);
      for (size_t line = 0; line < W * sizeof(In); line += 64) __builtin_prefetch(ahead + line);
    }
    const In* m = M + static_cast<Index>(inner[q]) * ld;
    const double v = value[q];
#pragma omp simd
    for (int c = 0; c < W; ++c) acc[c] += v * static_cast<double>(m[c]);
  }
  if (shift != nullptr) {
    for (int c = 0; c < W; ++c) acc[c] -= shift[c];
  }
  for (int c = 0; c < W; ++c) out[c * out_stride] = static_cast<OutScalar>(acc[c]);
}

// out = S M for a row-major sparse S and row-major M: each output row by one thread, in strips
// of 16, 8, 4 and single columns; the order of the sums never depends on the thread count. Out is
// row-major (the iterative solvers' blocks) or column-major (a final n × k product, written in
// place rather than converted from a row-major copy).
// `shift` (k entries, or null) is subtracted from every output row in double, before the result is
// stored (which may round it to float).
template <typename Out, typename In>
Out sparse_times(const int* outer, const int* inner, const double* value, Index rows, const In& M,
                 const double* shift = nullptr) {
  static_assert(In::IsRowMajor);
  const Index k = M.cols();
  Out out(rows, k);
  const Index row_step = Out::IsRowMajor ? k : 1;
  const Index column_step = Out::IsRowMajor ? 1 : rows;
#pragma omp parallel for schedule(dynamic, kRowBlock)
  for (Index r = 0; r < rows; ++r) {
    typename Out::Scalar* o = out.data() + r * row_step;
    Index c = 0;
    auto at = [&](Index c0) { return shift != nullptr ? shift + c0 : nullptr; };
    for (; c + 16 <= k; c += 16)
      strip_row<16>(inner, value, outer[r], outer[r + 1], M.data() + c, k, o + c * column_step, column_step, at(c));
    for (; c + 8 <= k; c += 8)
      strip_row<8>(inner, value, outer[r], outer[r + 1], M.data() + c, k, o + c * column_step, column_step, at(c));
    for (; c + 4 <= k; c += 4)
      strip_row<4>(inner, value, outer[r], outer[r + 1], M.data() + c, k, o + c * column_step, column_step, at(c));
    for (; c < k; ++c) {
      strip_row<1>(inner, value, outer[r], outer[r + 1], M.data() + c, k, o + c * column_step, column_step, at(c));
    }
  }
  return out;
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

}  // namespace

const Eigen::SparseMatrix<double, Eigen::ColMajor, int>& DataMatrix::csc() const {
  if (!have_csc_) {
    Yc_ = Y_;
    have_csc_ = true;
  }
  return Yc_;
}

template <typename Out>
Out DataMatrix::times_impl(const RowMatrix& M) const {
  Out out;
  if (prefer_dense_) {
    // Fixed row blocks, each a single-threaded GEMM: the same arithmetic for any thread count.
    const Matrix& D = dense();
    out.resize(rows(), M.cols());
#pragma omp parallel for schedule(dynamic, 1)
    for (Index r0 = 0; r0 < rows(); r0 += kRowBlock) {
      const Index h = std::min(kRowBlock, rows() - r0);
      out.middleRows(r0, h).noalias() = D.middleRows(r0, h) * M;
    }
  } else {
    out = sparse_times<Out>(Y_.outerIndexPtr(), Y_.innerIndexPtr(), Y_.valuePtr(), rows(), M);
  }
  if (centered()) out.rowwise() -= (m_.transpose() * M);
  return out;
}

template <typename Out>
Out DataMatrix::transpose_times_impl(const RowMatrix& R) const {
  Out out;
  if (prefer_dense_) {
    const Matrix& D = dense();
    out.resize(cols(), R.cols());
#pragma omp parallel for schedule(dynamic, 1)
    for (Index j0 = 0; j0 < cols(); j0 += kRowBlock) {
      const Index w = std::min(kRowBlock, cols() - j0);
      out.middleRows(j0, w).noalias() = D.middleCols(j0, w).transpose() * R;
    }
  } else {
    // The CSC arrays read as a row-major Yᵀ: again one output row per item.
    const auto& C = csc();
    out = sparse_times<Out>(C.outerIndexPtr(), C.innerIndexPtr(), C.valuePtr(), cols(), R);
  }
  if (centered()) out.noalias() -= m_ * R.colwise().sum();
  return out;
}

Matrix DataMatrix::times(const Matrix& M) const {
  return in_row_major_blocks<Matrix>(M, rows(), [&](const RowMatrix& B) { return times_impl<Matrix>(B); });
}
Matrix DataMatrix::times(const MatrixF& M) const {
  return in_row_major_blocks<Matrix>(M, rows(), [&](const RowMatrix& B) { return times_impl<Matrix>(B); });
}
Matrix DataMatrix::transpose_times(const Matrix& R) const {
  return in_row_major_blocks<Matrix>(R, cols(), [&](const RowMatrix& B) { return transpose_times_impl<Matrix>(B); });
}
RowMatrix DataMatrix::times_rows(const RowMatrix& M) const { return times_impl<RowMatrix>(M); }
RowMatrix DataMatrix::transpose_times_rows(const RowMatrix& R) const { return transpose_times_impl<RowMatrix>(R); }

RowMatrix DataMatrix::gram_times_rows(const RowMatrix& M, bool float32) const {
  if (!float32 || prefer_dense_) return transpose_times_rows(times_rows(M));
  using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMatrixF Mf = M.cast<float>();
  // The centring is applied in double before X_w M is rounded, so that a large mean cancelling
  // does not leave a rounding error larger than u‖X_w M‖.
  Vector shift;
  if (centered()) shift = (m_.transpose() * Mf.cast<double>()).transpose();
  const RowMatrixF XM = sparse_times<RowMatrixF>(Y_.outerIndexPtr(), Y_.innerIndexPtr(), Y_.valuePtr(), rows(), Mf,
                                                 centered() ? shift.data() : nullptr);
  const auto& C = csc();
  RowMatrix out = sparse_times<RowMatrix>(C.outerIndexPtr(), C.innerIndexPtr(), C.valuePtr(), cols(), XM);
  if (centered()) out.noalias() -= m_ * XM.cast<double>().colwise().sum();
  return out;
}

template <typename Scalar>
MatrixOf<Scalar> DataMatrix::gram(const Context& ctx) const {
  return gram_matrix<Scalar>(Y_, ctx, m_);
}
template Matrix DataMatrix::gram<double>(const Context&) const;
template MatrixF DataMatrix::gram<float>(const Context&) const;

double DataMatrix::squared_norm() const {
  const double y2 = Eigen::Map<const Vector>(Y_.valuePtr(), Y_.nonZeros()).squaredNorm();
  if (!centered()) return y2;
  return y2 - 2.0 * m_.dot(colsum_) + static_cast<double>(rows()) * m_.squaredNorm();
}

}  // namespace linsim
