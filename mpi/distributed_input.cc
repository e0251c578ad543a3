#include "distributed_input.h"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "data/line_reader.h"

namespace linsim::mpi {
namespace fs = std::filesystem;
namespace {

// The messages between ranks: plain values and length-prefixed strings in a byte buffer.
class Packer {
 public:
  template <typename T>
  void put(T value) {
    const char* p = reinterpret_cast<const char*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put(std::string_view text) {
    put(static_cast<std::int64_t>(text.size()));
    bytes.insert(bytes.end(), text.begin(), text.end());
  }
  std::vector<char> bytes;
};

class Unpacker {
 public:
  Unpacker(const char* begin, size_t size) : at_(begin), end_(begin + size) {}
  explicit Unpacker(const std::vector<char>& bytes) : Unpacker(bytes.data(), bytes.size()) {}
  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  std::string_view text() {
    const auto n = static_cast<size_t>(get<std::int64_t>());
    std::string_view s(at_, n);
    at_ += n;
    return s;
  }
  bool done() const { return at_ >= end_; }

 private:
  const char* at_;
  const char* end_;
};

struct FileInfo {
  std::string path;
  std::int64_t size = 0;
  bool compressed = false;
};

// A piece's first-appearance keys: the file's number above the line number.
constexpr int kFileShift = 40;

FileInfo describe(const std::string& path) {
  const detail::FileFacts facts = detail::file_facts(path);
  if (!facts.regular) throw Error(fmt::format("'{}' is not a regular file (linsim-mpi splits files by byte ranges)", path));
  if (facts.size >= (std::int64_t{1} << kFileShift)) {
    throw Error(fmt::format("'{}' is larger than 1 TiB: split it into parts", path));
  }
  FileInfo f;
  f.path = path;
  f.size = facts.size;
  f.compressed = facts.compressed;
  return f;
}

// Ids with their first-appearance keys (and a count) from every rank, merged: each id once, with
// its smallest key and the summed count, in order of the keys.
struct Merged {
  std::vector<char> storage;  // the gathered bytes the ids point into
  std::vector<std::string_view> ids;
  std::vector<std::int64_t> counts;
};

Merged merge_first_appearances(const IdMap& local, const std::vector<std::int64_t>& first,
                               const std::vector<std::int64_t>& counts, const MpiCommunicator& comm) {
  Packer out;
  for (Index i = 0; i < local.size(); ++i) {
    out.put(first[static_cast<size_t>(i)]);
    out.put(counts[static_cast<size_t>(i)]);
    out.put(std::string_view(local.id(i)));
  }
  Merged m;
  m.storage = comm.allgather(out.bytes);
  struct Entry {
    std::int64_t key;
    std::int64_t count;
  };
  std::unordered_map<std::string_view, Entry> seen;
  Unpacker in(m.storage);
  while (!in.done()) {
    const auto key = in.get<std::int64_t>();
    const auto count = in.get<std::int64_t>();
    const std::string_view id = in.text();
    auto [it, inserted] = seen.try_emplace(id, Entry{key, count});
    if (!inserted) {
      it->second.key = std::min(it->second.key, key);
      it->second.count += count;
    }
  }
  std::vector<std::pair<std::int64_t, std::string_view>> order;
  order.reserve(seen.size());
  for (const auto& [id, e] : seen) order.emplace_back(e.key, id);
  std::sort(order.begin(), order.end());
  m.ids.reserve(order.size());
  m.counts.reserve(order.size());
  for (const auto& [key, id] : order) {
    m.ids.push_back(id);
    m.counts.push_back(seen.at(id).count);
  }
  return m;
}

SparseMatrix csr(Index rows, Index cols, const std::vector<int>& outer, const std::vector<int>& inner,
                 const std::vector<double>& values) {
  SparseMatrix X(rows, cols);
  X.reserve(static_cast<Index>(inner.size()));
  std::copy(outer.begin(), outer.end(), X.outerIndexPtr());
  std::copy(inner.begin(), inner.end(), X.innerIndexPtr());
  std::copy(values.begin(), values.end(), X.valuePtr());
  X.resizeNonZeros(static_cast<Index>(inner.size()));
  return X;
}

}  // namespace

std::vector<std::string> input_files(const std::string& input) {
  if (input == "-") {
    throw InvalidArgument("standard input cannot be split between ranks: give a file, a directory of parts or a glob");
  }
  std::error_code ec;
  const fs::file_status status = fs::status(input, ec);
  std::vector<std::string> files;
  if (fs::is_directory(status)) {
    for (const auto& entry : fs::directory_iterator(input, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name[0] == '.' || name[0] == '_') continue;
      std::error_code type_ec;
      if (entry.is_regular_file(type_ec)) files.push_back(entry.path().string());
    }
    if (ec) throw Error(fmt::format("cannot list '{}': {}", input, ec.message()));
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      throw Error(fmt::format("'{}' is a directory without part files (regular files whose names do not start with "
                              "'.' or '_')",
                              input));
    }
    return files;
  }
  if (!fs::exists(status) && input.find_first_of("*?[") != std::string::npos) {
    glob_t matches{};
    const int rc = glob(input.c_str(), 0, nullptr, &matches);
    for (size_t i = 0; rc == 0 && i < matches.gl_pathc; ++i) {
      std::error_code type_ec;
      if (fs::is_regular_file(matches.gl_pathv[i], type_ec)) files.emplace_back(matches.gl_pathv[i]);
    }
    globfree(&matches);
    if (files.empty()) throw Error(fmt::format("no file matches '{}'", input));
    std::sort(files.begin(), files.end());
    return files;
  }
  if (!fs::exists(status)) throw Error(fmt::format("cannot open '{}': {}", input, std::strerror(ENOENT)));
  return {input};
}

DistributedInput read_distributed(const std::string& input, const ReadOptions& options_in,
                                  const MpiCommunicator& comm) {
  const int rank = comm.rank();
  const int ranks = comm.size();
  ReadOptions options = options_in;
  if (options.min_value && !std::isfinite(*options.min_value)) {
    throw InvalidArgument(fmt::format("--min-value must be a finite number, got {}", *options.min_value));
  }

  // 1. The files, the format and the separator, decided once (on rank 0) for every rank.
  std::string plan;
  collectively(comm, [&] {
    if (rank != 0) return;
    const std::vector<std::string> paths = input_files(input);
    // Every file looked at before any is read: a named pipe, read once to tell the format, would
    // then be opened again for its separator and wait for a writer for ever.
    std::vector<FileInfo> files;
    for (const std::string& path : paths) files.push_back(describe(path));
    const InputFormat format = options.format == InputFormat::kAuto ? detect_input_format(paths[0]) : options.format;
    if (format == InputFormat::kMatrixMarket) {
      throw InvalidArgument(fmt::format("'{}': Matrix Market input is read by one process ('linsim fit'); linsim-mpi "
                                        "reads triplet files (user, item[, value])",
                                        paths[0]));
    }
    std::string separator = options.separator;
    if (format == InputFormat::kLastFm && separator.empty()) separator = "\t";
    if (separator.empty()) separator = detect_separator_of(paths[0]);
    Packer out;
    out.put(static_cast<std::int32_t>(format));
    out.put(std::string_view(separator));
    out.put(static_cast<std::int64_t>(paths.size()));
    for (const FileInfo& f : files) {
      out.put(std::string_view(f.path));
      out.put(f.size);
      out.put(static_cast<char>(f.compressed));
    }
    plan.assign(out.bytes.begin(), out.bytes.end());
  }, /*for_all=*/true);
  plan = comm.broadcast(plan, 0);
  std::vector<FileInfo> files;
  {
    Unpacker in(plan.data(), plan.size());
    options.format = static_cast<InputFormat>(in.get<std::int32_t>());
    options.separator = std::string(in.text());
    const auto count = in.get<std::int64_t>();
    for (std::int64_t i = 0; i < count; ++i) {
      FileInfo f;
      f.path = std::string(in.text());
      f.size = in.get<std::int64_t>();
      f.compressed = in.get<char>() != 0;
      files.push_back(std::move(f));
    }
  }

  // 2. This rank's pieces: its share of the bytes of the files' concatenation; a compressed file
  //    goes whole to the rank whose share holds its first byte. Line numbers continue across the
  //    ranks that share a file (newlines counted, then summed over the ranks before).
  std::int64_t total = 0;
  for (const FileInfo& f : files) total += f.size;
  const auto share = [&](int r) {
    return static_cast<std::int64_t>(static_cast<long double>(total) * r / ranks);
  };
  const std::int64_t lo = share(rank), hi = share(rank + 1);
  std::vector<InputPiece> pieces;
  std::vector<size_t> piece_file;
  std::vector<std::int64_t> newlines(files.size(), 0);
  collectively(comm, [&] {
    std::int64_t start = 0;
    for (size_t f = 0; f < files.size(); ++f) {
      const std::int64_t s = start, e = start + files[f].size;
      start = e;
      if (s == e) continue;
      InputPiece piece;
      piece.path = files[f].path;
      piece.key_base = static_cast<std::int64_t>(f) << kFileShift;
      if (files[f].compressed) {
        if (s < lo || s >= hi) continue;
      } else {
        const std::int64_t b = std::max(lo, s), en = std::min(hi, e);
        if (b >= en) continue;
        piece.begin = b - s;
        piece.end = en == e ? -1 : en - s;
        newlines[f] = detail::count_newlines(piece.path, piece.begin, en - s);
      }
      pieces.push_back(std::move(piece));
      piece_file.push_back(f);
    }
  });
  {
    std::vector<std::int64_t> before = newlines;
    comm.exclusive_prefix(before);
    for (size_t i = 0; i < pieces.size(); ++i) pieces[i].lines_before = before[piece_file[i]];
  }
  // A file's first data line is checked for a header, wherever it is: comments at a file's start
  // can fill the ranges of the first ranks that share it. Which ranks hold data lines of each file
  // (a line of each piece is read, more only where a piece starts with comments or blank lines);
  // the globally first data line, the lowest rank's with any, decides the summary's header.
  bool holds_first_data_line = false;
  {
    std::vector<std::int64_t> data_in(files.size(), 0);
    collectively(comm, [&] {
      for (size_t i = 0; i < pieces.size(); ++i) data_in[piece_file[i]] = holds_data_line(pieces[i]) ? 1 : 0;
    });
    std::int64_t any = 0;
    for (std::int64_t d : data_in) any |= d;
    std::vector<std::int64_t> before = data_in;
    before.push_back(any);
    comm.exclusive_prefix(before);
    for (size_t i = 0; i < pieces.size(); ++i) pieces[i].data_before = before[piece_file[i]] > 0;
    holds_first_data_line = any != 0 && before.back() == 0;
  }

  // 3. Parse: every line through the single-process reader's checks. Binarising is resolved
  // first, as read_interactions does: the pieces then collect 1s (and store no values).
  const bool binarize = options.binarize.value_or(options.format == InputFormat::kMovieLens);
  ReadOptions parse = options;
  parse.binarize = binarize;
  PieceRead read;
  collectively(comm, [&] { read = read_interaction_pieces(pieces, parse); });
  const SparseMatrix& L = read.data.X;

  // 4. Items numbered globally by first appearance.
  DistributedInput out;
  const Merged items = merge_first_appearances(read.data.items, read.item_first,
                                               std::vector<std::int64_t>(read.item_first.size(), 0), comm);
  for (const std::string_view id : items.ids) out.items.add(id);
  const Index p = out.items.size();
  std::vector<int> global_col(static_cast<size_t>(read.data.items.size()));
  for (Index j = 0; j < read.data.items.size(); ++j) {
    global_col[static_cast<size_t>(j)] = static_cast<int>(*out.items.find(read.data.items.id(j)));
  }

  // 5. Users numbered globally by first appearance, then split into consecutive ranges of about
  //    equal numbers of interactions, one per rank.
  std::vector<std::int64_t> row_nnz(static_cast<size_t>(read.data.users.size()));
  for (Index u = 0; u < read.data.users.size(); ++u) row_nnz[static_cast<size_t>(u)] = L.outerIndexPtr()[u + 1] - L.outerIndexPtr()[u];
  const Merged users = merge_first_appearances(read.data.users, read.user_first, row_nnz, comm);
  const auto n_all = static_cast<Index>(users.ids.size());
  std::int64_t entries = 0;
  for (std::int64_t c : users.counts) entries += c;
  std::vector<Index> boundary(static_cast<size_t>(ranks) + 1, n_all);
  {
    boundary[0] = 0;
    std::int64_t seen = 0;
    int r = 1;
    for (Index g = 0; g < n_all && r < ranks; ++g) {
      while (r < ranks && seen >= static_cast<std::int64_t>(static_cast<long double>(entries) * r / ranks)) {
        boundary[static_cast<size_t>(r++)] = g;
      }
      seen += users.counts[static_cast<size_t>(g)];
    }
  }
  const auto owner = [&](Index g) {
    return static_cast<int>(std::upper_bound(boundary.begin(), boundary.end(), g) - boundary.begin()) - 1;
  };
  std::unordered_map<std::string_view, Index> user_index;
  user_index.reserve(users.ids.size());
  for (Index g = 0; g < n_all; ++g) user_index.emplace(users.ids[static_cast<size_t>(g)], g);
  // Users whose entries were all dropped (0 or below --min-value) on every rank: each rank's
  // dropped users that no rank kept, merged like the users themselves (each once, in order of
  // first appearance), as read_interactions counts them.
  Merged without_entries;
  {
    IdMap candidates;
    std::vector<std::int64_t> first_keys;
    for (Index i = 0; i < read.dropped_users.size(); ++i) {
      if (user_index.count(read.dropped_users.id(i)) != 0) continue;
      candidates.add(read.dropped_users.id(i));
      first_keys.push_back(read.dropped_first[static_cast<size_t>(i)]);
    }
    without_entries = merge_first_appearances(candidates, first_keys, std::vector<std::int64_t>(first_keys.size(), 0), comm);
  }

  // 6. Every partial row to its user's rank.
  std::vector<std::vector<char>> outgoing(static_cast<size_t>(ranks));
  {
    std::vector<Packer> packers(static_cast<size_t>(ranks));
    for (Index u = 0; u < L.rows(); ++u) {
      const Index g = user_index.at(read.data.users.id(u));
      Packer& to = packers[static_cast<size_t>(owner(g))];
      to.put(static_cast<std::int64_t>(g));
      to.put(static_cast<std::int64_t>(L.outerIndexPtr()[u + 1] - L.outerIndexPtr()[u]));
      for (SparseMatrix::InnerIterator it(L, u); it; ++it) {
        to.put(static_cast<std::int32_t>(global_col[static_cast<size_t>(it.col())]));
        to.put(it.value());
      }
    }
    for (int r = 0; r < ranks; ++r) outgoing[static_cast<size_t>(r)] = std::move(packers[static_cast<size_t>(r)].bytes);
  }
  const std::vector<std::vector<char>> incoming = comm.exchange(outgoing);
  outgoing.clear();

  // 7. This rank's rows: the partial rows of each user in rank order (which is the input's order),
  //    sorted by item stably, duplicates summed in that order (or refused with --strict), binarised.
  const Index first = boundary[static_cast<size_t>(rank)];
  const Index n_mine = boundary[static_cast<size_t>(rank) + 1] - first;
  std::vector<int> outer(static_cast<size_t>(n_mine) + 1, 0);
  for (const auto& bytes : incoming) {
    Unpacker in(bytes);
    while (!in.done()) {
      const auto g = in.get<std::int64_t>();
      const auto count = in.get<std::int64_t>();
      outer[static_cast<size_t>(g - first) + 1] += static_cast<int>(count);
      for (std::int64_t q = 0; q < count; ++q) {
        in.get<std::int32_t>();
        in.get<double>();
      }
    }
  }
  for (Index u = 0; u < n_mine; ++u) outer[static_cast<size_t>(u) + 1] += outer[static_cast<size_t>(u)];
  std::vector<int> inner(static_cast<size_t>(outer.back()));
  std::vector<double> values(inner.size());
  {
    std::vector<int> next(outer.begin(), outer.end() - 1);
    for (const auto& bytes : incoming) {
      Unpacker in(bytes);
      while (!in.done()) {
        const auto g = in.get<std::int64_t>();
        const auto count = in.get<std::int64_t>();
        int& at = next[static_cast<size_t>(g - first)];
        for (std::int64_t q = 0; q < count; ++q, ++at) {
          inner[static_cast<size_t>(at)] = in.get<std::int32_t>();
          values[static_cast<size_t>(at)] = in.get<double>();
        }
      }
    }
  }
  std::int64_t merged = 0;
  collectively(comm, [&] {
    std::vector<std::pair<int, double>> row;
    int write = 0;
    for (Index u = 0; u < n_mine; ++u) {
      const int b = outer[static_cast<size_t>(u)], e = outer[static_cast<size_t>(u) + 1];
      row.clear();
      for (int q = b; q < e; ++q) row.emplace_back(inner[static_cast<size_t>(q)], values[static_cast<size_t>(q)]);
      // A row from one rank is usually in item order already (it is when one rank read it all).
      const auto by_item = [](const auto& x, const auto& y) { return x.first < y.first; };
      if (!std::is_sorted(row.begin(), row.end(), by_item)) std::stable_sort(row.begin(), row.end(), by_item);
      outer[static_cast<size_t>(u)] = write;
      for (size_t i = 0; i < row.size(); ++i) {
        if (i > 0 && row[i].first == row[i - 1].first) {
          const std::string_view user = users.ids[static_cast<size_t>(first + u)];
          const std::string& item = out.items.id(row[i].first);
          if (options.strict) {
            throw Error(fmt::format("'{}': duplicate entry for user '{}', item '{}' (in the parts of two ranks); drop "
                                    "--strict to sum duplicates",
                                    input, user, item));
          }
          ++merged;
          values[static_cast<size_t>(write) - 1] += row[i].second;
          if (!std::isfinite(values[static_cast<size_t>(write) - 1])) {
            throw Error(fmt::format("'{}': the duplicate entries for user '{}', item '{}' sum to {}: too large to "
                                    "represent",
                                    input, user, item, values[static_cast<size_t>(write) - 1]));
          }
        } else {
          inner[static_cast<size_t>(write)] = row[i].first;
          values[static_cast<size_t>(write)] = row[i].second;
          ++write;
        }
      }
    }
    outer[static_cast<size_t>(n_mine)] = write;
    inner.resize(static_cast<size_t>(write));
    values.resize(static_cast<size_t>(write));
    if (binarize) std::fill(values.begin(), values.end(), 1.0);
  });

  // 8. The summary, totalled.
  InputSummary& summary = out.summary;
  {
    std::vector<std::int64_t> counts = {read.summary.lines, read.summary.dropped_below_min, read.summary.dropped_zero,
                                        read.summary.duplicates + merged};
    comm.sum(counts.data(), counts.size());
    summary.lines = counts[0];
    summary.dropped_below_min = counts[1];
    summary.dropped_zero = counts[2];
    summary.duplicates = counts[3];
    summary.users_without_entries = static_cast<std::int64_t>(without_entries.ids.size());
    for (size_t i = 0; i < std::min<size_t>(3, without_entries.ids.size()); ++i) {
      summary.users_without_entries_examples.emplace_back(without_entries.ids[i]);
    }
    summary.header = comm.sum(static_cast<std::int64_t>(holds_first_data_line && read.summary.header)) != 0;
    // The comment lines that read as interactions: the first is the lowest rank's (ranks hold the
    // file's pieces in order), as one reading of the whole file finds it.
    std::vector<std::int64_t> firsts(static_cast<size_t>(comm.size()), 0);
    firsts[static_cast<size_t>(comm.rank())] = read.summary.first_commented_data_line;
    comm.sum(firsts.data(), firsts.size());
    summary.commented_data_lines = comm.sum(read.summary.commented_data_lines);
    for (int r = 0; r < comm.size(); ++r) {
      if (const std::int64_t line = firsts[static_cast<size_t>(r)]; line > 0) {
        summary.first_commented_data_line = line;
        summary.first_commented_data_file = comm.broadcast(read.summary.first_commented_data_file, r);
        break;
      }
    }
  }
  summary.path = input;
  summary.format = format_name(options.format);
  summary.separator = read.summary.separator;
  summary.binarized = binarize;
  summary.min_value = options.min_value;
  summary.min_item_users = options.min_item_users;
  const std::int64_t nnz_all = comm.sum(static_cast<std::int64_t>(inner.size()));
  if (nnz_all == 0) {
    std::string why = summary.lines == 0 ? "no data lines" : "no interactions left";
    if (summary.dropped_below_min > 0) {
      why += fmt::format(" after --min-value {} dropped {} entries", *options.min_value, summary.dropped_below_min);
    }
    throw Error(fmt::format("'{}' has no interactions: {}", input, why));
  }
  if (nnz_all > std::numeric_limits<int>::max() || n_all > std::numeric_limits<int>::max()) {
    throw Error(fmt::format("'{}' has {} interactions of {} users; at most 2^31 - 1 of each are supported", input,
                            nnz_all, n_all));
  }

  // 9. --min-item-users: items with too few users go, then users left without items; the rest
  //    keep their order.
  if (options.min_item_users > 1) {
    std::vector<std::int64_t> users_of(static_cast<size_t>(p), 0);
    for (int j : inner) ++users_of[static_cast<size_t>(j)];
    comm.sum(users_of.data(), users_of.size());
    std::vector<int> new_col(static_cast<size_t>(p), -1);
    IdMap kept_items;
    for (Index j = 0; j < p; ++j) {
      if (users_of[static_cast<size_t>(j)] >= options.min_item_users) {
        new_col[static_cast<size_t>(j)] = static_cast<int>(kept_items.add(out.items.id(j)));
      }
    }
    summary.dropped_items = p - kept_items.size();
    std::vector<int> outer2 = {0}, inner2;
    std::vector<double> values2;
    std::vector<Index> kept_users;
    for (Index u = 0; u < n_mine; ++u) {
      const size_t before = inner2.size();
      for (int q = outer[static_cast<size_t>(u)]; q < outer[static_cast<size_t>(u) + 1]; ++q) {
        const int c = new_col[static_cast<size_t>(inner[static_cast<size_t>(q)])];
        if (c < 0) continue;
        inner2.push_back(c);
        values2.push_back(values[static_cast<size_t>(q)]);
      }
      if (inner2.size() == before) continue;
      kept_users.push_back(first + u);
      outer2.push_back(static_cast<int>(inner2.size()));
    }
    if (comm.sum(static_cast<std::int64_t>(inner2.size())) == 0) {
      throw Error(fmt::format("'{}' has no interactions left after --min-item-users {}", input, options.min_item_users));
    }
    for (Index g : kept_users) out.users.add(users.ids[static_cast<size_t>(g)]);
    out.items = std::move(kept_items);
    out.X = csr(static_cast<Index>(kept_users.size()), out.items.size(), outer2, inner2, values2);
  } else {
    for (Index g = first; g < first + n_mine; ++g) out.users.add(users.ids[static_cast<size_t>(g)]);
    out.X = csr(n_mine, p, outer, inner, values);
  }
  out.first_user = static_cast<Index>(comm.exclusive_prefix(static_cast<std::int64_t>(out.users.size())));
  out.n_users = static_cast<Index>(comm.sum(static_cast<std::int64_t>(out.users.size())));
  out.nnz = static_cast<Index>(comm.sum(static_cast<std::int64_t>(out.X.nonZeros())));
  return out;
}

}  // namespace linsim::mpi
