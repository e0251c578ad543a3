// Private: how read_interactions shares a large plain file between threads (readers.cc), and
// what the readers' tests need to see and set of it.
#pragma once

#include <cstdint>

namespace linsim::detail {

struct SharedReading {
  // A file is cut into byte ranges of at least this many bytes, one per thread.
  std::int64_t min_bytes_per_range = std::int64_t{4} << 20;
  // At most one range per core (each range has id tables of its own); tests turn it off to cut
  // small files into many ranges.
  bool cap_at_cores = true;
};

// Sets how files are shared from now on, for every thread (tests only; not thread-safe).
void configure_shared_reading(const SharedReading& how);

// How many byte ranges the calling thread's last read_interactions parsed side by side (1: the
// input was read in one piece).
int ranges_of_last_read();

}  // namespace linsim::detail
