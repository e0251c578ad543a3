// The randomized block Krylov solver (block_krylov.h) against the dense oracle: its accuracy
// contract (residuals, singular values, subspace angles) in double and with single-precision
// products, stops between restarts, thick restarts, the centred operator,
// rank-deficient data, the exact completion for tiny p, thread-count independence, every block
// width across several row chunks of the basis.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include "linsim/core/error.h"
#include "linsim/core/random.h"
#include "linsim/linalg/block_krylov.h"
#include "linsim/linalg/spectrum.h"
#include "test_util.h"
#include "thread_ranks.h"

namespace linsim {
namespace {

struct Oracle {
  Vector values;  // descending
  Matrix vectors;
};

Oracle dense_oracle(const Matrix& D) {
  Eigen::SelfAdjointEigenSolver<Matrix> eig(D.transpose() * D);
  return {eig.eigenvalues().reverse(), eig.eigenvectors().rowwise().reverse()};
}

// Weighted binary data with a planted rank-6 structure, so that the top of the spectrum has gaps.
SparseMatrix planted(Index n, Index p, unsigned seed) {
  SparseMatrix X = test::random_binary(n, p, 0.06, seed);
  for (Index u = 0; u < n; ++u) {
    for (SparseMatrix::InnerIterator it(X, u); it; ++it) {
      it.valueRef() = 1.0 + static_cast<double>((u % 6) == (it.col() % 6)) * 3.0;
    }
  }
  return X;
}

// Largest sine of the principal angles between the column spaces of orthonormal A and B: the
// largest singular value of (I − A Aᵀ) B (accurate for small angles, where √(1 − cos²) of the
// cosines Aᵀ B gives would bottom out at √u ≈ 1.5e-8).
double subspace_sine(const Matrix& A, const Matrix& B) {
  Eigen::JacobiSVD<Matrix> svd(B - A * (A.transpose() * B));
  return svd.singularValues().maxCoeff();
}

// Checks a result against the contract in block_krylov.h: reported residuals are the true ones
// relative to max(θ_i, 10⁻⁶ θ_1) and within tol; each θ_i within its residual of λ_i; orthonormal
// vectors; the leading `lead` vectors (a clear gap after them) within sin ≤ ‖R‖ / gap.
void expect_contract(const BlockKrylovResult& r, const Matrix& G, const Oracle& oracle, double tol, Index lead) {
  const Index k = r.values.size();
  const double theta1 = r.values(0);
  double lead_residual = 0;  // Frobenius norm of the leading vectors' residuals
  for (Index i = 0; i < k; ++i) {
    const double scale = std::max(r.values(i), 1e-6 * theta1);
    const double residual = (G * r.vectors.col(i) - r.values(i) * r.vectors.col(i)).norm();
    EXPECT_LE(r.residuals(i), tol) << i;
    EXPECT_NEAR(residual / scale, r.residuals(i), 1e-9) << i;
    EXPECT_LE(std::abs(r.values(i) - oracle.values(i)), tol * scale * (1 + 1e-6)) << i;
    if (i < lead) lead_residual += residual * residual;
  }
  EXPECT_LT((r.vectors.transpose() * r.vectors - Matrix::Identity(k, k)).cwiseAbs().maxCoeff(), 1e-12);
  const double gap = oracle.values(lead - 1) - oracle.values(lead);
  ASSERT_GT(gap, 0.1 * oracle.values(lead - 1));
  EXPECT_LE(subspace_sine(r.vectors.leftCols(lead), oracle.vectors.leftCols(lead)),
            std::sqrt(lead_residual) / gap * 1.01 + 1e-12);
}

// The planted problem both contract tests run on (rank 30), with its dense oracle.
struct ContractCase {
  SparseMatrix X = planted(900, 400, 11);
  Matrix G = Matrix(X).transpose() * Matrix(X);
  Oracle oracle = dense_oracle(Matrix(X));
  BlockKrylovResult solve(const BlockKrylovOptions& options) const {
    return block_krylov_eigs(DataMatrix(X), 30, options, Context{});
  }
  void expect(const BlockKrylovResult& r, double tol) const { expect_contract(r, G, oracle, tol, 6); }
};

TEST(BlockKrylov, MeetsItsAccuracyContract) {
  const ContractCase problem;
  BlockKrylovOptions options;
  options.tol = 1e-9;
  const BlockKrylovResult r = problem.solve(options);
  ASSERT_EQ(r.values.size(), 30);
  EXPECT_EQ(r.float32_products, 0);  // tol below 20 u: all in double
  problem.expect(r, options.tol);
}

// A loose tolerance moves the products to single precision once the Ritz values allow it; the run
// ends with the check in double, so the same contract holds with true residuals. Without
// mixed_precision the same tolerance stays in double.
TEST(BlockKrylov, MixedPrecisionMeetsTheSameContract) {
  const ContractCase problem;
  BlockKrylovOptions loose;
  loose.tol = 1e-4;
  const BlockKrylovResult r = problem.solve(loose);
  EXPECT_GT(r.float32_products, 0);
  EXPECT_LT(r.float32_products, r.products);  // the first products (before any estimate) and the check
  problem.expect(r, loose.tol);
  loose.mixed_precision = false;
  const BlockKrylovResult d = problem.solve(loose);
  EXPECT_EQ(d.float32_products, 0);
  problem.expect(d, loose.tol);
  // The default tolerance never leaves double.
  EXPECT_EQ(problem.solve(BlockKrylovOptions{}).float32_products, 0);
}

// Convergence is tested between restarts too, where the trend of the residuals says it is due:
// the solver stops as soon as a Rayleigh–Ritz step of the basis so far meets tol, with a basis
// short of the size at which it restarts (m + b ≤ the limit; a restart happens at m + b > it), and
// the same contract holds. Several tolerances, so that stops fall at different points of a cycle.
// Enough nonzeros (150,000) that a block costs more than a test in the solver's cost model with
// either eigen-solver (LAPACK's or Eigen's), which is where it tests between restarts.
TEST(BlockKrylov, StopsBetweenRestartsWithTheSameContract) {
  const SparseMatrix X = planted(6000, 420, 21);
  ASSERT_GT(X.nonZeros(), 140000);
  const Matrix G = Matrix(X).transpose() * Matrix(X);
  const Oracle oracle = dense_oracle(Matrix(X));
  Index between = 0;
  for (const double tol : {1e-7, 1e-8, 1e-9, 1e-10, 1e-11}) {
    SCOPED_TRACE(tol);
    BlockKrylovOptions options;
    options.block = 4;
    options.basis = 60;  // keeps 35 vectors: cycles of 6 blocks
    options.tol = tol;
    const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X), 30, options, Context{});
    expect_contract(r, G, oracle, tol, 6);
    if (r.basis + r.block <= options.basis) ++between;
  }
  EXPECT_GE(between, 3);
}

TEST(BlockKrylov, ThickRestartsConvergeToTheSameAnswer) {
  const SparseMatrix X = planted(700, 300, 12);
  const Oracle oracle = dense_oracle(Matrix(X));
  const Index k = 12;
  BlockKrylovOptions small;
  small.block = 4;
  small.basis = k + 12;  // forces many restarts
  small.tol = 1e-9;
  const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X), k, small, Context{});
  EXPECT_GT(r.restarts, 3);
  EXPECT_LE(r.basis, k + 12);
  // Each block after a restart's first is projected against the two blocks T couples it to,
  // then once against the whole basis, which keeps all of it (linalg/orthogonalize.h): a wrong
  // coupled range would leave components the whole pass must cancel, and the DGKS test repeat it.
  EXPECT_EQ(r.repeated_projections, 0);
  EXPECT_LT((r.values - oracle.values.head(k)).cwiseAbs().maxCoeff(), 1e-9 * oracle.values(0));
}

TEST(BlockKrylov, CentredOperatorMatchesDenseCentredMatrix) {
  const SparseMatrix X = planted(500, 200, 13);
  const Matrix D = Matrix(X);
  const Vector mean = D.colwise().mean().transpose();
  const Matrix centred = D.rowwise() - mean.transpose();
  const Oracle oracle = dense_oracle(centred);
  const Index k = 10;
  BlockKrylovOptions options;
  options.tol = 1e-7;
  const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X, mean), k, options, Context{});
  for (Index i = 0; i < k; ++i) EXPECT_LE(std::abs(r.values(i) - oracle.values(i)), 1e-7 * oracle.values(i)) << i;
}

TEST(BlockKrylov, RankDeficientDataFindsTheZeroEigenvalues) {
  // Rank 5: a product of 400 × 5 and 5 × 120 nonnegative factors, sparsified by rows.
  const Matrix U = test::random_matrix(400, 5, 21).cwiseAbs();
  const Matrix V = test::random_matrix(5, 120, 22).cwiseAbs();
  const Matrix D = U * V;
  const SparseMatrix X = D.sparseView();
  const Oracle oracle = dense_oracle(D);
  const Index k = 10;  // past the rank: the solver must not stall on the invariant subspace
  const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X), k, BlockKrylovOptions{}, Context{});
  EXPECT_LT((r.values.head(5) - oracle.values.head(5)).cwiseAbs().maxCoeff(), 1e-8 * oracle.values(0));
  EXPECT_LT(r.values.tail(5).cwiseAbs().maxCoeff(), 1e-8 * oracle.values(0));
  EXPECT_LT((r.vectors.transpose() * r.vectors - Matrix::Identity(k, k)).cwiseAbs().maxCoeff(), 1e-10);
}

// Regression (hardening issue): 100 identical users plus one user of every item is rank 2 on
// 3,000 items. The Krylov space is exhausted after one block; the dependent rest of the next
// blocks must be replaced by fresh directions orthogonal to the basis, not kept as amplified
// rounding (which lost orthogonality and never converged). The dense route is the oracle.
TEST(BlockKrylov, ExhaustedKrylovSpaceOnLowRankDataStaysOrthonormal) {
  const Index p = 3000;
  std::vector<Eigen::Triplet<double, int>> t;
  for (int u = 0; u < 100; ++u) {
    for (int i = 0; i < 300; ++i) t.emplace_back(u, (i * 7919) % p, 1.0);
  }
  for (int i = 0; i < p; ++i) t.emplace_back(100, i, 1.0);
  SparseMatrix X(101, p);
  X.setFromTriplets(t.begin(), t.end());
  const Vector sigma = Eigen::BDCSVD<Matrix>(Matrix(X)).singularValues();  // the oracle, 101 × 3000
  const Vector oracle_values = sigma.array().square();
  const Index k = 5;
  BlockKrylovOptions options;
  options.max_cycles = 20;
  const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X), k, options, Context{});
  EXPECT_LT((r.values.head(2) - oracle_values.head(2)).cwiseAbs().maxCoeff(), 1e-9 * oracle_values(0));
  EXPECT_LT(r.values.tail(3).cwiseAbs().maxCoeff(), 1e-9 * oracle_values(0));
  EXPECT_LT((r.vectors.transpose() * r.vectors - Matrix::Identity(k, k)).cwiseAbs().maxCoeff(), 1e-10);
  // The iterative solvers of a fit refuse the rank instead of stalling or returning copies of one
  // pair.
  for (const Solver solver : {Solver::kGram, Solver::kRandomized, Solver::kLanczos}) {
    FitOptions o = test::exact_options(ModelKind::kEq2, k, 1.0);
    o.solver = solver;
    try {
      fit_model(X, o, Context{});
      ADD_FAILURE() << solver_name(solver);
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("exceeds the rank of the data (2 nonzero singular values)"),
                std::string::npos)
          << solver_name(solver) << ": " << e.what();
    }
  }
}

// Regression (audit): rank 3 from three binary rows repeated, plus one entry of ε, so that G has
// three large eigenvalues, one far below them (θ_4/θ_1 from ~10⁻⁵ down past the 10⁻⁶ floor) and a
// null space. The blocks after the first are nearly dependent: their small remainders used to be
// dropped as negligible, or kept orthogonal to the basis only to ~√u, and the residuals read from
// the Lanczos relation said 0 while the true ones were up to 33 times the allowance
// tol · max(θ_i, 10⁻⁶ θ_1) (and the vectors orthonormal only to 4e-10). Both the basis that
// restarts (p = 241) and the one completed to all of R^p (p = 30) are checked, at several blocks.
TEST(BlockKrylov, ResidualsAreTrueOnNearlyInvariantSubspaces) {
  for (const Index p : {30, 241}) {
    Rng rng(6, 0);
    Matrix base(3, p);
    for (Index i = 0; i < base.size(); ++i) base.data()[i] = rng.uniform_open0() < 0.4 ? 1.0 : 0.0;
    Matrix D(80, p);
    for (Index u = 0; u < 80; ++u) D.row(u) = base.row(u < 3 ? u : static_cast<Index>(rng() % 3));
    Index zero = 0;
    while (D(10, zero) != 0) ++zero;
    for (const double eps : {0.1, 0.01, 0.001}) {
      D(10, zero) = eps;
      const SparseMatrix X = D.sparseView();
      const Matrix G = D.transpose() * D;
      const Oracle oracle = dense_oracle(D);
      for (const Index block : {1, 2, 4}) {
        SCOPED_TRACE(testing::Message() << "p " << p << ", eps " << eps << ", block " << block);
        BlockKrylovOptions options;
        options.block = block;
        const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X), 4, options, Context{});
        const double theta1 = r.values(0);
        for (Index i = 0; i < 4; ++i) {
          const double allowance = options.tol * std::max(r.values(i), 1e-6 * theta1);
          EXPECT_LE((G * r.vectors.col(i) - r.values(i) * r.vectors.col(i)).norm(), allowance) << i;
          EXPECT_LE(std::abs(r.values(i) - oracle.values(i)), allowance) << i;
        }
        EXPECT_LT((r.vectors.transpose() * r.vectors - Matrix::Identity(4, 4)).cwiseAbs().maxCoeff(), 1e-13);
      }
    }
  }
}

TEST(BlockKrylov, TinyProblemsAreCompletedExactly) {
  const SparseMatrix X = test::random_binary(60, 20, 0.3, 14);
  const Oracle oracle = dense_oracle(Matrix(X));
  const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X), 18, BlockKrylovOptions{}, Context{});
  EXPECT_TRUE(r.spans_all);
  EXPECT_LT((r.values - oracle.values.head(18)).cwiseAbs().maxCoeff(), 1e-11 * oracle.values(0));
}

// p = 1,500 is deeper than a GEMM's depth block, where Eigen's own parallel product (which the
// check in double after single-precision products once used, and which the build now compiles
// out) summed in an order that depended on the thread count.
TEST(BlockKrylov, IndependentOfThreadCount) {
  for (const Index p : {300, 1500}) {
    const SparseMatrix X = planted(2 * p + 200, p, 15);
    Context one;
    one.threads = 1;
    Context two;
    two.threads = 2;
    for (const double tol : {1e-6, 1e-4}) {  // in double, and with single-precision products
      SCOPED_TRACE(testing::Message() << "p " << p << ", tol " << tol);
      BlockKrylovOptions options;
      options.tol = tol;
      const BlockKrylovResult a = block_krylov_eigs(DataMatrix(X), 15, options, one);
      const BlockKrylovResult b = block_krylov_eigs(DataMatrix(X), 15, options, two);
      EXPECT_EQ(a.float32_products > 0, tol > 1e-5);
      EXPECT_TRUE(a.values == b.values);
      EXPECT_TRUE(a.vectors == b.vectors);
    }
  }
}

// The orthogonalisation's own kernels (blocks of 4, 8 and 16 columns) and the GEMM they stand in
// for (any other width) meet the same contract on a basis of several row chunks whose last one
// ends in a partial vector (p = 1,043 = 2 · 512 + 2 · 8 + 3), with the same bits on 1 and 3 threads.
TEST(BlockKrylov, EveryBlockWidthMeetsTheContractAcrossRowChunks) {
  const SparseMatrix X = planted(1500, 1043, 13);
  const Matrix D(X);
  const Matrix G = D.transpose() * D;
  const Oracle oracle = dense_oracle(D);
  Context one;
  one.threads = 1;
  Context three;
  three.threads = 3;
  for (const Index block : {4, 5, 8, 16}) {
    SCOPED_TRACE(block);
    BlockKrylovOptions options;
    options.block = block;
    options.tol = 1e-9;
    const BlockKrylovResult r = block_krylov_eigs(DataMatrix(X), 16, options, one);
    EXPECT_EQ(r.block, block);
    EXPECT_GT(r.restarts, 0);
    expect_contract(r, G, oracle, options.tol, 6);
    const BlockKrylovResult again = block_krylov_eigs(DataMatrix(X), 16, options, three);
    EXPECT_TRUE(again.values == r.values);
    EXPECT_TRUE(again.vectors == r.vectors);
  }
}

TEST(BlockKrylov, GivesUpWithAClearError) {
  const SparseMatrix X = planted(700, 300, 16);
  BlockKrylovOptions hopeless;
  hopeless.tol = 1e-15;
  hopeless.max_cycles = 2;
  hopeless.block = 4;
  hopeless.basis = 30;
  EXPECT_THROW(block_krylov_eigs(DataMatrix(X), 10, hopeless, Context{}), Error);
  BlockKrylovOptions bad;
  bad.tol = 0;
  EXPECT_THROW(block_krylov_eigs(DataMatrix(X), 10, bad, Context{}), InvalidArgument);
  EXPECT_THROW(block_krylov_eigs(DataMatrix(X), 301, BlockKrylovOptions{}, Context{}), InvalidArgument);
  SparseMatrix broken = X;
  broken.valuePtr()[5] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(block_krylov_eigs(DataMatrix(broken), 10, BlockKrylovOptions{}, Context{}), Error);
}

TEST(Spectrum, RandomizedSolverAgreesWithGramRoute) {
  const SparseMatrix X = planted(600, 250, 17);
  const Spectrum dense = top_spectrum(X, 20, Solver::kGram, Context{});
  const Spectrum randomized = top_spectrum(DataMatrix(X), 20, Solver::kRandomized, Context{}, {}, 1e-8);
  EXPECT_EQ(randomized.solver, "randomized");
  EXPECT_NE(randomized.reason.find("block"), std::string::npos);
  EXPECT_LT((dense.sigma - randomized.sigma).cwiseAbs().maxCoeff(), 1e-7 * dense.sigma(0));
  // The planted top 6 are well separated: their vectors agree column by column (signs fixed).
  EXPECT_LT((dense.V.leftCols(6) - randomized.V.leftCols(6)).cwiseAbs().maxCoeff(), 1e-5);
}

// Regression (audit): values of 1e-80 and below gave the block solver σ off by 20–100 % with a
// reported residual of 0 (its Cholesky QR squared G's eigenvalues into underflow); 1e-8 and 1e100
// made Lanczos refuse valid data. Each route now solves a copy scaled by a power of two where the
// largest |value| is outside [2^-8, 2^61]: σ scales exactly, V is the same, and the reason says so.
TEST(Spectrum, EveryRouteGivesTheSameAnswerAtAnyScale) {
  const SparseMatrix X = planted(300, 120, 19);
  const Spectrum reference = top_spectrum(X, 6, Solver::kGram, Context{});
  for (const double scale : {1e-130, 1e-80, 1e-8, 1.0, 1e30, 1e100}) {
    for (const Solver solver : {Solver::kGram, Solver::kRandomized, Solver::kLanczos}) {
      SCOPED_TRACE(testing::Message() << "scale " << scale << ", " << solver_name(solver));
      const SparseMatrix scaled = X * scale;
      const Spectrum s = top_spectrum(DataMatrix(scaled), 6, solver, Context{}, {}, 1e-10);
      EXPECT_LT(((s.sigma / scale - reference.sigma).array() / reference.sigma.array()).abs().maxCoeff(), 1e-9);
      EXPECT_LT((s.V - reference.V).cwiseAbs().maxCoeff(), 1e-6);
      EXPECT_EQ(s.reason.find("scaled by 2^") != std::string::npos, scale != 1.0);
      // What memory estimates are told about the copy (fit_memory_bytes) is what the solve did.
      const double largest = Eigen::Map<const Vector>(scaled.valuePtr(), scaled.nonZeros()).cwiseAbs().maxCoeff();
      EXPECT_EQ(solves_on_scaled_copy(largest), scale != 1.0);
    }
  }
  // The window's edges: [2^-8, 2^61) is solved as it is.
  EXPECT_TRUE(solves_on_scaled_copy(std::nextafter(std::ldexp(1.0, -8), 0.0)));
  EXPECT_FALSE(solves_on_scaled_copy(std::ldexp(1.0, -8)));
  EXPECT_FALSE(solves_on_scaled_copy(std::nextafter(std::ldexp(1.0, 61), 0.0)));
  EXPECT_TRUE(solves_on_scaled_copy(std::ldexp(1.0, 61)));
}

// Across processes the solve scales by the largest |entry| of all of them, so every process makes
// the copy (and must count it in its memory estimate) when any one process holds values outside
// the window, even where its own lie inside; a process without values agrees too. Before, each
// process's estimate looked at its own values alone.
// Communicator::max, the agreement the scaled copy and the fit's messages rest on: every process
// gets the largest of all, exactly, whichever process holds it.
TEST(Communicator, MaxIsEveryProcesssLargestExactly) {
  for (const std::vector<double>& given : {std::vector<double>{3.0, 7.5, 0.0}, std::vector<double>{0.1, 0.0, 1e300},
                                           std::vector<double>{0.0, 0.0}, std::vector<double>{2.5}}) {
    test::ThreadRanks ranks(static_cast<int>(given.size()));
    std::vector<double> answers(given.size(), -1.0);
    ranks.run([&](const Communicator& comm, int r) {
      answers[static_cast<size_t>(r)] = comm.max(given[static_cast<size_t>(r)]);
    });
    for (const double a : answers) EXPECT_EQ(a, *std::max_element(given.begin(), given.end()));
  }
}

TEST(Spectrum, TheScaledCopyIsDecidedByTheLargestEntryOfEveryProcess) {
  const auto ask = [](const std::vector<double>& largest) {
    test::ThreadRanks ranks(static_cast<int>(largest.size()));
    std::vector<int> answers(largest.size(), -1);
    ranks.run([&](const Communicator& comm, int r) {
      answers[static_cast<size_t>(r)] = solves_on_scaled_copy(largest[static_cast<size_t>(r)], comm) ? 1 : 0;
    });
    for (const int a : answers) EXPECT_EQ(a, answers[0]);
    return answers[0] == 1;
  };
  EXPECT_TRUE(ask({3.0, 1e70, 0.5}));    // one process above 2^61
  EXPECT_FALSE(ask({3.0, 1e-70, 0.5}));  // tiny values beside ones in the window: the largest decides
  EXPECT_TRUE(ask({0.0, 1e-5, 1e-7}));   // all below 2^-8, one process without values
  EXPECT_FALSE(ask({0.0, 0.0}));         // no values at all: nothing to scale
  EXPECT_FALSE(ask({std::ldexp(1.0, -8), std::nextafter(std::ldexp(1.0, 61), 0.0)}));  // the window's edges
}

// The data as the solve sees them: a centre outside the window (standardize's, of large values
// whose spread is small) puts the solve on a scaled copy even where Y's entries lie inside it, and
// the predicate says so.
TEST(Spectrum, TheScaledCopyCountsTheCentre) {
  const SparseMatrix X = planted(200, 60, 23);
  for (const double centre : {0.0, 0.25, 1e70, 1e-70}) {
    SCOPED_TRACE(testing::Message() << "centre " << centre);
    const DataMatrix data(X, Vector::Constant(X.cols(), centre));
    const Spectrum s = top_spectrum(data, 4, Route{Solver::kRandomized, "test"}, Context{}, {}, 1e-10);
    EXPECT_EQ(s.reason.find("scaled by 2^") != std::string::npos, centre == 1e70);
    EXPECT_EQ(solves_on_scaled_copy(data), centre == 1e70);
  }
}

// Two items alike under swapping (the same co-occurrences with each other and with the rest) give
// an eigenvector (e_i − e_j)/√2 whose two entries of largest magnitude are equal but for rounding.
// Each solver, at each scale of the values, rounds them its own way; the sign must not follow.
TEST(Spectrum, SignTiesARoundingApartAreBrokenByPosition) {
  // Items 0 and 1 alike, item 2 apart: G = [[9 6 1] [6 9 1] [1 1 3]] times the repetitions, whose
  // eigenvalues are about 15.16, 3 (the antisymmetric vector) and 2.84.
  std::vector<Eigen::Triplet<double>> t;
  Index u = 0;
  const auto user = [&](std::initializer_list<int> items, int times) {
    for (int r = 0; r < times; ++r, ++u) {
      for (int j : items) t.emplace_back(static_cast<int>(u), j, 1.0);
    }
  };
  user({0, 1}, 5);
  user({0}, 3);
  user({1}, 3);
  user({2}, 2);
  user({0, 1, 2}, 1);
  SparseMatrix X(u, 3);
  X.setFromTriplets(t.begin(), t.end());
  for (const double scale : {1.0, 0.1, 3.0, 1.0 / 3.0, 7.0, 1e-3, 0.7}) {
    for (const Solver solver : {Solver::kGram, Solver::kRandomized}) {
      SCOPED_TRACE(testing::Message() << "scale " << scale << ", " << solver_name(solver));
      const SparseMatrix scaled = X * scale;
      const Spectrum s = top_spectrum(DataMatrix(scaled), 2, solver, Context{}, {}, 1e-12);
      ASSERT_NEAR(s.sigma(1) * s.sigma(1) / (scale * scale), 3.0, 1e-9);
      EXPECT_NEAR(std::abs(s.V(0, 1)), std::sqrt(0.5), 1e-9);
      EXPECT_GT(s.V(0, 1), 0) << "the first of the tied entries decides";
      EXPECT_LT(s.V(1, 1), 0);
    }
  }
  // The rule itself: the same vector with its tie rounded either way is signed alike.
  Matrix a(3, 1), b(3, 1);
  a << 0.1, -0.7, 0.7 * (1 + 1e-15);
  b << 0.1, -0.7 * (1 + 1e-15), 0.7;
  fix_signs(a);
  fix_signs(b);
  EXPECT_LT((a - b).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_GT(a(1, 0), 0.0);  // flipped: -0.7 came first
  Matrix c(2, 1);
  c << 0.5, -0.7;  // no tie: the largest decides
  fix_signs(c);
  EXPECT_GT(c(1, 0), 0.0);
}

// After single-precision products on the two-pass route (here blocks of 2, below the one pass's
// 4; wide data in practice), the check in double keeps X_w V for the returned vectors: the same as
// the product formed afresh, centred or not. On the one-pass route, and without the check (all in
// double), it is left empty.
TEST(BlockKrylov, TheCheckInDoubleKeepsXVOnTheTwoPassRoute) {
  const ContractCase problem;
  const Vector mean = Matrix(problem.X).colwise().mean().transpose();
  for (const bool centred : {false, true}) {
    SCOPED_TRACE(centred);
    const DataMatrix X(problem.X, centred ? mean : Vector());
    BlockKrylovOptions options;
    options.tol = 1e-4;
    options.block = 2;
    const BlockKrylovResult r = block_krylov_eigs(X, 30, options, Context{});
    ASSERT_GT(r.float32_products, 0);
    ASSERT_EQ(r.data_times_vectors.rows(), X.rows());
    ASSERT_EQ(r.data_times_vectors.cols(), 30);
    const Matrix fresh = X.times(r.vectors);
    EXPECT_LT((r.data_times_vectors - fresh).cwiseAbs().maxCoeff(), 1e-12 * fresh.cwiseAbs().maxCoeff());
    if (!centred) problem.expect(r, options.tol);
    options.block = 4;
    const BlockKrylovResult one_pass = block_krylov_eigs(X, 30, options, Context{});
    EXPECT_GT(one_pass.float32_products, 0);
    EXPECT_EQ(one_pass.data_times_vectors.size(), 0);
    options.block = 2;
    options.tol = 1e-9;
    EXPECT_EQ(block_krylov_eigs(X, 30, options, Context{}).data_times_vectors.size(), 0);
  }
}

// The same through top_spectrum, on sparse data wide enough for the solver's own blocks to take
// the two passes (p × 4 doubles beyond the one pass's 8 MiB), centred or not: the Spectrum carries
// X_w V with V's signs (some columns are flipped here), which a fit uses for its user embeddings
// instead of a product of its own.
TEST(Spectrum, KeepsTheChecksXVWithTheVectorsSigns) {
  const Index n = 1200, p = 270000;
  ASSERT_FALSE(gram_one_pass(p, 4));
  // Four planted groups of users, each drawn to 1,000 items of its own, and uniform noise.
  std::vector<Eigen::Triplet<double, int>> entries;
  Rng rng(5, 0);
  for (Index u = 0; u < n; ++u) {
    const Index group = u % 4;
    for (int i = 0; i < 24; ++i) {
      const auto draw = [&](Index below) { return static_cast<Index>(rng() % static_cast<std::uint64_t>(below)); };
      const Index item = i < 16 ? group * 1000 + draw(1000) : draw(p);
      entries.emplace_back(static_cast<int>(u), static_cast<int>(item), 1.0);
    }
  }
  SparseMatrix X(n, p);
  X.setFromTriplets(entries.begin(), entries.end(), [](double, double) { return 1.0; });
  const Vector mean = DataMatrix(X).column_sums() / static_cast<double>(n);
  Index flipped = 0;
  for (const bool centred : {false, true}) {
    SCOPED_TRACE(centred);
    const DataMatrix data(X, centred ? mean : Vector());
    const Spectrum s = top_spectrum(data, 4, Solver::kRandomized, Context{}, {}, 1e-3);
    ASSERT_EQ(s.XV.rows(), n);
    ASSERT_EQ(s.XV.cols(), 4);
    const Matrix fresh = data.times(s.V);
    EXPECT_LT((s.XV - fresh).cwiseAbs().maxCoeff(), 1e-12 * fresh.cwiseAbs().maxCoeff());
    // What the models built from a spectrum take: the solver's matrix, moved out.
    Spectrum taken = s;
    EXPECT_TRUE(take_data_times_vectors(taken, data) == s.XV);
    EXPECT_EQ(taken.XV.size(), 0);
    // The solver's own vectors, before their signs are fixed.
    BlockKrylovOptions options;
    options.tol = 1e-3;
    const Matrix raw = block_krylov_eigs(data, 4, options, Context{}).vectors;
    for (Index c = 0; c < 4; ++c) {
      Index arg = 0;
      raw.col(c).cwiseAbs().maxCoeff(&arg);
      flipped += raw(arg, c) < 0;
    }
    // In double (the default tolerance) there is no check, and nothing to keep.
    EXPECT_EQ(top_spectrum(data, 4, Solver::kRandomized, Context{}).XV.size(), 0);
  }
  EXPECT_GT(flipped, 0);
}

}  // namespace
}  // namespace linsim
