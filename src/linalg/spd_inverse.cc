#include "linalg/spd_inverse.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Cholesky>

#include "linsim/core/context.h"
#include "linalg/gemm.h"
#include "linalg/symmetric.h"

namespace linsim {
namespace {

// Pivot block width. 256 matches the
// depth of Eigen's GEMM blocking on this class of CPU, so a rank-256 update runs at GEMM speed.
constexpr Index kBlock = 256;
// Rows per panel of the rank-kBlock update, a function of n only (so the result does not depend on
// the thread count): the multiple of kBlock at or above n / 8 (about 8 panels to share among the
// threads), at most kPanelMax (about 8 up to n = 16,384, more beyond). Each panel's GEMM packs the
// columns of U left of its diagonal block anew, so taller panels pack less in all; the diagonal
// block goes by strips of kBlock columns, so their height costs only the upper halves of the
// strips' top squares. At p = 19,778 in float, 2,048 rows with the diagonal block by strips took
// 41–42 s, against 48–49 s for 1,024 rows with the diagonal block computed whole (5 % of the flops
// above the diagonal) and 44–49 s for 1,024 rows by strips (alternated runs, one session).
constexpr Index kPanelMax = 2048;
Index panel_rows(Index n) {
  const Index eighth = (n + 7) / 8;
  return std::min(kPanelMax, std::max(kBlock, (eighth + kBlock - 1) / kBlock * kBlock));
}

template <typename Scalar>
using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

}  // namespace

// Block sweep (symmetric Gauss–Jordan elimination; Goodnight 1979, "A tutorial on the SWEEP
// operator"). Sweeping M on the index block K, with D = M_KK⁻¹ and R every other index:
//   M_RR ← M_RR − M_RK D M_KR,   M_RK ← M_RK D,   M_KK ← −D.
// Sweeps commute and, after every block has been swept once, M = −A⁻¹. M stays symmetric, so only
// its lower triangle is kept. M_KK at the time K is swept is the Schur complement of the blocks
// swept before — symmetric positive definite for SPD A — and its Cholesky pivots are those of A,
// so the pivot floor is checked there. Work: p² · b per block, p³ in all (the same as a Cholesky
// factorisation plus LAPACK's trtri and lauum), all of it in one shape, a rank-b update of the lower
// triangle, which runs as single-threaded GEMMs (linalg/gemm.h) on fixed row panels spread over
// threads, so the result does not depend on the thread count.
template <typename Scalar>
bool spd_inverse_in_place(Mat<Scalar>& A, double rel_pivot_floor) {
  const Index n = A.rows();
  if (n == 0) return true;
  const double max_diag = static_cast<double>(A.diagonal().cwiseAbs().maxCoeff());
  const double floor = rel_pivot_floor * max_diag;
  Mat<Scalar> U(n, kBlock);  // M_RK, with the rows of K set to zero
  Mat<Scalar> W(n, kBlock);  // M_RK D
  for (Index k0 = 0; k0 < n; k0 += kBlock) {
    interruption_point();
    const Index b = std::min(kBlock, n - k0);
    Mat<Scalar> Mkk = A.block(k0, k0, b, b).template selfadjointView<Eigen::Lower>();
    Eigen::LLT<Mat<Scalar>> llt(Mkk);
    if (llt.info() != Eigen::Success) return false;
    const auto pivots = llt.matrixLLT().diagonal();
    if (!(static_cast<double>(pivots.cwiseAbs2().minCoeff()) > floor) || !pivots.allFinite()) return false;
    const Mat<Scalar> D = llt.solve(Mat<Scalar>::Identity(b, b));

    // U = M_RK by chunks of kBlock rows (rows before K are the transposed row panel, stored in the
    // lower half as M_Ki), zero on K; W = U D. Chunks spread over threads.
    const Index chunks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1)
    for (Index c = 0; c < chunks; ++c) {
      const Index i0 = c * kBlock, h = std::min(kBlock, n - i0);
      auto u = U.block(i0, 0, h, b);
      if (i0 < k0) u = A.block(k0, i0, b, h).transpose();
      else if (i0 == k0) u.setZero();
      else u = A.block(i0, k0, h, b);
      gemm<Scalar>(false, false, h, b, b, Scalar(1), U.data() + i0, n, D.data(), b, Scalar(0), W.data() + i0, n);
    }

    // Lower triangle of M_RR −= W Uᵀ, one panel of panel_rows(n) rows at a time: the columns left
    // of the panel's diagonal block in one GEMM, then the diagonal block's lower part by strips of
    // kBlock columns (the strictly upper part of each strip's top square is also written, and
    // never read). Rows and columns of K are left alone because U and W are zero there. The last
    // panels are the widest, so they go first.
    const Index panel = panel_rows(n);
    const Index panels = (n + panel - 1) / panel;
#pragma omp parallel for schedule(dynamic, 1)
    for (Index q = panels - 1; q >= 0; --q) {
      const Index r0 = q * panel;
      const Index h = std::min(panel, n - r0);
      if (r0 > 0) {
        gemm<Scalar>(false, true, h, r0, b, Scalar(-1), W.data() + r0, n, U.data(), n, Scalar(1), A.data() + r0, n);
      }
      for (Index s0 = 0; s0 < h; s0 += kBlock) {
        const Index d0 = r0 + s0, w = std::min(kBlock, h - s0);
        gemm<Scalar>(false, true, h - s0, w, b, Scalar(-1), W.data() + d0, n, U.data() + d0, n, Scalar(1),
                     A.data() + d0 + d0 * n, n);
      }
    }

    // M_RK ← W (into both halves' storage), M_KK ← −D.
#pragma omp parallel for schedule(dynamic, 1)
    for (Index c = 0; c < chunks; ++c) {
      const Index i0 = c * kBlock, h = std::min(kBlock, n - i0);
      if (i0 < k0) A.block(k0, i0, b, h) = W.block(i0, 0, h, b).transpose();
      else if (i0 == k0) A.block(k0, k0, b, b) = -D;
      else A.block(i0, k0, h, b) = W.block(i0, 0, h, b);
    }
  }
  // M = −A⁻¹: negate the lower triangle, then copy it onto the upper one.
  const Index tiles = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (Index t = 0; t < tiles; ++t) {
    for (Index j = t * kBlock; j < std::min(n, (t + 1) * kBlock); ++j) A.col(j).tail(n - j) *= Scalar(-1);
  }
  mirror_lower(A);
  return true;
}

template bool spd_inverse_in_place<double>(Mat<double>&, double);
template bool spd_inverse_in_place<float>(Mat<float>&, double);

}  // namespace linsim
