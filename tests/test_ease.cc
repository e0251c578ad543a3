// MATH.md M3: EASE has a zero diagonal and agrees with the dense-inverse formula; it is the
// constrained optimum (the unconstrained ridge solution is I − λ(G + λI)⁻¹).
#include <gtest/gtest.h>

#include <cmath>

#include "linsim/core/error.h"
#include "linsim/linalg/data_matrix.h"
#include "linsim/models/ease.h"
#include "linsim/models/model.h"
#include "linalg/spd_inverse.h"
#include "linsim/similarity/measure.h"
#include "test_util.h"

#include <Eigen/Eigenvalues>
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

// float32 EASE (--dtype float32): the same weights up to the conditioning of G + λI. A normwise
// backward-stable inverse has relative error about c·κ·u (u = 2⁻²⁴) with a modest c; c = 10 here
// (measured: 0.6), where a wrong formula, a wrong scale or a lost column would be off by O(1).
TEST(Ease, Float32AgreesWithFloat64WithinTheConditioning) {
  const SparseMatrix X = test::random_binary(400, 120, 0.1, 31);
  const Matrix G = Matrix(X).transpose() * Matrix(X);
  const double lambda = 5.0;
  const Vector eig = Eigen::SelfAdjointEigenSolver<Matrix>(G).eigenvalues();
  const double kappa = (eig.maxCoeff() + lambda) / (eig.minCoeff() + lambda);
  const Matrix W64 = ease_weights<double>(G, lambda);
  const MatrixF W32 = ease_weights<float>(G.cast<float>(), lambda);
  EXPECT_EQ(W32.diagonal().cwiseAbs().maxCoeff(), 0.0f);
  const double u = std::ldexp(1.0, -24);
  const double error = test::relative_difference(W32.cast<double>(), W64);
  EXPECT_LT(error, 10 * kappa * u) << "kappa " << kappa;
  EXPECT_GT(error, 0.0);  // it did run in single precision
}

TEST(Ease, Float32RefusesPivotsLostInRounding) {
  // Two identical columns: G + λI has a pivot of about 2λ against a diagonal of 2.
  Matrix D = Matrix::Zero(4, 3);
  D << 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1;
  const Matrix G = D.transpose() * D;
  EXPECT_THROW(ease_weights<float>(G.cast<float>(), 1e-6), InvalidArgument);  // 1e-6 < 1e-5 relative
  EXPECT_NO_THROW(ease_weights<double>(G, 1e-6));                            // 1e-6 > 1e-12
  EXPECT_NO_THROW(ease_weights<float>(G.cast<float>(), 1e-2));
}

// A float32 model through every consumer of its weights: scores, the dot and projected
// similarities, each against the same computation on the weights converted to double, and the
// fitted weights against the float64 model's, with a weighting that centres the data.
TEST(Ease, Float32ModelScoresAndSimilarities) {
  const SparseMatrix X = test::random_binary(300, 60, 0.08, 32);
  FitOptions o;
  o.kind = ModelKind::kEase;
  o.lambda = 4.0;
  o.weighting = parse_weighting("ips:0.5,standardize");
  const Model m64 = fit_model(X, o, Context{});
  o.dtype = Dtype::kFloat32;
  const Model m32 = fit_model(X, o, Context{});
  EXPECT_EQ(m32.weights.size(), 0);
  ASSERT_EQ(m32.weights32.rows(), 60);
  EXPECT_EQ(m32.n_items(), 60);
  const Matrix W = m32.weights32.cast<double>();
  EXPECT_LT(test::relative_difference(W, m64.weights), 1e-4);

  const SparseMatrix Q = test::random_binary(7, 60, 0.1, 33);
  // The oracle in dense arithmetic: (Y_q − 1 cᵀ) W, Y_q the weighted rows, c the weighting's centre.
  const Matrix Yq = Matrix(m32.weighting.apply(Q));
  const Matrix centred = m32.weighting.center.size() > 0 ? Matrix(Yq.rowwise() - m32.weighting.center.transpose()) : Yq;
  EXPECT_GT(m32.weighting.center.size(), 0);  // standardize centres
  EXPECT_LT(test::relative_difference(score_users(m32, Q), centred * W), 1e-13);

  auto all_scores = [](const SimilaritySpace& space) {
    std::vector<Index> all(static_cast<size_t>(space.size()));
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<Index>(i);
    RowMatrix out;
    space.score(all, out);
    return Matrix(out);
  };
  EXPECT_TRUE(all_scores(*make_similarity_space(m32, X, Side::kItems, Measure::kDot, Context{})) == W);
  // Projected: cosines of the columns of X_w W (float products: agreement to float accuracy).
  const Matrix Xw = Matrix(m32.weighting.apply(X)).rowwise() - m32.weighting.center.transpose();
  const Matrix projected = all_scores(*make_similarity_space(m32, X, Side::kItems, Measure::kProjected, Context{}));
  EXPECT_LT((projected - test::cosine_matrix((Xw * W).transpose())).cwiseAbs().maxCoeff(), 1e-4);

  // Regression (audit): values of 1e±100 with λ scaled alike are as well conditioned as the
  // unscaled data (the same weights in float64), but float32 cannot hold XᵀX + λI: refused naming
  // the range, not as "too ill-conditioned".
  for (const double scale : {1e-100, 1e100}) {
    SCOPED_TRACE(scale);
    FitOptions scaled = o;
    scaled.weighting = Weighting{};
    scaled.lambda = o.lambda * scale * scale;
    const SparseMatrix Xs = X * scale;
    scaled.dtype = Dtype::kFloat64;
    FitOptions plain = scaled;
    plain.lambda = o.lambda;
    EXPECT_LT(test::relative_difference(fit_model(Xs, scaled, Context{}).weights, fit_model(X, plain, Context{}).weights),
              1e-12);
    scaled.dtype = Dtype::kFloat32;
    try {
      fit_model(Xs, scaled, Context{});
      ADD_FAILURE() << "float32 EASE accepted values of " << scale;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("outside the range [1e-30, 1e37]"), std::string::npos) << e.what();
    }
  }

  FitOptions eq2 = test::exact_options(ModelKind::kEq2, 5, 1.0);
  eq2.dtype = Dtype::kFloat32;
  EXPECT_THROW(fit_model(X, eq2, Context{}), InvalidArgument);
  EXPECT_EQ(parse_dtype("float32"), Dtype::kFloat32);
  EXPECT_THROW(parse_dtype("float16"), InvalidArgument);
  FitOptions f64 = o;
  f64.dtype = Dtype::kFloat64;
  EXPECT_LT(fit_memory_bytes(300, 20000, 1000, o), 0.51 * fit_memory_bytes(300, 20000, 1000, f64));
}

}  // namespace
}  // namespace linsim

namespace linsim {
namespace {

// The in-place inverse across several 256-blocks and several row panels of its update (n = 700:
// panels of 256 rows, the last of 188), in both precisions, against A A⁻¹ = I and a dense LU
// inverse; the same bits for any thread count.
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
  Matrix inv1 = A;
  {
    const ThreadScope scope(one);
    ASSERT_TRUE(spd_inverse_in_place(inv1, 1e-12));
  }
  EXPECT_TRUE(inv1 == inv);
  Matrix singular = R.leftCols(10) * R.leftCols(10).transpose();  // rank 10
  EXPECT_FALSE(spd_inverse_in_place(singular, 1e-12));
  // Positive definite in the first pivot block, singular only in the Schur complement of a later one.
  Matrix late = R.leftCols(400) * R.leftCols(400).transpose();  // rank 400 < 700
  EXPECT_FALSE(spd_inverse_in_place(late, 1e-12));
}

}  // namespace
}  // namespace linsim
