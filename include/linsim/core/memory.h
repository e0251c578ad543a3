// Memory facts of the running machine, for estimates printed before large computations.
#pragma once

#include <string>

namespace linsim {

// MemAvailable from /proc/meminfo in bytes (what can be allocated without swapping); 8 GiB
// when it cannot be read.
double available_memory_bytes();

// "1.2 GB", "340 MB", "12 KB" (decimal units).
std::string format_bytes(double bytes);

}  // namespace linsim
