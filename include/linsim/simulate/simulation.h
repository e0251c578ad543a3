// The paper's simulation (MATH.md M8): users with cluster preferences consume items with
// cluster-specific power-law popularity; the item clusters are the ground truth.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/data/interaction_matrix.h"

namespace linsim {

// The smallest popularity exponent: below it u^(1/β) can underflow to 0 (u ≥ 2^-53, so β must
// be at least 53/1074 ≈ 0.0494 for 2^(-53/β) ≥ 2^-1074).
inline constexpr double kMinBeta = 0.05;

struct SimulationOptions {
  Index users = 20000;
  Index items = 1000;
  Index clusters = 5;
  double beta_min = 0.25;  // per-cluster popularity exponent β_c ~ Uniform(beta_min, beta_max), beta_min ≥ kMinBeta
  double beta_max = 1.5;
  double user_beta = 0.5;  // activity: k_u = ceil(activity_scale · PowerLaw(user_beta))
  // Our documented defaults for what the paper leaves open:
  double cluster_concentration = 1.0;     // p_c ~ Dirichlet(α, …, α)
  double preference_concentration = 1.0;  // p_u· ~ Dirichlet(α, …, α)
  double activity_scale = 0;              // 0: the number of items (the paper's reading)
  Index max_items_per_user = 0;           // 0: no cap beyond the number of items
  std::uint64_t seed = 42;

  // Throws InvalidArgument naming the first invalid field.
  void validate() const;
};

struct Simulation {
  InteractionMatrix data;           // binary; user ids "0".."n-1", item ids "0".."p-1"
  std::vector<int> cluster;         // per item: its cluster c(i)
  Vector popularity;                // per item: baseline popularity p_i ∈ (0, 1]
  Vector cluster_probability;       // p_c
  Vector cluster_beta;              // β_c
  std::vector<Index> activity;      // per user: k_u
};

// Draws one data set. Deterministic for a given seed, whatever the thread count: the global
// draws use stream 0, user u uses stream u + 1. Each user's k_u items are drawn without
// replacement with probabilities ∝ p_{u,c(i)} p_i (successive sampling), by rejection while
// k_u is small and by Efraimidis–Spirakis exponential keys otherwise (the same distribution).
Simulation simulate(const SimulationOptions& options, const Context& ctx);

// Writes the interactions as "user<TAB>item" lines with a header (what `linsim fit` reads).
void write_simulated_interactions(std::ostream& out, const Simulation& sim);
// Writes "item<TAB>cluster<TAB>popularity" lines with a header (read back by the audit's
// read_truth, linsim/audit/audit.h).
void write_truth(std::ostream& out, const Simulation& sim);

}  // namespace linsim
