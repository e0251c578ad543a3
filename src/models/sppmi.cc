#include "linsim/models/sppmi.h"

#include <cmath>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {

void SppmiOptions::validate(const char* negatives_option) const {
  if (!(negatives >= 1) || !std::isfinite(negatives)) {
    throw InvalidArgument(fmt::format("{} must be a number >= 1, got {}", negatives_option, negatives));
  }
  if (!(smoothing > 0 && smoothing <= 1)) {
    throw InvalidArgument(fmt::format("--smoothing must be in (0, 1], got {}", smoothing));
  }
  if (!(eigen_power >= 0 && eigen_power <= 1)) {
    throw InvalidArgument(fmt::format("--eigen-power must be in [0, 1], got {}", eigen_power));
  }
}

Matrix sppmi_matrix(Matrix G, const SppmiOptions& options) {
  options.validate();
  const Index p = G.rows();
  G.diagonal().setZero();
  if ((G.array() < 0).any()) throw InvalidArgument("SPPMI needs nonnegative co-occurrence counts");
  const Vector c = G.colwise().sum().transpose();
  const double total = c.sum();
  if (!(total > 0)) throw InvalidArgument("SPPMI: no two items share a user (the co-occurrence matrix is zero)");
  const Vector smoothed = c.array().pow(options.smoothing).matrix();
  const double Z = smoothed.sum();
  // log(C_ij Z² / (D c_i^α c_j^α)) − log k = log C_ij + offset − log c_i^α − log c_j^α
  const double offset = 2.0 * std::log(Z) - std::log(total) - std::log(options.negatives);
  const Vector log_s = smoothed.array().log().matrix();
#pragma omp parallel for schedule(static)
  for (Index j = 0; j < p; ++j) {
    for (Index i = 0; i < p; ++i) {
      const double cij = G(i, j);
      G(i, j) = cij > 0 ? std::max(0.0, std::log(cij) + offset - log_s(i) - log_s(j)) : 0.0;
    }
  }
  return G;
}

}  // namespace linsim
