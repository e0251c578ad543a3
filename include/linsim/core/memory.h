// Memory facts of the running machine, for estimates printed before large computations.
#pragma once

#include <cstddef>
#include <string>

namespace linsim {

// MemAvailable from /proc/meminfo in bytes (what can be allocated without swapping); 8 GiB
// when it cannot be read.
double available_memory_bytes();

// Asks the kernel to back the 2 MiB-aligned interior of [data, data + bytes) with huge pages
// (Linux's transparent huge pages: a no-op where they are off or where that interior is empty).
// Advice only: nothing fails. It matters for large blocks read at random rows — a gather over
// tens of MB of 4 KiB pages misses the TLB on most rows — and it takes effect for pages not yet
// touched, so call it on a fresh allocation before writing to it. A program can turn it off
// (configure_huge_pages, linsim/core/setup.h; the linsim programs: LINSIM_HUGE_PAGES=off).
void prefer_huge_pages(void* data, std::size_t bytes);

// Whether prefer_huge_pages advises at all: true unless configure_huge_pages turned it off.
bool huge_pages_wanted();

// prefer_huge_pages for a dense Eigen object's storage.
template <typename Dense>
Dense& prefer_huge_pages(Dense& m) {
  prefer_huge_pages(m.data(), static_cast<std::size_t>(m.size()) * sizeof(typename Dense::Scalar));
  return m;
}

// "1.2 GB", "340 MB", "12 KB" (decimal units).
std::string format_bytes(double bytes);

}  // namespace linsim
