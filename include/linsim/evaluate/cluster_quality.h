// Similarity quality against known item clusters (MATH.md M7).
#pragma once

#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/data/metadata.h"
#include "linsim/similarity/measure.h"

namespace linsim {

// Each metric is a mean over the items where it is defined, and NaN ("undefined": metric_text)
// where it is defined for none — the AUC when all items share one label, say.
struct ClusterQuality {
  double auc = 0;                          // mean over items of the same-cluster ROC-AUC
  double precision_at_k = 0;               // mean share of same-cluster items among the top-k
  double popularity_percentile_at_k = 0;   // mean popularity percentile (0–100) of the top-k
  Index items_scored = 0;                  // items with an AUC: both same- and other-cluster items
};

// A metric for tables: the value with `decimals` decimals, or "undefined" for NaN.
std::string metric_text(double value, int decimals);

// ROC-AUC of `scores` ranking positives above negatives; ties count ½ (Mann–Whitney with
// mid-ranks). `positive[j]` marks positives; entries with skip[j] are ignored.
double roc_auc(const double* scores, const std::vector<signed char>& positive, Index n, Index skip);

// Percentile (0–100, mid-rank for ties) of each value among all values.
Vector percentiles(const Vector& values);

// For every item i (a row of `space`): AUC of ranking the other items by similarity to i with
// "same cluster" as positive; precision@k of the top-k neighbours (self excluded, ties by
// lower index); mean popularity percentile of those neighbours. Items with cluster < 0 are
// neither queried nor counted. The AUC averages over items that have at least one same-cluster
// and one other-cluster item; precision and popularity over items with a neighbour. k in
// [1, labelled items − 1] (check_top_among_labelled).
ClusterQuality cluster_quality(const SimilaritySpace& space, const std::vector<int>& cluster,
                               const Vector& popularity, Index k, const Context& ctx);

// The same with several labels per item (e.g. genres): j counts as a positive for i when they
// share at least one label. Label ids are non-negative; an item with no labels is unlabelled.
ClusterQuality label_quality(const SimilaritySpace& space, const LabelSets& labels, const Vector& popularity,
                             Index k, const Context& ctx);

// Neighbours are ranked among the labelled items other than the query: k of them must exist, or
// precision@k would be counted over fewer. An InvalidArgument naming --top otherwise.
void check_top_among_labelled(Index k, const LabelSets& labels);

}  // namespace linsim
