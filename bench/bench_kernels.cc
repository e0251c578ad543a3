// Kernel benchmarks (google-benchmark). Results and the machine they ran on: bench/README.md.
#include <benchmark/benchmark.h>

#include <Eigen/Eigenvalues>

#include <omp.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>
#include <vector>

#include "linsim/core/memory.h"
#include "linsim/data/readers.h"
#include "linsim/linalg/data_matrix.h"
#include "linalg/gemm.h"
#include "linalg/products.h"
#include "linsim/linalg/gram.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/neighbors.h"
#include "linsim/similarity/top_k.h"
#include "linsim/simulate/simulation.h"

namespace linsim {
namespace {

Matrix random_factors(Index rows, Index cols) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z;
  Matrix F(rows, cols);
  for (Index i = 0; i < F.size(); ++i) F.data()[i] = z(rng);
  return F;
}

SparseMatrix random_interactions(Index n, Index p, Index per_user) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> item(0, static_cast<int>(p) - 1);
  std::vector<Eigen::Triplet<double, int>> t;
  for (Index u = 0; u < n; ++u)
    for (Index e = 0; e < per_user; ++e) t.emplace_back(static_cast<int>(u), item(rng), 1.0);
  SparseMatrix X(n, p);
  X.setFromTriplets(t.begin(), t.end(), [](double a, double) { return a; });
  return X;
}

// All-items top-N cosine neighbours: p items, k dimensions (the symmetric kernel: GEMM tiles on
// and above the diagonal + running selection), in float64 (0) or float32 (1). GFLOP/s counts the
// p² k flops actually done; BM_AllItemsProduct times the tile GEMMs alone (the same tiles, in
// another order, without the selection).
void BM_AllItemsTopN(benchmark::State& state) {
  const Index p = state.range(0);
  const Index k = state.range(1);
  const Index top = state.range(2);
  const auto precision = state.range(3) == 1 ? Precision::kFloat32 : Precision::kFloat64;
  const auto space = make_factor_space(normalize_rows(random_factors(p, k)));
  std::vector<Index> queries(static_cast<size_t>(p));
  std::iota(queries.begin(), queries.end(), Index{0});
  for (auto _ : state) {
    benchmark::DoNotOptimize(top_neighbors(*space, queries, top, false, Context{}, precision));
  }
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(p) * p * k * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AllItemsTopN)->ArgNames({"p", "k", "top", "f32"})->Args({20000, 200, 100, 0})->Args({20000, 200, 100, 1})
    ->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// One cut of the selection's buffer (TopKSelector::keep_best): 400 random float scores offered to
// a top-100 selection, whose 400th offer fills the buffer of 4 × 100 and cuts it back to 100. With
// 399 offers there is no cut: the difference of the two rows is the cut's cost.
void BM_TopKCut(benchmark::State& state) {
  const Index offers = state.range(0);
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> scores(static_cast<size_t>(offers) * 64);
  for (float& x : scores) x = normal(rng);
  size_t round = 0;
  for (auto _ : state) {
    TopKSelector<float> selector(100);
    const float* x = scores.data() + (round++ % 64) * static_cast<size_t>(offers);
    for (Index j = 0; j < offers; ++j) selector.offer(j, x[j]);
    benchmark::DoNotOptimize(selector.threshold());
  }
}
BENCHMARK(BM_TopKCut)->Arg(399)->Arg(400)->Unit(benchmark::kMicrosecond);

// The product part of BM_AllItemsTopN alone: the same 512 × 512 tiles on and above the diagonal,
// the same single-threaded GEMM (linalg/gemm.h) spread over the threads, in float32 (row of tiles
// by row, where the search goes diagonal by diagonal in waves).
void BM_AllItemsProduct(benchmark::State& state) {
  const Index p = state.range(0);
  const Index k = state.range(1);
  constexpr Index kTile = 512;
  using Dense = Eigen::MatrixXf;
  const Dense Ft = normalize_rows(random_factors(p, k)).transpose().cast<float>();
  const Index blocks = (p + kTile - 1) / kTile;
  for (auto _ : state) {
#pragma omp parallel
    {
      Dense T(kTile, kTile);
#pragma omp for schedule(dynamic, 1) collapse(2)
      for (Index I = 0; I < blocks; ++I) {
        for (Index J = 0; J < blocks; ++J) {
          if (J < I) continue;
          const Index i0 = I * kTile, h = std::min(kTile, p - i0);
          const Index j0 = J * kTile, w = std::min(kTile, p - j0);
          gemm<float>(true, false, h, w, k, 1.0f, Ft.data() + i0 * k, k, Ft.data() + j0 * k, k, 0.0f, T.data(), kTile);
          benchmark::DoNotOptimize(T.data());
        }
      }
    }
  }
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(p) * p * k * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(gemm_backend());
}
BENCHMARK(BM_AllItemsProduct)->Args({20000, 200})->Unit(benchmark::kMillisecond)->UseRealTime();

// The Gram operator v ↦ Xᵀ(Xv) on a 138k × 20k matrix with ~10M nonzeros.
void BM_GramOperator(benchmark::State& state) {
  const SparseMatrix X = random_interactions(138000, 20000, 72);
  const DataMatrix data(X);
  GramOperator op(data);
  Vector x = Vector::Ones(20000);
  Vector y(20000);
  for (auto _ : state) {
    op.perform_op(x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["nnz"] = static_cast<double>(X.nonZeros());
}
BENCHMARK(BM_GramOperator)->Unit(benchmark::kMillisecond)->UseRealTime();

// The block operator V ↦ Xᵀ(XV) the randomized solver applies, on the same data, for blocks of
// 1, 4, 8 and 16 vectors, and 16 on single-precision blocks (the solver's mixed-precision products;
// second argument 1). Row-major kernels; ms per vector is the figure to compare.
void BM_GramBlock(benchmark::State& state) {
  static const SparseMatrix X = random_interactions(138000, 20000, 72);
  const DataMatrix data(X);
  const Index b = state.range(0);
  const bool float32 = state.range(1) != 0;
  const RowMatrix V = random_factors(20000, b);
  for (auto _ : state) benchmark::DoNotOptimize(data.gram_times_rows(V, float32).data());
  state.counters["ms/vector"] = benchmark::Counter(
      static_cast<double>(b), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * static_cast<double>(X.nonZeros()) * b * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  if (b < 4) return;  // a single vector goes through the two-pass kernels (data_matrix.h)
  // Bytes the one-pass kernel moves per product: the index array once (the values too unless all
  // are 1), and per nonzero one gathered row of V and one accumulator row read and written — the
  // rows from cache, not memory (BM_RandomRows is their floor).
  const double nnz = static_cast<double>(X.nonZeros());
  const double index_bytes = nnz * (data.unit_values() ? 4.0 : 12.0);
  const double row_bytes = nnz * static_cast<double>(b) * ((float32 ? 4.0 : 8.0) + 16.0);
  state.counters["stream GB/s"] = benchmark::Counter(index_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rows GB/s"] = benchmark::Counter(row_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GramBlock)
    ->Args({1, 0})
    ->Args({4, 0})
    ->Args({8, 0})
    ->Args({16, 0})
    ->Args({16, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The two-pass product of wide data, as (d)'s solver runs it: 1,000,000 × 200,000 with 50M
// nonzeros (uniform random items, so the second pass's gathers from the 64 MB n × b float
// intermediate go to memory), float blocks of b = 16. The first call builds the column copy.
const SparseMatrix& wide_interactions() {
  static const SparseMatrix X = random_interactions(1000000, 200000, 50);
  return X;
}

void BM_GramBlockWide(benchmark::State& state) {
  const SparseMatrix& X = wide_interactions();
  const DataMatrix data(X);
  const Index b = state.range(0);
  const RowMatrix V = random_factors(200000, b);
  benchmark::DoNotOptimize(data.gram_times_rows(V, true).data());  // builds the item ranges
  for (auto _ : state) benchmark::DoNotOptimize(data.gram_times_rows(V, true).data());
  state.counters["ms/vector"] = benchmark::Counter(
      static_cast<double>(b), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_GramBlockWide)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

// The column copy of the same data (DataMatrix::csc, built once per DataMatrix for the two-pass
// product's second pass) by ranges of rows on 1 and 2 threads: the same arrays either way. Each
// iteration writes a fresh copy, as a fit does once: 200 MB, since every value here is 1 and the
// copy then stores none (600 MB with values, as in bench/README.md's rows before commit 535e775).
void BM_ColumnCopy(benchmark::State& state) {
  const SparseMatrix& X = wide_interactions();
  const int before = omp_get_max_threads();
  omp_set_num_threads(static_cast<int>(state.range(0)));
  std::optional<DataMatrix> data;
  for (auto _ : state) {
    state.PauseTiming();
    data.reset();  // the previous copy is freed, and the constructor's pass over the rows made, untimed
    data.emplace(X);
    state.ResumeTiming();
    benchmark::DoNotOptimize(data->csc().innerIndexPtr());
  }
  omp_set_num_threads(before);
}
BENCHMARK(BM_ColumnCopy)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// X M for a column-major M of 100 and 256 columns on (a)'s shape: the final user embeddings of a
// rank-100 fit, and EASE's scoring by blocks of 256 columns (several strips per block of rows).
void BM_SparseTimes(benchmark::State& state) {
  static const SparseMatrix X = random_interactions(138000, 20000, 72);
  const DataMatrix data(X);
  const Matrix V = random_factors(20000, state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(data.times(V).data());
}
BENCHMARK(BM_SparseTimes)->Arg(100)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

// Xᵀ R for a column-major R of 100 columns on the same shape (through the column copy of X): the
// cosine-trained model's backward product on sparse data, whose gathered table is n × 100.
void BM_SparseTransposeTimes(benchmark::State& state) {
  static const SparseMatrix X = random_interactions(138000, 20000, 72);
  const DataMatrix data(X);
  const Matrix R = random_factors(138000, state.range(0));
  benchmark::DoNotOptimize(data.transpose_times(R).data());  // builds the column copy
  for (auto _ : state) benchmark::DoNotOptimize(data.transpose_times(R).data());
}
BENCHMARK(BM_SparseTransposeTimes)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

// DataMatrix's products on dense-ish data (the dense copy, in fixed row blocks of single-threaded
// GEMM), the shapes of the cosine-trained model on the main job's data: 20,000 × 1,000 at 33 %,
// blocks of 100 columns; 0: X M, 1: Xᵀ R. Run once more with LINSIM_GEMM=eigen for Eigen's GEMM.
void BM_DenseProduct(benchmark::State& state) {
  static const SparseMatrix X = random_interactions(20000, 1000, 400);  // ~33 % after repeats
  const DataMatrix data(X);
  const bool transposed = state.range(0) == 1;
  const Matrix M = random_factors(transposed ? X.rows() : X.cols(), 100);
  benchmark::DoNotOptimize(data.times(random_factors(X.cols(), 1)).data());  // builds the dense copy
  for (auto _ : state) {
    benchmark::DoNotOptimize((transposed ? data.transpose_times(M) : data.times(M)).data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(X.rows()) * X.cols() * 100 * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(gemm_backend());
}
BENCHMARK(BM_DenseProduct)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// XᵀX of dense-ish data on the Gram path's dense route (gram_matrix: blocks of users densified,
// the lower triangle by GEMM), the main job's shape: 20,000 × 1,000 at 33 %, several per seed (the
// spectrum, the weighted models, SPPMI, the variants' spaces). GFLOP/s counts the n p (p + 1)
// flops of the lower triangle.
void BM_GramDense(benchmark::State& state) {
  static const SparseMatrix X = random_interactions(20000, 1000, 400);  // ~33 % after repeats
  for (auto _ : state) benchmark::DoNotOptimize(gram_matrix<double>(X, Context{}).data());
  const double n = static_cast<double>(X.rows()), p = static_cast<double>(X.cols());
  state.counters["GFLOP/s"] = benchmark::Counter(n * p * (p + 1) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(gemm_backend());
}
BENCHMARK(BM_GramDense)->Unit(benchmark::kMillisecond)->UseRealTime();

// Raw item-kNN's cosines from a p × p Gram matrix of counts, at the main job's p = 1,000 and at
// 8,000: cosine_from_gram (one division and one square root per entry, so that cosines equal in
// exact arithmetic tie) against, in the same run, the two diagonal scalings it replaced
// (d_i⁻¹ G_ij d_j⁻¹, second argument 1). The copy of G each call consumes is made, into the same
// buffer, outside the timing, so no allocation or free of the p × p matrix is timed.
void BM_CosineFromGram(benchmark::State& state) {
  const Index p = state.range(0);
  const bool before = state.range(1) == 1;
  const SparseMatrix X = random_interactions(4 * p, p, 50);
  const Matrix G = gram_matrix<double>(X, Context{});
  const Vector inv = G.diagonal().cwiseSqrt().cwiseInverse();
  Matrix S(p, p);
  for (auto _ : state) {
    state.PauseTiming();
    S = G;
    state.ResumeTiming();
    if (before) {
      S = inv.asDiagonal() * S * inv.asDiagonal();
    } else {
      S = cosine_from_gram(std::move(S));
    }
    benchmark::DoNotOptimize(S.data());
  }
  state.counters["entries/s"] = benchmark::Counter(static_cast<double>(p) * static_cast<double>(p),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CosineFromGram)->Args({1000, 0})->Args({1000, 1})->Args({8000, 0})->Args({8000, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// One item's top-10 neighbours on an eq2 model (rank 50, λ = 10 < σ₅₀ = 17.1; the default 100 is
// above σ₂ = 60 and would leave one dimension) of MovieLens-100K-shaped data: `linsim simulate
// --users 943 --items 1682 --activity-scale 333 --seed 1` (99,981 interactions; bench/python.py
// times Python's model.similar_items on the same draw, and on ML100K itself). space_per_call 0
// times top_neighbors alone on a space built once; 1 also builds the space on every call, as the
// extension's Model.neighbors (python/src/module.cc) does: for projected PᵀP, its square root,
// C = B L and unit rows; for cosine unit rows of B.
void BM_SimilarItemsOneQuery(benchmark::State& state) {
  const Measure measure = state.range(0) == 1 ? Measure::kCosine : Measure::kProjected;
  const bool space_per_call = state.range(1) != 0;
  static const SparseMatrix X = [] {
    SimulationOptions o;
    o.users = 943;
    o.items = 1682;
    o.activity_scale = 333;
    o.seed = 1;
    Context ctx;
    ctx.threads = 2;
    return simulate(o, ctx).data.X;
  }();
  Context ctx;
  ctx.threads = 2;
  static const Model model = [&] {
    FitOptions o;
    o.kind = ModelKind::kEq2;
    o.rank = 50;
    o.lambda = 10;
    return fit_model(X, o, ctx);
  }();
  const std::vector<Index> query{0};
  if (space_per_call) {
    for (auto _ : state) {
      const auto space = make_similarity_space(model, X, Side::kItems, measure, ctx);
      benchmark::DoNotOptimize(top_neighbors(*space, query, 10, false, ctx));
    }
  } else {
    const auto space = make_similarity_space(model, X, Side::kItems, measure, ctx);
    for (auto _ : state) benchmark::DoNotOptimize(top_neighbors(*space, query, 10, false, ctx));
  }
  state.counters["nnz"] = static_cast<double>(X.nonZeros());
}
BENCHMARK(BM_SimilarItemsOneQuery)
    ->ArgNames({"cosine", "space_per_call"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Reading a TSV of interactions into X (`read_interactions`), on 1 and 2 threads (a large plain
// file is cut into byte ranges parsed side by side): 8,000,000 lines "user<TAB>item<TAB>1" of
// 138,000 users in runs and 20,000 items (~109 MB), written
// once to the system's temporary directory (a name of this process's) and read from the page
// cache. The previous result is freed outside the timing.
void BM_ReadInteractions(benchmark::State& state) {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("linsim_bench_read." + std::to_string(getpid()) + ".tsv")).string();
  static const bool written = [] {
    const std::string& file = path;
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<int> item(0, 19999), run(1, 115);
    std::string text;
    for (int line = 0, user = 0; line < 8'000'000; ++user) {
      for (int r = run(rng); r > 0 && line < 8'000'000; --r, ++line) {
        text += std::to_string(user % 138000) + '\t' + std::to_string(item(rng)) + "\t1\n";
      }
    }
    std::ofstream(file, std::ios::binary) << text;
    std::atexit([] { std::filesystem::remove(path); });
    return true;
  }();
  benchmark::DoNotOptimize(written);
  const int before = omp_get_max_threads();
  omp_set_num_threads(static_cast<int>(state.range(0)));
  Index nnz = 0;
  std::optional<ReadResult> read;
  for (auto _ : state) {
    state.PauseTiming();
    read.reset();
    state.ResumeTiming();
    read.emplace(read_interactions(path, {}));
    nnz = read->data.X.nonZeros();
  }
  omp_set_num_threads(before);
  const auto bytes = static_cast<double>(std::filesystem::file_size(path));
  state.counters["MB/s"] = benchmark::Counter(bytes * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ns/line"] = benchmark::Counter(8e6 * 1e-9, benchmark::Counter::kIsIterationInvariantRate |
                                                                benchmark::Counter::kInvert);
  state.counters["nnz"] = static_cast<double>(nnz);
}
BENCHMARK(BM_ReadInteractions)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// This machine's memory bandwidth, STREAM's triad a = b + s c on three arrays of 128 MB (bytes
// counted as STREAM does: 24 per element), over all cores: the floor of every streaming pass.
void BM_Triad(benchmark::State& state) {
  const Index n = Index{1} << 24;
  std::vector<double> a(static_cast<size_t>(n)), b(static_cast<size_t>(n), 1.0), c(static_cast<size_t>(n), 2.0);
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (Index i = 0; i < n; ++i) a[static_cast<size_t>(i)] = b[static_cast<size_t>(i)] + 3.0 * c[static_cast<size_t>(i)];
    benchmark::DoNotOptimize(a.data());
  }
  state.counters["GB/s"] = benchmark::Counter(24.0 * static_cast<double>(n) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Triad)->Unit(benchmark::kMillisecond)->UseRealTime();

// The floor of the sparse kernels: random rows of 16 doubles (two cache lines) summed from a p-row
// table, 10M rows per pass over all cores — what BM_GramBlock does per nonzero once for V and once
// more (read and write) for its accumulator. p = 20,000 (2.5 MB, beyond one core's L2) and
// 200,000 (25.6 MB), and the steps between: 2,000 to 10,000 (0.26–1.3 MB, about one core's L2),
// 80,000 to 320,000 (10–41 MB, the shared cache's edge). The table is advised to take huge pages,
// as the solver's blocks are; run again with LINSIM_HUGE_PAGES=off for 4 KiB pages.
void BM_RandomRows(benchmark::State& state) {
  const Index p = state.range(0);
  constexpr Index kRows = 10'000'000;
  typedef double V8 __attribute__((vector_size(64)));
  std::vector<int> index(static_cast<size_t>(kRows));
  std::mt19937 rng(5);
  for (int& i : index) i = static_cast<int>(rng() % static_cast<unsigned>(p));
  RowMatrix table(p, 16);
  prefer_huge_pages(table, PageUse::kGathered) = random_factors(p, 16);  // as the solver's blocks are (LINSIM_HUGE_PAGES=off: not)
  for (auto _ : state) {
    double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (Index part = 0; part < 64; ++part) {
      V8 s0 = {}, s1 = {};
      for (Index q = part * kRows / 64; q < (part + 1) * kRows / 64; ++q) {
        const double* row = table.data() + static_cast<Index>(index[static_cast<size_t>(q)]) * 16;
        V8 x, y;
        __builtin_memcpy(&x, row, sizeof x);
        __builtin_memcpy(&y, row + 8, sizeof y);
        s0 += x;
        s1 += y;
      }
      for (int c = 0; c < 8; ++c) total += s0[c] + s1[c];
    }
    benchmark::DoNotOptimize(total);
  }
  state.counters["ns/row"] = benchmark::Counter(static_cast<double>(kRows) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate |
                                                    benchmark::Counter::kInvert);
  state.counters["rows GB/s"] = benchmark::Counter(128.0 * static_cast<double>(kRows) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_RandomRows)
    ->Arg(2000)
    ->Arg(5000)
    ->Arg(10000)
    ->Arg(20000)
    ->Arg(80000)
    ->Arg(160000)
    ->Arg(200000)
    ->Arg(320000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// This machine's GEMM peak with the kernels linsim uses (the library's products, linalg/products.h:
// tiles of the result on the threads, each a single-threaded GEMM of the configured backend), the
// reference for the GFLOP/s of the other rows.
template <typename Scalar>
void BM_Gemm(benchmark::State& state) {
  using M = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const Index n = state.range(0);
  const M A = random_factors(n, n).cast<Scalar>();
  const M B = random_factors(n, n).cast<Scalar>();
  M C(n, n);
  for (auto _ : state) {
    multiply<Scalar>(false, false, n, n, n, A.data(), n, B.data(), n, C.data(), n);
    benchmark::DoNotOptimize(C.data());
  }
  state.SetLabel(gemm_backend());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(n) * n * n * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Gemm<double>)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_Gemm<float>)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// One pass of the block Krylov solver's orthogonalisation over its basis, in its fixed chunks of
// 512 rows spread over the threads: Qᵀ W (range(0) = 0) or W −= Q H (1), by the panel kernels
// (range(1) = 0) or by the library's GEMM, which they replace for blocks of 4, 8 and 16 (1); a
// p × 394 basis with blocks of b = range(3) for p = range(2): 19,778 and 8 (138,000 × 19,778 at
// k = 100), 200,000 and 16 (1,000,000 × 200,000 at k = 100). Bytes/s count one read of Q;
// BM_Triad is its floor. project_out makes three such passes per block of vectors.
void BM_PanelPass(benchmark::State& state) {
  constexpr Index m = 394, kChunk = 512;
  const bool update = state.range(0) == 1;
  const bool with_gemm = state.range(1) == 1;
  const Index p = state.range(2), b = state.range(3);
  if (!with_gemm && !panel_cross(nullptr, p, 0, 0, nullptr, p, b, nullptr, m)) {
    state.SkipWithError("the panel kernels need AVX-512 (this build runs the GEMM instead)");
    return;
  }
  Matrix Q(p, m), W(p, b);
  // Advised as the solver's basis is (not with LINSIM_HUGE_PAGES=gathered or off), then filled in place: a plain
  // `Q = random_factors(…)` would take over the temporary's unadvised storage.
  prefer_huge_pages(Q, PageUse::kBulk).noalias() = random_factors(p, m);
  prefer_huge_pages(W, PageUse::kBulk).noalias() = random_factors(p, b);
  const Index chunks = (p + kChunk - 1) / kChunk;
  std::vector<Matrix> H(static_cast<size_t>(chunks), Matrix(random_factors(m, b) * 1e-3));
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic, 4)
    for (Index c = 0; c < chunks; ++c) {
      const Index i0 = c * kChunk, h = std::min(kChunk, p - i0);
      double* Hc = H[static_cast<size_t>(c)].data();
      if (update && with_gemm) {
        gemm<double>(false, false, h, b, m, -1.0, Q.data() + i0, p, Hc, m, 1.0, W.data() + i0, p);
      } else if (update) {
        panel_update(Q.data() + i0, p, h, m, Hc, m, b, -1.0, W.data() + i0, p);
      } else if (with_gemm) {
        gemm<double>(true, false, m, b, h, 1.0, Q.data() + i0, p, W.data() + i0, p, 0.0, Hc, m);
      } else {
        panel_cross(Q.data() + i0, p, h, m, W.data() + i0, p, b, Hc, m);
      }
    }
    benchmark::DoNotOptimize(W.data());
    benchmark::DoNotOptimize(H.front().data());
  }
  const double pm = static_cast<double>(p) * static_cast<double>(m);
  state.counters["GB/s"] = benchmark::Counter(8.0 * pm * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * pm * static_cast<double>(b) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(with_gemm ? gemm_backend() : "panel kernel");
}
BENCHMARK(BM_PanelPass)
    ->ArgsProduct({{0, 1}, {0, 1}, {19778}, {8}})
    ->ArgsProduct({{0, 1}, {0, 1}, {200000}, {16}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The k largest eigenpairs of a dense p × p Gram matrix (the Gram route of `fit`, the SPPMI
// model): dense_top_eigen as configured (range(2) = 0: LAPACK's dsyevr where OpenBLAS is loaded)
// against Eigen's SelfAdjointEigenSolver, its fallback and the solver used before (range(2) = 1).
void BM_DenseTopEigen(benchmark::State& state) {
  const Index p = state.range(0), k = state.range(1);
  const bool eigen = state.range(2) == 1;
  const Matrix F = random_factors(3 * p, p);
  const Matrix G = F.transpose() * F;
  Vector values;
  Matrix vectors;
  for (auto _ : state) {
    if (eigen) {
      Eigen::SelfAdjointEigenSolver<Matrix> eig(G);
      values = eig.eigenvalues().tail(k);
      benchmark::DoNotOptimize(values.data());
    } else {
      dense_top_eigen(G, k, values, vectors);
      benchmark::DoNotOptimize(vectors.data());
    }
  }
  state.SetLabel(eigen ? "Eigen SelfAdjointEigenSolver" : gemm_backend());
}
BENCHMARK(BM_DenseTopEigen)
    ->Args({1000, 50, 0})
    ->Args({1000, 50, 1})
    ->Args({2000, 100, 0})
    ->Args({2000, 100, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);

}  // namespace
}  // namespace linsim

// The program's own set-up, as the CLI does it: the GEMM backend is chosen before any kernel runs.
int main(int argc, char** argv) {
  linsim::configure_gemm();
  linsim::configure_huge_pages();  // LINSIM_HUGE_PAGES: off, gathered, or (unset) all
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
