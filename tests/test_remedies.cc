// The paper's remedies (MATH.md M5, M6): each weighting against a dense reference written from the
// formulas, the implicit centring against the dense centred matrix, SPPMI against a dense
// reference, the cosine-trained objective's gradient against finite differences and its monotone
// decrease, and consistent scoring of folded-in users.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/data/interaction_matrix.h"
#include "linsim/data/weighting.h"
#include "linsim/evaluate/variants.h"
#include "linsim/io/model_dir.h"
#include "linsim/linalg/data_matrix.h"
#include "linsim/linalg/gram.h"
#include "linsim/linalg/spectrum.h"
#include "linsim/models/cosine_model.h"
#include "linsim/models/model.h"
#include "linsim/models/sppmi.h"
#include "linsim/similarity/measure.h"
#include "test_util.h"

namespace linsim {
namespace {

// Random sparse counts in 1..4, every row and column nonempty.
SparseMatrix random_counts(Index n, Index p, double density, unsigned seed) {
  SparseMatrix X = test::random_binary(n, p, density, seed);
  for (Index q = 0; q < X.nonZeros(); ++q) X.valuePtr()[q] = 1.0 + static_cast<double>((q * 7 + seed) % 4);
  return X;
}

// Dense reference of one weighting step applied to dense V (zeros stay zero), using the
// training matrix T's statistics; written directly from the formulas in weighting.h.
Matrix reference_step(const Matrix& V, const Matrix& T_before, const WeightingStep& s) {
  const Index n = T_before.rows();
  Matrix out = V;
  auto pop = [&](Index i) { return static_cast<double>((T_before.col(i).array() != 0).count()); };
  for (Index u = 0; u < V.rows(); ++u) {
    const double nu = static_cast<double>((V.row(u).array() != 0).count());
    const double length = V.row(u).sum();
    const double mean_length = T_before.sum() / static_cast<double>(n);
    for (Index i = 0; i < V.cols(); ++i) {
      const double v = V(u, i);
      if (v == 0) continue;
      switch (s.kind) {
        case WeightingKind::kIps: out(u, i) = v / std::pow(pop(i), s.a); break;
        case WeightingKind::kUserNorm: out(u, i) = v / std::pow(nu, s.a); break;
        case WeightingKind::kTfidf: out(u, i) = v * std::log(static_cast<double>(n) / pop(i)); break;
        case WeightingKind::kBm25: {
          const double idf = std::log(1.0 + (n - pop(i) + 0.5) / (pop(i) + 0.5));
          out(u, i) = v * (s.a + 1) / (v + s.a * (1 - s.b + s.b * length / mean_length)) * idf;
          break;
        }
        default: break;
      }
    }
  }
  return out;
}

// Dense X_w for a weighting, with the statistics of training rows T: applies the steps to T and
// to Q side by side, then standardises Q with T's column statistics.
Matrix reference_weighting(const Weighting& w, const Matrix& T, const Matrix& Q) {
  Matrix t = T, q = Q;
  for (const WeightingStep& s : w.steps) {
    if (s.kind == WeightingKind::kStandardize) {
      const Vector mean = t.colwise().mean().transpose();
      Vector sd(t.cols());
      for (Index i = 0; i < t.cols(); ++i) sd(i) = std::sqrt((t.col(i).array() - mean(i)).square().mean());
      for (Index i = 0; i < q.cols(); ++i) q.col(i) = (q.col(i).array() - mean(i)) / sd(i);
      return q;
    }
    const Matrix t_next = reference_step(t, t, s);
    q = reference_step(q, t, s);
    t = t_next;
  }
  return q;
}

Matrix dense_weighted(const FittedWeighting& f, const SparseMatrix& X) {
  Matrix D = Matrix(f.apply(X));
  if (f.center.size()) D.rowwise() -= f.center.transpose();
  return D;
}

TEST(Weighting, EachStepMatchesTheDenseReference) {
  const SparseMatrix T = random_counts(60, 25, 0.2, 1);
  const SparseMatrix Q = random_counts(7, 25, 0.3, 2);  // users folded in later
  for (const char* spec : {"ips:0.5", "ips", "user-norm:0.7", "tfidf", "bm25", "bm25:2:0.3", "standardize",
                           "ips:0.5,user-norm:0.5,standardize", "user-norm:1,bm25:1.2:0.75",
                           "tfidf,standardize"}) {
    SCOPED_TRACE(spec);
    const Weighting w = parse_weighting(spec);
    EXPECT_EQ(parse_weighting(w.spec()).spec(), w.spec());
    const FittedWeighting f = fit_weighting(w, T);
    const Matrix ref_train = reference_weighting(w, Matrix(T), Matrix(T));
    EXPECT_LT(test::relative_difference(dense_weighted(f, T), ref_train), 1e-13);
    EXPECT_LT(test::relative_difference(dense_weighted(f, Q), reference_weighting(w, Matrix(T), Matrix(Q))), 1e-13);
    if (w.standardizes()) {  // identities: zero column means, unit population variance
      EXPECT_LT(ref_train.colwise().mean().cwiseAbs().maxCoeff(), 1e-12);
      const Matrix Xw = dense_weighted(f, T);
      EXPECT_LT(Xw.colwise().mean().cwiseAbs().maxCoeff(), 1e-12);
      EXPECT_LT((Xw.colwise().squaredNorm() / 60.0 - Eigen::RowVectorXd::Ones(25)).cwiseAbs().maxCoeff(), 1e-12);
    }
  }
}

// A column without variance (every training user holds the item with the same weight, as ips or
// bm25 make of an item all users have) is exactly 0 once standardised, in training and folded in;
// so is a column no user has. Was: its variance, sum x²/n − mean², left rounding noise of order
// √ε·mean, which passed for a spread and was scaled up by ~1e8 into a column of garbage.
TEST(Weighting, AColumnWithoutVarianceIsExactlyZeroOnceStandardised) {
  for (const Index n : {5, 60, 997}) {
    SparseMatrix T = random_counts(n, 12, 0.3, static_cast<unsigned>(n));
    for (Index u = 0; u < n; ++u) T.coeffRef(u, 0) = 1.0;  // everyone has item 0
    T.prune([](Index, Index c, double) { return c != 11; });  // no one has item 11
    T.makeCompressed();
    const SparseMatrix Q = random_counts(4, 12, 0.5, 99);  // item 0 held by some, not all
    for (const char* spec : {"standardize", "ips:1,standardize", "ips:0.5,standardize", "tfidf,standardize",
                             "user-norm:0,standardize"}) {
      SCOPED_TRACE(fmt::format("{} on {} users", spec, n));
      const FittedWeighting f = fit_weighting(parse_weighting(spec), T);
      EXPECT_EQ(f.inv_scale(0), 0.0);
      EXPECT_EQ(f.center(0), 0.0);
      EXPECT_EQ(f.inv_scale(11), 0.0);
      for (const SparseMatrix* rows : {static_cast<const SparseMatrix*>(&T), &Q}) {
        const Matrix D = dense_weighted(f, *rows);
        EXPECT_EQ(D.col(0).cwiseAbs().maxCoeff(), 0.0);
        EXPECT_EQ(D.col(11).cwiseAbs().maxCoeff(), 0.0);
      }
      // The other columns with a spread: mean 0, variance 1 over the training users.
      const Matrix Xw = dense_weighted(f, T);
      for (Index i = 1; i < 11; ++i) {
        if (f.inv_scale(i) == 0) continue;  // a few users: tfidf zeroes an item they all have
        EXPECT_LT(std::abs(Xw.col(i).mean()), 1e-12);
        EXPECT_LT(std::abs(Xw.col(i).squaredNorm() / static_cast<double>(n) - 1.0), 1e-12);
      }
    }
  }
}

// The weighted copy is made from X's own arrays: a view of some rows (whose arrays are the whole
// matrix's, starting at outer[0]) and a matrix not in compressed form weigh as a compressed copy does.
// Standardising does not depend on a column's scale: one column multiplied by 1e-170 or 1e-300
// (its squares underflow) or by 1e154 (its squares overflow) is weighted
// as the unscaled column is (was: taken for constant and zeroed, silently).
TEST(Weighting, StandardizeIsTheSameForAColumnOfAnyScale) {
  const SparseMatrix T = random_counts(40, 8, 0.4, 12);
  const SparseMatrix Q = random_counts(5, 8, 0.5, 13);
  for (const double scale : {1e-170, 1e-300, 1e154}) {
    for (const char* spec : {"standardize", "tfidf,standardize", "ips:0.5,standardize"}) {
      SCOPED_TRACE(fmt::format("{} with column 3 times {}", spec, scale));
      const auto scaled = [&](SparseMatrix X) {
        for (Index u = 0; u < X.outerSize(); ++u) {
          for (SparseMatrix::InnerIterator it(X, u); it; ++it) {
            if (it.col() == 3) it.valueRef() *= scale;
          }
        }
        return X;
      };
      const FittedWeighting plain = fit_weighting(parse_weighting(spec), T);
      const FittedWeighting f = fit_weighting(parse_weighting(spec), scaled(T));
      ASSERT_GT(plain.inv_scale(3), 0.0);
      for (const SparseMatrix* rows : {&T, &Q}) {
        const Matrix want = dense_weighted(plain, *rows);
        const Matrix got = dense_weighted(f, scaled(*rows));
        EXPECT_TRUE(got.allFinite());
        EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-12 * want.cwiseAbs().maxCoeff());
      }
    }
  }
}

// bm25 with b = 1 on a user whose values sum to 0 (a stored zero: duplicates of +1 and −1): the
// entry stays 0 (was: 0 · (k1 + 1) / (0 + 0), NaN, and the user's scores NaN), and the other
// entries are the formula's.
TEST(Weighting, Bm25KeepsAStoredZeroInARowOfLengthZero) {
  const SparseMatrix T = random_counts(30, 6, 0.5, 5);
  const FittedWeighting f = fit_weighting(parse_weighting("bm25:1.2:1"), T);
  std::vector<Eigen::Triplet<double>> entries = {{0, 2, 0.0}, {1, 1, 2.0}};
  SparseMatrix Q(2, 6);
  Q.setFromTriplets(entries.begin(), entries.end());
  ASSERT_EQ(Q.nonZeros(), 2);  // the zero is stored, as the reader keeps a sum of 0
  const Matrix Y = Matrix(f.apply(Q));
  EXPECT_TRUE(Y.allFinite()) << Y;
  EXPECT_EQ(Y(0, 2), 0.0);
  EXPECT_NEAR(Y(1, 1), reference_weighting(parse_weighting("bm25:1.2:1"), Matrix(T), Matrix(Q))(1, 1), 1e-14);
}

TEST(Weighting, RowViewsAndUncompressedMatricesWeighAsTheirCopies) {
  const SparseMatrix T = random_counts(60, 25, 0.2, 4);
  const FittedWeighting f = fit_weighting(parse_weighting("ips:0.5,user-norm:0.5,bm25"), T);
  const SparseMatrix rows = T.middleRows(17, 30);
  const SparseView view = T.middleRows(17, 30);
  ASSERT_GT(view.outerIndexPtr()[0], 0);
  const SparseMatrix from_view = f.apply(view);
  const SparseMatrix from_copy = f.apply(rows);
  EXPECT_TRUE(from_view.isCompressed());
  EXPECT_EQ(Matrix(from_view), Matrix(from_copy));
  EXPECT_EQ(from_view.nonZeros(), from_copy.nonZeros());

  SparseMatrix loose = T;
  loose.uncompress();
  ASSERT_FALSE(loose.isCompressed());
  const SparseMatrix from_loose = f.apply(loose);
  EXPECT_TRUE(from_loose.isCompressed());
  EXPECT_EQ(Matrix(from_loose), Matrix(f.apply(T)));
  EXPECT_EQ(Matrix(f.apply(SparseMatrix(0, 25))).size(), 0);
}

TEST(Weighting, RejectsBadSpecs) {
  // A trailing ':' or ',' (was: the default taken silently, "ips:" stored as ips:1); k1 beyond 1e6.
  for (const char* spec : {"ips:2", "ips:-0.1", "user-norm:x", "bm25:0", "bm25:1:2", "standardize,ips",
                           "ips,ips", "tfidf,bm25", "foo", "ips:0.5:1", ",", "tfidf:3", "ips:", "bm25:1.2:",
                           "standardize:", "ips,", "bm25:1e308:1", "bm25:2e6", "ips:1e-400"}) {
    SCOPED_TRACE(spec);
    EXPECT_THROW(parse_weighting(spec), InvalidArgument);
  }
  // The messages docs/reliability.md quotes.
  for (const auto& [spec, words] : {std::pair{"ips,ips", "ips appears twice"}, std::pair{"tfidf,bm25", "use either bm25 or tfidf"},
                                    std::pair{"standardize,ips", "standardize must be the last step"},
                                    // hexadecimal (std::stod read it: ips:0x0.8p0 was ips:0.5)
                                    std::pair{"ips:0x0.8p0", "--weighting ips:0x0.8p0: '0x0.8p0' is not a decimal number"}}) {
    try {
      parse_weighting(spec);
      ADD_FAILURE() << spec << " was accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(parse_weighting("none").empty());
  SparseMatrix neg = random_counts(10, 5, 0.5, 3);
  neg.valuePtr()[0] = -1.0;
  try {
    fit_weighting(parse_weighting("bm25"), neg);
    ADD_FAILURE() << "bm25 took a negative value";
  } catch (const InvalidArgument&) {
    ADD_FAILURE() << "a negative value is a runtime error (exit 1), not a usage error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bm25 needs nonnegative values"), std::string::npos) << e.what();
  }
}

TEST(DataMatrix, ProductsMatchTheDenseCentredMatrix) {
  // One sparse (row-major kernels) and two dense-ish (blocked GEMM on a dense copy) matrices:
  // 700 rows end in a partial row block, 5 × 3 is less than one.
  for (const auto& [n, p, density] : {std::tuple{Index{700}, Index{300}, 0.02}, std::tuple{Index{700}, Index{300}, 0.4},
                                      std::tuple{Index{5}, Index{3}, 0.6}}) {
    SCOPED_TRACE(testing::Message() << n << " x " << p << " at " << density);
    const SparseMatrix Y = random_counts(n, p, density, 4);
    const Vector m = test::random_matrix(p, 1, 5);
    const DataMatrix X(Y, m);
    Matrix D = Matrix(Y);
    D.rowwise() -= m.transpose();
    // Block widths that exercise each strip of the sparse kernel (16, 8, 4, single columns) and
    // both layouts.
    for (const Index width : {1, 7, 8, 16, 27, 300}) {  // 300: column-major inputs in blocks of 256
      SCOPED_TRACE(width);
      const Matrix Mw = test::random_matrix(p, width, 6);
      const Matrix Rw = test::random_matrix(n, width, 7);
      EXPECT_LT(test::relative_difference(X.times(Mw), D * Mw), 1e-13);
      EXPECT_LT(test::relative_difference(X.transpose_times(Rw), D.transpose() * Rw), 1e-13);
      EXPECT_LT(test::relative_difference(Matrix(X.times_rows(RowMatrix(Mw))), D * Mw), 1e-13);
      EXPECT_LT(test::relative_difference(Matrix(X.transpose_times_rows(RowMatrix(Rw))), D.transpose() * Rw), 1e-13);
    }
    // A block of the wrong height is refused, not read past its end.
    EXPECT_THROW(X.times(Matrix(Matrix::Zero(p + 1, 2))), InvalidArgument);
    EXPECT_THROW(X.transpose_times(Matrix(Matrix::Zero(n + 1, 2))), InvalidArgument);
    EXPECT_THROW(X.times_rows(RowMatrix(RowMatrix::Zero(p + 1, 2))), InvalidArgument);
    EXPECT_THROW(X.transpose_times_rows(RowMatrix(RowMatrix::Zero(n + 1, 2))), InvalidArgument);
    const Matrix M = test::random_matrix(p, 7, 6);
    const Matrix R = test::random_matrix(n, 7, 7);
    EXPECT_LT(test::relative_difference(X.gram(Context{}), D.transpose() * D), 1e-12);
    EXPECT_NEAR(X.squared_norm(), D.squaredNorm(), 1e-10 * D.squaredNorm());
    const GramOperator op(X);
    EXPECT_LT(test::relative_difference(op.apply(M), D.transpose() * (D * M)), 1e-12);
    Context one;
    one.threads = 1;
    Context two;
    two.threads = 2;
    Matrix a1, b1;
    {
      const ThreadScope scope(one);
      a1 = X.times(M);
      b1 = X.transpose_times(R);
    }
    {
      const ThreadScope scope(two);
      EXPECT_TRUE(a1 == X.times(M));
      EXPECT_TRUE(b1 == X.transpose_times(R));
    }
    Context three;
    three.threads = 3;
    const ThreadScope scope(three);
    EXPECT_TRUE(a1 == X.times(M));
    EXPECT_TRUE(b1 == X.transpose_times(R));
  }
}

// Products wider than one strip read M from a strip-major copy where a strip's table stays in the
// cache and the gathers outweigh the copy (sparse_times_into, data_matrix.cc): here both X M
// (600-row M) and Xᵀ R (1,000-row R) qualify. Each strip's sums must be the bits of the product
// of that strip alone (16 columns or fewer, never copied), on any thread count, with values and
// without (binarised data), and match the dense product.
TEST(DataMatrix, WideProductsEqualTheProductsOfTheirStripsBitForBit) {
  for (const bool binary : {true, false}) {
    SCOPED_TRACE(binary);
    const SparseMatrix Y = binary ? test::random_binary(1000, 600, 0.04, 61) : random_counts(1000, 600, 0.04, 61);
    const DataMatrix X(Y);
    ASSERT_EQ(X.unit_values(), binary);
    const Matrix D = Matrix(Y);
    const Matrix M = test::random_matrix(600, 45, 62);  // strips of 16, 16, 8, 4 and 1 columns
    const Matrix R = test::random_matrix(1000, 45, 63);
    Matrix XM, XtR;
    {
      Context one;
      one.threads = 1;
      const ThreadScope scope(one);
      XM = X.times(M);
      XtR = X.transpose_times(R);
    }
    EXPECT_LT(test::relative_difference(XM, D * M), 1e-13);
    EXPECT_LT(test::relative_difference(XtR, D.transpose() * R), 1e-13);
    Index c = 0;
    for (const Index w : {16, 16, 8, 4, 1}) {
      EXPECT_TRUE(XM.middleCols(c, w) == X.times(Matrix(M.middleCols(c, w)))) << "columns from " << c;
      EXPECT_TRUE(XtR.middleCols(c, w) == X.transpose_times(Matrix(R.middleCols(c, w)))) << "columns from " << c;
      c += w;
    }
    for (const int threads : {2, 3}) {
      Context ctx;
      ctx.threads = threads;
      const ThreadScope scope(ctx);
      EXPECT_TRUE(XM == X.times(M)) << threads;
      EXPECT_TRUE(XtR == X.transpose_times(R)) << threads;
    }
  }
}

// X's Gram product of M on one thread, in double and in single precision, after checking that 2 and
// 3 threads give the same bits for both.
std::pair<Matrix, Matrix> gram_on_any_thread_count(const DataMatrix& X, const Matrix& M) {
  RowMatrix doubled, single;
  {
    Context one;
    one.threads = 1;
    const ThreadScope scope(one);
    doubled = X.gram_times_rows(RowMatrix(M), false);
    single = X.gram_times_rows(RowMatrix(M), true);
  }
  for (const int threads : {2, 3}) {
    Context ctx;
    ctx.threads = threads;
    const ThreadScope scope(ctx);
    EXPECT_TRUE(doubled == X.gram_times_rows(RowMatrix(M), false)) << threads;
    EXPECT_TRUE(single == X.gram_times_rows(RowMatrix(M), true)) << threads;
  }
  return {Matrix(doubled), Matrix(single)};
}

// The solver's single-precision product: each column within its rounding bound 2 u θ_1 ‖m‖ of the
// exact X_wᵀ X_w m (one rounding of M, one of X_w M; u = 2⁻²⁴), with and without a centre large
// enough to cancel most of each entry (the centring must happen before the rounding), the same
// for any thread count; on the dense path it is the double product.
TEST(DataMatrix, Float32GramProductIsWithinItsRoundingBound) {
  const double u = std::ldexp(1.0, -24);
  const SparseMatrix Y = random_counts(700, 300, 0.03, 14);
  const Vector big_mean = Vector::Constant(300, 40.0) + test::random_matrix(300, 1, 15);
  for (const bool centred : {false, true}) {
    SCOPED_TRACE(centred);
    const DataMatrix X(Y, centred ? big_mean : Vector());
    Matrix D = Matrix(Y);
    if (centred) D.rowwise() -= big_mean.transpose();
    const Matrix G = D.transpose() * D;
    const double theta1 = Eigen::SelfAdjointEigenSolver<Matrix>(G, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff();
    const Matrix M = test::random_matrix(300, 21, 16);  // strips of 16, 4 and a single column
    const auto [doubled, got] = gram_on_any_thread_count(X, M);
    const Matrix exact = G * M;
    double worst = 0;
    for (Index c = 0; c < M.cols(); ++c) {
      const double error = (got.col(c) - exact.col(c)).norm();
      const double bound = 2 * u * theta1 * M.col(c).norm();
      EXPECT_LE(error, bound * (1 + 1e-6) + 1e-12 * theta1 * M.col(c).norm()) << c;
      worst = std::max(worst, error / bound);
    }
    EXPECT_GT(worst, 1e-4);  // single precision was used: the error is of the rounding's order
    EXPECT_LT(test::relative_difference(doubled, exact), 1e-12);
  }
  // Dense-ish data runs on the dense path, in double.
  const SparseMatrix dense = random_counts(200, 80, 0.4, 17);
  const DataMatrix X(dense);
  const Matrix M = test::random_matrix(80, 5, 18);
  EXPECT_TRUE(X.gram_times_rows(RowMatrix(M), true) == X.transpose_times_rows(X.times_rows(RowMatrix(M))));
}

// The Gram product's one pass by user rows (several row chunks with their own accumulators once
// the data has 2^17 nonzeros): equal to the dense XᵀX M, with values, with every value 1 (the
// values array is not read then) and with a centre; strips of 16, 8, 4 and single columns; the
// same bits for any thread count; single precision within its rounding bound u θ_1 ‖m‖.
TEST(DataMatrix, FusedGramProductMatchesTheDenseOneForEveryThreadCount) {
  const double u = std::ldexp(1.0, -24);
  const SparseMatrix counts = random_counts(4000, 1500, 0.04, 31);
  const SparseMatrix binary = test::random_binary(4000, 1500, 0.04, 32);
  ASSERT_GT(counts.nonZeros(), 2 << 16);
  const Vector mean = Vector::Constant(1500, 0.5) + 0.1 * test::random_matrix(1500, 1, 33);
  for (const SparseMatrix* Y : {&counts, &binary}) {
    for (const bool centred : {false, true}) {
      SCOPED_TRACE(testing::Message() << "binary " << (Y == &binary) << " centred " << centred);
      const DataMatrix X(*Y, centred ? mean : Vector());
      EXPECT_EQ(X.unit_values(), Y == &binary);
      Matrix D = Matrix(*Y);
      if (centred) D.rowwise() -= mean.transpose();
      const Matrix G = D.transpose() * D;
      const double theta1 = Eigen::SelfAdjointEigenSolver<Matrix>(G, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff();
      for (const Index b : {4, 16, 29}) {  // 29 = 16 + 8 + 4 + 1
        SCOPED_TRACE(b);
        const Matrix M = test::random_matrix(1500, b, 34);
        const Matrix exact = G * M;
        const auto [single, single_f] = gram_on_any_thread_count(X, M);
        EXPECT_LT(test::relative_difference(single, exact), 1e-12);
        for (Index c = 0; c < b; ++c) {
          EXPECT_LE((single_f.col(c) - exact.col(c)).norm(),
                    u * theta1 * M.col(c).norm() * (1 + 1e-6) + 1e-12 * theta1 * M.col(c).norm());
        }
      }
    }
  }
}

// Data with 2^21 nonzeros or more is cut into twelve chunks, six eighths and a last quarter cut
// finer (data_matrix.cc): the one pass there against Eigen's own sparse products, with values and
// with every value 1, with and without a centre (whose per-chunk sums are added in chunk order
// too), in double and in single precision (within u ‖X_w‖²_F ‖m‖ ≥ its bound u θ_1 ‖m‖); the
// same bits for any thread count.
TEST(DataMatrix, FusedGramProductOnLargeDataMatchesEigensForEveryThreadCount) {
  const double unit_roundoff = std::ldexp(1.0, -24);
  // 60,000 rows of 12 to 59 distinct items of 1,200 (3 % dense: below the dense copy's 5 %).
  const Index n = 60000, p = 1200;
  std::mt19937_64 rng(51);
  std::vector<Eigen::Triplet<double, int>> entries;
  for (Index row = 0; row < n; ++row) {
    const auto length = static_cast<Index>(12 + rng() % 48);
    std::vector<bool> taken(static_cast<size_t>(p), false);
    for (Index e = 0; e < length; ++e) {
      auto item = static_cast<size_t>(rng() % static_cast<std::uint64_t>(p));
      while (taken[item]) item = (item + 1) % static_cast<size_t>(p);
      taken[item] = true;
      entries.emplace_back(static_cast<int>(row), static_cast<int>(item), 1.0 + static_cast<double>(rng() % 4));
    }
  }
  SparseMatrix counts(n, p);
  counts.setFromTriplets(entries.begin(), entries.end());
  SparseMatrix binary = counts;
  std::fill(binary.valuePtr(), binary.valuePtr() + binary.nonZeros(), 1.0);
  const Vector mean = Vector::Constant(p, 0.02) + 0.01 * test::random_matrix(p, 1, 54);
  const Index b = 8;
  ASSERT_TRUE(gram_one_pass(p, b));
  const Matrix M = test::random_matrix(p, b, 53);
  for (const SparseMatrix* Y : {&counts, &binary}) {
    ASSERT_GE(Y->nonZeros(), Index{1} << 21);
    for (const bool centred : {false, true}) {
      SCOPED_TRACE(testing::Message() << "binary " << (Y == &binary) << " centred " << centred);
      const DataMatrix X(*Y, centred ? mean : Vector());
      EXPECT_EQ(X.unit_values(), Y == &binary);
      // X_w M = Y M − 1 (mᵀM), and X_wᵀ(X_w M) = Yᵀ(X_w M) − m (1ᵀ X_w M).
      Matrix XM = *Y * M;
      if (centred) XM.rowwise() -= (mean.transpose() * M);
      Matrix exact = Y->transpose() * XM;
      if (centred) exact -= mean * XM.colwise().sum();
      const auto [doubled, single] = gram_on_any_thread_count(X, M);
      EXPECT_LT(test::relative_difference(doubled, exact), 1e-12);
      // ‖X_w‖²_F = Σ (y − m)² over all cells.
      double frobenius = Y->squaredNorm();
      if (centred) {
        const Vector column_sums = Vector::Ones(n).transpose() * *Y;
        frobenius += -2 * mean.dot(column_sums) + static_cast<double>(n) * mean.squaredNorm();
      }
      double worst = 0;
      for (Index c = 0; c < b; ++c) {
        const double error = (single.col(c) - exact.col(c)).norm();
        const double bound = unit_roundoff * frobenius * M.col(c).norm();
        EXPECT_LE(error, bound * (1 + 1e-6) + 1e-12 * frobenius * M.col(c).norm()) << c;
        worst = std::max(worst, error / bound);
      }
      EXPECT_GT(worst, 1e-6);  // single precision was used
    }
  }
}

// The one pass adds to eight accumulator rows at a time, all loaded before any is stored, which is
// right only where no row names an item twice (checked as strictly increasing column indices). A
// matrix whose rows repeat an item (Eigen's arrays allow it) and list items out of order takes the
// one-at-a-time scatter and gets the product of the matrix with the repeats summed, as the same
// rows sorted and distinct get it by the grouped path; so does dense-ish data, whose dense copy
// sums the repeats too. With values and with every value 1, with and without a centre, strips of
// 16, 8, 4 and 1 columns, in double and single precision (within u ‖X_w‖²_F ‖m‖ ≥ its bound u θ_1 ‖m‖).
TEST(DataMatrix, GramProductOnRowsThatRepeatAnItem) {
  const double u = std::ldexp(1.0, -24);
  const Index n = 300, b = 29;  // 29 = 16 + 8 + 4 + 1
  for (const Index p : {2000, 200}) {  // 24 entries a row: 1.2 % (the one pass) and 12 % (dense)
    for (const bool unit : {false, true}) {
      SparseMatrix repeats(n, p);
      std::vector<int> inner;
      std::vector<double> value;
      Matrix D = Matrix::Zero(n, p);
      repeats.outerIndexPtr()[0] = 0;
      for (Index r = 0; r < n; ++r) {
        for (int e = 0; e < 24; ++e) {  // items r, r, r + 1, r + 1, …, every third one 7 further on
          const int item = static_cast<int>((r + e / 2 + (e % 3 == 0 ? 7 : 0)) % p);
          inner.push_back(item);
          value.push_back(unit ? 1.0 : 1.0 + static_cast<double>((r + e) % 3));
          D(r, item) += value.back();
        }
        repeats.outerIndexPtr()[r + 1] = static_cast<int>(inner.size());
      }
      repeats.resizeNonZeros(static_cast<Index>(inner.size()));
      std::copy(inner.begin(), inner.end(), repeats.innerIndexPtr());
      std::copy(value.begin(), value.end(), repeats.valuePtr());
      const SparseMatrix summed = D.sparseView();
      ASSERT_LT(summed.nonZeros(), repeats.nonZeros());
      // p = 200 is 5 % dense or more, which goes to the dense copy before the one pass is asked.
      ASSERT_TRUE(gram_one_pass(p, b));
      const Matrix M = test::random_matrix(p, b, 44);
      const Vector mean = Vector::Constant(p, 0.05) + 0.01 * test::random_matrix(p, 1, 45);
      for (const bool centred : {false, true}) {
        Matrix Dc = D;
        if (centred) Dc.rowwise() -= mean.transpose();
        const Matrix G = Dc.transpose() * Dc;
        const Matrix exact = G * M;
        const double frobenius = Dc.squaredNorm();  // ‖X_w‖²_F ≥ θ_1, without a 2,000 × 2,000 eigen-solve
        for (const SparseMatrix* Y : {static_cast<const SparseMatrix*>(&repeats), &summed}) {
          SCOPED_TRACE(testing::Message() << "p " << p << " unit " << unit << " centred " << centred << " "
                                          << (Y == &repeats ? "repeats" : "summed"));
          const DataMatrix X(*Y, centred ? mean : Vector());
          EXPECT_LT(test::relative_difference(Matrix(X.gram_times_rows(RowMatrix(M), false)), exact), 1e-12);
          const Matrix single = X.gram_times_rows(RowMatrix(M), true);
          for (Index c = 0; c < b; ++c) {
            EXPECT_LE((single.col(c) - exact.col(c)).norm(),
                      u * frobenius * M.col(c).norm() * (1 + 1e-6) + 1e-12 * frobenius * M.col(c).norm())
                << c;
          }
        }
      }
    }
  }
}

// Wide data (p b above gram_one_pass's limit) takes the two passes, a CSR pass for X_w M and a CSC
// pass over it, whose gathers prefetch across rows: equal to Eigen's sparse products in double; in
// single precision within the rounding bound 2 u ‖X_w‖²_F ‖m‖ (θ_1 ≤ ‖X_w‖²_F) and not the double
// result; with a centre; strips of 16, 8, 4 and single columns, row counts that are not multiples
// of the 256-row blocks; the same bits for any thread count.
TEST(DataMatrix, TwoPassGramProductOnWideDataForEveryThreadCount) {
  const double u = std::ldexp(1.0, -24);
  const Index n = 1500, p = 40000, b = 29;  // 29 = 16 + 8 + 4 + 1
  ASSERT_FALSE(gram_one_pass(p, b));
  const SparseMatrix Y = random_counts(n, p, 0.002, 41);
  const Vector mean = 0.01 * (Vector::Ones(p) + test::random_matrix(p, 1, 42));
  const Matrix M = test::random_matrix(p, b, 43);
  for (const bool centred : {false, true}) {
    SCOPED_TRACE(centred);
    const DataMatrix X(Y, centred ? mean : Vector());
    Matrix XM = Y * M;
    if (centred) XM.rowwise() -= mean.transpose() * M;
    Matrix exact = Y.transpose() * XM;
    if (centred) exact -= mean * XM.colwise().sum();
    double frobenius = Y.squaredNorm();  // ‖Y − 1 mᵀ‖²_F without a dense copy:
    if (centred) frobenius += -2 * (Y * mean).sum() + static_cast<double>(n) * mean.squaredNorm();
    const auto [single, single_f] = gram_on_any_thread_count(X, M);
    EXPECT_LT(test::relative_difference(single, exact), 1e-12);
    for (Index c = 0; c < b; ++c) {
      EXPECT_LE((single_f.col(c) - exact.col(c)).norm(), 2 * u * frobenius * M.col(c).norm()) << c;
    }
    EXPECT_FALSE(single_f == single);  // single precision was used
  }
}

// Xᵀ R with many users (R beyond the cache) goes by ranges of items, each streaming R's rows and
// adding them into its items' rows of the result: every item still gets its terms in the order of
// the users. On binary data that is exactly Eigen's sparse Yᵀ R (which adds 1 · R's rows into the
// items' rows, user by user), for row-major and column-major results; the single-precision Gram
// product's second pass likewise equals Yᵀ of its rounded X M; values read by the kernel give
// exactly twice the bits for 2 Y; a centre is subtracted afterwards; strips of 16, 4 and single
// columns; the same bits for any thread count.
TEST(DataMatrix, TransposeByItemRangesAddsInTheOrderOfTheUsers) {
  const Index n = 300000, p = 40000, b = 21;  // 21 = 16 + 4 + 1
  std::mt19937_64 rng(81);
  std::vector<Eigen::Triplet<double, int>> t;
  for (Index u = 0; u < n; ++u) {
    const int count = 1 + static_cast<int>(rng() % 15);  // 8 on average
    for (int e = 0; e < count; ++e) {
      // Most items from the first tenth, so that the ranges (cut by nonzeros) differ in width.
      const auto item = static_cast<int>(rng() % 3 == 0 ? rng() % p : rng() % (p / 10));
      t.emplace_back(static_cast<int>(u), item, 1.0);
    }
  }
  SparseMatrix Y(n, p);
  Y.setFromTriplets(t.begin(), t.end(), [](double a, double) { return a; });
  ASSERT_TRUE(transpose_by_item_ranges(n, p, Y.nonZeros(), b, sizeof(double)));
  ASSERT_TRUE(transpose_by_item_ranges(n, p, Y.nonZeros(), 16, sizeof(float)));
  ASSERT_FALSE(transpose_by_item_ranges(n / 3, p, Y.nonZeros() / 3, b, sizeof(double)));  // R within the cache
  ASSERT_FALSE(transpose_by_item_ranges(n, p, n, b, sizeof(double)));  // a nonzero per user: R streamed for little
  const SparseMatrix Y2 = 2.0 * Y;
  const RowMatrix R = test::random_matrix(n, b, 82);
  const Matrix want = Y.transpose() * Matrix(R);
  const Vector mean = 0.01 * (Vector::Ones(p) + test::random_matrix(p, 1, 83));
  const Index gram_b = 29;  // two passes: p × 29 is beyond gram_one_pass
  ASSERT_FALSE(gram_one_pass(p, gram_b));
  const Matrix M = test::random_matrix(p, gram_b, 84);
  const DataMatrix X(Y), X2(Y2), Xc(Y, mean);
  ASSERT_TRUE(X.unit_values());
  const RowMatrix got = X.transpose_times_rows(R);
  EXPECT_TRUE(Matrix(got) == want);
  EXPECT_TRUE(X.transpose_times(Matrix(R)) == want);
  EXPECT_TRUE(X2.transpose_times_rows(R) == 2.0 * got);
  EXPECT_LT(test::relative_difference(Matrix(Xc.transpose_times_rows(R)), Matrix(want - mean * R.colwise().sum())), 1e-13);
  // The single-precision Gram product: X M rounded to float once, then Yᵀ of it in double.
  const RowMatrix rounded = RowMatrix(M).cast<float>().cast<double>();
  const RowMatrix xm = X.times_rows(rounded).cast<float>().cast<double>();
  const Matrix gram_want = Y.transpose() * Matrix(xm);
  const auto [doubled, single] = gram_on_any_thread_count(X, M);
  EXPECT_TRUE(single == gram_want);
  EXPECT_TRUE(doubled == Matrix(Y.transpose() * (Y * M)));
  for (const int threads : {1, 3}) {
    Context ctx;
    ctx.threads = threads;
    const ThreadScope scope(ctx);
    EXPECT_TRUE(X.transpose_times_rows(R) == got) << threads;
    EXPECT_TRUE(X2.transpose_times_rows(R) == 2.0 * got) << threads;
    EXPECT_TRUE(DataMatrix(Y).transpose_times_rows(R) == got) << threads;  // ranges built on this many threads
  }
  // Two threads asking a fresh object at once: the ranges are built once, under its lock.
  const DataMatrix fresh(Y);
  int wrong = 0;
  std::thread other([&] { wrong += fresh.transpose_times_rows(R) != got; });
  const bool here = fresh.transpose_times_rows(R) != got;
  other.join();
  EXPECT_EQ(wrong + (here ? 1 : 0), 0);
}

// Xᵀ R as both routes (gathers through the column copy, scatters by item ranges) must form it:
// for each item, 0 + v₁ r₁ + v₂ r₂ + … over its entries in the order of the users (within a user,
// of the row), each product rounded before it is added (volatile: no fused multiply-add).
Matrix ordered_transpose_times(const SparseView& Y, const RowMatrix& R) {
  Matrix out = Matrix::Zero(Y.cols(), R.cols());
  for (Index u = 0; u < Y.rows(); ++u) {
    for (SparseView::InnerIterator it(Y, u); it; ++it) {
      for (Index c = 0; c < R.cols(); ++c) {
        volatile double term = it.value() * R(u, c);
        out(it.col(), c) += term;
      }
    }
  }
  return out;
}

// Weighted rows (values whose products round), some naming an item twice (out of order, at the
// row's end), and a view of some rows of a bigger matrix: on data large enough for the item ranges
// and on data small enough for the column copy, Xᵀ R and the single-precision Gram product's
// second pass equal the same ordered sums bit for bit, in strips of 16, 8, 4 and 1 columns. (With
// GCC's default contraction the two kernels fused a multiply-add in some strip widths and not in
// others.)
TEST(DataMatrix, WeightedRowsRoundAlikeOnBothRoutesOfTheTransposedProduct) {
  const Index b = 29;  // 16 + 8 + 4 + 1
  for (const Index n : {Index{1500}, Index{300000}}) {
    const Index p = 40000;
    SCOPED_TRACE(n);
    std::mt19937_64 rng(91);
    SparseMatrix Y(n, p);
    std::vector<int> inner;
    std::vector<double> value;
    for (Index u = 0; u < n; ++u) {
      const int count = 1 + static_cast<int>(rng() % 15);
      std::vector<int> items;
      for (int e = 0; e < count; ++e) items.push_back(static_cast<int>(rng() % 3 == 0 ? rng() % p : rng() % (p / 10)));
      std::sort(items.begin(), items.end());
      items.erase(std::unique(items.begin(), items.end()), items.end());
      if (u % 5 == 0) items.push_back(items.front());  // named twice, the second time last
      for (const int j : items) {
        inner.push_back(j);
        value.push_back(0.1 + 0.37 * static_cast<double>(rng() % 7));
      }
      Y.outerIndexPtr()[u + 1] = static_cast<int>(inner.size());
    }
    Y.resizeNonZeros(static_cast<Index>(inner.size()));
    std::copy(inner.begin(), inner.end(), Y.innerIndexPtr());
    std::copy(value.begin(), value.end(), Y.valuePtr());
    const Index first = n / 100, rows = n - 2 * first;
    const SparseView view(Y.middleRows(first, rows));
    ASSERT_NE(view.outerIndexPtr()[0], 0);
    const bool ranges = n > 10000;
    EXPECT_EQ(transpose_by_item_ranges(rows, p, view.nonZeros(), b, sizeof(double)), ranges);
    EXPECT_EQ(transpose_by_item_ranges(rows, p, view.nonZeros(), 16, sizeof(float)), ranges);
    const RowMatrix R = test::random_matrix(rows, b, 92);
    const Matrix want = ordered_transpose_times(view, R);
    const DataMatrix X(view);
    ASSERT_FALSE(X.unit_values());
    EXPECT_TRUE(Matrix(X.transpose_times_rows(R)) == want);
    EXPECT_TRUE(X.transpose_times(Matrix(R)) == want);
    // The single-precision Gram product (p × 29 takes the two passes): Yᵀ of X M rounded once.
    ASSERT_FALSE(gram_one_pass(p, b));
    const RowMatrix M = test::random_matrix(p, b, 93);
    const RowMatrix xm = X.times_rows(RowMatrix(M.cast<float>().cast<double>())).cast<float>().cast<double>();
    EXPECT_TRUE(Matrix(X.gram_times_rows(M, true)) == ordered_transpose_times(view, xm));
  }
}

// A DataMatrix holds one transposed copy, whichever widths its products Xᵀ R take: the item
// ranges where its first such product is wide, the column copy where it is narrow, and that copy
// for every later product (before, a narrow product after a wide one built the column copy beside
// the ranges: both at once, ~2× what the fit's memory estimate counts). Two threads asking a fresh
// object with different widths at once agree on one copy too. Every result is the ordered sums.
TEST(DataMatrix, HoldsOneTransposedCopyWhateverTheWidthsOfItsProducts) {
  const Index n = 300000, p = 40000;
  std::mt19937_64 rng(95);
  std::vector<Eigen::Triplet<double, int>> t;
  for (Index u = 0; u < n; ++u) {
    const int count = 1 + static_cast<int>(rng() % 15);
    for (int e = 0; e < count; ++e) {
      t.emplace_back(static_cast<int>(u), static_cast<int>(rng() % p), 1.0 + static_cast<double>(rng() % 3));
    }
  }
  SparseMatrix Y(n, p);
  Y.setFromTriplets(t.begin(), t.end(), [](double a, double) { return a; });
  const Index wide = 16, narrow = 2;
  ASSERT_TRUE(transpose_by_item_ranges(n, p, Y.nonZeros(), wide, sizeof(double)));
  ASSERT_FALSE(transpose_by_item_ranges(n, p, Y.nonZeros(), narrow, sizeof(double)));
  const RowMatrix Rw = test::random_matrix(n, wide, 96), Rn = test::random_matrix(n, narrow, 97);
  const Matrix want_w = ordered_transpose_times(Y, Rw), want_n = ordered_transpose_times(Y, Rn);
  const double bound = transposed_copy_bytes(n, p, Y.nonZeros());
  double ranges_bytes = 0, column_bytes = 0;
  for (const bool wide_first : {true, false}) {
    SCOPED_TRACE(wide_first);
    const DataMatrix X(Y);
    ASSERT_EQ(X.first_use_bytes(), 0.0);
    for (int call = 0; call < 2; ++call) {
      if ((call == 0) == wide_first) {
        EXPECT_TRUE(Matrix(X.transpose_times_rows(Rw)) == want_w);
      } else {
        EXPECT_TRUE(Matrix(X.transpose_times_rows(Rn)) == want_n);
      }
      if (call == 0) (wide_first ? ranges_bytes : column_bytes) = X.first_use_bytes();
    }
    EXPECT_EQ(X.first_use_bytes(), wide_first ? ranges_bytes : column_bytes);  // nothing built by the second
    EXPECT_GT(X.first_use_bytes(), 12.0 * static_cast<double>(Y.nonZeros()));  // indices and values
    EXPECT_LE(X.first_use_bytes(), bound);
  }
  EXPECT_NE(ranges_bytes, column_bytes);  // two different copies were built
  for (int trial = 0; trial < 3; ++trial) {
    const DataMatrix fresh(Y);
    bool wrong_w = false, wrong_n = false;
    std::thread other([&] { wrong_w = Matrix(fresh.transpose_times_rows(Rw)) != want_w; });
    wrong_n = Matrix(fresh.transpose_times_rows(Rn)) != want_n;
    other.join();
    EXPECT_FALSE(wrong_w || wrong_n);
    const double held = fresh.first_use_bytes();
    EXPECT_TRUE(held == ranges_bytes || held == column_bytes) << held;
  }
}

// The Gram product keeps its buffers between calls (and copies of a DataMatrix share them): calls
// that narrow and widen the block, change the precision and the route (two passes at b = 29 and
// 40 and below b = 4, the one pass at b = 16) each give the bits a fresh object gives; so do two
// copies used at once from two threads (whichever finds the buffers in use works in its own).
TEST(DataMatrix, GramBuffersKeptBetweenCallsNeverChangeAResult) {
  const Index p = 40000;
  const SparseMatrix Y = random_counts(900, p, 0.002, 51);
  const Vector mean = 0.01 * (Vector::Ones(p) + test::random_matrix(p, 1, 52));
  ASSERT_FALSE(gram_one_pass(p, 29));
  ASSERT_TRUE(gram_one_pass(p, 16));
  for (const bool centred : {false, true}) {
    SCOPED_TRACE(centred);
    const Vector centre = centred ? mean : Vector();
    const DataMatrix X(Y, centre);
    const std::vector<std::pair<Index, bool>> calls{{40, true},  {29, true},  {2, true},  {29, true},
                                                    {29, false}, {3, false},  {40, false}, {16, true},
                                                    {16, false}, {29, true}};
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const auto [b, float32] = calls[i];
      const RowMatrix M = test::random_matrix(p, b, static_cast<unsigned>(60 + i));
      const RowMatrix got = X.gram_times_rows(M, float32);
      EXPECT_TRUE(got == DataMatrix(Y, centre).gram_times_rows(M, float32)) << i;
    }
    const DataMatrix copy = X;
    const RowMatrix M1 = test::random_matrix(p, 29, 70), M2 = test::random_matrix(p, 40, 71);
    const RowMatrix want1 = DataMatrix(Y, centre).gram_times_rows(M1, true);
    const RowMatrix want2 = DataMatrix(Y, centre).gram_times_rows(M2, false);
    int wrong1 = 0, wrong2 = 0;
    std::thread other([&] {
      for (int r = 0; r < 10; ++r) wrong1 += copy.gram_times_rows(M1, true) != want1;
    });
    for (int r = 0; r < 10; ++r) wrong2 += X.gram_times_rows(M2, false) != want2;
    other.join();
    EXPECT_EQ(wrong1, 0);
    EXPECT_EQ(wrong2, 0);
  }
}

// On binary data (every value 1) the sparse kernels read no values and the column copy stores
// none. Doubling Y (and the centre) doubles every product exactly, so the kernels that read the
// values of 2 Y must give exactly twice the bits of those that skip Y's — a different order of
// any sum, or a nonzero dropped, would show. Both Gram routes (the one pass and the two passes,
// in double and in single precision), the plain products in both layouts and the Lanczos
// operator, centred or not.
TEST(DataMatrix, BinaryDataSkipsItsValuesWithTheSameBits) {
  for (const auto& [n, p, b] : {std::tuple{Index{1500}, Index{40000}, Index{29}}, std::tuple{Index{900}, Index{300}, Index{8}}}) {
    SCOPED_TRACE(testing::Message() << n << " x " << p << ", b = " << b);
    const SparseMatrix Y = test::random_binary(n, p, p > 1000 ? 0.002 : 0.03, 51);
    const SparseMatrix Y2 = 2.0 * Y;
    const Vector mean = 0.01 * (Vector::Ones(p) + test::random_matrix(p, 1, 52));
    const Matrix M = test::random_matrix(p, b, 53);
    const Matrix R = test::random_matrix(n, b, 54);
    EXPECT_EQ(gram_one_pass(p, b), p < 1000);
    for (const bool centred : {false, true}) {
      SCOPED_TRACE(centred);
      const DataMatrix X(Y, centred ? mean : Vector()), X2(Y2, centred ? Vector(2.0 * mean) : Vector());
      ASSERT_TRUE(X.unit_values());
      ASSERT_FALSE(X2.unit_values());
      EXPECT_EQ(X.csc().valuePtr(), nullptr);
      ASSERT_NE(X2.csc().valuePtr(), nullptr);
      EXPECT_TRUE(X2.times(M) == 2.0 * X.times(M));
      EXPECT_TRUE(X2.transpose_times(R) == 2.0 * X.transpose_times(R));
      EXPECT_TRUE(X2.times_rows(RowMatrix(M)) == 2.0 * X.times_rows(RowMatrix(M)));
      EXPECT_TRUE(X2.transpose_times_rows(RowMatrix(R)) == 2.0 * X.transpose_times_rows(RowMatrix(R)));
      for (const bool single : {false, true}) {
        EXPECT_TRUE(X2.gram_times_rows(RowMatrix(M), single) == 4.0 * X.gram_times_rows(RowMatrix(M), single)) << single;
      }
      EXPECT_TRUE(GramOperator(X2).apply(M) == 4.0 * GramOperator(X).apply(M));
      // And against the dense oracle, so that the doubled kernels are right too.
      Matrix D = Matrix(Y);
      if (centred) D.rowwise() -= mean.transpose();
      EXPECT_LT(test::relative_difference(Matrix(X.gram_times_rows(RowMatrix(M), false)), D.transpose() * (D * M)), 1e-12);
    }
  }
}

TEST(DataMatrix, CentredSpectrumOnBothPathsMatchesTheDenseSvd) {
  const SparseMatrix T = random_counts(400, 120, 0.05, 8);
  const FittedWeighting f = fit_weighting(parse_weighting("ips:0.3,standardize"), T);
  const SparseMatrix Y = f.apply(T);
  const DataMatrix X(Y, f.center);
  Eigen::JacobiSVD<Matrix> svd(dense_weighted(f, T), Eigen::ComputeThinV);
  const Index k = 10;
  for (const Solver solver : {Solver::kGram, Solver::kLanczos}) {
    const Spectrum s = top_spectrum(X, k, solver, Context{}, {}, 1e-10);
    EXPECT_LT((s.sigma - svd.singularValues().head(k)).cwiseAbs().maxCoeff(), 1e-9 * s.sigma(0));
    // Same subspace: |cos| of principal angles all 1.
    const Eigen::JacobiSVD<Matrix> angles(s.V.transpose() * svd.matrixV().leftCols(k));
    EXPECT_GT(angles.singularValues().minCoeff(), 1 - 1e-8);
  }
}

TEST(WeightedModels, FitTheWeightedMatrixAndScoreFoldedInUsersTheSameWay) {
  const SparseMatrix T = random_counts(300, 60, 0.1, 9);
  for (const char* spec : {"ips:0.5", "bm25", "ips:0.5,user-norm:0.5,standardize"}) {
    for (const ModelKind kind : {ModelKind::kEq1, ModelKind::kEq2, ModelKind::kEase, ModelKind::kCosine}) {
      SCOPED_TRACE(fmt::format("{} {}", spec, model_name(kind)));
      FitOptions o = test::exact_options(kind, 8, kind == ModelKind::kEq1 ? 5.0 : 0.5);
      o.weighting = parse_weighting(spec);
      o.cosine.epochs = 20;
      const Model model = fit_model(T, o, Context{});
      const FittedWeighting f = fit_weighting(o.weighting, T);
      const Matrix Xw = dense_weighted(f, T);
      if (kind == ModelKind::kEase) {
        const Matrix ref = Xw * model.weights;
        EXPECT_LT(test::relative_difference(score_users(model, T), ref), 1e-10);
        continue;
      }
      // The spectrum is the weighted matrix's.
      Eigen::JacobiSVD<Matrix> svd(Xw);
      EXPECT_LT((model.singular_values - svd.singularValues().head(8)).cwiseAbs().maxCoeff(),
                1e-9 * svd.singularValues()(0));
      // Training users folded in again get their own stored embeddings and scores.
      EXPECT_LT(test::relative_difference(embed_users(model, T), model.user_embeddings), 1e-12);
      EXPECT_LT(test::relative_difference(score_users(model, T),
                                          model.user_embeddings * model.item_embeddings.transpose()),
                1e-12);
    }
  }
}

TEST(WeightedModels, ModelDirectoryRoundTripKeepsTheWeighting) {
  const SparseMatrix T = random_counts(200, 40, 0.1, 10);
  const SparseMatrix Q = random_counts(5, 40, 0.2, 11);
  const test::TempDir scratch;
  const auto dir = scratch.path() / "model";
  for (const std::string model_kind : {"eq2", "cosine", "sppmi", "ease", "ease:float32"}) {
    SCOPED_TRACE(model_kind);
    std::filesystem::remove_all(dir);
    ModelBundle b;
    FitOptions o = test::exact_options(parse_model_kind(model_kind.substr(0, model_kind.find(':'))), 6, 1.0);
    if (model_kind == "ease:float32") o.dtype = Dtype::kFloat32;
    if (o.kind != ModelKind::kSppmi) o.weighting = parse_weighting("ips:0.5,user-norm:0.5,standardize");
    o.cosine.epochs = 5;
    b.model = fit_model(T, o, Context{});
    b.data.X = T;
    for (Index u = 0; u < T.rows(); ++u) b.data.users.add(std::to_string(u));
    for (Index i = 0; i < T.cols(); ++i) b.data.items.add(std::to_string(i));
    AtomicDirectory out(dir.string(), false, "model.json");
    write_model_dir(out, b);
    out.commit();
    const ModelBundle r = read_model_dir(dir.string());
    EXPECT_EQ(r.model.options.weighting.spec(), o.weighting.spec());
    EXPECT_EQ(r.model.options.dtype, o.dtype);
    EXPECT_TRUE(r.model.weights == b.model.weights && r.model.weights32 == b.model.weights32);
    EXPECT_LT(test::relative_difference(score_users(r.model, Q), score_users(b.model, Q)), 1e-15);
  }
  std::filesystem::remove_all(dir);
}

// SPPMI from counts, entry by entry (MATH.md M6).
Matrix reference_sppmi(const Matrix& X, double k, double alpha) {
  const Index p = X.cols();
  Matrix C = X.transpose() * X;
  C.diagonal().setZero();
  const Vector c = C.rowwise().sum();
  const double D = c.sum();
  double Z = 0;
  for (Index i = 0; i < p; ++i) Z += std::pow(c(i), alpha);
  Matrix S = Matrix::Zero(p, p);
  for (Index i = 0; i < p; ++i) {
    for (Index j = 0; j < p; ++j) {
      if (C(i, j) == 0) continue;
      const double pij = C(i, j) / D;
      const double pi = std::pow(c(i), alpha) / Z;
      const double pj = std::pow(c(j), alpha) / Z;
      S(i, j) = std::max(0.0, std::log(pij / (pi * pj)) - std::log(k));
    }
  }
  return S;
}

TEST(Sppmi, MatchesTheDenseReferenceAndFactorisesIt) {
  const SparseMatrix X = test::random_binary(150, 30, 0.15, 12);
  const Matrix Xd = Matrix(X);
  for (const double k : {1.0, 5.0}) {
    for (const double alpha : {1.0, 0.75}) {
      SppmiOptions o;
      o.negatives = k;
      o.smoothing = alpha;
      const Matrix S = sppmi_matrix(Xd.transpose() * Xd, o);
      const Matrix ref = reference_sppmi(Xd, k, alpha);
      EXPECT_LT(test::relative_difference(S, ref), 1e-13);
      EXPECT_GE(S.minCoeff(), 0.0);
      EXPECT_LE((S - S.transpose()).norm(), 1e-13 * S.norm());
      if (k == 1.0) {
        EXPECT_GT(S.norm(), 0.0);
      }
    }
  }
  // The fitted model: A Bᵀ = V_k Λ_k V_kᵀ (best rank-k from the top eigenpairs) for every t.
  FitOptions f = test::exact_options(ModelKind::kSppmi, 5, 0);
  Eigen::SelfAdjointEigenSolver<Matrix> eig(reference_sppmi(Xd, 1.0, 0.75));
  const Matrix V = eig.eigenvectors().rightCols(5);
  const Matrix best = V * eig.eigenvalues().tail(5).asDiagonal() * V.transpose();
  for (const double t : {0.0, 0.5, 1.0}) {
    f.sppmi.eigen_power = t;
    const Model m = fit_model(X, f, Context{});
    EXPECT_LT(test::relative_difference(m.encoder * m.item_embeddings.transpose(), best), 1e-10);
    EXPECT_LT(test::relative_difference(m.user_embeddings, Xd * m.encoder), 1e-12);
  }
  f.rank = 29;  // more than the positive eigenvalues of this SPPMI matrix
  EXPECT_THROW(fit_model(X, f, Context{}), InvalidArgument);
  f.sppmi.truncate_rank = true;  // comparisons keep the positive part
  const Model truncated = fit_model(X, f, Context{});
  const Index positive = (eig.eigenvalues().array() > 1e-12 * eig.eigenvalues().maxCoeff()).count();
  EXPECT_EQ(truncated.options.rank, positive);
  EXPECT_LT(truncated.options.rank, 29);
  EXPECT_GT(truncated.singular_values.minCoeff(), 0.0);
  f.sppmi.truncate_rank = false;
  f.rank = 5;
  f.sppmi.negatives = 0.5;
  EXPECT_THROW(fit_model(X, f, Context{}), InvalidArgument);
  // The shift log k removes a pair once k reaches its ratio exp(SPPMI at k = 1): just above the
  // largest ratio the matrix is zero, which no rank (not even a truncated one) can embed, and the
  // refusal says so rather than blaming the rank; just below it one pair is left.
  const double largest_ratio = std::exp(reference_sppmi(Xd, 1.0, 0.75).maxCoeff());
  f.sppmi.truncate_rank = true;
  f.rank = 1;
  f.sppmi.negatives = largest_ratio * 0.999;
  EXPECT_EQ(fit_model(X, f, Context{}).options.rank, 1);
  for (const double k : {largest_ratio * 1.001, 1e308}) {
    f.sppmi.negatives = k;
    try {
      fit_model(X, f, Context{});
      ADD_FAILURE() << "k = " << k << " was fitted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(fmt::format("the SPPMI matrix is zero: no two items co-occur more than k = {} times", k)),
                std::string::npos)
          << e.what();
    }
  }
}

// Dense ‖X − s N(XA) N(B)ᵀ‖² minimised over s.
double dense_cosine_objective(const Matrix& X, const Matrix& A, const Matrix& B) {
  const Matrix Pt = normalize_rows(Matrix(X * A));
  const Matrix Qt = normalize_rows(B);
  const Matrix M = Pt * Qt.transpose();
  const double s = (X.cwiseProduct(M)).sum() / M.squaredNorm();
  return (X - s * M).squaredNorm();
}

TEST(CosineModel, ObjectiveMatchesTheDenseFormAndItsGradientFiniteDifferences) {
  const SparseMatrix T = random_counts(80, 20, 0.2, 13);
  for (const char* spec : {"none", "user-norm:0.5,standardize"}) {
    SCOPED_TRACE(spec);
    const FittedWeighting f = fit_weighting(parse_weighting(spec), T);
    const SparseMatrix Y = f.apply(T);
    const DataMatrix X(Y, f.center);
    const Matrix A = test::random_matrix(20, 4, 14);
    const Matrix B = test::random_matrix(20, 4, 15);
    Matrix gA, gB;
    double s = 0;
    const double value = cosine_objective(X, A, B, &gA, &gB, &s);
    EXPECT_NEAR(value, dense_cosine_objective(dense_weighted(f, T), A, B), 1e-10 * value);
    // Invariances: global scale of A, row scales of B.
    Matrix B2 = B;
    B2.row(3) *= 7.0;
    EXPECT_NEAR(cosine_objective(X, 3.0 * A, B2, nullptr, nullptr), value, 1e-10 * value);
    // Central differences in random directions.
    for (unsigned trial = 0; trial < 5; ++trial) {
      const Matrix dA = test::random_matrix(20, 4, 100 + trial);
      const Matrix dB = test::random_matrix(20, 4, 200 + trial);
      const double h = 1e-5;
      const double numeric = (cosine_objective(X, A + h * dA, B + h * dB, nullptr, nullptr) -
                              cosine_objective(X, A - h * dA, B - h * dB, nullptr, nullptr)) / (2 * h);
      const double analytic = gA.cwiseProduct(dA).sum() + gB.cwiseProduct(dB).sum();
      EXPECT_NEAR(numeric, analytic, 1e-6 * (std::abs(analytic) + 1.0));
    }
  }
}

TEST(CosineModel, DecreasesMonotonicallyFromTheEq2Solution) {
  const SparseMatrix T = random_counts(300, 50, 0.1, 16);
  FitOptions o = test::exact_options(ModelKind::kCosine, 6, 1.0);
  o.cosine.epochs = 60;
  const Model m = fit_model(T, o, Context{});
  const Convergence& c = m.convergence;
  ASSERT_GE(c.history.size(), 2u);
  for (size_t i = 1; i < c.history.size(); ++i) EXPECT_LE(c.history[i], c.history[i - 1]);
  EXPECT_LT(c.final_objective, c.initial_objective);
  // The warm start is the eq2 solution: its objective is the first value.
  const Model eq2 = fit_model(T, test::exact_options(ModelKind::kEq2, 6, 1.0), Context{});
  EXPECT_NEAR(c.initial_objective, dense_cosine_objective(Matrix(T), eq2.encoder, eq2.item_embeddings),
              1e-10 * c.initial_objective);
  // Stored embeddings reproduce the fitted objective: ‖X − P Bᵀ‖² with P = s N(XA), B = N(B).
  const Matrix Xd = Matrix(T);
  EXPECT_NEAR((Xd - m.user_embeddings * m.item_embeddings.transpose()).squaredNorm(), c.final_objective,
              1e-9 * c.final_objective);
  EXPECT_LT((m.item_embeddings.rowwise().norm().array() - 1.0).abs().maxCoeff(), 1e-12);
  // Deterministic for a thread count and across thread counts.
  Context one;
  one.threads = 1;
  const Model again = fit_model(T, o, one);
  EXPECT_TRUE(again.item_embeddings == m.item_embeddings);
  // Stopped by the epoch limit: said in the model's warnings (stderr, model.json), not only in
  // progress lines that a non-terminal never shows.
  o.cosine.epochs = 2;
  const Model stopped = fit_model(T, o, Context{});
  ASSERT_FALSE(stopped.convergence.converged);
  ASSERT_FALSE(stopped.warnings.empty());
  EXPECT_NE(stopped.warnings.back().find("the cosine model stopped after 2 iterations without meeting --tol 1e-06 (the "
                                         "--epochs limit)"),
            std::string::npos)
      << stopped.warnings.back();
}

// docs/math.md M5: f has no minimiser. Users escape their normalisation through dimensions no
// item uses, a larger s making up for it: run long, s grows many-fold while N(B) loses rank. So
// stopping (--epochs, --tol) is part of the model, as the docs say.
TEST(CosineModel, RunLongTheScaleGrowsAndTheItemVectorsLoseRank) {
  const SparseMatrix T = test::random_binary(60, 25, 0.25, 9);
  FitOptions o = test::exact_options(ModelKind::kCosine, 5, 0.0);
  o.cosine.tol = 0;
  o.cosine.epochs = 45;
  const Model early = fit_model(T, o, Context{});
  // Long enough to be well on its way in every build: the path depends on rounding (a release build
  // stops at its line search after ~1,300 iterations with s 5,900 times larger, a sanitizer build
  // without FMA was at 37 times after 1,500), and 400 left one build on the threshold.
  o.cosine.epochs = 3000;
  const Model late = fit_model(T, o, Context{});
  EXPECT_LT(late.convergence.final_objective, early.convergence.final_objective);
  EXPECT_GT(late.scale, 10 * early.scale);
  const Vector early_sv = Eigen::JacobiSVD<Matrix>(early.item_embeddings).singularValues();
  const Vector late_sv = Eigen::JacobiSVD<Matrix>(late.item_embeddings).singularValues();
  EXPECT_GT(early_sv(4), 0.05 * early_sv(0));
  // Three of the five dimensions fall below 1 % of the first (from at least 5 % of it for each).
  EXPECT_LT(late_sv(2), 0.01 * late_sv(0)) << late_sv.transpose() << "; " << late.convergence.reason;
}

// The optimiser's slope gᵀd grows as the fourth power of the data: on values of 2^330 (~1e99) it
// overflowed, and the fit stopped at its start reporting "minimum to machine precision"
// (converged, 0 iterations); on 2^-400 it underflowed to a "zero gradient". f(2^e X) = 4^e f(X)
// at every (A, B), so the fit on the scaled data must take the same steps: the same A and B, bit
// for bit, s times 2^e and every objective times 4^e. Oracle: the fit on X.
TEST(CosineModel, DataScaledByAPowerOfTwoTakeTheSameSteps) {
  const SparseMatrix T = random_counts(300, 50, 0.1, 16);
  const Model eq2 = fit_model(T, test::exact_options(ModelKind::kEq2, 6, 1.0), Context{});
  CosineOptions o;
  o.epochs = 40;
  const CosineFit base = fit_cosine(DataMatrix(T), eq2.encoder, eq2.item_embeddings, o, Context{});
  ASSERT_GT(base.convergence.iterations, 5);
  for (const int e : {330, -400}) {
    SCOPED_TRACE(e);
    const SparseMatrix scaled = T * std::ldexp(1.0, e);
    const CosineFit fit = fit_cosine(DataMatrix(scaled), eq2.encoder, eq2.item_embeddings, o, Context{});
    EXPECT_EQ(fit.convergence.iterations, base.convergence.iterations);
    EXPECT_TRUE(fit.A == base.A);
    EXPECT_TRUE(fit.B == base.B);
    EXPECT_EQ(fit.convergence.scale, std::ldexp(base.convergence.scale, e));
    EXPECT_EQ(fit.convergence.final_objective, std::ldexp(base.convergence.final_objective, 2 * e));
    EXPECT_EQ(fit.convergence.reason, base.convergence.reason);
  }
}

// Large enough that the objective's k × k products over the 9,000 rows go by several ranges of
// rows and its n × k products by several tiles (linalg/products.h), where Eigen's own parallel
// products, once used here, chose their blocking from the thread count: the fit must not depend
// on --threads.
TEST(CosineModel, TheFitIsTheSameOnAnyThreadCount) {
  const SparseMatrix T = random_counts(9000, 80, 0.05, 17);
  FitOptions o = test::exact_options(ModelKind::kCosine, 12, 1.0);
  o.cosine.epochs = 5;
  Context one, two, three;
  one.threads = 1;
  two.threads = 2;
  three.threads = 3;
  const Model a = fit_model(T, o, one);
  const Model b = fit_model(T, o, two);
  const Model c = fit_model(T, o, three);
  EXPECT_TRUE(a.item_embeddings == b.item_embeddings);
  EXPECT_TRUE(a.encoder == b.encoder);
  EXPECT_TRUE(a.item_embeddings == c.item_embeddings);
  EXPECT_EQ(a.convergence.final_objective, b.convergence.final_objective);
  EXPECT_EQ(a.convergence.final_objective, c.convergence.final_objective);
}

// A folded-in user's cosine-model vector depends on its own row only (was: normalize_rows' floor,
// relative to the longest row of the block, zeroed a user of 1e-9s scored beside one of 20s), and
// is that of the same row at any scale; a row of zeros stays zero. Fold-in values whose squares
// overflow are an error, as in fit (was: scores of inf and -inf, exit 0).
TEST(CosineModel, AFoldedInUsersVectorDependsOnItsOwnRowOnly) {
  const SparseMatrix T = random_counts(400, 30, 0.2, 31);
  FitOptions o = test::exact_options(ModelKind::kCosine, 6, 1.0);
  o.cosine.epochs = 5;
  const Model m = fit_model(T, o, Context{});
  SparseMatrix Q = T.topRows(3);
  Q.valuePtr()[0] = 20.0;
  const auto rows = [&](std::initializer_list<double> scales) {
    SparseMatrix R = Q;
    Index u = 0;
    for (const double scale : scales) R.row(u++) *= scale;
    return R;
  };
  const Matrix alone = embed_users(m, rows({1, 1, 1}));
  const Matrix mixed = embed_users(m, rows({1e-9, 1, 1e12}));
  EXPECT_LT((mixed - alone).cwiseAbs().maxCoeff(), 1e-12 * alone.cwiseAbs().maxCoeff());
  EXPECT_LT((embed_users(m, rows({1e-300, 1, 1})) - alone).cwiseAbs().maxCoeff(),
            1e-12 * alone.cwiseAbs().maxCoeff());
  // The training users' own vectors are the same rows folded in again.
  EXPECT_LT((embed_users(m, T) - m.user_embeddings).cwiseAbs().maxCoeff(), 1e-12 * alone.cwiseAbs().maxCoeff());
  EXPECT_TRUE(embed_users(m, rows({0, 1, 1})).row(0).isZero(0.0));
  for (const ModelKind kind : {ModelKind::kCosine, ModelKind::kEq2, ModelKind::kEase}) {
    const Model model =
        kind == ModelKind::kCosine ? m
                                   : fit_model(T, test::exact_options(kind, kind == ModelKind::kEase ? 0 : 6, 1.0), Context{});
    try {
      score_users(model, rows({1e300, 1, 1}));
      ADD_FAILURE() << model_name(kind) << " scored values whose squares overflow";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("the interaction values to fold in are too large"), std::string::npos)
          << e.what();
    }
  }
}

// keep_gram: the kept XᵀX is the computed one, bit for bit, and each call gets its own copy (callers
// consume it: SPPMI's transform, EASE's inverse in place). The float Gram matrix is never kept.
TEST(DataMatrix, AKeptGramMatrixIsTheComputedOneAndEachCallGetsACopy) {
  const SparseMatrix T = random_counts(700, 60, 0.1, 23);
  const Context ctx;
  const Matrix reference = gram_matrix<double>(T, ctx);
  DataMatrix data(T);
  data.keep_gram();
  EXPECT_FALSE(data.gram_is_kept());  // not before it is computed
  Matrix first = data.gram(ctx);
  EXPECT_TRUE(data.gram_is_kept());
  EXPECT_TRUE(first == reference);
  first(3, 4) += 1.0;
  first(0, 0) = -1.0;
  const Matrix second = data.gram(ctx);
  EXPECT_TRUE(second == reference);
  EXPECT_TRUE(data.gram<float>(ctx) == gram_matrix<float>(T, ctx));
}

// fit_model on a DataMatrix (one of them shared by every fit, its Gram matrix kept) gives the fit
// of the matrix itself, bit for bit, for each model kind; weighted or centred data are refused.
TEST(FitModel, OnASharedDataMatrixEqualsTheFitOfItsMatrix) {
  const SparseMatrix T = random_counts(900, 70, 0.08, 29);
  const Context ctx;
  DataMatrix data(T);
  data.keep_gram();
  for (const ModelKind kind : {ModelKind::kEq1, ModelKind::kEq2, ModelKind::kEase, ModelKind::kSppmi,
                               ModelKind::kCosine}) {
    SCOPED_TRACE(model_name(kind));
    FitOptions o = test::exact_options(kind, 8, kind == ModelKind::kEase ? 5.0 : 1.0);
    o.cosine.epochs = 4;
    const Model shared = fit_model(data, o, ctx);
    const Model own = fit_model(T, o, ctx);
    if (kind == ModelKind::kEase) {
      ASSERT_GT(own.weights.size(), 0);
      EXPECT_TRUE(shared.weights == own.weights);
    } else {
      ASSERT_GT(own.item_embeddings.size(), 0);
      EXPECT_TRUE(shared.item_embeddings == own.item_embeddings);
      EXPECT_TRUE(shared.encoder == own.encoder);
      EXPECT_TRUE(shared.user_embeddings == own.user_embeddings);
      EXPECT_TRUE(shared.singular_values == own.singular_values);
    }
  }
  FitOptions weighted = test::exact_options(ModelKind::kEq2, 8, 1.0);
  weighted.weighting = parse_weighting("ips:0.5");
  EXPECT_THROW(fit_model(data, weighted, ctx), InvalidArgument);
  const DataMatrix centred(T, Vector::Constant(T.cols(), 0.5));
  EXPECT_THROW(fit_model(centred, test::exact_options(ModelKind::kEq2, 8, 1.0), ctx), InvalidArgument);
}

// fit_variant_models forms XᵀX once for the spectrum, EASE, SPPMI and raw item-kNN: each model and
// the raw cosines are those of a fit of their own.
TEST(Variants, ModelsSharingOneGramMatrixEqualTheirOwnFits) {
  const SparseMatrix T = test::random_binary(1200, 90, 0.1, 31);
  const Context ctx;
  RemedyOptions remedies;
  remedies.cosine_epochs = 3;
  const VariantModels m = fit_variant_models(T, 6, 2.0, 1.0, 7.0, ctx, remedies);
  ASSERT_TRUE(m.cooccurrences == gram_matrix<double>(T, ctx));
  FitOptions eq2;
  eq2.kind = ModelKind::kEq2;
  eq2.rank = 6;
  eq2.lambda = 1.0;
  EXPECT_TRUE(fit_model(T, eq2, ctx).item_embeddings == m.eq2.item_embeddings);
  FitOptions ease;
  ease.kind = ModelKind::kEase;
  ease.lambda = 7.0;
  ASSERT_TRUE(m.ease.has_value());
  EXPECT_TRUE(fit_model(T, ease, ctx).weights == m.ease->weights);
  FitOptions sppmi;
  sppmi.kind = ModelKind::kSppmi;
  sppmi.rank = 6;
  sppmi.sppmi = remedies.sppmi;
  sppmi.sppmi.truncate_rank = true;
  ASSERT_TRUE(m.sppmi.has_value());
  EXPECT_TRUE(fit_model(T, sppmi, ctx).item_embeddings == m.sppmi->item_embeddings);
  eq2.kind = ModelKind::kCosine;
  eq2.cosine.epochs = 3;
  ASSERT_TRUE(m.cosine.has_value());
  EXPECT_TRUE(fit_model(T, eq2, ctx).item_embeddings == m.cosine->item_embeddings);
  Variant raw;
  raw.model = raw.measure = "raw";
  const auto space = variant_space(raw, m, T, ctx);
  std::vector<Index> all(static_cast<size_t>(T.cols()));
  for (Index j = 0; j < T.cols(); ++j) all[static_cast<size_t>(j)] = j;
  RowMatrix scores;
  space->score(all, scores);
  EXPECT_TRUE(Matrix(scores) == cosine_from_gram(gram_matrix<double>(T, ctx)));
}

// The weighted variants (ips, standardize: both rescale X's columns) take their Gram matrices from
// X's kept one, diag(d) XᵀX diag(d) less the centring, and their user side from X's products
// (variants.cc), which their solver reasons say. Rounded differently, so compared with the fits of
// their own weighted data to rounding, not bits: singular values and embeddings (λ scaled as
// fit_weighted scales it), on dense-ish data (X's dense copy) and on sparse data (its kernels).
TEST(Variants, WeightedModelsFromTheKeptGramMatrixEqualTheirOwnFits) {
  for (const double density : {0.12, 0.03}) {
    SCOPED_TRACE(density);
    const SparseMatrix T = random_counts(1500, 80, density, 33);
    // (DataMatrix takes the dense copy from 5 % of nonzeros on: 0.12 does, 0.03 does not.)
    ASSERT_EQ(static_cast<double>(T.nonZeros()) >= 0.05 * 1500 * 80, density > 0.05);
    const Context ctx;
    RemedyOptions remedies;
    remedies.cosine_epochs = 1;
    const double lambda_eq1 = 2.0, lambda_eq2 = 1.0;
    const VariantModels m = fit_variant_models(T, 6, lambda_eq1, lambda_eq2, std::nullopt, ctx, remedies);
    ASSERT_TRUE(m.eq1_ips && m.eq2_ips && m.eq2_standardized);
    const double sigma1 = m.eq2.singular_values(0);
    const auto own_fit = [&](const std::string& weighting, ModelKind kind, const Model& shared) {
      FitOptions f;
      f.kind = kind;
      f.rank = 6;
      f.weighting = parse_weighting(weighting);
      const double ratio = shared.singular_values(0) / sigma1;
      f.lambda = kind == ModelKind::kEq1 ? lambda_eq1 * ratio * ratio : lambda_eq2 * ratio;
      if (kind == ModelKind::kEq1) f.gauge = parse_gauge("symmetric");
      return fit_model(T, f, ctx);
    };
    const std::string ips = fmt::format("ips:{}", remedies.ips_beta);
    for (const auto& [name, own, shared] :
         {std::tuple{"eq1 ips", own_fit(ips, ModelKind::kEq1, *m.eq1_ips), &*m.eq1_ips},
          std::tuple{"eq2 ips", own_fit(ips, ModelKind::kEq2, *m.eq2_ips), &*m.eq2_ips},
          std::tuple{"eq2 standardize", own_fit("standardize", ModelKind::kEq2, *m.eq2_standardized),
                     &*m.eq2_standardized}}) {
      SCOPED_TRACE(name);
      EXPECT_NE(shared->solver_reason.find("columns rescaled"), std::string::npos) << shared->solver_reason;
      EXPECT_EQ(own.solver_reason.find("columns rescaled"), std::string::npos) << own.solver_reason;
      EXPECT_LT(test::relative_difference(shared->singular_values, own.singular_values), 1e-12);
      EXPECT_LT(test::relative_difference(shared->item_embeddings, own.item_embeddings), 1e-9);
      EXPECT_LT(test::relative_difference(shared->user_embeddings, own.user_embeddings), 1e-9);
    }
  }
}

}  // namespace
}  // namespace linsim
