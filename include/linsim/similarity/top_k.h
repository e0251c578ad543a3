// The one top-k selection of the library. Order: higher score first; equal scores by lower
// index. NaN scores are never selected.
#pragma once

#include <algorithm>
#include <bit>
#include <limits>
#include <memory>
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
// fills, the k best are kept (a quickselect) and the k-th best score becomes the threshold below which
// later offers are dropped at once (an offer equal to it may still win on a lower index). Amortised
// O(1) per offer, O(n + k log k) in all (expected; keep_best says the worst case). Indices are
// stored as int (half the bytes of a float selection's entries): callers keep them below 2^31, and
// k no larger than the candidates.
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
  // Moves the k best of the buffer to its front, drops the rest, and sets the threshold to the k-th
  // best score. A quickselect whose partition has no data-dependent branch (each entry is written to
  // both sides, and each side's end advances by the comparison): on random scores std::nth_element
  // mispredicts about every other comparison, and this runs at 1.5–2× its speed (`BM_TopKCut`,
  // bench/README.md (c)). The worse side is allocated per cut, so no memory stays between cuts. As
  // in introselect, the passes are bounded (2 log₂ n) and std::nth_element finishes what remains,
  // so a bad run of pivots costs O(n log n) at worst.
  void keep_best() {
    Entry* a = buffer_.data();
    const size_t n = buffer_.size();
    const std::unique_ptr<Entry[]> worse(new Entry[n]);  // the other side; n ≤ 4k, freed at return
    size_t lo = 0, hi = n;  // a[0, lo) beat a[lo, n); a[0, hi) beat a[hi, n); lo ≤ k < hi
    for (int passes = 2 * std::bit_width(n); lo < k_ && hi - lo > 32 && passes > 0; --passes) {
      const Entry pivot = median_of_three(a[lo], a[lo + (hi - lo) / 2], a[hi - 1]);
      size_t left = lo, right = 0;
      for (size_t i = lo; i < hi; ++i) {
        const Entry e = a[i];
        // Better{}(e, pivot) without its short-circuit, which GCC compiles to branches
        const bool better = (e.score > pivot.score) | ((e.score == pivot.score) & (e.index < pivot.index));
        a[left] = e;  // left ≤ i: never overwrites an entry not read yet
        worse[right] = e;
        left += better;
        right += !better;
      }
      std::copy(worse.get(), worse.get() + right, a + left);
      // a[lo, left) beat the pivot, which is in a[left, hi) and beats or equals all of it.
      if (left > k_) hi = left;
      else lo = left;
    }
    if (lo < k_) std::nth_element(a + lo, a + k_, a + hi, Better{});
    Scalar kth = a[0].score;
    for (size_t i = 1; i < k_; ++i) kth = std::min(kth, a[i].score);
    threshold_ = kth;
    buffer_.resize(k_);
  }
  static Entry median_of_three(const Entry& x, const Entry& y, const Entry& z) {
    const Better better;
    if (better(x, y)) return better(y, z) ? y : (better(x, z) ? z : x);
    return better(x, z) ? x : (better(y, z) ? z : y);
  }

  static constexpr size_t kSpan = 4;  // buffer of 4k: each O(4k) cut drops 3k offers (2 and 8: slower)
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
