// The one top-k against a brute-force sort; blocked neighbours and recommendations against
// dense references; results independent of the thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "linsim/similarity/neighbors.h"
#include "linsim/similarity/top_k.h"
#include "test_util.h"

namespace linsim {
namespace {

std::vector<Neighbor> brute_force(const std::vector<double>& s, Index k, const std::vector<int>& excluded) {
  std::vector<Neighbor> all;
  for (Index j = 0; j < static_cast<Index>(s.size()); ++j) {
    if (std::find(excluded.begin(), excluded.end(), j) != excluded.end() || std::isnan(s[j])) continue;
    all.push_back({j, s[static_cast<size_t>(j)]});
  }
  std::stable_sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) { return a.score > b.score; });
  all.resize(std::min<size_t>(all.size(), static_cast<size_t>(k)));
  return all;
}

TEST(TopK, MatchesBruteForceWithTiesExclusionsAndNaN) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> small(0, 5);  // many ties
  for (int trial = 0; trial < 200; ++trial) {
    const Index n = 1 + trial % 37;
    std::vector<double> s(static_cast<size_t>(n));
    for (double& x : s) x = small(rng);
    if (trial % 5 == 0) s[0] = std::nan("");
    std::vector<int> excluded;
    for (int j = 0; j < n; ++j) if (small(rng) == 0) excluded.push_back(j);
    const Index k = 1 + trial % 12;
    const auto got = select_top_k(s.data(), n, k, excluded);
    const auto want = brute_force(s, k, excluded);
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < got.size(); ++r) {
      EXPECT_EQ(got[r].index, want[r].index) << "trial " << trial << " rank " << r;
      EXPECT_EQ(got[r].score, want[r].score);
    }
  }
}

TEST(TopK, KLargerThanNReturnsAll) {
  const std::vector<double> s = {0.5, 0.1, 0.9};
  const auto got = select_top_k(s.data(), 3, 10);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].index, 2);
  EXPECT_EQ(got[2].index, 1);
}

TEST(Neighbors, BlockedAllPairsEqualsBruteForceAndIgnoresThreadCount) {
  const Matrix F = test::random_matrix(2500, 8, 3);  // several blocks of queries
  const auto space = make_factor_space(F);
  std::vector<Index> queries(2500);
  std::iota(queries.begin(), queries.end(), Index{0});
  Context one;
  one.threads = 1;
  Context two;
  two.threads = 2;
  const NeighborLists a = top_neighbors(*space, queries, 7, false, one);
  const NeighborLists b = top_neighbors(*space, queries, 7, false, two);
  const Matrix S = F * F.transpose();
  for (Index q = 0; q < 2500; q += 97) {
    std::vector<double> row(S.row(q).data(), S.row(q).data() + 0);
    row.resize(2500);
    for (Index j = 0; j < 2500; ++j) row[static_cast<size_t>(j)] = S(q, j);
    const auto want = brute_force(row, 7, {static_cast<int>(q)});
    for (size_t r = 0; r < 7; ++r) {
      EXPECT_EQ(a[static_cast<size_t>(q)][r].index, want[r].index);
      EXPECT_NEAR(a[static_cast<size_t>(q)][r].score, want[r].score, 1e-12);
    }
  }
  for (size_t q = 0; q < a.size(); ++q) {
    for (size_t r = 0; r < 7; ++r) {
      EXPECT_EQ(a[q][r].index, b[q][r].index);
      EXPECT_EQ(a[q][r].score, b[q][r].score);
    }
  }
  // include_self: with the dot product of a row with itself usually largest, self can appear.
  const NeighborLists with_self = top_neighbors(*space, {0}, 2500, true, one);
  EXPECT_EQ(with_self[0].size(), 2500u);
}

TEST(Recommend, ExcludesSeenItemsAndMatchesDenseScores) {
  const SparseMatrix X = test::random_binary(40, 15, 0.3, 2);
  FitOptions o;
  o.kind = ModelKind::kEq2;
  o.rank = 4;
  o.lambda = 0.5;
  o.solver = Solver::kGram;
  const Model m = fit_model(X, o, Context{});
  std::vector<Index> users(40);
  std::iota(users.begin(), users.end(), Index{0});
  const NeighborLists lists = recommend(m, X, users, 5, true, Context{});
  const Matrix scores = m.user_embeddings * m.item_embeddings.transpose();
  for (Index u = 0; u < 40; ++u) {
    std::vector<int> seen;
    for (SparseMatrix::InnerIterator it(X, u); it; ++it) seen.push_back(static_cast<int>(it.col()));
    std::vector<double> row(15);
    for (Index j = 0; j < 15; ++j) row[static_cast<size_t>(j)] = scores(u, j);
    const auto want = brute_force(row, 5, seen);
    ASSERT_EQ(lists[static_cast<size_t>(u)].size(), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      EXPECT_EQ(lists[static_cast<size_t>(u)][r].index, want[r].index);
      EXPECT_NEAR(lists[static_cast<size_t>(u)][r].score, want[r].score, 1e-10);
    }
  }
}

}  // namespace
}  // namespace linsim
