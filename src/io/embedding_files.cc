#include "linsim/io/embedding_files.h"

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/npy.h"
#include "../data/line_reader.h"

#include <charconv>
#include <cmath>
#include <fstream>

namespace linsim {
namespace {

void write_rows(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force, bool word2vec) {
  if (ids.size() != vectors.rows()) {
    throw InvalidArgument(fmt::format("{} ids for {} vectors", ids.size(), vectors.rows()));
  }
  const char* forbidden = word2vec ? " \t\n" : "\t\n";
  for (const std::string& id : ids.ids()) {
    if (id.empty() || id.find_first_of(forbidden) != std::string::npos) {
      throw InvalidArgument(fmt::format("id '{}' cannot be written in {} format ({})", id, word2vec ? "word2vec" : "TSV",
                                        word2vec ? "it contains a blank" : "it contains a tab"));
    }
  }
  AtomicFile file(path, force);
  fmt::memory_buffer buffer;
  if (word2vec) fmt::format_to(std::back_inserter(buffer), "{} {}\n", vectors.rows(), vectors.cols());
  const char sep = word2vec ? ' ' : '\t';
  for (Index i = 0; i < vectors.rows(); ++i) {
    fmt::format_to(std::back_inserter(buffer), "{}", ids.id(i));
    for (Index c = 0; c < vectors.cols(); ++c) fmt::format_to(std::back_inserter(buffer), "{}{}", sep, vectors(i, c));
    buffer.push_back('\n');
    if (buffer.size() > (1u << 20)) {
      file.stream().write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  file.stream().write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  file.commit();
}

}  // namespace

namespace {

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

}  // namespace

EmbeddingTable read_embeddings(const std::string& path) {
  EmbeddingTable t;
  {
    std::ifstream probe(path);
    if (!probe) throw Error(fmt::format("cannot open '{}'", path));
  }
  if (is_npy(path)) {
    t.format = "npy";
    t.vectors = read_npy_matrix(path);
    for (Index i = 0; i < t.vectors.rows(); ++i) t.ids.add(std::to_string(i));
    return t;
  }
  t.format = "word2vec";
  detail::LineReader reader(path);
  std::string_view line;
  Index dim = -1;
  Index declared = -1;
  std::vector<double> values;
  std::vector<std::string> ids;
  while (reader.next(line)) {
    const auto fields = blank_fields(line);
    if (fields.empty()) continue;
    if (reader.line_number() == 1 && fields.size() == 2) {
      double a = 0, b = 0;
      if (parse_double(fields[0], a) && parse_double(fields[1], b) && a >= 0 && b >= 1 && a == std::floor(a) &&
          b == std::floor(b)) {
        declared = static_cast<Index>(a);
        dim = static_cast<Index>(b);
        continue;
      }
    }
    if (dim < 0) dim = static_cast<Index>(fields.size()) - 1;
    if (dim < 1 || static_cast<Index>(fields.size()) != dim + 1) {
      throw InputError(path, reader.line_number(),
                       fmt::format("expected an id and {} values, found {} fields", dim, fields.size()));
    }
    const std::string id(fields[0]);
    if (t.ids.find(id)) throw InputError(path, reader.line_number(), fmt::format("id '{}' appears twice", id));
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
  if (t.ids.size() == 0) throw Error(fmt::format("'{}' contains no vectors", path));
  if (declared >= 0 && declared != t.ids.size()) {
    t.warnings.push_back(fmt::format("'{}': the header says {} vectors, the file has {}; all {} were read", path,
                                     declared, t.ids.size(), t.ids.size()));
  }
  t.vectors = Eigen::Map<const RowMatrix>(values.data(), t.ids.size(), dim);
  return t;
}

void write_word2vec(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force) {
  write_rows(path, ids, vectors, force, true);
}

void write_embedding_tsv(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force) {
  write_rows(path, ids, vectors, force, false);
}

}  // namespace linsim
