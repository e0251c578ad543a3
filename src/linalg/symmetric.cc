#include "linalg/symmetric.h"

#include <algorithm>

namespace linsim {

template <typename Scalar>
void mirror_lower(MatrixOf<Scalar>& A) {
  constexpr Index kTile = 256;
  eigen_assert(A.rows() == A.cols());
  const Index n = A.rows();
  const Index tiles = (n + kTile - 1) / kTile;
  // Tile column t of the upper triangle copies t + 1 tiles: the widest go first.
#pragma omp parallel for schedule(dynamic, 1)
  for (Index t = tiles - 1; t >= 0; --t) {
    const Index j0 = t * kTile, w = std::min(kTile, n - j0);
    for (Index i0 = 0; i0 <= j0; i0 += kTile) {
      const Index h = std::min(kTile, n - i0);
      if (i0 == j0) {
        A.block(j0, j0, w, w).template triangularView<Eigen::StrictlyUpper>() = A.block(j0, j0, w, w).transpose();
      } else {
        A.block(i0, j0, h, w) = A.block(j0, i0, w, h).transpose();
      }
    }
  }
}

template void mirror_lower<double>(MatrixOf<double>&);
template void mirror_lower<float>(MatrixOf<float>&);

}  // namespace linsim
