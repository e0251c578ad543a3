// A fitted model and the one entry point that fits any of them.
#pragma once

#include <string>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/linalg/spectrum.h"
#include "linsim/models/gauge.h"

namespace linsim {

enum class ModelKind { kEq1, kEq2, kEase };

ModelKind parse_model_kind(const std::string& name);
const char* model_name(ModelKind kind);

struct FitOptions {
  ModelKind kind = ModelKind::kEq2;
  Gauge gauge;       // eq1 only
  Index rank = 50;   // eq1, eq2
  double lambda = 0;
  Solver solver = Solver::kAuto;
};

// The paper's default λ for each model (MATH.md M2; EASE paper for ease).
double default_lambda(ModelKind kind);

struct Model {
  FitOptions options;
  std::string solver;         // solver used for the spectrum
  std::string solver_reason;  // why
  Vector singular_values;     // eq1, eq2: top-k σ of X
  Matrix encoder;             // eq1, eq2: A (p × k); a user's embedding is x_u A
  Matrix item_embeddings;     // eq1, eq2: B (p × k)
  Matrix user_embeddings;     // eq1, eq2: P = X A (n × k)
  Matrix weights;             // ease: W (p × p), scores x_u W

  bool has_embeddings() const { return options.kind != ModelKind::kEase; }
  Index n_items() const { return has_embeddings() ? item_embeddings.rows() : weights.rows(); }
};

// Fits the model in closed form (MATH.md M1, M2, M3). Validates the options against the data:
// λ ≥ 0 and finite; 1 ≤ rank ≤ min(n, p) and no larger than the data's numerical rank.
Model fit_model(const SparseMatrix& X, const FitOptions& options, const Context& ctx);

// The closed form of an eq1/eq2 model from an already computed top-k spectrum of X and the
// product XV = X V_k (= U_k Σ_k), which is all the user side needs: P = X A = XV dMat(a). Lets one
// spectrum serve several gauges or λ. Checks λ and that the spectrum's rank is supported.
Model model_from_spectrum(const Matrix& XV, const Spectrum& spectrum, const FitOptions& options);

// Scores of users given as interaction rows: Xq A Bᵀ for eq1/eq2, Xq W for ease (n_q × p).
Matrix score_users(const Model& model, const SparseMatrix& Xq);

}  // namespace linsim
