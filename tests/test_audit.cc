// linsim audit (include/linsim/audit/audit.h): the acceptance cases on the paper's simulated data
// (eq1 symmetric is gauge-sensitive and unbalanced, eq2 is balanced, canonical exports have
// cosine = projected), identities (dimension 1 has no free scale, orthogonal equal columns have
// effective rank k) and brute-force references (Spearman, hubness, random-pair cosine), input
// readers, and bad inputs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>
#include <functional>
#include <random>

#include <zlib.h>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <fmt/format.h>

#include "linsim/audit/audit.h"
#include "linsim/audit/inputs.h"
#include "linsim/audit/report.h"
#include "linsim/core/error.h"
#include "linsim/io/embedding_files.h"
#include "linsim/io/model_dir.h"
#include "linsim/io/npy.h"
#include "linsim/similarity/measure.h"
#include "linsim/simulate/simulation.h"
#include "test_util.h"

namespace linsim {
namespace {

namespace fs = std::filesystem;

AuditInput input_of(const Matrix& B, std::optional<Matrix> P = std::nullopt) {
  AuditInput in;
  in.items = B;
  for (Index i = 0; i < B.rows(); ++i) in.item_ids.add(std::to_string(i));
  in.users = std::move(P);
  return in;
}

class AuditSimulation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SimulationOptions o;
    o.users = 3000;
    o.items = 300;
    o.seed = 11;
    sim_ = new Simulation(simulate(o, Context{}));
  }
  static void TearDownTestSuite() { delete sim_; }
  static AuditReport audit(const Model& m) {
    AuditInput in = input_of(m.item_embeddings, m.user_embeddings);
    in.interactions = sim_->data.X;
    in.clusters = sim_->cluster;
    AuditOptions o;
    o.queries = 300;
    return run_audit(in, o, Context{});
  }
  static Simulation* sim_;
};
Simulation* AuditSimulation::sim_ = nullptr;

TEST_F(AuditSimulation, Eq1SymmetricIsGaugeSensitiveAndUnbalanced) {
  const Model m = fit_model(sim_->data.X, test::exact_options(ModelKind::kEq1, 20, 3000, "symmetric"), Context{});
  const AuditReport r = audit(m);
  EXPECT_LT(r.mean_jaccard, 0.8);
  EXPECT_LE(r.worst_jaccard, r.mean_jaccard);
  ASSERT_TRUE(r.imbalance);
  EXPECT_GT(*r.imbalance, 0.5);
  ASSERT_TRUE(r.projected_mean_jaccard);
  EXPECT_LT(*r.projected_mean_jaccard, 0.9);
  EXPECT_NE(r.verdict.front().find("not fixed"), std::string::npos);
  // Projected is the same for every gauge: the eq1 item-orthonormal fit gives the same overlap
  // list, so the truth AUC of "projected" agrees to rounding.
  const Model other = fit_model(sim_->data.X, test::exact_options(ModelKind::kEq1, 20, 3000, "item-orthonormal"), Context{});
  const AuditReport r2 = audit(other);
  EXPECT_NEAR(r.truth_auc.back().second, r2.truth_auc.back().second, 1e-9);
  EXPECT_EQ(r.truth_auc.back().first, "projected");
}

TEST_F(AuditSimulation, Eq2IsBalanced) {
  const Model m = fit_model(sim_->data.X, test::exact_options(ModelKind::kEq2, 20, 10), Context{});
  const AuditReport r = audit(m);
  ASSERT_TRUE(r.imbalance);
  EXPECT_LT(*r.imbalance, 1e-8);
  bool said = false;
  for (const auto& s : r.verdict) said = said || s.find("are balanced") != std::string::npos;
  EXPECT_TRUE(said);
  // Its balanced gauge is the given one: the "balanced" rescaling changes nothing.
  for (const GaugeResult& g : r.gauges) {
    if (g.name == "balanced") {
      EXPECT_DOUBLE_EQ(g.jaccard.minCoeff(), 1.0);
    }
  }
  ASSERT_TRUE(r.norm_spearman);
  EXPECT_GT(*r.norm_spearman, 0.3);  // eq2 norms grow with popularity on this data
}

TEST_F(AuditSimulation, CanonicalExportsHaveCosineEqualToProjected) {
  const Model m = fit_model(sim_->data.X, test::exact_options(ModelKind::kEq1, 20, 3000, "symmetric"), Context{});
  const Matrix C = normalize_rows(projected_factors(m.item_embeddings, m.user_embeddings));
  const Matrix partner = projected_partner(m.user_embeddings, m.item_embeddings);
  // The partner reproduces the scores of the unnormalised canonical vectors and is orthonormal.
  const Matrix Craw = projected_factors(m.item_embeddings, m.user_embeddings);
  EXPECT_LT(test::relative_difference(partner * Craw.transpose(), m.user_embeddings * m.item_embeddings.transpose()), 1e-10);
  EXPECT_LT((partner.transpose() * partner - Matrix::Identity(20, 20)).norm(), 1e-9);
  // C holds principal coordinates: its columns are orthogonal, in decreasing length.
  const Matrix CtC = Craw.transpose() * Craw;
  EXPECT_LT((CtC - Matrix(CtC.diagonal().asDiagonal())).cwiseAbs().maxCoeff(), 1e-9 * CtC.trace());
  for (Index j = 1; j < 20; ++j) EXPECT_GE(CtC(j - 1, j - 1), CtC(j, j)) << j;
  // The vectors themselves, not only their Gram matrix, are the same for another gauge of the
  // same fit, on both sides (regression: the eigen-solver's signs flipped columns between gauges;
  // then, in the item-orthonormal gauge, whose BᵀB = I has one eigenvalue k times, users' vectors
  // came out in an arbitrary rotation, 1.3 apart).
  const Matrix U = normalize_rows(projected_factors(m.user_embeddings, m.item_embeddings));
  for (const char* gauge : {"balanced", "item-orthonormal", "input-orthonormal"}) {
    const Model other = fit_model(sim_->data.X, test::exact_options(ModelKind::kEq1, 20, 3000, gauge), Context{});
    const Matrix C2 = normalize_rows(projected_factors(other.item_embeddings, other.user_embeddings));
    EXPECT_LT((C2 - C).cwiseAbs().maxCoeff(), 1e-8) << gauge;
    const Matrix U2 = normalize_rows(projected_factors(other.user_embeddings, other.item_embeddings));
    EXPECT_LT((U2 - U).cwiseAbs().maxCoeff(), 1e-8) << gauge << " (users)";
    const Matrix partner2 = projected_partner(other.user_embeddings, other.item_embeddings);
    EXPECT_LT((partner2 - partner).cwiseAbs().maxCoeff(), 1e-8) << gauge;
  }
  AuditOptions o;
  o.queries = 300;
  const AuditReport r = run_audit(input_of(C, partner), o, Context{});
  ASSERT_TRUE(r.projected_mean_jaccard);
  EXPECT_DOUBLE_EQ(*r.projected_mean_jaccard, 1.0);
  bool said = false;
  for (const auto& s : r.verdict) said = said || s.find("Cosine equals the gauge-free projected") != std::string::npos;
  EXPECT_TRUE(said);
}

// Items whose vectors are equal up to a positive factor tie exactly in cosine and in projected
// similarity, and two computations of one similarity order such ties by rounding: the overlap
// counts a neighbour that ties a list's last score as shared (was: the export of canonical vectors
// with such twins audited below 1, "Use the projected similarity instead", on MovieLens 0.970).
TEST_F(AuditSimulation, ExactTiesDoNotLowerTheOverlapOfCanonicalExports) {
  const Model m = fit_model(sim_->data.X, test::exact_options(ModelKind::kEq1, 20, 3000, "symmetric"), Context{});
  const Matrix C = normalize_rows(projected_factors(m.item_embeddings, m.user_embeddings));
  const Matrix partner = projected_partner(m.user_embeddings, m.item_embeddings);
  Matrix twins(2 * C.rows(), C.cols());
  twins << C, 3.0 * C;  // item i + p is item i, three times as long
  AuditOptions o;
  o.queries = 300;
  const AuditReport r = run_audit(input_of(twins, partner), o, Context{});
  ASSERT_TRUE(r.projected_mean_jaccard);
  EXPECT_DOUBLE_EQ(*r.projected_mean_jaccard, 1.0);
}

// Users that leave the projected vectors zero, or on one line, define no projected neighbours:
// every cosine is ±1 (or 0/0) and the lists are ties in index order. The overlap is undefined,
// with the reason, and the verdict does not recommend it (was: a number such as 0.110, and "Use
// the projected similarity … instead").
TEST(Audit, ProjectedSimilarityOfUsersOnOneLineOrZeroIsUndefined) {
  const Matrix B = test::random_matrix(60, 5, 21);
  AuditOptions o;
  o.top = 5;
  o.queries = 30;
  const Matrix zero = Matrix::Zero(40, 5);
  const Matrix line = test::random_matrix(40, 1, 22) * test::random_matrix(1, 5, 23);  // rank 1
  const Matrix plane = test::random_matrix(40, 2, 24) * test::random_matrix(2, 5, 25);  // rank 2: defined
  for (const auto& [users, why] : std::vector<std::pair<Matrix, std::string>>{
           {zero, "the projected vectors (from users) are all zero"},
           {line, "the projected vectors (from users) span a single dimension"}}) {
    const AuditReport r = run_audit(input_of(B, users), o, Context{});
    ASSERT_TRUE(r.projected_mean_jaccard);
    EXPECT_TRUE(std::isnan(*r.projected_mean_jaccard));
    const std::string* said = r.why_undefined("projected_overlap.mean_jaccard");
    ASSERT_NE(said, nullptr);
    EXPECT_NE(said->find(why), std::string::npos) << *said;
    std::string verdict;
    for (const std::string& sentence : r.verdict) verdict += sentence + " ";
    EXPECT_EQ(verdict.find("Use the projected similarity"), std::string::npos) << verdict;
    EXPECT_NE(verdict.find("The gauge-free projected similarity is undefined here"), std::string::npos) << verdict;
    for (const auto& [name, value] : r.neighbour_popularity) EXPECT_NE(name, "projected");
  }
  const AuditReport defined = run_audit(input_of(B, plane), o, Context{});
  ASSERT_TRUE(defined.projected_mean_jaccard);
  EXPECT_TRUE(std::isfinite(*defined.projected_mean_jaccard));
}

TEST(Audit, DimensionOneHasNoFreeScaleAndOrthogonalColumnsHaveFullEffectiveRank) {
  const Matrix B = test::random_matrix(50, 1, 3).cwiseAbs().array() + 0.1;
  AuditOptions o;
  o.top = 5;
  const AuditReport r = run_audit(input_of(B), o, Context{});
  EXPECT_DOUBLE_EQ(r.mean_jaccard, 1.0);  // any positive rescaling of one column keeps every cosine
  EXPECT_FALSE(r.notes.empty());
  // Orthogonal columns of equal norm: effective rank k, and isotropic variance shares.
  const Matrix Q = Eigen::HouseholderQR<Matrix>(test::random_matrix(40, 8, 4)).householderQ() * Matrix::Identity(40, 8);
  const AuditReport q = run_audit(input_of(Q), o, Context{});
  EXPECT_NEAR(q.effective_rank, 8.0, 1e-9);
}

// More dimensions than items: the geometry's spectra come from the p × p side, which holds the
// same nonzero eigenvalues as the k × k one (the oracle here). Beyond 4,096 dimensions the audit
// is refused before any work (was: a 20 × 20,000 file took 6.3 GB and over a minute).
TEST(Audit, WideEmbeddingsUseTheSmallerGramAndTooManyDimensionsAreRefused) {
  Matrix B = test::random_matrix(30, 400, 11);
  B.col(0).array() += 3.0;
  AuditOptions o;
  o.top = 4;
  const AuditReport r = run_audit(input_of(B), o, Context{});
  const Matrix centred = B.rowwise() - B.colwise().mean();
  const Vector cov = Eigen::SelfAdjointEigenSolver<Matrix>(centred.transpose() * centred).eigenvalues().cwiseMax(0.0);
  EXPECT_NEAR(r.top_dim_variance_share, cov.maxCoeff() / cov.sum(), 1e-10);
  // B's singular values by an SVD: the square roots of the k × k Gram's eigenvalues would turn its
  // k − p zeros, rounding errors of 1e-13 λ_max, into σ of 3e-7 σ_max that add entropy.
  const Vector sigma = Eigen::BDCSVD<Matrix>(B).singularValues();
  double entropy = 0;
  for (Index j = 0; j < sigma.size(); ++j) {
    const double q = sigma(j) / sigma.sum();
    if (q > 0) entropy -= q * std::log(q);
  }
  EXPECT_NEAR(r.effective_rank, std::exp(entropy), 1e-9 * std::exp(entropy));
  try {
    run_audit(input_of(test::random_matrix(20, 4097, 12)), o, Context{});
    ADD_FAILURE() << "4,097 dimensions were audited";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("the item vectors have 4097 dimensions: the audit supports at most 4096"),
              std::string::npos)
        << e.what();
  }
}

TEST(Audit, GeometryMatchesBruteForce) {
  const Index p = 120;
  Matrix B = test::random_matrix(p, 6, 5);
  B.col(0).array() += 2.0;  // a common direction: anisotropic
  AuditOptions o;
  o.top = 4;
  o.random_pairs = 200000;
  const AuditReport r = run_audit(input_of(B), o, Context{});
  const Matrix S = test::cosine_matrix(B);
  // Mean cosine over all pairs i != j, estimated from random_pairs draws: within 5 standard errors
  // (σ of the off-diagonal cosines / √draws). On 12 items as well, where drawing a pair (i, i)
  // too would move the mean by ~(1 − mean)/12, dozens of standard errors.
  const auto expect_mean_cosine = [&](const Matrix& vectors, double estimate) {
    const Matrix C = test::cosine_matrix(vectors);
    const Index m = C.rows();
    const double pairs = static_cast<double>(m * (m - 1));
    const double exact = (C.sum() - C.diagonal().sum()) / pairs;
    const double second = (C.array().square().sum() - C.diagonal().array().square().sum()) / pairs;
    const double standard_error = std::sqrt(std::max(second - exact * exact, 0.0) / static_cast<double>(o.random_pairs));
    EXPECT_NEAR(estimate, exact, 5 * standard_error) << m << " items";
  };
  expect_mean_cosine(B, r.mean_random_cosine);
  Matrix B12 = test::random_matrix(12, 6, 6);
  B12.col(0).array() += 1.0;
  AuditOptions o12 = o;
  o12.top = 2;
  expect_mean_cosine(B12, run_audit(input_of(B12), o12, Context{}).mean_random_cosine);
  // Hubness: k-occurrence counts from sorting every row.
  Vector counts = Vector::Zero(p);
  for (Index i = 0; i < p; ++i) {
    std::vector<Index> order;
    for (Index j = 0; j < p; ++j) if (j != i) order.push_back(j);
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return S(i, a) > S(i, b); });
    for (Index t = 0; t < o.top; ++t) counts(order[static_cast<size_t>(t)]) += 1;
  }
  const double mu = counts.mean();
  const double var = (counts.array() - mu).square().mean();
  EXPECT_NEAR(r.hubness_skew, (counts.array() - mu).cube().mean() / std::pow(var, 1.5), 1e-9);
  EXPECT_TRUE(r.hubness_exact);
  // Top-dimension share: from the centred covariance's eigenvalues.
  const Matrix centred = B.rowwise() - B.colwise().mean();
  Eigen::SelfAdjointEigenSolver<Matrix> eig(centred.transpose() * centred);
  EXPECT_NEAR(r.top_dim_variance_share, eig.eigenvalues().maxCoeff() / eig.eigenvalues().sum(), 1e-12);
}

TEST(Audit, SpearmanMatchesPearsonOfAverageRanks) {
  const Vector a = (Vector(6) << 1, 2, 2, 5, 7, 7).finished();
  const Vector b = (Vector(6) << 3, 1, 4, 1, 5, 9).finished();
  // Average ranks by hand: a → 1, 2.5, 2.5, 4, 5.5, 5.5; b → 3, 1.5, 4, 1.5, 5, 6.
  const Vector ra = (Vector(6) << 1, 2.5, 2.5, 4, 5.5, 5.5).finished();
  const Vector rb = (Vector(6) << 3, 1.5, 4, 1.5, 5, 6).finished();
  const Vector ca = ra.array() - ra.mean(), cb = rb.array() - rb.mean();
  EXPECT_NEAR(spearman(a, b), ca.dot(cb) / (ca.norm() * cb.norm()), 1e-15);
  EXPECT_NEAR(spearman(a, a.array().cube().matrix()), 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(spearman(a, Vector::Ones(6))));
}

TEST(Audit, BadInputsAreClearErrorsOrDocumentedBehaviour) {
  const Matrix B = test::random_matrix(30, 4, 6);
  AuditOptions o;
  o.top = 5;
  EXPECT_THROW(run_audit(input_of(B, test::random_matrix(10, 3, 7)), o, Context{}), InvalidArgument);  // shapes
  Matrix nan = B;
  nan(7, 2) = std::nan("");
  try {
    run_audit(input_of(nan), o, Context{});
    ADD_FAILURE() << "NaN accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'7'"), std::string::npos) << e.what();
  }
  o.top = 30;  // fewer items than N + 1
  EXPECT_THROW(run_audit(input_of(B), o, Context{}), InvalidArgument);
  o.top = 5;
  Matrix zeros = B;
  zeros.row(3).setZero();
  zeros.row(9).setZero();
  const AuditReport r = run_audit(input_of(zeros), o, Context{});
  EXPECT_EQ(r.zero_vectors, 2);
  for (Index q : r.queries) EXPECT_TRUE(q != 3 && q != 9);
  AuditInput in = input_of(B);
  in.interactions = test::random_binary(20, 31, 0.2, 8);  // one item too many
  EXPECT_THROW(run_audit(in, o, Context{}), InvalidArgument);
  // Vectors whose squares overflow: refused by name (were: every norm inf, "only 0 items have
  // nonzero vectors"), the items' and the users' alike.
  for (const bool users : {false, true}) {
    const Matrix huge = B * 1e160;
    try {
      run_audit(users ? input_of(B, huge) : input_of(huge), o, Context{});
      ADD_FAILURE() << "vectors whose squares overflow accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("the ") + (users ? "user" : "item") +
                                           " vectors are too large: their sum of squares overflows"),
                std::string::npos)
          << e.what();
    }
    // And squares that underflow (1e-300): refused by name, not "only 0 items have nonzero vectors".
    const Matrix tiny = B * 1e-300;
    try {
      run_audit(users ? input_of(B, tiny) : input_of(tiny), o, Context{});
      ADD_FAILURE() << "vectors whose squares underflow accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("the ") + (users ? "user" : "item") +
                                           " vectors are too small: their squared lengths underflow"),
                std::string::npos)
          << e.what();
    }
  }
}

class AuditFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = linsim::test::make_temp_dir();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream((dir_ / name).string()) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(AuditFiles, EmbeddingReaderHandlesWord2vecGloveAndNpy) {
  EmbeddingTable t = read_embeddings(write("a.txt", "2 3\nx 1 2 3\ny 4 5 6\nz 7 8 9"));  // header says 2
  EXPECT_EQ(t.vectors.rows(), 3);
  EXPECT_EQ(t.ids.id(2), "z");
  EXPECT_DOUBLE_EQ(t.vectors(1, 2), 6.0);
  ASSERT_EQ(t.warnings.size(), 1u);
  t = read_embeddings(write("glove.txt", "the 0.5 -1\ncat 2 3\n"));  // no header
  EXPECT_EQ(t.vectors.rows(), 2);
  EXPECT_EQ(t.vectors.cols(), 2);
  EXPECT_TRUE(t.warnings.empty());
  try {
    read_embeddings(write("bad.txt", "2 2\nx 1 2\ny 1 nan\n"));
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 3);
  }
  EXPECT_THROW(read_embeddings(write("short.txt", "x 1 2\ny 1\n")), InputError);
  EXPECT_THROW(read_embeddings(write("dup.txt", "x 1 2\nx 1 3\n")), InputError);
  // A file named .npy without NumPy's magic is read by its content, and where that fails the error
  // says first that it is not a NumPy file (was: only "expected an id and 0 values, found 1 fields").
  t = read_embeddings(write("text.NPY", "x 1 2\ny 3 4\n"));
  EXPECT_EQ(t.format, "word2vec");
  EXPECT_EQ(t.vectors.rows(), 2);
  try {
    read_embeddings(write("not.npy", "NOTNPY"));
    ADD_FAILURE();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'" + (dir_ / "not.npy").string() + "' is named .npy but is not a NumPy array file"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("read as word2vec it fails: "), std::string::npos) << m;
  }
  EXPECT_THROW(read_embeddings((dir_ / "missing.npy").string()), Error);
  const Matrix M = test::random_matrix(4, 3, 9);
  write_npy_float32((dir_ / "m.npy").string(), M);
  t = read_embeddings((dir_ / "m.npy").string());
  EXPECT_EQ(t.format, "npy");
  EXPECT_LT((t.vectors - M.cast<float>().cast<double>()).norm(), 1e-12);
}

// One-dimensional vectors without a header whose first line is a numeric id with a whole-number
// value ("20<TAB>1": linsim's own tsv export of a rank-1 model, whose projected and cosine vectors
// are ±1) were read as word2vec's "count dim" header, and the first vector was lost with only a
// count warning. The oracle is the round trip: what write_embeddings wrote reads back whole.
TEST_F(AuditFiles, OneDimensionalVectorsWithANumericFirstIdReadBackWhole) {
  for (const EmbeddingFormat format : {EmbeddingFormat::kTsv, EmbeddingFormat::kWord2vec}) {
    for (const std::vector<std::string>& names :
         {std::vector<std::string>{"20", "15", "4"}, std::vector<std::string>{"0"}, std::vector<std::string>{"2", "a", "b"}}) {
      IdMap ids;
      for (const std::string& id : names) ids.add(id);
      Matrix vectors(ids.size(), 1);
      for (Index i = 0; i < ids.size(); ++i) vectors(i, 0) = i % 2 == 0 ? 1.0 : -1.0;
      const std::string path = (dir_ / "one.txt").string();
      {
        std::ofstream out(path, std::ios::binary);
        write_embeddings(out, ids, vectors, format);
      }
      const EmbeddingTable back = read_embeddings(path);
      EXPECT_EQ(back.ids.ids(), ids.ids()) << names[0];
      EXPECT_EQ(back.vectors, vectors) << names[0];
      EXPECT_TRUE(back.warnings.empty()) << back.warnings[0];
    }
  }
  // A first line of two whole numbers followed by one-dimensional vectors, where its second
  // number is not 1: a vector too (it was taken for a header of dimension 3, and line 2 refused).
  EmbeddingTable t = read_embeddings(write("d.txt", "20 3\nx 0.5\ny 2\n"));
  EXPECT_EQ(t.ids.ids(), (std::vector<std::string>{"20", "x", "y"}));
  EXPECT_DOUBLE_EQ(t.vectors(0, 0), 3.0);
  // A header whose count the rest agrees with stays a header: "2 1" and two vectors.
  t = read_embeddings(write("h.txt", "2 1\nx 0.5\ny 2\n"));
  EXPECT_EQ(t.ids.ids(), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(t.warnings.empty());
}

// An .npy of no vectors is refused, as a text file of none is: an export of it (shape 0 x 0 as
// the text "0 0") read back as one vector with id "0".
TEST_F(AuditFiles, AnNpyOfNoVectorsIsRefused) {
  write_npy((dir_ / "empty.npy").string(), Matrix(0, 0));
  try {
    read_embeddings((dir_ / "empty.npy").string());
    ADD_FAILURE() << "read an empty .npy";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty.npy' contains no vectors (shape 0 x 0)"), std::string::npos) << e.what();
  }
}

// A first id that begins with a byte-order mark survives every text format linsim writes ids in
// and reads back (the reader skips one mark at the start of a file, so the writers put one more).
TEST_F(AuditFiles, AFirstIdThatBeginsWithAByteOrderMarkKeepsIt) {
  const std::string bom = "\xEF\xBB\xBF";
  IdMap ids;
  for (const std::string& id : {bom + "x", std::string("y"), bom + bom + "z"}) ids.add(id);
  const Matrix vectors = Matrix::Random(3, 2);
  for (const EmbeddingFormat format : {EmbeddingFormat::kTsv, EmbeddingFormat::kWord2vec}) {
    const std::string path = (dir_ / (format == EmbeddingFormat::kTsv ? "v.tsv" : "v.txt")).string();
    {
      std::ofstream out(path, std::ios::binary);
      write_embeddings(out, ids, vectors, format);
    }
    const EmbeddingTable back = read_embeddings(path);
    EXPECT_EQ(back.ids.ids(), ids.ids()) << path;
  }
  const std::string id_file = (dir_ / "v.ids.tsv").string();
  {
    std::ofstream out(id_file, std::ios::binary);
    write_id_lines(out, ids);
  }
  EXPECT_EQ(read_ids(id_file).ids(), ids.ids());
}

// The format is told from a file's first bytes: a text file with a control byte further on stays
// text (it was taken for binary word2vec and read as garbage), and input that cannot be read
// twice (a FIFO, a pipe) is refused by name instead of read short or waited on for ever.
TEST_F(AuditFiles, TheFormatIsToldByTheFirstRecordAndAFifoIsRefused) {
  std::string text = "4 2\nw0 0.5 1\nw1 2 3\nw2 4 5\n";
  text += std::string("w\0x 6 7\n", 8);
  const EmbeddingTable t = read_embeddings(write("nul.txt", text));
  EXPECT_EQ(t.format, "word2vec");
  ASSERT_EQ(t.vectors.rows(), 4);
  EXPECT_EQ(t.ids.id(3), std::string("w\0x", 3));
  EXPECT_DOUBLE_EQ(t.vectors(3, 1), 7.0);
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  try {
    read_embeddings(fifo);  // opening it would wait for a writer
    ADD_FAILURE() << "a FIFO was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a regular file (a pipe, FIFO or device)"), std::string::npos)
        << e.what();
  }
}

TEST_F(AuditFiles, TruthReaderDetectsClustersAndPairs) {
  AuditInput in = input_of(test::random_matrix(4, 2, 1));
  in.item_ids = IdMap();
  for (const char* w : {"cat", "dog", "car", "bus"}) in.item_ids.add(w);
  read_truth(write("clusters.tsv", "item\tcluster\tpopularity\ncat\t0\t0.5\ndog\t0\t0.2\ncar\t1\t0.1\nyak\t1\t0.3\n"),
             "auto", in);
  EXPECT_EQ(in.clusters, (std::vector<int>{0, 0, 1, -1}));
  EXPECT_EQ(in.notes.size(), 1u);  // yak is unknown
  // A header whose item column is named like one of the items ("word", a common word) is still a
  // header (was: 'word' read into a cluster named "cluster", or a conflict with its real cluster).
  AuditInput named = input_of(test::random_matrix(4, 2, 1));
  named.item_ids = IdMap();
  for (const char* w : {"word", "dog", "car", "bus"}) named.item_ids.add(w);
  read_truth(write("named.tsv", "word\tcluster\ndog\t0\ncar\t1\nbus\t1\nword\t0\n"), "auto", named);
  EXPECT_EQ(named.clusters, (std::vector<int>{0, 0, 1, 1}));
  read_truth(write("named_id.tsv", "word\tClusterID\ndog\t0\ncar\t1\nbus\t1\nword\t0\n"), "auto", named);
  EXPECT_EQ(named.clusters, (std::vector<int>{0, 0, 1, 1}));
  // A first data line whose label reads like a column name, used by other lines too, is data.
  read_truth(write("labels.tsv", "word\tlabel\ndog\tlabel\ncar\tother\nbus\tother\n"), "clusters", named);
  EXPECT_EQ(named.clusters, (std::vector<int>{0, 0, 1, 1}));
  AuditInput w = input_of(test::random_matrix(4, 2, 1));
  w.item_ids = in.item_ids;
  read_truth(write("ws.tab", "Word 1\tWord 2\tHuman (mean)\nCat\tdog\t7.5\ncar\tbus\t8\ncat\tyak\t1\ndog\tbus\t2\n"),
             "auto", w);
  EXPECT_EQ(w.pairs_in_file, 4);
  ASSERT_EQ(w.pairs.size(), 3u);  // Cat matched lower-cased, yak unknown
  EXPECT_EQ(w.pairs[0].a, 0);
  EXPECT_DOUBLE_EQ(w.pairs[1].score, 8.0);
  ASSERT_EQ(w.notes.size(), 1u);  // the coverage: 3 of 4
  EXPECT_NE(w.notes[0].find("3 of the 4 pairs"), std::string::npos) << w.notes[0];
  AuditInput s = input_of(test::random_matrix(4, 2, 1));
  s.item_ids = in.item_ids;
  read_truth(write("simlex.txt", "word1\tword2\tPOS\tSimLex999\tx\ncat\tdog\tN\t3.5\t1\ncar\tbus\tN\t2\t1\n"
                                  "cat\tbus\tN\t1\t1\n"),
             "auto", s);
  ASSERT_EQ(s.pairs.size(), 3u);
  EXPECT_DOUBLE_EQ(s.pairs[0].score, 3.5);
  EXPECT_TRUE(s.notes.empty());  // every pair found: nothing to warn about
  AuditInput m = input_of(test::random_matrix(4, 2, 1));
  m.item_ids = in.item_ids;
  read_truth(write("men.txt", "cat dog 40.0\ncar bus 45\ndog car 3\n"), "auto", m);
  EXPECT_EQ(m.pairs.size(), 3u);
  EXPECT_THROW(read_truth(write("x.txt", "a\tb\n"), "triples", m), InvalidArgument);
}

TEST(AuditReport, JsonHasEveryKeyAndHtmlIsSelfContained) {
  const Matrix B = test::random_matrix(40, 5, 10);
  AuditInput in = input_of(B);
  in.interactions = test::random_binary(60, 40, 0.2, 11);
  std::vector<int> cl(40);
  for (int i = 0; i < 40; ++i) cl[static_cast<size_t>(i)] = i % 3;
  in.clusters = cl;
  AuditOptions o;
  o.top = 5;
  const AuditReport r = run_audit(in, o, Context{});
  const nlohmann::json j = audit_json(r, {{"items", "B"}});
  for (const char* path : {"/gauge_sensitivity/mean_jaccard", "/gauge_sensitivity/worst_jaccard", "/balance/imbalance",
                           "/projected_overlap/mean_jaccard", "/popularity/norm_spearman",
                           "/geometry/mean_random_cosine", "/geometry/top_dim_variance_share",
                           "/geometry/effective_rank", "/geometry/hubness_skew", "/truth/auc", "/truth/spearman",
                           "/verdict"}) {
    EXPECT_TRUE(j.contains(nlohmann::json::json_pointer(path))) << path;
  }
  EXPECT_TRUE(j["balance"]["imbalance"].is_null());   // no users given
  EXPECT_FALSE(j["projected_overlap"]["mean_jaccard"].is_null());  // from interactions
  EXPECT_TRUE(j["truth"]["spearman"].is_null());
  EXPECT_TRUE(j["truth"]["auc"].contains("projected"));
  const std::string html = audit_html(r, {{"items", "B"}});
  EXPECT_NE(html.find("id=\"verdict\""), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  size_t images = 0;
  for (size_t at = html.find("data:image/png;base64,"); at != std::string::npos;
       at = html.find("data:image/png;base64,", at + 1)) {
    ++images;
  }
  EXPECT_EQ(images, 3u);  // Jaccard histogram, norm vs popularity, cluster heatmap
}


// --- Hardening: option ranges, undefined numbers, verdicts against the truth ---

TEST(Audit, OptionsOutsideTheirDocumentedRangesAreRefusedNamingTheOption) {
  const Matrix B = test::random_matrix(200, 8, 1);
  struct Case {
    const char* option;
    std::function<void(AuditOptions&)> set;
  };
  const std::vector<Case> cases = {
      {"--random-gauges", [](AuditOptions& o) { o.random_gauges = 100000000; }},  // was 8.7 GB
      {"--random-gauges", [](AuditOptions& o) { o.random_gauges = -1; }},
      {"--random-spread", [](AuditOptions& o) { o.random_spread = 1e308; }},      // exp overflowed silently
      {"--random-spread", [](AuditOptions& o) { o.random_spread = 0; }},
      {"--random-spread", [](AuditOptions& o) { o.random_spread = std::nan(""); }},
      {"--queries", [](AuditOptions& o) { o.queries = 0; }},
      {"--queries", [](AuditOptions& o) { o.queries = AuditOptionLimits::kMaxQueries + 1; }},
      {"--top", [](AuditOptions& o) { o.top = AuditOptionLimits::kMaxTop + 1; }},
      {"random_pairs", [](AuditOptions& o) { o.random_pairs = 0; }},
      {"random_pairs", [](AuditOptions& o) { o.random_pairs = AuditOptionLimits::kMaxRandomPairs + 1; }},
      {"hubness_queries", [](AuditOptions& o) { o.hubness_queries = AuditOptionLimits::kMaxHubnessLists + 1; }},
      {"hubness_exact_limit", [](AuditOptions& o) { o.hubness_exact_limit = -1; }},
  };
  for (const Case& c : cases) {
    AuditOptions o;
    c.set(o);
    try {
      run_audit(input_of(B), o, Context{});
      ADD_FAILURE() << c.option << " accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(c.option), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(']'), std::string::npos) << "no range in: " << e.what();
    }
  }
  // The limits themselves are accepted (a quick family: spread 10, 1000 random gauges).
  AuditOptions o;
  o.random_spread = AuditOptionLimits::kMaxRandomSpread;
  o.random_gauges = AuditOptionLimits::kMaxRandomGauges;
  o.queries = 5;
  o.top = 3;
  const AuditReport r = run_audit(input_of(B), o, Context{});
  EXPECT_EQ(r.gauges.size(), 1004u);
  EXPECT_TRUE(std::isfinite(r.mean_jaccard));
}

TEST(Audit, NumbersTheInputCannotDefineAreUndefinedWithAReasonNeverZero) {
  // Unit-length vectors (their length cannot follow popularity), one cluster for every item (no
  // other-cluster item to rank), and pairs whose human scores are all equal.
  const Matrix B = normalize_rows(test::random_matrix(30, 4, 2));
  AuditInput in = input_of(B);
  in.interactions = test::random_binary(40, 30, 0.2, 3);
  in.clusters.assign(30, 0);
  AuditOptions o;
  o.top = 3;
  AuditReport r = run_audit(in, o, Context{});
  ASSERT_TRUE(r.norm_spearman);
  EXPECT_TRUE(std::isnan(*r.norm_spearman));
  ASSERT_NE(r.why_undefined("popularity.norm_spearman"), nullptr);
  EXPECT_NE(r.why_undefined("popularity.norm_spearman")->find("same length"), std::string::npos);
  ASSERT_EQ(r.truth_auc.size(), 4u);  // cosine, dot, centred, projected
  for (const auto& [name, auc] : r.truth_auc) {
    EXPECT_TRUE(std::isnan(auc)) << name;
    ASSERT_NE(r.why_undefined("truth.auc." + name), nullptr) << name;
    EXPECT_NE(r.why_undefined("truth.auc." + name)->find("same cluster"), std::string::npos);
  }
  const nlohmann::json j = audit_json(r, {{"items", "B"}});
  EXPECT_TRUE(j["popularity"]["norm_spearman"].is_null());
  EXPECT_TRUE(j["truth"]["auc"]["cosine"].is_null());
  EXPECT_TRUE(j["undefined"].contains("truth.auc.cosine"));
  EXPECT_NE(j["popularity"]["reading"].get<std::string>().find("Undefined"), std::string::npos);
  const std::string summary = audit_summary(r);
  EXPECT_NE(summary.find("norm ~ popularity  undefined (every item vector has the same length"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("undefined (every labelled item is in the same cluster"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("0.000"), std::string::npos) << summary;
  const std::string html = audit_html(r, {{"items", "B"}});
  EXPECT_NE(html.find("<td class=\"v\">undefined</td>"), std::string::npos);
  EXPECT_NE(r.verdict.back().find("undefined"), std::string::npos) << r.verdict.back();
  // Pairs with one human score throughout: every Spearman is undefined, and says why.
  AuditInput w = input_of(test::random_matrix(30, 4, 4));
  for (Index t = 0; t < 6; ++t) w.pairs.push_back({t, t + 10, 5.0});
  w.pairs_in_file = 6;
  r = run_audit(w, o, Context{});
  ASSERT_EQ(r.truth_spearman.size(), 3u);
  for (const auto& [name, rho] : r.truth_spearman) {
    EXPECT_TRUE(std::isnan(rho)) << name;
    ASSERT_NE(r.why_undefined("truth.spearman." + name), nullptr);
    EXPECT_NE(r.why_undefined("truth.spearman." + name)->find("same human score"), std::string::npos);
  }
  EXPECT_NE(audit_summary(r).find("undefined (every pair has the same human score"), std::string::npos);
}

// Vectors that are one vector repeated (values that are not dyadic, so their mean leaves ~1e-16 of
// residue) or all on one line: the variance share and the hubness skew are undefined, with their
// reasons, and the verdict recommends no centring (was: "100 % of the variance", a skew of 2.2
// from the tie order reported as hubs, and "subtracting the mean vector before cosine helps",
// citing equal AUCs as support). An undefined projected overlap reads "undefined" in the HTML
// (was: "—", which means "not given"), and a path's non-UTF-8 byte is \xNN there as in the JSON.
TEST(Audit, RepeatedOrCollinearVectorsHaveNoVarianceShareNoHubnessAndNoCentringAdvice) {
  const Matrix row = test::random_matrix(1, 5, 2);
  const Matrix repeated = row.replicate(20, 1);
  // On a line, at lengths of one sign (every cosine +1: the anisotropic branch) or both.
  Matrix line(40, 5), signed_line(40, 5);
  const Matrix along = test::random_matrix(40, 1, 3);
  for (Index i = 0; i < 40; ++i) {
    line.row(i) = (1.0 + std::abs(along(i, 0))) * row;
    signed_line.row(i) = along(i, 0) * row;
  }
  AuditOptions o;
  o.top = 3;
  for (const Matrix* B : {&repeated, static_cast<const Matrix*>(&line), static_cast<const Matrix*>(&signed_line)}) {
    SCOPED_TRACE(B == &repeated ? "repeated" : B == &line ? "on a line" : "on a line, both signs");
    AuditInput in = input_of(*B);
    in.clusters.resize(static_cast<size_t>(B->rows()));
    for (size_t i = 0; i < in.clusters.size(); ++i) in.clusters[i] = static_cast<int>(i % 3);
    const AuditReport r = run_audit(in, o, Context{});
    EXPECT_TRUE(std::isnan(r.hubness_skew));
    ASSERT_NE(r.why_undefined("geometry.hubness_skew"), nullptr);
    EXPECT_NE(r.why_undefined("geometry.hubness_skew")->find("span a single dimension"), std::string::npos);
    std::string v;
    for (const auto& sentence : r.verdict) v += sentence + " ";
    EXPECT_EQ(v.find("hubs"), std::string::npos) << v;
    EXPECT_EQ(v.find("before cosine helps"), std::string::npos) << v;
    if (B == &repeated) {
      EXPECT_TRUE(std::isnan(r.top_dim_variance_share));
      ASSERT_NE(r.why_undefined("geometry.top_dim_variance_share"), nullptr);
      EXPECT_NE(v.find("Every item vector is the same up to rounding"), std::string::npos) << v;
    } else {
      // On a line the centred vectors still vary, along that line: one direction, all of it.
      EXPECT_NEAR(r.top_dim_variance_share, 1.0, 1e-12);
      EXPECT_NE(v.find("The item vectors lie on one line"), std::string::npos) << v;
    }
    EXPECT_EQ(r.item_dimensions, 1);
  }
  // Zero users: the projected overlap is undefined, and the HTML says so; paths are made UTF-8.
  AuditInput in = input_of(test::random_matrix(6, 3, 4), Matrix::Zero(4, 3));
  const AuditReport r = run_audit(in, o, Context{});
  ASSERT_NE(r.why_undefined("projected_overlap.mean_jaccard"), nullptr);
  const std::string html = audit_html(r, {{"items", "vec\xff.npy"}});
  EXPECT_NE(html.find("<td class=\"v\">undefined</td><td>Undefined: the projected vectors (from users) are all zero"),
            std::string::npos)
      << html;
  EXPECT_EQ(html.find('\xff'), std::string::npos);
  EXPECT_NE(html.find("vec\\xff.npy"), std::string::npos);
}

// Two clusters told apart by the sign of the third coordinate (±0.8 n), with directions in the
// first two coordinates spread over ±0.2 rad around 0.46 and lengths n spread over 1..10.
Matrix two_sided_clusters(Index per_cluster, std::vector<int>& clusters) {
  Matrix B(2 * per_cluster, 3);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> length(1.0, 10.0), jitter(-0.2, 0.2);
  for (Index i = 0; i < B.rows(); ++i) {
    const double angle = 0.46 + jitter(rng);
    const double n = length(rng);
    B(i, 0) = n * std::cos(angle);
    B(i, 1) = n * std::sin(angle);
    B(i, 2) = (i < per_cluster ? 0.8 : -0.8) * n;
    clusters.push_back(i < per_cluster ? 0 : 1);
  }
  return B;
}

TEST(Audit, VerdictDoesNotRecommendAStepTheTruthScoresLower) {
  std::vector<int> clusters;
  const Matrix B = two_sided_clusters(40, clusters);
  AuditOptions o;
  o.top = 5;
  // Two users who see only the first two coordinates: the projected similarity (the same for
  // every rescaling, and defined: it spans two dimensions) loses the coordinate that separates the
  // clusters; cosine keeps it. (One user would leave it a single dimension: undefined.)
  Matrix P(2, 3);
  P << 1, 0, 0, 0, 1, 0;
  AuditInput in = input_of(B, P);
  in.clusters = clusters;
  const AuditReport r = run_audit(in, o, Context{});
  ASSERT_TRUE(r.projected_mean_jaccard);
  ASSERT_LT(*r.projected_mean_jaccard, 0.99);
  ASSERT_TRUE(r.imbalance && *r.imbalance >= 0.05);  // the branch that would say "Use the projected…"
  const double projected = *r.truth_of("projected"), cosine = *r.truth_of("cosine"), centred = *r.truth_of("centred");
  ASSERT_LT(projected, cosine);
  ASSERT_GT(r.mean_random_cosine, 0.3);  // anisotropic: the branch that would say "centring helps"
  ASSERT_LT(centred, cosine);
  const std::string v = [&] {
    std::string all;
    for (const auto& s : r.verdict) all += s + " ";
    return all;
  }();
  EXPECT_EQ(v.find("Use the projected similarity"), std::string::npos) << v;
  EXPECT_NE(v.find("does not support switching"), std::string::npos) << v;
  EXPECT_NE(v.find(fmt::format("same-cluster AUC {:.3f} for projected against {:.3f} for cosine", projected, cosine)),
            std::string::npos) << v;
  EXPECT_EQ(v.find("before cosine helps"), std::string::npos) << v;
  EXPECT_NE(v.find("does not help on the given truth"), std::string::npos) << v;
  EXPECT_NE(v.find(fmt::format("same-cluster AUC {:.3f} for centred cosine against {:.3f} for cosine", centred, cosine)),
            std::string::npos) << v;
  // Without the truth, the same vectors get the recommendations.
  AuditInput plain = input_of(B, P);
  const AuditReport q = run_audit(plain, o, Context{});
  std::string w;
  for (const auto& s : q.verdict) w += s + " ";
  EXPECT_NE(w.find("Use the projected similarity"), std::string::npos) << w;
  EXPECT_NE(w.find("before cosine helps"), std::string::npos) << w;
}

TEST(Audit, VerdictSaysWhenTheTruthPrefersDotProductsOverNormalising) {
  // Nearly parallel vectors whose lengths grow with popularity, and human scores that are the
  // product of the lengths: dot products match the truth, cosine (normalising) does not.
  const Index p = 40;
  Matrix B(p, 3);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z(0.0, 0.05);
  std::vector<Eigen::Triplet<double, int>> t;
  for (Index i = 0; i < p; ++i) {
    const double n = 1.0 + static_cast<double>(i);
    B.row(i) << n * (1 + z(rng)), n * (1 + z(rng)), n * (1 + z(rng));
    for (Index u = 0; u <= i; ++u) t.emplace_back(static_cast<int>(u), static_cast<int>(i), 1.0);
  }
  SparseMatrix X(p, p);
  X.setFromTriplets(t.begin(), t.end());
  AuditInput in = input_of(B);
  in.interactions = X;
  for (Index a = 0; a < p; a += 2) {
    in.pairs.push_back({a, (a * 7 + 3) % p, (1.0 + static_cast<double>(a)) * (1.0 + static_cast<double>((a * 7 + 3) % p))});
  }
  in.pairs_in_file = static_cast<Index>(in.pairs.size());
  AuditOptions o;
  o.top = 5;
  const AuditReport r = run_audit(in, o, Context{});
  ASSERT_TRUE(r.norm_spearman && *r.norm_spearman > 0.3);
  ASSERT_GT(*r.truth_of("dot"), *r.truth_of("cosine"));
  std::string v;
  for (const auto& s : r.verdict) v += s + " ";
  EXPECT_NE(v.find("they score higher than cosine"), std::string::npos) << v;
  EXPECT_NE(v.find(fmt::format("{:.3f} for dot-product against {:.3f} for cosine", *r.truth_of("dot"),
                               *r.truth_of("cosine"))),
            std::string::npos)
      << v;
}

// --- Hardening: embedding files ---

using test::binary_word2vec;

TEST_F(AuditFiles, Word2vecBinaryFilesAreReadPlainOrGzipped) {
  const Matrix M = test::random_matrix(5, 3, 12);
  const std::vector<std::string> ids = {"the", "cat", "sat", "on", "mat"};
  for (const bool newline : {false, true}) {
    const std::string bytes = binary_word2vec(ids, M, newline);
    const std::string plain = write(newline ? "c.bin" : "gensim.bin", bytes);
    const std::string gz = (dir_ / (newline ? "c.bin.gz" : "gensim.bin.gz")).string();
    {
      gzFile f = gzopen(gz.c_str(), "wb");
      ASSERT_NE(f, nullptr);
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    }
    for (const std::string& path : {plain, gz}) {
      const EmbeddingTable t = read_embeddings(path);
      EXPECT_EQ(t.format, "word2vec-binary") << path;
      ASSERT_EQ(t.vectors.rows(), 5) << path;
      ASSERT_EQ(t.vectors.cols(), 3);
      EXPECT_EQ(t.ids.id(4), "mat");
      EXPECT_LT((t.vectors - M.cast<float>().cast<double>()).norm(), 1e-12) << path;
      EXPECT_TRUE(t.warnings.empty());
    }
  }
  // A small gzip file with bytes after its gzip data, or cut short, is named as such, not as a
  // text line of binary bytes (the format probe used to swallow the gzip error).
  {
    std::ifstream in(dir_ / "c.bin.gz", std::ios::binary);
    const std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& [name, bytes, words] : {std::tuple<std::string, std::string, std::string>{"junk.bin.gz", gz + "junk", "bytes follow the end of its gzip data"},
                                             {"cut.bin.gz", gz.substr(0, gz.size() * 3 / 4), "the gzip data stops before its end"}}) {
      try {
        read_embeddings(write(name, bytes));
        ADD_FAILURE() << name << " was read";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(name + "': " + words), std::string::npos) << e.what();
      }
    }
  }
  // A tiny file whose float bytes all happen to be printable is still recognised: the binary
  // layout explains it exactly and the text reading does not ("AAAA" is the float 12.0784…).
  const EmbeddingTable t = read_embeddings(write("printable.bin", "2 2\nab AAAAAAAAcd BBBBBBBB"));
  EXPECT_EQ(t.format, "word2vec-binary");
  EXPECT_EQ(t.ids.id(1), "cd");
  EXPECT_NEAR(t.vectors(0, 0), 12.078431, 1e-6);
  // A malformed text file is not mistaken for binary: the text line is named.
  try {
    read_embeddings(write("short.txt", "2 3\nx 1 2\ny 4 5 6\nz 7 8 9"));
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 2);
  }
  // Truncated, or a header count beyond the 2^31 − 1 rows the neighbour search can index: errors
  // that say the file is binary word2vec, not "malformed line N".
  const std::string bytes = binary_word2vec(ids, M, false);
  try {
    read_embeddings(write("cut.bin", bytes.substr(0, bytes.size() - 5)));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("binary word2vec"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vector 5 ('mat')"), std::string::npos) << e.what();
  }
  try {
    read_embeddings(write("huge.bin", "3000000000 3\n" + bytes.substr(bytes.find('\n') + 1)));
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2147483647"), std::string::npos) << e.what();
  }
  Matrix bad = M;
  bad(2, 1) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(read_embeddings(write("inf.bin", binary_word2vec(ids, bad, false))), Error);
}

TEST_F(AuditFiles, Word2vecHeaderValuesThatOverflowAreInputErrors) {
  for (const char* header : {"99999999999999999999 2", "9007199254740992 2", "1e300 2", "2 3000000000", "2 1e300"}) {
    try {
      read_embeddings(write("h.txt", std::string(header) + "\nx 1 2\ny 3 4\n"));
      ADD_FAILURE() << header;
    } catch (const InputError& e) {
      EXPECT_EQ(e.line(), 1) << header;
    }
  }
  // The largest exact count is only a (wrong) declaration: read, with the warning.
  const EmbeddingTable t = read_embeddings(write("h.txt", "9007199254740991 2\nx 1 2\ny 3 4\n"));
  EXPECT_EQ(t.vectors.rows(), 2);
  EXPECT_EQ(t.warnings.size(), 1u);
}

// Each malformed record of a word2vec/GloVe file is an error naming the file and the line (text)
// or the vector's number (binary), with what is wrong.
TEST_F(AuditFiles, Word2vecRecordsThatAreMalformedNameTheFileAndTheRecord) {
  // The message of the error read_embeddings throws for `text`, or "no error".
  const auto error_of = [&](const std::string& name, const std::string& text) -> std::string {
    try {
      read_embeddings(write(name, text));
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string file = (dir_ / "e.txt").string();
  std::string m = error_of("e.txt", "x 1 2\ny 1\n");
  EXPECT_NE(m.find(file + ":2: expected an id and 2 values, found 2 fields"), std::string::npos) << m;
  m = error_of("e.txt", "2 2\nx 1 2\ny 1 2 3\n");
  EXPECT_NE(m.find(file + ":3: expected an id and 2 values, found 4 fields"), std::string::npos) << m;
  m = error_of("e.txt", "x 1 2\ny 3 4\nx 1 3\n");
  EXPECT_NE(m.find(file + ":3: id 'x' appears twice"), std::string::npos) << m;
  m = error_of("e.txt", "x 1 2\ny 1 nan\n");
  EXPECT_NE(m.find(file + ":2: value 2 of 'y' is not a finite number: 'nan'"), std::string::npos) << m;
  for (const char* empty : {"", "\n\n", "2 3\n", "0 5\n"}) {  // "0 5": was "read as binary word2vec"
    m = error_of("e.txt", empty);
    EXPECT_NE(m.find("'" + file + "' contains no vectors"), std::string::npos) << "'" << empty << "': " << m;
  }
  // Binary: an id that is empty, repeated, or without a blank after it within 64 KiB.
  const std::string bin = (dir_ / "e.bin").string();
  const std::string one(reinterpret_cast<const char*>(std::array<float, 2>{1.0F, 2.0F}.data()), 8);
  m = error_of("e.bin", "1 2\n " + one);
  EXPECT_NE(m.find(bin), std::string::npos) << m;
  EXPECT_NE(m.find("binary word2vec"), std::string::npos) << m;
  EXPECT_NE(m.find("vector 1 has an empty id"), std::string::npos) << m;
  m = error_of("e.bin", binary_word2vec({"the", "cat", "the"}, test::random_matrix(3, 2, 4)));
  EXPECT_NE(m.find(bin), std::string::npos) << m;
  EXPECT_NE(m.find("id 'the' of vector 3 appears twice"), std::string::npos) << m;
  m = error_of("e.bin", "1 2\n\x01" + std::string(70000, 'a') + " " + one);
  EXPECT_NE(m.find(bin), std::string::npos) << m;
  EXPECT_NE(m.find("vector 1 has no blank after its id within 65536 bytes"), std::string::npos) << m;
  m = error_of("e.bin", "0 2\n");
  EXPECT_NE(m.find(bin), std::string::npos) << m;
  EXPECT_NE(m.find("no vectors"), std::string::npos) << m;
}

// Ids a line-based format cannot hold are refused before the file is created.
TEST_F(AuditFiles, IdsThatTheFormatCannotHoldAreRefusedWhenWriting) {
  const Matrix M = test::random_matrix(2, 2, 5);
  const auto error_of = [&](bool word2vec, const std::string& bad) -> std::string {
    IdMap ids;
    ids.add("fine");
    ids.add(bad);
    try {
      if (word2vec) {
        write_word2vec((dir_ / "out.txt").string(), ids, M, false);
      } else {
        write_embedding_tsv((dir_ / "out.txt").string(), ids, M, false);
      }
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no error";
  };
  for (const char* bad : {"a b", "a\tb", "a\nb", "a\rb"}) {
    const std::string m = error_of(true, bad);
    EXPECT_NE(m.find("id '" + printable_message(bad) + "' cannot be written in word2vec format (it contains a blank or line break)"),
              std::string::npos)
        << m;
  }
  for (const char* bad : {"a\tb", "a\nb", "a\rb"}) {
    const std::string m = error_of(false, bad);
    EXPECT_NE(m.find("id '" + printable_message(bad) + "' cannot be written in TSV format (it contains a tab or line break)"),
              std::string::npos)
        << m;
  }
  EXPECT_EQ(error_of(false, "a b"), "no error");  // a blank is fine in TSV
  fs::remove(dir_ / "out.txt");
  // An empty id is named by its row (was: "an empty id cannot be written", no row).
  EXPECT_NE(error_of(true, "").find("the id of row 1 (counted from 0) is empty and cannot be written in word2vec format"),
            std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_)) << "a refused write left a file";
}

TEST_F(AuditFiles, TruthScoresThatAreNotFiniteAreInputErrorsNotClusters) {
  AuditInput in = input_of(test::random_matrix(4, 2, 1));
  in.item_ids = IdMap();
  for (const char* w : {"cat", "dog", "car", "bus"}) in.item_ids.add(w);
  for (const char* kind : {"auto", "pairs"}) {
    AuditInput a = in;
    try {
      read_truth(write("nan.tsv", "cat\tdog\tnan\ncar\tbus\tnan\ncat\tbus\tNaN\n"), kind, a);
      ADD_FAILURE() << kind;
    } catch (const InputError& e) {
      EXPECT_EQ(e.line(), 1) << kind;
      EXPECT_NE(std::string(e.what()).find("not a finite number"), std::string::npos) << e.what();
    }
  }
  AuditInput b = in;
  try {
    read_truth(write("inf.tsv", "word1\tword2\tscore\ncat\tdog\t1\ncar\tbus\tinf\n"), "auto", b);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 3);
  }
}

// --truth-kind auto reads the kind from a header, else from the content; a file that fits neither
// is refused, never guessed.
TEST_F(AuditFiles, TruthKindAutoDecidesByHeaderOrContentOrAsks) {
  AuditInput in = input_of(test::random_matrix(40, 2, 1));
  in.item_ids = IdMap();
  for (int i = 0; i < 40; ++i) in.item_ids.add("w" + std::to_string(i));
  std::string pairs, simulated;
  for (int i = 0; i + 1 < 40; ++i) pairs += fmt::format("w{}\tw{}\t{}.{}\n", i, i + 1, i % 10, i % 7);
  for (int i = 0; i < 40; ++i) simulated += fmt::format("w{}\t{}\t0.{}\n", i, i % 3, 100 + i);
  AuditInput a = in;
  read_truth(write("pairs.tsv", pairs), "auto", a);
  EXPECT_EQ(a.pairs_in_file, 39);
  EXPECT_TRUE(a.clusters.empty());
  // `simulate --truth` without its header: item, cluster, popularity — three numeric-looking
  // fields, but three labels for 40 items.
  AuditInput b = in;
  read_truth(write("clusters.tsv", simulated), "auto", b);
  ASSERT_EQ(b.clusters.size(), 40u);
  EXPECT_EQ(b.pairs_in_file, 0);
  EXPECT_EQ(b.clusters[4], b.clusters[1]);
  EXPECT_NE(b.clusters[4], b.clusters[2]);
  // The same for a small simulation: 5 clusters of 30 items (more than a tenth of the lines),
  // integer labels.
  std::string small;
  for (int i = 0; i < 30; ++i) small += fmt::format("w{}\t{}\t0.{}\n", i, i % 5, 100 + i);
  AuditInput b2 = in;
  read_truth(write("small.tsv", small), "auto", b2);
  EXPECT_EQ(b2.pairs_in_file, 0);
  ASSERT_EQ(b2.clusters.size(), 40u);
  EXPECT_EQ(b2.clusters[0], b2.clusters[5]);
  // Pairs whose scores use decimal commas: neither kind clearly; asked, not read as clusters.
  std::string commas = pairs;
  std::replace(commas.begin(), commas.end(), '.', ',');
  AuditInput c = in;
  try {
    read_truth(write("commas.tsv", commas), "auto", c);
    ADD_FAILURE() << "decimal commas were read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pass --truth-kind clusters or pairs"), std::string::npos) << e.what();
  }
  // A pair file with one bad score is still a pair file: the error names that line.
  std::string plus = pairs;
  plus.replace(plus.find("1.1"), 3, "+3");
  AuditInput d = in;
  try {
    read_truth(write("plus.tsv", plus), "auto", d);
    ADD_FAILURE() << "'+3' was read";
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 2) << e.what();
  }
  // A score beyond a double on the first line is an error there, not a header.
  AuditInput f = in;
  try {
    read_truth(write("huge.tsv", "w0\tw1\t1e400\n" + pairs), "auto", f);
    ADD_FAILURE() << "1e400 was skipped as a header";
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 1) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a finite number"), std::string::npos) << e.what();
  }
}

TEST_F(AuditFiles, PairFilesWithFewerThanThreeMatchingPairsAreErrorsNamingTheCounts) {
  AuditInput in = input_of(test::random_matrix(4, 2, 1));
  in.item_ids = IdMap();
  for (const char* w : {"cat", "dog", "car", "bus"}) in.item_ids.add(w);
  for (const auto& [text, found] : std::vector<std::pair<std::string, std::string>>{
           {"yak\tgnu\t1\nemu\tasp\t2\nowl\tbat\t3\n", "none of its 3 pairs"},
           {"cat\tdog\t1\nemu\tasp\t2\nowl\tbat\t3\n", "only 1 of its 3 pairs"}}) {
    AuditInput a = in;
    try {
      read_truth(write("pairs.tsv", text), "pairs", a);
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(found), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("pairs.tsv"), std::string::npos) << e.what();
    }
  }
}

// --- Hardening: ids of .npy rows against the interactions' ids ---

class AuditInputs : public AuditFiles {
 protected:
  // p item rows (.npy, no ids) and, optionally, n user rows.
  EmbeddingSources sources(Index p, Index n = 0) {
    EmbeddingSources s;
    s.items = (dir_ / "items.npy").string();
    write_npy(s.items, test::random_matrix(p, 3, 21));
    if (n > 0) {
      s.users = (dir_ / "users.npy").string();
      write_npy(s.users, test::random_matrix(n, 3, 22));
    }
    return s;
  }
  // One interaction per listed item, each by its own user "u<item>".
  std::string interactions(const std::vector<int>& items) {
    std::string text;
    for (int i : items) text += fmt::format("u{}\t{}\n", i, i);
    return write("x.tsv", text);
  }
  static std::string message_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(AuditInputs, OneBasedIdsAgainstImplicitRowsAreRefusedWithAHint) {
  EmbeddingSources s = sources(5);
  s.interactions = interactions({1, 2, 3, 4, 5});  // 1-based, mentions id 5 = p
  nlohmann::json d;
  try {
    read_embedding_sources(s, d);
    ADD_FAILURE();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.line(), 5) << m;
    for (const char* part : {"--item-ids", "1-based", "'5'", "0 to 4"}) EXPECT_NE(m.find(part), std::string::npos) << m;
  }
  // Ids that are not row numbers at all.
  s.interactions = write("x.tsv", "u\tfilm01\n");
  EXPECT_NE(message_of([&] { read_embedding_sources(s, d); }).find("not row numbers"), std::string::npos);
}

TEST_F(AuditInputs, IdsShiftedByOneAgainstImplicitRowsAreRefused) {
  EmbeddingSources s = sources(10);
  s.interactions = interactions({1, 2, 3, 4, 5, 6, 7, 8, 9});  // never 0, never 10: silently wrong before
  nlohmann::json d;
  const std::string m = message_of([&] { read_embedding_sources(s, d); });
  for (const char* part : {"never names item 0", "9 of the items 1 to 9", "--item-ids", "1 to 10", "0 to 9"}) {
    EXPECT_NE(m.find(part), std::string::npos) << m;
  }
  // Sparse coverage is no evidence of a shift (item 0 is one of many without interactions).
  s.interactions = interactions({1, 4, 7});
  EXPECT_EQ(read_embedding_sources(s, d).interactions->cols(), 10);
  // Nor when 0 occurs.
  s.interactions = interactions({0, 1, 2, 3, 4, 5, 6, 7, 8});
  const AuditInput in = read_embedding_sources(s, d);
  EXPECT_EQ(item_users(*in.interactions)(0), 1.0);
  // An id file settles it: 1..10 maps id i to row i − 1.
  s.interactions = interactions({1, 2, 3, 4, 5, 6, 7, 8, 9});
  s.item_ids = write("ids.txt", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
  const Vector pop = item_users(*read_embedding_sources(s, d).interactions);
  EXPECT_EQ(pop(0), 1.0);
  EXPECT_EQ(pop(9), 0.0);
}

TEST_F(AuditInputs, UnknownIdsWithAnIdFileNameTheOptionAndTheLine) {
  EmbeddingSources s = sources(3);
  s.item_ids = write("ids.txt", "a\nb\nc\n");
  s.interactions = write("x.tsv", "u1\ta\nu1\tb\nu2\tzz\n");
  nlohmann::json d;
  try {
    read_embedding_sources(s, d);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(std::string(e.what()).find("--item-ids"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'zz'"), std::string::npos) << e.what();
  }
  s.item_ids = write("ids.txt", "a\nb\n");  // one id short
  EXPECT_THROW(read_embedding_sources(s, d), InvalidArgument);
}

TEST_F(AuditInputs, UserRowsAreMatchedToTheInteractionsUsers) {
  EmbeddingSources s = sources(4, 3);
  s.user_ids = write("users.txt", "ann\nbob\ncy\n");
  s.interactions = write("x.tsv", "cy\t0\ncy\t1\nann\t2\nann\t3\nann\t1\n");
  nlohmann::json d;
  const AuditInput in = read_embedding_sources(s, d);
  ASSERT_EQ(in.interactions->rows(), 3);  // the user rows, in their order
  const Matrix X = Matrix(*in.interactions);
  EXPECT_EQ(X.row(0).sum(), 3.0);  // ann
  EXPECT_EQ(X.row(1).sum(), 0.0);  // bob has none
  EXPECT_EQ(X.row(2).sum(), 2.0);  // cy
  EXPECT_EQ(in.interaction_users.id(2), "cy");
  EXPECT_EQ(d["user_ids"], s.user_ids);
  s.interactions = write("x.tsv", "cy\t0\ndan\t1\n");
  std::string m = message_of([&] { read_embedding_sources(s, d); });
  EXPECT_NE(m.find("--user-ids"), std::string::npos) << m;
  EXPECT_NE(m.find("'dan'"), std::string::npos) << m;
  // Implicit user rows against 1-based user ids.
  s.user_ids.clear();
  s.interactions = write("x.tsv", "1\t0\n2\t1\n3\t2\n");
  m = message_of([&] { read_embedding_sources(s, d); });
  EXPECT_NE(m.find("--user-ids"), std::string::npos) << m;
  EXPECT_NE(m.find("1-based"), std::string::npos) << m;
  // --user-ids needs --users.
  s = sources(4);
  s.user_ids = write("users.txt", "ann\n");
  EXPECT_THROW(read_embedding_sources(s, d), InvalidArgument);
}

}  // namespace
}  // namespace linsim
