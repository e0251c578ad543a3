#include "linalg/products.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "linalg/gemm.h"

namespace linsim {

template <typename Scalar>
void multiply(bool trans_a, bool trans_b, Index m, Index n, Index k, const Scalar* A, Index lda, const Scalar* B,
              Index ldb, Scalar* C, Index ldc) {
  if (m == 0 || n == 0) return;
  const bool serial = omp_in_parallel() != 0;
  if (k == 0) {
    for (Index j = 0; j < n; ++j) std::fill(C + j * ldc, C + j * ldc + m, Scalar(0));
    return;
  }
  if (std::max(m, n) > kProductTile) {
    // Tiles of C: rows i0.. of op(A) times columns j0.. of op(B).
    const Index row_tiles = (m + kProductTile - 1) / kProductTile, column_tiles = (n + kProductTile - 1) / kProductTile;
#pragma omp parallel for schedule(dynamic, 1) if (!serial)
    for (Index t = 0; t < row_tiles * column_tiles; ++t) {
      const Index i0 = t % row_tiles * kProductTile, j0 = t / row_tiles * kProductTile;
      gemm<Scalar>(trans_a, trans_b, std::min(kProductTile, m - i0), std::min(kProductTile, n - j0), k, Scalar(1),
                   trans_a ? A + i0 * lda : A + i0, lda, trans_b ? B + j0 : B + j0 * ldb, ldb, Scalar(0),
                   C + i0 + j0 * ldc, ldc);
    }
    return;
  }
  // A small output: fixed ranges of the inner dimension, their partial products added in order.
  // The partials take at most 2^22 entries (32 MB in double) beside C.
  const Index cells = m * n;
  const Index parts = std::clamp<Index>(std::min(k / kProductDepth, (Index{1} << 22) / cells), 1, kProductParts);
  if (parts == 1) {
    gemm<Scalar>(trans_a, trans_b, m, n, k, Scalar(1), A, lda, B, ldb, Scalar(0), C, ldc);
    return;
  }
  const Index span = (k + parts - 1) / parts;
  std::vector<Scalar> partial(static_cast<size_t>(parts * cells));
#pragma omp parallel for schedule(dynamic, 1) if (!serial)
  for (Index r = 0; r < parts; ++r) {
    const Index k0 = r * span, depth = std::min(span, k - k0);  // ≥ 2,048: parts ≤ k / kProductDepth
    gemm<Scalar>(trans_a, trans_b, m, n, depth, Scalar(1), trans_a ? A + k0 : A + k0 * lda, lda,
                 trans_b ? B + k0 * ldb : B + k0, ldb, Scalar(0), partial.data() + r * cells, m);
  }
  for (Index j = 0; j < n; ++j) {
    Scalar* c = C + j * ldc;
    std::copy(partial.data() + j * m, partial.data() + (j + 1) * m, c);
    for (Index r = 1; r < parts; ++r) {
      const Scalar* q = partial.data() + r * cells + j * m;
      for (Index i = 0; i < m; ++i) c[i] += q[i];
    }
  }
}

template void multiply<double>(bool, bool, Index, Index, Index, const double*, Index, const double*, Index, double*,
                               Index);
template void multiply<float>(bool, bool, Index, Index, Index, const float*, Index, const float*, Index, float*, Index);

namespace {

template <typename M, typename R>
M product(bool trans_a, bool trans_b, const R& A, const R& B) {
  const Index m = trans_a ? A.cols() : A.rows();
  const Index k = trans_a ? A.rows() : A.cols();
  const Index n = trans_b ? B.rows() : B.cols();
  eigen_assert(k == (trans_b ? B.cols() : B.rows()));
  M C(m, n);
  multiply(trans_a, trans_b, m, n, k, A.data(), A.outerStride(), B.data(), B.outerStride(), C.data(), m);
  return C;
}

}  // namespace

Matrix times(const Eigen::Ref<const Matrix>& A, const Eigen::Ref<const Matrix>& B) {
  return product<Matrix>(false, false, A, B);
}
MatrixF times(const Eigen::Ref<const MatrixF>& A, const Eigen::Ref<const MatrixF>& B) {
  return product<MatrixF>(false, false, A, B);
}
Matrix transpose_times(const Eigen::Ref<const Matrix>& A, const Eigen::Ref<const Matrix>& B) {
  return product<Matrix>(true, false, A, B);
}
MatrixF transpose_times(const Eigen::Ref<const MatrixF>& A, const Eigen::Ref<const MatrixF>& B) {
  return product<MatrixF>(true, false, A, B);
}
Matrix times_transpose(const Eigen::Ref<const Matrix>& A, const Eigen::Ref<const Matrix>& B) {
  return product<Matrix>(false, true, A, B);
}

}  // namespace linsim
