// linsim similar-items / similar-users: top-N neighbours under a similarity measure.
#include <fmt/format.h>

#include <memory>
#include <numeric>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/io/model_dir.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/neighbors.h"
#include "linsim/io/atomic_output.h"

namespace linsim::cli {
namespace {

struct SimilarArgs {
  std::string model_dir;
  std::string measure = "projected";
  Index top = 10;
  std::string ids;
  bool all = false;
  bool include_self = false;
  bool float32 = false;
  std::string output;
  bool force = false;
  Context ctx;
};

void run_similar(const SimilarArgs& args, bool items) {
  check_distinct_paths({{"--output", args.output}}, {{"--model", args.model_dir, model_dir_file}});
  FileOutput output(args.output, args.force);  // an existing or unwritable file fails before any work
  const Measure measure = parse_measure(args.measure);
  if (args.top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", args.top));
  const ModelBundle bundle = read_model_dir(args.model_dir);
  const IdMap& ids = items ? bundle.data.items : bundle.data.users;
  const char* what = items ? "item" : "user";
  std::vector<Index> queries;
  if (args.all) {
    queries.resize(static_cast<size_t>(ids.size()));
    std::iota(queries.begin(), queries.end(), Index{0});
  } else {
    for (const std::string& id : split_ids(args.ids, items ? "--items" : "--users")) queries.push_back(ids.at(id, what));
  }
  progress(fmt::format("{} similarity for {} {}s", args.measure, queries.size(), what));
  const auto space = make_similarity_space(bundle.model, bundle.data.X, items ? Side::kItems : Side::kUsers,
                                           measure, args.ctx);
  if (args.float32 && space->dense_factors() == nullptr) {
    throw InvalidArgument(fmt::format("--float32 needs embeddings (dot, cosine or projected on an embedding model); "
                                      "--measure {} of this model has none",
                                      args.measure));
  }
  const NeighborLists lists = top_neighbors(*space, queries, args.top, args.include_self, args.ctx,
                                             args.float32 ? Precision::kFloat32 : Precision::kFloat64);
  write_neighbor_table(queries, lists, ids, ids, output);
}

}  // namespace

void add_similar_command(CLI::App& app, bool items) {
  auto args = std::make_shared<SimilarArgs>();
  const char* name = items ? "similar-items" : "similar-users";
  CLI::App* cmd = app.add_subcommand(name, items ? "Top-N most similar items" : "Top-N most similar users");
  cmd->add_option("--model,-m", args->model_dir, "Model directory written by 'linsim fit'")->required();
  cmd->add_option("--measure", args->measure,
                  "dot, cosine, projected (gauge-free cosine in the data space), raw (cosine of X)")
      ->default_val("projected");
  cmd->add_option("--top,-n", args->top, "Neighbours per query")->default_val(10);
  auto* list = cmd->add_option(items ? "--items" : "--users", args->ids, "Comma-separated external ids to query");
  auto* all = cmd->add_flag("--all", args->all, items ? "Query every item" : "Query every user");
  list->excludes(all);
  cmd->add_flag("--include-self", args->include_self, "Keep the query itself among its neighbours");
  cmd->add_flag("--float32", args->float32,
                "With an embedding measure (dot, cosine, projected): score in single precision (about twice "
                "as fast with --all); scores carry ~1e-7 relative rounding, so neighbours whose scores "
                "differ by less may swap");
  cmd->add_option("--output", args->output, "Write the TSV table here ('-' or not given: standard output)");
  cmd->add_flag("--force", args->force, "Replace an existing --output file");
  add_context_options(cmd, args->ctx);
  cmd->callback([args, items, list, all] {
    if (list->count() == 0 && all->count() == 0) {
      throw InvalidArgument(fmt::format("give {} ID,... or --all", items ? "--items" : "--users"));
    }
    run_similar(*args, items);
  });
}

}  // namespace linsim::cli
