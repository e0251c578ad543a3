#include "linsim/data/interaction_matrix.h"

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {

Vector item_users(const SparseMatrix& X) {
  Vector count = Vector::Zero(X.cols());
  for (Index q = 0; q < X.nonZeros(); ++q) count(X.innerIndexPtr()[q]) += 1.0;
  return count;
}

Index IdMap::add(std::string_view id) {
  if (auto it = index_.find(id); it != index_.end()) return it->second;
  const auto index = static_cast<Index>(ids_.size());
  ids_.emplace_back(id);
  index_.emplace(ids_.back(), index);
  return index;
}

std::optional<Index> IdMap::find(std::string_view id) const {
  if (auto it = index_.find(id); it != index_.end()) return it->second;
  return std::nullopt;
}

Index IdMap::at(std::string_view id, std::string_view what) const {
  if (auto index = find(id)) return *index;
  throw InvalidArgument(fmt::format("unknown {} id '{}'", what, id));
}

}  // namespace linsim
