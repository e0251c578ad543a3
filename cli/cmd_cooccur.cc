// linsim cooccur: a text corpus → the word × context co-occurrence matrix, in the interactions
// format (word, context, count) that fit, similar-items, audit and export read (docs/words.md).
// linsim tokenize: the corpus's tokens as linsim sees them, a window unit (paragraph) per line.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/io/atomic_output.h"
#include "linsim/text/cooccur.h"

namespace linsim::cli {
namespace {

struct CooccurArgs {
  std::vector<std::string> corpus;
  std::string output;
  std::string vocab;
  std::string suffix;
  std::string weight = "none";
  std::string boundary = "paragraph";
  std::string invalid_utf8 = "error";
  std::string temp_dir;
  double memory_mb = 1024;
  bool memory_given = false;  // --memory on the command line (the default may be lowered, a given value is not)
  CooccurOptions options;
  bool force = false;
  Context ctx;
};

// A count in units of 1/scale, as the shortest decimal that reads back to the same double.
void append_count(fmt::memory_buffer& out, std::uint64_t units, double scale) {
  if (scale == 1) {
    fmt::format_to(std::back_inserter(out), "{}", units);
  } else {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<double>(units) / scale);
  }
}

// The corpus's files; standard input ("-"), which has to be read twice, is first copied to a
// temporary file in `temp_dir` (or the system's) held by `spool`.
std::vector<CorpusFile> resolve_corpus(const std::vector<std::string>& corpus, const std::string& suffix,
                                       const std::string& temp_dir, std::unique_ptr<AtomicFile>& spool,
                                       const std::vector<NamedPath>& outputs) {
  namespace fs = std::filesystem;
  std::vector<CorpusFile> files;
  for (const std::string& path : corpus) {
    if (path != "-") {
      for (CorpusFile& f : corpus_files({path}, suffix)) files.push_back(std::move(f));
      continue;
    }
    if (spool) throw InvalidArgument("'-' (standard input) may be given once");
    const std::string dir = temp_dir.empty() ? fs::temp_directory_path().string() : temp_dir;
    spool = std::make_unique<AtomicFile>(fmt::format("{}/linsim-corpus-{}-stdin", dir, ::getpid()), false);
    // Copied only when there is something: inserting an empty stream buffer sets failbit, and an
    // empty standard input is an empty corpus, not a failed copy.
    if (std::cin.peek() != std::char_traits<char>::eof()) spool->stream() << std::cin.rdbuf();
    spool->stream().flush();
    if (std::cin.bad() || !spool->stream()) throw Error("cannot copy the standard input to a temporary file");
    files.push_back({spool->temporary(), "<stdin>"});
  }
  check_distinct_corpus_files(files);
  // The files a directory or link led to, against the outputs: a symbolic link inside a corpus
  // directory to a file that --output names (the command line's own paths were checked before).
  std::vector<NamedPath> read;
  for (const CorpusFile& f : files) {
    if (!spool || f.path != spool->temporary()) read.push_back({"corpus file", f.path});
  }
  check_distinct_paths(outputs, read);
  return files;
}

TextBoundary corpus_options(const std::string& boundary, const std::string& invalid_utf8, CooccurOptions& options) {
  options.boundary = parse_text_boundary(boundary);
  if (invalid_utf8 != "error" && invalid_utf8 != "latin1") {
    throw InvalidArgument(fmt::format("--invalid-utf8 must be error or latin1, got '{}'", invalid_utf8));
  }
  options.latin1_fallback = invalid_utf8 == "latin1";
  return options.boundary;
}

// The corpus arguments as inputs that no output may replace.
std::vector<NamedPath> corpus_paths(const std::vector<std::string>& corpus) {
  std::vector<NamedPath> paths;
  for (const std::string& path : corpus) paths.push_back({"corpus", path});
  return paths;
}

void run_cooccur(CooccurArgs& args) {
  // Without --output the matrix goes to standard output, as with "-".
  check_distinct_paths({{"--output", args.output.empty() ? "-" : args.output}, {"--vocab", args.vocab}},
                       corpus_paths(args.corpus));
  CooccurOptions& options = args.options;
  options.weight = parse_distance_weight(args.weight);
  corpus_options(args.boundary, args.invalid_utf8, options);
  if (!(args.memory_mb >= 1) || !std::isfinite(args.memory_mb)) {
    throw InvalidArgument(fmt::format("--memory must be at least 1 (MB), got {}", args.memory_mb));
  }
  // The tables grow to --memory when the corpus has that many pairs: more than the memory there is
  // would end in the system's out-of-memory killer, hours in. A given value is refused; the default
  // is lowered to half of what is available.
  const AvailableMemory room = available_memory();
  double memory_bytes = args.memory_mb * 1048576.0;
  if (memory_bytes > room.bytes) {
    if (args.memory_given) {
      throw InvalidArgument(fmt::format("--memory {} (MB) is more than the memory available ({})", args.memory_mb,
                                        room.text()));
    }
    memory_bytes = std::max(1048576.0, 0.5 * room.bytes);
  }
  options.memory_bytes = static_cast<std::size_t>(memory_bytes);
  options.spill_dir = args.temp_dir;
  options.validate();
  // Outputs first, so that an unwritable path fails before the corpus is read.
  FileOutput out(args.output, args.force);
  std::optional<FileOutput> vocab_out;
  if (!args.vocab.empty()) vocab_out.emplace(args.vocab, args.force);
  namespace fs = std::filesystem;
  if (args.temp_dir.empty() && !out.to_stdout()) {
    const fs::path parent = fs::path(args.output).parent_path();
    options.spill_dir = parent.empty() ? std::string(".") : parent.string();
  }
  std::unique_ptr<AtomicFile> spool;
  const std::vector<CorpusFile> files = resolve_corpus(args.corpus, args.suffix, options.spill_dir, spool,
                                                       {{"--output", args.output}, {"--vocab", args.vocab}});
  const auto start = std::chrono::steady_clock::now();
  const ProgressFn report = [](const std::string& line) { progress(line); };
  const Vocabulary vocabulary = count_vocabulary(files, options, args.ctx, report);
  if (vocabulary.tokens == 0) {
    throw Error(files.size() == 1 ? files[0].name + ": the corpus holds no words"
                                  : fmt::format("the corpus holds no words (none in its {} files)", files.size()));
  }
  if (vocabulary.words.empty()) {
    throw InvalidArgument(fmt::format("no word occurs at least --min-count {} times ({} tokens, {} distinct words)",
                                      options.min_count, vocabulary.tokens, vocabulary.distinct));
  }
  if (vocabulary.latin1_bytes > 0) {
    warn(fmt::format("{} byte(s) that are not UTF-8 were read as Latin-1 characters", vocabulary.latin1_bytes));
  }
  progress(fmt::format("{} tokens, {} distinct words, {} kept (min count {}{})", vocabulary.tokens,
                       vocabulary.distinct, vocabulary.words.size(), options.min_count,
                       options.max_vocab > 0 ? fmt::format(", at most {}", options.max_vocab) : std::string()));
  std::ostream& stream = out.stream();
  fmt::memory_buffer buffer;
  const auto flush = [&] {
    stream.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.clear();
    if (!stream) throw Error(fmt::format("cannot write to {}", out.name()));
  };
  fmt::format_to(std::back_inserter(buffer), "word\tcontext\tcount\n");
  const double scale = static_cast<double>(cooccur_scale(options));
  const CooccurStats stats = count_cooccurrences(
      files, vocabulary, options, args.ctx,
      [&](std::int32_t word, std::int32_t context, std::uint64_t units) {
        buffer.append(vocabulary.words[static_cast<size_t>(word)]);
        buffer.push_back('\t');
        buffer.append(vocabulary.words[static_cast<size_t>(context)]);
        buffer.push_back('\t');
        append_count(buffer, units, scale);
        buffer.push_back('\n');
        if (buffer.size() > (1 << 20)) flush();
      },
      report);
  // Checked before the last flush: with no pairs the buffer holds only the header, and standard
  // output gets nothing.
  if (stats.pairs == 0) {
    throw InvalidArgument(fmt::format("no two vocabulary words occur within --window {} of each other", options.window));
  }
  flush();
  if (vocab_out) {
    fmt::memory_buffer v;
    fmt::format_to(std::back_inserter(v), "word\tcount\n");
    for (size_t i = 0; i < vocabulary.words.size(); ++i) {
      fmt::format_to(std::back_inserter(v), "{}\t{}\n", vocabulary.words[i], vocabulary.counts[i]);
    }
    vocab_out->stream().write(v.data(), static_cast<std::streamsize>(v.size()));
  }
  std::vector<FileOutput*> all{&out};  // the vocabulary only beside the whole matrix
  if (vocab_out) all.push_back(&*vocab_out);
  commit_outputs(all);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress(fmt::format("{} words, {} nonzeros ({} pairs), {:.0f} tokens/s, {} run file(s) merged",
                       vocabulary.words.size(), stats.entries, stats.pairs,
                       static_cast<double>(vocabulary.tokens) / seconds, stats.runs_spilled));
}

// The corpus (positional) and how it is read: shared by cooccur and tokenize.
void add_corpus_options(CLI::App* cmd, std::vector<std::string>& corpus, std::string& suffix, std::string& boundary,
                        std::string& invalid_utf8) {
  cmd->add_option("corpus", corpus, "Text files, directories of them (read recursively), or - for standard input")
      ->required();
  cmd->add_option("--boundary", boundary, "Windows stop at: paragraph (a blank line), line (every line end), file")
      ->default_val("paragraph");
  cmd->add_option("--suffix", suffix, "In directories, read only files whose names end in this (e.g. .txt)");
  cmd->add_option("--invalid-utf8", invalid_utf8,
                  "Bytes that are not UTF-8: error (name the file and byte offset), or latin1 (read each such "
                  "byte as the Latin-1 character of its value, for files mixing the two encodings)")
      ->default_val("error");
}

struct TokenizeArgs {
  std::vector<std::string> corpus;
  std::string output;
  std::string suffix;
  std::string boundary = "paragraph";
  std::string invalid_utf8 = "error";
  std::string temp_dir;
  bool force = false;
};

void run_tokenize(const TokenizeArgs& args) {
  check_distinct_paths({{"--output", args.output}}, corpus_paths(args.corpus));
  CooccurOptions options;
  corpus_options(args.boundary, args.invalid_utf8, options);
  options.spill_dir = args.temp_dir;  // where a copy of standard input goes
  options.validate();
  FileOutput out(args.output, args.force);
  std::unique_ptr<AtomicFile> spool;
  const std::vector<CorpusFile> files =
      resolve_corpus(args.corpus, args.suffix, args.temp_dir, spool, {{"--output", args.output}});
  std::ostream& stream = out.stream();
  fmt::memory_buffer buffer;
  bool line_empty = true;
  const auto flush = [&] {
    stream.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.clear();
    if (!stream) throw Error(fmt::format("cannot write to {}", out.name()));
  };
  const std::int64_t latin1 = for_each_token(
      files, options,
      [&](std::string_view token) {
        if (!line_empty) buffer.push_back(' ');
        buffer.append(token);
        line_empty = false;
        if (buffer.size() > (1 << 20)) flush();
      },
      [&] {
        if (!line_empty) buffer.push_back('\n');
        line_empty = true;
      });
  flush();
  out.commit();
  if (latin1 > 0) warn(fmt::format("{} byte(s) that are not UTF-8 were read as Latin-1 characters", latin1));
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Write a corpus's tokens as 'linsim cooccur' sees them: lower-cased, one window unit (--boundary) per "
      "line, separated by blanks; the input of other programs that should see the same tokens");
  cmd->add_option("--output,-o", args->output, "Write here instead of standard output");
  add_corpus_options(cmd, args->corpus, args->suffix, args->boundary, args->invalid_utf8);
  cmd->add_option("--temp-dir", args->temp_dir, "Directory for the copy of standard input (default: the system's)");
  cmd->add_flag("--force", args->force, "Replace an existing --output file");
  cmd->callback([args] { run_tokenize(*args); });
}

void add_cooccur_command(CLI::App& app) {
  auto args = std::make_shared<CooccurArgs>();
  CLI::App* cmd = app.add_subcommand(
      "cooccur",
      "Count word-context co-occurrences in a text corpus (UTF-8) into a matrix that 'linsim fit' reads "
      "(rows: words, columns: context words, values: weighted counts)");
  cmd->add_option("--output,-o", args->output, "The matrix as TSV 'word<TAB>context<TAB>count' (default: standard output)");
  cmd->add_option("--vocab", args->vocab, "Also write the vocabulary as TSV 'word<TAB>count', most frequent first");
  cmd->add_option("--window", args->options.window, "Context words on each side of a word")->default_val(5);
  cmd->add_option("--distance-weight", args->weight,
                  "Weight of a context word d positions away: none (1), harmonic (1/d, as GloVe), linear "
                  "((window - d + 1) / window, word2vec's dynamic window in expectation)")
      ->default_val("none");
  cmd->add_option("--min-count", args->options.min_count, "Keep words occurring at least this often")->default_val(5);
  cmd->add_option("--max-vocab", args->options.max_vocab, "Keep at most this many words, the most frequent (0: all)")
      ->default_val(0);
  cmd->add_option("--subsample", args->options.subsample,
                  "word2vec's subsampling threshold t: a word of frequency f is dropped with probability "
                  "max(0, 1 - (sqrt(f/t) + 1) t/f), drawn from --seed (0: off; word2vec's default is 1e-3)")
      ->default_val(0);
  add_corpus_options(cmd, args->corpus, args->suffix, args->boundary, args->invalid_utf8);
  CLI::Option* memory = cmd->add_option("--memory", args->memory_mb,
                                        "Megabytes of pair counts held in memory (all threads together) before "
                                        "sorted runs are written to disk and merged (default: 1024, or half the "
                                        "memory available where that is less; at most the memory available)");
  cmd->add_option("--temp-dir", args->temp_dir,
                  "Directory for the runs of counts and the copy of standard input (default: beside --output, "
                  "else the system's temporary directory)");
  cmd->add_flag("--force", args->force, "Replace existing output files");
  add_context_options(cmd, args->ctx);
  cmd->add_option("--seed", args->ctx.seed, "Seed of the subsampling draws")->check(seed_text())->default_val(args->ctx.seed);
  cmd->callback([args, memory] {
    args->memory_given = memory->count() > 0;
    run_cooccur(*args);
  });
}

}  // namespace linsim::cli
