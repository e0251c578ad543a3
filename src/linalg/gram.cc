#include "linsim/linalg/gram.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linalg/gemm.h"
#include "linalg/symmetric.h"

namespace linsim {

namespace {

// Σ_u n_u² / 2: multiply-adds of the sparse accumulation (lower triangle).
double sparse_gram_work(const SparseView& X) {
  double work = 0;
  for (Index u = 0; u < X.rows(); ++u) {
    const double nu = X.outerIndexPtr()[u + 1] - X.outerIndexPtr()[u];
    work += 0.5 * nu * nu;
  }
  return work;
}

// MATH.md M6 (standardize): (Y − 1mᵀ)ᵀ(Y − 1mᵀ) = YᵀY − m cᵀ − c mᵀ + n m mᵀ with c = Yᵀ1. The
// correction of column j, rows i ≥ j: −m_i c_j − c_i m_j + n m_i m_j, added
// in double to the column's lower part (`lower`, p − j entries, row j first).
class Centring {
 public:
  Centring(const SparseView& Y, const Vector& m) : m_(m), n_(static_cast<double>(Y.rows())) {
    if (m.size() == 0) return;
    c_ = Vector::Zero(Y.cols());
    // By rows: a view of some rows of a matrix (middleRows) keeps the whole matrix's index and value
    // arrays, with its rows' entries at [outer[0], outer[n]).
    for (Index u = 0; u < Y.rows(); ++u) {
      for (int q = Y.outerIndexPtr()[u]; q < Y.outerIndexPtr()[u + 1]; ++q) c_(Y.innerIndexPtr()[q]) += Y.valuePtr()[q];
    }
  }
  bool active() const { return m_.size() > 0; }
  void apply(Index j, double* lower) const {
    const double mj = m_(j), cj = c_(j);
    for (Index i = j; i < m_.size(); ++i) lower[i - j] += m_(i) * (n_ * mj - cj) - c_(i) * mj;
  }

 private:
  const Vector& m_;
  Vector c_;
  double n_;
};

// The entries of X by column, each as the stretch of X's row arrays from the entry to the end of
// its row: the tail of row u from column j on, x_uj first (X's rows hold sorted, distinct column
// indices: InteractionMatrix). Within a column, users increase.
struct RowTail {
  int begin;
  int end;
};

struct TailsByColumn {
  std::vector<std::int64_t> start;  // column j's tails: [start[j], start[j + 1])
  std::vector<RowTail> tails;
};

TailsByColumn tails_by_column(const SparseView& X) {
  const Index n = X.rows(), p = X.cols();
  const int* outer = X.outerIndexPtr();
  const int* inner = X.innerIndexPtr();
  TailsByColumn by;
  by.start.assign(static_cast<size_t>(p) + 1, 0);
  // Row by row (see Centring: a view of some rows starts at outer[0], not at 0).
  for (Index u = 0; u < n; ++u) {
    for (int q = outer[u]; q < outer[u + 1]; ++q) ++by.start[static_cast<size_t>(inner[q]) + 1];
  }
  for (Index j = 0; j < p; ++j) by.start[j + 1] += by.start[j];
  std::vector<std::int64_t> next(by.start.begin(), by.start.end() - 1);
  by.tails.resize(static_cast<size_t>(by.start[p]));
  for (Index u = 0; u < n; ++u) {
    for (int q = outer[u]; q < outer[u + 1]; ++q) by.tails[next[inner[q]]++] = RowTail{q, outer[u + 1]};
  }
  return by;
}

// Sparse path: column j of the lower triangle is Σ_{u ∋ j} x_uj x_u,i for i ≥ j, the sum over the
// tails of column j (tails_by_column: no search for j in row u, no look-up of where row u starts).
// One thread per column, users in increasing order: a fixed summation order, in double (for float
// G in a per-thread column, rounded once). Each thread first writes its columns' lower parts, so G
// needs no zeroing beforehand (zeroing 3.1 GB on one thread costs seconds here). The tails lie
// anywhere in X's 120 MB of row arrays (10M nonzeros), so each is prefetched a few users ahead: one
// miss at a time was most of this path's time.
template <typename Scalar>
void gram_sparse(const SparseView& X, MatrixOf<Scalar>& G, const Centring& centring) {
  constexpr bool kDouble = std::is_same_v<Scalar, double>;
  constexpr std::int64_t kAhead = 8;
  const TailsByColumn by = tails_by_column(X);
  const Index p = X.cols();
  const int* inner = X.innerIndexPtr();
  const double* value = X.valuePtr();
  // Columns go in waves of kWave, with an interruption point between them.
  constexpr Index kWave = 1024;
  for (Index wave = 0; wave < p; wave += kWave) {
    interruption_point();
    const Index wave_end = std::min(p, wave + kWave);
#pragma omp parallel
    {
      std::vector<double> scratch(kDouble ? 0 : static_cast<size_t>(p));
#pragma omp for schedule(dynamic, 8)
      for (Index j = wave; j < wave_end; ++j) {
        double* lower;  // rows j..p−1 of column j
        if constexpr (kDouble) {
          lower = G.col(j).data() + j;
        } else {
          lower = scratch.data();
        }
        std::fill(lower, lower + (p - j), 0.0);
        const RowTail* tail = by.tails.data() + by.start[j];
        const RowTail* last = by.tails.data() + by.start[j + 1];
        for (; tail != last; ++tail) {
          if (last - tail > kAhead) {  // the whole tail kAhead users on
            const RowTail ahead = tail[kAhead];
            for (Index q = ahead.begin; q < ahead.end; q += 16) __builtin_prefetch(inner + q);
            for (Index q = ahead.begin; q < ahead.end; q += 8) __builtin_prefetch(value + q);
            __builtin_prefetch(inner + ahead.end - 1);  // the last line, where the tail straddles one
            __builtin_prefetch(value + ahead.end - 1);
          }
          const double xuj = value[tail->begin];
          for (int q = tail->begin; q < tail->end; ++q) lower[inner[q] - j] += xuj * value[q];
        }
        if (centring.active()) centring.apply(j, lower);
        if constexpr (!kDouble) {
          for (Index i = j; i < p; ++i) G(i, j) = static_cast<float>(lower[i - j]);
        }
      }
    }
  }
}

// Dense path for dense-ish X: blocks of users densified and multiplied with GEMM. Each thread
// owns fixed column panels of G's lower triangle, each updated by one single-threaded gemm()
// (linalg/gemm.h: OpenBLAS's kernels where configured) per block of users, in block order, so the
// summation order never depends on the thread count. The centring is added afterwards, column by
// column in double.
template <typename Scalar>
void gram_dense_blocks(const SparseView& X, MatrixOf<Scalar>& G, const Centring& centring) {
  const Index n = X.rows();
  const Index p = X.cols();
  // Measured on 20,000 × 1,000 at 33 % (BM_GramDense): blocks of 512 or 1,024 users and panels of
  // 64 columns were the fastest of {512, 1,024, 2,048} × {64, 128, 256}, by up to 20 %.
  constexpr Index kUsers = 512;
  constexpr Index kColumns = 64;
  const Index column_blocks = (p + kColumns - 1) / kColumns;
  // The block of users by rows: Bt is p × kUsers column-major, so that each user's p values are
  // contiguous (filled on the threads, one row of X each) and the panels are A = Btᵀ.
  MatrixOf<Scalar> Bt(p, std::min(kUsers, n));
  const int* outer = X.outerIndexPtr();
  const int* inner = X.innerIndexPtr();
  const double* value = X.valuePtr();
#pragma omp parallel for schedule(dynamic, 1)
  for (Index b = 0; b < column_blocks; ++b) {
    const Index j0 = b * kColumns;
    G.block(j0, j0, p - j0, std::min(kColumns, p - j0)).setZero();
  }
  for (Index u0 = 0; u0 < n; u0 += kUsers) {
    interruption_point();
    const Index rows = std::min(kUsers, n - u0);
#pragma omp parallel
    {
#pragma omp for schedule(static)
      for (Index r = 0; r < rows; ++r) {
        Scalar* row = Bt.col(r).data();
        std::fill(row, row + p, Scalar(0));
        for (int q = outer[u0 + r]; q < outer[u0 + r + 1]; ++q) row[inner[q]] = static_cast<Scalar>(value[q]);
      }
      // Lower part only: rows j0.. of columns j0..j0+w, += Bt[j0.., :] Bt[j0..j0+w, :]ᵀ.
#pragma omp for schedule(dynamic, 1)
      for (Index b = 0; b < column_blocks; ++b) {
        const Index j0 = b * kColumns;
        const Index w = std::min(kColumns, p - j0);
        gemm<Scalar>(false, true, p - j0, w, rows, Scalar(1), Bt.data() + j0, p, Bt.data() + j0, p, Scalar(1),
                     G.data() + j0 + j0 * p, p);
      }
    }
  }
  if (!centring.active()) return;
#pragma omp parallel
  {
    std::vector<double> lower(static_cast<size_t>(p));
#pragma omp for schedule(dynamic, 8)
    for (Index j = 0; j < p; ++j) {
      for (Index i = j; i < p; ++i) lower[i - j] = static_cast<double>(G(i, j));
      centring.apply(j, lower.data());
      for (Index i = j; i < p; ++i) G(i, j) = static_cast<Scalar>(lower[i - j]);
    }
  }
}

}  // namespace

double gram_seconds_estimate(const SparseView& X) {
  const double n = static_cast<double>(X.rows());
  const double p = static_cast<double>(X.cols());
  // Measured orders of magnitude on 2 cores: ~2e9 sparse multiply-adds/s, ~3e10 in GEMM.
  return std::min(sparse_gram_work(X) / 2e9, 0.5 * n * p * p / 3e10);
}

template <typename Scalar>
MatrixOf<Scalar> gram_matrix(const SparseView& Y, const Context& ctx, const Vector& center) {
  const ThreadScope thread_scope(ctx);
  const double n = static_cast<double>(Y.rows());
  const double p = static_cast<double>(Y.cols());
  if (center.size() != 0 && center.size() != Y.cols()) {
    throw InvalidArgument(fmt::format("column centre has {} entries for {} columns", center.size(), Y.cols()));
  }
  const Centring centring(Y, center);
  MatrixOf<Scalar> G(Y.cols(), Y.cols());  // each path writes its lower triangle first, in parallel
  prefer_huge_pages(G, PageUse::kBulk);  // every page is touched once here, then streamed
  if (sparse_gram_work(Y) / 2e9 > 0.5 * n * p * p / 3e10) {
    gram_dense_blocks(Y, G, centring);
  } else {
    gram_sparse(Y, G, centring);
  }
  mirror_lower(G);
  return G;
}
template Matrix gram_matrix<double>(const SparseView&, const Context&, const Vector&);
template MatrixF gram_matrix<float>(const SparseView&, const Context&, const Vector&);

namespace {

// Σ_q value[q] x[index[q]] over [begin, end), in order; a null `value` means every value is 1,
// and then none is read (the same sum: 1 · x rounds to x).
double sparse_dot(const int* index, const double* value, int begin, int end, const double* x) {
  double s = 0;
  if (value == nullptr) {
    for (int q = begin; q < end; ++q) s += x[index[q]];
  } else {
    for (int q = begin; q < end; ++q) s += value[q] * x[index[q]];
  }
  return s;
}

}  // namespace

GramOperator::GramOperator(const DataMatrix& X) : X_(X), scratch_(X.rows()) { X.csc(); }

void GramOperator::perform_op(const double* x_in, double* y_out) const {
  interruption_point();  // each Lanczos product
  const SparseView& Y = X_.sparse();
  const Index n = Y.rows();
  const Index p = Y.cols();
  const int* outer = Y.outerIndexPtr();
  const int* inner = Y.innerIndexPtr();
  const double* value = X_.row_values();
  const Vector& m = X_.center();
  // Centring: X_w x = Y x − (mᵀx) 1 and X_wᵀ y = Yᵀ y − m (1ᵀy).
  const double mx = X_.centered() ? m.dot(Eigen::Map<const Vector>(x_in, p)) : 0.0;
  double* y = scratch_.data();
#pragma omp parallel for schedule(static)
  for (Index u = 0; u < n; ++u) {  // y = X_w x
    y[u] = sparse_dot(inner, value, outer[u], outer[u + 1], x_in) - mx;
  }
  const auto& Yc = X_.csc();
  const int* couter = Yc.outerIndexPtr();
  const int* cinner = Yc.innerIndexPtr();
  const double* cvalue = Yc.valuePtr();
  const double ysum = X_.centered() ? scratch_.sum() : 0.0;
#pragma omp parallel for schedule(static)
  for (Index j = 0; j < p; ++j) {  // out = X_wᵀ y
    const double s = sparse_dot(cinner, cvalue, couter[j], couter[j + 1], y);
    y_out[j] = X_.centered() ? s - m(j) * ysum : s;
  }
}

Matrix GramOperator::apply(const Matrix& V) const {
  Matrix Y(V.rows(), V.cols());
  for (Index c = 0; c < V.cols(); ++c) perform_op(V.col(c).data(), Y.col(c).data());
  return Y;
}

}  // namespace linsim
