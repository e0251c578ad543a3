// Shifted positive PMI of the item–item co-occurrence matrix and its spectral embedding (MATH.md
// M6, after Levy & Goldberg 2014, "Neural word embedding as implicit matrix factorization":
// word2vec's negative sampling with k negatives implicitly factorises PMI − log k).
//
// With C the co-occurrence counts XᵀX without its diagonal (an item is not its own context),
// c_i = Σ_j C_ij, D = Σ_i c_i and Z = Σ_i c_i^α:
//
//   SPPMI_ij = max(0, log(C_ij Z² / (D c_i^α c_j^α)) − log k)        (0 where C_ij = 0)
//
// i.e. log P(i,j) / (P_α(i) P_α(j)) with smoothed marginals P_α(i) = c_i^α / Z. Levy & Goldberg
// smooth the context side only, which makes the matrix asymmetric; smoothing both sides keeps it
// symmetric so one eigen-decomposition gives item and context vectors. α = 1 is plain PMI.
//
// Embeddings from the top-k eigenpairs S ≈ V Λ Vᵀ: items B = V Λ^t, contexts (the encoder) A =
// V Λ^(1−t), so that A Bᵀ = V Λ Vᵀ for every t: the exponent t is a free choice, the same
// arbitrariness as the eq1 gauge, in word-embedding form.
#pragma once

#include "linsim/core/context.h"
#include "linsim/core/types.h"

namespace linsim {

struct SppmiOptions {
  double negatives = 1.0;    // k ≥ 1: the shift log k
  double smoothing = 0.75;   // α ∈ (0, 1]
  double eigen_power = 0.5;  // t ∈ [0, 1]
  // With fewer positive eigenvalues than the rank: false (fit) is an error; true (the
  // comparisons of evaluate-similarity and reproduce) keeps only the positive ones.
  bool truncate_rank = false;

  // Throws InvalidArgument naming the option; `negatives_option` is k's name where the caller
  // exposes it under another (reproduce's --sppmi-negatives).
  void validate(const char* negatives_option = "--negatives") const;
};

// The dense p × p SPPMI matrix from the co-occurrence matrix G = XᵀX (overwritten in place).
Matrix sppmi_matrix(Matrix G, const SppmiOptions& options);

}  // namespace linsim
