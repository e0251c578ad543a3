// The MPI side of linsim-mpi: the library's Communicator (include/linsim/core/communicator.h) on an
// MPI communicator, plus the few collectives the distributed reader and writers need, and the one
// rule for failures: a step that may fail on some ranks only ends in agree(), which turns the
// failure of any rank into the same exception on every rank (no rank is left waiting).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "linsim/core/communicator.h"
#include "linsim/core/error.h"

namespace linsim::mpi {

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm);
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // A reduction onto rank 0 and a broadcast of its result: every rank gets the same bits (an
  // allreduce may sum in a different order on different ranks).
  void sum(double* data, std::size_t count) const override;
  void sum(std::int64_t* data, std::size_t count) const override;
  using Communicator::sum;
  MPI_Comm comm() const { return comm_; }

  // Every rank's bytes, concatenated in rank order; `lengths` (when given) receives each rank's
  // length.
  std::vector<char> allgather(const std::vector<char>& mine, std::vector<std::int64_t>* lengths = nullptr) const;
  // outgoing[r] is sent to rank r; returns what each rank sent to this one, in rank order.
  std::vector<std::vector<char>> exchange(const std::vector<std::vector<char>>& outgoing) const;
  // The sum over ranks before this one (0 on rank 0).
  std::int64_t exclusive_prefix(std::int64_t x) const;
  void exclusive_prefix(std::vector<std::int64_t>& values) const;
  std::string broadcast(const std::string& text, int root) const override;  // MPI_Bcast
  void barrier() const;

  // kind of a failure, kept across ranks so that the exit code does not depend on which rank saw it.
  enum class Kind : int { kNone = 0, kError = 1, kInvalidArgument = 2, kOutOfMemory = 3 };
  // Returns when no rank failed; otherwise every rank throws the failure of the lowest failing
  // rank, named "rank r of N: message" unless every rank failed or the step was one rank's
  // decision for all of them (`for_all`, the same on every rank).
  void agree(Kind kind, const std::string& message, bool for_all = false) const;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

// Runs f on every rank; an exception on any rank becomes the same exception on all of them.
// For steps whose failures are either local before any collective of f (reading a file) or alike
// on every rank (the library's checks on summed data): f must never leave a rank waiting in a
// collective that another rank has abandoned. std::bad_alloc, which can strike one rank anywhere,
// is not agreed on but passed on (main() aborts the job).
// `for_all`: f does its work on one rank on behalf of all (the input's files and format, decided
// once), so a failure there is not named by the rank that saw it.
template <typename F>
void collectively(const MpiCommunicator& comm, F&& f, bool for_all = false) {
  using Kind = MpiCommunicator::Kind;
  Kind kind = Kind::kNone;
  std::string message;
  try {
    f();
  } catch (const OutOfMemory& e) {
    kind = Kind::kOutOfMemory;
    message = e.what();
  } catch (const InvalidArgument& e) {
    kind = Kind::kInvalidArgument;
    message = e.what();
  } catch (const std::bad_alloc&) {
    throw;  // may strike one rank inside a collective: main() aborts the job
  } catch (const std::exception& e) {
    kind = Kind::kError;
    message = e.what();
  }
  comm.agree(kind, message, for_all);
}

}  // namespace linsim::mpi
