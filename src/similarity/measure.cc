#include "linsim/similarity/measure.h"

#include <algorithm>

#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>
#include <type_traits>

#include "linalg/products.h"
#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/linalg/data_matrix.h"
#include "linsim/linalg/gram.h"
#include "linsim/linalg/spectrum.h"

namespace linsim {
namespace {

// Whether squared lengths g (a Gram matrix's diagonal) are those of counts: each 0 or in
// [1, 2^26], as for binary and count data. Their cosines are then taken as ±√(G_ij² / (g_i g_j)):
// for integer entries G_ij² and g_i g_j are exact, so the cosine is one rounding of an exact
// rational, and cosines equal in exact arithmetic (1/√6 = 3/√54) are equal doubles (math.md M4,
// cos(i, j) = G_ij / √(G_ii G_jj)). Raw item-kNN from XᵀX and the raw similarity space share it.
bool lengths_of_counts(const Vector& g) {
  return (g.array() == 0 || (g.array() >= 1.0 && g.array() <= std::ldexp(1.0, 26))).all();
}

// sim(i, j) = ⟨f_i, f_j⟩ over dense rows: one GEMM per block of queries.
class FactorSpace final : public SimilaritySpace {
 public:
  explicit FactorSpace(Matrix F) : F_(std::move(F)) {}
  Index size() const override { return F_.rows(); }
  void score(const std::vector<Index>& queries, RowMatrix& out) const override {
    const Matrix Q = F_(queries, Eigen::all);
    const auto b = static_cast<Index>(queries.size());
    out.resize(b, F_.rows());
    // The row-major b × N scores are, in memory, the column-major F Qᵀ.
    multiply<double>(false, true, F_.rows(), b, F_.cols(), F_.data(), F_.rows(), Q.data(), b, out.data(), F_.rows());
  }
  const Matrix* dense_factors() const override { return &F_; }

 private:
  Matrix F_;
};

// Raw cosine between sparse rows (item-kNN on X's columns, user-kNN on its rows). Row q of the
// scores accumulates G_qj = Σ_t F_qt F_jt over the nonzeros t of row q, reading F column by column
// (CSC copy): the cost of a query is Σ_{t ∈ q} |column t|, never a dense pass over all of F.
// For counts (lengths_of_counts) each cosine is ±√(G_qj² / (G_qq G_jj)), as cosines_of_gram forms
// raw item-kNN for the metrics: ties in exact arithmetic tie (the lower index first in a top-N),
// and the scores are the metrics' bit for bit. Other data takes the rows normalised first.
class SparseFactorSpace final : public SimilaritySpace {
 public:
  explicit SparseFactorSpace(SparseMatrix F) : F_(std::move(F)) {
    Vector g(F_.rows());
    for (Index i = 0; i < F_.rows(); ++i) {
      double sum = 0;
      for (SparseMatrix::InnerIterator it(F_, i); it; ++it) sum += it.value() * it.value();
      g(i) = sum;
    }
    if (lengths_of_counts(g)) {
      // A row without nonzeros has G_qj = 0 throughout: an infinite length makes its 0² / ∞ a 0
      // instead of 0 / 0 (the zero-vector policy: cosine 0 with everything).
      lengths_ = (g.array() == 0).select(std::numeric_limits<double>::infinity(), g);
    } else {
      F_ = normalize_rows(std::move(F_));
    }
    Fc_ = ColumnMajor(F_);
  }
  Index size() const override { return F_.rows(); }
  void score(const std::vector<Index>& queries, RowMatrix& out) const override {
    out.setZero(static_cast<Index>(queries.size()), F_.rows());
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t r = 0; r < queries.size(); ++r) {
      double* row = out.row(static_cast<Index>(r)).data();
      for (SparseMatrix::InnerIterator it(F_, queries[r]); it; ++it) {
        const double f = it.value();
        for (ColumnMajor::InnerIterator jt(Fc_, it.col()); jt; ++jt) row[jt.row()] += f * jt.value();
      }
      if (lengths_.size() > 0) {
        // Only the entries the query reached: a zero stays 0, without a division and a root
        // (most of a row, on sparse data) or a row-long temporary per query.
        const double gq = lengths_(queries[r]);
        const double* g = lengths_.data();
        for (Index j = 0; j < F_.rows(); ++j) {
          const double G = row[j];
          if (G == 0) continue;
          const double root = std::sqrt(G * G / (g[j] * gq));
          row[j] = G < 0 ? -root : root;
        }
      }
    }
  }

 private:
  using ColumnMajor = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;
  SparseMatrix F_;
  ColumnMajor Fc_;  // the same matrix, column-major
  Vector lengths_;  // counts: each row's squared length (∞ for an empty row); else empty
};

// sim(i, j) = S(i, j) for an explicit size × size matrix, double or float: one computed for the
// space (owned), or the model's own EASE weights (borrowed, not copied: p² doubles, 3.2 GB at
// p = 20,000; the model outlives the space, as make_similarity_space says).
template <typename Scalar>
class ExplicitSpace final : public SimilaritySpace {
 public:
  explicit ExplicitSpace(MatrixOf<Scalar> S) : owned_(std::move(S)), S_(&owned_) {}
  ExplicitSpace(const ExplicitSpace&) = delete;  // S_ may point into this object
  ExplicitSpace& operator=(const ExplicitSpace&) = delete;
  static std::unique_ptr<ExplicitSpace> borrowing(const MatrixOf<Scalar>& S) {
    return std::unique_ptr<ExplicitSpace>(new ExplicitSpace(&S));
  }
  Index size() const override { return S_->cols(); }
  void score(const std::vector<Index>& queries, RowMatrix& out) const override {
    out = (*S_)(queries, Eigen::all).template cast<double>();
  }

 private:
  explicit ExplicitSpace(const MatrixOf<Scalar>* borrowed) : S_(borrowed) {}
  MatrixOf<Scalar> owned_;
  const MatrixOf<Scalar>* S_;
};

// The space of the model's own weights, in their precision, without a copy.
template <typename Scalar>
std::unique_ptr<SimilaritySpace> borrowed_space(const MatrixOf<Scalar>& W) {
  return ExplicitSpace<Scalar>::borrowing(W);
}

// Cosines from a Gram matrix of inner products, cos(i, j) = G_ij / √(G_ii G_jj) (docs/math.md M4:
// raw item-kNN on G = XᵀX, EASE's projected measure on G = Wᵀ XᵀX W), in its own precision
// (cosine_from_gram).
template <typename Scalar>
MatrixOf<Scalar> cosines_of_gram(MatrixOf<Scalar> S) {
  const Vector d = S.diagonal().template cast<double>().cwiseMax(0.0).cwiseSqrt();
  const double floor = d.size() > 0 ? kRelativeNormFloor * d.maxCoeff() : 0.0;
  if constexpr (std::is_same_v<Scalar, double>) {
    // Counts (lengths_of_counts): ±√(S_ij² / (S_ii S_jj)), so that cosines equal in exact
    // arithmetic tie as the metrics and the top-N order say ties do (was: d_i⁻¹ S_ij d_j⁻¹ rounded
    // them apart, and the later one could win).
    const Vector g = S.diagonal();
    if (lengths_of_counts(g)) {
      const Index p = S.rows();
      // Column by column through Eigen's array operations (vectorised division and square root,
      // both correctly rounded; the sign a factor of ±1, exact); the rows and columns below the
      // norm floor, 0/0 among them, are set to zero afterwards.
#pragma omp parallel
      {
        Eigen::ArrayXd root(p);  // select, unlike sign(), keeps the expression vectorised (4× faster)
#pragma omp for schedule(static)
        for (Index j = 0; j < p; ++j) {
          auto column = S.col(j).array();
          root = (column.square() / (g.array() * g(j))).sqrt();
          column = (column < 0).select(-root, root);
        }
      }
      for (Index i = 0; i < p; ++i) {
        if (!(d(i) > floor)) {
          S.row(i).setZero();
          S.col(i).setZero();
        }
      }
      return S;
    }
  }
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> inv(d.size());
  for (Index i = 0; i < d.size(); ++i) inv(i) = static_cast<Scalar>(d(i) > floor ? 1.0 / d(i) : 0.0);
  S = inv.asDiagonal() * S * inv.asDiagonal();
  return S;
}

std::string unsupported(const Model& model, Side side, Measure measure, const char* why) {
  return fmt::format("--measure {} is not available for {} of a {} model: {}", measure_name(measure),
                     side == Side::kItems ? "items" : "users", model_name(model.options.kind), why);
}

// EASE's gauge-free similarity: cosine of the columns of X W, from S = Wᵀ G W (p × p), in the
// precision of W (a float32 model's three p × p products run in single precision).
template <typename Scalar>
std::unique_ptr<SimilaritySpace> ease_projected(const MatrixOf<Scalar>& W, const Model& model, const SparseView& X,
                                                const Context& ctx) {
  // The data space the model was fitted in: the weighted (and possibly centred) X.
  const SparseMatrix Y = model.weighting.apply(X);
  const MatrixOf<Scalar> GW = times(DataMatrix(Y, model.weighting.center).gram<Scalar>(ctx), W);
  return std::make_unique<ExplicitSpace<Scalar>>(cosines_of_gram<Scalar>(transpose_times(W, GW)));
}

}  // namespace

Measure parse_measure(const std::string& name) {
  if (name == "dot") return Measure::kDot;
  if (name == "cosine") return Measure::kCosine;
  if (name == "projected") return Measure::kProjected;
  if (name == "raw") return Measure::kRaw;
  throw InvalidArgument(fmt::format("unknown measure '{}' (valid: dot, cosine, projected, raw)", name));
}

const char* measure_name(Measure measure) {
  switch (measure) {
    case Measure::kDot: return "dot";
    case Measure::kCosine: return "cosine";
    case Measure::kProjected: return "projected";
    case Measure::kRaw: return "raw";
  }
  return "?";
}

namespace {

// The L of the canonical vectors C = B L (L Lᵀ = PᵀP), and L⁺ᵀ for the partner P' = P L⁺ᵀ.
// Any L with L Lᵀ = PᵀP gives the same Gram matrix C Cᵀ = B PᵀP Bᵀ, but the vectors themselves
// differ by a rotation; L is fixed so that C holds the principal coordinates of that Gram matrix:
// CᵀC diagonal, decreasing, each column signed by fix_signs. That depends on the Gram matrix
// alone, so the vectors are the same for every gauge of an eq1 model and every math library (up
// to rounding, and up to a rotation inside an eigenvalue of C Cᵀ that repeats, where the Gram
// matrix itself does not tell the vectors apart). Taking L = Q Λ^{1/2} from PᵀP = Q Λ Qᵀ alone
// is not enough: in the item-orthonormal gauge PᵀP = I, every eigenvalue repeats, and users'
// canonical vectors came out in an arbitrary rotation (differing by 1.3 between gauges).
struct ProjectedBasis {
  Matrix C;         // the canonical vectors B L times a power of two: B L = ldexp(C, c_exponent)
  int c_exponent;
  Matrix P;         // P times a power of two, and the L⁺ᵀ of that P: their product is P' for the
  Matrix L_pinv_t;  // given P too (scaling P by 2^p scales L by 2^p and L⁺ᵀ by 2^-p)
};

// The exponent e with 2^e · max|V| in [1/2, 1) (0 for a zero or empty V).
int unit_exponent(const Matrix& V) {
  const double largest = V.size() > 0 ? V.cwiseAbs().maxCoeff() : 0.0;
  if (!(largest > 0) || !std::isfinite(largest)) return 0;
  int e = 0;
  std::frexp(largest, &e);
  return -e;
}

// The basis is computed from B and P scaled by powers of two to a largest |value| near 1, so that
// the Gram matrices PᵀP and CᵀC neither overflow nor underflow for vectors of any scale a double
// holds: the measure is scale-free (cosines), and the scalings are exact and undone exactly
// (was: vectors of 1e200 or 1e-300 gave rows of NaN or 0, refused by their callers instead).
ProjectedBasis projected_basis(const Matrix& B_in, const Matrix& P_in) {
  const int b = unit_exponent(B_in), p = unit_exponent(P_in);
  const Matrix B = B_in.unaryExpr([b](double v) { return std::ldexp(v, b); });
  Matrix P = P_in.unaryExpr([p](double v) { return std::ldexp(v, p); });
  // MATH.md M4: L0 = Q Λ^{1/2} from PᵀP = Q Λ Qᵀ (k × k); L0⁺ᵀ = Q Λ^{−1/2} (0 on Λ = 0).
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(transpose_times(P, P));
  const Vector& d = eig.eigenvalues();
  const double floor = 1e-12 * std::max(d.cwiseAbs().maxCoeff(), 1e-300);
  Vector root(d.size()), inv_root(d.size());
  for (Index i = 0; i < d.size(); ++i) {
    root(i) = std::sqrt(std::max(d(i), 0.0));
    inv_root(i) = d(i) > floor ? 1.0 / root(i) : 0.0;
  }
  const Matrix L0 = eig.eigenvectors() * root.asDiagonal();
  // The rotation R to principal coordinates: (B L0)ᵀ(B L0) = R S Rᵀ, S decreasing.
  const Matrix C0 = times(B, L0);
  const Eigen::SelfAdjointEigenSolver<Matrix> principal(transpose_times(C0, C0));
  Matrix R = principal.eigenvectors().rowwise().reverse();
  Matrix C = times(C0, R);
  fix_signs(C, &R);
  Matrix L_pinv_t = eig.eigenvectors() * inv_root.asDiagonal() * R;
  return {std::move(C), -(b + p), std::move(P), std::move(L_pinv_t)};
}

}  // namespace

Matrix projected_factors(const Matrix& B, const Matrix& P) {
  // MATH.md M4: C = B L with L Lᵀ = PᵀP.
  const ProjectedBasis basis = projected_basis(B, P);
  const int e = basis.c_exponent;
  return basis.C.unaryExpr([e](double v) { return std::ldexp(v, e); });
}

Matrix projected_partner(const Matrix& P, const Matrix& B) {
  // P' = P L⁺ᵀ with the L of projected_factors, so that P' Cᵀ = P Bᵀ.
  const ProjectedBasis basis = projected_basis(B, P);
  return times(basis.P, basis.L_pinv_t);
}

Matrix least_squares_users(const SparseView& X, const Matrix& B, int* exponent) {
  if (X.cols() != B.rows()) {
    throw InvalidArgument(fmt::format("the interactions have {} items, the item vectors {}", X.cols(), B.rows()));
  }
  // (BᵀB)⁺ from the k × k eigen-decomposition, eigenvalues below 1e-12 of the largest taken as 0,
  // of B scaled by a power of two to a largest |value| near 1 (BᵀB then neither overflows nor
  // underflows): with B = 2^-b B̃, P = 2^b X B̃ (B̃ᵀB̃)⁺.
  const int b = unit_exponent(B);
  const Matrix Bs = B.unaryExpr([b](double v) { return std::ldexp(v, b); });
  Eigen::SelfAdjointEigenSolver<Matrix> eig(transpose_times(Bs, Bs));
  const Vector& d = eig.eigenvalues();
  const double floor = 1e-12 * std::max(d.cwiseAbs().maxCoeff(), 1e-300);
  Vector inv(d.size());
  for (Index i = 0; i < d.size(); ++i) inv(i) = d(i) > floor ? 1.0 / d(i) : 0.0;
  const Matrix XB = DataMatrix(X).times(Bs);
  Matrix P = times(XB, eig.eigenvectors() * inv.asDiagonal() * eig.eigenvectors().transpose());
  if (exponent != nullptr) {
    *exponent = b;
    return P;
  }
  return P.unaryExpr([b](double v) { return std::ldexp(v, b); });
}

Matrix measure_factors(Measure measure, const Matrix& mine, const Matrix& other) {
  switch (measure) {
    case Measure::kDot: return mine;
    case Measure::kCosine: return normalize_rows(mine);
    case Measure::kProjected: return normalize_rows(projected_basis(mine, other).C);  // unit rows: scale-free
    case Measure::kRaw: break;
  }
  throw InvalidArgument("--measure raw has no embeddings (use dot, cosine or projected)");
}

Index score_block_rows(Index width) {
  // Large enough that a block of queries amortises one pass over a big factor matrix (at 100,000
  // items, 32 MB blocks held 41 queries and the product was bound by reading the factors).
  constexpr Index kBlockBytes = Index{128} << 20;
  return std::clamp<Index>(kBlockBytes / (8 * std::max<Index>(width, 1)), 1, 1024);
}

void for_each_score_block(const SimilaritySpace& space, const std::vector<Index>& queries, const ScoreBlockFn& fn) {
  const auto step = static_cast<size_t>(score_block_rows(space.size()));
  RowMatrix scores;
  for (size_t first = 0; first < queries.size(); first += step) {
    interruption_point();
    const size_t count = std::min(step, queries.size() - first);
    const std::vector<Index> block(queries.begin() + static_cast<std::ptrdiff_t>(first),
                                   queries.begin() + static_cast<std::ptrdiff_t>(first + count));
    space.score(block, scores);
    fn(first, block, scores);
  }
}

std::unique_ptr<SimilaritySpace> make_factor_space(Matrix F) {
  return std::make_unique<FactorSpace>(std::move(F));
}

std::unique_ptr<SimilaritySpace> make_explicit_space(Matrix S) {
  return std::make_unique<ExplicitSpace<double>>(std::move(S));
}

Matrix cosine_from_gram(Matrix S) { return cosines_of_gram<double>(std::move(S)); }

std::unique_ptr<SimilaritySpace> make_similarity_space(const Model& model, const SparseView& X,
                                                       Side side, Measure measure, const Context& ctx) {
  const ThreadScope thread_scope(ctx);
  const bool items = side == Side::kItems;
  if (measure == Measure::kRaw) {
    // Classic item-kNN / user-kNN: cosine between columns (rows) of X.
    SparseMatrix rows = items ? SparseMatrix(X.transpose()) : SparseMatrix(X);
    return std::make_unique<SparseFactorSpace>(std::move(rows));
  }
  if (!model.has_embeddings()) {
    if (!items) throw InvalidArgument(unsupported(model, side, measure, "EASE has no user embeddings; use raw"));
    if (measure == Measure::kDot) return model.with_weights([](const auto& W) { return borrowed_space(W); });
    if (measure == Measure::kProjected) {
      return model.with_weights([&](const auto& W) { return ease_projected(W, model, X, ctx); });
    }
    throw InvalidArgument(unsupported(model, side, measure, "EASE has no embeddings; use dot, projected or raw"));
  }
  const Matrix& mine = items ? model.item_embeddings : model.user_embeddings;
  const Matrix& other = items ? model.user_embeddings : model.item_embeddings;
  return make_factor_space(measure_factors(measure, mine, other));
}

}  // namespace linsim
