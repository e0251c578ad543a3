// linsim audit: is cosine similarity meaningful on these embeddings? (audit.json, audit.html)
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "common.h"
#include "linsim/audit/audit.h"
#include "linsim/audit/inputs.h"
#include "linsim/audit/report.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/model_dir.h"

namespace linsim::cli {
namespace {

struct AuditArgs {
  EmbeddingSources sources;
  InputArgs read;
  std::string truth;
  std::string truth_kind = "auto";
  AuditOptions options;
  std::string out = "audit";
  bool force = false;
  Context ctx;
};

void run_audit_command(AuditArgs& args) {
  args.options.validate();
  const EmbeddingSources& s = args.sources;
  if (s.interactions.empty()) args.read.refuse_without_input("--interactions");
  check_distinct_paths({{"--out", args.out}}, {{"--items", s.items, model_dir_file}, {"--users", s.users}, {"--item-ids", s.item_ids},
                                              {"--user-ids", s.user_ids}, {"--interactions", s.interactions},
                                              {"--truth", args.truth}});
  refuse_standard_output_for_directory("--out", args.out);
  AtomicDirectory out(args.out, args.force, "audit.json");  // fail fast on an existing or unwritable output
  args.sources.read = args.read.options();
  nlohmann::json inputs;
  AuditInput in = read_embedding_sources(args.sources, inputs, progress);
  if (!args.truth.empty()) {
    read_truth(args.truth, args.truth_kind, in);
    inputs["truth"] = args.truth;
  }
  for (const std::string& note : in.notes) warn(note);  // before the long part, and whatever happens next
  const AuditReport report = run_audit(in, args.options, args.ctx, progress);
  for (size_t i = in.notes.size(); i < report.notes.size(); ++i) warn(report.notes[i]);
  write_audit(out, report, inputs);
  std::cout << audit_summary(report)
            << fmt::format("\nReport: {}/audit.html, numbers: {}/audit.json\n", args.out, args.out);
  finish_standard_output();  // a summary that could not be printed is a failed run: nothing committed
  out.commit();
}

}  // namespace

void add_audit_command(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* cmd = app.add_subcommand("audit", "Is cosine similarity meaningful on these embeddings? (JSON + HTML report)");
  EmbeddingSources& s = args->sources;
  cmd->add_option("--items", s.items,
                  "Item embeddings: .npy (float32/64), word2vec text or binary, or a model directory")
      ->required();
  cmd->add_option("--users", s.users, "User embeddings with the same dimension (.npy or word2vec)");
  cmd->add_option("--item-ids", s.item_ids, "Ids of the .npy item rows, one per line (default: 0, 1, ...)");
  cmd->add_option("--user-ids", s.user_ids, "Ids of the .npy user rows, one per line (default: 0, 1, ...)");
  cmd->add_option("--interactions", s.interactions,
                  "Interactions whose items (and, with --users, users) are the embeddings' ids (popularity; "
                  "least-squares users)");
  args->read.add_to(cmd);
  CLI::Option* truth = cmd->add_option("--truth", args->truth, "Item clusters (item, cluster) or word pairs with human scores");
  // Checked here, not only when the truth file is read: without --truth a misspelt or stray
  // --truth-kind would otherwise pass unnoticed.
  cmd->add_option("--truth-kind", args->truth_kind, "How to read --truth: auto, clusters or pairs")
      ->default_val("auto")
      ->check(CLI::IsMember({"auto", "clusters", "pairs"}))
      ->needs(truth);
  cmd->add_option("--top,-n", args->options.top, "N of the neighbour comparisons (1 to 1000)")->default_val(10);
  cmd->add_option("--queries", args->options.queries, "Items sampled as queries for the neighbour comparisons (1 to 10000)")
      ->default_val(args->options.queries);
  cmd->add_option("--random-gauges", args->options.random_gauges, "Random diagonal rescalings in the family (0 to 1000)")
      ->default_val(args->options.random_gauges);
  cmd->add_option("--random-spread", args->options.random_spread, "Their spread s in (0, 10]: D_j = exp(s z), z ~ N(0, 1)")
      ->default_val(args->options.random_spread);
  cmd->add_option("--out,-o", args->out, "Output directory (audit.json, audit.html)")->default_val("audit");
  cmd->add_flag("--force", args->force, "Replace an existing output directory");
  cmd->add_option("--seed", args->options.seed, "Seed of every sample")->check(seed_text())->default_val(args->options.seed);
  add_context_options(cmd, args->ctx);
  cmd->callback([args] { run_audit_command(*args); });
}

}  // namespace linsim::cli
