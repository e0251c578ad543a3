#include "linsim/models/ease.h"

#include <type_traits>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linalg/spd_inverse.h"

namespace linsim {

namespace {

// Whether some two items co-occur: an off-diagonal entry of the Gram matrix that is not zero (the
// first one ends the scan, so on real data this reads a few columns).
template <typename Scalar>
bool any_cooccurrence(const MatrixOf<Scalar>& G) {
  for (Index j = 0; j < G.cols(); ++j) {
    for (Index i = 0; i < G.rows(); ++i) {
      if (i != j && G(i, j) != 0) return true;
    }
  }
  return false;
}


}  // namespace

template <typename Scalar>
MatrixOf<Scalar> ease_weights(MatrixOf<Scalar> G, double lambda) {
  const bool cooccurring = any_cooccurrence(G);
  const double largest = G.size() > 0 ? static_cast<double>(G.diagonal().maxCoeff()) : 0.0;
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
  // With a λ far above XᵀX's scale the off-diagonal entries of the inverse, about G_ij / λ², fall
  // below the smallest number the type holds: every weight is 0 although items co-occur, and
  // the model would score every item 0 (eq1 and eq2 refuse their λ that zeroes everything too).
  if (cooccurring && !(G.array() != Scalar(0)).any()) throw ease_weights_underflow<Scalar>(lambda, largest);
  return G;
}

template <typename Scalar>
InvalidArgument ease_weights_underflow(double lambda, double largest) {
  return InvalidArgument(fmt::format(
      "λ = {:g} makes every EASE weight 0 ({}): the model would predict 0 for everything; use λ of the order of "
      "XᵀX's diagonal (its largest entry is {:.4g})",
      lambda, std::is_same_v<Scalar, float> ? "in float32, XᵀX / λ² underflows" : "XᵀX / λ² underflows", largest));
}

template <typename Scalar>
InvalidArgument ease_not_positive_definite(double lambda) {
  if constexpr (std::is_same_v<Scalar, double>) {
    if (lambda == 0) {
      return InvalidArgument(fmt::format(
          "XᵀX + λI is not positive definite for λ = {}: the data is rank-deficient; use λ > 0", lambda));
    }
    // λ > 0: positive definite in exact arithmetic, so the pivot test refused it (was: "use λ > 0"
    // for a λ of 1, on data of 1e154 beside 1s).
    return InvalidArgument(fmt::format(
        "XᵀX + λI is too ill-conditioned at λ = {} (a Cholesky pivot below 1e-12 of the largest diagonal entry: the "
        "weights would be rounding error); use a larger λ, or values of more even scale",
        lambda));
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
template InvalidArgument ease_weights_underflow<double>(double, double);
template InvalidArgument ease_weights_underflow<float>(double, double);

}  // namespace linsim
