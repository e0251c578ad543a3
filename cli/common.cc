#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include <iostream>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/io/atomic_output.h"

namespace linsim::cli {

// SIGINT, SIGTERM and SIGHUP are blocked in every thread and taken by one waiting thread, which
// removes the unfinished outputs' temporaries (nothing half-written stays behind) and then ends
// the process by the same signal, so the shell sees the usual status (130 for Ctrl-C). An exit()
// from a library below (libgomp's when a thread cannot be started) removes them too.
namespace {

// A string literal's address, set before any thread exists and read by the SIGBUS handler.
const char* program_name = "linsim";

// Set by the SIGBUS handler: the signal thread then ends the process with exit status 1.
std::atomic<bool> bus_error{false};
static_assert(std::atomic<bool>::is_always_lock_free);

// A file read through a memory map (a corpus, cooccur's and tokenize's) that shrinks while it is
// read faults with SIGBUS on the pages now past its end. The faulting thread cannot go on (its
// read would fault again), so it names the fault and hands the ending to the signal thread —
// which removes the temporaries, as for SIGTERM — and waits there. Only async-signal-safe calls.
void on_bus_error(int) {
  static constexpr char kMessage[] =
      ": error: an input file read through a memory map shrank, or a page of it could not be read, "
      "while it was being read (SIGBUS); its unfinished output files are removed\n";
  if (!bus_error.exchange(true)) {
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, program_name, std::strlen(program_name));
    n = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    ::kill(::getpid(), SIGTERM);  // blocked in every thread: taken by the signal thread's sigwait
  }
  for (;;) ::pause();
}

// Set by the SIGPIPE handler: the signal thread then ends the process by SIGPIPE.
std::atomic<bool> broken_pipe{false};

// A write to a pipe whose reader is gone (linsim evaluate ... -o dir | head) raises SIGPIPE in the
// writing thread; its default action would end the process with the temporaries of outputs not yet
// committed left behind. The handler hands the ending to the signal thread, which removes them and
// then ends the process by SIGPIPE with no message, as the default would (status 141 in a shell).
void on_broken_pipe(int) {
  if (unfinished_outputs_removed()) {
    // Past the removal (exit()'s own flushes standard output after it, and keeps the list locked,
    // so the signal thread would wait for it for good): nothing is left to remove, end as the
    // default would. Blocked while this handler runs, the raised signal ends it on return.
    ::signal(SIGPIPE, SIG_DFL);
    ::raise(SIGPIPE);
    return;
  }
  if (!broken_pipe.exchange(true)) ::kill(::getpid(), SIGTERM);  // taken by the signal thread
  for (;;) ::pause();
}

}  // namespace

void set_program_name(const char* name) { program_name = name; }

namespace {

// A standard stream the program was started without (`linsim … >&-`) is given /dev/null opened for
// reading only: otherwise the first file the program opens takes its number, and what it writes
// to standard output lands in that file (`simulate -o - --truth t.tsv >&-` had committed t.tsv
// with the interactions written over it, exit 0). Opened read-only, standard output and error
// fail every write, so a command writing to them says "cannot write to standard output", exit 1,
// and a closed standard input reads as empty.
void hold_closed_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int opened = ::open("/dev/null", O_RDONLY);  // the lowest free number: fd itself
    if (opened >= 0 && opened != fd) {
      ::dup2(opened, fd);
      ::close(opened);
    }
  }
}

}  // namespace

void remove_unfinished_outputs_when_cut_short() {
  hold_closed_standard_streams();
  remove_unfinished_outputs_at_exit();
  // A write beyond the file-size limit (ulimit -f) fails with EFBIG, an error the writer names and
  // cleans up after, instead of ending the process by SIGXFSZ with its temporaries left behind (as
  // Python does too).
  signal(SIGXFSZ, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any other thread exists: they inherit it
  std::thread handler;
  try {
    handler = std::thread([signals] {
      int received = 0;
      if (sigwait(&signals, &received) != 0) return;
      remove_unfinished_outputs();
      if (bus_error) _exit(1);  // the SIGBUS handler's, not a termination asked for from outside
      if (received == SIGTERM && broken_pipe) received = SIGPIPE;  // the SIGPIPE handler's, not a Ctrl-C's
      signal(received, SIG_DFL);
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, received);
      pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
      raise(received);
    });
  } catch (const std::system_error& e) {
    // No signal could be taken without it: stop before any work, naming the limits a thread's start needs room under.
    struct rlimit stack {}, space {};
    getrlimit(RLIMIT_STACK, &stack);
    getrlimit(RLIMIT_AS, &space);
    const auto text = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : format_bytes(double(v)); };
    throw Error(fmt::format("cannot start a thread: {} (stack-size limit, ulimit -s: {}; address-space limit, "
                            "ulimit -v: {})",
                            e.code().message(), text(stack.rlim_cur), text(space.rlim_cur)));
  }
  handler.detach();
  struct sigaction bus {};
  bus.sa_handler = on_bus_error;
  sigemptyset(&bus.sa_mask);
  sigaction(SIGBUS, &bus, nullptr);
  struct sigaction broken {};
  broken.sa_handler = on_broken_pipe;
  sigemptyset(&broken.sa_mask);
  sigaction(SIGPIPE, &broken, nullptr);
}

void InputArgs::add_to(CLI::App* app, const std::string& format_option) {
  given = {
      app->add_option(format_option, format, "Input format: auto, triplets (or csv, tsv), movielens, lastfm, mtx")
          ->default_val("auto"),
      app->add_option("--sep", sep,
                      "Field separator for triplets: tab, comma, space (runs of blanks), '::', ';', or any other "
                      "string taken literally (default: detect)")};
  // Tri-state switches: unset means "the format decides" (CLI11 would otherwise store a default).
  auto* yes_header = app->add_flag_callback("--header", [this] { header = true; }, "The first line is a header");
  auto* no_header = app->add_flag_callback("--no-header", [this] { header = false; },
                                           "The first line is data (default: detect)");
  yes_header->excludes(no_header);
  auto* yes_bin = app->add_flag_callback("--binarize", [this] { binarize = true; },
                                         "Every kept entry becomes 1 (default for MovieLens ratings)");
  auto* no_bin = app->add_flag_callback("--no-binarize", [this] { binarize = false; }, "Keep the values as they are");
  yes_bin->excludes(no_bin);
  given.insert(given.end(),
               {yes_header, no_header, yes_bin, no_bin,
                app->add_option("--min-value", min_value, "Keep only entries with value >= this (before binarising)"),
                app->add_flag("--strict", strict, "Reject duplicate (user, item) entries instead of summing them"),
                app->add_flag("--allow-negative", allow_negative, "Accept negative values"),
                app->add_option("--min-item-users", min_item_users,
                                "Drop items with fewer users (and users left empty)")});
}

void InputArgs::refuse_without_input(const std::string& input_option) const {
  for (const CLI::Option* option : given) {
    if (option->count() > 0) {
      throw InvalidArgument(fmt::format("{} applies to the interactions read with {}, which is not given",
                                        option->get_name(), input_option));
    }
  }
}

ReadOptions InputArgs::options() const {
  if (min_item_users < 0) throw InvalidArgument(fmt::format("--min-item-users must be >= 0, got {}", min_item_users));
  ReadOptions o;
  o.format = parse_input_format(format);
  o.separator = parse_separator(sep);
  o.header = header;
  o.binarize = binarize;
  o.min_value = min_value;
  o.strict = strict;
  o.allow_negative = allow_negative;
  o.min_item_users = min_item_users;
  return o;
}

ReadResult read_input(const std::string& path, const ReadOptions& options, const Context& ctx, const IdMap* known_items) {
  const ThreadScope threads(ctx);  // a large plain file is parsed on --threads threads
  ReadResult read = read_interactions(path, options, known_items);
  for (const std::string& w : reading_warnings(read.summary)) warn(w);
  return read;
}

CLI::Validator seed_text() {
  return CLI::Validator(
      [](const std::string& text) {
        // The conversion to an unsigned 64-bit number would take "-1" as 2^64 - 1, and clamp values
        // beyond 2^64 - 1 to it: two seeds the user did not give.
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
          return fmt::format("a seed is an integer in [0, 2^64 - 1], got '{}'", text);
        }
        return std::string();
      },
      "");
}

namespace {

// "" when `text` is a decimal number the parser reads as written; otherwise why not. Integers:
// digits after an optional sign, without a leading 0 (octal to the parser). Floats: decimal digits
// with an optional point and exponent, or inf/infinity/nan, which the options' own range checks
// then name.
std::string decimal_number_problem(const std::string& text, bool integer) {
  size_t i = text.empty() || (text[0] != '+' && text[0] != '-') ? 0 : 1;
  const auto digits = [&] {
    const size_t from = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - from;
  };
  if (integer) {
    const size_t start = i;
    if (digits() == 0 || i != text.size()) return fmt::format("'{}' is not a decimal integer", text);
    if (text[start] == '0' && i - start > 1) {
      return fmt::format("'{}' has a leading 0 (the parser would read it as octal): write it without", text);
    }
    return std::string();
  }
  std::string word = text.substr(i);
  for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (word == "inf" || word == "infinity" || word == "nan") return std::string();
  size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  bool ok = mantissa > 0;
  if (ok && i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    ok = digits() > 0;
  }
  if (!ok || i != text.size()) return fmt::format("'{}' is not a decimal number", text);
  // A number no double holds: the conversion would give ±inf (named as "inf", not as written) or,
  // below ~4.9e-324, 0 (--lambda 1e-400 was fitted, and reported, as λ = 0 without a word). The
  // library's conversion reports exactly these as out of range (subnormal values are taken).
  double value = 0;
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  if (std::from_chars(begin, text.data() + text.size(), value).ec == std::errc::result_out_of_range) {
    return fmt::format("'{}' is beyond the range of a double (magnitudes 4.9e-324 to 1.8e308)", text);
  }
  return std::string();
}

}  // namespace

void check_option_values(CLI::App& app) {
  const CLI::Validator non_empty(
      [](const std::string& text) { return text.empty() ? std::string("an empty value (leave the option out instead)") : std::string(); },
      "");
  // An integer beyond the option's 64-bit type: the conversion saturates it without a word
  // (`--rank 18446744073709551616` was read as 2^63 − 1, `--top 2^64` as the largest count).
  const auto integer_in_range = [](bool is_unsigned) {
    return CLI::Validator(
        [is_unsigned](const std::string& text) {
          std::string problem = decimal_number_problem(text, true);
          if (!problem.empty()) return problem;
          const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
          std::errc ec;
          if (is_unsigned) {
            std::uint64_t v = 0;
            ec = std::from_chars(begin, text.data() + text.size(), v).ec;
          } else {
            std::int64_t v = 0;
            ec = std::from_chars(begin, text.data() + text.size(), v).ec;
          }
          if (ec == std::errc::result_out_of_range) {
            return fmt::format("'{}' is beyond the range of the option's integers ({})", text,
                               is_unsigned ? "0 to 2^64 - 1" : "-2^63 to 2^63 - 1");
          }
          return std::string();
        },
        "");
  };
  const CLI::Validator decimal_integer = integer_in_range(false);
  const CLI::Validator decimal_unsigned = integer_in_range(true);
  const CLI::Validator decimal_float([](const std::string& text) { return decimal_number_problem(text, false); }, "");
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_items_expected_max() == 0 || opt->get_name() == "--help" || opt->get_name() == "--version") continue;
    opt->check(non_empty);
    const std::string type = opt->get_type_name();
    if (type == "INT") opt->check(decimal_integer);
    if (type == "UINT") opt->check(decimal_unsigned);
    if (type == "FLOAT") opt->check(decimal_float);
  }
  for (CLI::App* sub : app.get_subcommands({})) check_option_values(*sub);
}

void add_context_options(CLI::App* app, Context& ctx) {
  app->add_option("--threads", ctx.threads,
                  fmt::format("Threads for parallel kernels and for parsing large plain input files (0: all cores; at most {}, 4 x the cores)", max_threads()))
      ->check([](const std::string& text) {
        // The library's own check and words (Context::thread_count), as Python reports them, on
        // the value the option's conversion reads (the same parser: 010, 0x10, +4); text that is
        // not an int is left to the conversion's message.
        Context given;
        if (CLI::detail::lexical_cast(text, given.threads)) given.thread_count();  // throws InvalidArgument
        return std::string();
      })
      ->default_val(0);
}

void add_simulation_options(CLI::App* app, SimulationOptions& o) {
  app->add_option("--users", o.users, "Number of users n")->default_val(o.users);
  app->add_option("--items", o.items, "Number of items p")->default_val(o.items);
  app->add_option("--clusters", o.clusters, "Number of item clusters C")->default_val(o.clusters);
  app->add_option("--beta-min", o.beta_min, "Per-cluster popularity exponent: beta_c ~ Uniform(beta-min, beta-max)")
      ->default_val(o.beta_min);
  app->add_option("--beta-max", o.beta_max, "See --beta-min")->default_val(o.beta_max);
  app->add_option("--user-beta", o.user_beta, "Activity exponent: k_u = ceil(scale * PowerLaw(user-beta))")
      ->default_val(o.user_beta);
  app->add_option("--cluster-concentration", o.cluster_concentration,
                  "Cluster shares p_c ~ Dirichlet(alpha, ..., alpha) (not stated in the paper)")
      ->default_val(o.cluster_concentration);
  app->add_option("--preference-concentration", o.preference_concentration,
                  "User preferences p_u ~ Dirichlet(alpha, ..., alpha) (not stated in the paper)")
      ->default_val(o.preference_concentration);
  app->add_option("--activity-scale", o.activity_scale, "Scale of k_u (0: the number of items, the paper's reading)")
      ->default_val(o.activity_scale);
  app->add_option("--max-items-per-user", o.max_items_per_user, "Cap on k_u (0: none)")
      ->default_val(o.max_items_per_user);
  app->add_option("--seed", o.seed, "Random seed")->check(seed_text())->default_val(o.seed);
}

namespace {
bool progress_always = false;
}  // namespace

void show_progress_always(bool always) { progress_always = always; }

void progress(const std::string& message) {
  static const auto start = std::chrono::steady_clock::now();
  if (!progress_always && isatty(STDERR_FILENO) == 0) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << fmt::format("{} [{:6.1f} s]: {}", program_name, elapsed, message) << std::endl;
}

void warn(const std::string& message) { std::cerr << program_name << ": warning: " << message << std::endl; }

bool flush_stdout() {
  std::cout.flush();
  return std::cout.good() && std::fflush(stdout) == 0 && std::ferror(stdout) == 0;
}

void finish_standard_output() {
  if (!flush_stdout()) throw Error(fmt::format("cannot write to standard output: {}", std::strerror(errno)));
}

std::vector<std::string> split_ids(const std::string& list, const std::string& option) {
  std::vector<std::string> ids;
  std::unordered_set<std::string_view> seen;  // views of `list`
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string id = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (id.empty()) throw InvalidArgument(fmt::format("{} has an empty id in '{}'", option, list));
    // A repeat would be answered twice (recommend --users u1,u1 printed its table twice).
    if (!seen.insert(std::string_view(list).substr(start, id.size())).second) {
      throw InvalidArgument(fmt::format("{}: '{}' is given twice", option, id));
    }
    ids.push_back(id);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

void format_neighbor_rows(fmt::memory_buffer& buffer, const std::string& query, const std::vector<Neighbor>& list,
                          const IdMap& neighbor_ids) {
  for (size_t r = 0; r < list.size(); ++r) {
    fmt::format_to(std::back_inserter(buffer), "{}\t{}\t{}\t{}\n", query, r + 1, neighbor_ids.id(list[r].index),
                   list[r].score);
  }
}

FileOutput::FileOutput(const std::string& path, bool force) {
  if (!path.empty() && path != "-") file_.emplace(path, force);
}

std::ostream& FileOutput::stream() { return file_ ? file_->stream() : std::cout; }

std::string FileOutput::name() const {
  return file_ ? fmt::format("'{}'", file_->target()) : std::string("standard output");
}

void FileOutput::commit() {
  if (file_) {
    file_->commit();
  } else {
    finish_standard_output();
  }
}

void commit_outputs(const std::vector<FileOutput*>& outputs) {
  std::vector<AtomicFile*> files;
  for (FileOutput* output : outputs) {
    if (output->to_stdout()) {
      output->commit();
    } else {
      files.push_back(output->file());
    }
  }
  if (!files.empty()) commit_together(files);
}

void refuse_standard_output_for_directory(const std::string& option, const std::string& path) {
  if (path == "-") {
    throw InvalidArgument(fmt::format("{} names a directory to create: '-' (standard output) cannot hold one", option));
  }
}

void write_neighbor_table(const std::vector<Index>& queries, const NeighborLists& lists, const IdMap& query_ids,
                          const IdMap& neighbor_ids, FileOutput& output) {
  std::ostream& out = output.stream();
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "{}", kNeighborTableHeader);
  for (size_t q = 0; q < queries.size(); ++q) {
    format_neighbor_rows(buffer, query_ids.id(queries[q]), lists[q], neighbor_ids);
    if (buffer.size() > (1u << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  output.commit();
}

}  // namespace linsim::cli
