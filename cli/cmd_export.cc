// linsim export: embeddings for other tools; `--measure projected` writes the canonical
// (gauge-free) vectors whose plain cosine is the projected similarity (MATH.md M4).
#include <fmt/format.h>

#include <filesystem>

#include <memory>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/io/embedding_files.h"
#include "linsim/io/model_dir.h"
#include "linsim/io/npy.h"
#include "linsim/similarity/measure.h"

namespace linsim::cli {
namespace {

struct ExportArgs {
  std::string model_dir;
  std::string measure = "projected";
  std::string format = "npy";
  std::string side = "items";
  std::string out;
  std::string partner_out;
  bool force = false;
};

// Writes vectors with their ids in the requested format, atomically.
void write_vectors(const std::string& path, const IdMap& ids, const Matrix& vectors, const std::string& format,
                   bool force) {
  if (format == "word2vec") {
    write_word2vec(path, ids, vectors, force);
  } else if (format == "tsv") {
    write_embedding_tsv(path, ids, vectors, force);
  } else {
    AtomicFile file(path, force);
    write_npy(file.stream(), vectors);
    file.commit();
  }
}

void run_export(const ExportArgs& args) {
  const Measure measure = parse_measure(args.measure);
  if (measure == Measure::kRaw) throw InvalidArgument("--measure raw has no embeddings to export (use dot, cosine, projected)");
  if (args.format != "npy" && args.format != "word2vec" && args.format != "tsv") {
    throw InvalidArgument(fmt::format("unknown --format '{}' (valid: npy, word2vec, tsv)", args.format));
  }
  if (args.side != "items" && args.side != "users") {
    throw InvalidArgument(fmt::format("unknown --side '{}' (valid: items, users)", args.side));
  }
  const ModelBundle bundle = read_model_dir(args.model_dir);
  const Model& m = bundle.model;
  if (!m.has_embeddings()) throw InvalidArgument("an EASE model has no embeddings to export");
  const bool items = args.side == "items";
  const Matrix& mine = items ? m.item_embeddings : m.user_embeddings;
  const Matrix& other = items ? m.user_embeddings : m.item_embeddings;
  const Matrix vectors = measure_factors(measure, mine, other);
  const IdMap& ids = items ? bundle.data.items : bundle.data.users;
  if (!args.partner_out.empty() && measure != Measure::kProjected) {
    throw InvalidArgument("--partner-out goes with --measure projected");
  }
  if (!args.partner_out.empty() && args.partner_out == args.out) {
    throw InvalidArgument("--partner-out must differ from --out");
  }
  if (!args.partner_out.empty() && !args.force && std::filesystem::exists(args.partner_out)) {
    throw InvalidArgument(fmt::format("'{}' exists; use --force to replace it", args.partner_out));
  }
  write_vectors(args.out, ids, vectors, args.format, args.force);
  if (!args.partner_out.empty()) {
    // The other side's factor that reproduces the model's scores with the unnormalised
    // canonical vectors; its Gram matrix is the identity (MATH.md M4).
    write_vectors(args.partner_out, items ? bundle.data.users : bundle.data.items, projected_partner(other),
                  args.format, args.force);
  }
  progress(fmt::format("wrote {} {} vectors of dimension {} to {}", vectors.rows(), args.side, vectors.cols(), args.out));
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand("export", "Write embeddings for other tools (canonical vectors with --measure projected)");
  cmd->add_option("--model,-m", args->model_dir, "Model directory written by 'linsim fit'")->required();
  cmd->add_option("--measure", args->measure,
                  "projected: unit canonical vectors whose cosine is the gauge-free similarity; cosine: unit "
                  "embeddings; dot: the embeddings as fitted")
      ->default_val("projected");
  cmd->add_option("--format", args->format, "npy (rows in the order of item_ids.tsv/user_ids.tsv), word2vec, tsv")
      ->default_val("npy");
  cmd->add_option("--side", args->side, "items or users")->default_val("items");
  cmd->add_option("--out,-o", args->out, "File to write")->required();
  cmd->add_option("--partner-out", args->partner_out,
                  "With --measure projected: also write the other side's factor P L^-T (Gram = identity) that "
                  "gives the model's scores with the canonical vectors, in the same format");
  cmd->add_flag("--force", args->force, "Replace an existing file");
  cmd->callback([args] { run_export(*args); });
}

}  // namespace linsim::cli
