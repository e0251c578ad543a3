// The Gram matrix G = XᵀX (MATH.md M0), either formed densely or applied as an operator.
#pragma once

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/linalg/data_matrix.h"

namespace linsim {

// Dense p × p Gram matrix X_wᵀX_w of X_w = Y − 1mᵀ for a sparse Y and a column centre m (empty:
// YᵀY), memory one p × p of Scalar. Sparse accumulation (cost Σ_u n_u²/2) or, for dense-ish Y,
// GEMM on densified blocks of users (cost n p²/2), whichever is estimated faster. The centring
// correction −m cᵀ − c mᵀ + n m mᵀ (c = Yᵀ1) is added column by column in double, before the column
// is stored. In float: the sparse path sums each column in double and rounds it once; the dense
// path multiplies float blocks (exact for integer data whose column sums stay below 2²⁴, e.g. 0/1
// interactions). Work is split by fixed column blocks, so the result is bit-identical for any
// thread count.
template <typename Scalar = double>
MatrixOf<Scalar> gram_matrix(const SparseView& Y, const Context& ctx, const Vector& center = Vector());

// Rough time in seconds gram_matrix takes on this class of machine (for solver choices).
double gram_seconds_estimate(const SparseView& X);

// The operator v ↦ X_wᵀ(X_w v) on R^p for X_w = Y − 1mᵀ (DataMatrix), never forming X_wᵀX_w
// nor the centred X_w (ARCHITECTURE.md: operators, not matrices). Satisfies Spectra's operator
// concept. Both products run row-parallel without write conflicts (deterministic for any thread
// count); the column-major copy of Y lives in the DataMatrix.
class GramOperator {
 public:
  using Scalar = double;
  explicit GramOperator(const DataMatrix& X);
  Index rows() const { return X_.cols(); }
  Index cols() const { return X_.cols(); }
  void perform_op(const double* x_in, double* y_out) const;
  // Y = X_wᵀ(X_w V) for a block of vectors.
  Matrix apply(const Matrix& V) const;

 private:
  const DataMatrix& X_;
  mutable Vector scratch_;
};

}  // namespace linsim
