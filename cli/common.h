// Helpers shared by the subcommands: input options, progress on stderr, neighbour-table output.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/data/interaction_matrix.h"
#include "linsim/data/readers.h"
#include "linsim/io/atomic_output.h"
#include "linsim/models/model.h"
#include "linsim/similarity/neighbors.h"
#include "linsim/simulate/simulation.h"

namespace linsim::cli {

// Options describing how an interaction file is read (shared by fit and recommend).
struct InputArgs {
  std::string format = "auto";
  std::string sep;
  std::optional<bool> header;
  std::optional<bool> binarize;
  std::optional<double> min_value;
  bool strict = false;
  bool allow_negative = false;
  Index min_item_users = 0;

  // `format_option`: the name of the input-format option ("--input-format" where --format names
  // an output format).
  void add_to(CLI::App* app, const std::string& format_option = "--format");
  ReadOptions options() const;
  // For a command whose input is optional: an InvalidArgument naming the first reading option
  // given when `input_option` was not (it would be ignored).
  void refuse_without_input(const std::string& input_option) const;

  std::vector<const CLI::Option*> given;  // the reading options, as add_to added them
};

// read_interactions on ctx's threads, warning of what reading_warnings names. The reader's
// temporary entries, freed when it returns, stay in the program's one heap (main) and serve the
// fit's own allocations after it.
ReadResult read_input(const std::string& path, const ReadOptions& options, const Context& ctx,
                      const IdMap* known_items = nullptr);

// --threads, --seed
void add_context_options(CLI::App* app, Context& ctx);
// The check of every --seed option: decimal digits within 2^64 - 1 (not "-1", which the conversion
// would wrap).
CLI::Validator seed_text();

// Refuses, for every option and positional argument of `app` and its subcommands, an empty value
// ('--min-value ""', '-o ""'), which the parser would otherwise take as the option's default or as
// "not given" (no output written), and a number that is not written in decimal: the parser reads
// integers in C's base 0 ("--rank 010" is 8, "0x10" 16) and floats with strtold ("0x1p4" is 16).
// Each would be taken without a word. Call after every option is added.
void check_option_values(CLI::App& app);

// The simulation's parameters (MATH.md M8), shared by simulate and reproduce.
void add_simulation_options(CLI::App* app, SimulationOptions& options);

// The name that warnings, progress and the SIGBUS message start with: "linsim" unless main()
// sets another ("linsim-mpi") first, before any thread exists. `name` must outlive the program.
void set_program_name(const char* name);

// SIGINT, SIGTERM and SIGHUP end the program after removing its unfinished outputs, and so does an
// exit() before they are committed (atomic_output.h); SIGXFSZ is ignored, so that a write beyond
// the file-size limit is an error like any failed write; SIGBUS (a memory-mapped input that shrank
// while read) is named on stderr and ends the program with status 1, its outputs removed; SIGPIPE
// (standard output's reader gone) removes them and ends the program by SIGPIPE, silently. A
// standard stream the program was started without is held by /dev/null opened read-only, so that
// no file the program opens becomes its standard output, and writes to it fail. Call
// first in main(), before any other
// thread exists. Throws Error where the thread that takes the signals cannot start.
void remove_unfinished_outputs_when_cut_short();

// Progress messages on stderr, only when stderr is a terminal (or after show_progress_always(true):
// linsim-mpi --progress, whose ranks write to a pipe of the launcher, terminal or not).
void progress(const std::string& message);
void show_progress_always(bool always);

// A warning on stderr ("linsim: warning: ..."), always: something the user must know about the
// result (a degenerate model, input that was read but looks wrong). The library returns its
// warnings with its results; the commands print them with this.
void warn(const std::string& message);

// Flushes standard output; false when it could not all be written (a full disk, a closed pipe's
// reader gone): the caller must not take a truncated table for a result. main() checks it last;
// a command whose printed table comes before committing an output directory calls
// finish_standard_output() first, so that a failed print leaves no directory behind.
bool flush_stdout();
void finish_standard_output();  // throws Error naming the system's reason

// Splits "a,b,c" into ids (an empty entry or a repeated one is an InvalidArgument).
std::vector<std::string> split_ids(const std::string& list, const std::string& option);

// The neighbour table: this header line, then one row per neighbour (format_neighbor_rows).
inline constexpr const char* kNeighborTableHeader = "query\trank\tneighbor\tscore\n";
// Appends the rows of one query's neighbours: "query<TAB>rank<TAB>neighbor<TAB>score".
void format_neighbor_rows(fmt::memory_buffer& buffer, const std::string& query, const std::vector<Neighbor>& list,
                          const IdMap& neighbor_ids);

// A file output named on the command line. "-" (and an empty path, where the option defaults to
// standard output) is standard output; any other path is an AtomicFile created now, so that an
// existing file without --force, or a missing or unwritable folder, fails before any work.
class FileOutput {
 public:
  FileOutput(const std::string& path, bool force);
  bool to_stdout() const { return !file_; }
  std::ostream& stream();
  std::string name() const;  // "standard output" or "'PATH'", for messages
  // Standard output: flushed and checked (finish_standard_output); a file: committed.
  void commit();
  AtomicFile* file() { return file_ ? &*file_ : nullptr; }

 private:
  std::optional<AtomicFile> file_;
};

// Commits several outputs as one: standard output (at most one of them) is finished first, so that
// the files appear only beside all of it; the files then together (commit_together).
void commit_outputs(const std::vector<FileOutput*>& outputs);

// Refuses "-" for an output that is a directory (a model, an audit, results): they cannot go to
// standard output, and a directory named "-" is not what the user meant.
void refuse_standard_output_for_directory(const std::string& option, const std::string& path);

// Writes "query<TAB>rank<TAB>neighbor<TAB>score" rows (with a header line) to `output` and commits it.
void write_neighbor_table(const std::vector<Index>& queries, const NeighborLists& lists, const IdMap& query_ids,
                          const IdMap& neighbor_ids, FileOutput& output);

// The arguments of a fit (linsim fit, linsim-mpi fit).
struct FitArgs {
  std::string input;
  InputArgs read;
  std::string model = "eq2";
  std::string gauge = "balanced";
  Index rank = 50;
  std::optional<double> lambda;
  std::string dtype = "float64";
  std::string solver = "auto";
  double solver_tol = kDefaultSolverTol;
  std::string weighting = "none";
  SppmiOptions sppmi;
  CosineOptions cosine;
  std::string out;
  bool force = false;
  Context ctx;
};

// Adds the fit's options (input, model, output, threads) to `cmd`, storing into `args`.
void add_fit_options(CLI::App* cmd, FitArgs& args);
// The FitOptions the arguments describe, checked: an option given for a model it does not apply
// to, or out of range, is an InvalidArgument.
FitOptions fit_options(const FitArgs& args, const CLI::App& cmd);

void add_fit_command(CLI::App& app);
void add_similar_command(CLI::App& app, bool items);
void add_recommend_command(CLI::App& app);
void add_simulate_command(CLI::App& app);
void add_reproduce_command(CLI::App& app);
void add_evaluate_commands(CLI::App& app);
void add_export_command(CLI::App& app);
void add_audit_command(CLI::App& app);
void add_cooccur_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_evaluate_words_command(CLI::App& app);

}  // namespace linsim::cli
