#include "linsim/data/readers.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include <omp.h>

#include <fmt/format.h>

#include "line_reader.h"
#include "core/counting_scatter.h"
#include "shared_reading.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"

namespace linsim {
namespace {

using detail::LineReader;

struct Entry {  // line numbers are found again by re-reading, only for an error message
  int row;
  int col;
};

// Parsed entries, in file order, in chunks of a fixed capacity. Implicit-feedback files hold
// only 1s, so a chunk stores values only from its first other value on (filling 1s before it):
// 8 bytes per entry instead of 16, and half the fresh pages, which a reading spends much of its
// time touching for the first time (the page faults were ~half of a profile of (a)'s reading on
// the AMD EPYC VM of bench/README.md).
struct Chunk {
  std::vector<Entry> entries;
  std::vector<double> values;  // empty while every value so far is 1
  double value(size_t i) const { return values.empty() ? 1.0 : values[i]; }
  // Appends an entry to a chunk whose entries have room for `capacity` (reserved and advised).
  void add(Entry e, double v, size_t capacity) {
    if (values.empty() && v != 1.0) {  // the first value other than 1: from here on values are kept
      values.reserve(capacity);
      prefer_huge_pages(values.data(), capacity * sizeof(double), PageUse::kBulk);
      values.assign(entries.size(), 1.0);
    }
    if (!values.empty() || v != 1.0) values.push_back(v);
    entries.push_back(e);
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits `line` at `sep` (" " means runs of blanks) into at most `max_fields` fields.
size_t split(std::string_view line, std::string_view sep, std::string_view* fields,
             size_t max_fields) {
  size_t n = 0;
  if (sep == " ") {
    size_t i = 0;
    while (i < line.size() && n < max_fields) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i == line.size()) break;
      const size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      fields[n++] = line.substr(start, i - start);
    }
    return n;
  }
  size_t start = 0;
  while (n < max_fields) {
    // A one-character separator (tab, comma) is searched for as a character: find(string_view)
    // compares the separator again after each match (BM_ReadInteractions/1 profiled: memcmp fell
    // from 6 % of the samples to 2 %).
    const size_t pos = sep.size() == 1 ? line.find(sep.front(), start) : line.find(sep, start);
    if (pos == std::string_view::npos) {
      fields[n++] = trim(line.substr(start));
      break;
    }
    fields[n++] = trim(line.substr(start, pos - start));
    start = pos + sep.size();
  }
  return n;
}

// A value field: a number, a number whose magnitude no double holds ("1e400", "1e-400": still a
// number, so never taken for a header's column name), or not a number at all.
enum class Parsed { kNumber, kOutOfRange, kNotANumber };

Parsed parse_double(std::string_view s, double& value) {
  // One sign: from_chars takes a '-' but no '+', so a '+' is removed here, and a sign after it
  // ("+-3", read as -3 before) is not a number.
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) return Parsed::kNotANumber;
  }
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ptr != s.data() + s.size()) return Parsed::kNotANumber;
  if (ec == std::errc::result_out_of_range) return Parsed::kOutOfRange;
  return ec == std::errc() ? Parsed::kNumber : Parsed::kNotANumber;
}

std::string why_not_a_value(Parsed parsed) {
  return parsed == Parsed::kOutOfRange ? "is beyond the range of a double (magnitudes 4.9e-324 to 1.8e308)"
                                       : "is not a number";
}

// A non-negative decimal integer that fits in int64 ("+" allowed).
bool parse_count(std::string_view s, std::int64_t& value) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty() && value >= 0;
}

std::string printable_separator(std::string_view sep) {
  if (sep == "\t") return "tab";
  if (sep == " ") return "blanks";
  return std::string(sep);
}

std::string detect_separator(std::string_view line) {
  if (line.find("::") != std::string_view::npos) return "::";
  if (line.find('\t') != std::string_view::npos) return "\t";
  if (line.find(',') != std::string_view::npos) return ",";
  if (line.find(';') != std::string_view::npos) return ";";
  return " ";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// A first line is a header when its value column is not a number, or when it has only two
// columns whose names say "user" and "item"/"movie"/"artist"/"id". An empty value column names
// nothing: that line is data, whose empty value is an error at line 1 (was: a header, dropped).
bool looks_like_header(const std::string_view* fields, size_t n) {
  double v = 0;
  if (n >= 3) return !fields[2].empty() && parse_double(fields[2], v) == Parsed::kNotANumber;
  if (n == 2) {
    const std::string a = lower(fields[0]);
    const std::string b = lower(fields[1]);
    const bool a_user = a.find("user") != std::string::npos;
    const bool b_item = b.find("item") != std::string::npos || b.find("movie") != std::string::npos ||
                        b.find("artist") != std::string::npos || b.find("id") != std::string::npos;
    return a_user && b_item;
  }
  return false;
}

// Whether a comment line (trimmed, starting with '#') reads as an interaction with separator
// `sep`: '#' directly followed by the rest of a user id (not a blank or a second '#', as prose and
// banners begin), an item, and where a value goes a number or nothing. Blanks and commas also
// separate the words of prose ("#seed 42", "#source: kaggle, 2019"): with them a comment must hold
// a numeric value column. Two fields that name columns as a header's do, without digits
// ("#user<TAB>item", not "#user_5<TAB>item_3"), are a commented-out header.
// The part of that test that needs no separator: '#' directly followed by more than a blank or
// a second '#'.
bool may_read_as_interaction(std::string_view content) {
  return content.size() > 1 && content[1] != '#' && content[1] != ' ' && content[1] != '\t';
}

bool reads_as_interaction(std::string_view content, std::string_view sep) {
  if (!may_read_as_interaction(content)) return false;
  std::string_view fields[3];
  const size_t n = split(content, sep, fields, 3);
  const bool prose_separator = sep == " " || sep == "," || sep == ";";
  double value = 0;
  if (n < (prose_separator ? 3u : 2u) || fields[1].empty()) return false;
  if (n >= 3) return parse_double(fields[2], value) == Parsed::kNumber;
  constexpr std::string_view kDigits = "0123456789";
  return !looks_like_header(fields, n) || fields[0].find_first_of(kDigits) != std::string_view::npos ||
         fields[1].find_first_of(kDigits) != std::string_view::npos;
}

std::string clip(std::string_view text) {
  constexpr size_t kMax = 120;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

InputFormat detect_format(const std::string& path, LineReader& reader) {
  std::string name = std::filesystem::path(path).filename().string();
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) name.resize(name.size() - 3);
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".mtx")) return InputFormat::kMatrixMarket;
  if (name == "u.data" || name == "ratings.dat" || name == "ratings.csv" ||
      (name.size() >= 6 && name[0] == 'u' && (ends_with(".base") || ends_with(".test")))) {
    return InputFormat::kMovieLens;
  }
  if (name == "user_artists.dat") return InputFormat::kLastFm;
  // Content: a Matrix Market banner (peeked, so that a pipe is read only once).
  if (reader.peek().rfind("%%MatrixMarket", 0) == 0) return InputFormat::kMatrixMarket;
  return InputFormat::kTriplets;
}

class Collector {
 public:
  Collector(const std::string& path, const ReadOptions& options, const IdMap* known_items,
            InputSummary& summary, size_t chunk_entries = detail::kChunkEntries)
      : path_(path),
        options_(options),
        known_items_(known_items),
        summary_(summary),
        ones_only_(options.binarize.value_or(false)),
        chunk_entries_(chunk_entries) {}

  IdMap users;
  IdMap items;

  bool has_known_items() const { return known_items_ != nullptr; }

  // Names `path` in messages from now on and, when recording, keys first appearances by
  // key_base + line (read_interaction_pieces).
  void set_source(const std::string& path, std::int64_t key_base) {
    path_ = path;
    key_base_ = key_base;
  }
  void record_first_appearances(std::vector<std::int64_t>* users_first, std::vector<std::int64_t>* items_first) {
    user_first_ = users_first;
    item_first_ = items_first;
  }

  // Validates and filters one value; returns false when the entry is dropped.
  bool accept(double value, std::string_view text, std::int64_t line) {
    if (!std::isfinite(value)) {
      throw InputError(path_, line, fmt::format("value '{}' is not a finite number", text));
    }
    if (value < 0 && !options_.allow_negative) {
      throw InputError(path_, line,
                       fmt::format("negative value '{}' (pass --allow-negative to accept it)", text));
    }
    if (options_.min_value && value < *options_.min_value) {
      ++summary_.dropped_below_min;
      return false;
    }
    if (value < 0 && ones_only_) {
      // Binarising makes every kept entry 1: a dislike would become an interaction.
      throw InputError(path_, line,
                       fmt::format("negative value '{}' would be binarised to 1, an interaction; drop such entries "
                                   "with --min-value 0",
                                   text));
    }
    if (value == 0) {
      ++summary_.dropped_zero;
      return false;
    }
    return true;
  }

  // The user of an entry accept() dropped: a user all of whose entries were dropped gets no row,
  // which users_without_entries() counts, so that a caller can say so instead of leaving it out
  // without a word. Only dropped entries pay for this.
  void dropped_entry_of(std::string_view user, std::int64_t line) {
    if (!last_dropped_.empty() && user == last_dropped_) return;  // a user's entries usually come together
    const Index before = dropped_users_.size();
    dropped_users_.add(user);
    if (user_first_ != nullptr && dropped_users_.size() > before) dropped_first_.push_back(key_base_ + line);
    last_dropped_.assign(user);
  }
  // The users of dropped entries and (when recording first appearances) their first keys.
  const IdMap& dropped_users() const { return dropped_users_; }
  const std::vector<std::int64_t>& dropped_first() const { return dropped_first_; }

  // The users of dropped entries that have no row: how many, and the first few ids.
  void users_without_entries(const IdMap& kept, InputSummary& into) const {
    for (const std::string& id : dropped_users_.ids()) {
      if (kept.find(id)) continue;
      ++into.users_without_entries;
      if (into.users_without_entries_examples.size() < 3) into.users_without_entries_examples.push_back(id);
    }
  }

  void add(std::string_view user, std::string_view item, double value, std::int64_t line) {
    Index col = 0;
    if (known_items_ != nullptr) {
      auto found = known_items_->find(item);
      if (!found) throw InputError(path_, line, fmt::format("item '{}' is not in the model", item));
      col = *found;
    } else {
      const Index before = items.size();
      col = items.add(item);
      if (items.size() > before) {
        check_new_id("item", item, line);
        if (item_first_ != nullptr) item_first_->push_back(key_base_ + line);
      }
    }
    // Files usually list a user's interactions together: skip the hash lookup for a repeated user.
    if (last_user_id_ < 0 || user != last_user_) {
      const Index before = users.size();
      last_user_id_ = users.add(user);
      if (users.size() > before) {
        check_new_id("user", user, line);
        if (user_first_ != nullptr) user_first_->push_back(key_base_ + line);
      }
      last_user_.assign(user);
    }
    add_indexed(last_user_id_, col, value, line);
  }

  // Ids are written one per line to tab-separated outputs (a model's id files, every table): a tab
  // or carriage return inside one (possible with another separator) is refused at its first line,
  // not after the work.
  void check_new_id(const char* what, std::string_view id, std::int64_t line) const {
    if (id.find_first_of("\t\r") == std::string_view::npos) return;
    std::string shown;
    for (const char c : id) {
      if (c == '\t') {
        shown += "<TAB>";
      } else if (c == '\r') {
        shown += "<CR>";
      } else {
        shown += c;
      }
    }
    throw InputError(path_, line,
                     fmt::format("{} id '{}' contains a tab or carriage return, which linsim's tab-separated "
                                 "outputs (id files, tables) cannot hold",
                                 what, shown));
  }

  void add_indexed(Index row, Index col, double value, std::int64_t line) {
    if (ones_only_) value = 1.0;  // binarised data: no chunk stores values
    constexpr Index kMaxIndex = std::numeric_limits<int>::max();
    if (row >= kMaxIndex || col >= kMaxIndex) {
      throw InputError(path_, line, "more than 2^31 - 1 users or items are not supported");
    }
    if (locating_) {  // a second reading, to name the lines of a duplicate in an error message
      if (row == wanted_row_ && col == wanted_col_ && located_ < 2) wanted_lines_[located_++] = line;
      return;
    }
    if (chunks_.empty() || chunks_.back().entries.size() == chunk_entries_) {
      chunks_.emplace_back();
      chunks_.back().entries.reserve(chunk_entries_);
      // 8 MB written at once: huge pages take a fault per 2 MB instead of per 4 KB (a one-thread
      // BM_ReadInteractions took ~25 % less time with this advice).
      prefer_huge_pages(chunks_.back().entries.data(), chunk_entries_ * sizeof(Entry), PageUse::kBulk);
    }
    chunks_.back().add({static_cast<int>(row), static_cast<int>(col)}, value, chunk_entries_);
    ++count_;
  }

  // An entry by the file's own 0-based row and column numbers (Matrix Market). build() keeps only
  // the rows and columns that occur, renumbered in order, with the 1-based numbers as their ids.
  void add_numbered(std::int64_t row, std::int64_t col, double value, std::int64_t line) {
    numbered_ = true;
    // The numbers are kept as int until the renumbering: one beyond it is refused by name, not as
    // "more than 2^31 - 1 users or items" (a matrix that declares 5e9 rows may hold two).
    constexpr std::int64_t kMaxIndex = std::numeric_limits<int>::max();
    if (row >= kMaxIndex || col >= kMaxIndex) {
      throw InputError(path_, line,
                       fmt::format("{} number {} is above 2^31 - 1, beyond what linsim's Matrix Market reader "
                                   "numbers (renumber the rows and columns that occur from 1)",
                                   row >= kMaxIndex ? "row" : "column", (row >= kMaxIndex ? row : col) + 1));
    }
    add_indexed(row, col, value, line);
  }

  // Makes this collector, on a fresh reading of the same file (which assigns the same indices),
  // record the lines of the first two entries for (row, col) instead of storing anything.
  void locate(Index row, Index col) {
    locating_ = true;
    wanted_row_ = row;
    wanted_col_ = col;
  }
  std::int64_t located_line(size_t w) const { return wanted_lines_[w]; }

  // Takes over what `later` collected from the part of the input that follows this collector's:
  // its users and items keep the numbers they have here and get the next free ones, in their own
  // order of first appearance, otherwise (the numbers one reading of both parts in order gives),
  // and its entries follow this collector's (duplicates still sum in file order).
  void append(Collector& later) {
    std::vector<int> user_to(static_cast<size_t>(later.users.size()));
    for (Index u = 0; u < later.users.size(); ++u) user_to[static_cast<size_t>(u)] = checked_index(users.add(later.users.id(u)));
    std::vector<int> item_to;
    if (known_items_ == nullptr) {
      item_to.resize(static_cast<size_t>(later.items.size()));
      for (Index j = 0; j < later.items.size(); ++j) item_to[static_cast<size_t>(j)] = checked_index(items.add(later.items.id(j)));
    }
    for (auto& chunk : later.chunks_) {
      for (Entry& e : chunk.entries) {
        e.row = user_to[static_cast<size_t>(e.row)];
        if (known_items_ == nullptr) e.col = item_to[static_cast<size_t>(e.col)];
      }
      chunks_.push_back(std::move(chunk));
    }
    count_ += later.count_;
    for (const std::string& id : later.dropped_users_.ids()) dropped_users_.add(id);
    last_dropped_.clear();
    later.chunks_.clear();
    later.count_ = 0;
    last_user_id_ = -1;
  }

  // CSR by counting: rows counted, entries scattered into X's own arrays in file order, then each
  // row sorted by item (stably, so duplicates stay in file order and are summed in it). Peak memory
  // is the entries (8 bytes each, 16 in chunks with values other than 1) plus X (12 bytes per
  // nonzero) plus one count per user and thread: no sort of the whole list.
  // `reread` runs the same reading on another collector (used to name lines in --strict errors).
  // Rows of at most `rank_sort_max` entries are sorted by rank (detail::kRankSortMax).
  InteractionMatrix build(bool binarize, const std::function<void(Collector&)>& reread, bool allow_empty = false,
                          size_t rank_sort_max = detail::kRankSortMax) {
    if (count_ == 0 && allow_empty) {
      InteractionMatrix out;
      out.X.resize(0, 0);
      return out;
    }
    if (count_ == 0) {
      std::string why = summary_.lines == 0 ? "no data lines" : "no interactions left";
      if (summary_.dropped_below_min > 0) {
        why += fmt::format(" after --min-value {} dropped {} entries", *options_.min_value,
                           summary_.dropped_below_min);
      }
      throw DataError(fmt::format("'{}' has no interactions: {}", path_, why));
    }
    if (count_ > static_cast<size_t>(std::numeric_limits<int>::max())) {
      throw DataError(fmt::format("'{}' has {} interactions; at most 2^31 - 1 are supported", path_, count_));
    }
    if (numbered_) compact_numbered();
    InteractionMatrix out;
    const Index n = users.size();
    const Index p = known_items_ != nullptr ? known_items_->size() : items.size();
    SparseMatrix& X = out.X;
    X.resize(n, p);
    X.reserve(static_cast<Index>(count_));
    // The solvers' products stream these arrays (600 MB for 50M entries), written once here.
    prefer_huge_pages(X.innerIndexPtr(), sizeof(int) * count_, PageUse::kBulk);
    prefer_huge_pages(X.valuePtr(), sizeof(double) * count_, PageUse::kBulk);
    scatter_rows(X.outerIndexPtr(), X.innerIndexPtr(), X.valuePtr(), n);
    chunks_.clear();
    chunks_.shrink_to_fit();
    int* outer = X.outerIndexPtr();
    int* inner = X.innerIndexPtr();
    double* values = X.valuePtr();
    // Sort each row by item, keeping file order among equal items, and mark duplicates. A row is
    // sorted as keys (item << 32 | place in the row), which are distinct, so any sort keeps the file
    // order of duplicates; then its values follow their keys.
    std::vector<Index> duplicates_in_row(static_cast<size_t>(n), 0);
#pragma omp parallel
    {
      std::vector<std::uint64_t> keys, sorted;
      std::vector<double> row_values;
#pragma omp for schedule(dynamic, 256)
      for (Index r = 0; r < n; ++r) {
        const int b = outer[r], e = outer[r + 1];
        if (!std::is_sorted(inner + b, inner + e)) {
          const auto length = static_cast<size_t>(e - b);
          keys.resize(length);
          for (size_t i = 0; i < length; ++i) {
            keys[i] = (std::uint64_t{static_cast<std::uint32_t>(inner[b + static_cast<int>(i)])} << 32) | i;
          }
          const std::uint64_t* order = keys.data();  // the keys in increasing order
          if (length <= rank_sort_max) {
            sorted.resize(length);
            for (size_t i = 0; i < length; ++i) {
              const std::uint64_t key = keys[i];
              int rank = 0;
              for (size_t j = 0; j < length; ++j) rank += keys[j] < key;
              sorted[static_cast<size_t>(rank)] = key;
            }
            order = sorted.data();
          } else {
            std::sort(keys.begin(), keys.end());
          }
          row_values.assign(values + b, values + e);
          for (size_t i = 0; i < length; ++i) {
            inner[b + static_cast<int>(i)] = static_cast<int>(order[i] >> 32);
            values[b + static_cast<int>(i)] = row_values[order[i] & 0xFFFFFFFFu];
          }
        }
        for (int q = b + 1; q < e; ++q) duplicates_in_row[static_cast<size_t>(r)] += inner[q] == inner[q - 1];
      }
    }
    // Sum duplicates (in file order) and close the gaps, row by row in order.
    int write = 0;
    for (Index r = 0; r < n; ++r) {
      const int b = outer[r], e = outer[r + 1];
      outer[r] = write;
      if (duplicates_in_row[static_cast<size_t>(r)] > 0 && options_.strict) strict_error(r, inner, b, e, reread);
      summary_.duplicates += duplicates_in_row[static_cast<size_t>(r)];
      for (int q = b; q < e; ++q) {
        if (q > b && inner[q] == inner[q - 1]) {
          values[write - 1] += values[q];
          if (!std::isfinite(values[write - 1])) {
            throw DataError(fmt::format("'{}': the duplicate entries for user '{}', item '{}' sum to {}: too large to "
                                    "represent",
                                    path_, users.id(r), item_id(inner[q]), values[write - 1]));
          }
        } else {
          inner[write] = inner[q];
          values[write] = values[q];
          ++write;
        }
      }
    }
    outer[n] = write;
    X.resizeNonZeros(write);
    if (binarize) std::fill(values, values + write, 1.0);
    out.users = std::move(users);
    out.items = known_items_ != nullptr ? *known_items_ : std::move(items);
    return out;
  }

 private:
  // X's rows by counting (`outer`: n + 1 starts), every entry written to its row in file order. The
  // entries are cut into as many ranges as threads (in file order) for counting_scatter, which
  // gives the arrays one pass in file order writes, on any number of threads. The threads share the scattered writes and the
  // first touch of X's fresh pages, which took about half of this pass on one thread in a profile
  // of (d)'s read (50M entries; bench/README.md, (a) and (d)). At most 8 ranges, and none where a
  // range's counts (n ints) would outweigh its entries.
  void scatter_rows(int* outer, int* inner, double* values, Index n) const {
    const auto total = static_cast<std::int64_t>(count_);
    const int ranges = static_cast<int>(std::clamp<std::int64_t>(
        std::min<std::int64_t>(omp_get_max_threads(), total / std::max<std::int64_t>(n, 1)), 1, 8));
    // Range t holds the entries [from[t], from[t + 1]) in file order. Chunks are full but for the
    // last of each collector appended (append), so where each starts is counted.
    std::vector<std::int64_t> from(static_cast<size_t>(ranges) + 1);
    for (int t = 0; t <= ranges; ++t) from[static_cast<size_t>(t)] = total * t / ranges;
    std::vector<std::int64_t> chunk_start(chunks_.size() + 1, 0);
    for (size_t c = 0; c < chunks_.size(); ++c) chunk_start[c + 1] = chunk_start[c] + static_cast<std::int64_t>(chunks_[c].entries.size());
    const auto for_each_entry = [&](std::int64_t begin, std::int64_t end, auto&& visit) {
      size_t c = static_cast<size_t>(std::upper_bound(chunk_start.begin(), chunk_start.end(), begin) - chunk_start.begin()) - 1;
      for (std::int64_t at = begin; at < end; ++c) {
        const auto& chunk = chunks_[c];
        const auto offset = static_cast<size_t>(at - chunk_start[c]);
        const size_t stop = std::min(chunk.entries.size(), offset + static_cast<size_t>(end - at));
        for (size_t i = offset; i < stop; ++i) visit(chunk, i);
        at += static_cast<std::int64_t>(stop - offset);
      }
    };
    const auto range = [&](int t) { return std::pair{from[static_cast<size_t>(t)], from[static_cast<size_t>(t) + 1]}; };
    detail::counting_scatter(
        ranges, n, outer,
        [&](int t, int* count) {
          const auto [begin, end] = range(t);
          for_each_entry(begin, end, [count](const Chunk& chunk, size_t i) { ++count[chunk.entries[i].row]; });
        },
        [&](int t, int* next) {
          const auto [begin, end] = range(t);
          for_each_entry(begin, end, [&](const Chunk& chunk, size_t i) {
            const Entry& e = chunk.entries[i];
            const int at = next[e.row]++;
            inner[at] = e.col;
            values[at] = chunk.value(i);
          });
        });
  }

  // add_numbered's renumbering: the distinct rows (columns) that occur, in order, become users
  // (items) 0, 1, …; memory is one int per entry, never one per declared row.
  void compact_numbered() {
    const auto renumber = [this](int Entry::*field, IdMap& ids) {
      std::vector<int> present;
      present.reserve(count_);
      for (const auto& chunk : chunks_) {
        for (const Entry& e : chunk.entries) present.push_back(e.*field);
      }
      std::sort(present.begin(), present.end());
      present.erase(std::unique(present.begin(), present.end()), present.end());
      for (int number : present) ids.add(std::to_string(std::int64_t{number} + 1));
      for (auto& chunk : chunks_) {
        for (Entry& e : chunk.entries) e.*field = static_cast<int>(std::lower_bound(present.begin(), present.end(), e.*field) - present.begin());
      }
    };
    renumber(&Entry::row, users);
    renumber(&Entry::col, items);
  }

  int checked_index(Index index) const {
    if (index >= std::numeric_limits<int>::max()) {
      throw DataError(fmt::format("'{}': more than 2^31 - 1 users or items are not supported", path_));
    }
    return static_cast<int>(index);
  }

  const std::string& item_id(Index col) const {
    return known_items_ != nullptr ? known_items_->id(col) : items.id(col);
  }

  // --strict and row r has a duplicate: the first duplicated item of the row, its first two lines
  // (found by reading the file once more), and the error.
  [[noreturn]] void strict_error(Index r, const int* inner, int b, int e,
                                 const std::function<void(Collector&)>& reread) {
    int col = -1;
    for (int q = b + 1; q < e && col < 0; ++q) {
      if (inner[q] == inner[q - 1]) col = inner[q];
    }
    if (!reread) {
      throw DataError(fmt::format("'{}': duplicate entry for user '{}', item '{}' (its lines are not named: the input "
                              "cannot be read a second time); drop --strict to sum duplicates",
                              path_, users.id(r), item_id(col)));
    }
    InputSummary scratch;
    Collector again(path_, options_, known_items_, scratch);
    // The second reading sees the file's own numbers where this one renumbered them (Matrix Market).
    again.locate(numbered_ ? std::stoll(users.id(r)) - 1 : r, numbered_ ? std::stoll(item_id(col)) - 1 : col);
    reread(again);
    throw InputError(path_, again.located_line(1),
                     fmt::format("duplicate entry for user '{}', item '{}' (first on line {}); "
                                 "drop --strict to sum duplicates",
                                 users.id(r), item_id(col), again.located_line(0)));
  }

  std::string path_;
  const ReadOptions& options_;
  const IdMap* known_items_;
  InputSummary& summary_;
  bool ones_only_;  // the options binarise: every value is taken as 1 (after accept() has seen it)
  size_t chunk_entries_;
  std::vector<Chunk> chunks_;
  size_t count_ = 0;
  std::string last_user_;
  Index last_user_id_ = -1;
  bool numbered_ = false;
  bool locating_ = false;
  Index wanted_row_ = -1;
  Index wanted_col_ = -1;
  int located_ = 0;
  std::array<std::int64_t, 2> wanted_lines_{};
  std::vector<std::int64_t>* user_first_ = nullptr;
  std::vector<std::int64_t>* item_first_ = nullptr;
  std::int64_t key_base_ = 0;
  IdMap dropped_users_;  // users of dropped entries, in order of first appearance
  std::vector<std::int64_t> dropped_first_;
  std::string last_dropped_;
};

// The comment lines that standard input (or a pipe) without --sep may hold before its first data
// line, which decides the separator they are judged with (reads_as_interaction): up to this many
// bytes of them are kept until then; any beyond are skipped unjudged. Files are read with the
// separator found beforehand (detect_separator_of), so every comment line of a file is judged.
constexpr size_t kMaxPendingCommentBytes = size_t{1} << 20;

// Returns whether the input held a line that is not empty or a comment (the first such line is
// where the separator and the header are decided).
bool read_triplets(LineReader& reader, const ReadOptions& options, Collector& collector,
                   InputSummary& summary) {
  const std::string& path = reader.name();
  std::string sep = options.separator;
  bool first = true;
  std::string_view line;
  std::string_view fields[3];
  const auto judge = [&](std::string_view comment, std::int64_t number) {
    if (reads_as_interaction(comment, sep) && summary.commented_data_lines++ == 0) {
      summary.first_commented_data_file = path;
      summary.first_commented_data_line = number;
    }
  };
  std::vector<std::pair<std::int64_t, std::string>> pending;  // (line, comment) before the separator is known
  size_t pending_bytes = 0;
  bool pending_full = false;
  while (reader.next(line)) {
    const std::string_view content = trim(line);
    if (content.empty()) continue;
    if (content.front() == '#') {
      if (!sep.empty()) {
        judge(content, reader.line_number());
      } else if (!pending_full && may_read_as_interaction(content)) {
        pending_full = pending_bytes + content.size() > kMaxPendingCommentBytes;
        if (!pending_full) {
          pending.emplace_back(reader.line_number(), std::string(content));
          pending_bytes += content.size();
        }
      }
      continue;
    }
    if (first) {
      if (sep.empty()) sep = detect_separator(content);
      summary.separator = printable_separator(sep);
      for (const auto& [number, comment] : pending) judge(comment, number);
      pending = {};
    }
    // Fields are split from the whole line (each field trimmed): trimming the line first would
    // drop an empty first or last field that is delimited by tabs, and read the fields after it
    // shifted ('<TAB>b<TAB>2' as user 'b', item '2'; 'u<TAB>a<TAB>' as value 1).
    const std::string_view fielded = sep == " " ? content : line;
    if (first) {
      const size_t n = split(fielded, sep, fields, 3);
      summary.header = options.header ? *options.header : looks_like_header(fields, n);
      first = false;
      if (summary.header) continue;
    }
    const std::int64_t number = reader.line_number();
    const size_t n = split(fielded, sep, fields, 3);
    if (n < 2 || fields[0].empty() || fields[1].empty()) {
      throw InputError(path, number,
                       fmt::format("expected 'user{0}item[{0}value...]' separated by {1}, got '{2}'",
                                   sep == "\t" ? "<TAB>" : sep, printable_separator(sep), clip(line)));
    }
    ++summary.lines;
    double value = 1.0;  // a line without a value column holds 1, which --min-value may still drop
    std::string_view text = "1";
    if (n >= 3) {
      // Fields after the value (a timestamp) are ignored: split() stops after three.
      text = fields[2];
      if (const Parsed parsed = parse_double(text, value); parsed != Parsed::kNumber) {
        throw InputError(path, number, text.empty() ? fmt::format("the value field is empty (line '{}')", clip(line))
                                                    : fmt::format("value '{}' {} (line '{}')", clip(text),
                                                                  why_not_a_value(parsed), clip(line)));
      }
    }
    if ((n >= 3 || options.min_value) && !collector.accept(value, text, number)) {
      collector.dropped_entry_of(fields[0], number);
      continue;
    }
    collector.add(fields[0], fields[1], value, number);
  }
  return !first;
}

// Matrix Market rows and columns become the ids "1".."rows" and "1".."cols"; only those with an
// entry are kept (Collector::build), or, through a model's items, every item and the rows with one.
void read_matrix_market(LineReader& reader, Collector& collector, InputSummary& summary) {
  const std::string& path = reader.name();
  std::string_view line;
  if (!reader.next(line) || line.rfind("%%MatrixMarket", 0) != 0) {
    throw InputError(path, 1, "expected a '%%MatrixMarket matrix coordinate ...' banner");
  }
  std::string_view banner[5];
  const std::string banner_text(line);
  const size_t nb = split(banner_text, " ", banner, 5);
  if (banner[0] != "%%MatrixMarket") {  // not a longer word that begins so ("%%MatrixMarketXYZ")
    throw InputError(path, 1, fmt::format("expected a '%%MatrixMarket matrix coordinate ...' banner, got '{}'",
                                          clip(banner_text)));
  }
  if (nb < 5 || lower(banner[1]) != "matrix" || lower(banner[2]) != "coordinate") {
    throw InputError(path, 1, fmt::format("only 'matrix coordinate' files are supported, got '{}'",
                                          clip(banner_text)));
  }
  const std::string field = lower(banner[3]);
  const bool pattern = field == "pattern";
  const bool integer = field == "integer";
  if (!pattern && field != "real" && field != "integer") {
    throw InputError(path, 1, fmt::format("unsupported field type '{}' (real, integer or pattern)", field));
  }
  if (lower(banner[4]) != "general") {
    throw InputError(path, 1, fmt::format("unsupported symmetry '{}' (only 'general')", banner[4]));
  }
  std::string_view fields[4];  // one more than a line may hold, so that an extra field is seen
  std::int64_t rows = -1;
  std::int64_t cols = -1;
  std::int64_t declared = 0;
  std::int64_t seen = 0;
  summary.separator = "blanks";
  while (reader.next(line)) {
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '%') continue;
    const std::int64_t number = reader.line_number();
    const size_t n = split(content, " ", fields, 4);
    if (rows < 0) {
      // The declared sizes only bound the indices: nothing is allocated from them, so a header
      // that claims 10⁹ × 10⁹ costs nothing (the matrix keeps the rows and columns that occur).
      if (n != 3 || !parse_count(fields[0], rows) || !parse_count(fields[1], cols) ||
          !parse_count(fields[2], declared)) {
        throw InputError(path, number,
                         fmt::format("expected 'rows cols entries' (non-negative integers), got '{}'", clip(line)));
      }
      continue;
    }
    std::int64_t r = 0, j = 0;
    if (n != (pattern ? 2u : 3u) || !parse_count(fields[0], r) || !parse_count(fields[1], j)) {
      throw InputError(path, number, fmt::format("expected 'row col{}' with integer indices, got '{}'",
                                                 pattern ? "" : " value", clip(line)));
    }
    if (r < 1 || r > rows || j < 1 || j > cols) {
      throw InputError(path, number, fmt::format("index ({}, {}) outside the declared {} x {} matrix",
                                                 fields[0], fields[1], rows, cols));
    }
    ++seen;
    ++summary.lines;
    double value = 1.0;  // a pattern entry holds 1, which --min-value may still drop
    if (!pattern) {
      if (const Parsed parsed = parse_double(fields[2], value); parsed != Parsed::kNumber) {
        throw InputError(path, number, fmt::format("value '{}' {}", clip(fields[2]), why_not_a_value(parsed)));
      }
      if (integer && value != std::trunc(value)) {
        throw InputError(path, number,
                         fmt::format("value '{}' is not an integer, as the banner's field type 'integer' says",
                                     clip(fields[2])));
      }
    }
    if (!collector.accept(value, pattern ? std::string_view("1") : fields[2], number)) {
      collector.dropped_entry_of(std::to_string(r), number);
      continue;
    }
    if (collector.has_known_items()) {
      collector.add(std::to_string(r), std::to_string(j), value, number);
    } else {
      collector.add_numbered(r - 1, j - 1, value, number);
    }
  }
  if (rows < 0) throw InputError(path, reader.line_number(), "missing the 'rows cols entries' line");
  if (seen != declared) {
    throw InputError(path, reader.line_number(),
                     fmt::format("the header declares {} entries, the file has {}", declared, seen));
  }
}

// Reading one large file on several threads. The file is cut into byte ranges, one per thread,
// whose lines each go through their own Collector (the same checks; line numbers from the file's
// start, the newlines before each range counted first), and the collectors are appended in file
// order. That is the one-thread reading exactly: ids are numbered by first appearance (a later
// range's new ids follow all ids before it), entries stay in file order (duplicates sum in the same
// order), and the error reported is the first in the file (the first failing range's first).
// Returns false, having changed nothing, when the input is not a plain file large enough to share,
// or when the first range holds no data line (the file's first data line decides the header and
// must be read by the first range; the file is then read in one piece).
// `ranges` receives the number of ranges once they were read (also when one of them failed).
bool read_triplets_in_parallel(const std::string& path, const ReadOptions& options, const IdMap* known_items,
                               const detail::SharedReading& how, Collector& collector, InputSummary& summary,
                               int& ranges_read) {
  if (path == "-") return false;
  detail::FileFacts facts;
  try {
    facts = detail::file_facts(path);
  } catch (const Error&) {
    return false;  // the one-piece reading names the problem
  }
  if (!facts.regular || facts.compressed) return false;
  // At most one range per core: each range has id tables of its own (for numeric ids up to 64 MB).
  const int threads = how.cap_at_cores ? std::min(omp_get_max_threads(), omp_get_num_procs()) : omp_get_max_threads();
  const auto ranges = static_cast<int>(std::min<std::int64_t>(threads, facts.size / how.min_bytes_per_range));
  if (ranges < 2) return false;
  ReadOptions shared = options;
  if (shared.separator.empty()) shared.separator = detect_separator_of(path);
  const auto cut = [&](int r) { return static_cast<std::int64_t>(static_cast<long double>(facts.size) * r / ranges); };
  const auto count = static_cast<size_t>(ranges);
  std::vector<std::exception_ptr> failed(count);
  std::vector<std::int64_t> lines_before(count, 0);
#pragma omp parallel for schedule(static, 1)
  for (int r = 0; r < ranges - 1; ++r) {
    try {
      lines_before[static_cast<size_t>(r) + 1] = detail::count_newlines(path, cut(r), cut(r + 1));
    } catch (...) {
      failed[static_cast<size_t>(r)] = std::current_exception();
    }
  }
  for (const auto& e : failed) {
    if (e) std::rethrow_exception(e);
  }
  for (size_t r = 1; r < count; ++r) lines_before[r] += lines_before[r - 1];
  std::vector<ReadOptions> part_options(count, shared);
  for (size_t r = 1; r < count; ++r) part_options[r].header = false;  // only the file's first data line can be one
  std::vector<InputSummary> parts(count);
  std::vector<std::unique_ptr<Collector>> collectors(count);
  std::vector<char> saw_data(count, 0);
#pragma omp parallel for schedule(static, 1)
  for (int r = 0; r < ranges; ++r) {
    const auto i = static_cast<size_t>(r);
    try {
      collectors[i] = std::make_unique<Collector>(path, part_options[i], known_items, parts[i], how.chunk_entries);
      LineReader reader(path, cut(r), r + 1 == ranges ? -1 : cut(r + 1), lines_before[i]);
      saw_data[i] = read_triplets(reader, part_options[i], *collectors[i], parts[i]) ? 1 : 0;
    } catch (...) {
      failed[i] = std::current_exception();
    }
  }
  if (!saw_data[0] && !failed[0]) return false;
  ranges_read = ranges;
  // The ranges were opened one by one: a file replaced or written meanwhile mixed two versions.
  if (!detail::file_facts(path).same_version(facts)) {
    throw Error(fmt::format("cannot read '{}': it changed while it was being read", path));
  }
  for (const auto& e : failed) {
    if (e) std::rethrow_exception(e);
  }
  summary.separator = parts[0].separator;
  summary.header = parts[0].header;
  for (size_t r = 0; r < count; ++r) {
    summary.lines += parts[r].lines;
    summary.dropped_below_min += parts[r].dropped_below_min;
    summary.dropped_zero += parts[r].dropped_zero;
    if (summary.commented_data_lines == 0) {
      summary.first_commented_data_file = parts[r].first_commented_data_file;
      summary.first_commented_data_line = parts[r].first_commented_data_line;
    }
    summary.commented_data_lines += parts[r].commented_data_lines;
    collector.append(*collectors[r]);
    collectors[r].reset();
  }
  return true;
}

// Keeps the items with at least `min_users` users, and the users that still have an item;
// ids keep their relative order.
void drop_rare_items(InteractionMatrix& data, Index min_users, InputSummary& summary, const std::string& path) {
  const SparseMatrix& X = data.X;
  std::vector<Index> users_of(static_cast<size_t>(X.cols()), 0);
  for (Index q = 0; q < X.nonZeros(); ++q) ++users_of[static_cast<size_t>(X.innerIndexPtr()[q])];
  std::vector<int> new_col(static_cast<size_t>(X.cols()), -1);
  IdMap items;
  for (Index j = 0; j < X.cols(); ++j) {
    if (users_of[static_cast<size_t>(j)] >= min_users) new_col[static_cast<size_t>(j)] = static_cast<int>(items.add(data.items.id(j)));
  }
  summary.dropped_items = X.cols() - items.size();
  std::vector<Eigen::Triplet<double, int>> kept;
  IdMap users;
  for (Index u = 0; u < X.rows(); ++u) {
    bool any = false;
    for (SparseMatrix::InnerIterator it(X, u); it; ++it) any = any || new_col[static_cast<size_t>(it.col())] >= 0;
    if (!any) continue;
    const auto row = static_cast<int>(users.add(data.users.id(u)));
    for (SparseMatrix::InnerIterator it(X, u); it; ++it) {
      const int c = new_col[static_cast<size_t>(it.col())];
      if (c >= 0) kept.emplace_back(row, c, it.value());
    }
  }
  if (kept.empty()) {
    throw DataError(fmt::format("'{}' has no interactions left after --min-item-users {}", path, min_users));
  }
  SparseMatrix Y(users.size(), items.size());
  Y.setFromTriplets(kept.begin(), kept.end());
  data.X = std::move(Y);
  data.users = std::move(users);
  data.items = std::move(items);
}

}  // namespace

std::string parse_separator(const std::string& name) {
  if (name == "tab" || name == "\\t") return "\t";
  if (name == "comma") return ",";
  if (name == "space" || name == "blank" || name == "blanks") return " ";
  return name;
}

InputFormat parse_input_format(const std::string& name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "triplets" || name == "csv" || name == "tsv") return InputFormat::kTriplets;
  if (name == "movielens") return InputFormat::kMovieLens;
  if (name == "lastfm") return InputFormat::kLastFm;
  if (name == "mtx") return InputFormat::kMatrixMarket;
  throw InvalidArgument(fmt::format(
      "unknown input format '{}' (valid: auto, triplets, movielens, lastfm, mtx)", name));
}

const char* format_name(InputFormat format) {
  switch (format) {
    case InputFormat::kAuto: return "auto";
    case InputFormat::kTriplets: return "triplets";
    case InputFormat::kMovieLens: return "movielens";
    case InputFormat::kLastFm: return "lastfm";
    case InputFormat::kMatrixMarket: return "mtx";
  }
  return "?";
}

std::string detect_separator_of(const std::string& path) {
  LineReader reader(path);
  std::string_view line;
  while (reader.next(line)) {
    const std::string_view content = trim(line);
    if (!content.empty() && content.front() != '#') return detect_separator(content);
  }
  return " ";
}

InputFormat detect_input_format(const std::string& path) {
  LineReader reader(path);
  return detect_format(path, reader);
}

namespace {

LineReader open_piece(const InputPiece& piece) {
  return piece.begin == 0 && piece.end < 0 ? LineReader(piece.path)
                                           : LineReader(piece.path, piece.begin, piece.end, piece.lines_before);
}

}  // namespace

bool holds_data_line(const InputPiece& piece) {
  LineReader reader = open_piece(piece);
  std::string_view line;
  while (reader.next(line)) {
    const std::string_view content = trim(line);
    if (!content.empty() && content.front() != '#') return true;
  }
  return false;
}

PieceRead read_interaction_pieces(const std::vector<InputPiece>& pieces, const ReadOptions& options) {
  if (options.separator.empty()) throw InvalidArgument("read_interaction_pieces needs the separator");
  if (options.format == InputFormat::kMatrixMarket || options.format == InputFormat::kAuto) {
    throw InvalidArgument("read_interaction_pieces reads triplet formats, resolved by the caller");
  }
  PieceRead result;
  InputSummary& summary = result.summary;
  summary.format = format_name(options.format);
  summary.min_value = options.min_value;
  summary.separator = printable_separator(options.separator);
  const auto read = [&](Collector& collector, InputSummary& into) {
    bool reported = false;  // into.header holds the header check of an earlier piece
    for (const InputPiece& piece : pieces) {
      LineReader reader = open_piece(piece);
      collector.set_source(reader.name(), piece.key_base);
      ReadOptions o = options;
      const bool checks_header = piece.begin == 0 || !piece.data_before;  // holds the file's first data line
      if (!checks_header) o.header = false;
      const bool header_before = into.header;
      const bool saw_data = read_triplets(reader, o, collector, into);
      if (reported) {
        into.header = header_before;
      } else if (saw_data && checks_header) {
        reported = true;
      }
    }
  };
  Collector collector(pieces.empty() ? std::string() : pieces.front().path, options, nullptr, summary);
  collector.record_first_appearances(&result.user_first, &result.item_first);
  read(collector, summary);
  const std::function<void(Collector&)> reread = [&](Collector& again) {
    InputSummary scratch;
    read(again, scratch);
  };
  result.data = collector.build(false, reread, /*allow_empty=*/true);
  result.dropped_users = collector.dropped_users();
  result.dropped_first = collector.dropped_first();
  return result;
}

std::vector<std::string> reading_warnings(const InputSummary& s) {
  std::vector<std::string> warnings;
  if (s.commented_data_lines == 1) {
    warnings.push_back(fmt::format("{}:{}: this line begins with '#' and is skipped as a comment, but it reads as an "
                                   "interaction: a user id cannot begin with '#'; rename the user if it is data",
                                   s.first_commented_data_file, s.first_commented_data_line));
  } else if (s.commented_data_lines > 1) {
    warnings.push_back(fmt::format("{} lines of {} begin with '#' and are skipped as comments, but read as interactions "
                                   "(the first: {}:{}): a user id cannot begin with '#'; rename the users if they are data",
                                   s.commented_data_lines, s.path == "-" ? detail::kStandardInputName : "'" + s.path + "'",
                                   s.first_commented_data_file, s.first_commented_data_line));
  }
  return warnings;
}

ReadResult read_interactions(const std::string& path, const ReadOptions& options,
                             const IdMap* known_items) {
  return detail::read_interactions_shared(path, options, known_items, detail::SharedReading{});
}

ReadResult detail::read_interactions_shared(const std::string& path, const ReadOptions& options,
                                            const IdMap* known_items, const SharedReading& how, int* ranges) {
  int ranges_read = 1;
  if (ranges != nullptr) *ranges = 1;
  if (options.min_value && !std::isfinite(*options.min_value)) {
    throw InvalidArgument(fmt::format("--min-value must be a finite number, got {}", *options.min_value));
  }
  LineReader reader(path);
  const InputFormat format = options.format == InputFormat::kAuto ? detect_format(path, reader) : options.format;
  // Options of another layout than the file's would be ignored, or read the file wrongly (a
  // Matrix Market banner taken for a header, its size line for an interaction).
  if (format == InputFormat::kMatrixMarket && (!options.separator.empty() || options.header)) {
    throw InvalidArgument(fmt::format("'{}' is read as Matrix Market, whose layout is fixed: --sep, --header and "
                                      "--no-header apply to triplet files",
                                      reader.name()));
  }
  if (format != InputFormat::kMatrixMarket && reader.peek().rfind("%%MatrixMarket", 0) == 0) {
    throw InvalidArgument(fmt::format("'{}' begins with a Matrix Market banner: read it with --format mtx (or auto), "
                                      "not as {}",
                                      reader.name(), format_name(format)));
  }
  ReadResult result;
  InputSummary& summary = result.summary;
  summary.path = path;
  summary.format = format_name(format);
  summary.min_value = options.min_value;
  ReadOptions effective = options;
  if (format == InputFormat::kLastFm && effective.separator.empty()) effective.separator = std::string(1, '\t');
  // Resolved before reading, so that binarised data is collected as 1s (Chunk: no values stored).
  effective.binarize = options.binarize.value_or(format == InputFormat::kMovieLens);
  // The separator of a file, found before reading it as its byte ranges find it: the same one its
  // first data line gives, known from the first line on, so that comment lines before that one are
  // judged too (read_triplets; standard input and pipes keep them until it comes).
  if (format != InputFormat::kMatrixMarket && effective.separator.empty() && reader.rereadable()) {
    effective.separator = detect_separator_of(path);
  }
  const auto read = [&](LineReader& from, Collector& collector, InputSummary& into) {
    if (format == InputFormat::kMatrixMarket) {
      read_matrix_market(from, collector, into);
    } else {
      read_triplets(from, effective, collector, into);
    }
  };
  Collector collector(reader.name(), effective, known_items, summary, how.chunk_entries);
  bool shared = false;
  try {
    shared = format != InputFormat::kMatrixMarket &&
             read_triplets_in_parallel(path, effective, known_items, how, collector, summary, ranges_read);
  } catch (...) {
    if (ranges != nullptr) *ranges = ranges_read;
    throw;
  }
  if (ranges != nullptr) *ranges = ranges_read;
  if (!shared) read(reader, collector, summary);
  summary.binarized = *effective.binarize;
  std::function<void(Collector&)> reread;  // a second reading, to name the lines of a --strict error
  if (reader.rereadable()) {
    reread = [&](Collector& again) {
      LineReader second(path);
      InputSummary scratch;
      read(second, again, scratch);
    };
  }
  result.data = collector.build(summary.binarized, reread, /*allow_empty=*/false, how.rank_sort_max);
  collector.users_without_entries(result.data.users, summary);
  summary.min_item_users = options.min_item_users;
  if (options.min_item_users > 1) {
    if (known_items != nullptr) throw InvalidArgument("--min-item-users cannot be used with a model's item ids");
    drop_rare_items(result.data, options.min_item_users, summary, path);
  }
  return result;
}

}  // namespace linsim
