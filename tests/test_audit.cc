// linsim audit (include/linsim/audit/audit.h): the acceptance cases on the paper's simulated data
// (eq1 symmetric is gauge-sensitive and unbalanced, eq2 is balanced, canonical exports have
// cosine = projected), identities (dimension 1 has no free scale, orthogonal equal columns have
// effective rank k) and brute-force references (Spearman, hubness, random-pair cosine), input
// readers, and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include "linsim/audit/audit.h"
#include "linsim/audit/report.h"
#include "linsim/core/error.h"
#include "linsim/io/embedding_files.h"
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
  const Matrix partner = projected_partner(m.user_embeddings);
  // The partner reproduces the scores of the unnormalised canonical vectors and is orthonormal.
  const Matrix Craw = projected_factors(m.item_embeddings, m.user_embeddings);
  EXPECT_LT(test::relative_difference(partner * Craw.transpose(), m.user_embeddings * m.item_embeddings.transpose()), 1e-10);
  EXPECT_LT((partner.transpose() * partner - Matrix::Identity(20, 20)).norm(), 1e-9);
  AuditOptions o;
  o.queries = 300;
  const AuditReport r = run_audit(input_of(C, partner), o, Context{});
  ASSERT_TRUE(r.projected_mean_jaccard);
  EXPECT_DOUBLE_EQ(*r.projected_mean_jaccard, 1.0);
  bool said = false;
  for (const auto& s : r.verdict) said = said || s.find("Cosine equals the gauge-free projected") != std::string::npos;
  EXPECT_TRUE(said);
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

TEST(Audit, GeometryMatchesBruteForce) {
  const Index p = 120;
  Matrix B = test::random_matrix(p, 6, 5);
  B.col(0).array() += 2.0;  // a common direction: anisotropic
  AuditOptions o;
  o.top = 4;
  o.random_pairs = 200000;
  const AuditReport r = run_audit(input_of(B), o, Context{});
  const Matrix S = test::cosine_matrix(B);
  // Mean cosine over all pairs i != j.
  const double exact = (S.sum() - S.diagonal().sum()) / static_cast<double>(p * (p - 1));
  EXPECT_NEAR(r.mean_random_cosine, exact, 0.01);
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
  const Matrix M = test::random_matrix(4, 3, 9);
  write_npy_float32((dir_ / "m.npy").string(), M);
  t = read_embeddings((dir_ / "m.npy").string());
  EXPECT_EQ(t.format, "npy");
  EXPECT_LT((t.vectors - M.cast<float>().cast<double>()).norm(), 1e-12);
}

TEST_F(AuditFiles, TruthReaderDetectsClustersAndPairs) {
  AuditInput in = input_of(test::random_matrix(4, 2, 1));
  in.item_ids = IdMap();
  for (const char* w : {"cat", "dog", "car", "bus"}) in.item_ids.add(w);
  read_truth(write("clusters.tsv", "item\tcluster\tpopularity\ncat\t0\t0.5\ndog\t0\t0.2\ncar\t1\t0.1\nyak\t1\t0.3\n"),
             "auto", in);
  EXPECT_EQ(in.clusters, (std::vector<int>{0, 0, 1, -1}));
  EXPECT_EQ(in.notes.size(), 1u);  // yak is unknown
  AuditInput w = input_of(test::random_matrix(4, 2, 1));
  w.item_ids = in.item_ids;
  read_truth(write("ws.tab", "Word 1\tWord 2\tHuman (mean)\nCat\tdog\t7.5\ncar\tbus\t8\ncat\tyak\t1\n"), "auto", w);
  EXPECT_EQ(w.pairs_in_file, 3);
  ASSERT_EQ(w.pairs.size(), 2u);  // Cat matched lower-cased, yak unknown
  EXPECT_EQ(w.pairs[0].a, 0);
  EXPECT_DOUBLE_EQ(w.pairs[1].score, 8.0);
  AuditInput s = input_of(test::random_matrix(4, 2, 1));
  s.item_ids = in.item_ids;
  read_truth(write("simlex.txt", "word1\tword2\tPOS\tSimLex999\tx\ncat\tdog\tN\t3.5\t1\n"), "auto", s);
  ASSERT_EQ(s.pairs.size(), 1u);
  EXPECT_DOUBLE_EQ(s.pairs[0].score, 3.5);
  AuditInput m = input_of(test::random_matrix(4, 2, 1));
  m.item_ids = in.item_ids;
  read_truth(write("men.txt", "cat dog 40.0\ncar bus 45\n"), "auto", m);
  EXPECT_EQ(m.pairs.size(), 2u);
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

}  // namespace
}  // namespace linsim
