// linsim export: embeddings for other tools; `--measure projected` writes the canonical
// (gauge-free) vectors whose plain cosine is the projected similarity (MATH.md M4). The vectors
// come from a model directory or from the audit's inputs (--items with --users or --interactions).
#include <fmt/format.h>

#include <memory>

#include "common.h"
#include "linsim/audit/inputs.h"
#include "linsim/core/error.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/embedding_files.h"
#include "linsim/io/model_dir.h"
#include "linsim/linalg/normalize.h"
#include "linsim/similarity/measure.h"

namespace linsim::cli {
namespace {

struct ExportArgs {
  std::string model_dir;
  EmbeddingSources sources;
  InputArgs read;
  std::string measure = "projected";
  std::string format = "npy";
  std::string side = "items";
  std::string out;
  std::string partner_out;
  bool force = false;
};

// One output: the vectors, and beside them, when the format has no ids (npy), their ids.
struct Output {
  std::string path;
  std::string ids_path;  // empty unless npy
  std::unique_ptr<FileOutput> file, ids_file;
};

void check_finite(const Matrix& M, const IdMap& ids, const char* what) {
  for (Index i = 0; i < M.rows(); ++i) {
    if (!M.row(i).allFinite()) {
      throw InvalidArgument(fmt::format("{} '{}' (row {}) has a value that is not a finite number", what, ids.id(i), i));
    }
  }
}

// The unit-length measures have no direction for a vector of length 0, or below kRelativeNormFloor
// of the longest (MATH.md M4): such rows are written as zeros, which a reader would otherwise take
// for a vector like any other.
void warn_zero_rows(const Matrix& vectors, const IdMap& ids, const char* side) {
  Index zeros = 0, first = -1;
  for (Index i = 0; i < vectors.rows(); ++i) {
    if (vectors.row(i).isZero(0.0)) {
      if (first < 0) first = i;
      ++zeros;
    }
  }
  if (zeros == 0) return;
  warn(fmt::format("{} of {} {} vectors are written as zeros (the first: '{}'): their length is 0 or below {} of the "
                   "longest, where a unit vector has no direction (math.md M4)",
                   zeros, vectors.rows(), side, ids.id(first), kRelativeNormFloor));
}

void run_export(ExportArgs& args) {
  const Measure measure = parse_measure(args.measure);
  if (measure == Measure::kRaw) throw InvalidArgument("--measure raw has no embeddings to export (use dot, cosine, projected)");
  const EmbeddingFormat format = parse_embedding_format(args.format);
  if (args.side != "items" && args.side != "users") {
    throw InvalidArgument(fmt::format("unknown --side '{}' (valid: items, users)", args.side));
  }
  EmbeddingSources& s = args.sources;
  if (args.model_dir.empty() == s.items.empty()) throw InvalidArgument("give --model DIR or --items VECTORS (one of them)");
  if (!args.model_dir.empty()) {
    if (!s.users.empty() || !s.interactions.empty() || !s.item_ids.empty() || !s.user_ids.empty()) {
      throw InvalidArgument("--users, --interactions, --item-ids and --user-ids go with --items, not with --model");
    }
    s.items = args.model_dir;
  }
  if (s.interactions.empty()) args.read.refuse_without_input("--interactions");
  if (!s.users.empty() && !s.interactions.empty()) {
    throw InvalidArgument("give --users or --interactions (for least-squares users), not both");
  }
  const bool items = args.side == "items";
  if (!args.partner_out.empty() && measure != Measure::kProjected) {
    throw InvalidArgument("--partner-out goes with --measure projected");
  }
  // Every file this export writes, created now (an existing one without --force, or an unwritable
  // folder, fails before any work) and committed together at the end: all appear, or none.
  std::vector<Output> outputs(args.partner_out.empty() ? 1 : 2);
  outputs[0].path = args.out;
  if (!args.partner_out.empty()) outputs[1].path = args.partner_out;
  std::vector<NamedPath> written;
  for (Output& o : outputs) {
    const std::string option = &o == &outputs[0] ? "--out" : "--partner-out";
    written.push_back({option, o.path});
    if (format == EmbeddingFormat::kNpy && o.path == "-") {
      throw InvalidArgument(fmt::format("{} '-': --format npy writes a file with its ids beside it, which standard "
                                        "output cannot hold; use --format word2vec or tsv there",
                                        option));
    }
    if (format == EmbeddingFormat::kNpy) {
      o.ids_path = ids_path_for(o.path);
      written.push_back({option + "'s ids (NAME.ids.tsv beside an .npy)", o.ids_path});
    }
  }
  check_distinct_paths(written, {{args.model_dir.empty() ? "--items" : "--model", s.items, model_dir_file}, {"--users", s.users},
                                 {"--item-ids", s.item_ids}, {"--user-ids", s.user_ids},
                                 {"--interactions", s.interactions}});
  for (Output& o : outputs) {
    o.file = std::make_unique<FileOutput>(o.path, args.force);
    if (!o.ids_path.empty()) o.ids_file = std::make_unique<FileOutput>(o.ids_path, args.force);
  }

  s.read = args.read.options();
  nlohmann::json description;
  const AuditInput in = read_embedding_sources(s, description, progress);
  for (const std::string& note : in.notes) warn(note);
  check_finite(in.items, in.item_ids, "item");
  // The users: given (or the model's), else the least-squares users of the interactions.
  std::optional<Matrix> P = in.users;
  IdMap user_ids = in.user_ids;
  if (!P && in.interactions) {
    progress("least-squares users X B (BᵀB)⁺");
    // The projected measure and its partner are scale-free in P: take it scaled by a power of two,
    // which neither overflows nor underflows for item vectors of any scale.
    int ignored = 0;
    P = least_squares_users(*in.interactions, in.items, measure == Measure::kProjected ? &ignored : nullptr);
    user_ids = in.interaction_users;
  }
  if (!P && (!items || measure == Measure::kProjected)) {
    throw InvalidArgument(fmt::format("{} needs user vectors: give --users VECTORS, or --interactions FILE for the "
                                      "least-squares users", items ? "--measure projected" : "--side users"));
  }
  if (P) {
    if (P->cols() != in.items.cols()) {
      throw InvalidArgument(fmt::format("users have dimension {}, items {}: the embeddings do not belong together",
                                        P->cols(), in.items.cols()));
    }
    check_finite(*P, user_ids, "user");
  }
  const Matrix& mine = items ? in.items : *P;
  const Matrix other = items ? (P ? *P : Matrix()) : in.items;
  const IdMap& ids = items ? in.item_ids : user_ids;
  const IdMap& other_ids = items ? user_ids : in.item_ids;
  // Every id checked and every vector computed before the first byte is written: standard output
  // (`-o -`) is written as it goes, and got a whole vector set before a bad partner id failed.
  check_writable_ids(ids, format);
  if (outputs.size() == 2) check_writable_ids(other_ids, format);
  const Matrix vectors = measure_factors(measure, mine, other);
  // The other side's factor that reproduces the scores with the unnormalised canonical vectors;
  // its Gram matrix is the identity (MATH.md M4).
  const Matrix partner = outputs.size() == 2 ? projected_partner(other, mine) : Matrix();
  if (measure != Measure::kDot) warn_zero_rows(vectors, ids, items ? "item" : "user");
  write_embeddings(outputs[0].file->stream(), ids, vectors, format);
  if (outputs[0].ids_file) write_id_lines(outputs[0].ids_file->stream(), ids);
  if (outputs.size() == 2) {
    write_embeddings(outputs[1].file->stream(), other_ids, partner, format);
    if (outputs[1].ids_file) write_id_lines(outputs[1].ids_file->stream(), other_ids);
  }
  std::vector<FileOutput*> all;
  for (Output& o : outputs) {
    all.push_back(o.file.get());
    if (o.ids_file) all.push_back(o.ids_file.get());
  }
  commit_outputs(all);
  progress(fmt::format("wrote {} {} vectors of dimension {} to {}", vectors.rows(), args.side, vectors.cols(),
                       outputs[0].file->name()));
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand("export", "Write embeddings for other tools (canonical vectors with --measure projected)");
  EmbeddingSources& s = args->sources;
  auto* model = cmd->add_option("--model,-m", args->model_dir, "Model directory written by 'linsim fit'");
  auto* vectors = cmd->add_option("--items", s.items,
                                  "Item vectors instead of a model: .npy (float32/64), word2vec text or binary");
  model->excludes(vectors);
  cmd->add_option("--users", s.users, "With --items: user vectors of the same dimension (.npy or word2vec)");
  cmd->add_option("--interactions", s.interactions,
                  "With --items and no --users: interactions naming the items by id, for the least-squares users "
                  "X B (BᵀB)⁺");
  cmd->add_option("--item-ids", s.item_ids, "Ids of the .npy item rows, one per line (default: 0, 1, ...)");
  cmd->add_option("--user-ids", s.user_ids, "Ids of the .npy user rows, one per line (default: 0, 1, ...)");
  // The interaction reader's options, as for `audit`; --format names the output format here, so
  // the input format is --input-format.
  args->read.add_to(cmd, "--input-format");
  cmd->add_option("--measure", args->measure,
                  "projected: unit canonical vectors whose cosine is the gauge-free similarity; cosine: unit "
                  "embeddings; dot: the embeddings as given")
      ->default_val("projected");
  cmd->add_option("--format", args->format,
                  "npy (ids beside it in OUT.ids.tsv, OUT without .npy), word2vec, tsv")
      ->default_val("npy");
  cmd->add_option("--side", args->side, "items or users")->default_val("items");
  cmd->add_option("--out,-o", args->out, "File to write ('-': standard output, word2vec or tsv only)")->required();
  cmd->add_option("--partner-out", args->partner_out,
                  "With --measure projected: also write the other side's factor P L^-T (Gram = identity) that "
                  "gives the same scores with the canonical vectors, in the same format");
  cmd->add_flag("--force", args->force, "Replace existing files");
  cmd->callback([args] { run_export(*args); });
}

}  // namespace linsim::cli
