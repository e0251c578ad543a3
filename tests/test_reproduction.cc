// The reproduction on (small) simulated data: M1's objective is identical across gauges while
// the cosine AUC differs; projected similarity is identical for every gauge; the M7 metrics
// against hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "linsim/core/error.h"
#include "linsim/evaluate/cluster_quality.h"
#include "linsim/io/json_text.h"
#include "linsim/linalg/spectrum.h"
#include "linsim/models/closed_form.h"
#include "linsim/models/model.h"
#include "linsim/simulate/reproduction.h"
#include "linsim/simulate/simulation.h"
#include "test_util.h"

namespace linsim {
namespace {

TEST(RocAuc, HandComputedWithTies) {
  // positives {0.9, 0.5}, negatives {0.5, 0.1}: pairs (0.9>0.5)=1, (0.9>0.1)=1, (0.5=0.5)=½, (0.5>0.1)=1.
  const double scores[] = {0.9, 0.5, 0.5, 0.1, 42.0};
  const std::vector<signed char> positive = {1, 1, 0, 0, 1};
  EXPECT_DOUBLE_EQ(roc_auc(scores, positive, 5, 4), 3.5 / 4.0);  // index 4 skipped
  const std::vector<signed char> all_positive = {1, 1, 1, 1, 1};
  EXPECT_TRUE(std::isnan(roc_auc(scores, all_positive, 5, -1)));
}

// Against the pairwise definition (each positive–negative pair 1 when the positive scores higher,
// ½ on a tie), on scores with many ties, unlabelled entries (−1) and a skipped index.
TEST(RocAuc, EqualsTheCountOverAllPairs) {
  std::mt19937_64 rng(5);
  for (const Index n : {Index{3}, Index{17}, Index{400}}) {
    std::vector<double> scores(static_cast<size_t>(n));
    std::vector<signed char> positive;  // the first a positive, the last a negative
    for (Index j = 0; j < n; ++j) {
      scores[static_cast<size_t>(j)] = static_cast<double>(rng() % 7) / 3.0;
      const int label = j == 0 ? 1 : j == n - 1 ? 0 : static_cast<int>(rng() % 3) - 1;
      positive.push_back(static_cast<signed char>(label));
    }
    const Index skip = n / 2;
    double wins = 0, pairs = 0;
    for (Index a = 0; a < n; ++a) {
      for (Index b = 0; b < n; ++b) {
        if (a == skip || b == skip || positive[static_cast<size_t>(a)] != 1 || positive[static_cast<size_t>(b)] != 0) {
          continue;
        }
        const double sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
        wins += sa > sb ? 1.0 : sa == sb ? 0.5 : 0.0;
        pairs += 1;
      }
    }
    EXPECT_NEAR(roc_auc(scores.data(), positive, n, skip), wins / pairs, 1e-14) << n;
  }
}

TEST(Percentiles, MidRanks) {
  const Vector v = (Vector(4) << 10, 30, 20, 20).finished();
  const Vector p = percentiles(v);
  EXPECT_DOUBLE_EQ(p(0), 12.5);
  EXPECT_DOUBLE_EQ(p(2), 50.0);
  EXPECT_DOUBLE_EQ(p(3), 50.0);
  EXPECT_DOUBLE_EQ(p(1), 87.5);
}

TEST(ClusterQuality, PerfectAndOppositeSimilarities) {
  const std::vector<int> cluster = {0, 0, 0, 1, 1, 1, -1};
  Matrix onehot = Matrix::Zero(7, 2);
  for (int i = 0; i < 6; ++i) onehot(i, cluster[static_cast<size_t>(i)]) = 1;
  const Vector pop = (Vector(7) << 1, 2, 3, 4, 5, 6, 7).finished();
  const ClusterQuality q = cluster_quality(*make_factor_space(onehot), cluster, pop, 2, Context{});
  EXPECT_DOUBLE_EQ(q.auc, 1.0);
  EXPECT_DOUBLE_EQ(q.precision_at_k, 1.0);
  EXPECT_EQ(q.items_scored, 6);
  const ClusterQuality r =
      cluster_quality(*make_explicit_space(-onehot * onehot.transpose()), cluster, pop, 2, Context{});
  EXPECT_DOUBLE_EQ(r.auc, 0.0);
  EXPECT_DOUBLE_EQ(r.precision_at_k, 0.0);
}

// Regression (hardening issue): with one label for every item the AUC has no negatives and is
// undefined (NaN, printed "undefined"), while precision@k is defined and 1; a label id near
// INT_MAX costs nothing.
TEST(ClusterQuality, MetricsTheLabelsCannotDefineAreUndefinedNotZero) {
  const std::vector<int> one = {2147483647, 2147483647, 2147483647, 2147483647};
  const Vector pop = (Vector(4) << 1, 2, 3, 4).finished();
  const ClusterQuality q = cluster_quality(*make_factor_space(test::random_matrix(4, 2, 5)), one, pop, 2, Context{});
  EXPECT_TRUE(std::isnan(q.auc));
  EXPECT_EQ(q.items_scored, 0);
  EXPECT_DOUBLE_EQ(q.precision_at_k, 1.0);
  EXPECT_EQ(metric_text(q.auc, 3), "undefined");
  EXPECT_EQ(metric_text(0.25, 3), "0.250");
  EXPECT_THROW(cluster_quality(*make_factor_space(test::random_matrix(4, 2, 5)), one, pop, 4, Context{}),
               InvalidArgument);  // k must leave items to rank
  // The reproduction with one cluster: every AUC, and the gauge spread, undefined.
  ReproductionOptions o;
  o.simulation.users = 300;
  o.simulation.items = 40;
  o.simulation.clusters = 1;
  o.seeds = 1;
  o.rank = 3;
  o.lambda_eq1 = 100;
  o.lambda_eq2 = 1;
  o.remedies.enabled = false;
  const ReproductionResult r = reproduce(o, Context{});
  EXPECT_TRUE(std::isnan(r.gauge_spread_auc));
  EXPECT_NE(reproduction_table(r).find("| ground truth | undefined | 1.000 ± undefined |"), std::string::npos)
      << reproduction_table(r);
}

// One seed has no spread: its sd is undefined (null in results.json), not 0. A λ that leaves one
// dimension of a model is reported as fit reports it, naming the seed and the model.
TEST(Reproduction, OneSeedHasNoSdAndAFitWarningIsReported) {
  ReproductionOptions o;
  o.simulation.users = 300;
  o.simulation.items = 40;
  o.simulation.clusters = 3;
  o.seeds = 1;
  o.rank = 3;
  o.lambda_eq1 = 1;
  o.remedies.enabled = false;
  const Simulation sim = simulate(o.simulation, Context{});
  const Spectrum spectrum = top_spectrum(sim.data.X, o.rank, Solver::kAuto, Context{});
  o.lambda_eq2 = 0.5 * (spectrum.sigma(0) + spectrum.sigma(1));  // eq2 keeps σ_1 only
  const ReproductionResult r = reproduce(o, Context{});
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].rfind("seed 42, eq2: λ = ", 0), 0u) << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("leaves 1 of the 3 dimensions"), std::string::npos) << r.warnings[0];
  for (const VariantResult& v : r.variants) EXPECT_TRUE(std::isnan(v.auc.sd)) << v.variant.name;
  const nlohmann::json doc = nlohmann::json::parse(json_text(reproduction_json(r)));  // as results.json reads
  EXPECT_TRUE(doc.at("variants").at(0).at("auc").at("sd").is_null());
  EXPECT_EQ(doc.at("warnings"), nlohmann::json(r.warnings));
  EXPECT_NE(reproduction_markdown(r).find("**Warning:** seed 42, eq2: λ = "), std::string::npos);
  EXPECT_NE(reproduction_table(r).find("| ground truth | 1.000 ± undefined |"), std::string::npos) << reproduction_table(r);
}

class SmallSimulation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SimulationOptions o;
    o.users = 3000;
    o.items = 200;
    o.seed = 7;
    sim_ = new Simulation(simulate(o, Context{}));
  }
  static void TearDownTestSuite() { delete sim_; }
  static Simulation* sim_;
};
Simulation* SmallSimulation::sim_ = nullptr;

TEST_F(SmallSimulation, ObjectiveIdenticalAcrossGaugesWhileAucDiffersAndProjectedDoesNot) {
  const SparseMatrix& X = sim_->data.X;
  const Spectrum spectrum = top_spectrum(X, 20, Solver::kGram, Context{});
  const Matrix XV = X * spectrum.V;
  const double lambda = 2000.0;
  Vector popularity = Vector::Zero(X.cols());
  for (Index q = 0; q < X.nonZeros(); ++q) popularity(X.innerIndexPtr()[q]) += 1;
  std::vector<double> objective, auc;
  Matrix projected_ref;
  for (const std::string gauge : {"item-orthonormal", "symmetric", "input-orthonormal", "balanced", "power:0.8"}) {
    FitOptions f;
    f.kind = ModelKind::kEq1;
    f.gauge = parse_gauge(gauge);
    f.lambda = lambda;
    const Model m = model_from_spectrum(XV, spectrum, f);
    objective.push_back(eq1_objective(X, m.encoder, m.item_embeddings, lambda));
    auc.push_back(cluster_quality(*make_similarity_space(m, X, Side::kItems, Measure::kCosine, Context{}),
                                  sim_->cluster, popularity, 10, Context{}).auc);
    std::vector<Index> all(static_cast<size_t>(X.cols()));
    std::iota(all.begin(), all.end(), Index{0});
    RowMatrix projected;
    make_similarity_space(m, X, Side::kItems, Measure::kProjected, Context{})->score(all, projected);
    if (projected_ref.size() == 0) projected_ref = projected;
    EXPECT_LT((Matrix(projected) - projected_ref).cwiseAbs().maxCoeff(), 1e-9) << gauge;
  }
  for (double f : objective) EXPECT_NEAR(f, objective[0], 1e-9 * objective[0]);
  const auto [lo, hi] = std::minmax_element(auc.begin(), auc.end());
  EXPECT_GT(*hi - *lo, 0.02) << "the gauges should disagree on cluster recovery";
}

TEST(Reproduction, SmallRunWritesEveryOutputWithTheSchema) {
  namespace fs = std::filesystem;
  ReproductionOptions o;
  o.simulation.users = 1500;
  o.simulation.items = 150;
  o.seeds = 2;
  o.rank = 10;
  o.lambda_eq1 = 500;
  o.lambda_eq2 = 10;
  o.remedies.cosine_epochs = 3;  // far from any tolerance: each seed's cosine fit stops at the limit
  const ReproductionResult r = reproduce(o, Context{});
  ASSERT_EQ(r.variants.size(), reproduction_variants().size());
  ASSERT_EQ(r.cosine_fits.size(), 2u);
  for (const Convergence& c : r.cosine_fits) {
    EXPECT_EQ(c.iterations, 3);
    EXPECT_TRUE(c.epoch_limit);
    EXPECT_FALSE(c.converged);
    EXPECT_LT(c.final_objective, c.initial_objective);
  }
  EXPECT_NE(reproduction_markdown(r).find("The cosine-trained model stopped at its iteration limit (--cosine-epochs 3) "
                                          "on 2 of 2 seeds and met its tolerance on 0."),
            std::string::npos)
      << reproduction_markdown(r);
  EXPECT_EQ(r.seeds, (std::vector<std::uint64_t>{42, 43}));
  EXPECT_DOUBLE_EQ(r.variants[0].auc.mean, 1.0);  // ground truth recovers itself
  const test::TempDir scratch;
  const fs::path dir = scratch.path() / "reproduction";
  {
    AtomicDirectory out(dir.string(), false, "results.json");
    write_reproduction(out, r);
    out.commit();
  }
  for (const char* f : {"figure1.png", "figure1-extended.png", "results.json", "results.md"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  std::ifstream in(dir / "results.json");
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc.at("seeds").size(), 2u);
  EXPECT_TRUE(doc.at("options").contains("users"));
  for (const auto& v : doc.at("variants")) {
    for (const char* key : {"name", "model", "gauge", "measure"}) EXPECT_TRUE(v.contains(key)) << key;
    for (const char* key : {"auc", "precision_at_k", "popularity_percentile_at_k"}) {
      EXPECT_TRUE(v.at(key).at("mean").is_number());
      EXPECT_TRUE(v.at(key).at("sd").is_number());
    }
  }
  EXPECT_NEAR(doc.at("gauge_spread_auc").get<double>(), r.gauge_spread_auc, 1e-15);
  ASSERT_EQ(doc.at("cosine_fits").size(), 2u);
  EXPECT_EQ(doc.at("cosine_fits")[1].at("seed"), 43);
  EXPECT_EQ(doc.at("cosine_fits")[1].at("iterations"), 3);
  EXPECT_EQ(doc.at("cosine_fits")[1].at("epoch_limit"), true);
  EXPECT_EQ(doc.at("cosine_fits")[1].at("reason"), "epoch limit reached");
  // The PNG is what it says: signature, and in its header (IHDR: big-endian width and height at
  // bytes 16 and 20) the size of one row of the paper's panels, 320 pixels each with gaps of 24,
  // margins and the colour bar (io/heatmap.cc), title included.
  std::ifstream png(dir / "figure1.png", std::ios::binary);
  unsigned char head[24];
  png.read(reinterpret_cast<char*>(head), 24);
  ASSERT_EQ(png.gcount(), 24);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(head) + 1, 3), "PNG");
  const auto big_endian = [&](int at) {
    return (std::uint32_t{head[at]} << 24) | (std::uint32_t{head[at + 1]} << 16) | (std::uint32_t{head[at + 2]} << 8) |
           std::uint32_t{head[at + 3]};
  };
  std::uint32_t panels = 0;
  for (const auto& v : r.variants) panels += v.variant.in_figure1 ? 1 : 0;
  EXPECT_EQ(panels, 5u);  // the paper's Figure 1
  EXPECT_EQ(big_endian(16), 20 + panels * 320 + (panels - 1) * 24 + 120);
  EXPECT_EQ(big_endian(20), 40 + 34 + 320 + 2 * 20);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace linsim
