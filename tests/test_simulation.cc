// MATH.md M8: the simulation follows its specification (cluster shares, per-cluster power laws,
// activity law), is deterministic per seed and independent of the thread count.
#include <gtest/gtest.h>

#include <set>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_util.h"
#include "linsim/audit/audit.h"
#include "linsim/core/error.h"
#include "linsim/simulate/simulation.h"

namespace linsim {
namespace {

// Slope of log F(x) on log x for the empirical CDF: the exponent β of x^β.
double loglog_exponent(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const double m = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double lx = std::log(x[i]);
    const double ly = std::log((static_cast<double>(i) + 0.5) / m);
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

TEST(Simulation, ClusterSharesFollowTheirProbabilities) {
  SimulationOptions o;
  o.users = 200;
  o.items = 20000;
  o.clusters = 5;
  o.seed = 3;
  const Simulation sim = simulate(o, Context{});
  EXPECT_NEAR(sim.cluster_probability.sum(), 1.0, 1e-12);
  for (Index c = 0; c < 5; ++c) {
    const double share = static_cast<double>(std::count(sim.cluster.begin(), sim.cluster.end(), c)) / 20000.0;
    const double pc = sim.cluster_probability(c);
    EXPECT_NEAR(share, pc, 4.0 * std::sqrt(pc * (1 - pc) / 20000.0) + 1e-9) << "cluster " << c;
    EXPECT_GE(sim.cluster_beta(c), 0.25);
    EXPECT_LE(sim.cluster_beta(c), 1.5);
  }
}

TEST(Simulation, PerClusterPopularityExponentsAreRecovered) {
  SimulationOptions o;
  o.users = 100;
  o.items = 20000;
  o.seed = 11;
  const Simulation sim = simulate(o, Context{});
  int checked = 0;
  for (Index c = 0; c < o.clusters; ++c) {
    std::vector<double> pop;
    for (Index i = 0; i < o.items; ++i) {
      if (sim.cluster[static_cast<size_t>(i)] == c) pop.push_back(sim.popularity(i));
    }
    if (pop.size() < 500) continue;
    const double beta = sim.cluster_beta(c);
    EXPECT_NEAR(loglog_exponent(pop), beta, 0.1 * beta) << "cluster " << c << " with " << pop.size() << " items";
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST(Simulation, ActivityFollowsThePowerLawAndSamplesAreValid) {
  SimulationOptions o;
  o.users = 20000;
  o.items = 400;
  o.seed = 5;
  const Simulation sim = simulate(o, Context{});
  // P(k_u <= t) = P(ceil(p U^2) <= t) = (t / p)^{1/2} for integer t.
  double ks = 0;
  for (Index t = 1; t <= o.items; t += 7) {
    const double empirical = static_cast<double>(std::count_if(sim.activity.begin(), sim.activity.end(),
                                                               [&](Index k) { return k <= t; })) / 20000.0;
    ks = std::max(ks, std::abs(empirical - std::sqrt(static_cast<double>(t) / o.items)));
  }
  EXPECT_LT(ks, 0.015);
  const SparseMatrix& X = sim.data.X;
  for (Index u = 0; u < X.rows(); ++u) {
    ASSERT_EQ(X.outerIndexPtr()[u + 1] - X.outerIndexPtr()[u], sim.activity[static_cast<size_t>(u)]);
    for (int q = X.outerIndexPtr()[u] + 1; q < X.outerIndexPtr()[u + 1]; ++q) {
      ASSERT_LT(X.innerIndexPtr()[q - 1], X.innerIndexPtr()[q]);  // sorted, no repeats
    }
  }
  EXPECT_EQ(X.sum(), static_cast<double>(X.nonZeros()));
}

TEST(Simulation, ItemsAreDrawnInProportionToPreferenceAndPopularity) {
  // One cluster, popularity known: the first draw of a user is item i with probability ∝ p_i,
  // so over many single-item users the counts follow p_i (chi-square-like check).
  SimulationOptions o;
  o.users = 200000;
  o.items = 20;
  o.clusters = 1;
  o.max_items_per_user = 1;
  o.seed = 9;
  const Simulation sim = simulate(o, Context{});
  Vector counts = Vector::Zero(20);
  for (Index q = 0; q < sim.data.X.nonZeros(); ++q) counts(sim.data.X.innerIndexPtr()[q]) += 1;
  const Vector expected = sim.popularity / sim.popularity.sum() * 200000.0;
  for (Index i = 0; i < 20; ++i) EXPECT_NEAR(counts(i), expected(i), 5.0 * std::sqrt(expected(i)) + 1) << i;
}

TEST(Simulation, SameSeedSameDataAnyThreadCount) {
  SimulationOptions o;
  o.users = 3000;
  o.items = 300;
  o.seed = 17;
  Context one;
  one.threads = 1;
  Context two;
  two.threads = 2;
  const Simulation a = simulate(o, one);
  const Simulation b = simulate(o, two);
  EXPECT_TRUE(a.data.X.isApprox(b.data.X, 0.0));
  EXPECT_EQ(a.data.X.nonZeros(), b.data.X.nonZeros());
  EXPECT_TRUE(std::equal(a.data.X.innerIndexPtr(), a.data.X.innerIndexPtr() + a.data.X.nonZeros(),
                         b.data.X.innerIndexPtr()));
  EXPECT_EQ(a.cluster, b.cluster);
  EXPECT_TRUE(a.popularity == b.popularity);
  o.seed = 18;
  const Simulation c = simulate(o, one);
  EXPECT_NE(a.cluster, c.cluster);
}

TEST(Simulation, FilesAreIdenticalForTheSameSeedAndTruthReadsBack) {
  namespace fs = std::filesystem;
  const test::TempDir scratch;
  const fs::path dir = scratch.path();
  SimulationOptions o;
  o.users = 500;
  o.items = 100;
  const Simulation sim = simulate(o, Context{});
  {
    std::ofstream a(dir / "a.tsv");
    write_simulated_interactions(a, sim);
    std::ofstream b(dir / "b.tsv");
    write_simulated_interactions(b, simulate(o, Context{}));
  }
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  EXPECT_EQ(slurp(dir / "a.tsv"), slurp(dir / "b.tsv"));
  {
    std::ofstream truth(dir / "truth.tsv");
    write_truth(truth, sim);
  }
  // The truth file reads back through the audit's reader (the one `linsim audit --truth` uses),
  // which numbers clusters in order of first appearance: the same partition of the items.
  AuditInput in;
  in.item_ids = sim.data.items;
  read_truth((dir / "truth.tsv").string(), "auto", in);
  ASSERT_EQ(in.clusters.size(), sim.cluster.size());
  std::map<int, int> read_to_simulated, simulated_to_read;
  for (size_t i = 0; i < sim.cluster.size(); ++i) {
    ASSERT_GE(in.clusters[i], 0) << i;
    EXPECT_EQ(read_to_simulated.emplace(in.clusters[i], sim.cluster[i]).first->second, sim.cluster[i]) << i;
    EXPECT_EQ(simulated_to_read.emplace(sim.cluster[i], in.clusters[i]).first->second, in.clusters[i]) << i;
  }
}

TEST(Simulation, RejectsInvalidOptions) {
  SimulationOptions o;
  o.users = 0;
  EXPECT_THROW(simulate(o, Context{}), InvalidArgument);
  o = {};
  o.clusters = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = {};
  o.beta_min = 2;
  o.beta_max = 1;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = {};
  o.user_beta = -1;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

// A tiny concentration makes Dirichlet shares one-hot: every item in one cluster, each user's
// items in one cluster (was: all Gamma(α) draws underflowed and the shares came out uniform, the
// opposite). The smallest β allowed gives no item a popularity of 0 (was: 0.01 gave 63 of
// 100,000 items popularity 0, which no user could draw), and a smaller one is refused.
TEST(Simulation, TinyConcentrationsAreOneHotAndTheSmallestBetaKeepsEveryItemDrawable) {
  for (const std::uint64_t seed : {1, 2, 3}) {
    SimulationOptions o;
    o.users = 300;
    o.items = 400;
    o.clusters = 5;
    o.seed = seed;
    o.cluster_concentration = 1e-10;
    o.preference_concentration = 1e-300;
    const Simulation sim = simulate(o, Context{});
    EXPECT_EQ(std::set<int>(sim.cluster.begin(), sim.cluster.end()).size(), 1u) << seed;
    EXPECT_NEAR(sim.cluster_probability.maxCoeff(), 1.0, 1e-12);
  }
  SimulationOptions o;
  o.users = 500;
  o.items = 100000;
  o.clusters = 2;
  o.beta_min = o.beta_max = kMinBeta;
  o.activity_scale = 50;
  const Simulation sim = simulate(o, Context{});
  EXPECT_GT(sim.popularity.minCoeff(), 0.0);
  o.beta_min = o.beta_max = 0.04;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

// Regression (hardening issue): an activity scale far beyond the items is clamped in floating
// point (every user then takes every item) instead of overflowing an integer, and a simulation
// beyond 2^31 − 1 interactions is refused before any item is drawn.
TEST(Simulation, HugeActivityIsClampedAndTooManyInteractionsRefused) {
  SimulationOptions o;
  o.users = 50;
  o.items = 30;
  o.activity_scale = 1e20;
  const Simulation sim = simulate(o, Context{});
  EXPECT_EQ(sim.data.nnz(), 50 * 30);
  o.users = 100000;
  o.items = 100000;
  o.activity_scale = 0;
  try {
    simulate(o, Context{});
    ADD_FAILURE() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("more than the 2^31 - 1 supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace linsim
