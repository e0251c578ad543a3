#include "linsim/data/interaction_matrix.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <functional>

#include "linsim/core/error.h"

namespace linsim {

Vector item_users(const SparseView& X) {
  Vector count = Vector::Zero(X.cols());
  for (Index q = 0; q < X.nonZeros(); ++q) count(X.innerIndexPtr()[q]) += 1.0;
  return count;
}

namespace {
std::uint64_t hash_of(std::string_view id) { return std::hash<std::string_view>{}(id); }
std::uint64_t tag_of(std::uint64_t hash) { return hash >> 32; }
size_t index_of(std::uint64_t slot) { return static_cast<size_t>((slot & 0xffffffffu) - 1); }

// The value of an id written as a plain decimal number below 2^24 (no sign, no leading zero,
// at most 8 digits); -1 for any other id. The choice depends on the id alone, so every id has
// exactly one home.
constexpr std::int64_t kNumberLimit = std::int64_t{1} << 24;
std::int64_t number_of(std::string_view id) {
  if (id.empty() || id.size() > 8 || (id[0] == '0' && id.size() > 1)) return -1;
  std::int64_t value = 0;
  for (const char c : id) {
    if (c < '0' || c > '9') return -1;
    value = 10 * value + (c - '0');
  }
  return value < kNumberLimit ? value : -1;
}
}  // namespace

size_t IdMap::slot_of(std::string_view id, std::uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) return i;
    if ((slot >> 32) == tag_of(hash) && ids_[index_of(slot)] == id) return i;
  }
}

void IdMap::grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  slots_.assign(std::max<size_t>(16, 2 * old.size()), 0);
  const size_t mask = slots_.size() - 1;
  for (const std::uint64_t slot : old) {
    if (slot == 0) continue;
    size_t i = hash_of(ids_[index_of(slot)]) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

Index IdMap::add(std::string_view id) {
  if (ids_.size() >= 0xffffffffu) throw Error("more than 2^32 - 1 distinct ids");
  if (const std::int64_t number = number_of(id); number >= 0) {
    const auto at = static_cast<size_t>(number);
    if (at >= by_number_.size()) {  // grow by doubling: amortised, and at most 64 MB
      by_number_.resize(std::max<size_t>(std::bit_ceil(at + 1), 2 * by_number_.size()), 0);
    }
    if (by_number_[at] != 0) return static_cast<Index>(by_number_[at] - 1);
    ids_.emplace_back(id);
    by_number_[at] = static_cast<std::uint32_t>(ids_.size());
    return static_cast<Index>(ids_.size() - 1);
  }
  if (2 * (hashed_ + 1) > slots_.size()) grow();
  const std::uint64_t hash = hash_of(id);
  const size_t i = slot_of(id, hash);
  if (slots_[i] != 0) return static_cast<Index>(index_of(slots_[i]));
  ids_.emplace_back(id);
  ++hashed_;
  slots_[i] = (tag_of(hash) << 32) | static_cast<std::uint64_t>(ids_.size());
  return static_cast<Index>(ids_.size() - 1);
}

std::optional<Index> IdMap::find(std::string_view id) const {
  if (const std::int64_t number = number_of(id); number >= 0) {
    const auto at = static_cast<size_t>(number);
    if (at >= by_number_.size() || by_number_[at] == 0) return std::nullopt;
    return static_cast<Index>(by_number_[at] - 1);
  }
  if (slots_.empty()) return std::nullopt;
  const size_t i = slot_of(id, hash_of(id));
  if (slots_[i] == 0) return std::nullopt;
  return static_cast<Index>(index_of(slots_[i]));
}

Index IdMap::at(std::string_view id, std::string_view what) const {
  if (auto index = find(id)) return *index;
  throw InvalidArgument(fmt::format("unknown {} id '{}'", what, id));
}

}  // namespace linsim
