// linsim evaluate-words: word similarity (Spearman's ρ with human scores) and analogies (3CosAdd,
// 3CosMul) of a word model's items, or of word vectors, under every similarity measure.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/evaluate/words.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/embedding_files.h"
#include "linsim/io/json_text.h"
#include "linsim/io/model_dir.h"
#include "linsim/linalg/normalize.h"
#include "linsim/similarity/measure.h"

namespace linsim::cli {
namespace {

namespace fs = std::filesystem;

struct WordsArgs {
  std::string model_dir;
  std::string vectors;
  std::string measures;
  std::vector<std::string> pairs;
  std::string data_dir;
  std::string analogies;
  std::string out;
  bool force = false;
  Context ctx;
};

// The standard sets under --data-dir, in the order of the table. The WordSim-353 similarity and
// relatedness splits (Agirre et al. 2009) are used when present and not missed when absent.
struct StandardSet {
  const char* name;
  const char* path;
  bool optional;
};
constexpr StandardSet kStandardSets[] = {
    {"ws353", "wordsim353/combined.csv", false},
    {"ws353-sim", "wordsim353/wordsim_similarity_goldstandard.txt", true},
    {"ws353-rel", "wordsim353/wordsim_relatedness_goldstandard.txt", true},
    {"simlex999", "simlex999/SimLex-999.txt", false},
    {"men", "men/MEN_dataset_natural_form_full", false},
    {"rw", "rw/rw.txt", false},
};

// "NAME=FILE" → (NAME, FILE); a plain FILE is named by its base name without the extension.
std::pair<std::string, std::string> named_file(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq != std::string::npos && eq > 0 && arg.substr(0, eq).find('/') == std::string::npos) {
    if (eq + 1 == arg.size()) throw InvalidArgument(fmt::format("--pairs '{}' names no file after '='", arg));
    return {arg.substr(0, eq), arg.substr(eq + 1)};
  }
  return {fs::path(arg).stem().string(), arg};
}

// The pair files to read: --pairs, then the standard sets under --data-dir (or LINSIM_DATA_DIR
// when neither is given).
std::vector<std::pair<std::string, std::string>> pair_files(const WordsArgs& args) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& p : args.pairs) files.push_back(named_file(p));
  std::string dir = args.data_dir;
  const char* option = "--data-dir";
  if (dir.empty() && args.pairs.empty()) {
    if (const char* env = std::getenv("LINSIM_DATA_DIR"); env != nullptr && *env != '\0') {
      dir = env;
      option = "LINSIM_DATA_DIR";
    }
  }
  if (!dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw InvalidArgument(fmt::format("{} '{}' is not a directory", option, dir));
    std::string missing;
    for (const StandardSet& s : kStandardSets) {
      const fs::path path = fs::path(dir) / s.path;
      if (fs::exists(path, ec)) {
        files.emplace_back(s.name, path.string());
      } else if (!s.optional) {
        missing += fmt::format("{}{} ({})", missing.empty() ? "" : ", ", s.name, s.path);
      }
    }
    if (!missing.empty())
      warn(fmt::format("standard sets not found under {} '{}': {}", option, dir, missing));
  }
  std::set<std::string> names;
  for (const auto& [name, path] : files) {
    if (!names.insert(name).second) {
      throw InvalidArgument(
          fmt::format("two pair sets are named '{}': name them with --pairs NAME=FILE", name));
    }
  }
  return files;
}

// The measures asked for, checked before anything is read: known names, none twice, and for
// --vectors only those that need no model. Empty: the defaults (default_measures).
std::vector<std::string> requested_measures(const WordsArgs& args) {
  if (args.measures.empty()) return {};
  std::vector<std::string> list = split_ids(args.measures, "--measures");  // none twice
  for (const std::string& m : list) {
    const Measure measure = parse_measure(m);
    if (!args.vectors.empty() && (measure == Measure::kProjected || measure == Measure::kRaw)) {
      throw InvalidArgument(
          fmt::format("--measures {}: needs a model directory (--model); word vectors alone have "
                      "only dot and cosine",
                      m));
    }
  }
  return list;
}

// The measures of a model (null: word vectors): those asked for, checked against the model, or
// every measure it supports.
std::vector<std::string> model_measures(std::vector<std::string> requested, const Model* model) {
  if (model == nullptr) return requested.empty() ? std::vector<std::string>{"cosine", "dot"} : requested;
  if (requested.empty()) {
    if (model->has_embeddings()) return {"dot", "cosine", "projected", "raw"};
    return {"dot", "projected", "raw"};
  }
  for (const std::string& m : requested) {
    if (!model->has_embeddings() && parse_measure(m) == Measure::kCosine) {
      throw InvalidArgument("--measures cosine: an EASE model has no embeddings (use dot, projected or raw)");
    }
  }
  return requested;
}

void run_words(const WordsArgs& args) {
  if (args.model_dir.empty() == args.vectors.empty()) {
    throw InvalidArgument(args.model_dir.empty() ? "give --model DIR or --vectors FILE"
                                                 : "give --model DIR or --vectors FILE, not both");
  }
  const std::vector<std::string> requested = requested_measures(args);
  std::vector<NamedPath> inputs = {{"--model", args.model_dir, model_dir_file}, {"--vectors", args.vectors},
                                   {"--analogies", args.analogies}};
  const auto pairs = pair_files(args);  // once: it warns of the standard sets it does not find
  for (const auto& [name, path] : pairs) inputs.push_back({"--pairs", path});
  check_distinct_paths({{"--out", args.out}}, inputs);
  std::optional<AtomicDirectory> out;
  refuse_standard_output_for_directory("--out", args.out);
  if (!args.out.empty()) out.emplace(args.out, args.force, "words.json");
  // The benchmarks first: they are small, and a mistake in them should not wait for the model.
  std::vector<WordPairSet> sets;
  for (const auto& [name, path] : pairs) sets.push_back(read_word_pairs(path, name));
  std::optional<std::vector<AnalogyQuestion>> analogies;
  if (!args.analogies.empty()) analogies = read_analogies(args.analogies);
  if (sets.empty() && !analogies) {
    throw InvalidArgument(
        "nothing to evaluate: give --pairs NAME=FILE, --data-dir DIR (or set LINSIM_DATA_DIR) "
        "or --analogies FILE");
  }

  std::optional<ModelBundle> bundle;
  std::optional<EmbeddingTable> table;
  if (!args.model_dir.empty()) {
    progress(fmt::format("reading {}", args.model_dir));
    bundle = read_model_dir(args.model_dir);
  } else {
    progress(fmt::format("reading {}", args.vectors));
    table = read_embeddings(args.vectors);
    for (const std::string& w : table->warnings) warn(w);
    if (table->implicit_ids) {
      throw InvalidArgument(
          fmt::format("--vectors '{}' is an .npy file: its rows have no words (give word2vec, "
                      "GloVe or TSV vectors)",
                      args.vectors));
    }
  }
  const std::vector<std::string> measures = model_measures(requested, bundle ? &bundle->model : nullptr);
  const IdMap& words = bundle ? bundle->data.items : table->ids;
  const WordSpaceFactory make_space = [&](const std::string& name) -> std::unique_ptr<SimilaritySpace> {
    const Measure measure = parse_measure(name);
    if (bundle) return make_similarity_space(bundle->model, bundle->data.X, Side::kItems, measure, args.ctx);
    return make_factor_space(measure == Measure::kCosine ? normalize_rows(table->vectors) : table->vectors);
  };
  WordEvaluation ev = evaluate_words(words, measures, make_space, sets, analogies ? &*analogies : nullptr,
                                     args.analogies, args.ctx, progress);
  ev.source_kind = bundle ? "model" : "vectors";
  ev.source = bundle ? args.model_dir : args.vectors;
  std::cout << words_table(ev);
  if (out) {
    std::ofstream js(out->file("words.json"));
    js << json_text(words_json(ev)) << '\n';
    js.close();
    if (!js) throw Error(fmt::format("cannot write words.json in '{}'", args.out));
    std::ofstream md(out->file("words.md"));
    md << words_markdown(ev);
    md.close();
    if (!md) throw Error(fmt::format("cannot write words.md in '{}'", args.out));
    finish_standard_output();
    out->commit();
  }
}

}  // namespace

void add_evaluate_words_command(CLI::App& app) {
  auto args = std::make_shared<WordsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate-words",
      "Word similarity (Spearman's rho with human scores) and analogies of a word model or vectors");
  cmd->add_option(
      "--model,-m", args->model_dir,
      "Model directory written by 'linsim fit' on a word x context matrix: its items are the words");
  cmd->add_option(
      "--vectors", args->vectors,
      "Word vectors instead of a model: word2vec text or binary, GloVe, or TSV (may be gzip-compressed)");
  cmd->add_option(
      "--measures", args->measures,
      "Comma-separated measures, side by side (default: dot,cosine,projected,raw for embedding models, "
      "dot,projected,raw for EASE, cosine,dot for --vectors; projected and raw need --model)");
  cmd->add_option(
         "--pairs", args->pairs,
         "A word-pair file as NAME=FILE, or FILE (named by its base name without the extension); repeatable. Layouts of "
         "WordSim-353, SimLex-999, MEN and Rare Words: two words, then the first numeric field is the score")
      ->allow_extra_args(false);
  cmd->add_option(
      "--data-dir", args->data_dir,
      "Use the standard sets found under DIR: wordsim353/combined.csv, simlex999/SimLex-999.txt, "
      "men/MEN_dataset_natural_form_full, rw/rw.txt, and the WordSim-353 similarity/relatedness splits "
      "(default without --pairs: $LINSIM_DATA_DIR)");
  cmd->add_option(
      "--analogies", args->analogies,
      "Analogy questions in the format of questions-words.txt (': section' lines, then 'a b c d')");
  cmd->add_option("--out,-o", args->out, "Also write words.json and words.md into this directory");
  cmd->add_flag("--force", args->force, "Replace an existing --out directory");
  add_context_options(cmd, args->ctx);
  cmd->callback([args] { run_words(*args); });
}

}  // namespace linsim::cli
