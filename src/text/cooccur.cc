#include "linsim/text/cooccur.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <span>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <queue>
#include <set>

#include <fmt/format.h>
#include <omp.h>

#include "linsim/core/error.h"
#include "linsim/core/random.h"
#include "linsim/io/atomic_output.h"

namespace linsim {

DistanceWeight parse_distance_weight(const std::string& name) {
  if (name == "none") return DistanceWeight::kNone;
  if (name == "harmonic") return DistanceWeight::kHarmonic;
  if (name == "linear") return DistanceWeight::kLinear;
  throw InvalidArgument(fmt::format("--distance-weight must be none, harmonic or linear, got '{}'", name));
}

const char* distance_weight_name(DistanceWeight weight) {
  switch (weight) {
    case DistanceWeight::kNone: return "none";
    case DistanceWeight::kHarmonic: return "harmonic";
    case DistanceWeight::kLinear: return "linear";
  }
  return "?";
}

void CooccurOptions::validate() const {
  const int max_window = weight == DistanceWeight::kHarmonic ? 20 : 100;
  if (window < 1 || window > max_window) {
    throw InvalidArgument(fmt::format("--window must be in [1, {}]{}, got {}", max_window,
                                      weight == DistanceWeight::kHarmonic ? " with harmonic weights" : "", window));
  }
  if (min_count < 1) throw InvalidArgument(fmt::format("--min-count must be >= 1, got {}", min_count));
  if (max_vocab < 0) throw InvalidArgument(fmt::format("--max-vocab must be >= 0 (0: no cap), got {}", max_vocab));
  if (!(subsample >= 0) || !std::isfinite(subsample)) {
    throw InvalidArgument(fmt::format("--subsample must be a number >= 0 (0: off), got {}", subsample));
  }
  if (memory_bytes < (std::size_t{1} << 20)) {
    throw InvalidArgument(fmt::format("--memory must be at least 1 MB, got {} bytes", memory_bytes));
  }
  if (part_bytes < 1) throw InvalidArgument("part size must be positive");
  if (merge_fan_in < 2) throw InvalidArgument(fmt::format("the merge fan-in must be at least 2, got {}", merge_fan_in));
  if (!spill_dir.empty()) {
    // Checked here, before the corpus is read: a count finds out only when its first run spills.
    std::error_code ec;
    if (!std::filesystem::is_directory(spill_dir, ec)) {
      throw InvalidArgument(fmt::format("--temp-dir '{}' is not an existing directory", spill_dir));
    }
  }
}

std::vector<CorpusFile> corpus_files(const std::vector<std::string>& paths, const std::string& suffix) {
  namespace fs = std::filesystem;
  std::vector<CorpusFile> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) throw Error(path + ": " + ec.message());  // a symlink loop, no permission
    if (ec || !fs::exists(status)) throw Error(path + ": " + "no such file or directory");
    if (fs::is_directory(status)) {
      std::vector<std::string> found;
      // Directories are entered through symbolic links too, each once: by its canonical path, a
      // link back to a directory above it (a loop) or a second way into one directory is named,
      // as a file reached twice is. Every other entry that is not a file is named as well (a
      // broken link, a FIFO): a corpus is never read with part of it left out unsaid.
      std::set<fs::path> visited{fs::canonical(path, ec)};
      if (ec) throw Error(path + ": " + ec.message());
      fs::recursive_directory_iterator it(path, fs::directory_options::follow_directory_symlink, ec), end;
      if (ec) throw Error(path + ": " + fmt::format("cannot read the directory: {}", ec.message()));
      for (; it != end; it.increment(ec)) {
        if (ec) throw Error(path + ": " + fmt::format("cannot read the directory: {}", ec.message()));
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {  // skipped, whatever it is: never looked through
          it.disable_recursion_pending();
          continue;
        }
        // The entry's type through its links. One that cannot be found (a broken link, a loop, a
        // link through a file) is named rather than left to a raw exception's text, where the
        // suffix would have taken the entry.
        const fs::file_status entry = it->status(ec);
        const std::error_code unreadable = ec;
        ec.clear();
        if (!unreadable && fs::is_directory(entry)) {
          const fs::path real = fs::canonical(it->path(), ec);
          if (ec) throw Error(it->path().string() + ": " + ec.message());
          if (!visited.insert(real).second) {
            throw Error(it->path().string() + ": reaches the directory '" + real.string() +
                        "' a second time inside the corpus '" + path +
                        "' (a symbolic link to a directory above it, or two ways into one directory)");
          }
          continue;
        }
        if (!suffix.empty() && (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)) {
          continue;
        }
        if (unreadable == std::errc::no_such_file_or_directory) {
          throw Error(it->path().string() + ": a broken symbolic link inside the corpus directory '" + path +
                      "' (remove it, or give the files to read by name)");
        }
        if (unreadable) throw Error(it->path().string() + ": " + unreadable.message());
        if (!fs::is_regular_file(entry)) {
          throw Error(it->path().string() + ": not a regular file or directory (a FIFO, socket or device) inside "
                      "the corpus directory '" + path + "': remove it, or give the files to read by name");
        }
        found.push_back(it->path().string());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) {
        throw Error(path + ": " + (suffix.empty() ? std::string("the directory holds no files")
                                                 : fmt::format("the directory holds no files ending in '{}'", suffix)));
      }
      for (const std::string& f : found) files.push_back({f, f});
    } else {
      files.push_back({path, path});
    }
  }
  if (files.empty()) throw InvalidArgument("no corpus given");
  check_distinct_corpus_files(files);
  return files;
}

void check_distinct_corpus_files(const std::vector<CorpusFile>& files) {
  // A file given twice (by two names, or as a file and inside a directory) would be counted twice.
  std::vector<std::pair<std::pair<dev_t, ino_t>, size_t>> ids;
  for (size_t i = 0; i < files.size(); ++i) {
    struct stat st {};
    if (::stat(files[i].path.c_str(), &st) != 0) continue;  // opening it names the problem
    ids.push_back({{st.st_dev, st.st_ino}, i});
  }
  std::sort(ids.begin(), ids.end());
  for (size_t k = 1; k < ids.size(); ++k) {
    if (ids[k].first == ids[k - 1].first) {
      const size_t a = std::min(ids[k - 1].second, ids[k].second), b = std::max(ids[k - 1].second, ids[k].second);
      throw InvalidArgument(fmt::format("'{}' and '{}' are one file: the corpus would count it twice", files[a].name,
                                        files[b].name));
    }
  }
}

namespace {

// A read-only memory map of a whole file (empty files map to nothing).
class MappedFile {
 public:
  explicit MappedFile(const CorpusFile& file) : path_(file.name) {
    const std::string& path = file.name;
    // Checked before opening: open() of a FIFO waits for a writer, for ever if none comes.
    struct stat named {};
    if (::stat(file.path.c_str(), &named) == 0 && !S_ISREG(named.st_mode)) {
      throw Error(path + ": not a regular file (a FIFO, socket or device: the corpus is read twice; give a pipe as '-')");
    }
    const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": " + fmt::format("cannot open: {}", std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw Error(path + ": " + "not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        throw Error(path + ": " + fmt::format("cannot map: {}", std::strerror(errno)));
      }
      ::madvise(p, size_, MADV_SEQUENTIAL);
      data_ = static_cast<const char*>(p);
    }
    // The map outlives the descriptor (POSIX mmap): closed now, so that a corpus of more files
    // than the open-file limit (often 1,024; a dump's extractor writes thousands) is read, not
    // refused at its 1,021st file with "Too many open files".
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// A part of the corpus: bytes [begin, end) of one file, starting and ending at a boundary.
struct Part {
  size_t file = 0;
  size_t begin = 0;
  size_t end = 0;
};

// The end of the boundary at or after `from`: just past the newline that ends a blank line
// (paragraph), any newline (line), or the file's end.
size_t next_boundary(std::string_view s, size_t from, TextBoundary boundary) {
  if (boundary == TextBoundary::kFile) return s.size();
  size_t line_start = from;
  // Move to the start of a line first: `from` may be inside one.
  while (line_start < s.size() && line_start > 0 && s[line_start - 1] != '\n') ++line_start;
  if (boundary == TextBoundary::kLine) return line_start;
  bool blank = true;
  for (size_t i = line_start; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\n') {
      if (blank) return i + 1;
      blank = true;
    } else if (!(c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')) {
      blank = false;
    }
  }
  return s.size();
}

std::vector<Part> split_parts(const std::vector<std::unique_ptr<MappedFile>>& files, const CooccurOptions& options) {
  std::vector<Part> parts;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string_view s = files[f]->bytes();
    size_t begin = 0;
    while (begin < s.size()) {
      const size_t nominal = begin + std::min<std::uint64_t>(options.part_bytes, s.size() - begin);
      const size_t end = nominal >= s.size() ? s.size() : std::max(nominal, next_boundary(s, nominal, options.boundary));
      parts.push_back({f, begin, end});
      begin = end;
    }
  }
  return parts;
}

std::vector<std::unique_ptr<MappedFile>> map_files(const std::vector<CorpusFile>& paths) {
  std::vector<std::unique_ptr<MappedFile>> files;
  files.reserve(paths.size());
  for (const CorpusFile& p : paths) files.push_back(std::make_unique<MappedFile>(p));
  return files;
}

std::uint64_t hash_bytes(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, finished by SplitMix64
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return mix64(h);
}

// Distinct words and their counts: open addressing over an arena of the words' bytes.
class WordTable {
 public:
  WordTable() { slots_.assign(1024, 0); }
  // The number of `word`, or −1.
  std::int32_t find(std::string_view word, std::uint64_t hash) const {
    for (size_t s = hash & (slots_.size() - 1);; s = (s + 1) & (slots_.size() - 1)) {
      const std::uint32_t e = slots_[s];
      if (e == 0) return -1;
      if (hashes_[e - 1] == hash && word_of(e - 1) == word) return static_cast<std::int32_t>(e - 1);
    }
  }
  void add(std::string_view word, std::uint64_t hash, std::int64_t count) {
    size_t s = hash & (slots_.size() - 1);
    for (;; s = (s + 1) & (slots_.size() - 1)) {
      const std::uint32_t e = slots_[s];
      if (e == 0) break;
      if (hashes_[e - 1] == hash && word_of(e - 1) == word) {
        counts_[e - 1] += count;
        return;
      }
    }
    if (counts_.size() >= 0x7FFFFFFEu) throw Error("more than 2^31 distinct words in the corpus");
    offsets_.push_back(arena_.size());
    arena_.append(word);
    hashes_.push_back(hash);
    counts_.push_back(count);
    slots_[s] = static_cast<std::uint32_t>(counts_.size());
    if (counts_.size() * 2 > slots_.size()) grow();
  }
  size_t size() const { return counts_.size(); }
  std::string_view word_of(size_t i) const {
    const size_t end = i + 1 < offsets_.size() ? offsets_[i + 1] : arena_.size();
    return std::string_view(arena_).substr(offsets_[i], end - offsets_[i]);
  }
  std::uint64_t hash_of(size_t i) const { return hashes_[i]; }
  std::int64_t count_of(size_t i) const { return counts_[i]; }

 private:
  void grow() {
    std::vector<std::uint32_t> slots(slots_.size() * 2, 0);
    for (size_t i = 0; i < counts_.size(); ++i) {
      size_t s = hashes_[i] & (slots.size() - 1);
      while (slots[s] != 0) s = (s + 1) & (slots.size() - 1);
      slots[s] = static_cast<std::uint32_t>(i + 1);
    }
    slots_.swap(slots);
  }
  std::string arena_;
  std::vector<size_t> offsets_;
  std::vector<std::uint64_t> hashes_;
  std::vector<std::int64_t> counts_;
  std::vector<std::uint32_t> slots_;  // index + 1; 0 = empty
};

// Runs fn(part index, thread) for every part, in parallel batches with an interruption point and
// a progress line between batches. An exception from a part is rethrown after its batch; of
// several, the one of the earliest part (so the message does not depend on the threads).
template <class Fn>
void for_each_part(const std::vector<Part>& parts, int threads, const ProgressFn& progress, const char* what,
                   std::uint64_t total_bytes, Fn&& fn) {
  const size_t batch = static_cast<size_t>(threads) * 4;
  std::uint64_t done_bytes = 0;
  auto last = std::chrono::steady_clock::now();
  const auto start = last;
  for (size_t first = 0; first < parts.size(); first += batch) {
    interruption_point();
    const size_t last_part = std::min(parts.size(), first + batch);
    std::vector<std::exception_ptr> errors(last_part - first);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (size_t k = first; k < last_part; ++k) {
      try {
        fn(k, omp_get_thread_num());
      } catch (...) {
        errors[k - first] = std::current_exception();
      }
    }
    for (const std::exception_ptr& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    for (size_t k = first; k < last_part; ++k) done_bytes += parts[k].end - parts[k].begin;
    const auto now = std::chrono::steady_clock::now();
    if (progress && now - last > std::chrono::seconds(1)) {
      last = now;
      const double seconds = std::chrono::duration<double>(now - start).count();
      progress(fmt::format("{}: {:.0f} of {:.0f} MB ({:.0f} MB/s)", what, done_bytes / 1e6, total_bytes / 1e6,
                           done_bytes / 1e6 / seconds));
    }
  }
}

std::uint64_t total_bytes(const std::vector<Part>& parts) {
  std::uint64_t total = 0;
  for (const Part& p : parts) total += p.end - p.begin;
  return total;
}

}  // namespace

std::int64_t for_each_token(const std::vector<CorpusFile>& paths, const CooccurOptions& options,
                    const std::function<void(std::string_view)>& on_token, const std::function<void()>& on_boundary) {
  options.validate();
  const auto files = map_files(paths);
  std::int64_t fallback = 0;
  for (const Part& part : split_parts(files, options)) {
    interruption_point();
    const MappedFile& file = *files[part.file];
    scan_text(file.bytes().substr(part.begin, part.end - part.begin), part.begin, file.path(), options.boundary,
              options.latin1_fallback ? &fallback : nullptr, on_token, on_boundary);
    if (part.end == file.bytes().size()) on_boundary();
  }
  return fallback;
}

Vocabulary count_vocabulary(const std::vector<CorpusFile>& paths, const CooccurOptions& options, const Context& ctx,
                            const ProgressFn& progress) {
  options.validate();
  ThreadScope scope(ctx);
  const int threads = ctx.thread_count();
  const auto files = map_files(paths);
  const std::vector<Part> parts = split_parts(files, options);
  std::vector<WordTable> tables(static_cast<size_t>(threads));
  std::atomic<std::int64_t> latin1{0};
  for_each_part(parts, threads, progress, "vocabulary", total_bytes(parts), [&](size_t k, int thread) {
    const Part& part = parts[k];
    const MappedFile& file = *files[part.file];
    WordTable& table = tables[static_cast<size_t>(thread)];
    std::int64_t fallback = 0;
    scan_text(file.bytes().substr(part.begin, part.end - part.begin), part.begin, file.path(), options.boundary,
              options.latin1_fallback ? &fallback : nullptr,
              [&](std::string_view token) { table.add(token, hash_bytes(token), 1); }, [] {});
    latin1 += fallback;
  });
  // Merge into the first table (integer counts: the order does not matter).
  WordTable& all = tables[0];
  for (size_t t = 1; t < tables.size(); ++t) {
    for (size_t i = 0; i < tables[t].size(); ++i) all.add(tables[t].word_of(i), tables[t].hash_of(i), tables[t].count_of(i));
    tables[t] = WordTable();
  }
  Vocabulary v;
  v.latin1_bytes = latin1.load();
  v.distinct = static_cast<std::int64_t>(all.size());
  std::vector<std::uint32_t> keep;
  for (size_t i = 0; i < all.size(); ++i) {
    v.tokens += all.count_of(i);
    if (all.count_of(i) >= options.min_count) keep.push_back(static_cast<std::uint32_t>(i));
  }
  std::sort(keep.begin(), keep.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (all.count_of(a) != all.count_of(b)) return all.count_of(a) > all.count_of(b);
    return all.word_of(a) < all.word_of(b);
  });
  if (options.max_vocab > 0 && keep.size() > static_cast<size_t>(options.max_vocab)) {
    keep.resize(static_cast<size_t>(options.max_vocab));
  }
  v.words.reserve(keep.size());
  v.counts.reserve(keep.size());
  for (const std::uint32_t i : keep) {
    v.words.emplace_back(all.word_of(i));
    v.counts.push_back(all.count_of(i));
    v.kept_tokens += all.count_of(i);
  }
  return v;
}

namespace {

constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};

struct PairEntry {
  std::uint64_t key;  // (min << 32) | max
  std::uint64_t units;
};

// Counts of unordered pairs, open addressing; sorted runs are cut from it when it is full.
class PairTable {
 public:
  // At most `max_entries` entries live at once, growth included: a table grows by doubling, and
  // while it rehashes the old half-size array is still held, so its largest size is at most two
  // thirds of the share (it was the whole share: --memory 128 peaked at 192 MB of tables).
  explicit PairTable(size_t max_entries)
      : max_capacity_(std::max<size_t>(1024, std::bit_floor(max_entries / 3 * 2))) {
    capacity_ = std::min<size_t>(1 << 16, max_capacity_);
    entries_.assign(capacity_, PairEntry{kEmptyKey, 0});
    peak_entries_ = capacity_;
  }
  // Adds; returns false when the table is full at its largest size (cut a run, then add again).
  bool add(std::uint64_t key, std::uint64_t units) {
    size_t s = mix64(key) & (capacity_ - 1);
    for (;; s = (s + 1) & (capacity_ - 1)) {
      PairEntry& e = entries_[s];
      if (e.key == key) {
        e.units += units;
        return true;
      }
      if (e.key == kEmptyKey) break;
    }
    if ((size_ + 1) * 10 > capacity_ * 7) {
      if (capacity_ >= max_capacity_) return false;
      grow();
      return add(key, units);
    }
    entries_[s] = PairEntry{key, units};
    ++size_;
    return true;
  }
  // Moves the entries to the front, sorted by key, and returns them; the table is empty after
  // clear().
  std::span<const PairEntry> sorted() {
    size_t n = 0;
    for (size_t s = 0; s < capacity_; ++s) {
      if (entries_[s].key != kEmptyKey) entries_[n++] = entries_[s];
    }
    std::sort(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n),
              [](const PairEntry& a, const PairEntry& b) { return a.key < b.key; });
    return {entries_.data(), n};
  }
  void clear() {
    std::fill(entries_.begin(), entries_.end(), PairEntry{kEmptyKey, 0});
    size_ = 0;
  }
  size_t size() const { return size_; }
  // The most entries this table held allocated at once (growth included).
  size_t peak_entries() const { return peak_entries_; }

 private:
  void grow() {
    std::vector<PairEntry> old(capacity_ * 2, PairEntry{kEmptyKey, 0});
    old.swap(entries_);
    peak_entries_ = std::max(peak_entries_, capacity_ * 3);
    capacity_ *= 2;
    for (const PairEntry& e : old) {
      if (e.key == kEmptyKey) continue;
      size_t s = mix64(e.key) & (capacity_ - 1);
      while (entries_[s].key != kEmptyKey) s = (s + 1) & (capacity_ - 1);
      entries_[s] = e;
    }
  }
  size_t max_capacity_;
  size_t capacity_;
  size_t size_ = 0;
  size_t peak_entries_ = 0;
  std::vector<PairEntry> entries_;
};

// A sorted run on disk: an uncommitted AtomicFile, so that it is removed when the run is done, on
// an error, and on a termination signal (atomic_output.h). It is closed once written, so that a
// count holds no file descriptor per run, only one per run being merged.
class RunFile {
 public:
  RunFile(const std::string& dir, std::int64_t number)
      : dir_(dir), file_(fmt::format("{}/linsim-cooccur-{}-run-{}", dir, ::getpid(), number), false) {}
  void append(std::span<const PairEntry> entries) {
    file_.stream().write(reinterpret_cast<const char*>(entries.data()),
                         static_cast<std::streamsize>(entries.size() * sizeof(PairEntry)));
    if (!file_.stream()) throw Error(fmt::format("cannot write a run of counts in '{}' (disk full?)", dir_));
    count_ += entries.size();
  }
  void close() {
    try {
      file_.finish();
    } catch (const Error&) {
      throw Error(fmt::format("cannot write a run of counts in '{}' (disk full?)", dir_));
    }
  }
  const std::string& path() const { return file_.temporary(); }
  size_t count() const { return count_; }

 private:
  std::string dir_;
  AtomicFile file_;
  size_t count_ = 0;
};

// Entries a cursor reads from its run file at a time (64 KiB), and a merge writes at a time.
constexpr size_t kRunBuffer = size_t{1} << 12;

// Reads a run back in order.
class RunCursor {
 public:
  explicit RunCursor(std::span<const PairEntry> memory) : memory_(memory) {}
  explicit RunCursor(const RunFile& file) : left_(file.count()) {
    in_ = std::make_unique<std::ifstream>(file.path(), std::ios::binary);
    if (!*in_) throw Error(fmt::format("cannot read back a run of counts '{}': {}", file.path(), std::strerror(errno)));
  }
  // The next entry, or false at the end.
  bool next(PairEntry& out) {
    if (!in_) {
      if (position_ >= memory_.size()) return false;
      out = memory_[position_++];
      return true;
    }
    if (position_ == buffer_.size()) {
      if (left_ == 0) return false;
      const size_t n = std::min(left_, kRunBuffer);
      buffer_.resize(n);
      in_->read(reinterpret_cast<char*>(buffer_.data()), static_cast<std::streamsize>(n * sizeof(PairEntry)));
      if (!*in_) throw Error("a run of counts ended early (was its file changed?)");
      left_ -= n;
      position_ = 0;
    }
    out = buffer_[position_++];
    return true;
  }

 private:
  std::span<const PairEntry> memory_;
  std::unique_ptr<std::ifstream> in_;
  std::vector<PairEntry> buffer_;
  size_t left_ = 0;
  size_t position_ = 0;
};

// Merges sorted runs in key order, summing the units of equal keys, and calls emit(entry) once
// per key, in increasing order.
template <class Emit>
void merge_runs(std::vector<RunCursor>& cursors, Emit&& emit) {
  using Head = std::pair<std::uint64_t, size_t>;  // key, cursor
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap;
  std::vector<PairEntry> current(cursors.size());
  for (size_t c = 0; c < cursors.size(); ++c) {
    if (cursors[c].next(current[c])) heap.emplace(current[c].key, c);
  }
  std::int64_t emitted = 0;
  while (!heap.empty()) {
    const std::uint64_t key = heap.top().first;
    std::uint64_t units = 0;
    while (!heap.empty() && heap.top().first == key) {
      const size_t c = heap.top().second;
      heap.pop();
      units += current[c].units;
      if (cursors[c].next(current[c])) heap.emplace(current[c].key, c);
    }
    emit(PairEntry{key, units});
    if ((++emitted & 0xFFFFF) == 0) interruption_point();
  }
}

}  // namespace

std::uint64_t cooccur_scale(const CooccurOptions& options) {
  switch (options.weight) {
    case DistanceWeight::kNone: return 1;
    case DistanceWeight::kLinear: return static_cast<std::uint64_t>(options.window);
    case DistanceWeight::kHarmonic: {
      std::uint64_t l = 1;
      for (int d = 2; d <= options.window; ++d) l = std::lcm(l, static_cast<std::uint64_t>(d));
      return l;
    }
  }
  return 1;
}

CooccurStats count_cooccurrences(const std::vector<CorpusFile>& paths, const Vocabulary& vocabulary,
                                 const CooccurOptions& options, const Context& ctx, const CooccurSink& sink,
                                 const ProgressFn& progress) {
  options.validate();
  if (vocabulary.words.empty()) throw InvalidArgument("the vocabulary is empty");
  if (vocabulary.words.size() > 0x7FFFFFFFu) throw Error("more than 2^31 - 1 vocabulary words");
  ThreadScope scope(ctx);
  const int threads = ctx.thread_count();
  const auto files = map_files(paths);
  const std::vector<Part> parts = split_parts(files, options);
  CooccurStats stats;
  stats.parts = static_cast<std::int64_t>(parts.size());
  stats.bytes = static_cast<std::int64_t>(total_bytes(parts));

  WordTable lookup;
  for (size_t i = 0; i < vocabulary.words.size(); ++i) lookup.add(vocabulary.words[i], hash_bytes(vocabulary.words[i]), 0);
  // Keep probability per word (word2vec's formula; ≥ 1 means always kept).
  std::vector<double> keep(vocabulary.words.size(), 1.0);
  if (options.subsample > 0) {
    const double threshold = options.subsample * static_cast<double>(vocabulary.kept_tokens);
    for (size_t i = 0; i < keep.size(); ++i) {
      const double c = static_cast<double>(vocabulary.counts[i]);
      keep[i] = (std::sqrt(c / threshold) + 1.0) * threshold / c;
    }
  }
  // Integer weight per distance, in units of 1/scale.
  const int W = options.window;
  const std::uint64_t scale = cooccur_scale(options);
  stats.scale = static_cast<double>(scale);
  std::vector<std::uint64_t> weight(static_cast<size_t>(W) + 1, 1);
  for (int d = 1; d <= W; ++d) {
    const auto du = static_cast<std::uint64_t>(d);
    weight[du] = options.weight == DistanceWeight::kHarmonic ? scale / du
                 : options.weight == DistanceWeight::kLinear ? static_cast<std::uint64_t>(W) - du + 1
                                                              : 1;
  }

  const std::string spill_dir =
      options.spill_dir.empty() ? std::filesystem::temp_directory_path().string() : options.spill_dir;
  const size_t per_thread = options.memory_bytes / static_cast<size_t>(threads) / sizeof(PairEntry);
  std::vector<std::unique_ptr<PairTable>> tables;
  for (int t = 0; t < threads; ++t) tables.push_back(std::make_unique<PairTable>(per_thread));
  std::vector<std::unique_ptr<RunFile>> runs;
  std::mutex runs_mutex;
  std::atomic<std::int64_t> sampled{0};

  for_each_part(parts, threads, progress, "co-occurrences", static_cast<std::uint64_t>(stats.bytes), [&](size_t k, int thread) {
    const Part& part = parts[k];
    const MappedFile& file = *files[part.file];
    PairTable& table = *tables[static_cast<size_t>(thread)];
    Rng rng(ctx.seed, k);
    std::vector<std::int32_t> ring(static_cast<size_t>(W), -1);  // the last W kept tokens
    size_t filled = 0;                                            // tokens in the window so far
    size_t head = 0;                                              // slot of the next token
    std::int64_t kept = 0;
    const auto add = [&](std::uint64_t key, std::uint64_t units) {
      if (table.add(key, units)) return;
      {
        const std::lock_guard<std::mutex> lock(runs_mutex);
        auto run = std::make_unique<RunFile>(spill_dir, static_cast<std::int64_t>(runs.size()));
        run->append(table.sorted());
        run->close();
        runs.push_back(std::move(run));
      }
      table.clear();
      table.add(key, units);
    };
    std::int64_t fallback = 0;
    scan_text(
        file.bytes().substr(part.begin, part.end - part.begin), part.begin, file.path(), options.boundary,
        options.latin1_fallback ? &fallback : nullptr,
        [&](std::string_view token) {
          const std::int32_t id = lookup.find(token, hash_bytes(token));
          if (id < 0) return;
          if (options.subsample > 0 && keep[static_cast<size_t>(id)] < 1.0) {
            const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
            if (u >= keep[static_cast<size_t>(id)]) return;
          }
          ++kept;
          const size_t have = std::min(filled, static_cast<size_t>(W));
          for (size_t d = 1; d <= have; ++d) {
            const std::int32_t other = ring[(head + static_cast<size_t>(W) - d) % static_cast<size_t>(W)];
            const std::uint32_t lo = static_cast<std::uint32_t>(std::min(id, other));
            const std::uint32_t hi = static_cast<std::uint32_t>(std::max(id, other));
            add((std::uint64_t{lo} << 32) | hi, weight[d]);
          }
          ring[head] = id;
          head = (head + 1) % static_cast<size_t>(W);
          ++filled;
        },
        [&] { filled = 0; });
    sampled += kept;
  });
  stats.sampled_tokens = sampled.load();
  stats.runs_spilled = static_cast<std::int64_t>(runs.size());
  for (const auto& table : tables) stats.table_bytes += static_cast<std::int64_t>(table->peak_entries() * sizeof(PairEntry));

  // Runs beyond the fan-in are merged into longer ones first, oldest first, fan_in at a time, so
  // that the final merge (and each before it) holds at most fan_in files open, each with a buffer
  // of kRunBuffer entries.
  const size_t fan_in = static_cast<size_t>(options.merge_fan_in);
  std::deque<std::unique_ptr<RunFile>> pending(std::make_move_iterator(runs.begin()), std::make_move_iterator(runs.end()));
  std::int64_t number = static_cast<std::int64_t>(runs.size());
  runs.clear();
  while (pending.size() > fan_in) {
    if (progress) progress(fmt::format("co-occurrences: merging {} of {} runs of counts on disk", fan_in, pending.size()));
    std::vector<RunCursor> cursors;
    for (size_t r = 0; r < fan_in; ++r) cursors.emplace_back(*pending[r]);
    auto merged = std::make_unique<RunFile>(spill_dir, number++);
    std::vector<PairEntry> out;
    out.reserve(kRunBuffer);
    merge_runs(cursors, [&](const PairEntry& e) {
      out.push_back(e);
      if (out.size() == kRunBuffer) {
        merged->append(out);
        out.clear();
      }
    });
    merged->append(out);
    merged->close();
    cursors.clear();
    for (size_t r = 0; r < fan_in; ++r) pending.pop_front();  // removes their files
    pending.push_back(std::move(merged));
  }

  // The final merge: the tables in memory and the runs left on disk, in key order.
  std::vector<RunCursor> cursors;
  for (auto& table : tables) cursors.emplace_back(table->sorted());
  for (const auto& run : pending) cursors.emplace_back(*run);
  merge_runs(cursors, [&](const PairEntry& e) {
    const auto lo = static_cast<std::int32_t>(e.key >> 32);
    const auto hi = static_cast<std::int32_t>(e.key & 0xFFFFFFFFu);
    ++stats.pairs;
    if (lo == hi) {
      sink(lo, lo, 2 * e.units);
      ++stats.entries;
    } else {
      sink(lo, hi, e.units);
      sink(hi, lo, e.units);
      stats.entries += 2;
    }
  });
  return stats;
}

}  // namespace linsim
