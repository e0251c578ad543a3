// The execution context: no process-wide state changes behind the caller, and results that do
// not depend on the thread count (1, 2 and 3 threads: odd counts catch uneven splits).
#include <gtest/gtest.h>
#include <omp.h>

#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/models/model.h"
#include "linsim/similarity/neighbors.h"
#include "test_util.h"

namespace linsim {
namespace {

Context with_threads(int threads) {
  Context ctx;
  ctx.threads = threads;
  return ctx;
}

TEST(Context, ThreadScopeRestoresTheCallersCountAndStaysInItsThread) {
  const int before = omp_get_max_threads();
  {
    const ThreadScope outer(with_threads(1));
    EXPECT_EQ(omp_get_max_threads(), 1);
    {
      const ThreadScope inner(with_threads(3));
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
  fit_model(X, test::exact_options(ModelKind::kEq2, 5, 1.0), with_threads(1));
  EXPECT_EQ(omp_get_max_threads(), before);
}

// What a binding's Ctrl-C check throws: not a linsim error, so it must cross the library unchanged.
struct Stop {};

// Runs `call` with an interruption check that counts its calls and throws Stop at call `stop_at`
// (0: never); returns the number of calls. Also checks that no call comes from inside a parallel
// region.
template <typename Call>
int count_interruption_points(int stop_at, Call&& call, bool* stopped = nullptr) {
  int calls = 0;
  Context ctx = with_threads(2);
  ctx.interrupt = [&] {
    EXPECT_FALSE(omp_in_parallel());
    if (++calls == stop_at) throw Stop{};
  };
  if (stopped != nullptr) *stopped = false;
  try {
    call(ctx);
  } catch (const Stop&) {
    if (stopped != nullptr) *stopped = true;
  }
  return calls;
}

TEST(Context, LongComputationsReachInterruptionPointsAndStopWithTheCallersException) {
  const SparseMatrix X = test::random_binary(900, 700, 0.05, 4);
  FitOptions krylov = test::exact_options(ModelKind::kEq2, 10, 2.0);
  krylov.solver = Solver::kRandomized;
  FitOptions lanczos = krylov;
  lanczos.solver = Solver::kLanczos;
  const FitOptions ease = test::exact_options(ModelKind::kEase, 0, 10.0);
  FitOptions cosine = test::exact_options(ModelKind::kCosine, 6, 2.0);
  cosine.cosine.epochs = 5;
  const Model eq2 = fit_model(X, krylov, with_threads(2));
  const Matrix F = Matrix::Random(1500, 8);
  std::vector<Index> users(900);
  for (Index u = 0; u < 900; ++u) users[static_cast<size_t>(u)] = u;
  const std::vector<std::pair<const char*, std::function<void(const Context&)>>> calls = {
      {"block Krylov fit", [&](const Context& c) { fit_model(X, krylov, c); }},
      {"Lanczos fit", [&](const Context& c) { fit_model(X, lanczos, c); }},
      {"EASE fit", [&](const Context& c) { fit_model(X, ease, c); }},
      {"cosine fit", [&](const Context& c) { fit_model(X, cosine, c); }},
      {"all-items search", [&](const Context& c) { all_items_top(F, 5, false, Precision::kFloat64, c); }},
      {"recommend", [&](const Context& c) { recommend(eq2, X, users, 5, true, c); }},
  };
  for (const auto& [what, call] : calls) {
    bool stopped = false;
    const int points = count_interruption_points(0, call, &stopped);
    EXPECT_GE(points, 1) << what;
    EXPECT_FALSE(stopped) << what;
    // Stopped at its first point: the caller's own exception comes out.
    count_interruption_points(1, call, &stopped);
    EXPECT_TRUE(stopped) << what;
  }
  // Outside an entry point nothing is called, and the thread count is the caller's again.
  const int before = omp_get_max_threads();
  int outside = 0;
  {
    Context ctx = with_threads(1);
    ctx.interrupt = [&] { ++outside; };
    { const ThreadScope scope(ctx); interruption_point(); }
    interruption_point();
  }
  EXPECT_EQ(outside, 1);
  EXPECT_EQ(omp_get_max_threads(), before);
}

TEST(Context, ThreadCountsOutsideTheBoundAreRefused) {
  EXPECT_THROW(with_threads(-1).thread_count(), InvalidArgument);
  EXPECT_THROW(with_threads(max_threads() + 1).thread_count(), InvalidArgument);
  EXPECT_EQ(with_threads(0).thread_count(), omp_get_num_procs());
  EXPECT_EQ(with_threads(max_threads()).thread_count(), max_threads());
}

TEST(Context, FitsAndNeighboursAreIdenticalForOneTwoAndThreeThreads) {
  const SparseMatrix X = test::random_binary(700, 300, 0.05, 8);
  std::vector<Model> eq2, ease;
  std::vector<NeighborLists> all;
  for (const int threads : {1, 2, 3}) {
    const Context ctx = with_threads(threads);
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
