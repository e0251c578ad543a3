// linsim-mpi similar-items / similar-users / recommend --all: the all-rows searches with their
// query rows split into consecutive ranges, one per rank, and the table written in query order as
// one TSV, the file `linsim similar-items --all` (recommend --all) writes. Every rank reads the
// whole model directory (docs/distributed.md: what is replicated).
#include <CLI/CLI.hpp>

#include <memory>
#include <numeric>

#include <fmt/format.h>

#include "common.h"
#include "communicator.h"
#include "linsim/core/error.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/model_dir.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/neighbors.h"
#include "neighbors.h"

namespace linsim::mpi {
namespace {

struct AllRowsArgs {
  std::string model_dir;
  std::string measure = "projected";
  Index top = 10;
  bool include_self = false;  // similar-*: keep the query among its neighbours
  bool include_seen = false;  // recommend: keep the user's own items
  bool float32 = false;
  bool all = false;
  std::string output;
  bool force = false;
  Context ctx;
};

enum class Search { kItems, kUsers, kRecommend };

// The table: rank 0 writes the header, each rank its queries' rows after the bytes of the ranks
// before, into the temporary of the output rank 0 commits once every rank has written.
void write_table(const std::string& temporary, const fmt::memory_buffer& rows, const MpiCommunicator& comm) {
  const std::string header = cli::kNeighborTableHeader;
  const auto before = comm.exclusive_prefix(static_cast<std::int64_t>(rows.size()));
  std::string error;
  MPI_File file;
  if (MPI_File_open(comm.comm(), temporary.c_str(), MPI_MODE_WRONLY, MPI_INFO_NULL, &file) != MPI_SUCCESS) {
    error = fmt::format("cannot open '{}' for writing", temporary);
  } else {
    // Open MPI 4.1's OMPIO returns MPI_SUCCESS for a write that failed (a full disk, a file size
    // limit): only the count it reports shows it, so the count is checked too.
    const auto write_at = [&](MPI_Offset at, const char* data, int n) {
      MPI_Status status;
      int written = 0;
      if (MPI_File_write_at(file, at, data, n, MPI_BYTE, &status) != MPI_SUCCESS ||
          MPI_Get_count(&status, MPI_BYTE, &written) != MPI_SUCCESS || written != n) {
        error = fmt::format("cannot write '{}' at byte {}", temporary, at);
      }
    };
    if (comm.rank() == 0) write_at(0, header.data(), static_cast<int>(header.size()));
    constexpr size_t kPiece = size_t{1} << 30;
    for (size_t done = 0; done < rows.size() && error.empty(); done += kPiece) {
      const auto n = static_cast<int>(std::min(kPiece, rows.size() - done));
      write_at(static_cast<MPI_Offset>(header.size()) + before + static_cast<MPI_Offset>(done), rows.data() + done, n);
    }
    if (MPI_File_close(&file) != MPI_SUCCESS && error.empty()) error = fmt::format("cannot write '{}'", temporary);
  }
  comm.agree(error.empty() ? MpiCommunicator::Kind::kNone : MpiCommunicator::Kind::kError, error);
}

void run_all_rows(const AllRowsArgs& args, Search search, const MpiCommunicator& comm) {
  const bool root = comm.rank() == 0;
  collectively(comm, [&] {
    if (args.top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", args.top));
    if (args.output.empty()) throw InvalidArgument("--output is required: the ranks write one file together");
  });
  std::unique_ptr<AtomicFile> out;
  std::string temporary;
  collectively(comm, [&] {
    if (!root) return;
    out = std::make_unique<AtomicFile>(args.output, args.force);
    out->stream().flush();
    temporary = out->temporary();
  });
  comm.broadcast(temporary);
  ModelBundle bundle;
  collectively(comm, [&] { bundle = read_model_dir(args.model_dir); });
  const IdMap& ids = search == Search::kUsers ? bundle.data.users : bundle.data.items;
  const IdMap& query_ids = search == Search::kItems ? bundle.data.items : bundle.data.users;
  // This rank's queries: a consecutive range of the rows.
  const Index n = query_ids.size();
  const Index lo = n * comm.rank() / comm.size(), hi = n * (comm.rank() + 1) / comm.size();
  std::vector<Index> queries(static_cast<size_t>(hi - lo));
  std::iota(queries.begin(), queries.end(), lo);
  NeighborLists lists;
  collectively(comm, [&] {
    if (search == Search::kRecommend) {
      lists = recommend(bundle.model, bundle.data.X, queries, args.top, !args.include_seen, args.ctx);
      return;
    }
    const auto space = make_similarity_space(bundle.model, bundle.data.X,
                                             search == Search::kItems ? Side::kItems : Side::kUsers,
                                             parse_measure(args.measure), args.ctx);
    if (args.float32 && space->dense_factors() == nullptr) {
      throw InvalidArgument(fmt::format("--float32 needs embeddings (dot, cosine or projected on an embedding model); "
                                        "--measure {} of this model has none",
                                        args.measure));
    }
    lists = top_neighbors(*space, queries, args.top, args.include_self, args.ctx,
                          args.float32 ? Precision::kFloat32 : Precision::kFloat64);
  });
  fmt::memory_buffer rows;
  for (size_t q = 0; q < queries.size(); ++q) cli::format_neighbor_rows(rows, query_ids.id(queries[q]), lists[q], ids);
  write_table(temporary, rows, comm);
  collectively(comm, [&] {
    if (root) out->commit();
  });
}

}  // namespace

void add_neighbor_commands(CLI::App& app, const MpiCommunicator& comm) {
  for (const Search search : {Search::kItems, Search::kUsers, Search::kRecommend}) {
    auto args = std::make_shared<AllRowsArgs>();
    const char* name = search == Search::kItems ? "similar-items" : search == Search::kUsers ? "similar-users" : "recommend";
    CLI::App* cmd = app.add_subcommand(
        name, search == Search::kRecommend
                  ? "Top-N items for every training user (--all), the users split over the ranks"
                  : fmt::format("Top-N most similar {} for every one of them (--all), the queries split over the ranks",
                                search == Search::kItems ? "items" : "users"));
    cmd->add_option("--model,-m", args->model_dir, "Model directory written by 'linsim fit' or 'linsim-mpi fit'")
        ->required();
    cmd->add_flag("--all", args->all, "Every row (the only mode of linsim-mpi; 'linsim' answers a few ids)")->required();
    cmd->add_option("--top,-n", args->top, "Neighbours per query")->default_val(10);
    if (search == Search::kRecommend) {
      cmd->add_flag("--include-seen", args->include_seen, "Do not exclude the user's own items");
    } else {
      cmd->add_option("--measure", args->measure,
                      "dot, cosine, projected (gauge-free cosine in the data space), raw (cosine of X)")
          ->default_val("projected");
      cmd->add_flag("--include-self", args->include_self, "Keep the query itself among its neighbours");
      cmd->add_flag("--float32", args->float32, "Score in single precision (as 'linsim similar-items --float32')");
    }
    cmd->add_option("--output", args->output, "The TSV table to write (required)")->required();
    cmd->add_flag("--force", args->force, "Replace an existing --output file");
    cli::add_context_options(cmd, args->ctx);
    cmd->callback([args, search, &comm] { run_all_rows(*args, search, comm); });
  }
}

}  // namespace linsim::mpi
