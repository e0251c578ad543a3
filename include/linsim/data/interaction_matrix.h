// Interaction data: the sparse n × p matrix X (users × items, CSR) with the maps between
// external ids (strings as they appear in the input) and dense row/column indices.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <cstdint>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

// A bijection between external ids and the dense indices 0..size()-1, in order of insertion.
// The index is an open-addressing table of 64-bit slots (32 bits of the hash as a tag, 32 bits of
// index + 1; linear probing, at most half full): a lookup is one slot read and, on a tag match, one
// string compare, instead of a node-based map's chain of pointers (reading 50M lines spent half
// its time in those lookups).
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
  // The slot of `id`: its entry, or the empty slot where it would go.
  size_t slot_of(std::string_view id, std::uint64_t hash) const;
  void grow();
  std::vector<std::string> ids_;
  std::vector<std::uint64_t> slots_;  // 0 = empty; else (tag << 32) | (index + 1)
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
