#include "distributed_output.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/npy.h"
#include "data/line_reader.h"

namespace linsim::mpi {

// The MPI calls never stop half-way on one rank: an error is remembered and reported after the
// collective close.
void write_segments(const std::string& path, const std::string& header, const std::vector<Segment>& segments,
                    const MpiCommunicator& comm) {
  std::string error;
  MPI_File file;
  int rc = MPI_File_open(comm.comm(), path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &file);
  // MPI_File_open is collective and fails on every rank alike.
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(rc, text, &length);
    error = fmt::format("cannot create '{}': {}", path, std::string(text, static_cast<size_t>(length)));
  } else {
    // The count is checked as well as the return code: Open MPI 4.1's OMPIO returns MPI_SUCCESS
    // for a write that failed (a full disk, a file size limit).
    const auto put = [&](std::int64_t offset, const void* data, std::int64_t bytes) {
      constexpr std::int64_t kPiece = std::int64_t{1} << 30;
      for (std::int64_t done = 0; done < bytes && error.empty(); done += kPiece) {
        const auto n = static_cast<int>(std::min(kPiece, bytes - done));
        MPI_Status status;
        int written = 0;
        if (MPI_File_write_at(file, offset + done, static_cast<const char*>(data) + done, n, MPI_BYTE, &status) !=
                MPI_SUCCESS ||
            MPI_Get_count(&status, MPI_BYTE, &written) != MPI_SUCCESS || written != n) {
          error = fmt::format("cannot write '{}' at byte {}", path, offset + done);
        }
      }
    };
    if (comm.rank() == 0 && !header.empty()) put(0, header.data(), static_cast<std::int64_t>(header.size()));
    for (const Segment& s : segments) put(s.offset, s.data, s.bytes);
    if (MPI_File_close(&file) != MPI_SUCCESS && error.empty()) error = fmt::format("cannot write '{}'", path);
  }
  comm.agree(error.empty() ? MpiCommunicator::Kind::kNone : MpiCommunicator::Kind::kError, error);
}

void write_user_files(const std::string& dir, const DistributedInput& input, const Matrix* user_embeddings,
                      const MpiCommunicator& comm) {
  namespace fs = std::filesystem;
  const auto path = [&](const char* name) { return (fs::path(dir) / name).string(); };
  const SparseMatrix& X = input.X;
  const Index n = input.n_users;
  const auto nnz = static_cast<std::int64_t>(input.nnz);
  const std::int64_t first = input.first_user;
  const std::int64_t nnz_before = comm.exclusive_prefix(static_cast<std::int64_t>(X.nonZeros()));

  // user_ids.tsv: this rank's ids, one per line, after the bytes of the ranks before.
  {
    std::string text;
    std::string bad;
    // The file's first id, on the rank that holds it, gets the prefix linsim fit's writer gives it.
    if (first == 0 && input.users.size() > 0) text += detail::first_line_prefix(input.users.ids().front());
    for (const std::string& id : input.users.ids()) {
      if (bad.empty() && id.find_first_of("\t\n\r") != std::string::npos) bad = id;
      text += id;
      text += '\n';
    }
    const std::string file = path("user_ids.tsv");
    comm.agree(bad.empty() ? MpiCommunicator::Kind::kNone : MpiCommunicator::Kind::kError,
               fmt::format("id '{}' contains a tab, newline or carriage return and cannot be stored in '{}'", bad, file));
    const std::int64_t at = comm.exclusive_prefix(static_cast<std::int64_t>(text.size()));
    write_segments(file, "", {{at, text.data(), static_cast<std::int64_t>(text.size())}}, comm);
  }
  // The interactions as CSR: offsets (n + 1), item indices and values (nnz), each rank's part at
  // its place, the last rank's ending with the final offset (nnz). The dtypes are linsim fit's
  // (write_model_dir), scipy's own: int32 offsets and indices (the input was refused beyond 2^31 − 1
  // interactions, distributed_input.cc).
  {
    if (nnz > std::numeric_limits<std::int32_t>::max()) throw Error("more than 2^31 - 1 interactions cannot be stored");
    std::vector<std::int32_t> indptr(static_cast<size_t>(X.rows()) + 1);
    for (Index u = 0; u <= X.rows(); ++u) {
      indptr[static_cast<size_t>(u)] = static_cast<std::int32_t>(nnz_before + X.outerIndexPtr()[u]);
    }
    const std::string header = npy_header("<i4", {static_cast<size_t>(n) + 1}, false);
    const auto h = static_cast<std::int64_t>(header.size());
    const bool last = comm.rank() + 1 == comm.size();
    write_segments(path("interactions_indptr.npy"), header,
                   {{h + 4 * first, indptr.data(), 4 * (static_cast<std::int64_t>(X.rows()) + (last ? 1 : 0))}}, comm);
  }
  {
    static_assert(sizeof(SparseMatrix::StorageIndex) == sizeof(std::int32_t));
    const std::string header = npy_header("<i4", {static_cast<size_t>(nnz)}, false);
    const auto h = static_cast<std::int64_t>(header.size());
    write_segments(path("interactions_indices.npy"), header,
                   {{h + 4 * nnz_before, X.innerIndexPtr(), 4 * static_cast<std::int64_t>(X.nonZeros())}}, comm);
  }
  {
    const std::string header = npy_header("<f8", {static_cast<size_t>(nnz)}, false);
    const auto h = static_cast<std::int64_t>(header.size());
    write_segments(path("interactions_data.npy"), header,
                   {{h + 8 * nnz_before, X.valuePtr(), 8 * static_cast<std::int64_t>(X.nonZeros())}}, comm);
  }
  // user_embeddings.npy: n × k in Fortran order (as write_npy writes a Matrix), so this rank's rows
  // are one stretch in each column.
  if (user_embeddings != nullptr) {
    const Matrix& P = *user_embeddings;
    const Index k = P.cols();
    const std::string header = npy_header("<f8", {static_cast<size_t>(n), static_cast<size_t>(k)}, true);
    const auto h = static_cast<std::int64_t>(header.size());
    std::vector<Segment> segments;
    for (Index c = 0; c < k && P.rows() > 0; ++c) {
      segments.push_back({h + 8 * (static_cast<std::int64_t>(c) * n + first), P.col(c).data(),
                          8 * static_cast<std::int64_t>(P.rows())});
    }
    write_segments(path("user_embeddings.npy"), header, segments, comm);
  }
}

}  // namespace linsim::mpi
