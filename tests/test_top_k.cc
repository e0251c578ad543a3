// The one top-k against a brute-force sort; blocked neighbours and recommendations against
// dense references; results independent of the thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "linsim/core/error.h"
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

// The streaming selector gives the brute-force list whatever the order of the offers.
TEST(TopK, SelectorIsIndependentOfOfferOrder) {
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<int> small(0, 9);
  for (int trial = 0; trial < 100; ++trial) {
    const Index n = 1 + trial * 7;
    const Index k = 1 + trial % 23;
    std::vector<double> s(static_cast<size_t>(n));
    for (double& x : s) x = small(rng);
    std::vector<Index> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), Index{0});
    std::shuffle(order.begin(), order.end(), rng);
    TopKSelector<double> selector(k);
    for (Index j : order) selector.offer(j, s[static_cast<size_t>(j)]);
    const auto got = selector.take();
    const auto want = brute_force(s, k, {});
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < got.size(); ++r) EXPECT_EQ(got[r].index, want[r].index) << trial << " " << r;
  }
}

// Large selections, where the buffer is cut many times by the partitioning quickselect (pivots
// among many equal scores, ranges above and below the switch to nth_element): float and double
// selectors against brute force, on continuous and on tied scores.
TEST(TopK, SelectorCutsLargeBuffersExactly) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> few(0, 3);
  for (const Index k : {Index{10}, Index{57}, Index{300}}) {
    for (const bool tied : {false, true}) {
      const Index n = 20000;
      std::vector<double> s(static_cast<size_t>(n));
      for (double& x : s) x = tied ? few(rng) : static_cast<float>(normal(rng));  // exact in float
      TopKSelector<double> d(k);
      TopKSelector<float> f(k);
      for (Index j = 0; j < n; ++j) {
        d.offer(j, s[static_cast<size_t>(j)]);
        f.offer(j, static_cast<float>(s[static_cast<size_t>(j)]));
      }
      const auto want = brute_force(s, k, {});
      const auto got_d = d.take();
      const auto got_f = f.take();
      ASSERT_EQ(got_d.size(), want.size());
      ASSERT_EQ(got_f.size(), want.size());
      for (size_t r = 0; r < want.size(); ++r) {
        ASSERT_EQ(got_d[r].index, want[r].index) << k << " " << tied << " " << r;
        ASSERT_EQ(got_d[r].score, want[r].score);
        ASSERT_EQ(got_f[r].index, want[r].index) << k << " " << tied << " " << r;
        ASSERT_EQ(got_f[r].score, want[r].score);
      }
    }
  }
}

// Offering a pair more than once is outside the contract (take() then returns it more than once),
// but a cut must still end: copies of the pivot leave a partition without progress until the
// bounded passes hand the range to nth_element. The scores are those of the brute force.
TEST(TopK, SelectorEndsOnRepeatedOffers) {
  std::mt19937_64 rng(12);
  std::normal_distribution<double> normal;
  std::vector<double> s(2000);
  for (double& x : s) x = normal(rng);
  std::vector<double> tripled;
  TopKSelector<double> selector(50);
  for (int copy = 0; copy < 3; ++copy) {
    for (Index j = 0; j < 2000; ++j) {
      selector.offer(j, s[static_cast<size_t>(j)]);
      tripled.push_back(s[static_cast<size_t>(j)]);
    }
  }
  const auto got = selector.take();
  const auto want = brute_force(tripled, 50, {});
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < want.size(); ++r) EXPECT_EQ(got[r].score, want[r].score) << r;
}

// The symmetric all-items kernel on integer factors (many exact ties) over several 512-tiles and a
// ragged last tile: in float64 the lists equal brute force exactly, with and without self.
TEST(Neighbors, AllItemsKernelEqualsBruteForceWithTies) {
  const Index p = 1300;
  Matrix F = test::random_matrix(p, 3, 8);
  F = (F * 2.0).array().round();
  const Matrix S = F * F.transpose();
  for (const bool self : {false, true}) {
    for (const Index top : {Index{1}, Index{9}, Index{2000}}) {
      const NeighborLists lists = all_items_top(F, top, self, Precision::kFloat64, Context{});
      for (Index q = 0; q < p; q += 13) {
        std::vector<double> row(static_cast<size_t>(p));
        for (Index j = 0; j < p; ++j) row[static_cast<size_t>(j)] = S(q, j);
        std::vector<int> excluded;
        if (!self) excluded.push_back(static_cast<int>(q));
        const auto want = brute_force(row, top, excluded);
        const auto& got = lists[static_cast<size_t>(q)];
        ASSERT_EQ(got.size(), want.size()) << q;
        for (size_t r = 0; r < want.size(); ++r) {
          ASSERT_EQ(got[r].index, want[r].index) << "query " << q << " rank " << r << " self " << self;
          ASSERT_EQ(got[r].score, want[r].score);
        }
      }
    }
  }
}

// In float32 the kernel's lists are the float64 lists up to rounding: every returned neighbour's
// exact score reaches the exact k-th best (less the float32 error), in order up to that error.
TEST(Neighbors, AllItemsKernelInFloat32IsTheTopUpToRounding) {
  const Index p = 1100;
  const Index top = 20;
  const Matrix F = normalize_rows(test::random_matrix(p, 16, 9));
  const Matrix S = F * F.transpose();
  Context one;
  one.threads = 1;
  const NeighborLists lists = all_items_top(F, top, false, Precision::kFloat32, Context{});
  const NeighborLists lists1 = all_items_top(F, top, false, Precision::kFloat32, one);
  const double eps = 1e-5;
  size_t rounded = 0;
  for (Index q = 0; q < p; ++q) {
    std::vector<double> row(static_cast<size_t>(p));
    for (Index j = 0; j < p; ++j) row[static_cast<size_t>(j)] = S(q, j);
    const auto want = brute_force(row, top, {static_cast<int>(q)});
    const auto& got = lists[static_cast<size_t>(q)];
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < got.size(); ++r) {
      EXPECT_NE(got[r].index, q);
      EXPECT_GE(S(q, got[r].index), want.back().score - eps);
      EXPECT_NEAR(got[r].score, want[r].score, eps);
      EXPECT_NEAR(got[r].score, S(q, got[r].index), eps);
      EXPECT_EQ(static_cast<double>(static_cast<float>(got[r].score)), got[r].score);  // a float's value
      rounded += got[r].score != S(q, got[r].index);
      EXPECT_EQ(got[r].index, lists1[static_cast<size_t>(q)][r].index);
      EXPECT_EQ(got[r].score, lists1[static_cast<size_t>(q)][r].score);
    }
  }
  EXPECT_GT(rounded, static_cast<size_t>(p));  // single precision was used
}

// Queries other than every row in order are scored in float32 too (they were scored in double
// whatever was asked): their lists are the float64 lists up to rounding, the same on one thread
// and two, their scores the float products' (oracle: F's rows rounded to float, products in
// double, within the float sums' error); a space without factors refuses float32.
TEST(Neighbors, AnyQueriesInFloat32AreTheTopUpToRounding) {
  const Index p = 3000;  // with k = 16: chunks of 256 queries, a ragged last one
  const Index top = 15;
  const Matrix F = normalize_rows(test::random_matrix(p, 16, 11));
  const Matrix S = F * F.transpose();
  const Matrix Fr = F.cast<float>().cast<double>();
  const Matrix Sr = Fr * Fr.transpose();
  const auto space = make_factor_space(F);
  std::vector<Index> queries;
  for (Index q = p - 1; q >= 0; q -= 7) queries.push_back(q);  // 429 queries, out of order
  Context one;
  one.threads = 1;
  Context two;
  two.threads = 2;
  for (const bool include_self : {false, true}) {
    const NeighborLists lists = top_neighbors(*space, queries, top, include_self, two, Precision::kFloat32);
    const NeighborLists lists1 = top_neighbors(*space, queries, top, include_self, one, Precision::kFloat32);
    const NeighborLists exact = top_neighbors(*space, queries, top, include_self, two, Precision::kFloat64);
    ASSERT_EQ(lists.size(), queries.size());
    const double eps = 1e-5;
    size_t rounded = 0;
    for (size_t i = 0; i < queries.size(); ++i) {
      const Index q = queries[i];
      ASSERT_EQ(lists[i].size(), static_cast<size_t>(top));
      for (size_t r = 0; r < lists[i].size(); ++r) {
        const Neighbor& got = lists[i][r];
        if (!include_self) {
          EXPECT_NE(got.index, q);
        }
        EXPECT_GE(S(q, got.index), exact[i].back().score - eps);
        EXPECT_NEAR(got.score, exact[i][r].score, eps);
        EXPECT_NEAR(got.score, Sr(q, got.index), 16 * 1e-7);
        EXPECT_EQ(static_cast<double>(static_cast<float>(got.score)), got.score);  // a float's value
        rounded += got.score != exact[i][r].score;
        EXPECT_EQ(got.index, lists1[i][r].index);
        EXPECT_EQ(got.score, lists1[i][r].score);
      }
      if (include_self) {
        EXPECT_EQ(lists[i][0].index, q);
      }
    }
    EXPECT_GT(rounded, queries.size());  // single precision was used
  }
  const auto explicit_space = make_explicit_space(S);
  EXPECT_THROW(top_neighbors(*explicit_space, queries, top, false, two, Precision::kFloat32), InvalidArgument);
}

// The all-items search keeps a selection per row until the end: where those would not fit the
// available memory it is refused with the estimate before allocating them (docs/reliability.md).
TEST(Neighbors, AllItemsTopBeyondTheMemoryIsRefusedBeforeAllocating) {
  const Matrix F = Matrix::Ones(2000000, 1);  // the top 2,000,000 of 2,000,000 rows: ~3e14 bytes
  for (const Precision precision : {Precision::kFloat64, Precision::kFloat32}) {
    try {
      all_items_top(F, F.rows(), false, precision, Context{});
      ADD_FAILURE() << "the search ran";
    } catch (const OutOfMemory& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("the top 2000000 of all 2000000 rows need about "), std::string::npos) << message;
      EXPECT_NE(message.find("use a smaller --top or query a subset"), std::string::npos) << message;
    }
  }
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
