#include "linsim/linalg/spd_inverse.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Cholesky>

namespace linsim {
namespace {

constexpr Index kBlock = 256;

template <typename Scalar>
using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// In place: the lower triangle of A (holding L) becomes L⁻¹. Backwards over column blocks j:
// [L11 0; L21 L22]⁻¹ = [L11⁻¹ 0; −L22⁻¹ L21 L11⁻¹, L22⁻¹], with L22⁻¹ already in place.
template <typename Scalar>
void lower_inverse_in_place(Mat<Scalar>& A) {
  const Index n = A.rows();
  const Index last = ((n - 1) / kBlock) * kBlock;
  for (Index j = last; j >= 0; j -= kBlock) {
    const Index jb = std::min(kBlock, n - j);
    const Index rest = n - j - jb;
    if (rest > 0) {
      auto A21 = A.block(j + jb, j, rest, jb);
      Mat<Scalar> T(rest, jb);  // T = L22⁻¹ A21, by row blocks (row r of L22⁻¹ has columns ≤ r)
#pragma omp parallel for schedule(dynamic, 1)
      for (Index r0 = 0; r0 < rest; r0 += kBlock) {
        const Index h = std::min(kBlock, rest - r0);
        const auto Linv = A.block(j + jb, j + jb, rest, rest);
        auto out = T.middleRows(r0, h);
        out.noalias() = Linv.block(r0, r0, h, h).template triangularView<Eigen::Lower>() * A21.middleRows(r0, h);
        if (r0 > 0) out.noalias() += Linv.block(r0, 0, h, r0) * A21.topRows(r0);
      }
      // A21 = −T L11⁻¹
      A.block(j, j, jb, jb).template triangularView<Eigen::Lower>().template solveInPlace<Eigen::OnTheRight>(T);
      A21 = -T;
    }
    Mat<Scalar> inv = Mat<Scalar>::Identity(jb, jb);
    A.block(j, j, jb, jb).template triangularView<Eigen::Lower>().solveInPlace(inv);
    A.block(j, j, jb, jb).template triangularView<Eigen::Lower>() = inv;
  }
}

// In place: the lower triangle of A (holding M = L⁻¹, lower) becomes the lower triangle of Mᵀ M.
// Forwards over block rows I: row block I of MᵀM only needs rows ≥ I of M, which are not yet
// overwritten: (MᵀM)[I, 0:I+b] = M[I:n, I]ᵀ · M[I:n, 0:I+b].
template <typename Scalar>
void lower_gram_in_place(Mat<Scalar>& A) {
  const Index n = A.rows();
  for (Index i = 0; i < n; i += kBlock) {
    const Index ib = std::min(kBlock, n - i);
    const Index below = n - i;
    Mat<Scalar> C = A.block(i, i, below, ib);  // M[i:n, I], its top block lower-triangular
    C.topRows(ib).template triangularView<Eigen::StrictlyUpper>().setZero();
    Mat<Scalar> out(ib, i + ib);
#pragma omp parallel for schedule(dynamic, 1)
    for (Index c0 = 0; c0 < i + ib; c0 += kBlock) {
      const Index w = std::min(kBlock, i + ib - c0);
      if (c0 < i) {
        out.middleCols(c0, w).noalias() = C.transpose() * A.block(i, c0, below, w);
      } else {
        out.middleCols(c0, w).noalias() = C.transpose() * C;
      }
    }
    A.block(i, 0, ib, i) = out.leftCols(i);
    A.block(i, i, ib, ib).template triangularView<Eigen::Lower>() = out.rightCols(ib);
  }
}

}  // namespace

template <typename Scalar>
bool spd_inverse_in_place(Mat<Scalar>& A, double rel_pivot_floor) {
  const Index n = A.rows();
  if (n == 0) return true;
  const double max_diag = static_cast<double>(A.diagonal().cwiseAbs().maxCoeff());
  Eigen::LLT<Eigen::Ref<Mat<Scalar>>> llt(A);  // factorises in place (lower triangle)
  if (llt.info() != Eigen::Success) return false;
  const double min_pivot = static_cast<double>(A.diagonal().cwiseAbs2().minCoeff());
  if (!(min_pivot > rel_pivot_floor * max_diag)) return false;
  lower_inverse_in_place(A);
  lower_gram_in_place(A);
  A.template triangularView<Eigen::StrictlyUpper>() = A.transpose();
  return true;
}

template bool spd_inverse_in_place<double>(Mat<double>&, double);
template bool spd_inverse_in_place<float>(Mat<float>&, double);

}  // namespace linsim
