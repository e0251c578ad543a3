#include "linsim/io/embedding_files.h"

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/atomic_output.h"

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

void write_word2vec(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force) {
  write_rows(path, ids, vectors, force, true);
}

void write_embedding_tsv(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force) {
  write_rows(path, ids, vectors, force, false);
}

}  // namespace linsim
