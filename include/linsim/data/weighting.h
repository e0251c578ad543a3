// Weighting of the interactions before any model (MATH.md M6): inverse propensity scaling of
// items, user-length normalisation, BM25, TF-IDF and standardisation, composable as a list of
// steps ("ips:0.5,user-norm:0.5,standardize"). A weighting is fitted once on the training
// interactions (item popularity, idf, column statistics) and then applied to any rows, so a user
// folded in later is transformed exactly like the training users.
//
// Steps, applied in the order given, each to the values v_ui left by the previous step
// (n users, pop_i = training users of item i, n_u = items of user u):
//   ips:β          v · pop_i^(−β)                     β ∈ [0, 1]   (default 1)
//   user-norm:γ    v / n_u^γ                          γ ∈ [0, 1]   (default 0.5)
//   tfidf          v · log(n / pop_i)
//   bm25:k1:b      v (k1 + 1) / (v + k1 (1 − b + b L_u / L̄)) · log(1 + (n − pop_i + 0.5) / (pop_i + 0.5))
//                  with L_u = Σ_i v_ui and L̄ its training mean; k1 ∈ (0, 1e6] (default 1.2),
//                  b ∈ [0, 1] (default 0.75); needs v ≥ 0
//   sppmi:k:α      max(0, log(v · Z / (r_u c_i^α)) − log k), 0 where v = 0: shifted positive PMI with
//                  context-distribution smoothing (Levy & Goldberg 2014; Levy, Goldberg & Dagan 2015)
//                  of a co-occurrence matrix (rows words, columns contexts: `linsim cooccur`), with
//                  r_u = Σ_i v_ui, c_i = Σ_u v_ui over the training rows and Z = Σ_i c_i^α; entries
//                  that become 0 are removed. k ≥ 1 (default 1), α ∈ (0, 1] (default 0.75); needs
//                  v ≥ 0; the only step (other steps' statistics would not see the removal)
//   standardize    each column to zero mean and unit variance over the training users (population
//                  variance; a column with zero variance, up to 1e-12 of its root mean square, is
//                  0: factor and centre 0). Must be the last step: it
//                  makes X dense, so it is applied implicitly, X_w = Y − 1mᵀ (DataMatrix).
#pragma once

#include <string>
#include <vector>

#include "linsim/core/communicator.h"
#include "linsim/core/types.h"
#include "linsim/linalg/data_matrix.h"

namespace linsim {

enum class WeightingKind { kIps, kUserNorm, kTfidf, kBm25, kSppmi, kStandardize };

struct WeightingStep {
  WeightingKind kind = WeightingKind::kIps;
  double a = 0;  // ips β, user-norm γ, bm25 k1, sppmi k
  double b = 0;  // bm25 b, sppmi α
};

struct Weighting {
  std::vector<WeightingStep> steps;

  bool empty() const { return steps.empty(); }
  bool standardizes() const;
  // Whether a step needs v ≥ 0 (bm25, sppmi): users folded in with negative values are refused.
  bool needs_nonnegative() const;
  // Canonical spec: parse_weighting(spec()) reproduces the steps; "none" when empty.
  std::string spec() const;
};

// Parses a comma-separated list of steps; "" and "none" give the empty weighting. Throws
// InvalidArgument naming the step and value for unknown names, values out of range, a repeated
// step, bm25 together with tfidf, sppmi with any other step, or standardize anywhere but last.
Weighting parse_weighting(const std::string& spec);

// A weighting with the statistics it learnt from the training interactions.
struct FittedWeighting {
  Weighting weighting;
  Index n_train = 0;                 // training users
  std::vector<Vector> item_factor;   // per step: ips pop^−β, tfidf/bm25 idf, sppmi α log c_i (empty otherwise)
  std::vector<double> mean_length;   // per step: bm25's L̄, sppmi's log Z − log k (0 otherwise)
  Vector inv_scale;                  // standardize: 1 / s_i, 0 for a constant column (empty otherwise)
  Vector center;                     // standardize: m = μ / s, the centre of Y, 0 for a constant column
                                     // (empty otherwise): a constant column is exactly 0

  // Y: the weighted rows of X (every step except the centring, which DataMatrix applies). Rows are
  // transformed independently. Throws Error for a value bm25 cannot take and InvalidArgument
  // when X has a different number of items than the training data.
  SparseMatrix apply(const SparseView& X) const;
};

// Learns the statistics of `weighting` on the training interactions X (across processes: X is
// this process's rows, the statistics are those of all of them; communicator.h).
FittedWeighting fit_weighting(const Weighting& weighting, const SparseView& X,
                              const Communicator& comm = single_process());

}  // namespace linsim
