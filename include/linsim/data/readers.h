// Reading interaction files into an InteractionMatrix.
//
// Formats (all may be gzip-compressed; compression is detected from the content):
//   triplets   `user SEP item [SEP value [SEP more...]]`, string or integer ids; SEP detected
//              from the first data line ("::", tab, comma, or runs of blanks) unless given;
//              a header line is detected (see docs/formats.md) unless stated; `#` starts a comment.
//   movielens  MovieLens u.data / u*.base / u*.test (tab), ratings.dat ("::"), ratings.csv
//              (comma, header): triplets whose values are ratings, binarised by default.
//   lastfm     Last.fm hetrec2011 user_artists.dat (tab, header, play counts).
//   mtx        Matrix Market coordinate files (real, integer or pattern; general).
// Processing order for every format: reject non-finite values (and negative ones unless
// allowed); drop entries below min_value; drop zeros; sum duplicates (or reject them when
// strict); binarise; drop items with fewer than min_item_users users (and users left without
// items). The matrix never exists in dense form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "linsim/data/interaction_matrix.h"

namespace linsim {

enum class InputFormat { kAuto, kTriplets, kMovieLens, kLastFm, kMatrixMarket };

InputFormat parse_input_format(const std::string& name);
const char* format_name(InputFormat format);

struct ReadOptions {
  InputFormat format = InputFormat::kAuto;
  // Field separator for triplet formats: "" detects; otherwise "\t", ",", "::", ";" or " "
  // (runs of blanks).
  std::string separator;
  std::optional<bool> header;       // nullopt: detect
  std::optional<bool> binarize;     // nullopt: the format's default (movielens: yes)
  std::optional<double> min_value;  // keep entries with value >= min_value
  bool strict = false;              // duplicates are an error instead of being summed
  bool allow_negative = false;
  Index min_item_users = 0;         // drop items with fewer users (after all of the above)
};

// What was read and what was done to it; stored in model.json.
struct InputSummary {
  std::string path;
  std::string format;
  std::string separator;
  bool header = false;
  bool binarized = false;
  std::optional<double> min_value;
  std::int64_t lines = 0;               // data lines read (header and comments excluded)
  std::int64_t dropped_below_min = 0;   // entries removed by min_value
  std::int64_t dropped_zero = 0;        // entries whose value is zero
  std::int64_t duplicates = 0;          // entries merged into an earlier (user, item)
  Index min_item_users = 0;
  std::int64_t dropped_items = 0;       // items removed by min_item_users
};

struct ReadResult {
  InteractionMatrix data;
  InputSummary summary;
};

// Reads `path`. When `known_items` is given, items are mapped through it (an item it does not
// contain is an InputError) and the result has exactly its columns, in its order; users are
// taken from the file. Throws InputError (file:line) for malformed content, Error for I/O
// failures and for input without any interaction.
ReadResult read_interactions(const std::string& path, const ReadOptions& options,
                             const IdMap* known_items = nullptr);

}  // namespace linsim
