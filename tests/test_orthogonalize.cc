// The block Krylov solver's projection of a new block against its basis (linalg/orthogonalize.h):
// the coupled-columns route against the dense oracle, on inputs that keep its premise and on ones
// that break it (where only the DGKS repetition keeps the result orthogonal), for the panel
// kernels' block widths and GEMM's, and the same bits on any thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/QR>

#include "linalg/orthogonalize.h"
#include "linsim/core/error.h"
#include "linsim/core/random.h"

namespace linsim {
namespace {

Matrix normal(Index rows, Index cols, std::uint64_t stream) {
  Rng rng(7, stream);
  Matrix out(rows, cols);
  for (Index i = 0; i < out.size(); ++i) out.data()[i] = rng.normal();
  return out;
}

// 2,600 rows: five whole chunks of 512 and a partial one.
constexpr Index kRows = 2600;

struct Case {
  Matrix Q;  // kRows × m, orthonormal columns
  Matrix N;  // the part of W orthogonal to Q, what the projection must leave
  Matrix W;  // N plus components along Q
};

// W = N + Q A, with A nonzero in rows [from, m) alone (the premise) or in every row (`all`),
// scaled by `size` against N's unit-sized entries.
Case make_case(Index m, Index b, Index from, bool all, double size) {
  Case c;
  c.Q = Eigen::HouseholderQR<Matrix>(normal(kRows, m, 1)).householderQ() * Matrix::Identity(kRows, m);
  const Matrix G = normal(kRows, b, 2);
  c.N = G - c.Q * (c.Q.transpose() * G);
  c.N -= c.Q * (c.Q.transpose() * c.N);
  Matrix A = size * normal(m, b, 3);
  if (!all) A.topRows(from).setZero();
  c.W = c.N + c.Q * A;
  return c;
}

// ‖Qᵀ W‖ / ‖W‖, column by column, at its worst.
double worst_overlap(const Matrix& Q, const Matrix& W) {
  return ((Q.transpose() * W).colwise().norm().array() / W.colwise().norm().array()).maxCoeff();
}

TEST(Orthogonalize, CoupledColumnsGiveTheFullProjection) {
  const Index m = 120;
  for (const Index b : {4, 8, 16, 3}) {  // the panel kernels' widths and one through GEMM
    for (const Index from : {m - 2 * b, m / 2, Index{0}}) {  // the coupled route, its edge, the fallback
      Case c = make_case(m, b, from, false, 100.0);
      const Matrix coefficients = c.Q.transpose() * c.W;
      Matrix W = c.W;
      Index repeated = 0;
      const Matrix H = project_out_coupled(c.Q, from, W, &repeated);
      EXPECT_EQ(repeated, 0) << b << " " << from;  // the pass over all of Q kept all of W
      EXPECT_LE(worst_overlap(c.Q, W), 1e-14) << b << " " << from;
      EXPECT_LE((W - c.N).norm(), 1e-12 * c.W.norm()) << b << " " << from;
      EXPECT_LE((H - coefficients).norm(), 1e-12 * coefficients.norm()) << b << " " << from;
      Matrix full = c.W;
      const Matrix H_full = project_out(c.Q, full);
      EXPECT_LE((W - full).norm(), 1e-12 * c.W.norm()) << b << " " << from;
      EXPECT_LE((H - H_full).norm(), 1e-12 * coefficients.norm()) << b << " " << from;
    }
  }
}

// Components along every column, 10⁸ times what is left: one pass over Q leaves ~10⁻⁸ of W along
// it (rounding of the 10⁸ it removed); the DGKS test sees the norm collapse and repeats the pass.
TEST(Orthogonalize, AnInputThatBreaksThePremiseIsStillProjectedToRounding) {
  const Index m = 120;
  for (const Index b : {8, 3}) {
    Case c = make_case(m, b, m - b, true, 1e8);
    const Matrix coefficients = c.Q.transpose() * c.W;
    Matrix W = c.W;
    Index repeated = 0;
    const Matrix H = project_out_coupled(c.Q, m - b, W, &repeated);
    EXPECT_EQ(repeated, 1) << b;
    EXPECT_LE(worst_overlap(c.Q, W), 1e-14) << b;
    EXPECT_LE((W - c.N).norm(), 1e-6 * c.N.norm()) << b;  // 10⁸ · 10⁻¹⁶ · √(m b) relative to N
    EXPECT_LE((H - coefficients).norm(), 1e-13 * coefficients.norm()) << b;
  }
}

TEST(Orthogonalize, TheSameBitsOnAnyThreadCount) {
  struct RestoreThreads {
    int count = omp_get_max_threads();
    ~RestoreThreads() { omp_set_num_threads(count); }
  } restore;
  const Index m = 120;
  for (const Index b : {8, 3}) {
    for (const Index from : {m - 2 * b, Index{0}}) {  // the coupled route and the fallback
      for (const bool all : {false, true}) {
        const Case c = make_case(m, b, from, all, all ? 1e8 : 100.0);
        Matrix W1 = c.W;
        omp_set_num_threads(1);
        const Matrix H1 = project_out_coupled(c.Q, from, W1);
        for (const int threads : {2, 3}) {
          omp_set_num_threads(threads);
          Matrix W = c.W;
          const Matrix H = project_out_coupled(c.Q, from, W);
          EXPECT_TRUE(W == W1) << b << " " << from << " " << threads << " " << all;
          EXPECT_TRUE(H == H1) << b << " " << from << " " << threads << " " << all;
        }
      }
    }
  }
}

TEST(Orthogonalize, ACoupledRangeOutsideTheBasisIsRefused) {
  const Case c = make_case(40, 4, 0, false, 1.0);
  for (const Index from : {Index{-1}, Index{41}}) {
    Matrix W = c.W;
    EXPECT_THROW(project_out_coupled(c.Q, from, W), InvalidArgument) << from;
  }
}

}  // namespace
}  // namespace linsim
