// The top-k singular values σ and right singular vectors V_k of X (MATH.md M0), from the
// eigenpairs of G = XᵀX: σ_i = sqrt(max(eig_i, 0)).
#pragma once

#include <string>

#include "linsim/core/communicator.h"
#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/linalg/data_matrix.h"

namespace linsim {

enum class Solver { kAuto, kGram, kLanczos, kRandomized };

Solver parse_solver(const std::string& name);
const char* solver_name(Solver solver);

struct Spectrum {
  Vector sigma;        // k, descending
  Matrix V;            // p × k, orthonormal columns; signed by fix_signs (largest |entry| positive)
  Matrix XV;           // X_w V (n × k, this process's rows) where the solver formed it on the way
                       // (BlockKrylovResult::data_times_vectors), with V's signs; else empty
  std::string solver;  // the solver actually used
  std::string reason;  // why it was chosen
};

// The iterative solvers' default tolerance: each eigenvalue σ_i² to relative accuracy 10⁻⁶.
constexpr double kDefaultSolverTol = 1e-6;
// The tightest tolerance they accept: residuals much below this are rounding in double.
constexpr double kMinSolverTol = 1e-12;

// The route top_spectrum takes for `requested` on X at rank k, and why: a requested route as it
// is; auto by its cost model, in this order: p ≤ 500: gram; the Gram route beyond half the
// available memory: randomized; rank > p/4: gram; otherwise the cheaper of the two estimates.
// Across processes a collective call, alike on every process. fit_model decides once, on the
// data before its weighting (whose zeros, when a weighting drops them, the estimates then still
// count), sizes its memory check for that route and runs it.
struct Route {
  Solver solver = Solver::kAuto;
  std::string reason;
};
Route choose_route(const SparseView& X, Index k, Solver requested, const Communicator& comm = single_process());

// Top-k spectrum of X. kGram forms G densely and decomposes it fully (the exact oracle);
// kLanczos runs Spectra's single-vector Lanczos on the operator v ↦ Xᵀ(Xv); kRandomized runs
// the randomized block Krylov solver (block_krylov.h) on V ↦ Xᵀ(XV). kAuto picks the Gram route
// when it is small or cheap and fits in memory, else the block Krylov solver; the choice and
// the reason are returned. `tol` is the iterative solvers' relative accuracy of each eigenvalue
// σ_i² (block_krylov.h; Spectra's Lanczos counts it the same way); the Gram route is exact.
// Throws Error if an iterative solver does not converge.
// A centred DataMatrix is handled implicitly on every path (MATH.md M6).
// Across processes (comm): X is this process's rows; gram and randomized sum over the processes
// (block_krylov.h), lanczos is refused, and auto decides from the summed estimates, alike on
// every process.
Spectrum top_spectrum(const DataMatrix& X, Index k, Solver solver, const Context& ctx,
                      const ProgressFn& progress = {}, double tol = kDefaultSolverTol,
                      const Communicator& comm = single_process());
// The same on a route already chosen (choose_route; a route of kAuto is resolved here).
Spectrum top_spectrum(const DataMatrix& X, Index k, const Route& route, const Context& ctx,
                      const ProgressFn& progress = {}, double tol = kDefaultSolverTol,
                      const Communicator& comm = single_process());
Spectrum top_spectrum(const SparseView& X, Index k, Solver solver, const Context& ctx);

// X_w V for the spectrum's vectors (the user side of every model built from it): the solver's own,
// moved out of `s`, where it formed it on the way (Spectrum::XV), else the product with X.
Matrix take_data_times_vectors(Spectrum& s, const DataMatrix& X);

// Bytes each route needs beyond the data (for memory estimates): the dense p × p Gram matrix and
// its eigen-decomposition, or the iterative solvers' bases; for kAuto the larger of the Gram and
// block Krylov routes when the Gram route fits auto's budget (half the available memory), else
// block Krylov's.
double spectrum_bytes(Index n, Index p, Index k, Solver solver);

// Whether top_spectrum solves on a copy of the data scaled by a power of two (12 bytes per nonzero
// and 4 per row more than spectrum_bytes, on every process): when the largest |entry| of the data
// and its centre over all processes lies outside [2^-8, 2^61). Given this process's largest |entry|
// (`largest`) or its data as the solve sees them. A collective where comm spans processes.
bool solves_on_scaled_copy(double largest, const Communicator& comm = single_process());
bool solves_on_scaled_copy(const DataMatrix& data, const Communicator& comm = single_process());
// The exponent e by which top_spectrum scales the data, 2^e X_w (0: none): the largest |entry|
// then lies in [1/2, 1). Throws Error where 2^e or 2^-e would not be finite.
int solve_scale_exponent(const DataMatrix& data, const Communicator& comm = single_process());

// Top-k spectrum from a dense Gram matrix by a dense symmetric eigen-decomposition (its k
// largest pairs; LAPACK's dsyevr where OpenBLAS is configured, else Eigen's full solver).
Spectrum spectrum_from_gram(const Matrix& G, Index k);

// The k largest (algebraic) eigenpairs of a dense symmetric matrix S, descending, signs fixed
// like Spectrum's. kGram (or kAuto when p ≤ 4000 or k > p/10): dense decomposition; kLanczos:
// Spectra's Lanczos on v ↦ S v; kRandomized too (the block Krylov solver needs a data matrix), with
// `reason` saying so. Throws Error if Lanczos does not converge.
struct SymmetricEigen {
  Vector values;
  Matrix vectors;
  std::string solver;
  std::string reason;
};
SymmetricEigen top_eigenpairs(const Matrix& S, Index k, Solver solver, const Context& ctx);

// Number of singular values that are numerically nonzero: σ_i² > σ_1² · p · 10 ε.
Index numerical_rank(const Vector& sigma, Index p);

// The sign convention for vectors an eigen-solver returns with arbitrary signs: each column of V
// is flipped where needed so that its largest |entry| is positive — the first of the entries
// within a relative kSignTieTolerance of the largest, so that ties a rounding apart are broken by
// position, not by the rounding — and the same column of `with` (where given and not empty:
// X_w V, or the factor V was formed from) with it.
inline constexpr double kSignTieTolerance = 1e-9;
void fix_signs(Matrix& V, Matrix* with = nullptr);

}  // namespace linsim
