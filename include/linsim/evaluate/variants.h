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
  std::string model;    // "truth", "raw", "eq1", "eq2", "ease", "sppmi", "cosine"
  std::string gauge;    // eq1 gauge for gauge-dependent measures, "" otherwise
  std::string measure;  // "cosine", "dot", "projected", "raw"
  bool in_figure1 = false;  // one of the paper's five panels
  std::string weighting;    // "" (none), "ips" or "standardize" (MATH.md M6)
  bool remedy = false;      // one of the paper's remedies (MATH.md M4 projected, M5, M6)
};

// The item–item variants every comparison reports: the four eq1 gauges' cosines, eq1 and eq2
// projected (the canonical, gauge-free vectors of `linsim export`), eq2 cosine and dot, raw
// item-kNN, and the remedies: IPS-weighted eq1 and eq2, standardised eq2, SPPMI and the
// cosine-trained model (the reproduction adds the ground truth and evaluations on real data add
// EASE).
const std::vector<Variant>& model_variants();

// Settings of the remedy variants.
struct RemedyOptions {
  bool enabled = true;
  double ips_beta = 0.5;      // ips:β for the IPS-weighted eq1 and eq2
  SppmiOptions sppmi;         // negatives 1, smoothing 0.75, eigen power 0.5
  Index cosine_epochs = 50;   // L-BFGS iterations of the cosine-trained model

  void validate() const;  // throws InvalidArgument naming the option
};

// The gauges of eq1 reported separately.
const std::vector<std::string>& reported_gauges();

struct VariantModels {
  std::vector<Model> eq1;     // one per reported gauge, all from one spectrum
  Model eq2;
  std::optional<Model> ease;  // when a λ for EASE was given
  // Remedies (when enabled). The weighted models use λ scaled to the weighted spectrum: eq2's λ
  // times σ₁(X_w)/σ₁(X), eq1's times (σ₁(X_w)/σ₁(X))², so that the shrinkage cuts the same share
  // of the spectrum as on the unweighted data.
  std::optional<Model> eq1_ips;  // symmetric gauge
  std::optional<Model> eq2_ips;
  std::optional<Model> eq2_standardized;
  std::optional<Model> sppmi;
  std::optional<Model> cosine;   // warm-started from eq2
  // XᵀX when p ≤ 20,000, for raw item-kNN (variant_space): computed once with the spectrum,
  // SPPMI and EASE, which use it too.
  Matrix cooccurrences;

  // The warnings (Model::warnings) of each model that λ leaves with one dimension, where every
  // cosine is ±1, prefixed with the model it concerns; each text once (the cosine-trained model
  // repeats its eq2 warm start's); and the SPPMI model's, whose rank is cut to its matrix's
  // positive eigenvalues where they are fewer than the rank.
  std::vector<std::string> warnings() const;
};

// Fits everything the variants need: one spectrum of X for eq1 and eq2 (MATH.md M1, M2), EASE
// (M3) when λ_ease is given, and the remedies (M5, M6) when enabled.
VariantModels fit_variant_models(const SparseView& X, Index rank, double lambda_eq1, double lambda_eq2,
                                 std::optional<double> lambda_ease, const Context& ctx,
                                 const RemedyOptions& remedies = {}, const ProgressFn& progress = {});

// The item–item similarity space of a variant ("truth" is not a model: the caller handles it).
// Raw cosine comes from the dense Gram matrix when p ≤ 20,000 (models.cooccurrences when it holds
// it).
std::unique_ptr<SimilaritySpace> variant_space(const Variant& variant, const VariantModels& models,
                                               const SparseView& X, const Context& ctx);

}  // namespace linsim
