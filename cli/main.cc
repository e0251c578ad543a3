// The linsim command-line tool. The only place where exceptions become messages and exit codes:
// 0 success, 1 runtime error (bad input file, I/O, solver failure), 2 usage error.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common.h"
#include "linsim/core/error.h"
#include "linsim/core/setup.h"

int main(int argc, char** argv) {
  // Iterative solvers allocate and free the same large work blocks every step; by default glibc
  // returns blocks over 32 MB to the kernel on free and page-faults them in again (measured: a
  // sixth of a block Krylov fit). Keep freed memory for reuse instead; the reader's temporary
  // entries are handed back explicitly (read_input) so that they do not stay resident. The
  // library leaves the allocator alone: this is the program's choice.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  linsim::configure_gemm();
  CLI::App app{"linsim: similarities that mean something, from linear embedding models "
               "(Steck, Ekanadham, Kallus 2024)"};
  app.set_version_flag("--version", std::string("linsim ") + LINSIM_VERSION);
  app.require_subcommand(1);
  linsim::cli::add_fit_command(app);
  linsim::cli::add_similar_command(app, true);
  linsim::cli::add_similar_command(app, false);
  linsim::cli::add_recommend_command(app);
  linsim::cli::add_simulate_command(app);
  linsim::cli::add_reproduce_command(app);
  linsim::cli::add_evaluate_commands(app);
  linsim::cli::add_export_command(app);
  linsim::cli::add_audit_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const linsim::InvalidArgument& e) {
    std::cerr << "linsim: error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "linsim: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
