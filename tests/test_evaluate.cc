// MATH.md M7 top-N protocol: metrics on hand-computed cases, a perfect and a random model, the
// popularity baseline recomputed independently, and the split's invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include <Eigen/SVD>
#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/data/metadata.h"
#include "linsim/evaluate/protocol.h"
#include "linsim/evaluate/report.h"
#include "linsim/evaluate/ranking.h"
#include "test_util.h"

namespace linsim {
namespace {

TEST(Ranking, HandComputedRecallAndNdcg) {
  const std::vector<Index> ranked = {3, 1, 4, 0, 2};
  const std::vector<int> target = {1, 5};
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, target, 1), 0.0);
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, target, 2), 0.5);  // 1 hit / min(2, 2)
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, target, 5), 0.5);
  const std::vector<int> one = {4};
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, one, 5), 1.0);     // normalised by min(5, 1)
  const double dcg = 1.0 / std::log2(3.0);                 // item 1 at rank 2
  const double idcg = 1.0 + 1.0 / std::log2(3.0);          // two relevant items
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked, target, 3), dcg / idcg);
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked, std::vector<int>{3}, 3), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked, std::vector<int>{}, 3), 0.0);
  const MeanSe m = mean_and_se({1.0, 2.0, 3.0});
  EXPECT_DOUBLE_EQ(m.mean, 2.0);
  EXPECT_DOUBLE_EQ(m.se, 1.0 / std::sqrt(3.0));
}

// One value has no spread and none has no mean: NaN ("undefined", null in JSON), never a 0 that
// reads as a measured certainty or a measured mean.
TEST(Ranking, OneValueHasNoStandardErrorAndNoneHasNoMean) {
  const MeanSe one = mean_and_se({0.25});
  EXPECT_DOUBLE_EQ(one.mean, 0.25);
  EXPECT_TRUE(std::isnan(one.se));
  const MeanSe none = mean_and_se({});
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_TRUE(std::isnan(none.se));
}

// Where every held-out user has one interaction (kept as fold-in) there is nothing to predict:
// no recall is defined and no model could be chosen, so the split refuses.
TEST(ProtocolSplit, HeldOutUsersWithNothingToPredictAreRefused) {
  std::vector<Eigen::Triplet<double, int>> t;
  for (int u = 0; u < 40; ++u) t.emplace_back(u, u % 7, 1.0);  // one item per user
  SparseMatrix X(40, 7);
  X.setFromTriplets(t.begin(), t.end());
  SplitOptions o;
  o.heldout = 5;
  o.min_interactions = 1;
  try {
    strong_generalization_split(X, o);
    ADD_FAILURE() << "a split with nothing to predict was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no validation user has an item left to predict"), std::string::npos) << e.what();
  }
}

// Held-out users with one interaction keep it as input and have no target: the means are over the
// others, and the summary says so (it gave the held-out count, 20, over means of 6 users). The
// oracle is the count of held-out rows with a target, made here from the split.
TEST(ProtocolSplit, TheSummaryCountsTheUsersTheMeansAreOver) {
  std::vector<Eigen::Triplet<double, int>> t;
  for (int u = 0; u < 60; ++u) {
    const int items = u % 3 == 0 ? 4 : 1;  // a third of the users have a target once held out
    for (int j = 0; j < items; ++j) t.emplace_back(u, (u + 3 * j) % 11, 1.0);
  }
  SparseMatrix X(60, 11);
  X.setFromTriplets(t.begin(), t.end());
  SplitOptions o;
  o.heldout = 15;
  o.min_interactions = 1;
  o.seed = 5;
  const StrongSplit split = strong_generalization_split(X, o);
  const auto with_target = [](const SparseMatrix& target) {
    Index n = 0;
    for (Index r = 0; r < target.rows(); ++r) n += target.row(r).nonZeros() > 0;
    return n;
  };
  const Index test = with_target(split.test_target), valid = with_target(split.valid_target);
  ASSERT_LT(test, 15);
  ASSERT_GT(test, 0);
  const auto results = evaluate_models(split, {"popularity"}, ParamGrid{}, Context{});
  EXPECT_EQ(results[0].test.users, test);
  EXPECT_EQ(results[0].validation.users, valid);
  const std::string summary = evaluation_summary(split, results);
  EXPECT_NE(summary.find(fmt::format("Test users: {} (of 15 held out; the others have no target", test)),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find(fmt::format("chosen on {} (of 15 held out", valid)), std::string::npos) << summary;
}

// MovieLens 100K's genre flag "unknown" is no genre: two films with only it share no label (as
// movies.dat's "(no genres listed)"), and a film with it beside a genre keeps that genre.
TEST(ItemLabelsFiles, TheUnknownGenreOfUItemIsNoLabel) {
  test::TempDir dir;
  const auto flags = [](int genre) {
    std::string f;
    for (int g = 0; g < 19; ++g) f += g == genre ? "|1" : "|0";
    return f;
  };
  std::string both = flags(1);
  both[1] = '1';  // unknown and Action
  std::ofstream(dir.file("u.item")) << "1|A|01-Jan-1995||http://x" << flags(0) << "\n2|B|01-Jan-1995||http://x"
                                    << flags(0) << "\n3|C|01-Jan-1995||http://x" << both << "\n";
  IdMap items;
  for (const char* id : {"1", "2", "3"}) items.add(id);
  const ItemLabels labels = read_item_labels(dir.file("u.item"), items);
  EXPECT_TRUE(labels.labels[0].empty());
  EXPECT_TRUE(labels.labels[1].empty());
  ASSERT_EQ(labels.labels[2].size(), 1u);
  EXPECT_EQ(labels.names[static_cast<size_t>(labels.labels[2][0])], "Action");
}

// A generic label file: blanks around ids and labels are dropped, as around an interaction file's
// fields (was: '0 ' matched no item, silently); an item on several lines has all their labels.
TEST(ItemLabelsFiles, GenericLinesAreTrimmedAndAnItemsLinesAreJoined) {
  test::TempDir dir;
  std::ofstream(dir.file("labels.tsv")) << "item\tlabels\n0 \t c4 | c5\n1\tc4\n1\tc6\n";
  IdMap items;
  for (const char* id : {"0", "1"}) items.add(id);
  const ItemLabels labels = read_item_labels(dir.file("labels.tsv"), items);
  const auto names = [&](Index item) {
    std::vector<std::string> out;
    for (int l : labels.labels[static_cast<size_t>(item)]) out.push_back(labels.names[static_cast<size_t>(l)]);
    return out;
  };
  EXPECT_EQ(names(0), (std::vector<std::string>{"c4", "c5"}));
  EXPECT_EQ(names(1), (std::vector<std::string>{"c4", "c6"}));
}

class Protocol : public ::testing::Test {
 protected:
  void SetUp() override {
    X_ = test::random_binary(1200, 150, 0.08, 21);
    SplitOptions o;
    o.heldout = 200;
    o.seed = 3;
    split_ = strong_generalization_split(X_, o);
  }
  SparseMatrix X_;
  StrongSplit split_;
};

// A test user with K or fewer unseen items has them all in its top K: its Recall@K is 1 whatever
// the model, which the protocol's warnings count (was: the table showed recalls of 1 for every
// model, popularity included, without a word). Counted against the split by brute force.
TEST(ProtocolWarnings, CountTheTestUsersWhoseRecallTheSplitDecides) {
  const SparseMatrix X = test::random_binary(400, 40, 0.55, 8);
  SplitOptions o;
  o.heldout = 60;
  o.seed = 5;
  const StrongSplit split = strong_generalization_split(X, o);
  const std::vector<std::string> warnings = protocol_warnings(split);
  Index scored = 0, within20 = 0;
  for (Index u = 0; u < split.test_fold_in.rows(); ++u) {
    if (split.test_target.row(u).nonZeros() == 0) continue;
    ++scored;
    if (40 - split.test_fold_in.row(u).nonZeros() <= 20) ++within20;
  }
  ASSERT_GT(within20, 0);
  ASSERT_LT(within20, scored);
  ASSERT_EQ(warnings.size(), 2u);  // every user has at most 40 ≤ 50 unseen items
  EXPECT_EQ(warnings[0].rfind(fmt::format("Recall@20 is 1 for {} of the {} test users whatever the model", within20,
                                          scored), 0),
            0u)
      << warnings[0];
  EXPECT_EQ(warnings[1].rfind(fmt::format("Recall@50 is 1 for {0} of the {0} test users", scored), 0), 0u) << warnings[1];
  // Many more items than any user has seen: nothing to say.
  o.heldout = 200;
  EXPECT_TRUE(protocol_warnings(strong_generalization_split(test::random_binary(1200, 150, 0.08, 21), o)).empty());
}

TEST_F(Protocol, SplitInvariants) {
  EXPECT_EQ(split_.valid_users.size(), 200u);
  EXPECT_EQ(split_.test_users.size(), 200u);
  EXPECT_EQ(split_.train_users.size(), 800u);
  std::vector<Index> all = split_.train_users;
  all.insert(all.end(), split_.valid_users.begin(), split_.valid_users.end());
  all.insert(all.end(), split_.test_users.begin(), split_.test_users.end());
  std::sort(all.begin(), all.end());
  for (Index u = 0; u < 1200; ++u) ASSERT_EQ(all[static_cast<size_t>(u)], u);  // a partition
  for (size_t r = 0; r < split_.test_users.size(); ++r) {
    const Index u = split_.test_users[r];
    const auto row = static_cast<Index>(r);
    const Index n_in = split_.test_fold_in.row(row).nonZeros();
    const Index n_out = split_.test_target.row(row).nonZeros();
    const Index n_u = X_.row(u).nonZeros();
    EXPECT_EQ(n_in + n_out, n_u);
    EXPECT_EQ(n_in, static_cast<Index>(std::floor(0.8 * static_cast<double>(n_u))));
    // Together they are exactly the user's items.
    EXPECT_EQ((Matrix(split_.test_fold_in.row(row)) + Matrix(split_.test_target.row(row)) - Matrix(X_.row(u))).norm(), 0.0);
  }
  SplitOptions o;
  o.heldout = 200;
  o.seed = 3;
  const StrongSplit again = strong_generalization_split(X_, o);
  EXPECT_EQ(again.test_users, split_.test_users);
  EXPECT_TRUE(again.test_target.isApprox(split_.test_target, 0.0));
  o.heldout = 700;
  EXPECT_THROW(strong_generalization_split(X_, o), InvalidArgument);
}

TEST_F(Protocol, PerfectModelScoresOne) {
  const SparseMatrix& target = split_.valid_target;
  Index next = 0;  // the oracle knows which block of users it is scoring
  const Scorer oracle = [&](const SparseMatrix& F) {
    Matrix s = Matrix(target.middleRows(next, F.rows()));
    next += F.rows();
    return s;
  };
  const RankingSummary r = evaluate_ranking(oracle, split_.valid_fold_in, target, Context{});
  EXPECT_DOUBLE_EQ(r.recall20.mean, 1.0);
  EXPECT_DOUBLE_EQ(r.recall50.mean, 1.0);
  EXPECT_DOUBLE_EQ(r.ndcg100.mean, 1.0);
}

TEST_F(Protocol, RandomModelMatchesItsExpectation) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  const Scorer random = [&](const SparseMatrix& F) {
    Matrix s(F.rows(), F.cols());
    for (Index i = 0; i < s.size(); ++i) s.data()[i] = u(rng);
    return s;
  };
  // Expected Recall@k of a random ranking of m candidates with t targets: k t / (m min(k, t)).
  const SparseMatrix& in = split_.valid_fold_in;
  const SparseMatrix& out = split_.valid_target;
  double expected = 0;
  Index users = 0;
  for (Index r = 0; r < in.rows(); ++r) {
    const double t = static_cast<double>(out.row(r).nonZeros());
    if (t == 0) continue;
    const double m = static_cast<double>(in.cols() - in.row(r).nonZeros());
    expected += 20.0 * t / (m * std::min(20.0, t));
    ++users;
  }
  expected /= static_cast<double>(users);
  // The mean of 800 evaluations, within 4 standard errors of it (measured: one evaluation's
  // sd ~0.015, so ~0.0005 for the mean). Ranking the user's fold-in items too would give an
  // expectation ~0.009 lower (m = all items), which this resolves.
  std::vector<double> runs;
  for (int k = 0; k < 800; ++k) runs.push_back(evaluate_ranking(random, in, out, Context{}).recall20.mean);
  double observed = 0, square = 0;
  for (double x : runs) observed += x;
  observed /= static_cast<double>(runs.size());
  for (double x : runs) square += (x - observed) * (x - observed);
  const double standard_error = std::sqrt(square / static_cast<double>(runs.size() - 1) / static_cast<double>(runs.size()));
  EXPECT_LT(standard_error, 0.001);
  EXPECT_NEAR(observed, expected, 4 * standard_error);
}

// A misspelt model name is a usage error before any model runs, not after the ones before it.
TEST_F(Protocol, AnUnknownModelIsRefusedBeforeAnyModelIsEvaluated) {
  std::vector<std::string> said;
  const ProgressFn progress = [&](const std::string& s) { said.push_back(s); };
  try {
    evaluate_models(split_, {"popularity", "eq2", "nonsense"}, ParamGrid{}, Context{}, progress);
    ADD_FAILURE() << "an unknown model was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'nonsense'"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(said.empty()) << said.front();
}

// itemknn and EASE need dense items × items matrices: beyond the available memory they are refused
// with the estimate before any model runs (docs/reliability.md, "beyond the available memory").
TEST(ProtocolMemory, DenseItemModelsBeyondTheMemoryAreRefusedBeforeAnyModelRuns) {
  const Index p = 400000;  // three dense p × p double matrices: 3.84 TB
  StrongSplit split;
  std::vector<Eigen::Triplet<double>> t = {{0, 0, 1.0}, {1, 1, 1.0}, {2, p - 1, 1.0}};
  split.train = SparseMatrix(3, p);
  split.train.setFromTriplets(t.begin(), t.end());
  for (SparseMatrix* m : {&split.valid_fold_in, &split.valid_target, &split.test_fold_in, &split.test_target}) {
    *m = SparseMatrix(1, p);
  }
  for (const char* model : {"itemknn", "ease"}) {
    std::vector<std::string> said;
    const ProgressFn progress = [&](const std::string& s) { said.push_back(s); };
    try {
      evaluate_models(split, {"popularity", model}, ParamGrid{}, Context{}, progress);
      ADD_FAILURE() << model << " was evaluated on " << p << " items";
    } catch (const OutOfMemory& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::string("evaluating ") + model + " on 400000 items needs about "), std::string::npos)
          << message;
      EXPECT_NE(message.find("leave it out of --models"), std::string::npos) << message;
    }
    EXPECT_TRUE(said.empty()) << said.front();
  }
}

TEST_F(Protocol, PopularityBaselineRecomputedIndependently) {
  ParamGrid grid;
  const auto results = evaluate_models(split_, {"popularity"}, grid, Context{});
  ASSERT_EQ(results.size(), 1u);
  // Independent: count training users per item, rank unseen items by count (ties: lower index).
  std::vector<double> count(150, 0.0);
  for (Index u = 0; u < split_.train.rows(); ++u)
    for (SparseMatrix::InnerIterator it(split_.train, u); it; ++it) count[static_cast<size_t>(it.col())] += 1;
  double ndcg = 0;
  Index users = 0;
  for (Index r = 0; r < split_.test_fold_in.rows(); ++r) {
    std::vector<Index> candidates;
    for (Index j = 0; j < 150; ++j)
      if (split_.test_fold_in.coeff(r, j) == 0) candidates.push_back(j);
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](Index a, Index b) { return count[static_cast<size_t>(a)] > count[static_cast<size_t>(b)]; });
    double dcg = 0, idcg = 0;
    Index t = 0;
    for (size_t q = 0; q < std::min<size_t>(100, candidates.size()); ++q)
      if (split_.test_target.coeff(r, candidates[q]) != 0) dcg += 1 / std::log2(static_cast<double>(q) + 2);
    t = split_.test_target.row(r).nonZeros();
    if (t == 0) continue;
    for (Index q = 0; q < std::min<Index>(100, t); ++q) idcg += 1 / std::log2(static_cast<double>(q) + 2);
    ndcg += dcg / idcg;
    ++users;
  }
  EXPECT_NEAR(results[0].test.ndcg100.mean, ndcg / static_cast<double>(users), 1e-12);
}

TEST_F(Protocol, ModelsBeatPopularityOnStructuredData) {
  // Clustered data: users take items of "their" block, so models that use co-occurrence win.
  std::mt19937_64 rng(8);
  std::vector<Eigen::Triplet<double, int>> t;
  for (int u = 0; u < 1500; ++u) {
    const int block = u % 5;
    for (int j = 0; j < 100; ++j) {
      const bool inside = j / 20 == block;
      if (std::bernoulli_distribution(inside ? 0.4 : 0.02)(rng)) t.emplace_back(u, j, 1.0);
    }
  }
  SparseMatrix X(1500, 100);
  X.setFromTriplets(t.begin(), t.end());
  SplitOptions o;
  o.heldout = 200;
  const StrongSplit s = strong_generalization_split(X, o);
  const auto results = evaluate_models(s, {"popularity", "itemknn", "eq2", "ease"},
                                       parse_grid("rank=5,10 eq2.lambda=1,5 ease.lambda=10,100"), Context{});
  const double pop = results[0].test.ndcg100.mean;
  for (size_t m = 1; m < results.size(); ++m) EXPECT_GT(results[m].test.ndcg100.mean, pop + 0.05) << results[m].name;
  EXPECT_EQ(results[2].trials.size(), 4u);
}

TEST(Grid, ParsesOverridesAndRejectsNonsense) {
  const ParamGrid g = parse_grid("rank=50,100 lambda=1 eq1.lambda=1000,10000");
  const auto eq1 = grid_points("eq1", g, 500);
  EXPECT_EQ(eq1.size(), 4u);
  EXPECT_EQ(grid_points("eq2", g, 500).size(), 2u);
  EXPECT_EQ(grid_points("ease", g, 500).size(), 1u);
  EXPECT_EQ(grid_points("popularity", g, 500).size(), 1u);
  EXPECT_THROW(grid_points("eq2", g, 60), InvalidArgument);  // rank 100 > 60 items: refused, never dropped
  EXPECT_EQ(grid_points("eq2", parse_grid("lambda=1"), 60).size(), 1u);  // default ranks 100, 200 left out
  EXPECT_THROW(grid_points("eq2", parse_grid("lambda=1"), 40), InvalidArgument);  // no default rank fits
  EXPECT_THROW(parse_grid("rank=5,"), InvalidArgument);  // a trailing comma is an empty value
  EXPECT_THROW(parse_grid("  "), InvalidArgument);
  EXPECT_THROW(parse_grid("rank=0x10"), InvalidArgument);  // decimal only
  EXPECT_EQ(parse_grid("lambda=1e-310").at("").at("lambda").front(), 1e-310);  // a subnormal is a number
  EXPECT_THROW(parse_grid("rank"), InvalidArgument);
  EXPECT_THROW(parse_grid("rank=abc"), InvalidArgument);
  EXPECT_THROW(parse_grid("rank=1e300"), InvalidArgument);  // never converted to an integer
  EXPECT_THROW(parse_grid("lambda=-1"), InvalidArgument);
  EXPECT_THROW(parse_grid("eq2.lambda=1e-400"), InvalidArgument);  // was: evaluated as λ = 0
  EXPECT_THROW(parse_grid("lambda=1e400"), InvalidArgument);
  EXPECT_EQ(parse_grid("lambda=0e-999,1e-310").at("").at("lambda"), (std::vector<double>{0, 1e-310}));  // 0 and subnormal are numbers
  EXPECT_THROW(parse_grid("eq9.lambda=1"), InvalidArgument);
  EXPECT_THROW(parse_grid("alpha=1"), InvalidArgument);
  EXPECT_THROW(grid_points("svd", g, 10), InvalidArgument);
}

// A fraction of held-out users that rounds to none says so, and a fit a grid point cannot have
// (a rank above the data's) names the grid point, since evaluate has no --rank of its own.
TEST(ProtocolSplit, ARoundedAwayHoldOutAndAnImpossibleGridPointAreNamed) {
  std::vector<Eigen::Triplet<double, int>> t;
  for (int u = 0; u < 300; ++u) {
    for (int j = 0; j < 12; ++j) {
      if ((u * 7 + j * 3) % 5 < 2) {  // items j and j + 6 alike: rank at most 6
        t.emplace_back(u, j, 1.0);
        t.emplace_back(u, j + 6 < 12 ? j + 6 : j - 6, 1.0);
      }
    }
  }
  SparseMatrix X(300, 12);
  X.setFromTriplets(t.begin(), t.end(), [](double a, double) { return a; });
  SplitOptions o;
  o.heldout = 0.001;
  o.min_interactions = 2;
  try {
    strong_generalization_split(X, o);
    ADD_FAILURE() << "a hold-out of 0 users was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("--heldout-users 0.001 of the 300 users rounds down to 0 users"), std::string::npos)
        << e.what();
  }
  o.heldout = 30;
  o.min_interactions = -1;
  EXPECT_THROW(strong_generalization_split(X, o), InvalidArgument);
  o.min_interactions = 2;
  const StrongSplit split = strong_generalization_split(X, o);
  try {
    evaluate_models(split, {"eq2"}, parse_grid("rank=10 lambda=0.1"), Context{}, {});
    ADD_FAILURE() << "a rank above the data's was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("eq2 at the grid point lambda=0.1 rank=10: ", 0), 0u) << e.what();
  }
}

std::string grid_refusal(const std::string& grid, const std::vector<std::string>& models) {
  try {
    check_grid_applies(parse_grid(grid), models);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

// A grid key that would change nothing, or be evaluated twice, is refused: silently dropping it
// (or keeping only its last spelling) would report a grid that was never tried.
TEST(Grid, AKeyThatChangesNothingOrIsGivenTwiceIsRefused) {
  const std::vector<std::string> eq = {"eq1", "eq2"};
  EXPECT_EQ(grid_refusal("rank=5 eq1.lambda=1 eq2.lambda=1", eq), "");
  EXPECT_EQ(grid_refusal("rank=5 eq1.rank=10", eq), "");  // eq2 still takes the bare rank
  EXPECT_NE(grid_refusal("ease.rank=5", {"ease"}).find("ease has no parameter 'rank' (it has lambda)"), std::string::npos);
  EXPECT_NE(grid_refusal("popularity.lambda=5", {"popularity"}).find("it has none"), std::string::npos);
  EXPECT_NE(grid_refusal("sppmi.rank=5", eq).find("'sppmi.rank' names a model not in --models (eq1,eq2)"), std::string::npos);
  EXPECT_NE(grid_refusal("negatives=2", eq).find("'negatives' changes none of --models (eq1,eq2)"), std::string::npos);
  EXPECT_NE(grid_refusal("rank=5 eq1.rank=10", {"eq1"}).find("each that takes it has its own"), std::string::npos);
  EXPECT_NE(grid_refusal("", {"eq2", "eq2"}).find("--models: 'eq2' is given twice"), std::string::npos);
  EXPECT_NE(grid_refusal("lambda=10", {"popularity", "nonsense"}).find("unknown model 'nonsense'"), std::string::npos);
  EXPECT_NE(grid_refusal("eq1.rank=5", {"nonsense"}).find("unknown model 'nonsense'"), std::string::npos);
  EXPECT_THROW(parse_grid("lambda=1 lambda=2"), InvalidArgument);
  EXPECT_THROW(parse_grid("eq1.lambda=1 eq1.lambda=2"), InvalidArgument);
  EXPECT_NO_THROW(parse_grid("lambda=1 eq1.lambda=2"));  // an override, not a repeat
  EXPECT_THROW(parse_grid("rank=5,5"), InvalidArgument);
  EXPECT_THROW(parse_grid("lambda=10,1e1"), InvalidArgument);  // one value, two spellings
}

// evaluate_models checks the grid against its models before any model runs.
TEST_F(Protocol, AGridKeyForNoEvaluatedModelIsRefusedBeforeAnyModelRuns) {
  std::vector<std::string> said;
  const ProgressFn progress = [&](const std::string& s) { said.push_back(s); };
  EXPECT_THROW(evaluate_models(split_, {"popularity", "eq2"}, parse_grid("ease.lambda=5"), Context{}, progress),
               InvalidArgument);
  EXPECT_TRUE(said.empty()) << said.front();
}

// The chosen grid point's λ leaving one dimension (σ_1 > λ ≥ σ_2: every user's ranking is one item
// order) is reported with its point; two dimensions left is what tuning may choose, and is not.
TEST_F(Protocol, AChosenPointThatLeavesOneDimensionIsReported) {
  Eigen::JacobiSVD<Matrix> svd(Matrix(split_.train));
  const Vector sigma = svd.singularValues();
  for (const Index kept : {1, 2}) {
    const double lambda = 0.5 * (sigma(kept - 1) + sigma(kept));  // eq2 keeps σ_i > λ
    const std::string grid = fmt::format("rank=3 eq2.lambda={:.17g} eq1.lambda=1", lambda);
    const auto results = evaluate_models(split_, {"eq1", "eq2"}, parse_grid(grid), Context{});
    ASSERT_EQ(results.size(), 2u);
    EXPECT_TRUE(results[0].warnings.empty()) << results[0].warnings.front();  // eq1 at λ = 1 keeps all 3
    if (kept == 2) {
      EXPECT_TRUE(results[1].warnings.empty()) << results[1].warnings.front();
      continue;
    }
    ASSERT_EQ(results[1].warnings.size(), 1u);
    const std::string& w = results[1].warnings.front();
    EXPECT_EQ(w.rfind(fmt::format("eq2 at the chosen grid point lambda={:g} rank=3: λ = ", lambda), 0), 0u) << w;
    EXPECT_NE(w.find("leaves 1 of the 3 dimensions"), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace linsim
