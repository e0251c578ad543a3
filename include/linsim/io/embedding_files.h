// Embeddings in the formats other tools read: word2vec text ("count dim" header, then
// "id v1 ... vk" per line, as gensim's load_word2vec_format reads it), word2vec binary (read
// only), TSV ("id<TAB>v1...") and NumPy .npy (rows only; the ids go in a companion file).
#pragma once

#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "linsim/core/types.h"
#include "linsim/data/interaction_matrix.h"

namespace linsim {

// The most rows an embedding table may have: neighbour search stores row indices as int.
inline constexpr Index kMaxEmbeddingRows = std::numeric_limits<int>::max();

enum class EmbeddingFormat { kNpy, kWord2vec, kTsv };

// "npy", "word2vec" or "tsv"; anything else is an InvalidArgument naming --format.
EmbeddingFormat parse_embedding_format(const std::string& name);

// Throws InvalidArgument naming the first id that `format` cannot hold: word2vec ids may not
// contain blanks, TSV ids no tab, the id lines beside an .npy no tab or line break; no id may be
// empty. Call it before creating any output file.
void check_writable_ids(const IdMap& ids, EmbeddingFormat format);

// Writes `vectors` (one row per id) to `out`: npy as float64 C-order rows (no ids: pair it with
// write_id_lines), word2vec text with its "count dim" header, or TSV. Checks the ids first.
void write_embeddings(std::ostream& out, const IdMap& ids, const Matrix& vectors, EmbeddingFormat format);

// The ids one per line in row order, as read_ids (io/model_dir.h) and `--item-ids` read them.
void write_id_lines(std::ostream& out, const IdMap& ids);

// The id file written beside an .npy export: `OUT` without a trailing ".npy", plus ".ids.tsv"
// (c.npy → c.ids.tsv, vectors → vectors.ids.tsv).
std::string ids_path_for(const std::string& npy_path);

// Both write atomically and refuse an existing file unless force. word2vec ids may not contain
// blanks; TSV ids may not contain tabs (an InvalidArgument names the id).
void write_word2vec(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force);
void write_embedding_tsv(const std::string& path, const IdMap& ids, const Matrix& vectors, bool force);

// Embeddings read from a file:
//   .npy     float32/float64, 2-d; no ids (implicit_ids: the rows are numbered "0", "1", …);
//   word2vec text: an optional "count dim" header, then "id v1 … vk" per line, blank-separated;
//            plain GloVe files without the header are read too; may be gzip-compressed. A header
//            whose count differs from the number of vector lines is not an error: every line is
//            read and a warning says so. A header count of 2^53 or more, or a dimension above
//            2^31 − 1, is an InputError. Malformed lines (wrong number of values, a value that is
//            not a finite number, a repeated id) are InputErrors naming the file and line;
//   word2vec binary (gensim's save_word2vec_format(binary=True), word2vec.c): the text header
//            "count dim", then per vector the id, a blank and dim little-endian float32 (an
//            optional newline before each id is skipped); may be gzip-compressed. Recognised by
//            non-text bytes after a valid header. Exactly `count` vectors are read; a file that
//            ends early, an id over 64 KiB, a non-finite value or a repeated id is an Error
//            naming the vector's number and id; bytes after the last vector are a warning.
// More than kMaxEmbeddingRows vectors is an error (for binary files, from the header alone).
struct EmbeddingTable {
  Matrix vectors;
  IdMap ids;
  std::string format;  // "npy", "word2vec" or "word2vec-binary"
  bool implicit_ids = false;  // .npy: ids are the row numbers, not read from the file
  std::vector<std::string> warnings;
};
EmbeddingTable read_embeddings(const std::string& path);

}  // namespace linsim
