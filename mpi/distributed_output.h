// Writing the per-user files of a model directory from the ranks that hold the users
// (docs/formats.md): each file is the one `linsim fit` writes, assembled with MPI-IO from every
// rank's consecutive block of users, so that every single-process command reads it unchanged.
#pragma once

#include <string>

#include "communicator.h"
#include "distributed_input.h"
#include "linsim/core/types.h"

namespace linsim::mpi {

// Writes, into the directory `dir` (shared by every rank): user_ids.tsv, interactions_indptr.npy,
// interactions_indices.npy, interactions_data.npy from `input`, and user_embeddings.npy from
// `user_embeddings` (this rank's rows) unless it is null. Collective; a failure on any rank is an
// Error on every rank naming the rank and the file.
void write_user_files(const std::string& dir, const DistributedInput& input, const Matrix* user_embeddings,
                      const MpiCommunicator& comm);

}  // namespace linsim::mpi
