// A fitted model and the one entry point that fits any of them.
#pragma once

#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/data/weighting.h"
#include "linsim/linalg/spectrum.h"
#include "linsim/models/cosine_model.h"
#include "linsim/models/gauge.h"
#include "linsim/models/sppmi.h"

namespace linsim {

// eq1, eq2 (MATH.md M1, M2), ease (M3), sppmi (M6), cosine (M5).
enum class ModelKind { kEq1, kEq2, kEase, kSppmi, kCosine };

ModelKind parse_model_kind(const std::string& name);
const char* model_name(ModelKind kind);

// Precision of a model's dense p × p matrices (ease: XᵀX, its inverse and the weights W).
enum class Dtype { kFloat64, kFloat32 };

Dtype parse_dtype(const std::string& name);
const char* dtype_name(Dtype dtype);

struct FitOptions {
  ModelKind kind = ModelKind::kEq2;
  Gauge gauge;       // eq1 only
  Index rank = 50;   // all but ease
  double lambda = 0; // eq1, eq2, ease; cosine: λ of its M2 warm start
  Dtype dtype = Dtype::kFloat64;  // ease only: float32 halves its memory and the inverse's time
  Solver solver = Solver::kAuto;
  double solver_tol = kDefaultSolverTol;  // eq1, eq2, cosine: the iterative solvers' tolerance
  Weighting weighting;   // MATH.md M6, applied to X before the model (not with sppmi)
  SppmiOptions sppmi;    // sppmi only
  CosineOptions cosine;  // cosine only
};

// The paper's default λ for each model (MATH.md M2; EASE paper for ease).
double default_lambda(ModelKind kind);

// How many of the k dimensions of σ the shrinkage of eq1 or eq2 (a cosine model: its eq2 warm
// start) keeps at λ: those whose factor is above 1e-10, zero to rounding below (MATH.md M1, M2).
// Every other kind keeps all of them.
Index kept_dimensions(ModelKind kind, const Vector& sigma, double lambda);

struct Model {
  FitOptions options;
  std::string solver;         // solver used for the spectrum
  std::string solver_reason;  // why
  FittedWeighting weighting;  // the weighting with its training statistics (MATH.md M6)
  Vector singular_values;     // eq1, eq2, cosine: top-k σ of the weighted X; sppmi: eigenvalues Λ
  Matrix encoder;             // A (p × k); a user's embedding is x_u A (cosine: s N(x_u A))
  Matrix item_embeddings;     // B (p × k); cosine: N(B), unit rows
  Matrix user_embeddings;     // P (n × k) of the training users: X A (cosine: s N(X A))
  Matrix weights;             // ease with dtype float64: W (p × p), scores x_u W
  MatrixF weights32;          // ease with dtype float32: W in single precision (weights stays empty)
  double scale = 0;           // cosine: s, the fitted scale of the normalised product
  Convergence convergence;    // cosine: the optimisation's report
  std::vector<std::string> warnings;  // what the user must know about this fit (e.g. dimensions λ zeroed)

  bool has_embeddings() const { return options.kind != ModelKind::kEase; }
  // fn(W) with EASE's weights in the precision they are held in (Matrix or MatrixF): one generic
  // code path serves both.
  template <typename Fn>
  decltype(auto) with_weights(Fn&& fn) const {
    return options.dtype == Dtype::kFloat32 ? fn(weights32) : fn(weights);
  }
  Index n_items() const {
    return has_embeddings() ? item_embeddings.rows() : with_weights([](const auto& W) { return W.rows(); });
  }
};

// Peak memory a fit needs beyond the interactions themselves, in bytes: the dense p × p matrix of
// ease and sppmi (and the eigen-solver's copies for sppmi), or the spectrum's route
// (spectrum_bytes: for auto the larger of the two routes it may take; fit_model sizes the one
// choose_route picks on the data), plus the factors, plus the spectrum's copy of the data scaled
// into the solvers' range where `scaled_copy` (solves_on_scaled_copy tells; fit_model asks it of
// X, or with a weighting of the weighted data once they exist).
double fit_memory_bytes(Index n, Index p, Index nnz, const FitOptions& options, bool scaled_copy = false);
// `scaled_copy` is the decision, not the largest value it is decided by (which this argument was
// once): a number would convert to bool without a word, any nonzero value meaning "a copy", so
// only a bool compiles.
template <typename T>
double fit_memory_bytes(Index n, Index p, Index nnz, const FitOptions& options, T scaled_copy) = delete;

// Refuses a solver the model has no use for, as the CLI and the Python package do before reading
// any data: one given explicitly (`given`) other than auto for ease, which has no eigen-solver, and
// randomized for sppmi, whose matrix is dense (the block Krylov solver needs a data matrix). The
// library itself runs ease without a solver and sppmi's randomized as Lanczos, saying so.
void check_solver_applies(const FitOptions& options, bool given);

// The checks every fit makes of its data and options before any work, shared by fit_model and by
// programs that fit a model their own way (linsim-mpi's EASE): an empty matrix, λ negative or not
// finite, a value that is not finite or whose square overflows, --dtype for a model other than
// ease. Across processes X is this process's rows and the checks are agreed (every process throws
// alike). Returns the number of users on all processes, and in `largest_value` (where given) the
// largest |value| of this process's X, which the checks find on the way (solves_on_scaled_copy needs it).
Index check_fit_input(const SparseView& X, const FitOptions& options, const Communicator& comm = single_process(),
                      double* largest_value = nullptr);

// Fits the model: in closed form (MATH.md M1, M2, M3), from the SPPMI eigen-decomposition (M6),
// or by L-BFGS from the M2 solution (M5), after the weighting (M6). Validates the options against
// the data: λ ≥ 0 and finite; 1 ≤ rank ≤ min(n, p) and no larger than the data's numerical rank;
// values whose squares overflow are an Error; a λ that zeroes every dimension is an
// InvalidArgument, one that zeroes some a warning (Model::warnings).
// Across processes (comm, communicator.h): X is this process's users (all p items), the model is
// that of all of them, and user_embeddings holds this process's users; eq1, eq2 and sppmi (ease
// and cosine are refused: linsim-mpi fits EASE on ScaLAPACK).
Model fit_model(const SparseView& X, const FitOptions& options, const Context& ctx,
                const ProgressFn& progress = {}, const Communicator& comm = single_process());
// The same fit of data already wrapped as a DataMatrix (its products, dense copy and kept Gram
// matrix, DataMatrix::keep_gram, then serve every fit of it: several models of one data set share
// one XᵀX). Fits the data as they are: options.weighting must be empty and `data` uncentred.
Model fit_model(const DataMatrix& data, const FitOptions& options, const Context& ctx,
                const ProgressFn& progress = {}, const Communicator& comm = single_process());

// The cosine-trained model (MATH.md M5) on the data matrix X_w, warm-started from an eq2 model of
// the same data (its λ, rank and spectrum). Returns a model of kind cosine.
Model fit_cosine_model(const DataMatrix& X, const Model& warm_eq2, const CosineOptions& options, const Context& ctx,
                       const ProgressFn& progress = {});

// The closed form of an eq1/eq2 model from an already computed top-k spectrum of X and the
// product XV = X V_k (= U_k Σ_k), which is all the user side needs: P = X A = XV dMat(a). Lets one
// spectrum serve several gauges or λ. Checks λ and that the spectrum's rank is supported; a λ that
// shrinks every dimension to zero is an InvalidArgument, one that zeroes some a warning in
// Model::warnings.
Model model_from_spectrum(Matrix XV, const Spectrum& spectrum, const FitOptions& options);

// User embeddings of interaction rows (n_q × k): the model's weighting, then x A (cosine:
// s N(x A)).
Matrix embed_users(const Model& model, const SparseView& Xq);

// Scores of users given as interaction rows, after the model's weighting: P Bᵀ with P from
// embed_users, or Xq W for ease (n_q × p).
Matrix score_users(const Model& model, const SparseView& Xq);

}  // namespace linsim
