// linsim recommend: top-N items for users, scored by the model's dot products.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <numeric>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/io/model_dir.h"
#include "linsim/similarity/neighbors.h"
#include "linsim/io/atomic_output.h"

namespace linsim::cli {
namespace {

struct RecommendArgs {
  std::string model_dir;
  std::string users;
  bool all = false;
  Index top = 10;
  bool include_seen = false;
  std::string input;
  InputArgs read;
  std::string output;
  bool force = false;
  Context ctx;
};

void run_recommend(const RecommendArgs& args) {
  check_distinct_paths({{"--output", args.output}}, {{"--model", args.model_dir, model_dir_file}, {"--input", args.input}});
  FileOutput output(args.output, args.force);  // an existing or unwritable file fails before any work
  if (args.input.empty()) args.read.refuse_without_input("--input");
  if (args.top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", args.top));
  const ModelBundle bundle = read_model_dir(args.model_dir);
  // Users are rows of the stored training interactions, or of --input (new users folded in
  // through the model's encoder without refitting).
  InteractionMatrix fresh;
  Index users_without_entries = 0;  // of --input: users it names that have no row
  const InteractionMatrix* data = &bundle.data;
  if (!args.input.empty()) {
    // Folded-in rows are read as the training rows were: binarised or not, and cut at the
    // --min-value, as model.json records; an option given says otherwise (was: the file's name
    // decided, so the same user's ratings scored apart from its training row).
    ReadOptions options = args.read.options();
    if (!options.binarize) {
      options.binarize = bundle.input.binarized;
    } else if (*options.binarize != bundle.input.binarized) {
      warn(fmt::format("the model was fitted on {} values, and {} folds in {} ones", bundle.input.binarized ? "binarised" : "unbinarised",
                       *options.binarize ? "--binarize" : "--no-binarize", *options.binarize ? "binarised" : "unbinarised"));
    }
    if (!options.min_value) options.min_value = bundle.input.min_value;
    // Said before reading, naming the option (was: an error after reading, at a row number of one
    // scoring block that named no user).
    if (options.allow_negative && bundle.model.weighting.weighting.needs_nonnegative()) {
      throw InvalidArgument(fmt::format("--allow-negative: the model's weighting '{}' needs nonnegative values",
                                        bundle.model.weighting.weighting.spec()));
    }
    ReadResult read = read_input(args.input, options, args.ctx, &bundle.data.items);
    if (const InputSummary& s = read.summary; s.users_without_entries > 0) {
      // Their entries were all 0 (or below --min-value): nothing to fold in, so no rows for them.
      const std::int64_t count = s.users_without_entries;
      const bool one = count == 1;
      warn(fmt::format("{} user{} of '{}' had only entries of 0{}, which are dropped: no recommendations for {} ({}{})",
                       count, one ? "" : "s", args.input, s.min_value ? " or below --min-value" : "", one ? "it" : "them",
                       fmt::join(s.users_without_entries_examples, ", "), count > 3 ? ", ..." : ""));
    }
    users_without_entries = read.summary.users_without_entries;
    fresh = std::move(read.data);
    data = &fresh;
  } else if (args.users.empty() && !args.all) {
    throw InvalidArgument("give --users ID,..., --all, or --input FILE");
  }
  std::vector<Index> rows;
  if (args.users.empty()) {
    rows.resize(static_cast<size_t>(data->n_users()));
    std::iota(rows.begin(), rows.end(), Index{0});
  } else {
    for (const std::string& id : split_ids(args.users, "--users")) {
      const std::optional<Index> row = data->users.find(id);
      if (!row) {
        // A user of --input whose entries were all dropped is in the file but has no row.
        // The ids are --input's when it is given (was: "unknown user id '0'" for a training user
        // that the file does not hold, as if the model lacked it).
        throw InvalidArgument(fmt::format("unknown user id '{}'{}{}", id,
                                          args.input.empty() ? std::string()
                                                             : fmt::format(": --users names users of --input '{}'", args.input),
                                          users_without_entries > 0
                                              ? fmt::format(" ('{}' has no row for {} user{} whose entries were all 0 "
                                                            "or below --min-value, as warned above)",
                                                            args.input, users_without_entries,
                                                            users_without_entries == 1 ? "" : "s")
                                              : std::string()));
      }
      rows.push_back(*row);
    }
  }
  progress(fmt::format("recommending for {} users", rows.size()));
  const NeighborLists lists = recommend(bundle.model, data->X, rows, args.top, !args.include_seen, args.ctx);
  write_neighbor_table(rows, lists, data->users, bundle.data.items, output);
}

}  // namespace

void add_recommend_command(CLI::App& app) {
  auto args = std::make_shared<RecommendArgs>();
  CLI::App* cmd = app.add_subcommand("recommend", "Top-N items for users (dot-product scores)");
  cmd->add_option("--model,-m", args->model_dir, "Model directory written by 'linsim fit'")->required();
  auto* users = cmd->add_option("--users", args->users, "Comma-separated external user ids");
  auto* all = cmd->add_flag("--all", args->all, "Every user");
  users->excludes(all);
  cmd->add_option("--top,-n", args->top, "Items per user")->default_val(10);
  cmd->add_flag("--include-seen", args->include_seen, "Do not exclude the user's own items");
  cmd->add_option("--input,-i", args->input,
                  "Score the users of this interaction file (new users, folded in without refitting)");
  args->read.add_to(cmd);
  cmd->add_option("--output", args->output, "Write the TSV table here ('-' or not given: standard output)");
  cmd->add_flag("--force", args->force, "Replace an existing --output file");
  add_context_options(cmd, args->ctx);
  cmd->callback([args] { run_recommend(*args); });
}

}  // namespace linsim::cli
