#include "linsim/evaluate/cluster_quality.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/similarity/top_k.h"

namespace linsim {

double roc_auc(const double* scores, const std::vector<signed char>& positive, Index n, Index skip) {
  // The scores sorted with their labels beside them, not indices into them, so that a comparison
  // reads no other array: the main job sorts ~75,000 rows of 1,000 scores, and this took its share
  // of the job's profile from 4.0 to 3.2 % (bench/README.md, "The main job"). Ties are grouped by
  // score alone, so the order within a tie is moot; each group holds at least its first entry.
  struct Scored {
    double score;
    bool positive;
  };
  std::vector<Scored> order;
  order.reserve(static_cast<size_t>(n));
  for (Index j = 0; j < n; ++j) {
    const signed char label = positive[static_cast<size_t>(j)];
    if (j != skip && label >= 0) order.push_back({scores[j], label == 1});
  }
  std::sort(order.begin(), order.end(), [](const Scored& a, const Scored& b) { return a.score < b.score; });
  double rank_sum = 0;  // sum of the (1-based, mid-rank) ranks of the positives
  double n_pos = 0;
  for (size_t start = 0; start < order.size();) {
    double tied_positives = order[start].positive;
    size_t end = start + 1;
    for (; end < order.size() && order[end].score == order[start].score; ++end) tied_positives += order[end].positive;
    rank_sum += tied_positives * 0.5 * static_cast<double>(start + 1 + end);
    n_pos += tied_positives;
    start = end;
  }
  const double n_neg = static_cast<double>(order.size()) - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nan("");
  return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

Vector percentiles(const Vector& values) {
  const Index n = values.size();
  std::vector<Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return values(a) < values(b); });
  Vector out(n);
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    while (end < order.size() && values(order[end]) == values(order[start])) ++end;
    // Mid-rank percentile: the share of values below, plus half the ties.
    const double pct = 100.0 * (static_cast<double>(start) + 0.5 * static_cast<double>(end - start)) /
                       static_cast<double>(n);
    for (size_t r = start; r < end; ++r) out(order[r]) = pct;
    start = end;
  }
  return out;
}

ClusterQuality cluster_quality(const SimilaritySpace& space, const std::vector<int>& cluster,
                               const Vector& popularity, Index k, const Context& ctx) {
  const ThreadScope thread_scope(ctx);
  LabelSets labels(cluster.size());
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (cluster[i] >= 0) labels[i] = {cluster[i]};
  }
  return label_quality(space, labels, popularity, k, ctx);
}

void check_top_among_labelled(Index k, const LabelSets& labels) {
  const auto labelled =
      static_cast<Index>(std::count_if(labels.begin(), labels.end(), [](const auto& set) { return !set.empty(); }));
  if (k < 1 || k >= labelled) {
    throw InvalidArgument(fmt::format("--top must be in [1, labelled items - 1 = {}], got {} (neighbours are "
                                      "ranked among the {} labelled items of the {})",
                                      std::max<Index>(labelled - 1, 0), k, labelled, labels.size()));
  }
}

ClusterQuality label_quality(const SimilaritySpace& space, const LabelSets& labels, const Vector& popularity,
                             Index k, const Context& ctx) {
  const Index p = space.size();
  if (static_cast<Index>(labels.size()) != p || popularity.size() != p) {
    throw InvalidArgument(fmt::format("labels ({}) and popularity ({}) must cover all {} items", labels.size(),
                                      popularity.size(), p));
  }
  const ThreadScope thread_scope(ctx);
  // Each item's labels, sorted: two items share a label when their sorted sets intersect (label
  // ids may be any non-negative ints; nothing is sized by their values).
  LabelSets sorted = labels;
  for (auto& set : sorted) {
    for (int l : set) {
      if (l < 0) throw InvalidArgument(fmt::format("label ids must be >= 0, got {}", l));
    }
    std::sort(set.begin(), set.end());
  }
  const auto share_a_label = [](const std::vector<int>& a, const std::vector<int>& b) {
    for (size_t x = 0, y = 0; x < a.size() && y < b.size();) {
      if (a[x] == b[y]) return true;
      a[x] < b[y] ? ++x : ++y;
    }
    return false;
  };
  const Vector pct = percentiles(popularity);
  // Labelled items only take part; unlabelled ones are excluded from rankings too.
  std::vector<Index> queries;
  std::vector<int> unlabelled;
  for (Index i = 0; i < p; ++i) {
    if (labels[static_cast<size_t>(i)].empty()) {
      unlabelled.push_back(static_cast<int>(i));
    } else {
      queries.push_back(i);
    }
  }
  check_top_among_labelled(k, labels);
  std::vector<double> auc(queries.size(), std::nan(""));
  std::vector<double> precision(queries.size(), std::nan(""));
  std::vector<double> pop(queries.size(), std::nan(""));
  for_each_score_block(space, queries, [&](size_t first, const std::vector<Index>& block, const RowMatrix& scores) {
#pragma omp parallel for schedule(dynamic, 8)
    for (size_t r = 0; r < block.size(); ++r) {
      const Index i = block[r];
      const auto& mine = sorted[static_cast<size_t>(i)];
      std::vector<signed char> positive(static_cast<size_t>(p));
      for (Index j = 0; j < p; ++j) {
        const auto& theirs = sorted[static_cast<size_t>(j)];
        positive[static_cast<size_t>(j)] = theirs.empty() ? -1 : share_a_label(mine, theirs) ? 1 : 0;
      }
      const double* row = scores.row(static_cast<Index>(r)).data();
      const double a = roc_auc(row, positive, p, i);
      std::vector<int> excluded = unlabelled;
      excluded.insert(std::lower_bound(excluded.begin(), excluded.end(), static_cast<int>(i)), static_cast<int>(i));
      const std::vector<Neighbor> top = select_top_k(row, p, k, excluded);
      double same = 0;
      double pop_sum = 0;
      for (const Neighbor& nb : top) {
        same += positive[static_cast<size_t>(nb.index)] == 1 ? 1.0 : 0.0;
        pop_sum += pct(nb.index);
      }
      if (!top.empty()) {
        pop[first + r] = pop_sum / static_cast<double>(top.size());
        precision[first + r] = same / static_cast<double>(top.size());
      }
      auc[first + r] = a;  // NaN when the item has no same-label or no other-label item
    }
  });
  // Each metric is the mean over the items where it is defined; NaN (undefined) where it is
  // defined for none, e.g. the AUC when every item has the same label.
  const auto mean_defined = [](const std::vector<double>& v, Index* count) {
    double sum = 0;
    Index n = 0;
    for (double x : v) {
      if (!std::isnan(x)) {
        sum += x;
        ++n;
      }
    }
    if (count != nullptr) *count = n;
    return n > 0 ? sum / static_cast<double>(n) : std::nan("");
  };
  ClusterQuality q;
  q.auc = mean_defined(auc, &q.items_scored);
  q.precision_at_k = mean_defined(precision, nullptr);
  q.popularity_percentile_at_k = mean_defined(pop, nullptr);
  return q;
}

std::string metric_text(double value, int decimals) {
  return std::isnan(value) ? "undefined" : fmt::format("{:.{}f}", value, decimals);
}

}  // namespace linsim
