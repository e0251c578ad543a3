// The cosine-trained model (MATH.md M5): user and item embeddings normalised inside the
// objective, so that the item–item cosine is the quantity the model was fitted on.
//
//   f(A, B) = min_s ‖X − s N(XA) N(B)ᵀ‖²_F
//           = ‖X‖² − t² / q,   t = Σ_{x_ui ≠ 0} x_ui ⟨p̃_u, q̃_i⟩ = tr(P̃ᵀ X Q̃),
//                              q = tr((P̃ᵀP̃)(Q̃ᵀQ̃)),  s* = t / q,
//
// with P̃ = N(XA), Q̃ = N(B) (rows scaled to unit length; a zero row stays zero). The scale s is
// profiled out in closed form, so every iterate uses its optimal s. Nothing n × p is formed: the
// objective and gradient need X[A, Q̃] and Xᵀ[P̃, ∂f/∂(XA)] (two products with blocks of 2k
// columns).
//
// Regularisation: MATH.md M5 writes a penalty λ(‖A‖² + ‖B‖²). With the normalisation inside, f is
// invariant under A → cA and under rescaling any row of B, so the penalty can always be lowered
// without changing the fit and has no minimiser for λ > 0 (it only drives the scale-free factors
// to zero). The rank k and the warm start from the M2 solution (with its λ) regularise instead,
// and so does stopping (--epochs, --tol): f has no minimiser either, since a user's row of N(XA)
// can put length into dimensions no item uses (a free per-user scale that a growing s makes up
// for). MATH.md M5.
//
// Optimiser: L-BFGS (memory 10) with a backtracking Armijo line search. It is full-batch and
// deterministic, needs no learning rate, and the sufficient-decrease condition makes the objective
// decrease monotonically, which Adam does not guarantee. Curvature pairs with sᵀy ≤ 0 are skipped.
#pragma once

#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/linalg/data_matrix.h"

namespace linsim {

struct CosineOptions {
  Index epochs = 200;   // L-BFGS iterations at most (each one full pass, or a few in the line search)
  double tol = 1e-6;    // stop when the relative decrease of f in an iteration is below tol
  Index memory = 10;    // L-BFGS pairs kept

  void validate() const;
};

struct Convergence {
  Index iterations = 0;
  Index evaluations = 0;
  double initial_objective = 0;
  double final_objective = 0;
  double scale = 0;         // s* at the end
  bool converged = false;   // the --tol rule held (one iteration's relative decrease, or a failed line search
                            // whose first step predicted less): not the epoch limit, not a minimum (MATH.md M5)
  bool epoch_limit = false;  // stopped by the epoch limit (then not converged)
  std::string reason;
  std::vector<double> history;  // f after each iteration (history[0] = initial)
  double seconds = 0;
};

// f(A, B) and, when gA/gB are given, its gradient; `scale` receives s*.
double cosine_objective(const DataMatrix& X, const Matrix& A, const Matrix& B, Matrix* gA, Matrix* gB,
                        double* scale = nullptr);

struct CosineFit {
  Matrix A;
  Matrix B;
  Convergence convergence;
};

// Minimises f from (A0, B0) (usually the M2 solution).
CosineFit fit_cosine(const DataMatrix& X, Matrix A0, Matrix B0, const CosineOptions& options, const Context& ctx,
                     const ProgressFn& progress = {});

}  // namespace linsim
