#include "linsim/linalg/normalize.h"

#include <algorithm>
#include <cmath>

namespace linsim {

// Norms by Eigen's scaled (stable) algorithm: the plain sum of squares underflows for entries
// below ~1e-154, and a vector of 1e-300s would have norm 0 and be written as zeros.
Matrix normalize_rows(Matrix F) {
  const Vector norms = F.rowwise().stableNorm();
  const double floor = norms.size() > 0 ? kRelativeNormFloor * norms.maxCoeff() : 0.0;
  for (Index i = 0; i < F.rows(); ++i) {
    if (norms(i) > floor) {
      F.row(i) /= norms(i);
    } else {
      F.row(i).setZero();
    }
  }
  return F;
}

SparseMatrix normalize_rows(SparseMatrix F) {
  Vector norms(F.rows());
  for (Index i = 0; i < F.rows(); ++i) {
    double largest = 0;
    for (SparseMatrix::InnerIterator it(F, i); it; ++it) largest = std::max(largest, std::abs(it.value()));
    double sum = 0;  // of squares scaled by the largest: no underflow, no overflow
    if (largest > 0) {
      for (SparseMatrix::InnerIterator it(F, i); it; ++it) sum += (it.value() / largest) * (it.value() / largest);
    }
    norms(i) = largest * std::sqrt(sum);
  }
  const double floor = norms.size() > 0 ? kRelativeNormFloor * norms.maxCoeff() : 0.0;
  for (Index i = 0; i < F.rows(); ++i) {
    const double scale = norms(i) > floor ? 1.0 / norms(i) : 0.0;
    for (SparseMatrix::InnerIterator it(F, i); it; ++it) it.valueRef() *= scale;
  }
  return F;
}

}  // namespace linsim
