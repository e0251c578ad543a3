#include "linsim/io/embedding_files.h"

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/npy.h"
#include "../data/line_reader.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace linsim {
namespace {

constexpr double kMaxHeaderCount = 9007199254740992.0;  // 2^53: beyond it a count is not exact
constexpr size_t kMaxBinaryIdBytes = size_t{1} << 16;

const char* format_label(EmbeddingFormat format) {
  switch (format) {
    case EmbeddingFormat::kNpy: return "npy";
    case EmbeddingFormat::kWord2vec: return "word2vec";
    case EmbeddingFormat::kTsv: return "TSV";
  }
  return "?";
}

// Whether a path ends in ".npy", in any case.
bool named_npy(std::string_view path) {
  constexpr std::string_view kSuffix = ".npy";
  if (path.size() < kSuffix.size()) return false;
  const std::string_view tail = path.substr(path.size() - kSuffix.size());
  return std::equal(tail.begin(), tail.end(), kSuffix.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

}  // namespace

EmbeddingFormat parse_embedding_format(const std::string& name) {
  if (name == "npy") return EmbeddingFormat::kNpy;
  if (name == "word2vec") return EmbeddingFormat::kWord2vec;
  if (name == "tsv") return EmbeddingFormat::kTsv;
  throw InvalidArgument(fmt::format("unknown --format '{}' (valid: npy, word2vec, tsv)", name));
}

void check_writable_ids(const IdMap& ids, EmbeddingFormat format) {
  const char* forbidden = format == EmbeddingFormat::kWord2vec ? " \t\n\r" : "\t\n\r";
  const char* why = format == EmbeddingFormat::kWord2vec ? "it contains a blank or line break"
                                                         : "it contains a tab or line break";
  for (Index row = 0; row < ids.size(); ++row) {
    const std::string& id = ids.id(row);
    if (id.empty()) {
      throw InvalidArgument(fmt::format("the id of row {} (counted from 0) is empty and cannot be written in {} format",
                                        row, format_label(format)));
    }
    if (id.find_first_of(forbidden) != std::string::npos) {
      throw InvalidArgument(fmt::format("id '{}' cannot be written in {} format ({})", id, format_label(format), why));
    }
  }
}

void write_id_lines(std::ostream& out, const IdMap& ids) {
  check_writable_ids(ids, EmbeddingFormat::kNpy);
  fmt::memory_buffer buffer;
  if (ids.size() > 0) {
    const std::string_view prefix = detail::first_line_prefix(ids.ids().front());
    buffer.append(prefix.data(), prefix.data() + prefix.size());
  }
  for (const std::string& id : ids.ids()) {
    buffer.append(id);
    buffer.push_back('\n');
    if (buffer.size() > (1u << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

std::string ids_path_for(const std::string& npy_path) {
  std::string base = npy_path;
  // ".npy" in any case, as the reader tells an .npy by its name (was: C.NPY got C.NPY.ids.tsv).
  if (base.size() > 4 && named_npy(base)) base.resize(base.size() - 4);
  return base + ".ids.tsv";
}

void write_embeddings(std::ostream& out, const IdMap& ids, const Matrix& vectors, EmbeddingFormat format) {
  if (ids.size() != vectors.rows()) {
    throw InvalidArgument(fmt::format("{} ids for {} vectors", ids.size(), vectors.rows()));
  }
  if (format == EmbeddingFormat::kNpy) {
    write_npy(out, vectors);
    return;
  }
  check_writable_ids(ids, format);
  const bool word2vec = format == EmbeddingFormat::kWord2vec;
  fmt::memory_buffer buffer;
  if (word2vec) {
    fmt::format_to(std::back_inserter(buffer), "{} {}\n", vectors.rows(), vectors.cols());
  } else if (ids.size() > 0) {  // TSV's first line is its first id's: read back, a mark there is skipped
    const std::string_view prefix = detail::first_line_prefix(ids.id(0));
    buffer.append(prefix.data(), prefix.data() + prefix.size());
  }
  const char sep = word2vec ? ' ' : '\t';
  for (Index i = 0; i < vectors.rows(); ++i) {
    fmt::format_to(std::back_inserter(buffer), "{}", ids.id(i));
    for (Index c = 0; c < vectors.cols(); ++c) fmt::format_to(std::back_inserter(buffer), "{}{}", sep, vectors(i, c));
    buffer.push_back('\n');
    if (buffer.size() > (1u << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

namespace {

void write_file(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force, EmbeddingFormat format) {
  check_writable_ids(ids, format);
  AtomicFile file(path, force);
  write_embeddings(file.stream(), ids, vectors, format);
  file.commit();
}

std::vector<std::string_view> blank_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// A line's fields: split at tabs where it has one (a tsv export: its ids may hold blanks, kept as
// they are; blanks around a value are dropped), else at runs of blanks (word2vec text, GloVe).
// Splitting every line at blanks and tabs read a tsv id "a b" as two fields and " lead" as
// "lead". A line of blanks alone has no fields.
std::vector<std::string_view> line_fields(std::string_view line) {
  if (line.find('\t') == std::string_view::npos) return blank_fields(line);
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return {};
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t tab = line.find('\t', start);
    std::string_view field = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (!out.empty()) {  // a value
      while (!field.empty() && (field.front() == ' ' || field.front() == '\r')) field.remove_prefix(1);
      while (!field.empty() && (field.back() == ' ' || field.back() == '\r')) field.remove_suffix(1);
    }
    out.push_back(field);
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

bool parse_double(std::string_view text, double& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

bool is_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[6] = {};
  in.read(magic, 6);
  return in.gcount() == 6 && std::string(magic, 6) == "\x93NUMPY";
}

// A "count dim" header: two non-negative whole numbers, dim >= 1. Counts and dimensions too
// large to be exact or to index are an InputError (never a cast that overflows).
bool parse_header(const std::vector<std::string_view>& fields, const std::string& path, Index& count, Index& dim) {
  double a = 0, b = 0;
  if (fields.size() != 2 || !parse_double(fields[0], a) || !parse_double(fields[1], b)) return false;
  if (!std::isfinite(a) || !std::isfinite(b) || a < 0 || b < 1 || a != std::floor(a) || b != std::floor(b)) return false;
  if (a >= kMaxHeaderCount) {
    throw InputError(path, 1, fmt::format("the header declares {} vectors: not a count (at most 2^53 − 1)", fields[0]));
  }
  if (b > static_cast<double>(std::numeric_limits<int>::max())) {
    throw InputError(path, 1, fmt::format("the header declares dimension {}: at most 2^31 − 1 is supported", fields[1]));
  }
  count = static_cast<Index>(a);
  dim = static_cast<Index>(b);
  return true;
}

void check_rows(Index rows, const std::string& path, std::int64_t line) {
  if (rows >= kMaxEmbeddingRows) {
    const std::string what = fmt::format("more than {} vectors: neighbour search indexes rows with 32-bit integers",
                                         kMaxEmbeddingRows);
    if (line > 0) throw InputError(path, line, what);
    throw DataError(fmt::format("'{}' has {}", path, what));
  }
}

// Reads decompressed bytes (plain or gzip: detail::ByteSource) for the binary word2vec format,
// which is not text and so not for LineReader.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : source_(path, path), buffer_(size_t{1} << 20) {}

  // Up to `count` bytes into `to`; fewer only at the end of the file.
  size_t read(char* to, size_t count) {
    size_t done = 0;
    while (done < count) {
      if (begin_ == end_ && !fill()) break;
      const size_t n = std::min(count - done, end_ - begin_);
      std::memcpy(to + done, buffer_.data() + begin_, n);
      begin_ += n;
      done += n;
    }
    return done;
  }
  bool peek(char& c) {
    if (begin_ == end_ && !fill()) return false;
    c = buffer_[begin_];
    return true;
  }
  void skip() { ++begin_; }

 private:
  bool fill() {
    begin_ = 0;
    end_ = source_.read(buffer_.data(), buffer_.size());
    return end_ > 0;
  }
  detail::ByteSource source_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
};

bool control_byte(unsigned char c) { return c < 0x09 || (c > 0x0D && c < 0x20) || c == 0x7F; }

// Whether `path` is a binary word2vec file: a valid "count dim" header line followed by bytes no
// text file has (control characters), or by a first record that only the binary layout explains.
bool is_word2vec_binary(const std::string& path, Index& count, Index& dim, size_t& header_bytes) {
  std::string head(size_t{1} << 16, '\0');
  bool whole = false;
  {
    // A file that cannot be read, or whose gzip data is truncated, corrupt or followed by other
    // bytes, is reported from here: the text reader would name a line of binary bytes instead.
    ByteReader probe(path);
    head.resize(probe.read(head.data(), head.size()));
    char c = 0;
    whole = !probe.peek(c);
  }
  size_t start = head.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  const size_t nl = head.find('\n', start);
  if (nl == std::string::npos) return false;
  std::string_view first(head.data() + start, nl - start);
  // word2vec writes its header with a blank; a tab makes the line a tsv row (read_embeddings_by_content).
  if (first.find('\t') != std::string_view::npos || !parse_header(blank_fields(first), path, count, dim)) return false;
  header_bytes = nl + 1;
  const std::string_view rest(head.data() + header_bytes, head.size() - header_bytes);
  // A first record that reads as text (an id and `dim` numbers on one line) makes a text file,
  // whatever bytes come later: the text reader then names the line of a stray control byte. (A
  // binary record is an id, a blank and 4 dim bytes of floats, which do not read so.)
  const size_t line_end = rest.find('\n');
  const auto fields = blank_fields(rest.substr(0, line_end));
  bool text = line_end != std::string_view::npos && fields.size() == static_cast<size_t>(dim) + 1;
  for (size_t c = 1; text && c < fields.size(); ++c) {
    double v = 0;
    text = parse_double(fields[c], v);
  }
  if (text) return false;
  for (char c : rest) {
    if (control_byte(static_cast<unsigned char>(c))) return true;
  }
  // All text-like bytes. A small file (read whole) that the binary layout explains exactly is
  // binary; otherwise it is text and the text reader judges it. A header of 0 vectors explains
  // only blanks, which are text as much as binary: the text reader names it (was: "read as binary
  // word2vec: non-text bytes follow …" of a file that had none).
  if (!whole || count == 0) return false;
  size_t at = 0;
  for (Index r = 0; r < count; ++r) {
    while (at < rest.size() && (rest[at] == '\n' || rest[at] == '\r')) ++at;
    const size_t blank = rest.find(' ', at);
    if (blank == std::string_view::npos || blank == at || rest.substr(at, blank - at).find('\n') != std::string_view::npos) {
      return false;
    }
    at = blank + 1 + 4 * static_cast<size_t>(dim);
    if (at > rest.size()) return false;
  }
  for (; at < rest.size(); ++at) {
    if (!std::isspace(static_cast<unsigned char>(rest[at]))) return false;
  }
  return true;
}

EmbeddingTable read_word2vec_binary(const std::string& path, Index count, Index dim, size_t header_bytes) {
  EmbeddingTable t;
  t.format = "word2vec-binary";
  const std::string file =
      fmt::format("'{}' (read as binary word2vec: non-text bytes follow its 'count dim' header)", path);
  if (count == 0) throw DataError(fmt::format("{} declares no vectors", file));
  check_rows(count, path, 1);
  ByteReader in(path);
  std::string skip(header_bytes, '\0');
  in.read(skip.data(), header_bytes);
  const auto k = static_cast<size_t>(dim);
  std::vector<double> values;
  std::string id;
  for (Index r = 0; r < count; ++r) {
    char c = 0;
    while (in.peek(c) && (c == '\n' || c == '\r')) in.skip();
    id.clear();
    while (true) {
      if (!in.peek(c)) {
        throw DataError(fmt::format("{} ends after {} of the {} vectors its header declares", file, r,
                                count));
      }
      in.skip();
      if (c == ' ') break;
      id.push_back(c);
      if (id.size() > kMaxBinaryIdBytes) {
        throw DataError(fmt::format("{}: vector {} has no blank after its id within {} bytes", file, r + 1,
                                kMaxBinaryIdBytes));
      }
    }
    if (id.empty()) throw DataError(fmt::format("{}: vector {} has an empty id", file, r + 1));
    if (t.ids.find(id)) throw DataError(fmt::format("{}: id '{}' of vector {} appears twice", file, id, r + 1));
    // Value by value: the header's dimension allocates nothing before the bytes are there.
    for (size_t j = 0; j < k; ++j) {
      char raw[4];
      if (in.read(raw, 4) != 4) {
        throw DataError(fmt::format("{} ends inside vector {} ('{}') of the {} its header declares", file,
                                r + 1, id, count));
      }
      std::uint32_t bits = 0;
      std::memcpy(&bits, raw, 4);
      if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
      const auto v = std::bit_cast<float>(bits);
      if (!std::isfinite(v)) {
        throw DataError(fmt::format("{}: value {} of vector {} ('{}') is not a finite number", file, j + 1,
                                r + 1, id));
      }
      values.push_back(static_cast<double>(v));
    }
    t.ids.add(id);
  }
  size_t trailing = 0;
  for (char c = 0; in.peek(c); in.skip()) trailing += !std::isspace(static_cast<unsigned char>(c));
  if (trailing > 0) {
    t.warnings.push_back(fmt::format("'{}': {} bytes after the {} vectors its header declares were ignored", path,
                                     trailing, count));
  }
  t.vectors = Eigen::Map<const RowMatrix>(values.data(), count, dim);
  return t;
}

// The format is told by the content: the NumPy magic, word2vec's binary layout, or text.
EmbeddingTable read_embeddings_by_content(const std::string& path) {
  EmbeddingTable t;
  if (is_npy(path)) {
    t.format = "npy";
    t.implicit_ids = true;
    t.vectors = read_npy_matrix(path);
    if (t.vectors.rows() == 0 || t.vectors.cols() == 0) {
      // As a text file without vectors: an export of it would read back as something else.
      throw DataError(fmt::format("'{}' contains no vectors (shape {} x {})", path, t.vectors.rows(), t.vectors.cols()));
    }
    check_rows(t.vectors.rows(), path, 0);
    for (Index i = 0; i < t.vectors.rows(); ++i) t.ids.add(std::to_string(i));
    return t;
  }
  {
    Index count = 0, dim = 0;
    size_t header_bytes = 0;
    if (is_word2vec_binary(path, count, dim, header_bytes)) return read_word2vec_binary(path, count, dim, header_bytes);
  }
  t.format = "word2vec";
  detail::LineReader reader(path);
  std::string_view line;
  Index dim = -1;
  Index declared = -1;
  // A first line of two whole numbers is word2vec's "count dim" header, or, in a file of
  // one-dimensional vectors without a header (linsim's own tsv export of a rank-1 model), the
  // vector of a numeric id: "20<TAB>1". A line with a tab is never a header (the tsv format has
  // none; word2vec writes "count dim" with a blank), and one without is read as a header only where
  // the rest agrees: the lines after it hold `dim` values each and, for dim 1, exactly `count` of
  // them.
  std::string first_id;
  double first_value = 0;
  std::vector<double> values;
  while (reader.next(line)) {
    const auto fields = line_fields(line);
    if (fields.empty()) continue;
    if (fields[0].empty()) throw InputError(path, reader.line_number(), "the id (the first tab-separated field) is empty");
    if (reader.line_number() == 1 && fields.size() == 2 && line.find('\t') == std::string_view::npos) {
      Index count = 0, header_dim = 0;
      if (parse_header(fields, path, count, header_dim)) {
        declared = count;
        dim = header_dim;
        first_id = std::string(fields[0]);
        parse_double(fields[1], first_value);
        continue;
      }
    }
    if (declared >= 0 && t.ids.size() == 0 && dim != 1 && fields.size() == 2) {
      // Not a header: the lines after it are one-dimensional vectors, and so is it.
      dim = 1;
      declared = -1;
      t.ids.add(first_id);
      values.push_back(first_value);
    }
    if (dim < 0) dim = static_cast<Index>(fields.size()) - 1;
    if (dim < 1 || static_cast<Index>(fields.size()) != dim + 1) {
      throw InputError(path, reader.line_number(),
                       fmt::format("expected an id and {} values, found {} fields", dim, fields.size()));
    }
    const std::string id(fields[0]);
    if (t.ids.find(id)) throw InputError(path, reader.line_number(), fmt::format("id '{}' appears twice", id));
    check_rows(t.ids.size(), path, reader.line_number());
    t.ids.add(id);
    for (size_t c = 1; c < fields.size(); ++c) {
      double v = 0;
      if (!parse_double(fields[c], v) || !std::isfinite(v)) {
        throw InputError(path, reader.line_number(),
                         fmt::format("value {} of '{}' is not a finite number: '{}'", c, id, fields[c]));
      }
      values.push_back(v);
    }
  }
  if (declared >= 0 && dim == 1 && (declared != t.ids.size() || t.ids.size() == 0) && !t.ids.find(first_id)) {
    // One-dimensional vectors whose count the first line does not state: it is the first of them.
    IdMap ids;
    ids.add(first_id);
    for (Index i = 0; i < t.ids.size(); ++i) ids.add(t.ids.id(i));
    t.ids = std::move(ids);
    values.insert(values.begin(), first_value);
    declared = -1;
  }
  if (t.ids.size() == 0) throw DataError(fmt::format("'{}' contains no vectors", path));
  if (declared >= 0 && declared != t.ids.size()) {
    t.warnings.push_back(fmt::format("'{}': the header says {} vectors, the file has {}; all {} were read", path,
                                     declared, t.ids.size(), t.ids.size()));
  }
  t.vectors = Eigen::Map<const RowMatrix>(values.data(), t.ids.size(), dim);
  return t;
}

}  // namespace

EmbeddingTable read_embeddings(const std::string& path) {
  // The format is told from the first bytes, then the file is read from its start again: a pipe
  // or FIFO would lose those bytes (or, for a FIFO, wait for ever for a second writer).
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (!ec && type != std::filesystem::file_type::regular && type != std::filesystem::file_type::directory) {
    throw Error(fmt::format("'{}' is not a regular file (a pipe, FIFO or device): embeddings are read twice, once to "
                            "tell their format; write them to a file first",
                            path));
  }
  {
    std::ifstream probe(path);
    if (!probe) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));  // with the reason
  }
  if (is_npy(path) || !named_npy(path)) return read_embeddings_by_content(path);
  // Named .npy without NumPy's magic: still read by its content (a word2vec file so named works),
  // but a failure says first that the file is not what its name claims; the reader's own message
  // alone ("expected an id and 0 values") would not.
  try {
    return read_embeddings_by_content(path);
  } catch (const OutOfMemory&) {
    throw;  // the machine's limit, not the file's content: no note about its name
  } catch (const Error& e) {
    throw DataError(fmt::format("'{}' is named .npy but is not a NumPy array file (it does not begin with the bytes "
                            "\\x93NUMPY), and read as word2vec it fails: {}", path, e.what()));
  }
}

void write_word2vec(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force) {
  write_file(path, ids, vectors, force, EmbeddingFormat::kWord2vec);
}

void write_embedding_tsv(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force) {
  write_file(path, ids, vectors, force, EmbeddingFormat::kTsv);
}

}  // namespace linsim
