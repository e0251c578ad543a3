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
#include "distributed_output.h"
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
  write_segments(temporary, header,
                 {Segment{static_cast<std::int64_t>(header.size()) + before, rows.data(),
                          static_cast<std::int64_t>(rows.size())}},
                 comm);
}

void run_all_rows(const AllRowsArgs& args, Search search, const MpiCommunicator& comm) {
  const bool root = comm.rank() == 0;
  collectively(comm, [&] {
    // As linsim's: the table may not replace a file of the model it reads (m/item_ids.tsv --force).
    check_distinct_paths({{"--output", args.output}}, {{"--model", args.model_dir, model_dir_file}});
    if (args.top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", args.top));
    if (args.output.empty() || args.output == "-") {
      throw InvalidArgument(fmt::format("--output {}: the ranks write one file together, which standard output cannot "
                                        "be; name a file",
                                        args.output.empty() ? "is required" : "'-'"));
    }
  });
  std::unique_ptr<AtomicFile> out;
  std::string temporary;
  collectively(comm, [&] {
    if (!root) return;
    out = std::make_unique<AtomicFile>(args.output, args.force);
    out->stream().flush();
    temporary = out->temporary();
  });
  temporary = comm.broadcast(temporary, 0);
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
    cmd->add_option("--top,-n", args->top,
                    search == Search::kRecommend ? "Items per user" : "Neighbours per query")
        ->default_val(10);
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
