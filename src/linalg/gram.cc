#include "linsim/linalg/gram.h"

#include <algorithm>

namespace linsim {

Matrix gram_matrix(const SparseMatrix& X, const Context& ctx) {
  use_threads(ctx);
  const Eigen::SparseMatrix<double, Eigen::ColMajor, int> Xc = X;  // CSC copy
  const Index p = X.cols();
  Matrix G = Matrix::Zero(p, p);
  const int* outer = X.outerIndexPtr();
  const int* inner = X.innerIndexPtr();
  const double* value = X.valuePtr();
  // Column j of the lower triangle: G(i, j) = Σ_{u ∋ j} x_uj x_ui for i ≥ j.
#pragma omp parallel for schedule(dynamic, 8)
  for (Index j = 0; j < p; ++j) {
    double* column = G.col(j).data();
    for (Eigen::SparseMatrix<double, Eigen::ColMajor, int>::InnerIterator it(Xc, j); it; ++it) {
      const Index u = it.row();
      const double xuj = it.value();
      const int* begin = inner + outer[u];
      const int* end = inner + outer[u + 1];
      const int* start = std::lower_bound(begin, end, static_cast<int>(j));
      for (const int* q = start; q != end; ++q) column[*q] += xuj * value[q - inner];
    }
  }
  G.triangularView<Eigen::StrictlyUpper>() = G.transpose();
  return G;
}

GramOperator::GramOperator(const SparseMatrix& X) : X_(X), Xc_(X), scratch_(X.rows()) {}

void GramOperator::perform_op(const double* x_in, double* y_out) const {
  const Index n = X_.rows();
  const Index p = X_.cols();
  const int* outer = X_.outerIndexPtr();
  const int* inner = X_.innerIndexPtr();
  const double* value = X_.valuePtr();
  double* y = scratch_.data();
#pragma omp parallel for schedule(static)
  for (Index u = 0; u < n; ++u) {  // y = X x
    double s = 0;
    for (int q = outer[u]; q < outer[u + 1]; ++q) s += value[q] * x_in[inner[q]];
    y[u] = s;
  }
  const int* couter = Xc_.outerIndexPtr();
  const int* cinner = Xc_.innerIndexPtr();
  const double* cvalue = Xc_.valuePtr();
#pragma omp parallel for schedule(static)
  for (Index j = 0; j < p; ++j) {  // out = Xᵀ y
    double s = 0;
    for (int q = couter[j]; q < couter[j + 1]; ++q) s += cvalue[q] * y[cinner[q]];
    y_out[j] = s;
  }
}

Matrix GramOperator::apply(const Matrix& V) const {
  Matrix Y(V.rows(), V.cols());
  for (Index c = 0; c < V.cols(); ++c) perform_op(V.col(c).data(), Y.col(c).data());
  return Y;
}

}  // namespace linsim
