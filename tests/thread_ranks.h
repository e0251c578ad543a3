// Processes of one computation played by threads of this one, for tests of code that takes a
// Communicator without MPI (tests/mpi_equivalence.py runs the real thing): rank r's calls run on
// thread r, and a sum waits for every rank, adds their contributions in rank order and gives every
// rank the same bits, as the Communicator contract asks.
#pragma once

#include <barrier>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "linsim/core/communicator.h"

namespace linsim::test {

class ThreadRanks {
 public:
  explicit ThreadRanks(int size) : size_(size), posted_(static_cast<std::size_t>(size)), barrier_(size) {
    for (int r = 0; r < size; ++r) ranks_.push_back(std::make_unique<Rank>(*this, r));
  }

  // Runs f(communicator of rank r, r) for every rank, each on its own thread, and joins them.
  void run(const std::function<void(const Communicator&, int)>& f) {
    std::vector<std::thread> threads;
    for (int r = 0; r < size_; ++r) threads.emplace_back([&, r] { f(*ranks_[static_cast<std::size_t>(r)], r); });
    for (std::thread& t : threads) t.join();
  }

 private:
  class Rank : public Communicator {
   public:
    Rank(ThreadRanks& all, int rank) : all_(all), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return all_.size_; }
    void sum(double* data, std::size_t count) const override { all_.sum(rank_, data, count); }
    void sum(std::int64_t* data, std::size_t count) const override { all_.sum(rank_, data, count); }

   private:
    ThreadRanks& all_;
    int rank_;
  };

  // Every rank posts its array, then each adds all of them in rank order into its own copy; the
  // second wait keeps every array unchanged until all ranks have read it.
  template <typename T>
  void sum(int rank, T* data, std::size_t count) {
    posted_[static_cast<std::size_t>(rank)] = data;
    barrier_.arrive_and_wait();
    std::vector<T> total(count, T{0});
    for (const void* p : posted_) {
      for (std::size_t i = 0; i < count; ++i) total[i] += static_cast<const T*>(p)[i];
    }
    barrier_.arrive_and_wait();
    for (std::size_t i = 0; i < count; ++i) data[i] = total[i];
  }

  int size_;
  std::vector<const void*> posted_;
  std::barrier<> barrier_;
  std::vector<std::unique_ptr<Rank>> ranks_;
};

}  // namespace linsim::test
