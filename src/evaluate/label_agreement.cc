#include "linsim/evaluate/label_agreement.h"

#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/data/interaction_matrix.h"

namespace linsim {

void LabelAgreementOptions::validate() const {
  for (const auto& [name, l] : {std::pair<const char*, double>{"--lambda-eq1", lambda_eq1}, {"--lambda-eq2", lambda_eq2},
                                {"--lambda-ease", lambda_ease.value_or(0)}}) {
    if (!(l >= 0) || !std::isfinite(l)) throw InvalidArgument(fmt::format("{} must be a finite number >= 0, got {}", name, l));
  }
  if (top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", top));
}

LabelAgreement label_agreement(const SparseView& X, const LabelSets& labels, const LabelAgreementOptions& o,
                               const Context& ctx, const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  o.validate();
  check_top_among_labelled(o.top, labels);  // before the fits, which take the time
  if (progress) progress(fmt::format("fitting eq1, eq2 (rank {}){}", o.rank, o.lambda_ease ? " and EASE" : ""));
  const VariantModels models =
      fit_variant_models(X, o.rank, o.lambda_eq1, o.lambda_eq2, o.lambda_ease, ctx, RemedyOptions{}, progress);
  std::vector<Variant> variants = model_variants();
  if (o.lambda_ease) variants.push_back({"ease projected", "ease", "", "projected", false, "", false});
  const Vector popularity = item_users(X);
  LabelAgreement result;
  result.warnings = models.warnings();
  for (const Variant& v : variants) {
    if (progress) progress(fmt::format("scoring {}", v.name));
    result.rows.push_back({v, label_quality(*variant_space(v, models, X, ctx), labels, popularity, o.top, ctx)});
  }
  return result;
}

}  // namespace linsim
