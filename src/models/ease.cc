#include "linsim/models/ease.h"

#include <fmt/format.h>

#include <Eigen/Cholesky>

#include "linsim/core/error.h"

namespace linsim {

Matrix ease_weights(Matrix G, double lambda) {
  const Index p = G.rows();
  G.diagonal().array() += lambda;
  const double max_diag = G.diagonal().cwiseAbs().maxCoeff();
  Eigen::LLT<Eigen::Ref<Matrix>> llt(G);  // factorises in place
  // A pivot that is zero up to rounding also means "not positive definite": the inverse would
  // be dominated by rounding error.
  const double min_pivot = llt.matrixLLT().diagonal().cwiseAbs2().minCoeff();
  if (llt.info() != Eigen::Success || !(min_pivot > 1e-12 * max_diag)) {
    throw InvalidArgument(fmt::format(
        "XᵀX + λI is not positive definite for λ = {}: the data is rank-deficient; use λ > 0", lambda));
  }
  // W = (G + λI)⁻¹, solved for blocks of identity columns in parallel (Eigen's triangular
  // solves run on one thread); each column's arithmetic is the same for any thread count.
  Matrix W = Matrix::Identity(p, p);
  constexpr Index kBlock = 256;
#pragma omp parallel for schedule(dynamic, 1)
  for (Index j0 = 0; j0 < p; j0 += kBlock) {
    auto block = W.middleCols(j0, std::min(kBlock, p - j0));
    llt.solveInPlace(block);
  }
  // MATH.md M3: W = I − Pinv · dMat(1 / diag(Pinv))
  const Vector inv_diag = W.diagonal().cwiseInverse();
  W = -(W * inv_diag.asDiagonal());
  W.diagonal().setZero();
  return W;
}

}  // namespace linsim
