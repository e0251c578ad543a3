// linsim evaluate: top-N accuracy with the strong-generalisation protocol (MATH.md M7).
// linsim evaluate-similarity: agreement of item neighbours with metadata labels.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/data/metadata.h"
#include "linsim/evaluate/label_agreement.h"
#include "linsim/evaluate/protocol.h"
#include "linsim/evaluate/report.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/json_text.h"

namespace linsim::cli {
namespace {

using nlohmann::json;

struct EvaluateArgs {
  std::string input;
  InputArgs read;
  SplitOptions split;
  std::string models = "popularity,itemknn,eq1,eq2,ease";
  std::string grid;
  std::string out;
  bool force = false;
  Context ctx;
};

void run_evaluate(const EvaluateArgs& args) {
  check_distinct_paths({{"--out", args.out}}, {{"--input", args.input}});
  const std::vector<std::string> models = split_ids(args.models, "--models");
  const ParamGrid grid = parse_grid(args.grid);
  check_grid_applies(grid, models);
  if (args.read.binarize == false) {
    throw InvalidArgument("--no-binarize does not apply to evaluate: its protocol ranks held-out interactions, "
                          "so every kept entry is one (choose them with --min-value)");
  }
  ReadOptions read = args.read.options();
  read.binarize = true;  // the protocol is defined on binary data
  std::optional<AtomicDirectory> out;
  refuse_standard_output_for_directory("--out", args.out);
  if (!args.out.empty()) out.emplace(args.out, args.force, "results.json");
  progress(fmt::format("reading {}", args.input));
  const ReadResult data = read_input(args.input, read, args.ctx);
  const StrongSplit split = strong_generalization_split(data.data.X, args.split);
  progress(fmt::format("{} training, {} validation, {} test users", split.train_users.size(), split.valid_users.size(),
                       split.test_users.size()));
  const auto results = evaluate_models(split, models, grid, args.ctx, progress);
  for (const std::string& w : protocol_warnings(split)) warn(w);
  for (const ModelEvaluation& e : results) {
    for (const std::string& w : e.warnings) warn(w);
  }
  std::cout << evaluation_summary(split, results);
  if (out) {
    const EvaluationInput input{args.input, data.data.n_users(), data.data.n_items(), data.data.nnz(),
                                read.min_value};
    std::ofstream js(out->file("results.json"));
    js << json_text(evaluation_json(input, args.split, split, results, args.grid)) << '\n';
    js.close();
    if (!js) throw Error(fmt::format("cannot write results.json in '{}'", args.out));
    std::ofstream md(out->file("results.md"));
    md << evaluation_markdown(input, split, results);
    md.close();
    if (!md) throw Error(fmt::format("cannot write results.md in '{}'", args.out));
    finish_standard_output();  // the table printed first: a failed print commits nothing
    out->commit();
  }
}

// Above this many items EASE is left out of evaluate-similarity unless its λ is given.
constexpr Index kEaseItemLimit = 10000;

struct SimilarityArgs {
  std::string input;
  InputArgs read;
  std::string labels;
  LabelAgreementOptions options;
  bool ease_given = false;
  std::string out;
  bool force = false;
  Context ctx;
};

void run_similarity(const SimilarityArgs& args) {
  check_distinct_paths({{"--out", args.out}}, {{"--input", args.input}, {"--labels", args.labels}});
  args.options.validate();  // a bad λ is a usage error, not one found after the input is read
  ReadOptions read = args.read.options();
  std::optional<AtomicDirectory> out;
  refuse_standard_output_for_directory("--out", args.out);
  if (!args.out.empty()) out.emplace(args.out, args.force, "similarity.json");
  progress(fmt::format("reading {}", args.input));
  const ReadResult data = read_input(args.input, read, args.ctx);
  const ItemLabels labels = read_item_labels(args.labels, data.data.items);
  Index labelled = 0;
  for (const auto& set : labels.labels) labelled += set.empty() ? 0 : 1;
  if (labelled < 2) throw Error(fmt::format("'{}' labels {} of the {} items: nothing to evaluate", args.labels, labelled, data.data.n_items()));
  LabelAgreementOptions o = args.options;
  std::string ease_note;
  if (!args.ease_given && data.data.n_items() > kEaseItemLimit) {
    o.lambda_ease.reset();
    ease_note = fmt::format(" EASE left out: {} items > {} (its p × p inverse and projected similarity take minutes; "
                            "pass --lambda-ease to include it).", data.data.n_items(), kEaseItemLimit);
  }
  const LabelAgreement agreement = label_agreement(data.data.X, labels.labels, o, args.ctx, progress);
  for (const std::string& w : agreement.warnings) warn(w);
  const std::vector<LabelAgreementRow>& rows = agreement.rows;
  std::string table = fmt::format("| variant | same-label AUC | precision@{0} | popularity percentile@{0} |\n|---|---|---|---|\n", o.top);
  json variants = json::array();
  for (const auto& r : rows) {
    table += fmt::format("| {} | {} | {} | {} |\n", r.variant.name, metric_text(r.quality.auc, 3),
                         metric_text(r.quality.precision_at_k, 3), metric_text(r.quality.popularity_percentile_at_k, 1));
    variants.push_back({{"name", r.variant.name}, {"model", r.variant.model},
                        {"gauge", r.variant.gauge.empty() ? json(nullptr) : json(r.variant.gauge)},
                        {"measure", r.variant.measure}, {"auc", r.quality.auc},
                        {"precision_at_k", r.quality.precision_at_k},
                        {"popularity_percentile_at_k", r.quality.popularity_percentile_at_k},
                        {"items_scored", r.quality.items_scored}});
  }
  const std::string caption = fmt::format(
      "{}; {} of {} items labelled, {} labels. Models fitted on all interactions: rank {}, eq1 λ = {:g}, eq2 λ = {:g}{}.{}\n",
      labels.source, labelled, data.data.n_items(), labels.names.size(), o.rank, o.lambda_eq1, o.lambda_eq2,
      o.lambda_ease ? fmt::format(", EASE λ = {:g}", *o.lambda_ease) : "", ease_note);
  std::cout << table << '\n' << caption;
  if (out) {
    const json doc = {{"input", args.input}, {"labels", args.labels}, {"label_definition", labels.source},
                      {"items_labelled", labelled}, {"rank", o.rank}, {"lambda_eq1", o.lambda_eq1},
                      {"lambda_eq2", o.lambda_eq2}, {"lambda_ease", o.lambda_ease ? json(*o.lambda_ease) : json(nullptr)}, {"top", o.top},
                      {"variants", variants}, {"warnings", agreement.warnings}};
    const auto write = [&](const char* name, const std::string& text) {
      std::ofstream file(out->file(name));
      file << text;
      file.close();
      if (!file) throw Error(fmt::format("cannot write {} in '{}'", name, args.out));
    };
    write("similarity.json", json_text(doc) + "\n");
    write("similarity.md", fmt::format("# Item similarity against labels: {}\n\n", args.input) +
                               markdown_warnings(agreement.warnings) + table + "\n" + caption);
    finish_standard_output();
    out->commit();
  }
}

}  // namespace

void add_evaluate_commands(CLI::App& app) {
  {
    auto args = std::make_shared<EvaluateArgs>();
    CLI::App* cmd = app.add_subcommand("evaluate", "Top-N accuracy on held-out users (strong generalisation)");
    cmd->add_option("--input,-i", args->input, "Interaction file (binarised for the protocol)")->required();
    args->read.add_to(cmd);
    cmd->add_option("--heldout-users", args->split.heldout,
                    "Users per held-out set (validation and test each): a fraction < 1 or a count")
        ->default_val(0.1);
    cmd->add_option("--min-interactions", args->split.min_interactions, "Only users with this many items are held out")
        ->default_val(5);
    cmd->add_option("--seed", args->split.seed, "Seed of the user and fold-in split")->check(seed_text())->default_val(42);
    cmd->add_option("--models", args->models, "Comma-separated: popularity, itemknn, eq1, eq2, ease, sppmi, cosine")
        ->default_val(args->models);
    cmd->add_option("--grid", args->grid,
                    "Hyper-parameters to try, e.g. \"rank=50,100 eq1.lambda=1000,10000 eq2.lambda=10,30\" "
                    "(defaults: rank 50,100,200; eq1 lambda 100,1000,10000; eq2 and cosine 1,10,100; ease 100,500,2000; sppmi negatives 1,5)");
    cmd->add_option("--out,-o", args->out, "Also write results.json and results.md into this directory");
    cmd->add_flag("--force", args->force, "Replace an existing --out directory");
    add_context_options(cmd, args->ctx);
    cmd->callback([args] { run_evaluate(*args); });
  }
  {
    auto args = std::make_shared<SimilarityArgs>();
    CLI::App* cmd = app.add_subcommand("evaluate-similarity",
                                       "Agreement of item neighbours with metadata labels (genres, tags)");
    cmd->add_option("--input,-i", args->input, "Interaction file")->required();
    args->read.add_to(cmd);
    cmd->add_option("--labels", args->labels,
                    "u.item, movies.dat or movies.csv (genres), user_taggedartists.dat (top tag), or item<TAB>label|label lines")
        ->required();
    cmd->add_option("--rank,-k", args->options.rank, "Rank of eq1 and eq2")->default_val(args->options.rank);
    cmd->add_option("--lambda-eq1", args->options.lambda_eq1, "lambda of eq1")->default_val(args->options.lambda_eq1);
    cmd->add_option("--lambda-eq2", args->options.lambda_eq2, "lambda of eq2")->default_val(args->options.lambda_eq2);
    cmd->add_option_function<double>(
        "--lambda-ease",
        [args](double v) {
          args->options.lambda_ease = v;
          args->ease_given = true;
        },
        "lambda of EASE (default 500; EASE is left out above 10,000 items unless this is given)");
    cmd->add_option("--top", args->options.top, "k of precision@k")->default_val(args->options.top);
    cmd->add_option("--out,-o", args->out, "Also write similarity.json and similarity.md into this directory");
    cmd->add_flag("--force", args->force, "Replace an existing --out directory");
    add_context_options(cmd, args->ctx);
    cmd->callback([args] { run_similarity(*args); });
  }
}

}  // namespace linsim::cli
