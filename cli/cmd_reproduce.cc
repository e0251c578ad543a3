// linsim reproduce: the paper's experiment with numbers (figures, tables, JSON).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "common.h"
#include "linsim/simulate/reproduction.h"

namespace linsim::cli {
namespace {

struct ReproduceArgs {
  ReproductionOptions options;
  std::string out = "reproduction";
  bool force = false;
  Context ctx;
};

void run_reproduce(const ReproduceArgs& args) {
  args.options.validate();
  refuse_standard_output_for_directory("--out", args.out);
  AtomicDirectory out(args.out, args.force, "results.json");  // fail fast on an existing or unwritable output
  const ReproductionResult result = reproduce(args.options, args.ctx, progress);
  for (const std::string& w : result.warnings) warn(w);
  progress(fmt::format("writing {}", args.out));
  write_reproduction(out, result);
  std::cout << reproduction_table(result) << fmt::format("\nFigures and results in {}/\n", args.out);
  finish_standard_output();  // a table that could not be printed is a failed run: nothing committed
  out.commit();
}

}  // namespace

void add_reproduce_command(CLI::App& app) {
  auto args = std::make_shared<ReproduceArgs>();
  CLI::App* cmd = app.add_subcommand(
      "reproduce", "Run the paper's experiment on simulated data: figures, tables and results.json");
  cmd->add_option("--out,-o", args->out, "Output directory")->default_val("reproduction");
  cmd->add_option("--seeds", args->options.seeds, "Number of simulated data sets (seeds --seed, --seed + 1, ...)")
      ->default_val(args->options.seeds);
  cmd->add_option("--rank,-k", args->options.rank, "Embedding dimension of both models")->default_val(50);
  cmd->add_option("--lambda-eq1", args->options.lambda_eq1, "lambda of eq1 (compared with sigma^2)")
      ->default_val(args->options.lambda_eq1);
  cmd->add_option("--lambda-eq2", args->options.lambda_eq2, "lambda of eq2 (compared with sigma)")
      ->default_val(args->options.lambda_eq2);
  cmd->add_option("--top", args->options.top, "Neighbours for precision@k and the popularity percentile")
      ->default_val(args->options.top);
  RemedyOptions& r = args->options.remedies;
  cmd->add_flag_callback("--no-remedies", [&r] { r.enabled = false; },
                         "Leave out the remedy variants (IPS, standardize, SPPMI, cosine-trained)");
  cmd->add_option("--ips-beta", r.ips_beta, "beta of the IPS-weighted eq1/eq2 variants")->default_val(r.ips_beta);
  cmd->add_option("--sppmi-negatives", r.sppmi.negatives, "Negatives k of the SPPMI variant")
      ->default_val(r.sppmi.negatives);
  cmd->add_option("--cosine-epochs", r.cosine_epochs, "L-BFGS iterations of the cosine-trained variant")
      ->default_val(r.cosine_epochs);
  add_simulation_options(cmd, args->options.simulation);
  cmd->add_flag("--force", args->force, "Replace an existing output directory");
  add_context_options(cmd, args->ctx);
  cmd->callback([args] { run_reproduce(*args); });
}

}  // namespace linsim::cli
