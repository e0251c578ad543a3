// The one single-threaded GEMM (linalg/gemm.h) against Eigen's products: every transpose
// combination, alpha and beta, leading dimensions larger than the rows, both precisions. ctest
// runs this file twice: with the backend this machine offers and with LINSIM_GEMM=eigen.
#include <gtest/gtest.h>

#include "linalg/gemm.h"
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

}  // namespace
}  // namespace linsim
