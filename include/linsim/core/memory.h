// Memory facts of the running machine, for estimates printed before large computations.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "linsim/core/communicator.h"

namespace linsim {

// The memory this process can still take without swapping or being stopped: the least of
// - the machine's MemAvailable (/proc/meminfo; 8 GiB when it cannot be read),
// - the room under the memory limit of the process's control group and of every group above it
//   (cgroup v2 memory.max, v1 memory.limit_in_bytes: the limit less the group's use beyond its
//   page cache), which containers and batch schedulers set well below the machine's memory,
// - the room under the process's address-space and data limits (ulimit -v, ulimit -d),
// - where the system refuses allocations beyond its commit limit (vm.overcommit_memory = 2),
//   that limit less what is committed (CommitLimit − Committed_AS in /proc/meminfo).
struct AvailableMemory {
  double bytes = 0;
  std::string limit;  // what sets `bytes`: empty for the machine's MemAvailable
  // "24.2 GB available", or "95 MB available under this process's address-space limit of 300 MB
  // (ulimit -v)"
  std::string text() const;
};
AvailableMemory available_memory();
double available_memory_bytes();  // available_memory().bytes

// A step that needs `need` bytes on each process (the amounts may differ) and does not fit on
// some: the process that falls shortest (the largest need / available), with its numbers. The
// same on every process, so that all of them refuse the step alike; nullopt where it fits on
// every process. A collective.
struct MemoryShortfall {
  double need = 0;
  AvailableMemory available;
  int rank = 0;
  int size = 1;
  // "more than the 1.5 GB available" (… " under …"; " on rank r of N" when distributed)
  std::string more_than() const;
};
std::optional<MemoryShortfall> memory_shortfall(double need, const Communicator& comm = single_process());

// Where this process's allocations can be refused before the machine's memory runs out (an
// address-space or data limit, ulimit -v / -d, or a system that refuses allocations beyond its
// commit limit, vm.overcommit_memory = 2): what refuses them, in words; empty where allocations
// are overcommitted (the default; a control group's limit then stops the process only when its
// pages are touched).
std::string allocations_refused_by();

namespace detail {
// The machine's and the control groups' part of available_memory, reading /proc and the cgroup
// mounts below `root` ("" for the running system; tests build a tree).
AvailableMemory available_memory_under(const std::string& root);
}  // namespace detail

// What a block is to the huge-page advice below.
enum class PageUse {
  // Allocated anew for every product of an iterative solver and read at random rows (the blocks
  // the sparse kernels gather from): with 4 KiB pages a gather over tens of MB misses the TLB on
  // most rows, and the pages come back from the allocator warm, product after product.
  kGathered,
  // Written once or streamed in order (the data's arrays, a Krylov basis, p × p matrices, arrays
  // read from files): the TLB hardly matters, and what huge pages change is the cost of the first
  // touch, which depends on the machine (bench/README.md, "Huge pages by use").
  kBulk,
};

// Asks the kernel to back the 2 MiB-aligned interior of [data, data + bytes) with huge pages
// (Linux's transparent huge pages: a no-op where they are off or where that interior is empty)
// when the process's setting covers `use` (configure_huge_pages, linsim/core/setup.h: by default
// gathered blocks only; the linsim programs: LINSIM_HUGE_PAGES=all or off). Advice
// only: nothing fails, no result changes. It takes effect for pages not yet touched, so call it on
// a fresh allocation before writing to it.
void prefer_huge_pages(void* data, std::size_t bytes, PageUse use);

// Whether prefer_huge_pages advises blocks of this use under the current setting.
bool huge_pages_wanted(PageUse use);

// prefer_huge_pages for a dense Eigen object's storage.
template <typename Dense>
Dense& prefer_huge_pages(Dense& m, PageUse use) {
  prefer_huge_pages(m.data(), static_cast<std::size_t>(m.size()) * sizeof(typename Dense::Scalar), use);
  return m;
}

// "1.2 GB", "340 MB", "12 KB" (decimal units).
std::string format_bytes(double bytes);

}  // namespace linsim
