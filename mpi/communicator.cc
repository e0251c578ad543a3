#include "communicator.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include <fmt/format.h>

namespace linsim::mpi {
namespace {

// MPI counts are ints: large arrays go in pieces of this many elements.
constexpr std::size_t kChunk = std::size_t{1} << 28;

void check(int code, const char* what) {
  if (code != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(fmt::format("MPI {} failed: {}", what, std::string(text, static_cast<size_t>(length))));
  }
}

template <typename T>
void reduce_and_broadcast(MPI_Comm comm, int rank, T* data, std::size_t count, MPI_Datatype type) {
  for (std::size_t at = 0; at < count; at += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, count - at));
    check(MPI_Reduce(rank == 0 ? MPI_IN_PLACE : data + at, data + at, n, type, MPI_SUM, 0, comm), "reduce");
    check(MPI_Bcast(data + at, n, type, 0, comm), "broadcast");
  }
}

int as_count(std::size_t bytes, const char* what) {
  if (bytes > static_cast<std::size_t>(INT_MAX)) {
    throw Error(fmt::format("{}: {} bytes in one message exceed MPI's 2 GiB count limit; run with more ranks", what,
                            bytes));
  }
  return static_cast<int>(bytes);
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void MpiCommunicator::sum(double* data, std::size_t count) const {
  reduce_and_broadcast(comm_, rank_, data, count, MPI_DOUBLE);
}

void MpiCommunicator::sum(std::int64_t* data, std::size_t count) const {
  reduce_and_broadcast(comm_, rank_, data, count, MPI_INT64_T);
}

std::vector<char> MpiCommunicator::allgather(const std::vector<char>& mine, std::vector<std::int64_t>* lengths) const {
  const int own = as_count(mine.size(), "allgather");
  std::vector<int> counts(static_cast<size_t>(size_));
  check(MPI_Allgather(&own, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_), "allgather");
  std::vector<int> displs(static_cast<size_t>(size_), 0);
  std::size_t total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[static_cast<size_t>(r)] = as_count(total, "allgather");
    total += static_cast<std::size_t>(counts[static_cast<size_t>(r)]);
  }
  as_count(total, "allgather");
  std::vector<char> all(total);
  check(MPI_Allgatherv(mine.data(), own, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE, comm_),
        "allgatherv");
  if (lengths != nullptr) lengths->assign(counts.begin(), counts.end());
  return all;
}

std::vector<std::vector<char>> MpiCommunicator::exchange(const std::vector<std::vector<char>>& outgoing) const {
  std::vector<int> send_counts(static_cast<size_t>(size_)), recv_counts(static_cast<size_t>(size_));
  std::vector<int> send_displs(static_cast<size_t>(size_)), recv_displs(static_cast<size_t>(size_));
  std::size_t send_total = 0;
  for (int r = 0; r < size_; ++r) {
    send_counts[static_cast<size_t>(r)] = as_count(outgoing[static_cast<size_t>(r)].size(), "exchange");
    send_displs[static_cast<size_t>(r)] = as_count(send_total, "exchange");
    send_total += outgoing[static_cast<size_t>(r)].size();
  }
  as_count(send_total, "exchange");
  check(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm_), "alltoall");
  std::size_t recv_total = 0;
  for (int r = 0; r < size_; ++r) {
    recv_displs[static_cast<size_t>(r)] = as_count(recv_total, "exchange");
    recv_total += static_cast<std::size_t>(recv_counts[static_cast<size_t>(r)]);
  }
  as_count(recv_total, "exchange");
  std::vector<char> send(send_total), recv(recv_total);
  for (int r = 0; r < size_; ++r) {
    const auto& part = outgoing[static_cast<size_t>(r)];
    if (!part.empty()) std::memcpy(send.data() + send_displs[static_cast<size_t>(r)], part.data(), part.size());
  }
  check(MPI_Alltoallv(send.data(), send_counts.data(), send_displs.data(), MPI_BYTE, recv.data(), recv_counts.data(),
                      recv_displs.data(), MPI_BYTE, comm_),
        "alltoallv");
  std::vector<std::vector<char>> incoming(static_cast<size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    const char* begin = recv.data() + recv_displs[static_cast<size_t>(r)];
    incoming[static_cast<size_t>(r)].assign(begin, begin + recv_counts[static_cast<size_t>(r)]);
  }
  return incoming;
}

std::int64_t MpiCommunicator::exclusive_prefix(std::int64_t x) const {
  std::vector<std::int64_t> v{x};
  exclusive_prefix(v);
  return v[0];
}

void MpiCommunicator::exclusive_prefix(std::vector<std::int64_t>& values) const {
  std::vector<std::int64_t> out(values.size(), 0);
  if (!values.empty()) {
    check(MPI_Exscan(values.data(), out.data(), static_cast<int>(values.size()), MPI_INT64_T, MPI_SUM, comm_), "exscan");
  }
  if (rank_ == 0) std::fill(out.begin(), out.end(), 0);  // MPI leaves rank 0's result undefined
  values = std::move(out);
}

std::string MpiCommunicator::broadcast(const std::string& text, int root) const {
  std::string out = text;
  std::int64_t length = static_cast<std::int64_t>(out.size());
  check(MPI_Bcast(&length, 1, MPI_INT64_T, root, comm_), "broadcast");
  out.resize(static_cast<size_t>(length));
  if (length > 0) check(MPI_Bcast(out.data(), as_count(out.size(), "broadcast"), MPI_BYTE, root, comm_), "broadcast");
  return out;
}

void MpiCommunicator::barrier() const { check(MPI_Barrier(comm_), "barrier"); }

void MpiCommunicator::agree(Kind kind, const std::string& message, bool for_all) const {
  const int mine = kind == Kind::kNone ? size_ : rank_;
  int first = size_;
  check(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm_), "allreduce");
  if (first == size_) return;
  const int failed_here = kind == Kind::kNone ? 0 : 1;
  int failed = 0;
  check(MPI_Allreduce(&failed_here, &failed, 1, MPI_INT, MPI_SUM, comm_), "allreduce");
  std::string text = broadcast(message, first);
  int code = static_cast<int>(kind);
  check(MPI_Bcast(&code, 1, MPI_INT, first, comm_), "broadcast");
  if (failed < size_ && !for_all) text = fmt::format("rank {} of {}: {}", first, size_, text);
  switch (static_cast<Kind>(code)) {
    case Kind::kInvalidArgument: throw InvalidArgument(text);
    case Kind::kOutOfMemory: throw OutOfMemory(text);
    default: throw Error(text);
  }
}

}  // namespace linsim::mpi
