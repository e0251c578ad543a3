#include "linsim/models/model.h"

#include <cmath>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/linalg/gram.h"
#include "linsim/models/closed_form.h"
#include "linsim/models/ease.h"

namespace linsim {

ModelKind parse_model_kind(const std::string& name) {
  if (name == "eq1") return ModelKind::kEq1;
  if (name == "eq2") return ModelKind::kEq2;
  if (name == "ease") return ModelKind::kEase;
  throw InvalidArgument(fmt::format("unknown model '{}' (valid: eq1, eq2, ease)", name));
}

const char* model_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kEq1: return "eq1";
    case ModelKind::kEq2: return "eq2";
    case ModelKind::kEase: return "ease";
  }
  return "?";
}

namespace {

void check_lambda(double lambda) {
  if (!std::isfinite(lambda) || lambda < 0) {
    throw InvalidArgument(fmt::format("--lambda must be a finite number >= 0, got {}", lambda));
  }
}

}  // namespace

double default_lambda(ModelKind kind) {
  switch (kind) {
    case ModelKind::kEq1: return 10000.0;  // the paper's experiment (MATH.md M8)
    case ModelKind::kEq2: return 100.0;
    case ModelKind::kEase: return 500.0;   // EASE paper's value for MovieLens 20M
  }
  return 0;
}

Model fit_model(const SparseMatrix& X, const FitOptions& options, const Context& ctx) {
  const Index n = X.rows();
  const Index p = X.cols();
  if (n == 0 || p == 0 || X.nonZeros() == 0) throw InvalidArgument("the interaction matrix is empty");
  check_lambda(options.lambda);
  if (options.kind == ModelKind::kEase) {
    Model model;
    model.options = options;
    model.options.rank = p;
    model.solver = "cholesky";
    model.solver_reason = "EASE is full rank: Cholesky factorisation of XᵀX + λI";
    model.weights = ease_weights(gram_matrix(X, ctx), options.lambda);
    return model;
  }
  const Index max_rank = std::min(n, p);
  if (options.rank < 1 || options.rank > max_rank) {
    throw InvalidArgument(fmt::format("--rank must be in [1, {}] = [1, min(users, items)], got {}",
                                      max_rank, options.rank));
  }
  const Spectrum spectrum = top_spectrum(X, options.rank, options.solver, ctx);
  use_threads(ctx);
  const Matrix XV = X * spectrum.V;
  return model_from_spectrum(XV, spectrum, options);
}

Model model_from_spectrum(const Matrix& XV, const Spectrum& spectrum, const FitOptions& options) {
  if (options.kind == ModelKind::kEase) throw InvalidArgument("EASE is not a spectral model");
  check_lambda(options.lambda);
  const Index supported = numerical_rank(spectrum.sigma, spectrum.V.rows());
  if (supported < spectrum.sigma.size()) {
    throw InvalidArgument(fmt::format("--rank {} exceeds the rank of the data ({} nonzero singular values)",
                                      spectrum.sigma.size(), supported));
  }
  const FactorScales f = options.kind == ModelKind::kEq1
                             ? eq1_scales(spectrum.sigma, options.lambda, options.gauge)
                             : eq2_scales(spectrum.sigma, options.lambda);
  Model model;
  model.options = options;
  model.options.rank = spectrum.sigma.size();
  model.solver = spectrum.solver;
  model.solver_reason = spectrum.reason;
  model.singular_values = spectrum.sigma;
  model.encoder = spectrum.V * f.a.asDiagonal();
  model.item_embeddings = spectrum.V * f.b.asDiagonal();
  model.user_embeddings = XV * f.a.asDiagonal();  // P = X A = X V_k dMat(a)
  return model;
}

Matrix score_users(const Model& model, const SparseMatrix& Xq) {
  if (Xq.cols() != model.n_items()) {
    throw InvalidArgument(fmt::format("interactions have {} items, the model {}", Xq.cols(), model.n_items()));
  }
  if (!model.has_embeddings()) return Xq * model.weights;
  const Matrix P = Xq * model.encoder;
  return P * model.item_embeddings.transpose();
}

}  // namespace linsim
