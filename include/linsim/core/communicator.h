// The processes one computation is spread over, as the library sees them: their number, this
// process's place among them, and sums across them. The library never calls MPI: a distributed
// program (linsim-mpi, docs/distributed.md) passes a Communicator whose sums are MPI reductions;
// everything else passes single_process(), whose sums leave the data as it is. A function taking
// a Communicator computes on this process's share of the rows of X (its users) and returns what
// every process would: each process must make the same calls in the same order, and the sums are
// bit-identical on every process, so that every decision taken from them (a solver converged, a
// warning) is taken alike everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace linsim {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Replaces data[0..count) on every process by its elementwise sum over the processes,
  // bit-identical everywhere.
  virtual void sum(double* data, std::size_t count) const = 0;
  virtual void sum(std::int64_t* data, std::size_t count) const = 0;

  bool distributed() const { return size() > 1; }
  double sum(double x) const {
    sum(&x, 1);
    return x;
  }
  std::int64_t sum(std::int64_t x) const {
    sum(&x, 1);
    return x;
  }
  // Whether `ok` holds on every process (a collective: every process must ask).
  bool all(bool ok) const { return sum(std::int64_t{ok ? 0 : 1}) == 0; }
  // The largest of every process's x, x >= 0 (a collective): a sum of one slot per process, each
  // filled by its process only, so exact.
  double max(double x) const;
  // Process `root`'s text, on every process (a collective; the others' `text` is not read). This
  // default sums slots only `root` fills, so it is exact on any communicator; an MPI one
  // broadcasts instead.
  virtual std::string broadcast(const std::string& text, int root) const;
};

// One process: rank 0 of 1, sums are the identity.
const Communicator& single_process();

}  // namespace linsim
