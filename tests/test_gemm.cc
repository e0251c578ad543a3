// The kernels of linalg/gemm.h. The one single-threaded GEMM against Eigen's products: every
// transpose combination, alpha and beta, leading dimensions larger than the rows, both precisions.
// The block Krylov solver's panel kernels against Eigen's products. The dense symmetric
// eigen-solver against matrices built from known eigenpairs. The products of linalg/products.h
// against Eigen's, and on one, two and three threads against each other, bit for bit. ctest runs this
// file twice: with the backend this machine offers and with LINSIM_GEMM=eigen.
#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "linalg/gemm.h"
#include "linalg/products.h"
#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "test_util.h"

namespace linsim {
namespace {

template <typename Scalar>
void check_all_cases(double tolerance) {
  using M = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const Index m = 37, n = 29, k = 45, pad = 5;
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      // Storage with extra rows, so that ld > rows.
      const M a_store = test::random_matrix((ta ? k : m) + pad, ta ? m : k, 1).cast<Scalar>();
      const M b_store = test::random_matrix((tb ? n : k) + pad, tb ? k : n, 2).cast<Scalar>();
      const M c_store = test::random_matrix(m + pad, n, 3).cast<Scalar>();
      const M a = a_store.topRows(ta ? k : m);
      const M b = b_store.topRows(tb ? n : k);
      const M opa = ta ? M(a.transpose()) : a;
      const M opb = tb ? M(b.transpose()) : b;
      for (const Scalar beta : {Scalar(0), Scalar(1), Scalar(-0.5)}) {
        M c = c_store;
        const Scalar alpha = Scalar(-1.5);
        gemm<Scalar>(ta, tb, m, n, k, alpha, a_store.data(), a_store.rows(), b_store.data(), b_store.rows(), beta,
                     c.data(), c.rows());
        const M want = alpha * opa * opb + beta * c_store.topRows(m);
        EXPECT_LT((c.topRows(m) - want).cwiseAbs().maxCoeff(), tolerance * (1 + want.cwiseAbs().maxCoeff()))
            << "ta " << ta << " tb " << tb << " beta " << beta << " backend " << gemm_backend();
        EXPECT_TRUE(c.bottomRows(pad) == c_store.bottomRows(pad)) << "wrote outside the m rows";
      }
    }
  }
}

TEST(Gemm, MatchesEigenProductsInBothPrecisions) {
  check_all_cases<double>(1e-12);
  check_all_cases<float>(1e-5);
  // k = 0: C = beta C (no product; the zero leading dimensions must not reach CBLAS).
  Matrix C = test::random_matrix(3, 2, 4);
  const Matrix C0 = C;
  gemm<double>(false, false, 3, 2, 0, 1.0, nullptr, 0, nullptr, 0, -0.5, C.data(), 3);
  EXPECT_TRUE(C == -0.5 * C0);
  EXPECT_FALSE(gemm_backend().empty());
  std::cout << "GEMM backend: " << gemm_backend() << "\n";
}

// S = Q diag(lambda) Qᵀ with a random orthogonal Q: the eigenpairs are known.
Matrix with_eigenvalues(const Vector& lambda, unsigned seed) {
  const Index p = lambda.size();
  const Eigen::HouseholderQR<Matrix> qr(test::random_matrix(p, p, seed));
  const Matrix Q = qr.householderQ();
  const Matrix S = Q * lambda.asDiagonal() * Q.transpose();
  return 0.5 * (S + S.transpose());
}

// The identities every answer must satisfy whatever the solver: S v = λ v, orthonormal vectors,
// the k largest of the known eigenvalues in descending order.
void check_top_eigen(const Matrix& S, const Vector& lambda, Index k) {
  Vector values;
  Matrix vectors;
  dense_top_eigen(S, k, values, vectors);
  ASSERT_EQ(values.size(), k);
  ASSERT_EQ(vectors.rows(), S.rows());
  ASSERT_EQ(vectors.cols(), k);
  Vector sorted = lambda;
  std::sort(sorted.data(), sorted.data() + sorted.size(), std::greater<>());
  const double scale = std::max(1.0, lambda.cwiseAbs().maxCoeff());
  EXPECT_LT((values - sorted.head(k)).cwiseAbs().maxCoeff(), 1e-12 * scale) << "backend " << gemm_backend();
  EXPECT_LT((S * vectors - vectors * values.asDiagonal()).cwiseAbs().maxCoeff(), 1e-11 * scale);
  EXPECT_LT((vectors.transpose() * vectors - Matrix::Identity(k, k)).cwiseAbs().maxCoeff(), 1e-12);
}

// multiply() on every way it cuts a product: tiles of rows, of columns and of both, ranges of a deep
// inner dimension, one piece, an empty inner dimension; every transpose combination, leading dimensions
// above the rows, both precisions. On 1, 2 and 3 threads the results are equal bit for bit (Eigen's
// own parallel GEMM, which this replaces, gave other low bits on one thread than on two once the
// inner dimension passed its parallel blocking, 320 deep on AVX-512).
template <typename Scalar>
void check_products(double tolerance) {
  using M = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  struct Shape {
    Index m, n, k;
  };
  const Index pad = 3;
  const Shape shapes[] = {{kProductTile + 300, 37, 45},  // row tiles
                          {29, 2 * kProductTile + 7, 61},  // column tiles
                          {kProductTile + 5, kProductTile + 9, 33},  // both
                          {23, 19, 5 * kProductDepth + 11},  // ranges of the inner dimension
                          {40, 40, 700},  // one piece
                          {7, 5, 0}};
  for (const Shape& sh : shapes) {
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        const M a_store = test::random_matrix((ta ? sh.k : sh.m) + pad, ta ? sh.m : sh.k, 4).template cast<Scalar>();
        const M b_store = test::random_matrix((tb ? sh.n : sh.k) + pad, tb ? sh.k : sh.n, 5).template cast<Scalar>();
        const M a = a_store.topRows(ta ? sh.k : sh.m);
        const M b = b_store.topRows(tb ? sh.n : sh.k);
        const M want = (ta ? M(a.transpose()) : a) * (tb ? M(b.transpose()) : b);
        std::vector<M> got;
        for (const int threads : {1, 2, 3}) {
          Context ctx;
          ctx.threads = threads;
          const ThreadScope scope(ctx);
          M c = M::Constant(sh.m + pad, sh.n, Scalar(7));
          multiply<Scalar>(ta, tb, sh.m, sh.n, sh.k, a_store.data(), a_store.rows(), b_store.data(), b_store.rows(),
                           c.data(), c.rows());
          EXPECT_TRUE((c.bottomRows(pad).array() == Scalar(7)).all()) << "wrote outside the m rows";
          got.push_back(c.topRows(sh.m));
        }
        const double scale = 1.0 + static_cast<double>(want.cwiseAbs().maxCoeff());
        EXPECT_LT(static_cast<double>((got[0] - want).cwiseAbs().maxCoeff()), tolerance * scale * (1.0 + std::sqrt(static_cast<double>(sh.k))))
            << sh.m << " x " << sh.n << " x " << sh.k << " ta " << ta << " tb " << tb;
        EXPECT_TRUE(got[0] == got[1]) << sh.m << " x " << sh.n << " x " << sh.k << " ta " << ta << " tb " << tb;
        EXPECT_TRUE(got[0] == got[2]) << sh.m << " x " << sh.n << " x " << sh.k << " ta " << ta << " tb " << tb;
      }
    }
  }
}

TEST(Products, MatchEigenAndNeverDependOnTheThreadCount) {
  check_products<double>(1e-13);
  check_products<float>(1e-5);
  // Inside a parallel region every thread gets the one-thread result (the pieces run in the caller).
  {
    const Matrix A = test::random_matrix(kProductTile + 100, 50, 10), B = test::random_matrix(50, 40, 11);
    const Matrix want = times(A, B);
    std::vector<Matrix> got(2);
#pragma omp parallel num_threads(2)
    got[static_cast<size_t>(omp_get_thread_num())] = times(A, B);
    EXPECT_TRUE(got[0] == want);
    EXPECT_TRUE(got[1] == want);
  }
  // The Eigen-typed forms: Aᵀ B, A C and A Dᵀ.
  const Matrix A = test::random_matrix(3000, 12, 6), B = test::random_matrix(3000, 9, 7);
  const Matrix C = test::random_matrix(12, 9, 8), D = test::random_matrix(9, 12, 9);
  EXPECT_LT((transpose_times(A, B) - A.transpose() * B).cwiseAbs().maxCoeff(), 1e-11);
  EXPECT_LT((times(A, C) - A * C).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((times_transpose(A, D) - A * D.transpose()).cwiseAbs().maxCoeff(), 1e-12);
  const MatrixF Af = A.cast<float>(), Cf = C.cast<float>();
  EXPECT_LT((times(Af, Cf) - Af * Cf).cwiseAbs().maxCoeff(), 1e-4f);
  EXPECT_LT((transpose_times(Af, Af) - Af.transpose() * Af).cwiseAbs().maxCoeff(), 1e-2f);
}

// The panel kernels of the block Krylov solver against Eigen's products: H = Qᵀ W and W += α Q H
// for the widths they take (4, 8, 16), on panels of up to three of the kernels' 512-row pieces
// (the sums carried from piece to piece) and whose columns are not a multiple of the kernels'
// column groups (twelve, or eight for W += α Q H at 16), inside larger storage
// (ld > rows) that they must not write outside of; any other width is declined untouched.
TEST(PanelKernels, MatchEigenProductsAndDeclineOtherWidths) {
  const auto max_abs = [](const Matrix& a) { return a.size() == 0 ? 0.0 : a.cwiseAbs().maxCoeff(); };
  const Index pad = 3;
  Index ran = 0;
  for (const Index b : {4, 8, 16}) {
    for (const Index h : {0, 1, 7, 8, 9, 23, 300, 512, 1100}) {  // 512: one whole piece; 1100: three
      for (const Index m : {0, 1, 3, 5, 9, 17, 33}) {
        const Matrix q_store = test::random_matrix(h + pad, m + 1, 4);
        const Matrix w_store = test::random_matrix(h + pad + 2, b, 5);  // W's leading dimension is not Q's
        const Matrix h_store = test::random_matrix(m + pad, b, 6);
        const Matrix Q = q_store.topLeftCorner(h, m);
        const Matrix W = w_store.topRows(h);
        Matrix H = h_store;
        if (!panel_cross(q_store.data(), q_store.rows(), h, m, w_store.data(), w_store.rows(), b, H.data(), H.rows())) {
          continue;  // a build without AVX-512: the callers run the GEMM (checked below: all or none)
        }
        ++ran;
        const Matrix want_h = Q.transpose() * W;
        EXPECT_LE(max_abs(H.topRows(m) - want_h), 1e-12 * (1 + max_abs(want_h)))
            << "cross b " << b << " h " << h << " m " << m;
        EXPECT_TRUE(H.bottomRows(pad) == h_store.bottomRows(pad)) << "cross wrote outside its m rows";
        Matrix w = w_store;
        ASSERT_TRUE(panel_update(q_store.data(), q_store.rows(), h, m, h_store.data(), h_store.rows(), b, -0.75,
                                 w.data(), w.rows()));
        const Matrix want_w = W - 0.75 * Q * h_store.topRows(m);
        EXPECT_LE(max_abs(w.topRows(h) - want_w), 1e-12 * (1 + max_abs(want_w)))
            << "update b " << b << " h " << h << " m " << m;
        EXPECT_TRUE(w.bottomRows(pad + 2) == w_store.bottomRows(pad + 2)) << "update wrote outside its h rows";
      }
    }
  }
  if (ran == 0) GTEST_SKIP() << "the panel kernels need AVX-512; this build declines them (the GEMM runs)";
  EXPECT_EQ(ran, 3 * 9 * 7) << "every width is taken, or none";
  // Width 5, with operands of the right sizes for it: declined, nothing written.
  const Matrix q = test::random_matrix(16, 8, 8);
  const Matrix w5 = test::random_matrix(16, 5, 9);
  Matrix h5 = test::random_matrix(8, 5, 10);
  Matrix w5_out = w5;
  const Matrix h5_before = h5;
  EXPECT_FALSE(panel_cross(q.data(), 16, 16, 8, w5.data(), 16, 5, h5.data(), 8));
  EXPECT_FALSE(panel_update(q.data(), 16, 16, 8, h5.data(), 8, 5, 1.0, w5_out.data(), 16));
  EXPECT_TRUE(h5 == h5_before);
  EXPECT_TRUE(w5_out == w5);
}

TEST(DenseTopEigen, FindsTheLargestPairsOfKnownSpectra) {
  // Distinct eigenvalues of both signs (largest algebraic, not largest magnitude: -50 is left out).
  Vector lambda = Vector::LinSpaced(120, -50.0, 30.0);
  const Matrix S = with_eigenvalues(lambda, 11);
  for (const Index k : {Index{1}, Index{7}, Index{60}, Index{120}}) check_top_eigen(S, lambda, k);
  // A repeated eigenvalue across the cut and a zero block (a rank-deficient Gram matrix).
  Vector repeated = Vector::Zero(90);
  repeated.head(10).setConstant(4.0);
  repeated.segment(10, 20) = Vector::LinSpaced(20, 1.0, 3.0);
  check_top_eigen(with_eigenvalues(repeated, 12), repeated, 5);
  check_top_eigen(with_eigenvalues(repeated, 12), repeated, 40);
  // Large enough that the solvers take their blocked paths.
  Vector wide = Vector::LinSpaced(700, 1.0, 1e4).array().square();
  check_top_eigen(with_eigenvalues(wide, 13), wide, 50);
  // 1 × 1.
  check_top_eigen(Matrix::Constant(1, 1, -2.5), Vector::Constant(1, -2.5), 1);
}

TEST(DenseTopEigen, RefusesBadInput) {
  Vector values;
  Matrix vectors;
  Matrix S = with_eigenvalues(Vector::LinSpaced(6, 1.0, 6.0), 14);
  EXPECT_THROW(dense_top_eigen(S, 0, values, vectors), InvalidArgument);
  EXPECT_THROW(dense_top_eigen(S, 7, values, vectors), InvalidArgument);
  EXPECT_THROW(dense_top_eigen(Matrix(6, 5), 2, values, vectors), InvalidArgument);
  S(3, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(dense_top_eigen(S, 2, values, vectors), Error);
  S(3, 2) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(dense_top_eigen(S, 2, values, vectors), Error);
}

}  // namespace
}  // namespace linsim
