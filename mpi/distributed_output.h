// Writing the per-user files of a model directory from the ranks that hold the users
// (docs/formats.md): each file is the one `linsim fit` writes, assembled with MPI-IO from every
// rank's consecutive block of users, so that every single-process command reads it unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "communicator.h"
#include "distributed_input.h"
#include "linsim/core/types.h"

namespace linsim::mpi {

// One stretch of a file a rank writes.
struct Segment {
  std::int64_t offset;
  const void* data;
  std::int64_t bytes;
};

// Opens `path` on every rank (created if missing), writes this rank's segments (rank 0 also
// `header` at offset 0, unless empty) and closes it; any rank's failure is an Error on every rank
// naming the rank and the file. Every write's count is checked as well as its return code: Open
// MPI 4.1's OMPIO returns MPI_SUCCESS for a write that failed (a full disk, a file size limit).
void write_segments(const std::string& path, const std::string& header, const std::vector<Segment>& segments,
                    const MpiCommunicator& comm);

// Writes, into the directory `dir` (shared by every rank): user_ids.tsv, interactions_indptr.npy,
// interactions_indices.npy, interactions_data.npy from `input`, and user_embeddings.npy from
// `user_embeddings` (this rank's rows) unless it is null. Collective; a failure on any rank is an
// Error on every rank naming the rank and the file.
void write_user_files(const std::string& dir, const DistributedInput& input, const Matrix* user_embeddings,
                      const MpiCommunicator& comm);

}  // namespace linsim::mpi
