// linsim-mpi: linsim's fits across MPI ranks (docs/distributed.md), launched as
// `mpirun -np N linsim-mpi fit ...` or `srun linsim-mpi fit ...`. It writes the model directory
// `linsim fit` writes, read by every single-process command. Exit codes as linsim's: 0 success,
// 1 runtime error, 2 usage error; every rank exits with the same code and rank 0 prints the message.
// A rank that runs out of memory in the middle of a collective computation cannot tell the others:
// it aborts the job (MPI_Abort), after which every rank exits non-zero and the temporaries of the
// unfinished model directory are removed by the ranks' signal handling.
#include <dlfcn.h>
#include <malloc.h>
#include <mpi.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <memory>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common.h"
#include "communicator.h"
#include "distributed_input.h"
#include "distributed_output.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/setup.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/model_dir.h"
#include "linsim/models/model.h"
#include "neighbors.h"
#include "scalapack_ease.h"
#include "stats.h"

namespace linsim::mpi {
namespace {

// OpenBLAS's thread count while ScaLAPACK works. configure_gemm() gives OpenBLAS one thread (the
// library's tiled kernels call it from inside their own parallel regions); ScaLAPACK calls it from
// the rank's one MPI thread, so for that time it gets the rank's threads (without this, one rank
// alone on a node would factorise on one core).
class BlasThreads {
 public:
  explicit BlasThreads(int threads) {
    set_ = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    const auto get = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    if (set_ == nullptr || get == nullptr) {
      set_ = nullptr;
      return;
    }
    previous_ = get();
    set_(threads);
  }
  ~BlasThreads() {
    if (set_ != nullptr) set_(previous_);
  }
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;

 private:
  using SetFn = void (*)(int);
  using GetFn = int (*)();
  SetFn set_ = nullptr;
  int previous_ = 1;
};

void run_fit(const cli::FitArgs& args, const CLI::App& cmd, const MpiCommunicator& comm) {
  const bool root = comm.rank() == 0;
  const ProgressFn progress = root ? ProgressFn(cli::progress) : ProgressFn();
  FitOptions options;
  collectively(comm, [&] {
    check_distinct_paths({{"--out", args.out}}, {{"--input", args.input}});
    // And against the files a directory or glob names ('?/ratings.tsv' is no path of its own).
    if (args.input != "-") {
      std::vector<NamedPath> files;
      for (const std::string& file : input_files(args.input)) files.push_back({"--input", file});
      check_distinct_paths({{"--out", args.out}}, files);
    }
    options = cli::fit_options(args, cmd);
    if (options.kind == ModelKind::kCosine) {
      throw InvalidArgument("--model cosine runs in one process ('linsim fit'): its L-BFGS is not distributed");
    }
    if (options.solver == Solver::kLanczos) {
      throw InvalidArgument(options.kind == ModelKind::kSppmi
                                ? "--solver lanczos runs in one process; across ranks sppmi takes auto or gram"
                                : "--solver lanczos runs in one process; across ranks use randomized or gram");
    }
  });
  const ReadOptions read_options = args.read.options();
  // Rank 0 owns the model directory: its temporary is where every rank writes, and it is renamed
  // into place only after every rank has written its part.
  std::unique_ptr<AtomicDirectory> out;
  std::string dir;
  collectively(comm, [&] {
    cli::refuse_standard_output_for_directory("--out", args.out);
    if (!root) return;
    out = std::make_unique<AtomicDirectory>(args.out, args.force, "model.json");
    dir = out->file("");
  });
  dir = comm.broadcast(dir, 0);

  if (progress) progress(fmt::format("reading {} on {} ranks", args.input, comm.size()));
  DistributedInput input = read_distributed(args.input, read_options, comm);
  if (root) {
    for (const std::string& w : reading_warnings(input.summary)) cli::warn(w);
  }
  {
    const std::int64_t mine = input.X.nonZeros();
    std::int64_t least = 0, most = 0;
    MPI_Allreduce(&mine, &least, 1, MPI_INT64_T, MPI_MIN, comm.comm());
    MPI_Allreduce(&mine, &most, 1, MPI_INT64_T, MPI_MAX, comm.comm());
    if (progress) {
      progress(fmt::format("{} users x {} items, {} interactions ({}{}); {} to {} interactions per rank", input.n_users,
                           input.items.size(), input.nnz, input.summary.format,
                           input.summary.binarized ? ", binarised" : "", least, most));
      progress(fmt::format("fitting {} ({}, lambda {}, weighting {})", args.model,
                           options.kind == ModelKind::kEase ? std::string(dtype_name(options.dtype))
                                                            : fmt::format("rank {}", options.rank),
                           options.lambda, options.weighting.spec()));
    }
  }
  ModelBundle bundle;
  bundle.input = input.summary;
  bundle.data.items = input.items;
  bundle.data.X.resize(0, input.items.size());
  collectively(comm, [&] {
    if (options.kind != ModelKind::kEase) {
      bundle.model = fit_model(input.X, options, args.ctx, progress, comm);
      return;
    }
    // EASE: the checks of every fit, the weighting's statistics over every rank, then XᵀX and its
    // inverse on ScaLAPACK, after checking that every rank's share fits (each rank against its own
    // node's memory and limits, the ranks agreeing on the outcome).
    check_fit_input(input.X, options, comm);
    // Where a limit can refuse OpenBLAS's work buffer, it is mapped now (or the fit refused on
    // every rank) rather than inside ScaLAPACK, where a refusal hangs; the estimate below then
    // sees the room left after it.
    if (!comm.all(map_blas_work_buffer())) {
      const auto shortfall = memory_shortfall(kBlasBufferProbe, comm);
      throw OutOfMemory(fmt::format(
          "EASE runs on ScaLAPACK, whose BLAS (OpenBLAS) maps a work buffer of about 134 MB on its first call and "
          "waits for ever where that is refused: it needs about {} of room, {}; raise the limit",
          format_bytes(kBlasBufferProbe), shortfall ? shortfall->more_than() : "more than the room on some rank"));
    }
    {
      const double items = static_cast<double>(input.items.size());
      const double need = (options.dtype == Dtype::kFloat32 ? 4.0 : 8.0) * items * items / comm.size() +
                          4.0 * 8.0 * 512.0 * items + 12.0 * static_cast<double>(input.X.nonZeros());
      // Agreed by every rank before any of them allocates (each rank's share of X differs), so that
      // all of them stop alike, naming the rank that falls shortest.
      if (const auto shortfall = memory_shortfall(need, comm)) {
        throw OutOfMemory(fmt::format(
            "EASE on {} items needs about {} on each of the {} ranks (its block of XᵀX, two panels and the reductions' "
            "buffers), {}; use more "
            "ranks (the share falls as 1/ranks) or --dtype float32",
            input.items.size(), format_bytes(shortfall->need), comm.size(), shortfall->more_than()));
      }
    }
    const ThreadScope threads(args.ctx);
    Model& model = bundle.model;
    model.options = options;
    model.options.rank = input.items.size();
    model.weighting = fit_weighting(options.weighting, input.X, comm);
    model.solver = "spd-inverse";
    model.solver_reason = fmt::format(
        "EASE is full rank: XᵀX accumulated into a 2-D block-cyclic distribution over {} ranks, (XᵀX + λI)⁻¹ by "
        "ScaLAPACK's Cholesky-based inverse",
        comm.size());
    const SparseMatrix Y = model.weighting.weighting.empty() ? SparseMatrix() : model.weighting.apply(input.X);
    // Under a limit on allocations OpenBLAS keeps the one thread it was started with
    // (choose_openblas_kernels): every further thread would map a work buffer of its own, which
    // map_blas_work_buffer has not mapped and a refusal of which hangs.
    const BlasThreads blas_threads(allocations_refused_by().empty() ? args.ctx.thread_count() : 1);
    ease_weights_distributed(model.weighting.weighting.empty() ? SparseView(input.X) : SparseView(Y),
                             model.weighting.center, options.lambda, options.dtype, comm.comm(), dir + "weights.npy",
                             args.ctx, progress);
  });
  if (progress) progress(fmt::format("solver {}: {}", bundle.model.solver, bundle.model.solver_reason));
  if (root) {
    for (const std::string& w : bundle.model.warnings) cli::warn(w);
  }
  write_user_files(dir, input, bundle.model.has_embeddings() ? &bundle.model.user_embeddings : nullptr, comm);
  const DistributedUsers users{input.n_users, input.nnz, comm.size()};
  collectively(comm, [&] {
    if (!root) return;
    const ThreadScope threads(args.ctx);  // the arrays are written on --threads threads
    write_model_dir(*out, bundle, &users);
  });
  collectively(comm, [&] {
    if (root) out->commit();
  });
  if (progress) progress(fmt::format("wrote {}", args.out));
}

void add_fit_command(CLI::App& app, const MpiCommunicator& comm) {
  auto args = std::make_shared<cli::FitArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fit", "Fit eq1, eq2, sppmi or ease across the ranks and write the model directory 'linsim fit' writes");
  cli::add_fit_options(cmd, *args);
  // The choices that run in one process only are refused by run_fit; the help offers the others.
  cmd->get_option("--input")
      ->description("Interaction file, directory of part files or glob (triplets, MovieLens, Last.fm; any file may be "
                    ".gz; Matrix Market is read by 'linsim fit' only)");
  cmd->get_option("--format")->description("Input format: auto, triplets (or csv, tsv), movielens, lastfm");
  cmd->get_option("--model")->description(
      "eq1 (regularised product), eq2 (regularised factors), ease (full rank, on ScaLAPACK), sppmi (shifted positive "
      "PMI of co-occurrences); cosine runs in 'linsim fit' only");
  cmd->get_option("--solver")->description(
      "Eigen-solver: auto, gram (dense XᵀX), randomized (block Krylov on the operator; not for sppmi); lanczos runs "
      "in 'linsim fit' only");
  cmd->get_option("--lambda")->description(
      "Regularisation (default: eq1 10000, eq2 100, ease 500; eq1 compares it with sigma^2, eq2 with sigma; not for "
      "sppmi)");
  cmd->get_option("--solver-tol")->description(
      "randomized: relative accuracy of each sigma_i^2 (sigma_i to half of it); looser is faster, and the solver moves "
      "its products to float32 blocks once tol * sigma_k^2 >= 1.2e-6 * sigma_1^2 (checked in double at the end)");
  // The cosine model's options, hidden from the help: given, they are refused with the model.
  cmd->get_option("--epochs")->group("");
  cmd->get_option("--tol")->group("");
  cmd->callback([args, cmd, &comm] { run_fit(*args, *cmd, comm); });
}

// ScaLAPACK's BLAS is the system's (OpenBLAS on Debian), loaded with the program, and OpenBLAS
// chooses its kernels while loading: on CPUs it misdetects it falls back to generic kernels 4–6×
// slower (docs/distributed.md). When OPENBLAS_CORETYPE is unset, set it from this CPU's flags and
// start the program again, before MPI is initialised (the process, its environment from the
// launcher and its CPU binding stay the same). Where allocations can be refused (ulimit -v or -d,
// a commit limit) and OPENBLAS_NUM_THREADS is unset, it is set to 1 the same way: each OpenBLAS
// thread maps a work buffer (~134 MB) when it starts and retries a refused mapping for ever, so
// only the calling thread's, mapped before ScaLAPACK runs (map_blas_work_buffer), may exist.
void choose_openblas_kernels(char** argv) {
  bool changed = false;
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr) {
    const std::string core = openblas_core_for_this_cpu();
    if (!core.empty()) changed = setenv("OPENBLAS_CORETYPE", core.c_str(), 1) == 0;
  }
  if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr && !allocations_refused_by().empty()) {
    changed = setenv("OPENBLAS_NUM_THREADS", "1", 1) == 0 || changed;
  }
  if (changed) execv("/proc/self/exe", argv);  // returns only on failure: then go on as loaded
}

}  // namespace

// Every rank must run the same dense kernels. The block Krylov solver's replicated steps (its
// Rayleigh–Ritz tests, its restarts) run on every rank from bit-identical sums, and its decisions
// are taken from their results: kernels that round differently on different ranks (CPUs of other
// kinds; a memory limit on some ranks only, under which a rank leaves OpenBLAS out, setup.h) could
// let the ranks decide differently and wait on each other for ever. Where the ranks' choices would
// differ, every rank runs Eigen's kernels (rank 0 says so); a difference left after that (a rank
// without the library) is refused before any work.
void agree_on_dense_kernels(const MpiCommunicator& comm) {
  const char* forced = std::getenv("LINSIM_GEMM");
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  const std::string refused = allocations_refused_by();
  // What configure_gemm decides from (its description names the refusing limit, so that is part of it).
  const std::string mine = fmt::format("LINSIM_GEMM={} OPENBLAS_CORETYPE={} refused by: {}", forced ? forced : "",
                                       core ? core : "", refused);
  if (!comm.all(comm.broadcast(mine, 0) == mine)) {
    setenv("LINSIM_GEMM", "eigen", 1);
    if (comm.rank() == 0) {
      std::cerr << "linsim-mpi: note: the ranks would choose different dense kernels (other CPUs, or a memory limit "
                   "on some ranks only): every rank runs Eigen's\n";
    }
  }
  configure_gemm();
  const std::string own = gemm_backend();
  const std::string chosen = comm.broadcast(own, 0);
  if (!comm.all(own == chosen)) {
    throw Error(fmt::format("the ranks run different dense kernels (rank 0: {}), whose rounding differs; set "
                            "LINSIM_GEMM=eigen for every rank",
                            chosen));
  }
}

// --stats: every rank's wall time, time inside MPI (stats.cc) and peak resident memory, printed by
// rank 0 in rank order.
void print_stats(const MpiCommunicator& comm, double wall) {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const double mine[3] = {wall, seconds_inside_mpi(), static_cast<double>(usage.ru_maxrss) / 1024.0};
  std::vector<double> all(3 * static_cast<size_t>(comm.size()));
  MPI_Gather(mine, 3, MPI_DOUBLE, all.data(), 3, MPI_DOUBLE, 0, comm.comm());
  if (comm.rank() != 0) return;
  for (int r = 0; r < comm.size(); ++r) {
    const double* s = all.data() + 3 * r;
    std::cerr << fmt::format("linsim-mpi: rank {} of {}: {:.2f} s wall, {:.2f} s inside MPI, peak RSS {:.0f} MB\n", r,
                             comm.size(), s[0], s[1], s[2]);
  }
}

// Every rank parses its own arguments and rank 0 speaks for all: ranks started with different
// ones (an MPMD launch, `mpirun -np 1 linsim-mpi fit --rank 3 : -np 1 linsim-mpi fit --rank 4`)
// would fit different things, or fail apart and leave the others waiting in a collective. Refused
// on every rank alike, naming the first rank that differs from rank 0. --progress and --stats only
// change what rank 0 reports, and may differ.
void require_the_same_arguments(int argc, char** argv, const MpiCommunicator& comm) {
  std::string mine;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--progress" || arg == "--stats") continue;
    mine += arg;
    mine += '\0';
  }
  const std::string first = comm.broadcast(mine, 0);
  std::vector<std::int64_t> differs(static_cast<size_t>(comm.size()), 0);
  differs[static_cast<size_t>(comm.rank())] = mine != first ? 1 : 0;
  comm.sum(differs.data(), differs.size());
  const auto other = std::find(differs.begin(), differs.end(), 1);
  if (other != differs.end()) {
    throw InvalidArgument(fmt::format("rank {} of {} was started with other arguments than rank 0: linsim-mpi runs one "
                                      "command with one set of options on every rank",
                                      other - differs.begin(), comm.size()));
  }
}

}  // namespace linsim::mpi

int main(int argc, char** argv) {
  linsim::cli::set_program_name("linsim-mpi");
  linsim::mpi::choose_openblas_kernels(argv);
  // As linsim's main: freed work blocks stay in the heap for reuse (see cli/main.cc).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_ARENA_MAX, 1);
  try {
    linsim::cli::remove_unfinished_outputs_when_cut_short();  // before MPI and OpenBLAS start threads
  } catch (const std::exception& e) {
    std::cerr << "linsim-mpi: error: " << e.what() << '\n';
    return 1;
  }
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    std::cerr << "linsim-mpi: error: MPI could not be initialised\n";
    return 1;
  }
  int code = 0;
  {
    const linsim::mpi::MpiCommunicator comm(MPI_COMM_WORLD);
    const bool root = comm.rank() == 0;
    linsim::configure_huge_pages();  // LINSIM_HUGE_PAGES: off, all, or (unset) gathered
    linsim::configure_direct_writes();  // LINSIM_DIRECT_WRITES=off: large arrays through the page cache
    CLI::App app{"linsim-mpi: linsim's fits across MPI ranks (launch with mpirun or srun; docs/distributed.md)"};
    app.set_version_flag("--version", std::string("linsim-mpi ") + LINSIM_VERSION);
    app.require_subcommand(1);
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
      return "linsim-mpi: error: " + linsim::printable_message(e.what()) + " (run with --help for the options)\n";
    });
    bool stats = false;
    app.add_flag("--stats", stats,
                 "At the end, print each rank's wall time, time inside MPI and peak memory on stderr (one line per "
                 "rank, from rank 0)");
    app.add_flag_callback("--progress", [] { linsim::cli::show_progress_always(true); },
                          "Progress messages from rank 0 on stderr (under mpirun or srun a rank's stderr is never a "
                          "terminal, so they are off unless asked for)");
    const double start = MPI_Wtime();
    linsim::mpi::add_fit_command(app, comm);
    linsim::mpi::add_neighbor_commands(app, comm);
    linsim::cli::check_option_values(app);
    try {
      linsim::mpi::require_the_same_arguments(argc, argv, comm);
      linsim::mpi::agree_on_dense_kernels(comm);
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      // Every rank parses the same arguments: rank 0 speaks for all.
      code = root ? app.exit(e) : e.get_exit_code();
      if (code != 0) code = 2;
    } catch (const linsim::InvalidArgument& e) {
      if (root) std::cerr << "linsim-mpi: error: " << e.what() << '\n';
      code = 2;
    } catch (const std::bad_alloc&) {
      std::string limit;  // as in linsim's message
      try {
        limit = linsim::available_memory().limit;
      } catch (const std::exception&) {
      }
      std::cerr << fmt::format("linsim-mpi: error: rank {} of {}: out of memory: the computation needs more memory "
                               "than {} (more ranks, a smaller --rank or input); stopping every rank\n",
                               comm.rank(), comm.size(), limit.empty() ? std::string("this rank has") : limit + " allows");
      linsim::remove_unfinished_outputs();
      MPI_Abort(MPI_COMM_WORLD, 1);
    } catch (const std::exception& e) {
      if (root) std::cerr << "linsim-mpi: error: " << e.what() << '\n';
      code = 1;
    }
    std::cout.flush();
    // Rank 0 commits: what its forced replacement could not delete (as linsim's main).
    for (const std::string& message : linsim::take_undeleted_replacements()) linsim::cli::warn(message);
    if (stats) linsim::mpi::print_stats(comm, MPI_Wtime() - start);
  }
  MPI_Finalize();
  return code;
}
