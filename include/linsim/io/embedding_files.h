// Embeddings in the formats other tools read: word2vec text ("count dim" header, then
// "id v1 ... vk" per line, as gensim's load_word2vec_format reads it) and TSV ("id<TAB>v1...").
#pragma once

#include <string>

#include "linsim/core/types.h"
#include "linsim/data/interaction_matrix.h"

namespace linsim {

// Both write atomically and refuse an existing file unless force. word2vec ids may not contain
// blanks; TSV ids may not contain tabs (an InvalidArgument names the id).
void write_word2vec(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force);
void write_embedding_tsv(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force);

}  // namespace linsim
