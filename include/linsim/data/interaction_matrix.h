// Interaction data: the sparse n × p matrix X (users × items, CSR) with the maps between
// external ids (strings as they appear in the input) and dense row/column indices.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

// A bijection between external ids and the dense indices 0..size()-1, in order of insertion.
class IdMap {
 public:
  // Returns the index of `id`, adding it at the end if it is new.
  Index add(std::string_view id);
  std::optional<Index> find(std::string_view id) const;
  // The index of `id`; throws InvalidArgument naming `what` ("item", "user") if unknown.
  Index at(std::string_view id, std::string_view what) const;
  const std::string& id(Index index) const { return ids_[static_cast<size_t>(index)]; }
  const std::vector<std::string>& ids() const { return ids_; }
  Index size() const { return static_cast<Index>(ids_.size()); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> ids_;
  std::unordered_map<std::string, Index, Hash, std::equal_to<>> index_;
};

// The number of users of each item (nonzeros per column of X): the popularity every metric uses.
Vector item_users(const SparseMatrix& X);

struct InteractionMatrix {
  SparseMatrix X;  // n_users × n_items, CSR, column indices sorted within each row
  IdMap users;
  IdMap items;

  Index n_users() const { return X.rows(); }
  Index n_items() const { return X.cols(); }
  Index nnz() const { return X.nonZeros(); }
};

}  // namespace linsim
