// linsim audit: is cosine similarity meaningful on these embeddings? (audit.json, audit.html)
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "common.h"
#include "linsim/audit/audit.h"
#include "linsim/audit/report.h"
#include "linsim/core/error.h"
#include "linsim/io/embedding_files.h"
#include "linsim/io/model_dir.h"

namespace linsim::cli {
namespace {

struct AuditArgs {
  std::string items;
  std::string users;
  std::string item_ids;
  std::string interactions;
  InputArgs read;
  std::string truth;
  std::string truth_kind = "auto";
  AuditOptions options;
  std::string out = "audit";
  bool force = false;
  Context ctx;
};

void run_audit_command(const AuditArgs& args) {
  args.options.validate();
  AtomicDirectory out(args.out, args.force, "audit.json");  // fail fast on an existing or unwritable output
  AuditInput in;
  nlohmann::json inputs = {{"items", args.items}};
  const bool model = std::filesystem::is_directory(args.items);
  if (model) {
    progress(fmt::format("reading model {}", args.items));
    ModelBundle b = read_model_dir(args.items);
    if (!b.model.has_embeddings()) throw InvalidArgument("an EASE model has no embeddings to audit");
    in.items = b.model.item_embeddings;
    in.item_ids = b.data.items;
    if (args.users.empty()) in.users = b.model.user_embeddings;
    if (args.interactions.empty()) in.interactions = b.data.X;
    inputs["items_format"] = "linsim model";
    inputs["model"] = model_name(b.model.options.kind);
  } else {
    progress(fmt::format("reading {}", args.items));
    EmbeddingTable t = read_embeddings(args.items);
    in.items = std::move(t.vectors);
    in.item_ids = std::move(t.ids);
    in.notes = std::move(t.warnings);
    inputs["items_format"] = t.format;
  }
  if (!args.item_ids.empty()) {
    if (model) throw InvalidArgument("--item-ids does not apply to a model directory (it has its ids)");
    in.item_ids = read_ids(args.item_ids);
    if (in.item_ids.size() != in.items.rows()) {
      throw InvalidArgument(fmt::format("'{}' has {} ids for {} item vectors", args.item_ids, in.item_ids.size(),
                                        in.items.rows()));
    }
    inputs["item_ids"] = args.item_ids;
  }
  if (!args.users.empty()) {
    EmbeddingTable u = read_embeddings(args.users);
    in.users = std::move(u.vectors);
    for (auto& w : u.warnings) in.notes.push_back(std::move(w));
    inputs["users"] = args.users;
  }
  if (!args.interactions.empty()) {
    progress(fmt::format("reading {}", args.interactions));
    in.interactions = read_input(args.interactions, args.read.options(), &in.item_ids).data.X;
    inputs["interactions"] = args.interactions;
  }
  if (!args.truth.empty()) {
    read_truth(args.truth, args.truth_kind, in);
    inputs["truth"] = args.truth;
  }
  const AuditReport report = run_audit(in, args.options, args.ctx, progress);
  write_audit(out, report, inputs);
  out.commit();
  const auto j = audit_json(report, inputs);
  std::cout << "Verdict: " << j["verdict"].get<std::string>() << "\n\n";
  auto show = [](const nlohmann::json& x) { return x.is_null() ? std::string("—") : fmt::format("{:.3f}", x.get<double>()); };
  std::cout << fmt::format("gauge sensitivity  mean Jaccard@{} {}  worst {}\n", args.options.top,
                           show(j["gauge_sensitivity"]["mean_jaccard"]), show(j["gauge_sensitivity"]["worst_jaccard"]))
            << fmt::format("balance            {}\n", show(j["balance"]["imbalance"]))
            << fmt::format("projected overlap  {}\n", show(j["projected_overlap"]["mean_jaccard"]))
            << fmt::format("norm ~ popularity  {}\n", show(j["popularity"]["norm_spearman"]))
            << fmt::format("geometry           random cosine {}  top-dim share {}  effective rank {}  hubness {}\n",
                           show(j["geometry"]["mean_random_cosine"]), show(j["geometry"]["top_dim_variance_share"]),
                           show(j["geometry"]["effective_rank"]), show(j["geometry"]["hubness_skew"]))
            << fmt::format("\nReport: {}/audit.html, numbers: {}/audit.json\n", args.out, args.out);
}

}  // namespace

void add_audit_command(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* cmd = app.add_subcommand("audit", "Is cosine similarity meaningful on these embeddings? (JSON + HTML report)");
  cmd->add_option("--items", args->items, "Item embeddings: .npy (float32/64), word2vec text, or a model directory")
      ->required();
  cmd->add_option("--users", args->users, "User embeddings with the same dimension (.npy or word2vec text)");
  cmd->add_option("--item-ids", args->item_ids, "Ids of the .npy item rows, one per line (default: 0, 1, ...)");
  cmd->add_option("--interactions", args->interactions,
                  "Interactions whose items are the embeddings' ids (popularity; least-squares users)");
  args->read.add_to(cmd);
  cmd->add_option("--truth", args->truth, "Item clusters (item, cluster) or word pairs with human scores");
  cmd->add_option("--truth-kind", args->truth_kind, "auto, clusters or pairs")->default_val("auto");
  cmd->add_option("--top,-n", args->options.top, "N of the neighbour comparisons")->default_val(10);
  cmd->add_option("--queries", args->options.queries, "Items sampled as queries for the neighbour comparisons")
      ->default_val(args->options.queries);
  cmd->add_option("--random-gauges", args->options.random_gauges, "Random diagonal rescalings in the family")
      ->default_val(args->options.random_gauges);
  cmd->add_option("--random-spread", args->options.random_spread, "Their spread s: D_j = exp(s z), z ~ N(0, 1)")
      ->default_val(args->options.random_spread);
  cmd->add_option("--out,-o", args->out, "Output directory (audit.json, audit.html)")->default_val("audit");
  cmd->add_flag("--force", args->force, "Replace an existing output directory");
  cmd->add_option("--seed", args->options.seed, "Seed of every sample")->default_val(args->options.seed);
  add_context_options(cmd, args->ctx);
  cmd->callback([args] { run_audit_command(*args); });
}

}  // namespace linsim::cli
