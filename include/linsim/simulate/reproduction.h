// The paper's experiment (MATH.md M8) with numbers: simulate, fit M1 under several gauges and
// M2, and measure every similarity variant against the known clusters (MATH.md M7), over
// several seeds.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "linsim/core/context.h"
#include "linsim/evaluate/cluster_quality.h"
#include "linsim/evaluate/variants.h"
#include "linsim/io/atomic_output.h"
#include "linsim/simulate/simulation.h"

namespace linsim {

// The most seeds one reproduction takes (each is a whole experiment).
inline constexpr Index kMaxReproductionSeeds = 10000;

struct ReproductionOptions {
  SimulationOptions simulation;  // simulation.seed is the first seed
  Index seeds = 5;               // seeds simulation.seed, simulation.seed + 1, ...
  Index rank = 50;               // k for both models
  double lambda_eq1 = 10000;     // the paper's values (MATH.md M8)
  double lambda_eq2 = 100;
  Index top = 10;                // k of precision@k and the popularity percentile
  RemedyOptions remedies;        // the remedy variants (MATH.md M5, M6)

  void validate() const;
};

// The variants of the reproduction, in figure order: the ground truth, then model_variants().
const std::vector<Variant>& reproduction_variants();

struct Summary {
  double mean = 0;
  double sd = 0;  // sample standard deviation over seeds (NaN for one seed: undefined)
};

struct VariantResult {
  Variant variant;
  std::vector<ClusterQuality> per_seed;
  Summary auc, precision, popularity;
};

struct ReproductionResult {
  ReproductionOptions options;
  std::vector<std::uint64_t> seeds;
  std::vector<VariantResult> variants;
  double gauge_spread_auc = 0;  // max − min mean AUC over the eq1 cosine gauges
  // What the user must know about the fits (VariantModels::warnings): each model's first, with
  // its seed and on how many seeds it had one.
  std::vector<std::string> warnings;
  // How the cosine-trained variant's fit stopped on each seed (empty without the remedies): its
  // objective has no minimiser (MATH.md M5), so its rows depend on where it stopped.
  std::vector<Convergence> cosine_fits;
  // The first seed's item–item similarity of each variant, items sorted by cluster and then by
  // descending popularity (the figure's order); dot products scaled to max |value| = 1.
  std::vector<Matrix> figure_similarity;
  std::vector<Index> figure_order;
  std::vector<int> figure_cluster_sizes;
};

ReproductionResult reproduce(const ReproductionOptions& options, const Context& ctx,
                             const ProgressFn& progress = {});

// Writes figure1.png, figure1-extended.png, results.json (reproduction_json) and results.md
// (reproduction_markdown) into `out` (the caller commits).
void write_reproduction(AtomicDirectory& out, const ReproductionResult& result);

// The document results.json holds: {"options": {...}, "seeds": [...], "variants": [{"name",
// "model", "gauge" (null for none), "measure", "auc", "precision_at_k",
// "popularity_percentile_at_k" (each {"mean", "sd"}), "per_seed": {...}}], "gauge_spread_auc",
// "warnings", "cosine_fits": [{"seed", "iterations", "converged", "epoch_limit", "reason",
// "final_objective"}] (one per seed, empty without the remedies)}.
// k is options.top ("top" in "options"); an undefined metric (NaN) is null.
nlohmann::json reproduction_json(const ReproductionResult& result);

// The text results.md holds (it links figure1.png and figure1-extended.png). Throws
// InvalidArgument for a result without seeds; write_reproduction also for one without a figure
// similarity per variant.
std::string reproduction_markdown(const ReproductionResult& result);

// The summary table (markdown) shared by stdout and results.md.
std::string reproduction_table(const ReproductionResult& result);

}  // namespace linsim
