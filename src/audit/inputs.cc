#include "linsim/audit/inputs.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/embedding_files.h"
#include "linsim/io/model_dir.h"

namespace linsim {
namespace {

// A plain decimal row number ("0", "17"; not "007", "+5" or "1e3").
bool row_number(const std::string& id, std::uint64_t& value) {
  if (id.empty() || id.size() > 18 || (id.size() > 1 && id[0] == '0')) return false;
  value = 0;
  for (const char c : id) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

IdMap read_row_ids(const std::string& path, const std::string& option, Index rows, const std::string& vectors) {
  IdMap ids = read_ids(path);
  if (ids.size() != rows) {
    throw InvalidArgument(fmt::format("{} '{}' has {} ids for the {} rows of '{}'", option, path, ids.size(), rows,
                                      vectors));
  }
  return ids;
}

// X with row u moved to row_of[u] of a matrix with `rows` rows (row_of is injective).
SparseMatrix move_rows(const SparseView& X, const std::vector<Index>& row_of, Index rows) {
  std::vector<Eigen::Triplet<double, int>> entries;
  entries.reserve(static_cast<size_t>(X.nonZeros()));
  for (Index u = 0; u < X.rows(); ++u) {
    for (SparseView::InnerIterator it(X, u); it; ++it) {
      entries.emplace_back(static_cast<int>(row_of[static_cast<size_t>(u)]), static_cast<int>(it.col()), it.value());
    }
  }
  SparseMatrix Y(rows, X.cols());
  Y.setFromTriplets(entries.begin(), entries.end());
  return Y;
}

struct IdOrigin {
  bool implicit = false;  // .npy rows without an id file
  std::string source;     // where the ids came from, for messages ("the 20 ids in --item-ids 'x'")
  std::string vectors;    // the vector file or model directory
};

// Reads the interactions with the items' ids as columns; every failure to match is explained.
// What the reading warns of is appended to `notes`.
InteractionMatrix read_matched_items(const EmbeddingSources& s, const IdMap& item_ids, const IdOrigin& items,
                                     std::vector<std::string>& notes) {
  const std::string& path = s.interactions;
  const Index p = item_ids.size();
  InteractionMatrix data;
  try {
    ReadResult read = read_interactions(path, s.read, &item_ids);
    for (std::string& w : reading_warnings(read.summary)) notes.push_back(std::move(w));
    data = std::move(read.data);
  } catch (const InputError& e) {
    // Was it an id the items lack? Reading the file with its own ids tells (stdin cannot be read twice).
    if (path == "-") throw;
    InteractionMatrix own;
    try {
      own = read_interactions(path, s.read).data;
    } catch (const Error&) {
      throw e;
    }
    std::vector<std::string> unknown;
    for (const std::string& id : own.items.ids()) {
      if (!item_ids.find(id)) unknown.push_back(id);
    }
    if (unknown.empty()) throw e;
    if (items.implicit) {
      if (auto why = implicit_id_mismatch(own.items.ids(), p, "item", "--item-ids", items.vectors)) {
        throw InputError(e.file(), e.line(), *why);
      }
    }
    throw InputError(e.file(), e.line(),
                     fmt::format("the item on this line is not among {}; {} of the {} item ids in this file {} not "
                                 "(the first: '{}')", items.source, unknown.size(), own.items.size(),
                                 unknown.size() == 1 ? "is" : "are", unknown.front()));
  }
  if (items.implicit) {
    // Every id is a row number: check for the shift by one that 1-based ids leave.
    std::vector<Index> users_of(static_cast<size_t>(p), 0);
    for (Index q = 0; q < data.X.nonZeros(); ++q) ++users_of[static_cast<size_t>(data.X.innerIndexPtr()[q])];
    std::vector<std::string> found;
    for (Index j = 0; j < p; ++j) {
      if (users_of[static_cast<size_t>(j)] > 0) found.push_back(item_ids.id(j));
    }
    if (auto why = implicit_id_mismatch(found, p, "item", "--item-ids", items.vectors)) {
      throw DataError(fmt::format("'{}': {}", path, *why));
    }
  }
  return data;
}

}  // namespace

std::optional<std::string> implicit_id_mismatch(const std::vector<std::string>& found, Index rows,
                                                const std::string& what, const std::string& option,
                                                const std::string& embeddings) {
  Index outside = 0;
  std::string example;
  std::uint64_t example_value = 0;
  bool example_numeric = false, numeric = true;
  std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
  std::vector<char> seen(static_cast<size_t>(rows), 0);
  for (const std::string& id : found) {
    std::uint64_t v = 0;
    const bool is_number = row_number(id, v);
    if (is_number) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    } else {
      numeric = false;
    }
    if (is_number && v < static_cast<std::uint64_t>(rows)) {
      seen[static_cast<size_t>(v)] = 1;
      continue;
    }
    ++outside;
    if (example.empty() || (is_number && example_numeric && v > example_value)) {
      example = id;
      example_value = v;
      example_numeric = is_number;
    }
  }
  const auto p = static_cast<std::uint64_t>(rows);
  if (outside > 0) {
    std::string range, suggestion;
    if (numeric && lo >= 1 && hi == p) {
      range = fmt::format("the {} ids here run from 1 to {}: they look 1-based", what, p);
      suggestion = fmt::format(" (for 1-based ids: 1 to {}, if row r is {} r + 1)", p, what);
    } else if (numeric) {
      range = fmt::format("the {} ids here run from {} to {}", what, lo, hi);
    } else {
      range = fmt::format("the {} ids here are not row numbers", what);
    }
    return fmt::format("{} of the {} {} ids in this file {} of '{}' (e.g. '{}'): '{}' carries no ids, so "
                       "its {} rows are taken to be {}s 0 to {}, but {}. Give {} FILE with the id of each row of '{}', "
                       "one per line{}",
                       outside, found.size(), what, outside == 1 ? "is not a row" : "are not rows", embeddings, example, embeddings, rows,
                       what, rows - 1, range,
                       option, embeddings, suggestion);
  }
  if (rows >= 2 && !seen[0]) {
    const auto covered = static_cast<Index>(std::count(seen.begin() + 1, seen.end(), 1));
    if (static_cast<double>(covered) >= kShiftCoverage * static_cast<double>(rows - 1)) {
      return fmt::format("this file never names {} 0 but names {} of the {}s 1 to {} ({:.0f} %): its ids look "
                         "shifted by one against the rows of '{}', which carries no ids and is numbered from 0. Give "
                         "{} FILE with the id of each row, one per line: 1 to {} if row r is {} r + 1 (1-based ids), "
                         "or 0 to {} if row 0 really is {} {} without interactions (e.g. padding)",
                         what, covered, what, rows - 1, 100.0 * static_cast<double>(covered) / static_cast<double>(rows - 1),
                         embeddings, option, rows, what, rows - 1, what == "item" ? "an" : "a", what);
    }
  }
  return std::nullopt;
}

AuditInput read_embedding_sources(const EmbeddingSources& s, nlohmann::json& description, const ProgressFn& progress) {
  auto say = [&](const std::string& message) {
    if (progress) progress(message);
  };
  if (s.items.empty()) throw InvalidArgument("--items is required");
  if (!s.user_ids.empty() && s.users.empty()) {
    throw InvalidArgument("--user-ids names the rows of --users: give --users too");
  }
  if (!s.interactions.empty() && s.read.min_item_users > 0) {
    throw InvalidArgument(fmt::format("--min-item-users {} does not apply here: the items are the rows of '{}'",
                                      s.read.min_item_users, s.items));
  }
  AuditInput in;
  description = nlohmann::json::object();
  description["items"] = s.items;
  IdOrigin items, users;
  items.vectors = s.items;
  users.vectors = s.users;
  if (std::filesystem::is_directory(s.items)) {
    if (!s.item_ids.empty()) throw InvalidArgument("--item-ids does not apply to a model directory (it has its ids)");
    say(fmt::format("reading model {}", s.items));
    ModelBundle b = read_model_dir(s.items);
    if (!b.model.has_embeddings()) {
      throw InvalidArgument(fmt::format("'{}' is an EASE model: it has no embeddings", s.items));
    }
    in.items = std::move(b.model.item_embeddings);
    in.item_ids = std::move(b.data.items);
    items.source = fmt::format("the {} items of model '{}'", in.item_ids.size(), s.items);
    if (s.users.empty()) {
      in.users = std::move(b.model.user_embeddings);
      in.user_ids = b.data.users;
    }
    if (s.interactions.empty()) {
      in.interactions = std::move(b.data.X);
      in.interaction_users = std::move(b.data.users);
    }
    description["items_format"] = "linsim model";
    description["model"] = model_name(b.model.options.kind);
  } else {
    say(fmt::format("reading {}", s.items));
    EmbeddingTable t = read_embeddings(s.items);
    in.items = std::move(t.vectors);
    in.item_ids = std::move(t.ids);
    in.notes = std::move(t.warnings);
    items.implicit = t.implicit_ids;
    items.source = fmt::format("the {} ids of '{}'", in.item_ids.size(), s.items);
    description["items_format"] = t.format;
    if (!s.item_ids.empty()) {
      // Ids replace row numbers; a word2vec or tsv file's own ids were silently replaced.
      if (!t.implicit_ids) {
        throw InvalidArgument(fmt::format("--item-ids names the rows of an .npy; '{}' ({}) carries its own ids",
                                          s.items, t.format));
      }
      in.item_ids = read_row_ids(s.item_ids, "--item-ids", in.items.rows(), s.items);
      items.implicit = false;
      items.source = fmt::format("the {} ids in --item-ids '{}'", in.item_ids.size(), s.item_ids);
      description["item_ids"] = s.item_ids;
    }
  }
  if (!s.users.empty()) {
    say(fmt::format("reading {}", s.users));
    EmbeddingTable u = read_embeddings(s.users);
    in.users = std::move(u.vectors);
    in.user_ids = std::move(u.ids);
    for (auto& w : u.warnings) in.notes.push_back(std::move(w));
    users.implicit = u.implicit_ids;
    users.source = fmt::format("the {} ids of '{}'", in.user_ids.size(), s.users);
    description["users"] = s.users;
    description["users_format"] = u.format;
    if (!s.user_ids.empty()) {
      if (!u.implicit_ids) {
        throw InvalidArgument(fmt::format("--user-ids names the rows of an .npy; '{}' ({}) carries its own ids",
                                          s.users, u.format));
      }
      in.user_ids = read_row_ids(s.user_ids, "--user-ids", in.users->rows(), s.users);
      users.implicit = false;
      users.source = fmt::format("the {} ids in --user-ids '{}'", in.user_ids.size(), s.user_ids);
      description["user_ids"] = s.user_ids;
    }
  }
  if (!s.interactions.empty()) {
    say(fmt::format("reading {}", s.interactions));
    InteractionMatrix data = read_matched_items(s, in.item_ids, items, in.notes);
    if (!s.users.empty()) {
      // The interactions must be those of the given users: their rows become the user rows.
      const std::string& path = s.interactions;
      if (users.implicit) {
        if (auto why = implicit_id_mismatch(data.users.ids(), in.users->rows(), "user", "--user-ids", s.users)) {
          throw DataError(fmt::format("'{}': {}", path, *why));
        }
      }
      std::vector<Index> row_of(static_cast<size_t>(data.users.size()));
      Index unknown = 0;
      std::string first;
      for (Index u = 0; u < data.users.size(); ++u) {
        const auto row = in.user_ids.find(data.users.id(u));
        if (!row) {
          if (unknown++ == 0) first = data.users.id(u);
          continue;
        }
        row_of[static_cast<size_t>(u)] = *row;
      }
      if (unknown > 0) {
        throw DataError(fmt::format("'{}': {} of its {} user ids {} not among {} (the first: '{}'); the interactions must "
                                "be those of the users whose vectors --users gives",
                                path, unknown, data.users.size(), unknown == 1 ? "is" : "are", users.source, first));
      }
      data.X = move_rows(data.X, row_of, in.users->rows());
      data.users = in.user_ids;
    }
    in.interactions = std::move(data.X);
    in.interaction_users = std::move(data.users);
    description["interactions"] = s.interactions;
  }
  return in;
}

void check_vector_scale(const Matrix& V, const char* what) {
  if (V.size() > 0 && !std::isfinite(V.squaredNorm())) {
    throw InvalidArgument(fmt::format("the {} vectors are too large: their sum of squares overflows (largest |value| "
                                      "{:.4g}); scale them down",
                                      what, V.cwiseAbs().maxCoeff()));
  }
  const double largest = V.size() > 0 ? V.cwiseAbs().maxCoeff() : 0.0;
  if (largest > 0 && V.rowwise().squaredNorm().maxCoeff() < std::numeric_limits<double>::min()) {
    throw InvalidArgument(fmt::format("the {} vectors are too small: their squared lengths underflow (largest |value| "
                                      "{:.4g}); scale them up",
                                      what, largest));
  }
}

}  // namespace linsim
