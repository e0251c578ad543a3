// Tests of linsim::mpi::ease_weights_distributed (mpi/scalapack_ease.h), run by ctest on 1 to 4 ranks: compares the distributed EASE weights
// with the single-process ease_weights(gram_matrix(Y)) on random sparse data, for float64 and
// float32, with and without a column centre, p a multiple of nb or not, p < nb, rows split
// unevenly (one case with a rank holding no rows), and the refusals (not positive definite, a
// tiny pivot) thrown with the single-process message on every rank, an unwritable path and an
// interrupt on one rank (every rank throws, none hangs).
//
//   mpirun -np N mpi_ease_test DIR          the tests, files in DIR (exit 0: all passed)
//   mpirun -np N mpi_ease_test DIR time P N_USERS DENSITY DTYPE [THREADS]   one timed run (N = 1:
//                                                            also the single-process route)
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "linsim/core/error.h"
#include "linsim/io/npy.h"
#include "linsim/linalg/gram.h"
#include "linsim/models/ease.h"
#include "scalapack_ease.h"

using namespace linsim;

namespace {

int rank_ = 0, size_ = 1;
int failures = 0;
std::string dir;

SparseMatrix random_sparse(Index n, Index p, double density, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Eigen::Triplet<double>> t;
  for (Index u = 0; u < n; ++u) {
    for (Index j = 0; j < p; ++j) {
      if (unit(rng) < density) t.emplace_back(u, j, 0.5 + unit(rng));
    }
  }
  SparseMatrix Y(n, p);
  Y.setFromTriplets(t.begin(), t.end());
  Y.makeCompressed();
  return Y;
}

// Rows of this rank: weights r + offset (offset 0: rank 0 holds none when there are several).
SparseMatrix my_rows(const SparseMatrix& Y, int offset) {
  std::vector<Index> bounds(size_ + 1, 0);
  double total = 0;
  for (int r = 0; r < size_; ++r) total += r + offset;
  if (total == 0) total = 1;
  double acc = 0;
  for (int r = 0; r < size_; ++r) {
    acc += r + offset;
    bounds[r + 1] = r + 1 == size_ ? Y.rows() : static_cast<Index>(Y.rows() * acc / total);
  }
  SparseMatrix part = Y.middleRows(bounds[rank_], bounds[rank_ + 1] - bounds[rank_]);
  part.makeCompressed();
  return part;
}

bool all_ranks(bool ok) {
  int mine = ok, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all != 0;
}

void report(const std::string& name, bool ok, const std::string& detail) {
  ok = all_ranks(ok);
  if (!ok) ++failures;
  if (rank_ == 0) std::printf("%s %s %s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.c_str());
}

std::string read_bytes(const std::string& path, size_t count) {
  std::ifstream in(path, std::ios::binary);
  std::string s(count, '\0');
  in.read(s.data(), static_cast<std::streamsize>(count));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

std::string fmt_rel(double x) {
  char b[64];
  std::snprintf(b, sizeof b, "max|dW|/max|W| = %.2e", x);
  return b;
}

void compare(const std::string& name, const SparseMatrix& Y, bool centred, double lambda, Dtype dtype,
             int offset = 1) {
  const Context ctx;
  Vector m;
  if (centred) m = Vector(Y.transpose() * Vector::Ones(Y.rows())) / static_cast<double>(Y.rows());
  const std::string path = dir + "/" + name + ".npy";
  const SparseMatrix mine = my_rows(Y, offset);
  std::string error;
  try {
    mpi::ease_weights_distributed(mine, m, lambda, dtype, MPI_COMM_WORLD, path, ctx);
  } catch (const std::exception& e) {
    error = e.what();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (!all_ranks(error.empty())) {
    report(name, false, "threw: " + error);
    return;
  }
  bool ok = true;
  std::string detail;
  if (rank_ == 0) {
    const Matrix W = read_npy_matrix(path);
    const Matrix W64 = ease_weights<double>(gram_matrix<double>(Y, ctx, m), lambda);
    const std::string reference = dir + "/" + name + ".reference.npy";
    double error_rel = 0;
    if (dtype == Dtype::kFloat64) {
      write_npy(reference, W64);
      error_rel = (W - W64).cwiseAbs().maxCoeff() / std::max(W64.cwiseAbs().maxCoeff(), 1e-300);
      ok = error_rel <= 1e-10;
      detail = fmt_rel(error_rel);
    } else {
      const MatrixF W32 = ease_weights<float>(gram_matrix<float>(Y, ctx, m), lambda);
      write_npy(reference, W32);
      error_rel = (W - W64).cwiseAbs().maxCoeff() / std::max(W64.cwiseAbs().maxCoeff(), 1e-300);
      const double single = (W32.cast<double>() - W64).cwiseAbs().maxCoeff() / std::max(W64.cwiseAbs().maxCoeff(), 1e-300);
      ok = error_rel <= 1e-3;
      detail = fmt_rel(error_rel) + " (single-process float32: " + fmt_rel(single) + ")";
    }
    ok = ok && W.rows() == Y.cols() && W.cols() == Y.cols() && W.diagonal().cwiseAbs().maxCoeff() == 0;
    // Same header and file size as the single-process writer.
    const auto size = std::filesystem::file_size(path);
    ok = ok && size == std::filesystem::file_size(reference);
    const size_t header = npy_header(dtype == Dtype::kFloat32 ? "<f4" : "<f8",
                                     {static_cast<size_t>(Y.cols()), static_cast<size_t>(Y.cols())}, true)
                              .size();
    ok = ok && read_bytes(path, header) == read_bytes(reference, header);
    if (size != std::filesystem::file_size(reference)) detail += " size differs";
  }
  report(name, ok, detail);
}

// A refusal: every rank throws InvalidArgument with the single-process message.
void refusal(const std::string& name, const SparseMatrix& Y, double lambda, Dtype dtype) {
  const Context ctx;
  std::string expected;
  try {
    if (dtype == Dtype::kFloat64) {
      ease_weights<double>(gram_matrix<double>(Y, ctx), lambda);
    } else {
      ease_weights<float>(gram_matrix<float>(Y, ctx), lambda);
    }
  } catch (const InvalidArgument& e) {
    expected = e.what();
  }
  std::string got;
  bool invalid = false;
  try {
    mpi::ease_weights_distributed(my_rows(Y, 1), Vector(), lambda, dtype, MPI_COMM_WORLD, dir + "/" + name + ".npy",
                                  ctx);
  } catch (const InvalidArgument& e) {
    got = e.what();
    invalid = true;
  } catch (const std::exception& e) {
    got = e.what();
  }
  report(name, !expected.empty() && invalid && got == expected, "'" + got + "'");
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (argc < 2) {
    if (rank_ == 0) std::fprintf(stderr, "usage: mpi_ease_test DIR [time P N_USERS DENSITY DTYPE [THREADS]]\n");
    MPI_Finalize();
    return 2;
  }
  dir = std::string(argv[1]) + "/ranks-" + std::to_string(size_);
  --argc;
  ++argv;
  if (rank_ == 0) std::filesystem::create_directories(dir);
  MPI_Barrier(MPI_COMM_WORLD);

  if (argc > 1 && std::strcmp(argv[1], "time") == 0) {
    const Index p = std::stoi(argv[2]);
    const Index n = std::stoi(argv[3]);
    const double density = std::stod(argv[4]);
    const Dtype dtype = std::string(argv[5]) == "float32" ? Dtype::kFloat32 : Dtype::kFloat64;
    const SparseMatrix Y = random_sparse(n, p, density, 7);
    const SparseMatrix mine = my_rows(Y, 1);
    Context ctx;
    if (argc > 6) ctx.threads = std::stoi(argv[6]);
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    mpi::ease_weights_distributed(mine, Vector(), 10.0, dtype, MPI_COMM_WORLD, dir + "/time.npy", ctx,
                                  [&](const std::string& s) {
                                    const auto now = std::chrono::steady_clock::now();
                                    if (rank_ == 0) {
                                      std::printf("  %.2f s  %s\n", std::chrono::duration<double>(now - last).count(),
                                                  s.c_str());
                                    }
                                    last = now;
                                  });
    MPI_Barrier(MPI_COMM_WORLD);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rank_ == 0) std::printf("p = %ld on %d ranks: %.2f s\n", static_cast<long>(p), size_, seconds);
    if (size_ == 1) {  // the single-process route, for comparison
      const auto t0 = std::chrono::steady_clock::now();
      if (dtype == Dtype::kFloat32) {
        write_npy(dir + "/time-single.npy", ease_weights<float>(gram_matrix<float>(Y, ctx), 10.0));
      } else {
        write_npy(dir + "/time-single.npy", ease_weights<double>(gram_matrix<double>(Y, ctx), 10.0));
      }
      std::printf("single-process gram + ease_weights + write_npy: %.2f s\n",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    MPI_Finalize();
    return 0;
  }

  const SparseMatrix Y = random_sparse(3000, 700, 0.02, 1);
  compare("f64-plain", Y, false, 5.0, Dtype::kFloat64);
  compare("f64-centred", Y, true, 5.0, Dtype::kFloat64);
  compare("f32-plain", Y, false, 5.0, Dtype::kFloat32);
  compare("f32-centred", Y, true, 5.0, Dtype::kFloat32);
  compare("f64-empty-rank", Y, true, 5.0, Dtype::kFloat64, 0);
  const SparseMatrix Y150 = random_sparse(800, 150, 0.05, 2);  // p not a multiple of 64
  compare("f64-p150", Y150, true, 2.0, Dtype::kFloat64);
  compare("f32-p150", Y150, false, 2.0, Dtype::kFloat32);
  const SparseMatrix Y40 = random_sparse(300, 40, 0.1, 3);  // p < nb
  compare("f64-p40", Y40, false, 1.0, Dtype::kFloat64);
  compare("f32-p40", Y40, true, 1.0, Dtype::kFloat32);
  const SparseMatrix Y1 = random_sparse(50, 1, 0.5, 4);  // p = 1
  compare("f64-p1", Y1, false, 1.0, Dtype::kFloat64);
  const SparseMatrix Y1200 = random_sparse(2000, 1200, 0.01, 5);  // several panels
  compare("f64-p1200", Y1200, true, 3.0, Dtype::kFloat64);
  compare("f32-p1200", Y1200, false, 3.0, Dtype::kFloat32);

  // Overwriting a larger file: the result is truncated to its own size.
  compare("overwrite", Y1200, false, 3.0, Dtype::kFloat64);
  compare("overwrite", Y40, false, 1.0, Dtype::kFloat32);

  // λ = 0 with a zero column: not positive definite.
  SparseMatrix Z = Y150;
  for (Index u = 0; u < Z.rows(); ++u) {
    for (SparseMatrix::InnerIterator it(Z, u); it; ++it) {
      if (it.col() == 77) it.valueRef() = 0;
    }
  }
  Z.prune(0.0);
  refusal("f64-zero-column", Z, 0.0, Dtype::kFloat64);
  refusal("f32-zero-column", Z, 0.0, Dtype::kFloat32);
  // Two equal columns and a tiny λ: a pivot below the bound (or not positive).
  SparseMatrix D = Y150;
  {
    Matrix dense = Matrix(D);
    dense.col(100) = dense.col(30);
    D = dense.sparseView();
    D.makeCompressed();
  }
  refusal("f64-tiny-pivot", D, 1e-11, Dtype::kFloat64);
  refusal("f32-tiny-pivot", D, 1e-4, Dtype::kFloat32);

  // An unwritable path: the same Error on every rank.
  {
    std::string got;
    try {
      mpi::ease_weights_distributed(my_rows(Y40, 1), Vector(), 1.0, Dtype::kFloat64, MPI_COMM_WORLD,
                                    "/nonexistent-dir/w.npy", Context());
    } catch (const Error& e) {
      got = e.what();
    }
    report("io-error", got.find("/nonexistent-dir/w.npy") != std::string::npos, "'" + got + "'");
  }

  // An interrupt on the last rank only, at its third interruption point: every rank stops, none hangs.
  {
    Context ctx;
    int calls = 0;
    if (rank_ == size_ - 1) {
      ctx.interrupt = [&calls] {
        if (++calls == 3) throw std::runtime_error("interrupted here");
      };
    }
    std::string got;
    try {
      mpi::ease_weights_distributed(my_rows(Y1200, 1), Vector(), 1.0, Dtype::kFloat64, MPI_COMM_WORLD,
                                    dir + "/interrupted.npy", ctx);
    } catch (const std::exception& e) {
      got = e.what();
    }
    const bool ok = rank_ == size_ - 1 ? got == "interrupted here" : got == "interrupted on another rank";
    report("interrupt", ok, "'" + got + "'");
  }

  if (rank_ == 0) std::printf("%s: %d failure(s) on %d rank(s)\n", failures ? "FAILED" : "OK", failures, size_);
  MPI_Finalize();
  return failures ? 1 : 0;
}
