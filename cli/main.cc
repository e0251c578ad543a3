// The linsim command-line tool. The only place where exceptions become messages and exit codes:
// 0 success, 1 runtime error (bad input file, I/O, solver failure, out of memory), 2 usage error.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/setup.h"
#include "linsim/io/atomic_output.h"

int main(int argc, char** argv) {
  // Iterative solvers allocate and free the same large work blocks every step; by default glibc
  // returns blocks over 32 MB to the kernel on free and page-faults them in again (measured: a
  // sixth of a block Krylov fit). Keep freed memory for reuse instead, in one heap for all
  // threads: with an arena per thread, what the reader's threads parsed into (80 MB for 10M
  // entries) could serve only their own later allocations, so the fit faulted in fresh pages for
  // its basis while those stayed free; in one heap they serve the basis and the solver's work
  // blocks (bench/README.md, (a): 15 % fewer page faults, each a dear first touch on a VM). The
  // threads allocate large blocks rarely, so sharing one arena's lock costs nothing measurable.
  // The library leaves the allocator alone: this is the program's choice.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_ARENA_MAX, 1);
  try {
    linsim::cli::remove_unfinished_outputs_when_cut_short();  // first: OpenBLAS starts its own threads when loaded
  } catch (const std::exception& e) {
    std::cerr << "linsim: error: " << e.what() << '\n';
    return 1;
  }
  // What a forced replacement moved aside and could not delete, told as the program ends (after
  // the command's own messages), whether it succeeded or not.
  struct TellUndeleted {
    ~TellUndeleted() {
      for (const std::string& message : linsim::take_undeleted_replacements()) linsim::cli::warn(message);
    }
  } tell_undeleted;
  linsim::configure_gemm();
  linsim::configure_huge_pages();  // LINSIM_HUGE_PAGES: off, all, or (unset) gathered
  linsim::configure_direct_writes();  // LINSIM_DIRECT_WRITES=off: large arrays through the page cache
  CLI::App app{"linsim: similarities that mean something, from linear embedding models "
               "(Steck, Ekanadham, Kallus 2024)"};
  app.set_version_flag("--version", std::string("linsim ") + LINSIM_VERSION);
  app.require_subcommand(1);
  // A usage error of the parser on one line in the program's own form, as every other error.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "linsim: error: " + linsim::printable_message(e.what()) + " (run with --help for the options)\n";
  });
  linsim::cli::add_fit_command(app);
  linsim::cli::add_similar_command(app, true);
  linsim::cli::add_similar_command(app, false);
  linsim::cli::add_recommend_command(app);
  linsim::cli::add_simulate_command(app);
  linsim::cli::add_reproduce_command(app);
  linsim::cli::add_evaluate_commands(app);
  linsim::cli::add_export_command(app);
  linsim::cli::add_audit_command(app);
  linsim::cli::add_cooccur_command(app);
  linsim::cli::add_tokenize_command(app);
  linsim::cli::add_evaluate_words_command(app);
  linsim::cli::check_option_values(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const linsim::InvalidArgument& e) {
    std::cerr << "linsim: error: " << e.what() << '\n';
    return 2;
  } catch (const std::bad_alloc&) {
    // The limit that stopped it, where one below the machine's memory applies (a control group's,
    // ulimit's): read now that the stack's memory is given back.
    std::string limit;
    try {
      limit = linsim::available_memory().limit;
    } catch (const std::exception&) {  // the message without it
    }
    std::cerr << (limit.empty() ? std::string("linsim: error: out of memory: the computation needs more memory than this "
                                              "machine has available")
                                : "linsim: error: out of memory: the computation needs more memory than " + limit +
                                      " allows")
              << " (a smaller --rank, --top or input, or more memory)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "linsim: error: " << e.what() << '\n';
    return 1;
  }
  if (!linsim::cli::flush_stdout()) {
    std::cerr << "linsim: error: cannot write to standard output: " << std::strerror(errno) << '\n';
    return 1;
  }
  return 0;
}
