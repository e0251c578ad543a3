// Randomized block Krylov eigen-solver for the top-k eigenpairs of G = X_wᵀX_w, through the
// operator V ↦ X_wᵀ(X_w V) on blocks of vectors (ARCHITECTURE.md: operators, not matrices).
//
// It is randomized SVD with power iterations (Halko, Martinsson & Tropp 2011) that keeps every
// power instead of only the last: from a Gaussian start block Ω it builds an orthonormal basis of
// span{Ω, GΩ, G²Ω, ...} by block Lanczos with full reorthogonalisation and takes Rayleigh–Ritz
// pairs from it (Musco & Musco 2015 show the Krylov space beats plain power iterations). When the
// basis reaches its size limit it restarts thickly (Krylov–Schur, Stewart 2001): it keeps the
// leading Ritz vectors and goes on from the residual block, so memory and the projected
// eigenproblem stay bounded. Blocks of b vectors make each pass over the nonzeros serve b vectors
// at once, which is what makes it faster than single-vector Lanczos on memory-bound sparse data.
//
// Accuracy contract (tested against the dense oracle): the solver stops when every returned pair
// has residual ‖G v_i − θ_i v_i‖ ≤ tol · θ_1. Then each θ_i lies within that residual of an
// eigenvalue of G, |θ_i − λ_i| ≤ r_i² / gap_i, and sin∠(v_i, u_i) ≤ r_i / gap_i (Parlett, The
// Symmetric Eigenvalue Problem, ch. 11), so σ_i = √θ_i has relative error ≤ tol · σ_1² / σ_i²
// at worst and far less where the spectrum has gaps.
#pragma once

#include <string>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/linalg/data_matrix.h"

namespace linsim {

struct BlockKrylovOptions {
  Index block = 0;        // vectors per block; 0: chosen from k (between 4 and 16)
  double tol = 1e-7;      // residual tolerance relative to θ_1 (see the contract above)
  Index basis = 0;        // basis size at which it restarts; 0: max(4 k, k + 8 blocks); ≥ k + 2 blocks, ≤ p
  Index max_cycles = 1000;  // restarts before giving up
};

struct BlockKrylovResult {
  Vector values;          // k eigenvalues of G, descending
  Matrix vectors;         // p × k, orthonormal
  Vector residuals;       // ‖G v_i − θ_i v_i‖ / θ_1 for each returned pair
  Index basis = 0;        // columns of the Krylov basis at the end
  Index restarts = 0;     // Rayleigh–Ritz cycles (thick restarts) run
  Index block = 0;        // block size used
  Index products = 0;     // vector products with G (block products × block)
  bool spans_all = false; // the basis reached all of R^p (then the result is exact)
};

// The k largest eigenpairs of X_wᵀX_w. The start block is drawn from ctx.seed; results do not
// depend on the thread count. Throws Error if the basis limit is reached before the residuals
// meet tol (the message says how far they got).
BlockKrylovResult block_krylov_eigs(const DataMatrix& X, Index k, const BlockKrylovOptions& options,
                                    const Context& ctx, const ProgressFn& progress = {});

// Memory the solver needs for the basis and its work blocks, in bytes, for a p-item problem with
// n users at rank k (used by the fit's memory estimate).
double block_krylov_bytes(Index n, Index p, Index k, const BlockKrylovOptions& options);

}  // namespace linsim
