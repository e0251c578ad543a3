// Matrix and index types, and the shape conventions of the whole library (MATH.md M0).
//
//   X  n × p  sparse, row-major (CSR): rows are users, columns are items.
//   B  p × k  item embeddings (rows are items).
//   P  n × k  user embeddings (rows are users), P = X A.
//   A  p × k  the "encoder": a user's embedding is the sum of the rows of A it consumed.
// Dense matrices are Eigen's default column-major; files are written in C (row-major) order.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace linsim {

using Index = Eigen::Index;
using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Single precision, for the p × p matrices of a float32 EASE model (FitOptions::dtype).
using MatrixF = Eigen::MatrixXf;
template <typename Scalar>
using MatrixOf = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
using SparseMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;
// A read-only view of a compressed CSR matrix: binds to a SparseMatrix or to an Eigen::Map over
// arrays someone else owns (a scipy.sparse matrix's, without a copy). Functions that only read
// interactions take one; a view of a SparseMatrix must not outlive it.
using SparseView = Eigen::Ref<const SparseMatrix>;

}  // namespace linsim
