// Private: how read_interactions shares a large plain file between threads (readers.cc), as a
// parameter of the call, so that the readers' tests can cut small files and see the cuts.
#pragma once

#include <cstdint>

#include "linsim/data/readers.h"

namespace linsim::detail {

struct SharedReading {
  // A file is cut into byte ranges of at least this many bytes, one per thread.
  std::int64_t min_bytes_per_range = std::int64_t{4} << 20;
  // At most one range per core (each range has id tables of its own); tests turn it off to cut
  // small files into many ranges.
  bool cap_at_cores = true;
};

// read_interactions (which is this with the defaults above); `ranges`, when given, receives how many
// byte ranges were parsed side by side (1: the input was read in one piece), also when it throws.
ReadResult read_interactions_shared(const std::string& path, const ReadOptions& options, const IdMap* known_items,
                                    const SharedReading& how, int* ranges = nullptr);

}  // namespace linsim::detail
