#include "linsim/io/npy.h"

#include <bit>
#include <charconv>
#include <filesystem>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <type_traits>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "io/file_sink.h"

namespace linsim {

std::string npy_header(const char* descr, const std::vector<size_t>& shape, bool fortran_order) {
  // numpy's tuple syntax: "(n,)" for 1-D, "(r, c)" for 2-D.
  const std::string shape_text = shape.size() == 1 ? fmt::format("({},)", shape[0])
                                                   : fmt::format("({}, {})", shape[0], shape[1]);
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}", descr,
                                   fortran_order ? "True" : "False", shape_text);
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending "\n".
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  const auto length = static_cast<std::uint16_t>(header.size());
  std::string out = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<char>(length & 0xff));
  out.push_back(static_cast<char>(length >> 8));
  return out + header;
}

namespace {

static_assert(std::endian::native == std::endian::little, "the .npy writer assumes little-endian");

// A file of a known size, large ones around the page cache (io/file_sink.h).
void write_array(const std::string& path, const char* descr, const std::vector<size_t>& shape, const void* data,
                 size_t bytes) {
  const std::string header = npy_header(descr, shape, false);
  FileSink sink(path, header.size() + bytes);
  sink.write(header.data(), header.size());
  sink.write(data, bytes);
  sink.finish();
}

struct NpyArray {
  std::string descr;
  bool fortran_order = false;
  std::vector<size_t> shape;
  std::vector<char> data;
};

// Headers of the arrays linsim reads are under 200 bytes; numpy itself refuses headers over 10,000
// bytes unless told otherwise. The limit keeps a corrupt length field from costing memory.
constexpr std::uint32_t kMaxHeaderBytes = 1 << 16;

[[noreturn]] void malformed(const std::string& path, const std::string& header, const std::string& what) {
  throw DataError(fmt::format("'{}': malformed .npy header ({}): {}", path, what,
                          header.size() > 200 ? header.substr(0, 200) + "..." : header));
}

// The text after "'key':" in the header dictionary, up to the entry's end: a quoted string, a
// parenthesised tuple or a bare word (True/False).
std::string header_value(const std::string& header, const std::string& key, const std::string& path) {
  const auto pos = header.find("'" + key + "'");
  if (pos == std::string::npos) malformed(path, header, fmt::format("no '{}'", key));
  // numpy takes a repeated key's last value, this reader took the first: the two read the file
  // differently, so neither is taken.
  if (header.find("'" + key + "'", pos + 1) != std::string::npos) malformed(path, header, fmt::format("'{}' is given twice", key));
  size_t start = header.find_first_not_of(' ', pos + key.size() + 2);
  if (start == std::string::npos || header[start] != ':') malformed(path, header, fmt::format("no ':' after '{}'", key));
  start = header.find_first_not_of(' ', start + 1);
  if (start == std::string::npos) malformed(path, header, fmt::format("no value for '{}'", key));
  size_t end = std::string::npos;
  if (header[start] == '(') {
    end = header.find(')', start);
    if (end != std::string::npos) ++end;
  } else if (header[start] == '\'') {
    end = header.find('\'', start + 1);
    if (end != std::string::npos) ++end;
  } else {
    end = header.find_first_of(",}", start);
  }
  if (end == std::string::npos) malformed(path, header, fmt::format("unterminated value of '{}'", key));
  return header.substr(start, end - start);
}

// The shape tuple: "()" , "(n,)" or "(r, c)" with non-negative decimal integers.
std::vector<size_t> parse_shape(const std::string& text, const std::string& path, const std::string& header) {
  std::vector<size_t> shape;
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') malformed(path, header, "shape is not a tuple");
  std::string_view rest(text.data() + 1, text.size() - 2);
  while (true) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    size_t value = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || ptr == rest.data() || value > static_cast<size_t>(PTRDIFF_MAX)) {
      malformed(path, header, "shape entries must be non-negative integers below 2^63");
    }
    shape.push_back(value);
    rest.remove_prefix(static_cast<size_t>(ptr - rest.data()));
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    if (rest.front() != ',') malformed(path, header, "shape entries must be separated by commas");
    rest.remove_prefix(1);
  }
  return shape;
}

// Opens a .npy file and reads its header; `in` is left at the first data byte, `data_bytes` is
// what the file holds after the header. a.data stays empty.
NpyArray read_header(std::ifstream& in, const std::string& path, std::uint64_t& data_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    throw Error(fmt::format("cannot open '{}': no such file", path));
  }
  if (status.type() != std::filesystem::file_type::regular) {
    throw Error(fmt::format("cannot read '{}': not a regular file (a .npy file is expected)", path));
  }
  const std::uint64_t file_bytes = std::filesystem::file_size(path, ec);
  if (!in) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  char magic[8] = {};
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw DataError(fmt::format("'{}' is not a .npy file (bad magic)", path));
  }
  std::uint32_t length = 0;
  std::uint64_t prefix = 10;
  if (magic[6] == 1) {
    std::uint16_t l16 = 0;
    in.read(reinterpret_cast<char*>(&l16), 2);
    length = l16;
  } else if (magic[6] == 2 || magic[6] == 3) {
    in.read(reinterpret_cast<char*>(&length), 4);
    prefix = 12;
  } else {
    throw DataError(fmt::format("'{}': unsupported .npy version {}", path, static_cast<int>(magic[6])));
  }
  if (!in) throw DataError(fmt::format("'{}': truncated .npy header", path));
  if (length > kMaxHeaderBytes || prefix + length > file_bytes) {
    throw DataError(fmt::format("'{}': the .npy header claims {} bytes (the file has {}; headers are at most {})", path,
                            length, file_bytes, kMaxHeaderBytes));
  }
  std::string header(length, '\0');
  in.read(header.data(), length);
  if (!in) throw DataError(fmt::format("'{}': truncated .npy header", path));
  data_bytes = file_bytes - prefix - length;
  NpyArray a;
  const std::string descr = header_value(header, "descr", path);
  if (descr.size() < 2 || descr.front() != '\'' || descr.back() != '\'') malformed(path, header, "descr is not a string");
  a.descr = descr.substr(1, descr.size() - 2);
  const std::string order = header_value(header, "fortran_order", path);
  if (order != "True" && order != "False") malformed(path, header, "fortran_order is neither True nor False");
  a.fortran_order = order == "True";
  a.shape = parse_shape(header_value(header, "shape", path), path, header);
  if (a.descr != "<f8" && a.descr != "<i8" && a.descr != "<f4" && a.descr != "<i4") {
    throw DataError(fmt::format("'{}': unsupported dtype '{}' (little-endian float32, float64, int32, int64)", path, a.descr));
  }
  return a;
}

size_t item_bytes(const NpyArray& a) { return a.descr == "<f8" || a.descr == "<i8" ? 8 : 4; }

// The number of values the shape declares, checked against what the file holds before anything
// is allocated (a header may claim any shape).
size_t element_count(const NpyArray& a, std::uint64_t data_bytes, const std::string& path) {
  std::uint64_t count = 1;
  bool overflow = false;
  for (size_t d : a.shape) overflow = overflow || __builtin_mul_overflow(count, std::uint64_t{d}, &count);
  std::uint64_t bytes = 0;
  overflow = overflow || __builtin_mul_overflow(count, std::uint64_t{item_bytes(a)}, &bytes);
  std::string shape;
  for (size_t d : a.shape) shape += fmt::format("{}{}", shape.empty() ? "" : ", ", d);
  // An array with no values says nothing about its other dimensions, yet a reader would walk them
  // (a shape of (10^15, 0) is 10^15 empty rows): refused unless every dimension is 0.
  if (!overflow && count == 0) {
    for (size_t d : a.shape) {
      if (d != 0) {
        throw DataError(fmt::format("'{}': the .npy header declares shape ({}), which holds no values; linsim reads "
                                "only arrays with values (or with every dimension 0)", path, shape));
      }
    }
  }
  if (overflow || bytes != data_bytes) {
    throw DataError(fmt::format("'{}': the .npy header declares shape ({}) of '{}', {} bytes of data, but the file holds {}{}",
                            path, shape, a.descr, overflow ? std::string("more than 2^64") : std::to_string(bytes),
                            data_bytes, !overflow && bytes > data_bytes ? " (truncated?)" : ""));
  }
  return static_cast<size_t>(count);
}

void read_exactly(std::ifstream& in, char* to, size_t bytes, size_t count, const std::string& path) {
  in.read(to, static_cast<std::streamsize>(bytes));
  if (!in) throw DataError(fmt::format("'{}': truncated .npy data ({} values expected)", path, count));
}

NpyArray read_array(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t data_bytes = 0;
  NpyArray a = read_header(in, path, data_bytes);
  const size_t count = element_count(a, data_bytes, path);
  a.data.resize(count * item_bytes(a));
  read_exactly(in, a.data.data(), a.data.size(), count, path);
  return a;
}

double element(const NpyArray& a, size_t i) {
  if (a.descr == "<f8") { double v; std::memcpy(&v, a.data.data() + 8 * i, 8); return v; }
  if (a.descr == "<f4") { float v; std::memcpy(&v, a.data.data() + 4 * i, 4); return v; }
  if (a.descr == "<i8") { std::int64_t v; std::memcpy(&v, a.data.data() + 8 * i, 8); return static_cast<double>(v); }
  std::int32_t v; std::memcpy(&v, a.data.data() + 4 * i, 4); return v;
}

}  // namespace

namespace {

// A matrix is written as linsim holds it, column-major ('fortran_order': True, which np.load reads
// as the same array): straight from memory in its own precision, converted 64 columns at a time
// otherwise, never a transposed copy (an EASE weight matrix is p × p). put(data, bytes) appends.
template <typename Scalar, typename Source, typename Put>
void put_columns(const Put& put, const char* descr, const MatrixOf<Source>& M) {
  const std::string header = npy_header(descr, {static_cast<size_t>(M.rows()), static_cast<size_t>(M.cols())}, true);
  put(header.data(), header.size());
  if constexpr (std::is_same_v<Scalar, Source>) {
    put(M.data(), sizeof(Scalar) * static_cast<size_t>(M.size()));
  } else {
    constexpr Index kColumns = 64;
    MatrixOf<Scalar> block;
    for (Index c0 = 0; c0 < M.cols(); c0 += kColumns) {
      block = M.middleCols(c0, std::min(kColumns, M.cols() - c0)).template cast<Scalar>();
      put(block.data(), sizeof(Scalar) * static_cast<size_t>(block.size()));
    }
  }
}

template <typename Scalar, typename Source>
void write_columns(std::ostream& out, const char* descr, const MatrixOf<Source>& M) {
  put_columns<Scalar>([&](const void* data, size_t bytes) {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  }, descr, M);
}

template <typename Scalar, typename Source>
void write_columns(const std::string& path, const char* descr, const MatrixOf<Source>& M) {
  const size_t header = npy_header(descr, {static_cast<size_t>(M.rows()), static_cast<size_t>(M.cols())}, true).size();
  FileSink sink(path, header + sizeof(Scalar) * static_cast<size_t>(M.size()));
  put_columns<Scalar>([&](const void* data, size_t bytes) { sink.write(data, bytes); }, descr, M);
  sink.finish();
}

// A 2-D array in Scalar: read in place when the file holds Scalar in linsim's layout, converted
// element by element otherwise.
template <typename Scalar>
MatrixOf<Scalar> read_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t data_bytes = 0;
  NpyArray a = read_header(in, path, data_bytes);
  const size_t count = element_count(a, data_bytes, path);
  if (a.shape.empty() || a.shape.size() > 2) {
    throw DataError(fmt::format("'{}': expected a 1-D or 2-D array, got {} dimensions", path, a.shape.size()));
  }
  const auto rows = static_cast<Index>(a.shape[0]);
  const auto cols = static_cast<Index>(a.shape.size() == 2 ? a.shape[1] : 1);
  MatrixOf<Scalar> M(rows, cols);
  prefer_huge_pages(M, PageUse::kBulk);  // a p × p weight matrix is gigabytes, every page of it written once here
  const char* own = std::is_same_v<Scalar, double> ? "<f8" : "<f4";
  if (a.descr == own && (a.fortran_order || cols == 1)) {  // the layout of M: read in place
    read_exactly(in, reinterpret_cast<char*>(M.data()), sizeof(Scalar) * static_cast<size_t>(M.size()),
                 static_cast<size_t>(M.size()), path);
    return M;
  }
  a.data.resize(count * item_bytes(a));
  read_exactly(in, a.data.data(), a.data.size(), count, path);
  for (Index r = 0; r < rows; ++r) {
    for (Index c = 0; c < cols; ++c) {
      const auto i = static_cast<size_t>(a.fortran_order ? c * rows + r : r * cols + c);
      M(r, c) = static_cast<Scalar>(element(a, i));
    }
  }
  return M;
}

}  // namespace

void write_npy(const std::string& path, const Matrix& M) { write_columns<double>(path, "<f8", M); }

void write_npy(std::ostream& out, const Matrix& M) { write_columns<double>(out, "<f8", M); }

void write_npy(const std::string& path, const MatrixF& M) { write_columns<float>(path, "<f4", M); }

void write_npy(const std::string& path, const Vector& v) {
  write_array(path, "<f8", {static_cast<size_t>(v.size())}, v.data(), sizeof(double) * static_cast<size_t>(v.size()));
}

void write_npy_float32(const std::string& path, const Matrix& M) { write_columns<float>(path, "<f4", M); }

void write_npy(const std::string& path, const std::vector<std::int64_t>& v) {
  write_array(path, "<i8", {v.size()}, v.data(), sizeof(std::int64_t) * v.size());
}

void write_npy(const std::string& path, const std::int32_t* data, size_t n) {
  write_array(path, "<i4", {n}, data, sizeof(std::int32_t) * n);
}

void write_npy(const std::string& path, const double* data, size_t n) {
  write_array(path, "<f8", {n}, data, sizeof(double) * n);
}

Matrix read_npy_matrix(const std::string& path) { return read_matrix<double>(path); }

MatrixF read_npy_matrix_float32(const std::string& path) { return read_matrix<float>(path); }

Vector read_npy_vector(const std::string& path) {
  const Matrix M = read_npy_matrix(path);
  if (M.cols() != 1) throw DataError(fmt::format("'{}': expected a 1-D array", path));
  return M.col(0);
}

std::vector<std::int64_t> read_npy_int64(const std::string& path) {
  const NpyArray a = read_array(path);
  if (a.shape.size() != 1 || (a.descr != "<i8" && a.descr != "<i4")) {
    throw DataError(fmt::format("'{}': expected a 1-D integer array", path));
  }
  // Read as integers (never through double, which cannot hold every int64).
  std::vector<std::int64_t> v(a.shape[0]);
  for (size_t i = 0; i < v.size(); ++i) {
    if (a.descr == "<i8") {
      std::memcpy(&v[i], a.data.data() + 8 * i, 8);
    } else {
      std::int32_t x;
      std::memcpy(&x, a.data.data() + 4 * i, 4);
      v[i] = x;
    }
  }
  return v;
}

}  // namespace linsim
