#include "linsim/linalg/block_krylov.h"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <limits>
#include <cmath>
#include <type_traits>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/random.h"
#include "linalg/gemm.h"
#include "linalg/orthogonalize.h"
#include "linalg/products.h"

namespace linsim {
namespace {

Index choose_block(Index k, Index p, const BlockKrylovOptions& options) {
  if (options.block > 0) return options.block;
  const Index narrow = k < 96 ? 4 : (k < 192 ? 8 : 16);
  // With the two-pass product (wide data, data_matrix.h) a pass with 16 vectors costs about
  // twice one with a single vector, so wider blocks pay: k/2 between 4 and 16 (1,000,000 ×
  // 200,000: 3,136 products in 160 s at 16).
  if (!gram_one_pass(p, narrow)) return std::clamp<Index>(k / 2, 4, 16);
  // Narrower blocks need fewer products (each block sees the spectrum through one more
  // polynomial degree), wider ones cost less per vector (one pass over the nonzeros and one
  // orthogonalisation against the basis per block). Measured on 138,000 × 19,778 (10M
  // nonzeros, default tol, bench/README.md): k = 50 with blocks of 4 / 8 / 16: 776 / 992 / 1,536
  // products, 4.1 / 4.5 / 9.0 s; k = 100 with 8 / 16: 1,408 / 1,696 products, 7.3 / 9.3 s; k = 200
  // with 8 / 16: 15.5 / 15.1 s. Powers of two: the sparse kernel's strips are 16, 8 and 4 wide.
  return narrow;
}

// The basis holds the k wanted vectors, what a restart keeps beyond them and at least one new
// block: never fewer than k + 2 blocks (or all of R^p, where the solver completes it exactly).
Index choose_basis(Index p, Index k, Index b, const BlockKrylovOptions& options) {
  const Index size = options.basis > 0 ? options.basis : std::max<Index>(4 * k, k + 8 * b);
  return std::min(std::max(size, k + 2 * b), p);
}

// Standard normal draws from one stream, in storage order.
Matrix gaussian(Index rows, Index cols, Rng& rng) {
  Matrix out(rows, cols);
  for (Index i = 0; i < out.size(); ++i) out.data()[i] = rng.normal();
  return out;
}

// Q's first Y.cols() columns ← Q's first Y.rows() columns times Y, in place: a chunk of rows of
// the result needs only the same rows of Q, so each chunk goes through a chunk-sized buffer. The
// restart used to form Q Y as a new p × keep matrix (~400 MB at p = 200,000, every page of it
// touched afresh each cycle) and copy it back.
void times_in_place(Matrix& Q, const Matrix& Y) {
  const Index m = Y.rows(), w = Y.cols();
#pragma omp parallel
  {
    Matrix chunk(kRowChunk, w);
#pragma omp for schedule(dynamic, 4)
    for (Index c = 0; c < row_chunks(Q.rows()); ++c) {
      const Index i0 = c * kRowChunk, h = std::min(kRowChunk, Q.rows() - i0);
      gemm<double>(false, false, h, w, m, 1.0, Q.data() + i0, Q.outerStride(), Y.data(), m, 0.0, chunk.data(),
                   kRowChunk);
      Q.block(i0, 0, h, w) = chunk.topRows(h);
    }
  }
}

// A new block's part that is below this fraction of the vectors it was projected from is rounding
// (left over from the reorthogonalisation and earlier steps' errors), not a direction of the
// Krylov space: such a block is rank-deficient, an invariant subspace was found (exactly, on data
// of lower rank than asked for). An absolute floor of 1e-12 θ_1 (`scale`) catches products of
// vectors in G's null space, which are rounding from the start.
constexpr double kDependent = 1e-8;

double negligible_level(const Vector& before, double scale) {
  return std::max(1e-12 * scale, kDependent * (before.size() > 0 ? before.maxCoeff() : 0.0));
}

// Thin orthonormal basis of W (p × b) by column-pivoted Householder QR: W = Qn R. Pivoting puts
// the dependent part last. Where W is nearly rank-deficient (trailing pivots at or below
// negligible_level), those columns of Qn are W's small remainders normalised, whose orthogonality
// to `basis` is only as good as the remainder is large: each is projected against `basis` and the
// columns before it twice more. One that keeps at least half its norm is a direction of W and
// stays, its row of R too, so that W = Qn R holds to rounding: dropping such a part (it may be far
// above rounding, up to the negligible level) would leave the Lanczos relation off by it, and the
// residuals the solver reads from that relation short by as much, which for eigenvalues far below
// θ_1 exceeds their allowance tol · 10⁻⁶ θ_1. One that does not keep half (W's remainder there
// was rounding, in span(basis)) is replaced by a random unit vector orthogonal to both, with a zero
// row of R. `before` holds the norms of W's columns before they were projected against the basis.
// `dropped` (where given) counts the blocks that dropped a nonzero row: the solver then checks
// its pairs with true products (block_krylov_eigs).
Matrix householder_block(const Matrix& W, const Vector& before, const Eigen::Ref<const Matrix>& basis, double scale,
                         Rng& rng, Matrix& R, Index* dropped, double* smallest_pivot) {
  const Index p = W.rows();
  const Index b = W.cols();
  Eigen::ColPivHouseholderQR<Matrix> qr(W);
  Matrix Rp = qr.matrixQR().topRows(b).triangularView<Eigen::Upper>();  // W P = Qn Rp
  Matrix Qn = qr.householderQ() * Matrix::Identity(p, b);
  const double level = negligible_level(before, scale);
  Index rank = 0;
  while (rank < b && std::abs(Rp(rank, rank)) > level) ++rank;
  bool lost = false;
  for (Index c = rank; c < b; ++c) {
    const auto reproject = [&](Eigen::Ref<Vector> v) {
      for (int pass = 0; pass < 2; ++pass) {
        v -= basis * (basis.transpose() * v);
        v -= Qn.leftCols(c) * (Qn.leftCols(c).transpose() * v);
      }
    };
    if (Rp(c, c) != 0) {
      Vector v = Qn.col(c);
      reproject(v);
      if (v.norm() >= 0.5) {
        Qn.col(c) = v.normalized();
        continue;
      }
    }
    Vector v = gaussian(p, 1, rng);
    reproject(v);
    Qn.col(c) = v.normalized();
    lost = lost || Rp.row(c).cwiseAbs().maxCoeff() > 0;
    Rp.row(c).setZero();
  }
  if (lost && dropped != nullptr) ++*dropped;
  if (smallest_pivot != nullptr) *smallest_pivot = b > 0 ? Rp.diagonal().cwiseAbs().minCoeff() : 0.0;
  R = Rp * qr.colsPermutation().transpose();  // W = Qn Rp Pᵀ
  return Qn;
}

// WᵀW, independent of the thread count.
Matrix chunked_gram(const Matrix& W) {
  ChunkedCross cross(W, W);
#pragma omp parallel for schedule(dynamic, 4)
  for (Index c = 0; c < cross.chunks(); ++c) cross.part(c);
  return cross.sum();
}

// W ← W U⁻¹ for upper-triangular U, by chunks of rows over the threads.
void solve_upper_right(Matrix& W, const Matrix& U) {
  const Index p = W.rows();
#pragma omp parallel for schedule(dynamic, 4)
  for (Index c = 0; c < row_chunks(p); ++c) {
    const Index i0 = c * kRowChunk, h = std::min(kRowChunk, p - i0);
    U.triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(W.middleRows(i0, h));
  }
}

// The same factorisation by Cholesky QR, twice (CholeskyQR2, Fukaya et al. 2014): R from the
// Cholesky factor of WᵀW, Qn = W R⁻¹, and once more on Qn to restore orthogonality to rounding
// level. Two passes for WᵀW (ChunkedCross) and two triangular solves, spread over the threads, instead of a
// single-threaded Householder sweep (180 ms for 200,000 × 16). It is accurate while κ(W) ≲ u^(-1/2);
// a block whose Cholesky pivots spread beyond 10⁶ or reach the negligible level (ill-conditioned or
// rank-deficient: an invariant subspace was found), or whose first pass leaves ‖Q₁ᵀQ₁ − I‖_F > 1/2
// (then κ(Q₁) > √3), goes to Householder instead.
Matrix orthonormal_block_once(Matrix W, const Vector& before, const Eigen::Ref<const Matrix>& basis, double scale,
                              Rng& rng, Matrix& R, Index* dropped, double& smallest_pivot) {
  const Index b = W.cols();
  Matrix R1;
  smallest_pivot = std::numeric_limits<double>::infinity();
  for (int pass = 0; pass < 2; ++pass) {
    const Matrix S = chunked_gram(W);
    Eigen::LLT<Matrix> llt(S);
    bool usable = llt.info() == Eigen::Success;
    if (usable) {
      const Vector d = llt.matrixLLT().diagonal().cwiseAbs();
      usable = d.minCoeff() > 1e-6 * d.maxCoeff() && (pass == 1 || d.minCoeff() > negligible_level(before, scale)) &&
               (pass == 0 || (S - Matrix::Identity(b, b)).norm() <= 0.5);
      if (pass == 0 && usable) smallest_pivot = d.minCoeff();
    }
    if (!usable) {  // W = Qn Rh (first pass), or Q₁ = Qn Rh with W = Q₁ R1 (second)
      Matrix Rh;
      // On the second pass Q₁'s columns have unit norm before any projection.
      Matrix Qn = householder_block(W, pass == 0 ? before : Vector(Vector::Ones(b)), basis, pass == 0 ? scale : 1.0,
                                    rng, Rh, dropped, pass == 0 ? &smallest_pivot : nullptr);
      R = pass == 0 ? Rh : Matrix(Rh * R1);
      return Qn;
    }
    const Matrix U = llt.matrixU();
    solve_upper_right(W, U);
    R1 = pass == 0 ? U : Matrix(U * R1);
  }
  R = R1;
  return W;
}

// A block's part left after projection against the basis carries the projection's rounding,
// ~u ‖G q‖ along the basis, and orthonormalising it divides that by the block's smallest pivot:
// where the projection removed nearly all of W (an almost invariant subspace: data of lower rank,
// or eigenvalues far below θ_1), Qn is orthogonal to the basis only to u ‖G q‖ / pivot, up to
// √u at the negligible level. The basis's orthogonality is what turns the Lanczos relation into
// residuals (and T into Qᵀ G Q), so such a block is projected against the basis once more and
// orthonormalised again: Qn = Q_basis C + Qn' R2, where C R is rounding of W's size and dropped,
// and R becomes R2 R. Below 10⁻⁴ of ‖G q‖ the pivot's loss could exceed ~10⁻¹² of θ_1, the
// smallest allowance at the default tol (tol · 10⁻⁶ θ_1); a tighter tol raises the threshold
// alike (10⁻¹⁰ / tol, at most 1/2), so that the loss stays below its allowance.
double reproject_below(double tol) { return std::clamp(1e-10 / tol, 1e-4, 0.5); }

Matrix orthonormal_block(const Matrix& W, const Vector& before, const Eigen::Ref<const Matrix>& basis, double scale,
                         Rng& rng, Matrix& R, Index* dropped = nullptr, double tol = 1e-6) {
  double smallest_pivot = 0;
  Matrix Qn = orthonormal_block_once(W, before, basis, scale, rng, R, dropped, smallest_pivot);
  if (basis.cols() == 0 || before.size() == 0 || !(smallest_pivot < reproject_below(tol) * before.maxCoeff())) {
    return Qn;
  }
  project_out(basis, Qn);
  Eigen::HouseholderQR<Matrix> qr(Qn);
  const Matrix R2 = qr.matrixQR().topRows(Qn.cols()).triangularView<Eigen::Upper>();
  R = R2 * R;
  return qr.householderQ() * Matrix::Identity(Qn.rows(), Qn.cols());
}

// to = from between the layouts: the solver's blocks are columns of Q (column-major) while the
// sparse kernels read and write rows (row-major), so every product converts its p × b block one
// way and its result the other. Eigen's assignment does that element by element on one thread,
// reading b strided streams: ~2 % of (d)'s samples, on one core while the other waited
// (bench/README.md). Here chunks of 256 rows go to the threads; each chunk is read in the source's
// own order, its row-major side (32 KB at b = 16) stays in L1, and its column-major side is read
// or written as runs of 2 KB per column. A copy: the same values whatever the thread count. Both
// sides must have contiguous inner dimensions (whole columns of a column-major matrix, whole rows
// of a row-major one).
template <typename From, typename To>
void copy_across_layouts(const From& from, To&& to) {
  static_assert(int(std::decay_t<From>::InnerStrideAtCompileTime) == 1 &&
                int(std::decay_t<To>::InnerStrideAtCompileTime) == 1);
  const Index n = from.rows(), b = from.cols();
  eigen_assert(to.rows() == n && to.cols() == b);
  const auto* src = from.data();
  auto* dst = to.data();
  constexpr bool kFromRows = std::decay_t<From>::IsRowMajor, kToRows = std::decay_t<To>::IsRowMajor;
  const Index from_row = kFromRows ? from.outerStride() : 1, from_col = kFromRows ? 1 : from.outerStride();
  const Index to_row = kToRows ? to.outerStride() : 1, to_col = kToRows ? 1 : to.outerStride();
  constexpr Index kChunk = 256;
#pragma omp parallel for schedule(static)
  for (Index r0 = 0; r0 < n; r0 += kChunk) {
    const Index r1 = std::min(n, r0 + kChunk);
    if constexpr (kFromRows) {
      for (Index r = r0; r < r1; ++r) {
        for (Index j = 0; j < b; ++j) dst[r * to_row + j * to_col] = src[r * from_row + j];
      }
    } else {
      for (Index j = 0; j < b; ++j) {
        for (Index r = r0; r < r1; ++r) dst[r * to_row + j * to_col] = src[r + j * from_col];
      }
    }
  }
}

template <typename To, typename From>
To across_layouts(const From& from) {
  To to(from.rows(), from.cols());
  copy_across_layouts(from, to);
  return to;
}

// G V = Σ_r X_rᵀ(X_r V) over the processes' rows (one sum of a p × b block per product), for
// column-major V and G V.
template <typename Block>
Matrix gram_product(const DataMatrix& X, const Communicator& comm, const Block& V, bool float32) {
  RowMatrix GV = X.gram_times_rows(across_layouts<RowMatrix>(V), float32);
  comm.sum(GV.data(), static_cast<std::size_t>(GV.size()));
  return across_layouts<Matrix>(GV);
}

// Eigenvalues below this fraction of θ_1 are resolved to tol times it, absolutely (see the header).
constexpr double kRelativeFloor = 1e-6;

// Unit roundoff of float: the single-precision products' error per unit vector is ≤ 2 u θ_1.
const double kFloatRoundoff = std::ldexp(1.0, -24);

// ‖G v_i − θ_i v_i‖ / max(θ_i, floor · θ_1) for pairs whose residual vectors are `residual`'s
// norms.
Vector relative_residuals(const Vector& norms, const Vector& theta, double theta1) {
  return norms.cwiseQuotient(theta.cwiseMax(kRelativeFloor * theta1));
}

// The check in double after single-precision products: the Rayleigh–Ritz pairs of span(V) with
// double products, written over `values` and `V`, and their true relative residuals. G V is formed
// b columns at a time so that the n × b intermediate stays as small as the solver's own.
// Where the solver's blocks take the two passes (X_w V, then X_wᵀ of it: wide data), every block
// of the check does — a narrower last block too, which gram_times_rows might take in one pass —
// and the intermediates are kept as `XV` (n × k), rotated with V: X_w V for the returned vectors,
// which a fit's user embeddings would otherwise form in a pass of their own (3.5 s of (d) in
// bench/README.md); otherwise `XV` is left empty. The p-deep products go by linalg/products.h,
// whose pieces never depend on the thread count.
Vector check_in_double(const DataMatrix& X, const Communicator& comm, Index b, Vector& values, Matrix& V, Matrix& XV) {
  const Index k = V.cols();
  Matrix GV(V.rows(), k);
  const bool keep = !gram_one_pass(X.cols(), std::min(b, k));
  XV = keep ? Matrix(X.rows(), k) : Matrix();
  if (keep) prefer_huge_pages(XV, PageUse::kBulk);
  for (Index c = 0; c < k; c += b) {
    const Index w = std::min(b, k - c);
    if (keep) {  // gram_times_rows' two passes in double, the intermediate kept
      const RowMatrix XVc = X.times_rows(across_layouts<RowMatrix>(V.middleCols(c, w)));
      RowMatrix GVc = X.transpose_times_rows(XVc);
      comm.sum(GVc.data(), static_cast<std::size_t>(GVc.size()));
      copy_across_layouts(GVc, GV.middleCols(c, w));
      copy_across_layouts(XVc, XV.middleCols(c, w));
    } else {
      GV.middleCols(c, w) = gram_product(X, comm, V.middleCols(c, w), false);
    }
  }
  const Matrix H = transpose_times(V, GV);
  Eigen::SelfAdjointEigenSolver<Matrix> eig(0.5 * (H + H.transpose()));
  if (eig.info() != Eigen::Success) throw Error("eigen-decomposition of the Krylov check failed");
  values = eig.eigenvalues().reverse();
  const Matrix Z = eig.eigenvectors().rowwise().reverse();
  V = times(V, Z);
  if (keep) times_in_place(XV, Z);
  const Matrix R = times(GV, Z) - V * values.asDiagonal();
  return relative_residuals(R.colwise().norm().transpose(), values, std::max(values(0), 0.0));
}

}  // namespace

double block_krylov_bytes(Index n, Index p, Index k, const BlockKrylovOptions& options) {
  const Index bi = choose_block(k, p, options);
  const double b = static_cast<double>(bi);
  const double m = static_cast<double>(choose_basis(p, k, bi, options)) + b;
  // Basis Q and the restart's copy, the projected matrix T and the eigen-solver's copies of it,
  // the product's workspace, the p × b work blocks, the p × k result and, after single-precision
  // products, the check's three p × k blocks. (The check's n × k X_w V on wide data is the fit's
  // own, which the fit's estimate counts.)
  return 8.0 * (2.0 * static_cast<double>(p) * m + 4.0 * m * m + 6.0 * static_cast<double>(p) * b +
                4.0 * static_cast<double>(p) * static_cast<double>(k)) +
         gram_workspace_bytes(n, p, bi);
}

BlockKrylovResult block_krylov_eigs(const DataMatrix& X, Index k, const BlockKrylovOptions& options,
                                    const Context& ctx, const ProgressFn& progress, const Communicator& comm) {
  const Index p = X.cols();
  if (k < 1 || k > p) throw InvalidArgument(fmt::format("rank {} is outside [1, {}]", k, p));
  if (!(options.tol > 0)) throw InvalidArgument(fmt::format("Krylov tolerance must be positive, got {}", options.tol));
  const ThreadScope thread_scope(ctx);
  const Index b = std::min(choose_block(k, p, options), p);
  const Index m_max = choose_basis(p, k, b, options);
  // Ritz vectors kept at a restart: k and a sixth of the basis beyond it (1.5 k with the default
  // basis of 4 k) but at least k + min(b, half the room), leaving room for at least one new block. Krylov–Schur's usual choice, half-way
  // between k and the basis, needs about as many products from ~1.25 k up (138,000 × 19,778,
  // k = 100: 1,328 / 1,312 / 1,296 / 1,304 products keeping 125 / 150 / 175 / 250; k alone takes
  // 2.6×), while a smaller keep makes each cycle cheaper: the basis is orthogonalised against at a
  // narrower width on average, and the restarts (a p × m × keep product each) are fewer and
  // smaller. Measured (bench/README.md, (a)): the solve ~13 % faster at k = 100 (four alternated
  // pairs), ~18 % at k = 200 (one run each), the same at k = 50 and on (d).
  const Index keep = std::min(std::max(k + std::min(b, (m_max - k) / 2), k + (m_max - k) / 6), m_max - b);
  Rng rng(ctx.seed, 0x6b72796c6f76ULL);  // "krylov"
  // Single precision is possible only if tol can ever allow it (θ_k ≤ θ_1), and never on a basis
  // that may grow to all of R^p (whose completion below is exact).
  bool may_use_float32 = options.mixed_precision && options.tol >= 20 * kFloatRoundoff && m_max + b <= p;
  bool float32 = false;  // products on single-precision blocks from now on

  BlockKrylovResult result;
  result.block = b;
  Matrix Q(p, m_max + b);
  prefer_huge_pages(Q, PageUse::kBulk);  // streamed by each block's projection (linalg/orthogonalize.h), twice or three times
  Matrix T = Matrix::Zero(m_max + b, m_max + b);
  Matrix R;
  {
    const Matrix start = gaussian(p, b, rng);
    Q.leftCols(b) = orthonormal_block(start, start.colwise().norm().transpose(), Q.leftCols(0), 1.0, rng, R);
  }

  double scale = 0;  // largest |entry| of T so far, the scale for "negligible"
  Index c0 = 0;      // the current block is Q's columns [c0, c0 + b)
  Index coupled = 0;  // G Q_c has components along Q's columns [coupled, c0 + b) alone (exactly)

  // Rayleigh–Ritz on the basis so far, Q's first m columns: the `count` leading pairs (θ, Y) of
  // T_m and the relative residuals of the k wanted ones. By the Lanczos relation
  // G Q_m = Q_m T_m + Q_next R E_cᵀ (E_c selecting the current block) the residual of (θ, Q_m y)
  // is ‖R y_c‖, y_c the rows of y for the current block — at a restart and between restarts
  // alike. dense_top_eigen finds just those pairs (LAPACK, where configured; BM_DenseTopEigen's
  // p = 1,000 row scaled by m³ puts that near 0.01 s at m = 394, Eigen's full decomposition near
  // 0.05 s).
  const auto rayleigh_ritz = [&](Index m, Index count, Vector& theta, Matrix& Y) -> Vector {
    if (!T.topLeftCorner(m, m).allFinite()) {
      throw Error("block Krylov: the data matrix has non-finite values (NaN or infinity)");
    }
    dense_top_eigen(T.topLeftCorner(m, m), count, theta, Y);
    const double top = std::max(theta(0), std::numeric_limits<double>::min());
    // With single-precision products the Lanczos relation holds up to their error, 2 u θ_1 per
    // unit vector: counted against the tolerance.
    const double product_error = result.float32_products > 0 ? 2 * kFloatRoundoff * top : 0.0;
    const Vector norms = (R * Y.block(c0, 0, b, k)).colwise().norm().transpose();
    Vector residuals = relative_residuals((norms.array() + product_error).matrix(), theta.head(k), top);
    if (!std::isfinite(residuals.maxCoeff())) {
      throw Error("block Krylov: the data matrix has non-finite values (NaN or infinity)");
    }
    return residuals;
  };
  // The k pairs of a Rayleigh–Ritz step whose residuals meet tol become the result, unless the
  // Lanczos relation behind those residuals is not exact to rounding: after single-precision
  // products, or where a block dropped a part below the negligible level (householder_block: on
  // data of lower rank, or with eigenvalues far below θ_1, whose residual allowance tol · 10⁻⁶ θ_1
  // can be smaller than that level). Then only once a check with true products in double
  // confirms them (false: it did not, and the solver goes on, in double).
  Index dropped = 0;  // blocks that dropped a part (householder_block)
  double checked = 0;  // the worst true residual of the last check that failed (0: none did)
  const auto accept = [&](Index m, const Vector& theta, const Matrix& Y, const Vector& residuals) -> bool {
    result.values = theta.head(k);
    result.vectors = times(Q.leftCols(m), Y.leftCols(k));
    result.residuals = residuals;
    result.basis = m;
    result.data_times_vectors = Matrix();
    if (result.float32_products == 0 && dropped == 0) return true;
    result.residuals = check_in_double(X, comm, b, result.values, result.vectors, result.data_times_vectors);
    result.products += k;
    // A residual within the double products' own rounding (64 u θ_1 absolute) is all a check can
    // confirm: a tol below that (tight tol on pairs near the 10⁻⁶ θ_1 floor) is met to it.
    const double top = std::max(result.values(0), std::numeric_limits<double>::min());
    const Vector reachable = relative_residuals(Vector::Constant(k, 64 * std::numeric_limits<double>::epsilon() * top),
                                                result.values, top);
    if ((result.residuals.array() <= reachable.array().max(options.tol)).all()) return true;
    checked = result.residuals.maxCoeff();
    if (progress) {
      progress(fmt::format("block Krylov: the check with true products found residual {:.2e} > tol {:.0e}; going on{}",
                           result.residuals.maxCoeff(), options.tol, float32 ? " in double" : ""));
    }
    may_use_float32 = float32 = false;
    result.data_times_vectors = Matrix();  // n × k not needed until the next check
    return false;
  };

  // When to test convergence between restarts. A restart tests it anyway, but one cycle is 248
  // products at k = 100 and the worst residual falls by 10²–10³ over the last one (138,000 × 19,778:
  // 3.7e-6 to 1.0e-8 against tol 1e-6), so waiting for it overshoots by most of a cycle. A test (a
  // Rayleigh–Ritz step on the basis) costs a fraction of one block's product and orthogonalisation
  // at k = 100 with LAPACK (~8 ms at 400 columns against ~40 ms), a late stop a whole block per
  // block, so tests are spent where the trend says the stop is near: the line through the last two
  // tests' log residuals gives the products `need`ed to reach tol. When 0.7 need is more than one
  // cycle beyond the next restart, nothing is tested before it; otherwise the next test is at
  // 0.7 need or half-way to the restart, whichever is sooner (the log residual falls faster as
  // pairs converge — on bench/README.md's second-generator matrix 4× faster between 304 and 400
  // products than between 200 and 304 — so the line errs late). The first basis is tested from
  // half its size on (never before: its leading Ritz pairs may still miss wanted directions), then
  // half-way to its end; a basis after a restart from its first new block on. No tests between restarts where one would cost more than a block (the
  // solver's cost model: kKrylovSecondsPerNonzeroAndVector against dense_top_eigen_seconds of the
  // full basis — large k, or Eigen's eigen-solver on small data), nor where the basis may grow to
  // all of R^p, whose completion below is exact. Every process takes the same decisions: they
  // depend only on replicated values.
  const double block_seconds = static_cast<double>(b) * kKrylovSecondsPerNonzeroAndVector *
                               comm.sum(static_cast<double>(X.sparse().nonZeros())) / static_cast<double>(comm.size());
  const bool test_between = m_max + b <= p && dense_top_eigen_seconds(m_max) <= block_seconds;
  const Index cycle = m_max - keep;  // products per cycle after the first
  Index next_test = m_max / 2;       // product count of the next test between restarts
  double last_worst = 0;             // worst residual and product count at the last test (0: none yet)
  Index last_products = 0;
  const auto schedule_test = [&](double worst, Index to_restart) {
    Index ahead = to_restart;  // the restart's own test
    if (last_worst == 0) {
      ahead = to_restart / 2;
    } else if (worst > options.tol && last_worst > worst && result.products > last_products) {
      const double slope = std::log(last_worst / worst) / static_cast<double>(result.products - last_products);
      const double reach = 0.7 * std::log(worst / options.tol) / slope;
      if (reach < static_cast<double>(to_restart + cycle)) {
        ahead = std::min(static_cast<Index>(reach), to_restart / 2);
      }
    }
    next_test = result.products + std::max(ahead, b);
    last_worst = worst;
    last_products = result.products;
  };

  for (;;) {
    interruption_point();
    const Index m = c0 + b;  // basis size including the current block
    // W = G Q_c, one pass over the nonzeros for all b vectors; its projection on the basis is
    // the block column of T = Qᵀ G Q, and what remains is orthogonal to the basis (full
    // reorthogonalisation: first against the blocks it is coupled to, then against all of Q).
    Matrix W = gram_product(X, comm, Q.middleCols(c0, b), float32);
    result.products += b;
    if (float32) result.float32_products += b;
    const Vector before = W.colwise().norm().transpose();
    const Matrix H = project_out_coupled(Q.leftCols(m), coupled, W, &result.repeated_projections);
    T.block(0, c0, m, b) = H;
    T.block(c0, 0, b, m) = H.transpose();
    T.block(c0, c0, b, b) = 0.5 * (H.bottomRows(b) + H.bottomRows(b).transpose());
    scale = std::max(scale, H.cwiseAbs().maxCoeff());
    if (may_use_float32 && !float32 && m >= k) {  // does tol leave room for single precision yet?
      const Vector ev = Eigen::SelfAdjointEigenSolver<Matrix>(T.topLeftCorner(m, m), Eigen::EigenvaluesOnly).eigenvalues();
      float32 = 20 * kFloatRoundoff * ev(m - 1) <= options.tol * ev(m - k);
    }
    if (m + b > p) {  // no room for another whole block in R^p: complete the basis below
      result.basis = m;
      break;
    }
    // G Q = Q T + Q_next R E_cᵀ (the Lanczos relation, with E_c selecting the current block).
    const Matrix next = orthonormal_block(W, before, Q.leftCols(m), scale, rng, R, &dropped, options.tol);
    if (m + b <= m_max) {  // grow the basis, testing convergence first where it is due
      if (test_between && result.products >= next_test && m >= (result.restarts == 0 ? std::max(k, m_max / 2) : keep + b)) {
        Vector theta;
        Matrix Y;
        const Vector residuals = rayleigh_ritz(m, k, theta, Y);
        const double worst = residuals.maxCoeff();
        if (worst <= options.tol && accept(m, theta, Y, residuals)) {
          if (progress) {
            progress(fmt::format("block Krylov: converged in cycle {} at {} products ({} in float32), worst residual "
                                 "{:.2e} (tol {:.0e})",
                                 result.restarts + 1, result.products, result.float32_products,
                                 result.residuals.maxCoeff(), options.tol));
          }
          return result;
        }
        schedule_test(worst, m_max - m);
      }
      Q.middleCols(m, b) = next;
      T.block(m, c0, b, b) = R;
      T.block(c0, m, b, b) = R.transpose();
      coupled = c0;
      c0 = m;
      continue;
    }
    // The basis is full: Rayleigh–Ritz on the `keep` leading pairs (≥ k), which the restart keeps.
    Vector theta;
    Matrix Y;
    const Vector residuals = rayleigh_ritz(m, keep, theta, Y);
    const double worst = residuals.maxCoeff();
    ++result.restarts;
    if (progress) {
      progress(fmt::format("block Krylov: cycle {}, {} products ({} in float32), worst residual {:.2e} (tol {:.0e})",
                           result.restarts, result.products, result.float32_products, worst, options.tol));
    }
    if (worst <= options.tol && accept(m, theta, Y, residuals)) return result;
    schedule_test(worst, cycle);
    if (result.restarts >= options.max_cycles) {
      throw Error(fmt::format(
          "block Krylov did not converge in {} cycles ({} vector products): relative residual {:.2e} > tol {:.0e} "
          "(rank {}, p = {}); use --solver lanczos or gram",
          result.restarts, result.products, std::max(worst, checked), options.tol, k, p));
    }
    // Thick restart (Krylov–Schur): keep the leading Ritz vectors, whose projection is diagonal,
    // and the next block, coupled to them through R y_c.
    times_in_place(Q, Y.leftCols(keep));
    Q.middleCols(keep, b) = next;
    T.setZero();
    T.diagonal().head(keep) = theta.head(keep);
    const Matrix coupling = R * Y.block(c0, 0, b, keep);
    T.block(keep, 0, b, keep) = coupling;
    T.block(0, keep, keep, b) = coupling.transpose();
    c0 = keep;
    coupled = 0;
  }

  // The basis has m > p − b columns: complete it with the orthogonal complement C and solve the
  // projected problem on all of R^p, which is exact. T's leading m × m part is Qᵀ G Q by the
  // Lanczos relation, which holds to rounding unless a block dropped a part (householder_block):
  // then it is formed again from true products, m more of them.
  const Index m = result.basis;
  const Index c = p - m;
  if (dropped > 0) {
    Matrix GQ(p, m);
    for (Index j0 = 0; j0 < m; j0 += b) {
      const Index w = std::min(b, m - j0);
      GQ.middleCols(j0, w) = gram_product(X, comm, Q.middleCols(j0, w), false);
    }
    result.products += m;
    const Matrix H = transpose_times(Q.leftCols(m), GQ);
    T.topLeftCorner(m, m) = 0.5 * (H + H.transpose());
  }
  Matrix basis(p, p);
  basis.leftCols(m) = Q.leftCols(m);
  if (c > 0) {
    Eigen::HouseholderQR<Matrix> qr(Q.leftCols(m));
    Matrix Cc = (qr.householderQ() * Matrix::Identity(p, p)).rightCols(c);
    project_out(Q.leftCols(m), Cc);  // polish: Q is orthonormal only up to rounding
    basis.rightCols(c) = Eigen::HouseholderQR<Matrix>(Cc).householderQ() * Matrix::Identity(p, c);
    const Matrix GC = gram_product(X, comm, basis.rightCols(c), false);
    result.products += c;
    Matrix full = Matrix::Zero(p, p);
    full.topLeftCorner(m, m) = T.topLeftCorner(m, m);
    full.topRightCorner(m, c) = basis.leftCols(m).transpose() * GC;
    full.bottomLeftCorner(c, m) = full.topRightCorner(m, c).transpose();
    const Matrix Tcc = basis.rightCols(c).transpose() * GC;
    full.bottomRightCorner(c, c) = 0.5 * (Tcc + Tcc.transpose());
    T = std::move(full);
  }
  Eigen::SelfAdjointEigenSolver<Matrix> eig(T.topLeftCorner(p, p));
  if (eig.info() != Eigen::Success) throw Error("eigen-decomposition of the Krylov projection failed");
  result.values = eig.eigenvalues().tail(k).reverse();
  result.vectors = basis * eig.eigenvectors().rightCols(k).rowwise().reverse();
  result.residuals = Vector::Zero(k);
  result.basis = p;
  result.spans_all = true;
  result.data_times_vectors = Matrix();
  return result;
}

}  // namespace linsim
