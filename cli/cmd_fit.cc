// linsim fit: read interactions, fit a closed-form model, write a model directory.
#include <fmt/format.h>

#include <memory>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/io/model_dir.h"
#include "linsim/models/model.h"
#include "linsim/io/atomic_output.h"

namespace linsim::cli {
namespace {

void run_fit(const FitArgs& args, const CLI::App& cmd) {
  check_distinct_paths({{"--out", args.out}}, {{"--input", args.input}});
  const FitOptions options = fit_options(args, cmd);
  const ReadOptions read_options = args.read.options();
  refuse_standard_output_for_directory("--out", args.out);
  AtomicDirectory out(args.out, args.force, "model.json");  // fail fast on an existing or unwritable output

  progress(fmt::format("reading {}", args.input));
  ModelBundle bundle;
  ReadResult read = read_input(args.input, read_options, args.ctx);
  bundle.data = std::move(read.data);
  bundle.input = std::move(read.summary);
  progress(fmt::format("{} users x {} items, {} interactions ({}{})", bundle.data.n_users(),
                       bundle.data.n_items(), bundle.data.nnz(), bundle.input.format,
                       bundle.input.binarized ? ", binarised" : ""));
  progress(fmt::format("fitting {} ({}, lambda {}, weighting {})", args.model,
                       options.kind == ModelKind::kEase ? std::string(dtype_name(options.dtype))
                                                        : fmt::format("rank {}", options.rank),
                       options.lambda, options.weighting.spec()));
  bundle.model = fit_model(bundle.data.X, options, args.ctx, progress);
  if (options.kind == ModelKind::kCosine) {
    const Convergence& c = bundle.model.convergence;
    progress(fmt::format("cosine model: {} after {} iterations, objective {:.6g} -> {:.6g}, scale {:.4g}",
                         c.reason, c.iterations, c.initial_objective, c.final_objective, bundle.model.scale));
  }
  progress(fmt::format("solver {}: {}", bundle.model.solver, bundle.model.solver_reason));
  for (const std::string& w : bundle.model.warnings) warn(w);
  {
    const ThreadScope threads(args.ctx);  // the arrays are written on --threads threads
    write_model_dir(out, bundle);
  }
  out.commit();
  progress(fmt::format("wrote {}", args.out));
}

}  // namespace

void add_fit_command(CLI::App& app) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* cmd = app.add_subcommand("fit", "Fit a model (closed form, SPPMI or cosine-trained) and write a model directory");
  add_fit_options(cmd, *args);
  cmd->callback([args, cmd] { run_fit(*args, *cmd); });
}

}  // namespace linsim::cli
