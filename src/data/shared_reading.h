// Private: how read_interactions shares a large plain file between threads (readers.cc), as a
// parameter of the call, so that the readers' tests can cut small files and see the cuts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "linsim/data/readers.h"

namespace linsim::detail {

// Rows of at most this many entries are sorted by rank: each key's place is the number of keys
// below it, L² comparisons without a branch, which the compiler runs 8 (AVX-512) or 4 (AVX2)
// keys at a time; longer rows, and other builds, go through std::sort. On 50M entries in rows
// of L random items (one thread, a side harness): L = 16, 50, 72 and 200 took 0.24, 0.40, 0.37
// and 0.82 s by rank against 0.57, 1.06, 1.30 and 1.68 s by std::sort, and the two met near L =
// 500; with AVX2 they met near L = 200, and without either the ranks were the slower.
#if defined(__AVX512F__)
constexpr std::size_t kRankSortMax = 256;
#elif defined(__AVX2__)
constexpr std::size_t kRankSortMax = 128;
#else
constexpr std::size_t kRankSortMax = 0;
#endif

// Parsed entries are kept in chunks of this many, each allocated once (no reallocation copies).
constexpr std::size_t kChunkEntries = std::size_t{1} << 20;

struct SharedReading {
  // A file is cut into byte ranges of at least this many bytes, one per thread.
  std::int64_t min_bytes_per_range = std::int64_t{4} << 20;
  // At most one range per core (each range has id tables of its own); tests turn it off to cut
  // small files into many ranges.
  bool cap_at_cores = true;
  // Rows of at most this many entries are sorted by rank, longer ones by std::sort. Tests set it
  // so that both sorts run in every build (the sanitizer build's default is 0).
  std::size_t rank_sort_max = kRankSortMax;
  // Entries per chunk of parsed entries (kChunkEntries); tests make chunks small, so that a file
  // of a few lines spans several.
  std::size_t chunk_entries = kChunkEntries;
};

// read_interactions (which is this with the defaults above); `ranges`, when given, receives how many
// byte ranges were parsed side by side (1: the input was read in one piece), also when it throws.
ReadResult read_interactions_shared(const std::string& path, const ReadOptions& options, const IdMap* known_items,
                                    const SharedReading& how, int* ranges = nullptr);

}  // namespace linsim::detail
