// MATH.md M3: EASE has a zero diagonal and agrees with the dense-inverse formula; it is the
// constrained optimum (the unconstrained ridge solution is I − λ(G + λI)⁻¹).
#include <gtest/gtest.h>

#include "linsim/core/error.h"
#include "linsim/models/ease.h"
#include "linsim/models/model.h"
#include "linsim/linalg/spd_inverse.h"
#include "test_util.h"

#include <Eigen/LU>

namespace linsim {
namespace {

TEST(Ease, ZeroDiagonalAndDenseInverseAgreement) {
  const SparseMatrix X = test::random_binary(80, 30, 0.2, 12);
  const Matrix D = Matrix(X);
  const Matrix G = D.transpose() * D;
  const double lambda = 7.0;
  const Matrix W = ease_weights(G, lambda);
  EXPECT_EQ(W.diagonal().cwiseAbs().maxCoeff(), 0.0);
  const Matrix Pinv = (G + lambda * Matrix::Identity(30, 30)).inverse();
  Matrix ref = Matrix::Identity(30, 30) - Pinv * Pinv.diagonal().cwiseInverse().asDiagonal();
  ref.diagonal().setZero();
  EXPECT_LT(test::relative_difference(W, ref), 1e-10);
}

TEST(Ease, SatisfiesTheConstrainedOptimalityCondition) {
  // Lagrangian of min ‖X − XW‖² + λ‖W‖² s.t. diag(W) = 0: (G + λI) W − G = −dMat(μ), i.e. the
  // off-diagonal of (G + λI) W − G vanishes.
  const SparseMatrix X = test::random_binary(60, 20, 0.25, 4);
  const Matrix G = Matrix(X).transpose() * Matrix(X);
  const double lambda = 3.0;
  const Matrix W = ease_weights(G, lambda);
  Matrix R = (G + lambda * Matrix::Identity(20, 20)) * W - G;
  R.diagonal().setZero();
  EXPECT_LT(R.cwiseAbs().maxCoeff(), 1e-9 * G.norm());
}

TEST(Ease, RankDeficientDataNeedsPositiveLambda) {
  Matrix D = Matrix::Zero(4, 3);
  D << 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1;
  const Matrix G = D.transpose() * D;
  EXPECT_THROW(ease_weights(G, 0.0), InvalidArgument);
  EXPECT_NO_THROW(ease_weights(G, 0.5));
}

}  // namespace
}  // namespace linsim

namespace linsim {
namespace {

// The in-place inverse across several 256-blocks, in both precisions, against A A⁻¹ = I and a
// dense LU inverse; the same bits for any thread count.
TEST(SpdInverse, InPlaceBlockedInverseMatchesTheDenseInverse) {
  const Index n = 700;
  const Matrix R = test::random_matrix(n, n, 21);
  const Matrix A = R.transpose() * R / static_cast<double>(n) + Matrix::Identity(n, n);
  Matrix inv = A;
  ASSERT_TRUE(spd_inverse_in_place(inv, 1e-12));
  EXPECT_LT((A * inv - Matrix::Identity(n, n)).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_LT(test::relative_difference(inv, A.inverse()), 1e-12);
  EXPECT_TRUE(inv.isApprox(inv.transpose(), 0.0) || (inv - inv.transpose()).cwiseAbs().maxCoeff() == 0.0);
  Eigen::MatrixXf invf = A.cast<float>();
  ASSERT_TRUE(spd_inverse_in_place(invf, 1e-6));
  EXPECT_LT((A.cast<float>() * invf - Eigen::MatrixXf::Identity(n, n)).cwiseAbs().maxCoeff(), 1e-4f);
  Context one;
  one.threads = 1;
  use_threads(one);
  Matrix inv1 = A;
  ASSERT_TRUE(spd_inverse_in_place(inv1, 1e-12));
  use_threads(Context{});
  EXPECT_TRUE(inv1 == inv);
  Matrix singular = R.leftCols(10) * R.leftCols(10).transpose();  // rank 10
  EXPECT_FALSE(spd_inverse_in_place(singular, 1e-12));
  // Positive definite in the first pivot block, singular only in the Schur complement of a later one.
  Matrix late = R.leftCols(400) * R.leftCols(400).transpose();  // rank 400 < 700
  EXPECT_FALSE(spd_inverse_in_place(late, 1e-12));
}

}  // namespace
}  // namespace linsim
