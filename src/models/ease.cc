#include "linsim/models/ease.h"

#include <type_traits>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linalg/spd_inverse.h"

namespace linsim {

template <typename Scalar>
MatrixOf<Scalar> ease_weights(MatrixOf<Scalar> G, double lambda) {
  G.diagonal().array() += static_cast<Scalar>(lambda);
  // A pivot that is zero up to rounding also means "not positive definite": the inverse would
  // be dominated by rounding error.
  if (!spd_inverse_in_place(G, ease_pivot_floor<Scalar>())) throw ease_not_positive_definite<Scalar>(lambda);
  // MATH.md M3: W = I − Pinv · dMat(1 / diag(Pinv)), in Pinv's storage.
  // Column j scaled by −1 / Pinv_jj, in place (an assignment from a product could evaluate into a
  // second p × p temporary).
  const Eigen::Matrix<Scalar, Eigen::Dynamic, 1> scale = -G.diagonal().cwiseInverse();
#pragma omp parallel for schedule(static)
  for (Index j = 0; j < G.cols(); ++j) {
    G.col(j) *= scale(j);
    G(j, j) = 0;
  }
  return G;
}

template <typename Scalar>
InvalidArgument ease_not_positive_definite(double lambda) {
  if constexpr (std::is_same_v<Scalar, double>) {
    return InvalidArgument(fmt::format(
        "XᵀX + λI is not positive definite for λ = {}: the data is rank-deficient; use λ > 0", lambda));
  } else {
    return InvalidArgument(fmt::format(
        "XᵀX + λI is not positive definite, or too ill-conditioned for float32, at λ = {} (a Cholesky "
        "pivot below 1e-5 of the largest diagonal entry); use a larger λ or --dtype float64",
        lambda));
  }
}

template Matrix ease_weights<double>(Matrix, double);
template MatrixF ease_weights<float>(MatrixF, double);
template InvalidArgument ease_not_positive_definite<double>(double);
template InvalidArgument ease_not_positive_definite<float>(double);

}  // namespace linsim
