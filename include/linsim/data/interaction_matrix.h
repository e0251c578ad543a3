// Interaction data: the sparse n × p matrix X (users × items, CSR) with the maps between
// external ids (strings as they appear in the input) and dense row/column indices.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <cstdint>
#include <utility>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

// A bijection between external ids and the dense indices 0..size()-1, in order of insertion.
// Two indexes, chosen by the id alone: an id written as a plain decimal number below 2^24 ("0",
// "5308"; not "007" or "+5") is looked up by its value in a direct table (one 4-byte read: most
// files number their users and items); any other id in an open-addressing table of 64-bit slots
// (32 bits of the hash as a tag, 32 bits of index + 1; linear probing, at most half full), where
// a lookup is one slot read and, on a tag match, one string compare. Reading 50M lines spent half
// its time in a node-based map's lookups, and still half in the hash table with numeric ids.
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
  std::vector<std::uint32_t> by_number_;  // numeric ids: value -> index + 1 (0 = absent)
  std::vector<std::uint64_t> slots_;      // other ids: 0 = empty; else (tag << 32) | (index + 1)
  size_t hashed_ = 0;                     // ids in slots_
};

// The number of users of each item (nonzeros per column of X): the popularity every metric uses.
Vector item_users(const SparseView& X);

struct InteractionMatrix {
  SparseMatrix X;  // n_users × n_items, CSR, column indices sorted within each row
  IdMap users;
  IdMap items;

  InteractionMatrix() = default;
  InteractionMatrix(const InteractionMatrix&) = default;
  InteractionMatrix& operator=(const InteractionMatrix&) = default;
  // Eigen 3.4's SparseMatrix has no move operations: a moved one is copied entry by entry (600 MB
  // for 50M interactions, paged in afresh). These swap X's arrays instead.
  InteractionMatrix(InteractionMatrix&& other) noexcept : users(std::move(other.users)), items(std::move(other.items)) {
    X.swap(other.X);
  }
  InteractionMatrix& operator=(InteractionMatrix&& other) noexcept {
    X.swap(other.X);
    users = std::move(other.users);
    items = std::move(other.items);
    return *this;
  }

  Index n_users() const { return X.rows(); }
  Index n_items() const { return X.cols(); }
  Index nnz() const { return X.nonZeros(); }
};

}  // namespace linsim
