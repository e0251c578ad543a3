// The options of `linsim fit`, shared with `linsim-mpi fit` so that both read the same flags alike.
#include <fmt/format.h>

#include "common.h"
#include "linsim/core/error.h"

namespace linsim::cli {

FitOptions fit_options(const FitArgs& args, const CLI::App& cmd) {
  FitOptions options;
  options.kind = parse_model_kind(args.model);
  options.gauge = parse_gauge(args.gauge);
  options.rank = args.rank;
  options.lambda = args.lambda.value_or(default_lambda(options.kind));
  options.dtype = parse_dtype(args.dtype);
  options.solver = parse_solver(args.solver);
  options.solver_tol = args.solver_tol;
  options.weighting = parse_weighting(args.weighting);
  options.sppmi = args.sppmi;
  options.cosine = args.cosine;
  auto only_for = [&](const char* flag, ModelKind kind) {
    if (options.kind != kind && cmd.count(flag) > 0) {
      throw InvalidArgument(fmt::format("{} applies to --model {} only (got --model {})", flag, model_name(kind), args.model));
    }
  };
  only_for("--gauge", ModelKind::kEq1);
  only_for("--dtype", ModelKind::kEase);
  for (const char* flag : {"--negatives", "--smoothing", "--eigen-power"}) only_for(flag, ModelKind::kSppmi);
  for (const char* flag : {"--epochs", "--tol"}) only_for(flag, ModelKind::kCosine);
  check_solver_applies(options, cmd.count("--solver") > 0);
  if ((options.kind == ModelKind::kEase || options.kind == ModelKind::kSppmi) && cmd.count("--solver-tol") > 0) {
    throw InvalidArgument(fmt::format("--solver-tol applies to eq1, eq2 and cosine (got --model {})", args.model));
  }
  if (!(options.solver_tol >= kMinSolverTol && options.solver_tol < 1)) {
    throw InvalidArgument(fmt::format("--solver-tol must be in [{:g}, 1), got {}", kMinSolverTol, options.solver_tol));
  }
  if (options.kind == ModelKind::kSppmi && cmd.count("--lambda") > 0) {
    throw InvalidArgument("--lambda does not apply to --model sppmi (it is not regularised; see --negatives)");
  }
  if (options.kind == ModelKind::kSppmi) options.sppmi.validate();
  if (options.kind == ModelKind::kCosine) options.cosine.validate();
  if (options.kind == ModelKind::kEase && cmd.count("--rank") > 0) {
    throw InvalidArgument("--rank does not apply to --model ease (it is full rank)");
  }
  return options;
}

void add_fit_options(CLI::App* cmd, FitArgs& a) {
  FitArgs* args = &a;
  cmd->add_option("--input,-i", args->input, "Interaction file (triplets, MovieLens, Last.fm, .mtx; may be .gz)")
      ->required();
  args->read.add_to(cmd);
  cmd->add_option("--model,-m", args->model,
                  "eq1 (regularised product), eq2 (regularised factors), ease (full rank), sppmi (shifted "
                  "positive PMI of co-occurrences), cosine (trained with normalised embeddings)")
      ->default_val("eq2");
  cmd->add_option("--gauge", args->gauge,
                  "eq1 gauge: balanced, symmetric, item-orthonormal, input-orthonormal, power:t")
      ->default_val("balanced");
  cmd->add_option("--rank,-k", args->rank, "Embedding dimension k (every model but ease)")->default_val(50);
  cmd->add_option("--lambda,-l", args->lambda,
                  "Regularisation (default: eq1 10000, eq2 100, ease 500, cosine 100; eq1 compares it with "
                  "sigma^2, eq2 with sigma; cosine: lambda of its eq2 warm start; not for sppmi)");
  cmd->add_option("--dtype", args->dtype,
                  "ease: precision of XᵀX, its inverse and the stored weights: float64, or float32 (half the memory "
                  "and about half the time; needs a well-conditioned XᵀX + lambda I)")
      ->default_val("float64");
  cmd->add_option("--solver", args->solver, "Eigen-solver: auto, gram (dense XᵀX), randomized (block Krylov on the operator), lanczos (single-vector, operator)")
      ->default_val("auto");
  cmd->add_option("--solver-tol", args->solver_tol,
                  "randomized, lanczos: relative accuracy of each sigma_i^2 (sigma_i to half of it); looser is faster, "
                  "and the randomized solver moves its products to float32 blocks once tol * sigma_k^2 >= "
                  "1.2e-6 * sigma_1^2 (checked in double at the end)")
      ->default_val(kDefaultSolverTol);
  cmd->add_option("--weighting,-w", args->weighting,
                  "Weighting before the model, comma-separated steps: ips:beta, user-norm:gamma, tfidf, "
                  "bm25:k1:b, standardize (last); or sppmi:k:alpha alone (shifted positive PMI of word x "
                  "context counts, docs/words.md)")
      ->default_val("none");
  cmd->add_option("--negatives", args->sppmi.negatives, "sppmi: number of negative samples k (shift log k)")
      ->default_val(1.0);
  cmd->add_option("--smoothing", args->sppmi.smoothing, "sppmi: exponent of the smoothed item marginals")
      ->default_val(0.75);
  cmd->add_option("--eigen-power", args->sppmi.eigen_power, "sppmi: item embeddings V Lambda^t")->default_val(0.5);
  cmd->add_option("--epochs", args->cosine.epochs, "cosine: L-BFGS iterations at most")->default_val(200);
  cmd->add_option("--tol", args->cosine.tol, "cosine: stop when an iteration lowers the objective by less")
      ->default_val(1e-6);
  cmd->add_option("--out,-o", args->out, "Model directory to create")->required();
  cmd->add_flag("--force", args->force, "Replace an existing model directory");
  add_context_options(cmd, args->ctx);
}

}  // namespace linsim::cli
