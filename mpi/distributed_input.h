// Reading one interaction input across MPI ranks (docs/distributed.md): one large file, each rank
// parsing the lines that start in its byte range, or a directory or glob of part files (what Spark
// and Hive write), split the same way over their concatenation (a compressed part is read whole by
// one rank). Every line goes through the single-process reader's checks; users and items are
// numbered globally in order of first appearance, as `linsim fit` numbers them in the
// concatenated input; every user's rows end up on one rank, ranks holding consecutive users with
// about equal numbers of interactions.
#pragma once

#include <string>

#include "communicator.h"
#include "linsim/core/context.h"
#include "linsim/data/interaction_matrix.h"
#include "linsim/data/readers.h"

namespace linsim::mpi {

struct DistributedInput {
  SparseMatrix X;         // this rank's users × all items (CSR, items sorted within rows)
  IdMap users;            // this rank's users, in global order
  IdMap items;            // every item, in global order (the same on every rank)
  Index first_user = 0;   // global index of this rank's first user
  Index n_users = 0;      // users on all ranks
  Index nnz = 0;          // interactions on all ranks
  InputSummary summary;   // what was read, totalled over the ranks (as `linsim fit` reports it)
};

// Collective. Throws (on every rank alike) for unreadable or malformed input, naming the rank,
// file and line where one rank found it.
DistributedInput read_distributed(const std::string& input, const ReadOptions& options, const MpiCommunicator& comm);

// The files an input names: a directory's regular files whose names do not start with '.' or '_'
// (Spark's _SUCCESS and .crc files), sorted by name; the matches of a glob pattern, sorted; or
// the file itself.
std::vector<std::string> input_files(const std::string& input);

}  // namespace linsim::mpi
