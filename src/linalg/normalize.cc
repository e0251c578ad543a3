#include "linsim/linalg/normalize.h"

namespace linsim {

Matrix normalize_rows(Matrix F) {
  const Vector norms = F.rowwise().norm();
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
  for (Index i = 0; i < F.rows(); ++i) norms(i) = F.row(i).norm();
  const double floor = norms.size() > 0 ? kRelativeNormFloor * norms.maxCoeff() : 0.0;
  for (Index i = 0; i < F.rows(); ++i) {
    const double scale = norms(i) > floor ? 1.0 / norms(i) : 0.0;
    for (SparseMatrix::InnerIterator it(F, i); it; ++it) it.valueRef() *= scale;
  }
  return F;
}

}  // namespace linsim
