// The faiss peer of bench/peers.sh (c): all-items top-N by inner product over p random unit
// vectors of dimension k with faiss's exact IndexFlatIP, the same vectors BM_AllItemsTopN uses
// (same generator, seed and normalisation). Prints one JSON line: wall seconds of add + search.
// Usage: linsim_faiss_peer P K TOP
#include <faiss/IndexFlat.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s P K TOP\n", argv[0]);
    return 2;
  }
  const long p = std::atol(argv[1]), k = std::atol(argv[2]), top = std::atol(argv[3]);
  // Column-major p × k filled in storage order, as bench_kernels.cc's random_factors does.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z;
  std::vector<double> column_major(static_cast<size_t>(p * k));
  for (double& v : column_major) v = z(rng);
  std::vector<float> x(static_cast<size_t>(p * k));  // row-major, rows scaled to unit length
  for (long i = 0; i < p; ++i) {
    double norm = 0;
    for (long c = 0; c < k; ++c) norm += column_major[c * p + i] * column_major[c * p + i];
    norm = std::sqrt(norm);
    for (long c = 0; c < k; ++c) x[i * k + c] = static_cast<float>(column_major[c * p + i] / norm);
  }
  const auto t0 = std::chrono::steady_clock::now();
  faiss::IndexFlatIP index(k);
  index.add(p, x.data());
  std::vector<float> distances(static_cast<size_t>(p * (top + 1)));
  std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(p * (top + 1)));
  index.search(p, x.data(), top + 1, distances.data(), labels.data());  // +1: each query finds itself
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"faiss_flat_ip_s\": %.3f, \"GFLOP/s (2 p^2 k)\": %.1f}\n", seconds,
              2.0 * static_cast<double>(p) * p * k / seconds * 1e-9);
  return 0;
}
