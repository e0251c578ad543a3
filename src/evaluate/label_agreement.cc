#include "linsim/evaluate/label_agreement.h"

#include <fmt/format.h>

#include "linsim/data/interaction_matrix.h"

namespace linsim {

std::vector<LabelAgreementRow> label_agreement(const SparseView& X, const LabelSets& labels,
                                               const LabelAgreementOptions& o, const Context& ctx,
                                               const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  check_top_among_labelled(o.top, labels);  // before the fits, which take the time
  if (progress) progress(fmt::format("fitting eq1, eq2 (rank {}){}", o.rank, o.lambda_ease ? " and EASE" : ""));
  const VariantModels models =
      fit_variant_models(X, o.rank, o.lambda_eq1, o.lambda_eq2, o.lambda_ease, ctx, RemedyOptions{}, progress);
  std::vector<Variant> variants = model_variants();
  if (o.lambda_ease) variants.push_back({"ease projected", "ease", "", "projected", false, "", false});
  const Vector popularity = item_users(X);
  std::vector<LabelAgreementRow> rows;
  for (const Variant& v : variants) {
    if (progress) progress(fmt::format("scoring {}", v.name));
    rows.push_back({v, label_quality(*variant_space(v, models, X, ctx), labels, popularity, o.top, ctx)});
  }
  return rows;
}

}  // namespace linsim
