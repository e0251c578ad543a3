// Spectrum (MATH.md M0): the Lanczos operator path against the dense oracle; the Gram matrix
// against a dense product; results independent of the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <utility>

#include "linsim/core/error.h"
#include "linsim/linalg/gram.h"
#include "linsim/linalg/spectrum.h"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include "test_util.h"

namespace linsim {
namespace {

TEST(Gram, MatchesDenseProduct) {
  SparseMatrix X = test::random_binary(200, 60, 0.1, 3);
  for (Index q = 0; q < X.nonZeros(); q += 3) X.valuePtr()[q] = 0.5 + static_cast<double>(q % 7);
  const Matrix D = Matrix(X);
  EXPECT_LT(test::relative_difference(gram_matrix(X, Context{}), D.transpose() * D), 1e-14);
}

// Float Gram matrices (a float32 EASE's XᵀX): the sparse path sums each column in double in the
// same order as the double path and rounds once, so it is exactly the rounded double Gram matrix,
// centred or not, for any values; the dense path multiplies float blocks, exact for 0/1 data.
TEST(Gram, Float32IsTheRoundedDoubleGramMatrix) {
  // 2,000 × 300 at 1 %: the sparse accumulation is estimated faster (4.5e-6 s against 3e-3 s).
  SparseMatrix sparse = test::random_binary(2000, 300, 0.01, 6);
  // 600 × 50 at 50 %: GEMM on dense blocks is estimated faster (2.5e-5 s against 9e-5 s).
  const SparseMatrix dense = test::random_binary(600, 50, 0.5, 7);
  for (const SparseMatrix* X : {static_cast<const SparseMatrix*>(&sparse), &dense}) {
    EXPECT_TRUE(gram_matrix<float>(*X, Context{}) == gram_matrix<double>(*X, Context{}).cast<float>());
  }
  for (Index q = 0; q < sparse.nonZeros(); ++q) sparse.valuePtr()[q] = 1.0 / (1.0 + static_cast<double>(q % 13));
  Vector center = Vector::LinSpaced(300, 0.0, 0.05);
  Context one;
  one.threads = 1;
  const MatrixF G32 = gram_matrix<float>(sparse, Context{}, center);
  EXPECT_TRUE(G32 == gram_matrix<double>(sparse, Context{}, center).cast<float>());
  EXPECT_TRUE(G32 == gram_matrix<float>(sparse, one, center));
  const Matrix D = Matrix(sparse).rowwise() - center.transpose();
  EXPECT_LT(test::relative_difference(gram_matrix<double>(sparse, Context{}, center), D.transpose() * D), 1e-13);
  // The dense path with real values: float products summed in float, within a few u of the scale.
  SparseMatrix weighted = dense;
  for (Index q = 0; q < weighted.nonZeros(); ++q) weighted.valuePtr()[q] = 0.3 + static_cast<double>(q % 7) / 9.0;
  const Matrix Dw = Matrix(weighted).rowwise() - Vector::Constant(50, 0.2).transpose();
  EXPECT_LT(test::relative_difference(gram_matrix<float>(weighted, Context{}, Vector::Constant(50, 0.2)).cast<double>(),
                                      Dw.transpose() * Dw),
            1e-5);
}

// The dense path (GEMM on blocks of 512 users, panels of 64 columns) with real values, centred or
// not: within a few rounding errors of the dense product, and the same bits on 1, 2 and 3 threads
// (3 leaves the panels unevenly shared), in double and float.
TEST(Gram, DensePathWithRealValuesIsTheSameOnAnyThreadCount) {
  SparseMatrix X = test::random_binary(1300, 150, 0.4, 11);  // three blocks of users, three panels
  for (Index q = 0; q < X.nonZeros(); ++q) X.valuePtr()[q] = 0.1 + static_cast<double>(q % 11) / 7.0;
  const Vector center = Vector::LinSpaced(150, 0.0, 0.3);
  for (const Vector& c : {Vector(), center}) {
    SCOPED_TRACE(c.size());
    Matrix D = Matrix(X);
    if (c.size() != 0) D.rowwise() -= c.transpose();
    const Matrix oracle = D.transpose() * D;
    Context one, three;
    one.threads = 1;
    three.threads = 3;
    const Matrix G = gram_matrix(X, Context{}, c);
    EXPECT_LT(test::relative_difference(G, oracle), 1e-13);
    EXPECT_TRUE(gram_matrix(X, one, c) == G);
    EXPECT_TRUE(gram_matrix(X, three, c) == G);
    const MatrixF G32 = gram_matrix<float>(X, Context{}, c);
    EXPECT_LT(test::relative_difference(G32.cast<double>(), oracle), 1e-5);
    EXPECT_TRUE(gram_matrix<float>(X, one, c) == G32);
    EXPECT_TRUE(gram_matrix<float>(X, three, c) == G32);
  }
}

// The sparse path across several waves of 1,024 columns, with empty columns and columns of fewer
// users than the prefetch distance, and the dense path across several column blocks: 0/1 data, so
// every sum is an exact integer and the oracle (a sparse product) is met bit for bit, in double and
// float, on one thread and all. A view of some rows of a matrix (whose index arrays start
// elsewhere than at 0) gives what a copy of those rows gives, centred or not, as does a DataMatrix
// of it.
TEST(Gram, ExactAcrossWavesBlocksEmptyColumnsAndRowViews) {
  SparseMatrix sparse = test::random_binary(1500, 1100, 0.004, 8);  // ~7 users per column
  sparse.prune([](Index, Index col, double) { return col != 5 && col != 1090; });
  const SparseMatrix dense = test::random_binary(600, 150, 0.5, 9);  // GEMM blocks of 64 columns
  Context one;
  one.threads = 1;
  for (const SparseMatrix* X : {static_cast<const SparseMatrix*>(&sparse), &dense}) {
    const Matrix oracle = Matrix(SparseMatrix(SparseMatrix(X->transpose()) * *X));
    const Matrix G = gram_matrix(*X, Context{});
    EXPECT_TRUE(G == oracle);
    EXPECT_TRUE(gram_matrix(*X, one) == G);
    EXPECT_TRUE(gram_matrix<float>(*X, Context{}) == oracle.cast<float>());
  }
  EXPECT_TRUE(gram_matrix(sparse, Context{}).col(5).isZero(0.0));
  const SparseMatrix rows = sparse.middleRows(300, 700);
  const SparseView view(sparse.middleRows(300, 700));
  ASSERT_NE(view.outerIndexPtr()[0], 0);
  const Vector center = Vector::LinSpaced(1100, 0.0, 0.01);
  EXPECT_TRUE(gram_matrix(view, Context{}) == gram_matrix(rows, Context{}));
  EXPECT_TRUE(gram_matrix(view, Context{}, center) == gram_matrix(rows, Context{}, center));
  const DataMatrix of_view(view), of_rows(rows);
  EXPECT_TRUE(of_view.column_sums() == of_rows.column_sums());
  EXPECT_EQ(of_view.unit_values(), of_rows.unit_values());
  EXPECT_EQ(of_view.squared_norm(), of_rows.squared_norm());
  // The column-major copy (the two-pass products' second pass) holds the view's entries alone,
  // rows in order within each column, array for array what Eigen's conversion of the copy holds.
  const Eigen::SparseMatrix<double, Eigen::ColMajor, int> columns(rows);
  for (const DataMatrix* d : {&of_view, &of_rows}) {
    const auto& C = d->csc();
    ASSERT_EQ(C.nonZeros(), columns.nonZeros());
    EXPECT_EQ(C.rows(), 700);
    EXPECT_EQ(C.cols(), 1100);
    EXPECT_TRUE(std::equal(C.outerIndexPtr(), C.outerIndexPtr() + 1101, columns.outerIndexPtr()));
    EXPECT_TRUE(std::equal(C.innerIndexPtr(), C.innerIndexPtr() + C.nonZeros(), columns.innerIndexPtr()));
    EXPECT_EQ(C.valuePtr(), nullptr);  // binary data: no values stored (the kernels take them as 1)
  }
  const RowMatrix R = test::random_matrix(700, 3, 10);
  EXPECT_TRUE(of_view.transpose_times_rows(R) == of_rows.transpose_times_rows(R));
  for (const auto& [n, p] : {std::pair{Index{0}, Index{3}}, std::pair{Index{4}, Index{0}}, std::pair{Index{4}, Index{3}}}) {
    const SparseMatrix empty(n, p);
    const DataMatrix of_empty(empty);
    EXPECT_EQ(of_empty.csc().rows(), n);
    EXPECT_EQ(of_empty.csc().cols(), p);
    EXPECT_EQ(of_empty.csc().nonZeros(), 0);
  }
  EXPECT_EQ(gram_matrix(SparseMatrix(0, 3), Context{}), Matrix::Zero(3, 3));
  EXPECT_EQ(gram_matrix(SparseMatrix(4, 0), Context{}).size(), 0);
}

// The column-major copy is built by ranges of rows, one per thread (at most 8): on any thread
// count, of a matrix and of a view of its rows, it holds array for array what Eigen's conversion
// holds — the values too, unless every value is 1, when it stores none.
TEST(Gram, TheColumnCopyIsTheSameOnAnyThreadCount) {
  struct RestoreThreads {
    int count = omp_get_max_threads();
    ~RestoreThreads() { omp_set_num_threads(count); }
  } restore;
  for (const bool binary : {false, true}) {
    SparseMatrix X = test::random_binary(2000, 50, 0.1, 12);  // ~240 users per column
    if (!binary) {
      for (Index q = 0; q < X.nonZeros(); ++q) X.valuePtr()[q] = 1.0 + static_cast<double>(q % 13);
    }
    const SparseMatrix rows = X.middleRows(123, 1500);
    const SparseView view(X.middleRows(123, 1500));
    for (const int threads : {1, 2, 3, 5, 16}) {  // OpenMP's own count: more threads than cores is allowed
      omp_set_num_threads(threads);
      for (const SparseMatrix* Y : {static_cast<const SparseMatrix*>(&X), &rows}) {
        const Eigen::SparseMatrix<double, Eigen::ColMajor, int> columns(*Y);
        const DataMatrix of_copy(*Y), of_view(view);
        for (const DataMatrix* d : {&of_copy, &of_view}) {
          if (d == &of_view && Y != &rows) continue;
          const auto& C = d->csc();
          ASSERT_EQ(C.nonZeros(), columns.nonZeros());
          EXPECT_TRUE(std::equal(C.outerIndexPtr(), C.outerIndexPtr() + 51, columns.outerIndexPtr())) << threads;
          EXPECT_TRUE(std::equal(C.innerIndexPtr(), C.innerIndexPtr() + C.nonZeros(), columns.innerIndexPtr())) << threads;
          if (binary) {
            EXPECT_EQ(C.valuePtr(), nullptr);
          } else {
            ASSERT_NE(C.valuePtr(), nullptr);
            EXPECT_TRUE(std::equal(C.valuePtr(), C.valuePtr() + C.nonZeros(), columns.valuePtr())) << threads;
          }
        }
      }
    }
  }
}

TEST(Gram, IndependentOfThreadCount) {
  SparseMatrix X = test::random_binary(300, 80, 0.1, 4);
  for (Index q = 0; q < X.nonZeros(); ++q) X.valuePtr()[q] = 1.0 / (1.0 + static_cast<double>(q % 13));
  Context one;
  one.threads = 1;
  Context two;
  two.threads = 2;
  EXPECT_TRUE(gram_matrix(X, one) == gram_matrix(X, two));
  const DataMatrix data(X);
  GramOperator op(data);
  const Vector v = test::random_matrix(80, 1, 5);
  Matrix y1, y2;
  {
    const ThreadScope scope(one);
    y1 = op.apply(v);
  }
  {
    const ThreadScope scope(two);
    y2 = op.apply(v);
  }
  EXPECT_TRUE(y1 == y2);
  const Matrix D = Matrix(X);
  EXPECT_LT(test::relative_difference(y1, D.transpose() * (D * v)), 1e-14);
}

TEST(Spectrum, LanczosAgreesWithDenseOracle) {
  const SparseMatrix X = test::random_binary(500, 200, 0.05, 8);
  const Index k = 20;
  const Spectrum dense = top_spectrum(X, k, Solver::kGram, Context{});
  const Spectrum lanczos = top_spectrum(X, k, Solver::kLanczos, Context{});
  EXPECT_EQ(lanczos.solver, "lanczos");
  EXPECT_LT((dense.sigma - lanczos.sigma).cwiseAbs().maxCoeff(), 1e-9 * dense.sigma(0));
  // Same subspace: the singular values are distinct here, so each vector agrees up to sign,
  // and signs are fixed by the library's convention.
  EXPECT_LT((dense.V - lanczos.V).cwiseAbs().maxCoeff(), 1e-7);
  // Singular values from a full SVD of the dense matrix.
  const Matrix dense_X = Matrix(X);
  Eigen::JacobiSVD<Matrix> svd(dense_X);
  EXPECT_LT((svd.singularValues().head(k) - dense.sigma).cwiseAbs().maxCoeff(), 1e-10 * dense.sigma(0));
}

// Identical disconnected communities repeat σ_1 exactly, here 10 times: block Krylov started from
// 4 random vectors found 8 copies and gave two smaller σ in place of the rest, Lanczos 5 (exit 0,
// every residual small). The randomized solver now checks a fresh block outside its vectors and
// solves again with wider blocks; Lanczos, which cannot see the copies, refuses. Oracle: the SVD of
// the dense matrix.
TEST(Spectrum, AnExactlyRepeatedTopSingularValueIsFoundEveryTime) {
  const Matrix block = Matrix(test::random_binary(50, 60, 0.2, 1));
  const Index copies = 10;
  Matrix D = Matrix::Zero(50 * copies, 60 * copies);
  for (Index c = 0; c < copies; ++c) D.block(50 * c, 60 * c, 50, 60) = block;
  const SparseMatrix X = D.sparseView();
  const Vector truth = Eigen::JacobiSVD<Matrix>(D).singularValues();
  ASSERT_LT(std::abs(truth(copies - 1) - truth(0)), 1e-12 * truth(0));
  ASSERT_LT(truth(copies), 0.9 * truth(0));
  for (const Index k : {copies, copies + 2}) {
    SCOPED_TRACE(k);
    for (const int threads : {1, 2}) {
      Context ctx;
      ctx.threads = threads;
      const Spectrum s = top_spectrum(X, k, Solver::kRandomized, ctx);
      EXPECT_LT((s.sigma - truth.head(k)).cwiseAbs().maxCoeff(), 1e-6 * truth(0));
      EXPECT_NE(s.reason.find("missed an eigenvalue above the"), std::string::npos) << s.reason;
    }
    try {
      top_spectrum(X, k, Solver::kLanczos, Context{});
      ADD_FAILURE() << "Lanczos accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("Lanczos missed an eigenvalue of XᵀX above its"), std::string::npos) << e.what();
    }
  }
  // Distinct values: no second solve.
  const Spectrum plain = top_spectrum(test::random_binary(500, 200, 0.05, 8), 20, Solver::kRandomized, Context{});
  EXPECT_EQ(plain.reason.find("missed"), std::string::npos) << plain.reason;
}

// Rank-one data: Lanczos's recurrence breaks down after one step. It must either find σ_1 or say
// that the data's rank is below the vectors it builds (was: "the data may have rank below 1" of
// rank-one data, or Spectra's own "TridiagEigen: eigen decomposition failed").
TEST(Spectrum, LanczosOnDataOfRankBelowItsVectorsSaysSo) {
  for (const auto& [n, p] : {std::pair<Index, Index>{3, 3}, {30, 20}, {100, 60}}) {
    SCOPED_TRACE(testing::Message() << n << " x " << p);
    const Vector u = test::random_matrix(n, 1, 3).cwiseAbs().col(0) + Vector::Ones(n);
    const Vector v = test::random_matrix(p, 1, 4).cwiseAbs().col(0) + Vector::Ones(p);
    const Matrix D = n == 3 ? Matrix::Ones(3, 3) : Matrix(u * v.transpose());
    const SparseMatrix X = D.sparseView();
    try {
      const Spectrum s = top_spectrum(X, 1, Solver::kLanczos, Context{});
      EXPECT_LT(std::abs(s.sigma(0) - Eigen::JacobiSVD<Matrix>(D).singularValues()(0)), 1e-8 * s.sigma(0));
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("the data may have rank below the"), std::string::npos) << what;
      EXPECT_NE(what.find("use --solver randomized or gram"), std::string::npos) << what;
    }
  }
}

TEST(Spectrum, AutoChoosesAndExplains) {
  const SparseMatrix small = test::random_binary(100, 40, 0.1, 1);
  EXPECT_EQ(top_spectrum(small, 5, Solver::kAuto, Context{}).solver, "gram");
  const SparseMatrix wide = test::random_binary(800, 600, 0.02, 2);
  const Spectrum s = top_spectrum(wide, 10, Solver::kAuto, Context{});
  EXPECT_EQ(s.solver, "randomized");
  EXPECT_FALSE(s.reason.empty());
  // The route auto would take, chosen once (choose_route), is the route top_spectrum runs; a
  // route given explicitly is run as given, with its reason.
  const Route chosen = choose_route(wide, 10, Solver::kAuto);
  EXPECT_EQ(chosen.solver, Solver::kRandomized);
  EXPECT_EQ(chosen.reason, s.reason.substr(0, chosen.reason.size()));
  const Spectrum given = top_spectrum(DataMatrix(wide), 10, Route{Solver::kGram, "given"}, Context{});
  EXPECT_EQ(given.solver, "gram");
  EXPECT_EQ(given.reason, "given");
  EXPECT_LT((given.sigma - s.sigma).cwiseAbs().maxCoeff(), 1e-5 * given.sigma(0));
}

// A dense symmetric matrix (SPPMI's) has no data operator for the block Krylov solver: asked for
// it, top_eigenpairs runs Lanczos and says so, with the dense decomposition's pairs.
TEST(Spectrum, ADenseMatrixAskedForRandomizedRunsLanczosAndSaysSo) {
  const SparseMatrix X = test::random_binary(300, 120, 0.1, 5);
  const Matrix S = Matrix(Matrix(X).transpose() * Matrix(X));
  const SymmetricEigen dense = top_eigenpairs(S, 8, Solver::kGram, Context{});
  const SymmetricEigen asked = top_eigenpairs(S, 8, Solver::kRandomized, Context{});
  EXPECT_EQ(asked.solver, "lanczos");
  EXPECT_NE(asked.reason.find("randomized requested"), std::string::npos) << asked.reason;
  EXPECT_LT((dense.values - asked.values).cwiseAbs().maxCoeff(), 1e-9 * dense.values(0));
}

// SPPMI's dense Lanczos (top_eigenpairs) had no check for a missed repeated eigenvalue. The matrix
// here is 10 identical blocks, so its top eigenvalue (5) is repeated exactly 10 times, and its
// negative eigenvalues are larger in magnitude (down to −20), as an SPPMI matrix's can be: powers
// of S would amplify those rather than the copies missed. Lanczos asked for the pairs is refused,
// and `auto` (Lanczos beyond p = 4000) falls back to the dense decomposition. Oracle: the dense
// decomposition.
TEST(Spectrum, ADenseMatrixWithARepeatedTopEigenvalueIsNotMissed) {
  for (const Index size : {60, 420}) {
    SCOPED_TRACE(size);
    const Matrix W = Eigen::HouseholderQR<Matrix>(test::random_matrix(size, size, 11)).householderQ();
    Vector d = 11.5 * (test::random_matrix(size, 1, 12).col(0).array().tanh() - 1.0).matrix() + 3.0 * Vector::Ones(size);
    d(0) = 5;  // the rest lie in (−20, 3)
    const Matrix block = W * d.asDiagonal() * W.transpose();
    const Index copies = 10, p = size * copies;
    Matrix S = Matrix::Zero(p, p);
    for (Index c = 0; c < copies; ++c) S.block(size * c, size * c, size, size) = block;
    // S's eigenvalues are the block's, each 10 times.
    const Vector once = Eigen::SelfAdjointEigenSolver<Matrix>(block, Eigen::EigenvaluesOnly).eigenvalues().reverse();
    const Vector truth = once.replicate(1, copies).transpose().reshaped();
    ASSERT_LT(std::abs(truth(copies - 1) - truth(0)), 1e-12 * truth(0));
    ASSERT_LT(truth(copies), 0.7 * truth(0));
    const Index k = copies + 2;
    if (p <= 4000) {
      try {
        top_eigenpairs(S, k, Solver::kLanczos, Context{});
        ADD_FAILURE() << "Lanczos accepted";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("missed an eigenvalue above its 12th"), std::string::npos) << e.what();
      }
      continue;
    }
    const SymmetricEigen eig = top_eigenpairs(S, k, Solver::kAuto, Context{});
    EXPECT_EQ(eig.solver, "dense");
    EXPECT_NE(eig.reason.find("Lanczos missed an eigenvalue above its 12th"), std::string::npos) << eig.reason;
    EXPECT_LT((eig.values - truth.head(k)).cwiseAbs().maxCoeff(), 1e-9 * truth(0));
  }
  // Distinct eigenvalues: Lanczos's pairs pass.
  const SparseMatrix X = test::random_binary(300, 120, 0.1, 5);
  const Matrix G = Matrix(Matrix(X).transpose() * Matrix(X));
  EXPECT_EQ(top_eigenpairs(G, 8, Solver::kLanczos, Context{}).solver, "lanczos");
}

TEST(Spectrum, RejectsImpossibleRank) {
  const SparseMatrix X = test::random_binary(30, 10, 0.3, 1);
  EXPECT_THROW(top_spectrum(X, 11, Solver::kGram, Context{}), InvalidArgument);
  EXPECT_THROW(top_spectrum(X, 0, Solver::kGram, Context{}), InvalidArgument);
  EXPECT_THROW(top_spectrum(X, 10, Solver::kLanczos, Context{}), InvalidArgument);  // no room
}

TEST(Spectrum, NumericalRank) {
  const Vector sigma = (Vector(4) << 10.0, 1.0, 1e-9, 0.0).finished();
  EXPECT_EQ(numerical_rank(sigma, 100), 2);
}

}  // namespace
}  // namespace linsim
