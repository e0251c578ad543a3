// The execution context: no process-wide state changes behind the caller, and results that do
// not depend on the thread count (1, 2 and 3 threads: odd counts catch uneven splits).
#include <gtest/gtest.h>
#include <omp.h>

#include <thread>

#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/models/model.h"
#include "linsim/similarity/neighbors.h"
#include "test_util.h"

namespace linsim {
namespace {

TEST(Context, ThreadScopeRestoresTheCallersCountAndStaysInItsThread) {
  const int before = omp_get_max_threads();
  {
    const ThreadScope outer(Context{1, 42});
    EXPECT_EQ(omp_get_max_threads(), 1);
    {
      const ThreadScope inner(Context{3, 42});
      EXPECT_EQ(omp_get_max_threads(), 3);
    }
    EXPECT_EQ(omp_get_max_threads(), 1);
    // Another thread of the process keeps its own setting meanwhile.
    int other = 0;
    std::thread([&] { other = omp_get_max_threads(); }).join();
    EXPECT_EQ(other, before);
  }
  EXPECT_EQ(omp_get_max_threads(), before);
  // A library entry point leaves the caller's setting as it found it.
  const SparseMatrix X = test::random_binary(120, 40, 0.2, 3);
  fit_model(X, test::exact_options(ModelKind::kEq2, 5, 1.0), Context{1, 42});
  EXPECT_EQ(omp_get_max_threads(), before);
}

TEST(Context, ThreadCountsOutsideTheBoundAreRefused) {
  EXPECT_THROW(Context({-1, 42}).thread_count(), InvalidArgument);
  EXPECT_THROW(Context({max_threads() + 1, 42}).thread_count(), InvalidArgument);
  EXPECT_EQ(Context({0, 42}).thread_count(), omp_get_num_procs());
  EXPECT_EQ(Context({max_threads(), 42}).thread_count(), max_threads());
}

TEST(Context, FitsAndNeighboursAreIdenticalForOneTwoAndThreeThreads) {
  const SparseMatrix X = test::random_binary(700, 300, 0.05, 8);
  std::vector<Model> eq2, ease;
  std::vector<NeighborLists> all;
  for (const int threads : {1, 2, 3}) {
    const Context ctx{threads, 42};
    FitOptions o = test::exact_options(ModelKind::kEq2, 12, 2.0);
    o.solver = Solver::kRandomized;
    eq2.push_back(fit_model(X, o, ctx));
    ease.push_back(fit_model(X, test::exact_options(ModelKind::kEase, 0, 10.0), ctx));
    all.push_back(all_items_top(eq2.back().item_embeddings, 7, false, Precision::kFloat64, ctx));
  }
  for (size_t t = 1; t < 3; ++t) {
    EXPECT_TRUE(eq2[t].item_embeddings == eq2[0].item_embeddings) << t + 1 << " threads";
    EXPECT_TRUE(eq2[t].user_embeddings == eq2[0].user_embeddings) << t + 1 << " threads";
    EXPECT_TRUE(ease[t].weights == ease[0].weights) << t + 1 << " threads";
    for (size_t i = 0; i < all[0].size(); ++i) {
      ASSERT_EQ(all[t][i].size(), all[0][i].size());
      for (size_t r = 0; r < all[0][i].size(); ++r) {
        EXPECT_EQ(all[t][i][r].index, all[0][i][r].index);
        EXPECT_EQ(all[t][i][r].score, all[0][i][r].score);
      }
    }
  }
}

}  // namespace
}  // namespace linsim
