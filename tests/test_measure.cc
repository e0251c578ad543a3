// MATH.md M4: each measure against a dense reference; projected invariant under every
// reparametrisation P → P M, B → B M⁻ᵀ and equal to the closed-form C = V_k dMat(σ_i s_i).
#include <gtest/gtest.h>

#include <numeric>

#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/models/closed_form.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/neighbors.h"
#include "test_util.h"

#include <Eigen/LU>

namespace linsim {
namespace {

Matrix all_scores(const SimilaritySpace& space) {
  std::vector<Index> q(static_cast<size_t>(space.size()));
  std::iota(q.begin(), q.end(), Index{0});
  RowMatrix out;
  space.score(q, out);
  return out;
}

Model fitted(ModelKind kind, const SparseMatrix& X, Index k, double lambda, const std::string& gauge = "balanced") {
  return fit_model(X, test::exact_options(kind, k, lambda, gauge), Context{});
}

TEST(Projected, InvariantUnderRandomInvertibleReparametrisation) {
  const SparseMatrix X = test::random_binary(60, 25, 0.2, 3);
  const Model m = fitted(ModelKind::kEq1, X, 6, 4.0, "symmetric");
  const Matrix& B = m.item_embeddings;
  const Matrix& P = m.user_embeddings;
  const Matrix ref_items = test::cosine_matrix(projected_factors(B, P));
  const Matrix ref_users = test::cosine_matrix(projected_factors(P, B));
  // Cosine of the columns (rows) of X̂ = P Bᵀ, formed densely: the definition.
  const Matrix Xhat = P * B.transpose();
  EXPECT_LT((ref_items - test::cosine_matrix(Xhat.transpose())).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_LT((ref_users - test::cosine_matrix(Xhat)).cwiseAbs().maxCoeff(), 1e-10);
  for (unsigned seed = 0; seed < 5; ++seed) {
    const Matrix M = test::random_matrix(6, 6, 40 + seed) + 3.0 * Matrix::Identity(6, 6);
    const Matrix P2 = P * M;
    const Matrix B2 = B * M.inverse().transpose();
    EXPECT_LT((test::cosine_matrix(projected_factors(B2, P2)) - ref_items).cwiseAbs().maxCoeff(), 1e-9);
    EXPECT_LT((test::cosine_matrix(projected_factors(P2, B2)) - ref_users).cwiseAbs().maxCoeff(), 1e-9);
    // The plain cosine is not invariant: that is the paper's point.
    EXPECT_GT((test::cosine_matrix(B2) - test::cosine_matrix(B)).cwiseAbs().maxCoeff(), 1e-3);
  }
}

TEST(Projected, EqualsClosedFormCanonicalFactorsForEveryGauge) {
  const SparseMatrix X = test::random_binary(70, 20, 0.25, 6);
  const double lambda = 6.0;
  Matrix first;
  for (const std::string gauge : {"symmetric", "item-orthonormal", "input-orthonormal", "balanced"}) {
    const Model m = fitted(ModelKind::kEq1, X, 7, lambda, gauge);
    const Matrix got = all_scores(*make_similarity_space(m, X, Side::kItems, Measure::kProjected, Context{}));
    // MATH.md M4: C = V_k dMat(σ_i g_i) for M1.
    const Matrix V = m.item_embeddings * eq1_scales(m.singular_values, lambda, m.options.gauge).b.cwiseInverse().asDiagonal();
    const Vector sg = m.singular_values.cwiseProduct(eq1_shrinkage(m.singular_values, lambda));
    EXPECT_LT((got - test::cosine_matrix(V * sg.asDiagonal())).cwiseAbs().maxCoeff(), 1e-9) << gauge;
    if (first.size() == 0) first = got;
    EXPECT_LT((got - first).cwiseAbs().maxCoeff(), 1e-9) << gauge;
  }
}

TEST(Measures, DotCosineRawAgainstDenseReferences) {
  const SparseMatrix X = test::random_binary(50, 18, 0.2, 8);
  const Model m = fitted(ModelKind::kEq2, X, 5, 1.0);
  const Matrix& B = m.item_embeddings;
  const Context ctx;
  EXPECT_LT((all_scores(*make_similarity_space(m, X, Side::kItems, Measure::kDot, ctx)) - B * B.transpose())
                .cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((all_scores(*make_similarity_space(m, X, Side::kItems, Measure::kCosine, ctx)) - test::cosine_matrix(B))
                .cwiseAbs().maxCoeff(), 1e-12);
  const Matrix D = Matrix(X);
  EXPECT_LT((all_scores(*make_similarity_space(m, X, Side::kItems, Measure::kRaw, ctx)) -
             test::cosine_matrix(D.transpose())).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((all_scores(*make_similarity_space(m, X, Side::kUsers, Measure::kRaw, ctx)) - test::cosine_matrix(D))
                .cwiseAbs().maxCoeff(), 1e-12);
  const Matrix& P = m.user_embeddings;
  EXPECT_LT((all_scores(*make_similarity_space(m, X, Side::kUsers, Measure::kCosine, ctx)) - test::cosine_matrix(P))
                .cwiseAbs().maxCoeff(), 1e-12);
}

// Cosines of a count Gram matrix that are equal in exact arithmetic are equal doubles, so that
// they tie (the metrics count ties ½, the top-N order breaks them by index): 1/√(3·2) = 3/√(3·18)
// (was: d_i⁻¹ G_ij d_j⁻¹ made the second 0.40824829046386313 and the first 0.408248290463863, and
// a raw item-kNN AUC of 0.75 came out 0.5). Against the dense reference elsewhere, and zero rows.
TEST(Measures, EqualCosinesOfCountsAreEqualDoubles) {
  Matrix G(4, 4);
  G << 3, 1, 3, 0,  //
      1, 2, 0, 0,   //
      3, 0, 18, 0,  //
      0, 0, 0, 0;
  const Matrix S = cosine_from_gram(G);
  EXPECT_EQ(S(0, 1), S(0, 2));
  EXPECT_EQ(S(1, 0), S(2, 0));
  EXPECT_NEAR(S(0, 1), 1.0 / std::sqrt(6.0), 1e-16);
  EXPECT_EQ(S(1, 2), 0.0);
  EXPECT_TRUE(S.row(3).isZero(0.0) && S.col(3).isZero(0.0));
  EXPECT_EQ(S(2, 2), 1.0);
  // Random binary data, one count negated (signed data): each cosine is the correctly rounded
  // square root of the correctly rounded C_ij² / (C_ii C_jj), sign kept — in every position, the
  // lanes of whole vector packets and a column's remainder alike (40 = 5 packets of 8 on AVX-512;
  // 41 leaves one over). Eigen's fast math made the packets' roots up to an ulp off.
  for (const Index p : {40, 41}) {
    const SparseMatrix X = test::random_binary(300, p, 0.2, 9);
    Matrix C = Matrix(X).transpose() * Matrix(X);
    C(0, 1) = C(1, 0) = -C(0, 1);
    const Matrix got = cosine_from_gram(C);
    for (Index j = 0; j < C.cols(); ++j) {
      for (Index i = 0; i < C.rows(); ++i) {
        const double root = std::sqrt(C(i, j) * C(i, j) / (C(i, i) * C(j, j)));
        EXPECT_EQ(got(i, j), C(i, j) < 0 ? -root : root) << i << ", " << j;
      }
    }
  }
}

// The raw similarity space (`similar-items --measure raw`, user-kNN) of count data forms the same
// doubles as raw item-kNN from the Gram matrix: ties in exact arithmetic tie, and the lower index
// comes first (was: the unit columns' products put 3/√54 an ulp above 1/√6, so item 2 led).
// Data that are not counts keep the normalised rows: within rounding of the dense cosines.
TEST(Measures, RawSpaceOfCountsEqualsTheGramCosinesBitForBit) {
  // Users a..e over items 0..3: item Gram matrix diag(3, 2, 18, 0), G01 = 1, G02 = 3, G12 = 0.
  SparseMatrix X(5, 4);
  X.insert(0, 0) = 1;
  X.insert(0, 1) = 1;
  X.insert(1, 0) = 1;
  X.insert(1, 2) = 3;
  X.insert(2, 0) = 1;
  X.insert(3, 1) = 1;
  X.insert(4, 2) = 3;
  X.makeCompressed();
  const Context ctx;
  const Model none;
  const auto space = make_similarity_space(none, X, Side::kItems, Measure::kRaw, ctx);
  const Matrix S = all_scores(*space);
  EXPECT_EQ(S(0, 1), S(0, 2));
  EXPECT_TRUE(S.row(3).isZero(0.0) && S.col(3).isZero(0.0));
  const NeighborLists lists = top_neighbors(*space, {0}, 2, false, ctx);
  ASSERT_EQ(lists.size(), 1u);
  ASSERT_EQ(lists[0].size(), 2u);
  EXPECT_EQ(lists[0][0].index, 1);
  EXPECT_EQ(lists[0][1].index, 2);
  for (const Side side : {Side::kItems, Side::kUsers}) {
    const SparseMatrix D = test::random_binary(120, 30, 0.15, 21);
    SparseMatrix C = D;  // counts up to 4, one negative (signed data)
    for (Index k = 0; k < C.outerSize(); ++k) {
      for (SparseMatrix::InnerIterator it(C, k); it; ++it) it.valueRef() = static_cast<double>(1 + (it.row() + it.col()) % 4);
    }
    C.coeffRef(0, C.innerIndexPtr()[0]) *= -1;
    const Matrix Cd = side == Side::kItems ? Matrix(Matrix(C).transpose()) : Matrix(C);
    const Matrix want = cosine_from_gram(Cd * Cd.transpose());
    const Matrix got = all_scores(*make_similarity_space(none, C, side, Measure::kRaw, ctx));
    EXPECT_EQ((got - want).cwiseAbs().maxCoeff(), 0.0);
    // Not counts: every squared length below 1 (×1e-3), or one above 2^26 (×1e4): the normalised
    // rows, whose cosines differ from the count route's in the last bits somewhere.
    for (const double scale : {1e-3, 1e4}) {
      const SparseMatrix W = scale * C;
      const Matrix scaled = all_scores(*make_similarity_space(none, W, side, Measure::kRaw, ctx));
      EXPECT_LT((scaled - test::cosine_matrix(Cd)).cwiseAbs().maxCoeff(), 1e-15) << scale;
      EXPECT_GT((scaled - want).cwiseAbs().maxCoeff(), 0.0) << scale;
    }
  }
}

TEST(Measures, ZeroVectorsHaveCosineZero) {
  Matrix F(3, 2);
  F << 1, 0, 0, 0, 1e-20, 0;  // row 1 is zero; row 2 is below the relative floor
  const Matrix N = normalize_rows(F);
  EXPECT_EQ(N.row(0).norm(), 1.0);
  EXPECT_EQ(N.row(1).norm(), 0.0);
  EXPECT_EQ(N.row(2).norm(), 0.0);
  EXPECT_TRUE(N.allFinite());
}

// Vectors whose entries are all tiny (their squares underflow) are still directions: normalised
// to unit length, dense and sparse alike, equal to the same vectors scaled up first.
TEST(Measures, TinyVectorsNormaliseToUnitLength) {
  Matrix F(2, 3);
  F << 3e-300, 4e-300, 0, 1e-300, -2e-300, 2e-300;  // all of one scale: none below the relative floor
  const Matrix scaled = F * 1e300;
  const Matrix N = normalize_rows(F);
  EXPECT_TRUE(N.isApprox(normalize_rows(scaled), 1e-15)) << N;
  const SparseMatrix S = normalize_rows(SparseMatrix(F.sparseView()));
  EXPECT_TRUE(Matrix(S).isApprox(N, 1e-15)) << Matrix(S);
  EXPECT_NEAR(N.row(0).norm(), 1.0, 1e-15);
  EXPECT_NEAR(N(0, 0), 0.6, 1e-15);
}

TEST(Measures, ParseAndUnsupportedCombinations) {
  EXPECT_EQ(parse_measure("projected"), Measure::kProjected);
  EXPECT_THROW(parse_measure("euclid"), InvalidArgument);
  const SparseMatrix X = test::random_binary(30, 10, 0.3, 2);
  FitOptions o;
  o.kind = ModelKind::kEase;
  o.lambda = 1.0;
  const Model ease = fit_model(X, o, Context{});
  EXPECT_THROW(make_similarity_space(ease, X, Side::kItems, Measure::kCosine, Context{}), InvalidArgument);
  EXPECT_THROW(make_similarity_space(ease, X, Side::kUsers, Measure::kDot, Context{}), InvalidArgument);
  // EASE's projected similarity is the cosine of the columns of X W.
  const Matrix XW = Matrix(X) * ease.weights;
  const Matrix got = all_scores(*make_similarity_space(ease, X, Side::kItems, Measure::kProjected, Context{}));
  EXPECT_LT((got - test::cosine_matrix(XW.transpose())).cwiseAbs().maxCoeff(), 1e-10);
}


// The projected similarities (PᵀP over 20,000 users; EASE's p × p products at p = 1,100, past one
// tile) and recommendations' scores are the same on one thread and on two, bit for bit. With
// Eigen's own parallel products they were not: their blocking of the inner dimension follows
// the thread count (linalg/products.h).
TEST(Projected, TheSameOnAnyThreadCount) {
  const SparseMatrix X = test::random_binary(20000, 60, 0.1, 11);
  const Model eq2 = fitted(ModelKind::kEq2, X, 12, 1.0);
  const SparseMatrix Xe = test::random_binary(2500, 1100, 0.3, 12);
  FitOptions o;
  o.kind = ModelKind::kEase;
  o.lambda = 5.0;
  const Model ease = fit_model(Xe, o, Context{});
  std::vector<Matrix> items, users, ease_items, scores;
  for (const int threads : {1, 2}) {
    Context ctx;
    ctx.threads = threads;
    const ThreadScope scope(ctx);
    items.push_back(all_scores(*make_similarity_space(eq2, X, Side::kItems, Measure::kProjected, ctx)));
    std::vector<Index> some(300);
    std::iota(some.begin(), some.end(), Index{0});
    RowMatrix out;
    make_similarity_space(eq2, X, Side::kUsers, Measure::kProjected, ctx)->score(some, out);
    users.push_back(out);
    ease_items.push_back(all_scores(*make_similarity_space(ease, Xe, Side::kItems, Measure::kProjected, ctx)));
    scores.push_back(score_users(eq2, X));
  }
  EXPECT_TRUE(items[0] == items[1]);
  EXPECT_TRUE(users[0] == users[1]);
  EXPECT_TRUE(ease_items[0] == ease_items[1]);
  EXPECT_TRUE(scores[0] == scores[1]);
  // And they are the similarities: EASE's against the cosine of the columns of X W.
  const Matrix XW = Matrix(Xe) * ease.weights;
  EXPECT_LT((ease_items[0] - test::cosine_matrix(XW.transpose())).cwiseAbs().maxCoeff(), 1e-10);
}

}  // namespace
}  // namespace linsim
