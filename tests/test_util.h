// Small helpers shared by the tests: random data and dense references.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "linsim/core/types.h"
#include "linsim/models/model.h"

namespace linsim::test {

// A new, empty directory of its own under the system's temporary directory (mkdtemp: unique even
// when test processes run in parallel or an earlier run left one behind).
inline std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "linsim-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

// make_temp_dir() removed with its contents at the end of the scope.
class TempDir {
 public:
  TempDir() : path_(make_temp_dir()) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A random n × p binary matrix where every row and column has at least one entry.
inline SparseMatrix random_binary(Index n, Index p, double density, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution keep(density);
  std::vector<Eigen::Triplet<double, int>> t;
  for (Index u = 0; u < n; ++u) {
    for (Index i = 0; i < p; ++i) {
      if (keep(rng) || i == u % p || u == i % n) t.emplace_back(static_cast<int>(u), static_cast<int>(i), 1.0);
    }
  }
  SparseMatrix X(n, p);
  X.setFromTriplets(t.begin(), t.end(), [](double a, double) { return a; });
  return X;
}

// A random n × p matrix with positive real entries (full rank with probability one).
inline SparseMatrix random_positive(Index n, Index p, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> value(0.1, 2.0);
  Matrix D(n, p);
  for (Index i = 0; i < D.size(); ++i) D.data()[i] = value(rng);
  return D.sparseView();
}

// Fit options for a closed form with the exact (dense Gram) solver.
inline FitOptions exact_options(ModelKind kind, Index rank, double lambda, const std::string& gauge = "balanced") {
  FitOptions o;
  o.kind = kind;
  o.rank = rank;
  o.lambda = lambda;
  o.gauge = parse_gauge(gauge);
  o.solver = Solver::kGram;
  return o;
}

inline Matrix random_matrix(Index rows, Index cols, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  Matrix M(rows, cols);
  for (Index i = 0; i < M.size(); ++i) M.data()[i] = z(rng);
  return M;
}

inline Matrix cosine_matrix(const Matrix& F) {  // rows of F, dense reference
  Matrix S = F * F.transpose();
  const Vector n = F.rowwise().norm();
  for (Index i = 0; i < S.rows(); ++i)
    for (Index j = 0; j < S.cols(); ++j) S(i, j) = (n(i) > 0 && n(j) > 0) ? S(i, j) / (n(i) * n(j)) : 0.0;
  return S;
}

// A binary word2vec file's bytes: "count dim\n", then per row its id, a blank and `dim`
// little-endian float32 values (what gensim writes; word2vec.c also ends each row with "\n").
inline std::string binary_word2vec(const std::vector<std::string>& ids, const Matrix& M,
                                   bool newline_after_each = false) {
  std::string s = std::to_string(M.rows()) + " " + std::to_string(M.cols()) + "\n";
  for (Index i = 0; i < M.rows(); ++i) {
    s += ids[static_cast<size_t>(i)] + " ";
    for (Index j = 0; j < M.cols(); ++j) {
      const auto f = static_cast<float>(M(i, j));
      char b[4];
      std::memcpy(b, &f, 4);  // little-endian hosts
      s.append(b, 4);
    }
    if (newline_after_each) s += '\n';
  }
  return s;
}

inline double relative_difference(const Matrix& a, const Matrix& b) {
  return (a - b).norm() / std::max(1e-300, b.norm());
}

}  // namespace linsim::test
