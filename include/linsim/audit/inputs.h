// The embeddings `linsim audit` and `linsim export` read from files, with their ids and the
// interactions matched to them: item (and user) vectors as .npy, word2vec text or binary, or a
// linsim model directory; ids of .npy rows from id files; interactions whose item (and user) ids
// must name those rows.
//
// Matching ids. Interactions name items by id; the item vectors' ids come from the vector file
// (word2vec, model directory), from an id file (`--item-ids`), or, for .npy without one, are the
// row numbers 0..p−1 ("implicit"). With implicit ids two mistakes are common and would give
// wrong numbers silently, so both are refused with an Error that explains the mismatch and names
// the id option:
//   - an interaction id that is not a row number 0..p−1 (e.g. p itself, from 1-based ids);
//   - a shift: id 0 never occurs while at least 90 % of the ids 1..p−1 do (kShiftCoverage). Then
//     the ids are most likely 1-based with the last item unused, or row 0 is padding; only an id
//     file can say which, so one is required (the message says what to put in it).
// With explicit ids an unknown item id is an InputError at its line, naming where the ids came
// from. The same holds for users when user vectors (`--users`) and interactions are both given:
// the interactions' users must be rows of the user vectors (implicit or `--user-ids`), and the
// interaction matrix is then re-ordered to the user rows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "linsim/audit/audit.h"
#include "linsim/core/context.h"
#include "linsim/data/readers.h"

namespace linsim {

struct EmbeddingSources {
  std::string items;         // .npy, word2vec text or binary, or a linsim model directory (required)
  std::string users;         // user (context) vectors of the same dimension; optional
  std::string item_ids;      // ids of the .npy item rows, one per line; optional
  std::string user_ids;      // ids of the .npy user rows, one per line; optional (needs users)
  std::string interactions;  // interactions naming the items (and users) by id; optional
  ReadOptions read;          // how the interactions are read (min_item_users must stay 0)
};

// The share of ids 1..p−1 that must occur, id 0 missing, for implicit ids to count as shifted.
inline constexpr double kShiftCoverage = 0.9;

// Reads `sources` into an AuditInput (all but the truth). Input warnings (a word2vec header that
// disagrees with its lines, …) are in notes. `description` receives the paths and formats, as
// audit.json's "input". Throws InvalidArgument for options that do not go together (ids for a
// model directory, --user-ids without --users, an id file with the wrong number of lines, an EASE
// model), Error/InputError for unreadable or mismatched files (see above).
AuditInput read_embedding_sources(const EmbeddingSources& sources, nlohmann::json& description,
                                  const ProgressFn& progress = {});

// Why `found` (the ids an interaction file names, as strings) cannot be the implicit row numbers
// 0..rows−1 of the file `embeddings`, or nullopt when they can (see above). `what` is "item" or
// "user", `option` the id option the message suggests ("--item-ids"). The message speaks of the
// interaction file as "this file": the caller prefixes its name (or its name and line).
std::optional<std::string> implicit_id_mismatch(const std::vector<std::string>& found, Index rows,
                                                const std::string& what, const std::string& option,
                                                const std::string& embeddings);

// Norms, cosines and Gram matrices square the vectors' values: throws InvalidArgument when the
// sum of their squares overflows, or when every squared row length underflows to 0 (the vectors
// would all count as zero). `what` is "item" or "user". The audit and the export both check it
// (an export of such vectors wrote rows of 0 or NaN, exit 0).
void check_vector_scale(const Matrix& V, const char* what);

}  // namespace linsim
