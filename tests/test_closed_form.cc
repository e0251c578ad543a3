// MATH.md M1, M2: the closed forms are minimisers of their objectives; M1's gauges are equally
// optimal and change the cosines; the paper's full-rank results; M2's balance.
#include <gtest/gtest.h>

#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/models/closed_form.h"
#include "linsim/models/model.h"
#include "linsim/similarity/measure.h"
#include "test_util.h"

namespace linsim {
namespace {

using test::random_binary;

struct Grad {
  Matrix A, B;
};

// Dense brute-force objectives and their analytic gradients (checked by finite differences).
double dense_objective(ModelKind kind, const Matrix& X, const Matrix& A, const Matrix& B, double lambda) {
  const Matrix R = X - X * A * B.transpose();
  if (kind == ModelKind::kEq1) return R.squaredNorm() + lambda * (A * B.transpose()).squaredNorm();
  return R.squaredNorm() + lambda * ((X * A).squaredNorm() + B.squaredNorm());
}

Grad dense_gradient(ModelKind kind, const Matrix& X, const Matrix& A, const Matrix& B, double lambda) {
  const Matrix R = X - X * A * B.transpose();
  Grad g;
  g.A = -2.0 * X.transpose() * R * B;
  g.B = -2.0 * R.transpose() * X * A;
  if (kind == ModelKind::kEq1) {
    g.A += 2.0 * lambda * A * (B.transpose() * B);
    g.B += 2.0 * lambda * B * (A.transpose() * A);
  } else {
    g.A += 2.0 * lambda * X.transpose() * X * A;
    g.B += 2.0 * lambda * B;
  }
  return g;
}

using test::exact_options;

class ClosedForm : public ::testing::TestWithParam<ModelKind> {};

TEST_P(ClosedForm, GradientFormulaMatchesFiniteDifferences) {
  const ModelKind kind = GetParam();
  const Matrix X = Matrix(random_binary(30, 12, 0.3, 1));
  const Matrix A = test::random_matrix(12, 4, 2);
  const Matrix B = test::random_matrix(12, 4, 3);
  const double lambda = 3.0;
  const Grad g = dense_gradient(kind, X, A, B, lambda);
  const double h = 1e-6;
  for (Index i = 0; i < A.size(); i += 5) {
    Matrix Ap = A, Am = A;
    Ap.data()[i] += h;
    Am.data()[i] -= h;
    const double fd = (dense_objective(kind, X, Ap, B, lambda) - dense_objective(kind, X, Am, B, lambda)) / (2 * h);
    EXPECT_NEAR(fd, g.A.data()[i], 1e-4 * std::max(1.0, std::abs(fd)));
    Matrix Bp = B, Bm = B;
    Bp.data()[i] += h;
    Bm.data()[i] -= h;
    const double fdb = (dense_objective(kind, X, A, Bp, lambda) - dense_objective(kind, X, A, Bm, lambda)) / (2 * h);
    EXPECT_NEAR(fdb, g.B.data()[i], 1e-4 * std::max(1.0, std::abs(fdb)));
  }
}

TEST_P(ClosedForm, IsAStationaryPointAndNoPerturbationLowersTheObjective) {
  const ModelKind kind = GetParam();
  const SparseMatrix Xs = random_binary(60, 20, 0.25, 7);
  const Matrix X = Matrix(Xs);
  // λ chosen so that some dimensions are shrunk hard (M2: some thresholded to zero).
  const double lambda = kind == ModelKind::kEq1 ? 8.0 : 2.5;
  const Model m = fit_model(Xs, exact_options(kind, 6, lambda), Context{});
  const Matrix& A = m.encoder;
  const Matrix& B = m.item_embeddings;
  const double f0 = dense_objective(kind, X, A, B, lambda);
  // The library's sparse objective equals the dense brute force.
  const double fs = kind == ModelKind::kEq1 ? eq1_objective(Xs, A, B, lambda) : eq2_objective(Xs, A, B, lambda);
  EXPECT_NEAR(fs, f0, 1e-9 * f0);
  const Grad g = dense_gradient(kind, X, A, B, lambda);
  EXPECT_LT(g.A.norm() + g.B.norm(), 1e-8 * f0);
  for (unsigned trial = 0; trial < 50; ++trial) {
    const double scale = trial < 25 ? 1e-3 : 1e-1;
    const Matrix dA = scale * test::random_matrix(A.rows(), A.cols(), 100 + trial);
    const Matrix dB = scale * test::random_matrix(B.rows(), B.cols(), 200 + trial);
    EXPECT_GE(dense_objective(kind, X, A + dA, B + dB, lambda), f0 * (1 - 1e-12)) << "trial " << trial;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ClosedForm, ::testing::Values(ModelKind::kEq1, ModelKind::kEq2),
                         [](const auto& param_info) { return std::string(model_name(param_info.param)); });

TEST(Eq1Gauges, SameObjectiveAndPredictionsButDifferentCosines) {
  const SparseMatrix X = random_binary(80, 25, 0.2, 11);
  const double lambda = 5.0;
  const std::vector<std::string> gauges = {"symmetric", "item-orthonormal", "input-orthonormal", "balanced",
                                           "power:0.25"};
  const Model ref = fit_model(X, exact_options(ModelKind::kEq1, 8, lambda, "symmetric"), Context{});
  const double f_ref = eq1_objective(X, ref.encoder, ref.item_embeddings, lambda);
  const Matrix pred_ref = ref.user_embeddings * ref.item_embeddings.transpose();
  const Matrix cos_ref = test::cosine_matrix(ref.item_embeddings);
  for (const auto& gauge : gauges) {
    const Model m = fit_model(X, exact_options(ModelKind::kEq1, 8, lambda, gauge), Context{});
    EXPECT_NEAR(eq1_objective(X, m.encoder, m.item_embeddings, lambda), f_ref, 1e-9 * f_ref) << gauge;
    const Matrix pred = m.user_embeddings * m.item_embeddings.transpose();
    EXPECT_LT(test::relative_difference(pred, pred_ref), 1e-10) << gauge;
    // A Bᵀ = V_k G_k V_kᵀ in every gauge.
    EXPECT_LT(test::relative_difference(m.encoder * m.item_embeddings.transpose(),
                                        ref.encoder * ref.item_embeddings.transpose()),
              1e-10);
    if (gauge != "symmetric") {
      EXPECT_GT((test::cosine_matrix(m.item_embeddings) - cos_ref).cwiseAbs().maxCoeff(), 1e-3) << gauge;
    }
  }
}

TEST(Eq1Gauges, BalancedGaugeIsBalanced) {
  const SparseMatrix X = random_binary(50, 15, 0.3, 5);
  const Model m = fit_model(X, exact_options(ModelKind::kEq1, 5, 4.0, "balanced"), Context{});
  const Matrix PtP = m.user_embeddings.transpose() * m.user_embeddings;
  const Matrix BtB = m.item_embeddings.transpose() * m.item_embeddings;
  EXPECT_LT(test::relative_difference(PtP, BtB), 1e-9);
}

TEST(PaperFullRank, ItemOrthonormalGaugeMakesEveryItemSimilarOnlyToItself) {
  const SparseMatrix X = test::random_positive(40, 10, 3);
  const Model m = fit_model(X, exact_options(ModelKind::kEq1, 10, 2.0, "item-orthonormal"), Context{});
  const Matrix C = test::cosine_matrix(m.item_embeddings);
  EXPECT_LT((C - Matrix::Identity(10, 10)).cwiseAbs().maxCoeff(), 1e-10);
  // Per-user rankings by user–item cosine equal the rankings by dot product (all ‖b_i‖ = 1).
  const Matrix dot = m.user_embeddings * m.item_embeddings.transpose();
  for (Index u = 0; u < 40; ++u) {
    const Vector cos = (normalize_rows(Matrix(m.user_embeddings.row(u))) *
                        normalize_rows(m.item_embeddings).transpose()).transpose();
    for (Index i = 0; i < 10; ++i)
      for (Index j = 0; j < 10; ++j) EXPECT_EQ(dot(u, i) > dot(u, j), cos(i) > cos(j));
  }
}

TEST(PaperFullRank, InputOrthonormalUserCosineIsRawRowCosine) {
  const SparseMatrix X = test::random_positive(40, 10, 4);
  const Model m = fit_model(X, exact_options(ModelKind::kEq1, 10, 2.0, "input-orthonormal"), Context{});
  EXPECT_LT((test::cosine_matrix(m.user_embeddings) - test::cosine_matrix(Matrix(X))).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(Eq2, ColumnsAreBalancedAndSoftThresholded) {
  const SparseMatrix X = random_binary(70, 20, 0.3, 9);
  // λ between σ_6 and σ_7, so that the last four of the ten dimensions are thresholded.
  const Vector sigma = fit_model(X, exact_options(ModelKind::kEq2, 10, 0.0), Context{}).singular_values;
  const double lambda = 0.5 * (sigma(5) + sigma(6));
  const Model m = fit_model(X, exact_options(ModelKind::kEq2, 10, lambda), Context{});
  Index zero_columns = 0;
  for (Index l = 0; l < 10; ++l) {
    const double expected = std::max(0.0, m.singular_values(l) - lambda);  // (σ_l − λ)_+
    EXPECT_NEAR(m.user_embeddings.col(l).squaredNorm(), expected, 1e-9 * (1 + expected));
    EXPECT_NEAR(m.item_embeddings.col(l).squaredNorm(), expected, 1e-9 * (1 + expected));
    zero_columns += expected == 0.0;
  }
  EXPECT_GT(zero_columns, 0) << "choose λ so that the test covers thresholded dimensions";
  // Off-diagonal balance too: PᵀP = BᵀB.
  EXPECT_LT(test::relative_difference(m.user_embeddings.transpose() * m.user_embeddings,
                                      m.item_embeddings.transpose() * m.item_embeddings),
            1e-9);
}

TEST(Shrinkage, Formulas) {
  const Vector sigma = (Vector(4) << 10.0, 5.0, 2.0, 0.0).finished();
  const Vector g = eq1_shrinkage(sigma, 25.0);
  EXPECT_DOUBLE_EQ(g(0), 100.0 / 125.0);
  EXPECT_DOUBLE_EQ(g(1), 0.5);
  EXPECT_DOUBLE_EQ(g(3), 0.0);
  const Vector s = eq2_shrinkage(sigma, 4.0);
  EXPECT_DOUBLE_EQ(s(0), 0.6);
  EXPECT_DOUBLE_EQ(s(2), 0.0);
  EXPECT_DOUBLE_EQ(s(3), 0.0);
  const FactorScales f = eq2_scales(sigma, 4.0);
  EXPECT_TRUE(f.a.allFinite());
  EXPECT_DOUBLE_EQ(f.a(3), 0.0);
}

TEST(FitValidation, RejectsBadOptions) {
  const SparseMatrix X = random_binary(20, 8, 0.3, 1);
  EXPECT_THROW(fit_model(X, exact_options(ModelKind::kEq1, 3, -1.0), Context{}), InvalidArgument);
  EXPECT_THROW(fit_model(X, exact_options(ModelKind::kEq1, 3, std::nan("")), Context{}), InvalidArgument);
  EXPECT_THROW(fit_model(X, exact_options(ModelKind::kEq2, 0, 1.0), Context{}), InvalidArgument);
  EXPECT_THROW(fit_model(X, exact_options(ModelKind::kEq2, 9, 1.0), Context{}), InvalidArgument);
  // Rank larger than the data's rank: 4 identical rows and columns pattern of rank 2.
  Matrix D = Matrix::Zero(6, 5);
  D.row(0) << 1, 1, 0, 0, 0;
  D.row(1) << 1, 1, 0, 0, 0;
  D.row(2) << 0, 0, 1, 1, 1;
  D.row(3) << 0, 0, 1, 1, 1;
  D.row(4) << 1, 1, 0, 0, 0;
  D.row(5) << 0, 0, 1, 1, 1;
  const SparseMatrix low = D.sparseView();
  EXPECT_NO_THROW(fit_model(low, exact_options(ModelKind::kEq2, 2, 0.1), Context{}));
  EXPECT_THROW(fit_model(low, exact_options(ModelKind::kEq2, 3, 0.1), Context{}), InvalidArgument);
  EXPECT_THROW(fit_model(SparseMatrix(4, 4), exact_options(ModelKind::kEq2, 1, 0.1), Context{}), InvalidArgument);
}

}  // namespace
}  // namespace linsim

namespace linsim {
namespace {

// A fit that cannot fit in memory fails before allocating, with the estimate and a way out.
TEST(FitMemory, TooLargeFitsFailFastWithASuggestion) {
  const Index p = 400000;  // a dense p × p double matrix would be 1.28 TB
  std::vector<Eigen::Triplet<double>> t = {{0, 0, 1.0}, {1, 1, 1.0}, {2, p - 1, 1.0}};
  SparseMatrix X(3, p);
  X.setFromTriplets(t.begin(), t.end());
  FitOptions ease;
  ease.kind = ModelKind::kEase;
  ease.lambda = 1;
  EXPECT_GT(fit_memory_bytes(3, p, 3, ease), 1e12);
  try {
    fit_model(X, ease, Context{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--model eq2"), std::string::npos) << e.what();
  }
  FitOptions gram;
  gram.kind = ModelKind::kEq2;
  gram.rank = 2;
  gram.lambda = 1;
  gram.solver = Solver::kGram;
  try {
    fit_model(X, gram, Context{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--solver randomized"), std::string::npos) << e.what();
  }
  // The operator route's estimate grows linearly in p, and auto does not count the Gram matrix
  // when it cannot fit.
  FitOptions randomized = gram;
  randomized.solver = Solver::kRandomized;
  EXPECT_LT(fit_memory_bytes(3, p, 3, randomized), 1e9);
  FitOptions automatic = gram;
  automatic.solver = Solver::kAuto;
  EXPECT_EQ(fit_memory_bytes(3, p, 3, automatic), fit_memory_bytes(3, p, 3, randomized));
  // Values the spectrum solves on a scaled copy of (solves_on_scaled_copy) add that copy, 12 bytes
  // per nonzero and 4 per row; EASE has no spectrum.
  const Index nnz = 1000000;
  EXPECT_EQ(fit_memory_bytes(3, p, nnz, randomized, true) - fit_memory_bytes(3, p, nnz, randomized), 12.0 * nnz + 16);
  EXPECT_EQ(fit_memory_bytes(3, p, nnz, ease, true), fit_memory_bytes(3, p, nnz, ease));
  // The spectral fits count the one transposed copy of X that products Xᵀ R build (data_matrix.h),
  // 12 bytes per nonzero; EASE and the Gram route build none.
  EXPECT_EQ(fit_memory_bytes(3, p, nnz, randomized) - fit_memory_bytes(3, p, 0, randomized), 12.0 * nnz);
  EXPECT_EQ(fit_memory_bytes(3, p, nnz, ease), fit_memory_bytes(3, p, 0, ease));
  EXPECT_EQ(fit_memory_bytes(3, p, nnz, gram), fit_memory_bytes(3, p, 0, gram));
}

// The scaled copy is passed as the decision: a value (what the argument once was) does not compile.
template <typename T>
concept MemoryEstimateTakes = requires(T t) { fit_memory_bytes(1, 1, 1, FitOptions{}, t); };
static_assert(MemoryEstimateTakes<bool>);
static_assert(!MemoryEstimateTakes<double> && !MemoryEstimateTakes<float> && !MemoryEstimateTakes<int>);

// Where the Gram route fits memory but auto takes block Krylov, the fit's estimate is block
// Krylov's (a few MB here), not the Gram route's 1.2 GB that fit_memory_bytes counts for auto.
TEST(FitMemory, AutoIsSizedForTheRouteItTakes) {
  const Index p = 7000;
  const SparseMatrix X = test::random_binary(300, p, 0.02, 5);
  FitOptions automatic;
  automatic.kind = ModelKind::kEq2;
  automatic.rank = 2;
  automatic.lambda = 1;
  automatic.solver = Solver::kAuto;
  if (spectrum_bytes(X.rows(), p, 2, Solver::kGram) > 0.5 * available_memory_bytes()) {
    GTEST_SKIP() << "the Gram route's 1.2 GB is beyond auto's budget (half the available memory) here, so auto "
                    "sizes for block Krylov anyway";
  }
  ASSERT_GT(fit_memory_bytes(X.rows(), p, X.nonZeros(), automatic), 1e9);
  ASSERT_EQ(choose_route(X, 2, Solver::kAuto).solver, Solver::kRandomized);
  std::vector<std::string> messages;
  const Model model =
      fit_model(X, automatic, Context{}, [&](const std::string& message) { messages.push_back(message); });
  EXPECT_EQ(model.solver, "randomized");
  for (const std::string& message : messages) EXPECT_EQ(message.find("memory estimate"), std::string::npos) << message;
}

}  // namespace
}  // namespace linsim
