// Randomized block Krylov eigen-solver for the top-k eigenpairs of G = X_wᵀX_w, through the
// operator V ↦ X_wᵀ(X_w V) on blocks of vectors (ARCHITECTURE.md: operators, not matrices).
//
// It is randomized SVD with power iterations (Halko, Martinsson & Tropp 2011) that keeps every
// power instead of only the last: from a Gaussian start block Ω it builds an orthonormal basis of
// span{Ω, GΩ, G²Ω, ...} by block Lanczos with full reorthogonalisation and takes Rayleigh–Ritz
// pairs from it (Musco & Musco 2015 show the Krylov space beats plain power iterations). When the
// basis reaches its size limit it restarts thickly (Krylov–Schur, Stewart 2001): it keeps the
// leading Ritz vectors and goes on from the residual block, so memory and the projected
// eigenproblem stay bounded. Convergence is tested at each restart and, where the trend of the
// residuals says the stop is near, on the basis so far between restarts (the same Rayleigh–Ritz
// residuals), so that a run does not overshoot tol by most of a cycle. Blocks of b vectors make
// each pass over the nonzeros serve b vectors at once, which is what makes it faster than
// single-vector Lanczos on memory-bound sparse data.
//
// Accuracy contract (tested against the dense oracle): the solver stops when every returned pair
// has residual ‖G v_i − θ_i v_i‖ ≤ tol · max(θ_i, 10⁻⁶ θ_1): each eigenvalue to relative accuracy
// tol, as ARPACK counts it (those below 10⁻⁶ θ_1, i.e. σ_i < 10⁻³ σ_1, to that absolute level).
// Then each θ_i lies within that residual r_i of an eigenvalue of G (within r_i²/gap_i where the
// spectrum has gaps), and sin∠(v_i, u_i) ≤ r_i / gap_i (Parlett, The Symmetric Eigenvalue
// Problem, ch. 11), so σ_i = √θ_i has relative error ≤ tol/2 at worst and far less with gaps.
//
// Mixed precision: when tol leaves room for it — 20 u θ_1 ≤ tol θ_k with the current Ritz values
// (u = 2⁻²⁴; θ_k only grows, so the test errs on the safe side) — the products run on
// single-precision blocks (DataMatrix::gram_times_rows), half the bytes per gathered row, whose
// error per unit vector is ≤ 2 u θ_1: a tenth of the tolerance, and counted against it. A run that
// used them ends with a check in double: the k vectors' Rayleigh–Ritz pairs and true residuals are
// computed with double products, and those are what is returned and tested against tol (if the
// check fails, the solver goes on in double). The default tol (10⁻⁶ < 20 u) keeps every run in
// double; a looser one (σ to 10⁻⁴: tol = 2·10⁻⁴) is where single precision pays.
//
// Nearly invariant subspaces (data of low rank, eigenvalues far below θ_1): a block that had to
// drop a nonzero part as rounding (block_krylov.cc, householder_block) makes the run end with the
// same check in double (k more products; m more to complete a basis that spans R^p). A check
// confirms residuals down to the double products' own rounding, 64 ε θ_1 absolute: a tol below that
// for a pair is met to it, and the residual returned says how far.
#pragma once

#include <string>

#include "linsim/core/communicator.h"
#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/linalg/data_matrix.h"

namespace linsim {

struct BlockKrylovOptions {
  Index block = 0;        // vectors per block; 0: chosen from k (between 4 and 16)
  double tol = 1e-6;      // relative accuracy of each returned eigenvalue (see the contract above)
  Index basis = 0;        // basis size at which it restarts; 0: max(4 k, k + 8 blocks); ≥ k + 2 blocks, ≤ p
  Index max_cycles = 1000;  // restarts before giving up
  bool mixed_precision = true;  // single-precision product blocks where tol allows (see above)
};

struct BlockKrylovResult {
  Vector values;          // k eigenvalues of G, descending
  Matrix vectors;         // p × k, orthonormal
  Vector residuals;       // ‖G v_i − θ_i v_i‖ / max(θ_i, 10⁻⁶ θ_1) for each returned pair
  Index basis = 0;        // columns of the Krylov basis at the end
  Index restarts = 0;     // Rayleigh–Ritz cycles (thick restarts) run
  Index block = 0;        // block size used
  Index products = 0;     // vector products with G (block products × block)
  Index float32_products = 0;  // of which on single-precision blocks
  Index repeated_projections = 0;  // blocks on the coupled route whose pass over the whole basis was
                                   // repeated (DGKS; linalg/orthogonalize.h); the first blocks of a
                                   // cycle take two whole passes anyway and are not counted
  bool spans_all = false; // the basis reached all of R^p (then the result is exact)
  // X_w times `vectors` (n × k, this process's rows) where the check in double (after
  // single-precision products, or a dropped part) formed it on the way (the two-pass product's
  // intermediate, rotated with the vectors); empty otherwise. A fit's user embeddings need exactly this product.
  Matrix data_times_vectors;
};

// The k largest eigenpairs of X_wᵀX_w. The start block is drawn from ctx.seed; results do not
// depend on the thread count. Throws Error if the basis limit is reached before the residuals
// meet tol (the message says how far they got).
// Across processes (comm, communicator.h), X is this process's rows and G = Σ_r X_rᵀX_r: each
// block product sums one p × b block over the processes, and every process runs the same
// iteration on the same replicated basis (the sums are bit-identical everywhere).
BlockKrylovResult block_krylov_eigs(const DataMatrix& X, Index k, const BlockKrylovOptions& options,
                                    const Context& ctx, const ProgressFn& progress = {},
                                    const Communicator& comm = single_process());

// Memory the solver needs for the basis and its work blocks, in bytes, for a p-item problem with
// n users at rank k (used by the fit's memory estimate).
double block_krylov_bytes(Index n, Index p, Index k, const BlockKrylovOptions& options);

}  // namespace linsim
