// Memory facts of the running machine, for estimates printed before large computations.
#pragma once

#include <cstddef>
#include <string>

namespace linsim {

// MemAvailable from /proc/meminfo in bytes (what can be allocated without swapping); 8 GiB
// when it cannot be read.
double available_memory_bytes();

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
