#include "linsim/models/ease.h"

#include <fmt/format.h>

#include "linsim/linalg/spd_inverse.h"

#include "linsim/core/error.h"

namespace linsim {

Matrix ease_weights(Matrix G, double lambda) {
  G.diagonal().array() += lambda;
  // A pivot that is zero up to rounding also means "not positive definite": the inverse would
  // be dominated by rounding error.
  if (!spd_inverse_in_place(G, 1e-12)) {
    throw InvalidArgument(fmt::format(
        "XᵀX + λI is not positive definite for λ = {}: the data is rank-deficient; use λ > 0", lambda));
  }
  // MATH.md M3: W = I − Pinv · dMat(1 / diag(Pinv)), in Pinv's storage.
  // Column j scaled by −1 / Pinv_jj, in place (an assignment from a product could evaluate into a
  // second p × p temporary).
  const Vector scale = -G.diagonal().cwiseInverse();
#pragma omp parallel for schedule(static)
  for (Index j = 0; j < G.cols(); ++j) {
    G.col(j) *= scale(j);
    G(j, j) = 0;
  }
  return G;
}

}  // namespace linsim
