// Similarity variants: one model (eq1 under a gauge, eq2, EASE, or none for raw item-kNN) and
// one measure (MATH.md M4). Shared by the reproduction and the evaluation on real data, so both
// compare exactly the same things.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/models/model.h"
#include "linsim/similarity/measure.h"

namespace linsim {

struct Variant {
  std::string name;     // e.g. "eq1 symmetric cosine"
  std::string model;    // "truth", "raw", "eq1", "eq2", "ease"
  std::string gauge;    // eq1 gauge for gauge-dependent measures, "" otherwise
  std::string measure;  // "cosine", "dot", "projected", "raw"
  bool in_figure1 = false;  // one of the paper's five panels
};

// The item–item variants every comparison reports: the four eq1 gauges' cosines, eq1 and eq2
// projected, eq2 cosine and dot, and raw item-kNN (the reproduction adds the ground truth and
// evaluations on real data add EASE).
const std::vector<Variant>& model_variants();

// The gauges of eq1 reported separately.
const std::vector<std::string>& reported_gauges();

struct VariantModels {
  std::vector<Model> eq1;     // one per reported gauge, all from one spectrum
  Model eq2;
  std::optional<Model> ease;  // when a λ for EASE was given
};

// Fits everything the variants need from one spectrum of X (MATH.md M1, M2, M3).
VariantModels fit_variant_models(const SparseMatrix& X, Index rank, double lambda_eq1, double lambda_eq2,
                                 std::optional<double> lambda_ease, const Context& ctx);

// The item–item similarity space of a variant ("truth" is not a model: the caller handles it).
// Raw cosine comes from the dense Gram matrix when p ≤ 20,000.
std::unique_ptr<SimilaritySpace> variant_space(const Variant& variant, const VariantModels& models,
                                               const SparseMatrix& X, const Context& ctx);

}  // namespace linsim
