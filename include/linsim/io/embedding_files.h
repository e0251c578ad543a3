// Embeddings in the formats other tools read: word2vec text ("count dim" header, then
// "id v1 ... vk" per line, as gensim's load_word2vec_format reads it) and TSV ("id<TAB>v1...").
#pragma once

#include <string>
#include <vector>

#include "linsim/core/types.h"
#include "linsim/data/interaction_matrix.h"

namespace linsim {

// Both write atomically and refuse an existing file unless force. word2vec ids may not contain
// blanks; TSV ids may not contain tabs (an InvalidArgument names the id).
void write_word2vec(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force);
void write_embedding_tsv(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force);

// Embeddings read from a file: `.npy` (float32/float64, 2-d; ids "0", "1", …) or word2vec text
// (an optional "count dim" header, then "id v1 … vk" per line, blank-separated; plain GloVe files
// without the header are read too; may be gzip-compressed). A header whose count differs from the
// number of vector lines is not an error: every line is read and a warning says so. Malformed
// lines (wrong number of values, a value that is not a finite number, a repeated id) are
// InputErrors naming the file and line.
struct EmbeddingTable {
  Matrix vectors;
  IdMap ids;
  std::string format;  // "npy" or "word2vec"
  std::vector<std::string> warnings;
};
EmbeddingTable read_embeddings(const std::string& path);

}  // namespace linsim
