// Similarity measures (MATH.md M4). Every measure is an inner product between rows of a
// "factor" matrix: dot uses the embeddings, cosine their normalised rows, projected the
// normalised canonical factors C = B L (L Lᵀ = PᵀP), raw the normalised columns (or rows) of X.
// EASE has no embeddings: its item "dot" is the weight W_ij and its projected similarity the
// explicit cosine matrix of X W's columns.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/linalg/normalize.h"
#include "linsim/models/model.h"

namespace linsim {

enum class Measure { kDot, kCosine, kProjected, kRaw };
enum class Side { kItems, kUsers };

Measure parse_measure(const std::string& name);
const char* measure_name(Measure measure);

// MATH.md M4 "projected": C = B L with L Lᵀ = PᵀP (symmetric square root of the k × k Gram
// matrix, so PᵀP may be singular). Cosines of C's rows equal cosines of the columns of
// X̂ = P Bᵀ, invariant under every P → P M, B → B M⁻ᵀ. For the user side, swap the arguments.
// Of the L with L Lᵀ = PᵀP, the one whose C holds the principal coordinates of C Cᵀ = B PᵀP Bᵀ
// (CᵀC diagonal and decreasing, each column signed so that its largest |entry| is positive): C
// itself, not only C Cᵀ, is then the same for every gauge of an eq1 model and every math library,
// up to a rotation inside an eigenvalue of C Cᵀ that repeats.
Matrix projected_factors(const Matrix& B, const Matrix& P);

// The partner of projected_factors(B, P): P' = P L⁺ᵀ with the same L, so that P' Cᵀ = P Bᵀ (the
// same scores) and P'ᵀP' = I (on the range of PᵀP). With it, the projected similarity of (C, P') is C's plain cosine.
Matrix projected_partner(const Matrix& P, const Matrix& B);

// The users that best reproduce interactions X (n × p) from item vectors B (p × k) alone, by least
// squares: P = X B (BᵀB)⁺ minimises ‖X − P Bᵀ‖_F (pseudo-inverse on BᵀB's null space). The partner
// of third-party item vectors when only interactions are known (`linsim audit`, `linsim export`).
// With `exponent`, returns P times a power of two instead, P = ldexp(result, *exponent): for the
// scale-free projected measure, where P itself could overflow (tiny item vectors) or underflow.
Matrix least_squares_users(const SparseView& X, const Matrix& B, int* exponent = nullptr);

// The rows whose plain inner products are `measure`'s similarity between the rows of `mine`, given
// the other side's embeddings `other` (MATH.md M4): dot → mine; cosine → its unit rows; projected →
// the unit rows of projected_factors(mine, other). The one definition behind the similarity spaces,
// `linsim export` and the audit. Throws InvalidArgument for raw (it has no factors).
Matrix measure_factors(Measure measure, const Matrix& mine, const Matrix& other);

// Scores between a set of query rows and all rows of one side.
class SimilaritySpace {
 public:
  virtual ~SimilaritySpace() = default;
  // Number of rows (items or users) that can be queried and returned.
  virtual Index size() const = 0;
  // out (|queries| × size(), row-major) = similarity of each query to every row.
  virtual void score(const std::vector<Index>& queries, RowMatrix& out) const = 0;
  // F when the similarity is ⟨f_i, f_j⟩ over the rows of a dense matrix F (dot, cosine and
  // projected on embeddings), which lets all-items searches use the symmetric kernel; else null.
  virtual const Matrix* dense_factors() const { return nullptr; }
};

// Scores `queries` against every row of `space` one block at a time (at most ~128 MB of scores)
// and calls fn(first, block, scores) for each: `block` holds queries[first, first + block.size())
// and row r of `scores` belongs to block[r]. The blocks' order and size never depend on threads.
// Rows per block of scores `width` wide: at most ~128 MB, at most 1,024 rows.
Index score_block_rows(Index width);
using ScoreBlockFn = std::function<void(size_t first, const std::vector<Index>& block, const RowMatrix& scores)>;
void for_each_score_block(const SimilaritySpace& space, const std::vector<Index>& queries, const ScoreBlockFn& fn);

// Builds the space of `measure` on `side` of a fitted model. X is the training interaction
// matrix (needed by raw, and by EASE's projected measure). The space may refer to the model's
// matrices (EASE's weights are not copied), so the model must outlive it. Throws
// InvalidArgument for a measure the model does not support on that side.
std::unique_ptr<SimilaritySpace> make_similarity_space(const Model& model, const SparseView& X,
                                                       Side side, Measure measure, const Context& ctx);

// The space "sim(i, j) = ⟨f_i, f_j⟩" over the rows of a dense factor matrix.
std::unique_ptr<SimilaritySpace> make_factor_space(Matrix F);
// The space "sim(i, j) = S(i, j)" of an explicit square matrix.
std::unique_ptr<SimilaritySpace> make_explicit_space(Matrix S);

// Cosines from a Gram matrix of inner products: S_ij / sqrt(S_ii S_jj), with the zero-norm
// policy above (e.g. raw item cosine from XᵀX).
Matrix cosine_from_gram(Matrix S);

}  // namespace linsim
