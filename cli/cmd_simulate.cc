// linsim simulate: the paper's simulated data (MATH.md M8) with its ground truth.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/io/atomic_output.h"
#include "linsim/simulate/simulation.h"

#include <optional>

namespace linsim::cli {
namespace {

struct SimulateArgs {
  SimulationOptions simulation;
  std::string out;
  std::string truth;
  bool force = false;
  Context ctx;
};

void run_simulate(const SimulateArgs& args) {
  args.simulation.validate();
  check_distinct_paths({{"--out", args.out}, {"--truth", args.truth}});
  // Both outputs are opened (and checked) before the work and committed together at the end.
  // "-" writes the interactions to standard output (simulate ... -o - | linsim fit -i - ...).
  FileOutput out(args.out, args.force);
  std::optional<FileOutput> truth;
  if (!args.truth.empty()) truth.emplace(args.truth, args.force);
  progress(fmt::format("simulating {} users x {} items", args.simulation.users, args.simulation.items));
  const Simulation sim = simulate(args.simulation, args.ctx);
  progress(fmt::format("{} interactions; writing {}", sim.data.nnz(), out.name()));
  write_simulated_interactions(out.stream(), sim);
  if (truth) write_truth(truth->stream(), sim);
  std::vector<FileOutput*> all{&out};
  if (truth) all.push_back(&*truth);
  commit_outputs(all);
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand("simulate", "Simulate interactions with known item clusters (the paper's §4)");
  add_simulation_options(cmd, args->simulation);
  cmd->add_option("--out,-o", args->out, "Interactions file to write (user<TAB>item, with header; '-': standard output)")->required();
  cmd->add_option("--truth", args->truth, "Ground truth file to write (item<TAB>cluster<TAB>popularity)");
  cmd->add_flag("--force", args->force, "Replace existing files");
  add_context_options(cmd, args->ctx);
  cmd->callback([args] { run_simulate(*args); });
}

}  // namespace linsim::cli
