// The matrix a model is fitted to: X_w = Y − 1 mᵀ, a sparse Y (the interactions after any
// weighting) with an optional column centre m (MATH.md M6, `standardize`). The centred matrix is
// dense, so it is never formed: every product goes through Y and a rank-one correction
// (ARCHITECTURE.md: operators, not matrices).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/types.h"

namespace linsim {

// Bytes the Gram product gram_times_rows needs beside its input and output for an n × p matrix
// and blocks of b vectors, at most: the fused kernel's accumulators or the two-pass kernels' n × b
// intermediate.
double gram_workspace_bytes(Index n, Index p, Index b);

// Whether gram_times_rows on sparse data takes the one pass by user rows for p columns and blocks
// of b vectors (b ≥ 4 and a p × b accumulator of at most 8 MiB), or the two passes (a CSR pass for
// X_w M, a CSC pass for X_wᵀ(X_w M)).
bool gram_one_pass(Index p, Index b);

// Xᵀ R on sparse data (R: n × b, row-major, entries of `scalar_bytes`; the second pass of the
// two-pass Gram product, X_wᵀ of an n × b block) either gathers R's rows item by item through the
// column copy, or scatters them range by range of items: the items are cut into
// item_range_count(p) ranges of about equal nonzeros, and each range streams R's rows in order and
// adds each into its items' rows of the result, which stay in the cache (p / ranges rows of up to
// 16 doubles). Both add every item's terms in the order of the users, each product rounded before
// it is added (the library's data_matrix.cc is compiled without fused multiply-adds), so they give
// the same bits.
// The ranges win where R's gathered strip (n × min(b, 16) entries) is beyond the cache (over
// 16 MiB) and the data has at least one nonzero per user and range on average
// (transpose_by_item_ranges: the shape alone, never the thread count; bench/README.md, (d)). A
// DataMatrix builds one of the two copies, on its first transposed product, as its shape says,
// and takes that one for every later product: so it holds one copy, at most
// transposed_copy_bytes, whatever widths its products have (which copy, and so the speed, can
// depend on the products before; the bits do not). csc(), and the Lanczos operator that reads
// it, build the column copy whatever is held.
Index item_range_count(Index p);
bool transpose_by_item_ranges(Index n, Index p, Index nnz, Index b, std::size_t scalar_bytes);
// The larger of the two copies for an n × p matrix with nnz entries, values included (binarised
// data store none: 8 bytes per nonzero fewer).
double transposed_copy_bytes(Index n, Index p, Index nnz);

// A matrix's entries by columns (compressed sparse columns, in Eigen's names): column j's rows, in
// order, are innerIndexPtr()[outerIndexPtr()[j]] … up to outerIndexPtr()[j + 1], and their values
// lie alongside — except where every value is 1 (binarised data): then valuePtr() is null and no
// values are stored (400 MB fewer for 50M nonzeros), which the sparse kernels take as all ones.
class ColumnCopy {
 public:
  Index rows() const { return rows_; }
  Index cols() const { return start_.size() == 0 ? 0 : start_.size() - 1; }
  Index nonZeros() const { return index_.size(); }
  const int* outerIndexPtr() const { return start_.data(); }
  const int* innerIndexPtr() const { return index_.data(); }
  const double* valuePtr() const { return value_.size() == 0 ? nullptr : value_.data(); }

 private:
  friend class DataMatrix;
  Index rows_ = 0;
  Eigen::VectorXi start_;  // cols() + 1 entries
  Eigen::VectorXi index_;  // Eigen leaves them unwritten, so that they can be advised first
  Vector value_;           // empty where every value is 1
};

class DataMatrix {
 public:
  // Keeps a view of Y (whose arrays must outlive this object, unchanged: whether every value is 1,
  // and the column copy, are found once). `center` is empty or has Y.cols() entries.
  explicit DataMatrix(const SparseView& Y, Vector center = Vector());

  Index rows() const { return Y_.rows(); }
  Index cols() const { return Y_.cols(); }
  const SparseView& sparse() const { return Y_; }
  const Vector& center() const { return m_; }
  bool centered() const { return m_.size() > 0; }

  // X_w M (n × c) and X_wᵀ R (p × c). Each output row is computed by one thread in a fixed
  // order, so results do not depend on the thread count. When Y is dense enough (≥ 5 % nonzero)
  // and a dense copy takes at most 2 GiB, the products run as blocked GEMM on that copy (built on
  // first use), reading M (R) in whichever layout it comes; otherwise as row-major sparse kernels
  // (per output row, strips of up to 16 sums kept in registers while the row's nonzeros gather
  // rows of the block), for which these column-major entry points convert M (R) to row-major
  // blocks of at most 256 columns, never a whole copy of a wide one.
  Matrix times(const Matrix& M) const;
  Matrix transpose_times(const Matrix& R) const;
  // The same products on row-major blocks (the sparse kernels' own layout: no copies), for
  // iterative solvers.
  RowMatrix times_rows(const RowMatrix& M) const;
  // X_w M for a single-precision M (a float32 EASE model's weights), converted to double like a
  // column-major M above, 256 columns at a time (never a whole p × p copy).
  Matrix times(const MatrixF& M) const;
  RowMatrix transpose_times_rows(const RowMatrix& R) const;

  // X_wᵀ(X_w M), the operator of the iterative eigen-solvers, for a row-major block M. On sparse
  // data, where gram_one_pass(p, b), it is one pass over Y by user rows: per row u, t = (X_w)_u M in registers, then
  // t scaled by each of the row's values is added to the rows of its items in a p × b accumulator
  // — a fixed number of row chunks (at most 12, by the data's size alone) each with its
  // own accumulator, added in chunk order, so the result never depends on the thread count
  // (gram_workspace_bytes bounds their memory). With every value 1 (binarised data) the values
  // are not read. With `float32` the block gathered from (M) is stored in single precision — half
  // the bytes per gathered row — while every sum is formed in double: each column of the result
  // is then within u‖X_w‖²‖m‖ of the exact product (u = 2⁻²⁴, one rounding of M; the bound the
  // solver counts, block_krylov.h, is twice that). Otherwise two passes: X_w M (in single
  // precision with `float32`, then within 2u‖X_w‖²‖m‖), then X_wᵀ of it; on the dense path
  // transpose_times_rows(times_rows(M)).
  RowMatrix gram_times_rows(const RowMatrix& M, bool float32) const;
  // Every stored value of Y is 1.
  bool unit_values() const { return unit_values_; }
  // Y's values for the sparse kernels, or null where every value is 1 (they then read none), as
  // the column copy's valuePtr().
  const double* row_values() const { return unit_values_ ? nullptr : Y_.valuePtr(); }

  // The dense Gram matrix X_wᵀ X_w = YᵀY − m cᵀ − c mᵀ + n m mᵀ with c = Yᵀ1, in double or float
  // (gram_matrix).
  template <typename Scalar = double>
  MatrixOf<Scalar> gram(const Context& ctx) const;
  // From now on the double Gram matrix is computed once and kept: later calls of gram<double>
  // return a copy (the same bits: gram_matrix is deterministic). For callers that fit several
  // models of one data set (fit_variant_models: the spectrum's Gram route, SPPMI, EASE and raw
  // item-kNN each ask for XᵀX); it costs one p × p matrix for the life of this object.
  void keep_gram() { keep_gram_ = true; }
  // Whether a double Gram matrix is kept now (computed since keep_gram()).
  bool gram_is_kept() const { return kept_gram_.size() != 0; }

  // ‖X_w‖²_F = ‖Y‖²_F − 2 mᵀc + n ‖m‖².
  double squared_norm() const;

  // Yᵀ1 (column sums of Y).
  const Vector& column_sums() const { return colsum_; }

  // Column-major copy of Y (built on first use), without values where every value is 1: one of
  // the two copies the transposed products take (above), and what GramOperator reads.
  const ColumnCopy& csc() const;

  // Bytes held by the copies built on first use: the transposed copy (column copy or item
  // ranges), the dense copy and the kept Gram matrix.
  double first_use_bytes() const;

 private:
  // Y's entries cut into ranges of items for Xᵀ R scattered range by range
  // (transpose_by_item_ranges): range r holds items [first_item[r], first_item[r + 1]), and its
  // entries of row u are index[start[r n + u]] … up to start[r n + u + 1], in the row's
  // order, with their values alongside (none where every value is 1). Built on first use.
  struct ItemRanges {
    std::vector<Index> first_item;
    Eigen::VectorXi start;
    Eigen::VectorXi index;
    Vector value;
  };
  mutable ItemRanges ranges_;
  mutable bool have_ranges_ = false;
  // Held while a copy built on first use (the column copy, the item ranges, the dense copy, the
  // kept Gram matrix) is looked up or made, so that calls from several threads at once build it
  // once. Copies of this object share the lock, not what it guards: copying an object while
  // another thread uses it is not safe.
  std::shared_ptr<std::mutex> build_lock_ = std::make_shared<std::mutex>();
  // The first-use copies, built where the caller holds build_lock_.
  const ItemRanges& item_ranges_locked() const;
  const ColumnCopy& csc_locked() const;
  // Xᵀ R on the sparse path (R row-major, double or float), by item ranges or through the column
  // copy (transpose_by_item_ranges), into a row-major or column-major result.
  template <typename Out, typename In>
  Out sparse_transpose_times(const In& R) const;

  SparseView Y_;  // a view: the matrix it shows must outlive this object
  Vector m_;
  Vector colsum_;
  double y2_ = 0;  // ‖Y‖²_F
  mutable ColumnCopy Yc_;
  mutable bool have_csc_ = false;
  bool unit_values_ = false;
  bool distinct_in_rows_ = false;  // every row's column indices strictly increase (set by the constructor)
  // The Gram product's buffers, kept between calls (shared by copies; a call that finds them in
  // use allocates its own): the one pass's chunk accumulators, or the two passes' n × b
  // intermediate (float or double) and the float copy of M — only those of the latest call's
  // route, which frees the others first (gram_workspace_bytes).
  using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  struct GramWorkspace {
    std::mutex lock;
    std::vector<double> acc;
    RowMatrixF mf, xm_f;
    RowMatrix xm;
    void keep_one_pass() {
      mf.resize(0, 0);
      xm_f.resize(0, 0);
      xm.resize(0, 0);
    }
    void keep_two_passes(bool float32) {
      acc = {};
      if (float32) {
        xm.resize(0, 0);
      } else {
        mf.resize(0, 0);
        xm_f.resize(0, 0);
      }
    }
  };
  std::shared_ptr<GramWorkspace> workspace_ = std::make_shared<GramWorkspace>();
  template <typename In>
  RowMatrix fused_gram(const In& M) const;
  bool keep_gram_ = false;
  mutable Matrix kept_gram_;  // gram<double>'s result once computed, where keep_gram() asked for it
  mutable Matrix dense_;  // dense copy of Y for dense-ish data
  mutable bool have_dense_ = false;
  bool prefer_dense_ = false;
  const Matrix& dense() const;
  template <typename Out>
  Out times_impl(const RowMatrix& M) const;
  template <typename Out>
  Out transpose_times_impl(const RowMatrix& R) const;
};

}  // namespace linsim
