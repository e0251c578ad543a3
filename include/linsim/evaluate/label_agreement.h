// Similarity quality on real data: how well each similarity variant's item neighbours agree
// with item labels from metadata (MATH.md M7: same-label AUC, precision@k, popularity bias).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/evaluate/cluster_quality.h"
#include "linsim/evaluate/variants.h"

namespace linsim {

struct LabelAgreementOptions {
  Index rank = 50;
  double lambda_eq1 = 1000;
  double lambda_eq2 = 10;
  std::optional<double> lambda_ease = 500;  // nullopt: leave EASE out
  Index top = 10;

  void validate() const;  // throws InvalidArgument naming the option (--lambda-eq1, ...)
};

struct LabelAgreementRow {
  Variant variant;
  ClusterQuality quality;
};

struct LabelAgreement {
  std::vector<LabelAgreementRow> rows;
  std::vector<std::string> warnings;  // VariantModels::warnings of the fits
};

// Fits the models on all of X and scores model_variants() plus, when a λ for it is given, EASE's
// projected similarity.
LabelAgreement label_agreement(const SparseView& X, const LabelSets& labels, const LabelAgreementOptions& options,
                               const Context& ctx, const ProgressFn& progress = {});

}  // namespace linsim
