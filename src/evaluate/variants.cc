#include "linsim/evaluate/variants.h"

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/linalg/gram.h"
#include "linsim/linalg/spectrum.h"

namespace linsim {

const std::vector<Variant>& model_variants() {
  static const std::vector<Variant> variants = {
      {"eq1 item-orthonormal cosine", "eq1", "item-orthonormal", "cosine", true},
      {"eq1 symmetric cosine", "eq1", "symmetric", "cosine", true},
      {"eq1 input-orthonormal cosine", "eq1", "input-orthonormal", "cosine", true},
      {"eq2 cosine", "eq2", "", "cosine", true},
      {"eq1 balanced cosine", "eq1", "balanced", "cosine", false},
      {"eq1 projected", "eq1", "", "projected", false},
      {"eq2 projected", "eq2", "", "projected", false},
      {"eq2 dot", "eq2", "", "dot", false},
      {"raw (item-kNN)", "raw", "", "raw", false},
  };
  return variants;
}

const std::vector<std::string>& reported_gauges() {
  static const std::vector<std::string> gauges = {"item-orthonormal", "symmetric", "input-orthonormal", "balanced"};
  return gauges;
}

VariantModels fit_variant_models(const SparseMatrix& X, Index rank, double lambda_eq1, double lambda_eq2,
                                 std::optional<double> lambda_ease, const Context& ctx) {
  if (rank < 1 || rank > std::min(X.rows(), X.cols())) {
    throw InvalidArgument(fmt::format("--rank must be in [1, {}], got {}", std::min(X.rows(), X.cols()), rank));
  }
  const Spectrum spectrum = top_spectrum(X, rank, Solver::kAuto, ctx);
  use_threads(ctx);
  const Matrix XV = X * spectrum.V;  // shared by every model
  VariantModels m;
  for (const std::string& g : reported_gauges()) {
    FitOptions f;
    f.kind = ModelKind::kEq1;
    f.gauge = parse_gauge(g);
    f.lambda = lambda_eq1;
    m.eq1.push_back(model_from_spectrum(XV, spectrum, f));
  }
  FitOptions f2;
  f2.kind = ModelKind::kEq2;
  f2.lambda = lambda_eq2;
  m.eq2 = model_from_spectrum(XV, spectrum, f2);
  if (lambda_ease) {
    FitOptions fe;
    fe.kind = ModelKind::kEase;
    fe.lambda = *lambda_ease;
    m.ease = fit_model(X, fe, ctx);
  }
  return m;
}

std::unique_ptr<SimilaritySpace> variant_space(const Variant& v, const VariantModels& models,
                                               const SparseMatrix& X, const Context& ctx) {
  const Measure measure = parse_measure(v.measure);
  if (v.model == "raw") {
    if (X.cols() <= 20000) return make_explicit_space(cosine_from_gram(gram_matrix(X, ctx)));
    return make_similarity_space(models.eq2, X, Side::kItems, Measure::kRaw, ctx);
  }
  if (v.model == "eq2") return make_similarity_space(models.eq2, X, Side::kItems, measure, ctx);
  if (v.model == "ease") {
    if (!models.ease) throw InvalidArgument("the EASE variant needs a λ for EASE");
    return make_similarity_space(*models.ease, X, Side::kItems, measure, ctx);
  }
  if (v.model == "eq1") {
    const std::string gauge = v.gauge.empty() ? "symmetric" : v.gauge;  // projected: any gauge
    for (const Model& m : models.eq1) {
      if (m.options.gauge.name == gauge) return make_similarity_space(m, X, Side::kItems, measure, ctx);
    }
  }
  throw InvalidArgument(fmt::format("no model for variant '{}'", v.name));
}

}  // namespace linsim
