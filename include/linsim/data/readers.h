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
#include <vector>

#include "linsim/data/interaction_matrix.h"

namespace linsim {

enum class InputFormat { kAuto, kTriplets, kMovieLens, kLastFm, kMatrixMarket };

InputFormat parse_input_format(const std::string& name);
// A separator as users name it (the CLI's --sep, Python's separator=): "tab" or "\\t" is a tab,
// "comma" a comma, "space", "blank" or "blanks" runs of blanks; any other string is taken
// literally ("" detects).
std::string parse_separator(const std::string& name);
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
  // Users all of whose entries were dropped (zero or below min_value): they have no row. The first
  // three of their ids, for messages.
  std::int64_t users_without_entries = 0;
  std::vector<std::string> users_without_entries_examples;
  std::int64_t duplicates = 0;          // entries merged into an earlier (user, item)
  // Comment lines that read as interactions: '#' directly followed by the rest of a user id, an
  // item, and a number or nothing where the value goes ('#u7<TAB>i3<TAB>1'; the exact rule is in
  // docs/formats.md). They are skipped, as every comment is, but are more
  // likely data whose user id begins with '#'; reading_warnings says so. The count, and where the
  // first is: its file (as messages name it) and line number (0: none).
  std::int64_t commented_data_lines = 0;
  std::string first_commented_data_file;
  std::int64_t first_commented_data_line = 0;
  Index min_item_users = 0;
  std::int64_t dropped_items = 0;       // items removed by min_item_users
};

// What a user of the data must hear about its reading (each a sentence naming the file), now: the
// comment lines that read as interactions. Empty for a clean reading.
std::vector<std::string> reading_warnings(const InputSummary& summary);

struct ReadResult {
  InteractionMatrix data;
  InputSummary summary;
};

// Reads `path`. When `known_items` is given, items are mapped through it (an item it does not
// contain is an InputError) and the result has exactly its columns, in its order; users are
// taken from the file. Throws InputError (file:line) for malformed content, Error for I/O
// failures and for input without any interaction. A large plain triplet file is parsed on the
// calling thread's OpenMP thread count (ThreadScope), at most one byte range per core, with the
// one-thread result (docs/formats.md).
ReadResult read_interactions(const std::string& path, const ReadOptions& options,
                             const IdMap* known_items = nullptr);

// For readers that split their input between processes (linsim-mpi): a piece of a file, the
// lines that start in the byte range [begin, end) (end < 0: to the end; a compressed file only as
// a whole, begin 0 and end −1). lines_before: newlines in [0, begin) (line numbers in messages
// count from the file's start). key_base: added to a line number to key first appearances
// (pieces of one input must get increasing, non-overlapping keys, in the input's order).
struct InputPiece {
  std::string path;
  std::int64_t begin = 0;
  std::int64_t end = -1;
  std::int64_t lines_before = 0;
  std::int64_t key_base = 0;
  // Read only for begin > 0: whether an earlier piece of the file holds a data line (one that is
  // not blank or a comment; holds_data_line tells). When none does, this piece's first data line
  // is the file's first, and it is checked for a header as a file's first line is.
  bool data_before = true;
};

// Whether a piece holds a data line: a line that starts in it and is not blank or a comment (read
// up to the first such line).
bool holds_data_line(const InputPiece& piece);

// What one process read from its pieces, in their order: the interactions with their users and
// items numbered in order of first appearance (duplicates within the pieces summed in file order,
// not binarised, no min_item_users: those need all processes' rows), the key (key_base + line)
// where each user and item first appeared, and the counts of the summary. No interaction at all is
// not an error here (a process may get only comments).
struct PieceRead {
  InteractionMatrix data;
  std::vector<std::int64_t> user_first;
  std::vector<std::int64_t> item_first;
  InputSummary summary;  // users_without_entries is left to the caller, who knows every piece's users:
  IdMap dropped_users;   // the users of the entries dropped here (0 or below min_value), with
  std::vector<std::int64_t> dropped_first;  // the keys of their first dropped entries
};

// Reads pieces of triplet input (format triplets, movielens or lastfm, resolved; separator given):
// every line goes through the same checks as read_interactions, whose messages name file and line.
// The first data line of a file (in a piece with begin 0, or one without data_before) is checked
// for a header as read_interactions checks it (options.header, else detected); no other line is.
// summary.header is that of the first piece whose data lines started with that check.
PieceRead read_interaction_pieces(const std::vector<InputPiece>& pieces, const ReadOptions& options);

// The format read_interactions would detect for `path` (name, then content).
InputFormat detect_input_format(const std::string& path);
// The separator read_interactions would detect: from the first line that is not empty or a comment.
std::string detect_separator_of(const std::string& path);

}  // namespace linsim
