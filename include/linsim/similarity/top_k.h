// The one top-k selection of the library. Order: higher score first; equal scores by lower
// index. NaN scores are never selected.
#pragma once

#include <algorithm>
#include <limits>
#include <span>
#include <vector>

#include "linsim/core/types.h"

namespace linsim {

struct Neighbor {
  Index index;
  double score;
};

// Streaming top-k: offer (index, score) pairs in any order; take() returns the k best of all
// offered pairs, sorted, whatever the order of the offers. Candidates go to a buffer of 4k; when it
// fills, the k best are kept (nth_element) and the k-th best score becomes the threshold below which
// later offers are dropped at once (an offer equal to it may still win on a lower index). Amortised
// O(1) per offer, O(n + k log k) in all. Indices are stored as int (half the bytes of a float
// selection's entries): callers keep them below 2^31, and k no larger than the candidates.
template <typename Scalar>
class TopKSelector {
 public:
  explicit TopKSelector(Index k) : k_(static_cast<size_t>(std::max<Index>(k, 0))) {}

  // Offers below this can be skipped by the caller without calling offer().
  Scalar threshold() const { return threshold_; }

  void offer(Index index, Scalar score) {
    if (!(score >= threshold_) || k_ == 0) return;  // also drops NaN
    if (buffer_.empty()) buffer_.reserve(kSpan * k_);
    buffer_.push_back({score, static_cast<int>(index)});
    if (buffer_.size() == kSpan * k_) keep_best();
  }

  std::vector<Neighbor> take() {
    if (buffer_.size() > k_) keep_best();
    std::sort(buffer_.begin(), buffer_.end(), Better{});
    std::vector<Neighbor> out;
    out.reserve(buffer_.size());
    for (const Entry& e : buffer_) out.push_back({e.index, static_cast<double>(e.score)});
    buffer_ = {};
    threshold_ = -std::numeric_limits<Scalar>::infinity();
    return out;
  }

 private:
  struct Entry {
    Scalar score;
    int index;
  };
  struct Better {  // a function object, so that the sorts inline it
    bool operator()(const Entry& a, const Entry& b) const {
      return a.score > b.score || (a.score == b.score && a.index < b.index);
    }
  };
  void keep_best() {
    std::nth_element(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(k_ - 1), buffer_.end(), Better{});
    threshold_ = buffer_[k_ - 1].score;
    buffer_.resize(k_);
  }

  static constexpr size_t kSpan = 4;  // buffer of 4k: each O(4k) nth_element drops 3k offers
  size_t k_;
  Scalar threshold_ = -std::numeric_limits<Scalar>::infinity();
  std::vector<Entry> buffer_;
};

// The k best entries of scores[0..n) in order, skipping the indices in `excluded` (sorted
// ascending). Returns fewer than k when fewer remain (k larger than n costs nothing extra).
// O(n + k log k).
std::vector<Neighbor> select_top_k(const double* scores, Index n, Index k,
                                   std::span<const int> excluded = {});

}  // namespace linsim
