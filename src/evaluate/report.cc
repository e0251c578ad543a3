#include "linsim/evaluate/report.h"

#include <cmath>
#include <map>
#include <string>

#include <fmt/format.h>

#include "linsim/evaluate/cluster_quality.h"

namespace linsim {
namespace {

using nlohmann::json;

json metric_json(const MeanSe& m) {
  return {{"mean", m.mean}, {"se", m.se}};
}

json ranking_json(const RankingSummary& r) {
  return {{"recall@20", metric_json(r.recall20)},
          {"recall@50", metric_json(r.recall50)},
          {"ndcg@100", metric_json(r.ndcg100)},
          {"users", r.users}};
}

std::string params_text(const std::map<std::string, double>& p) {
  std::string s;
  for (const auto& [k, v] : p) s += fmt::format("{}{}={:g}", s.empty() ? "" : ", ", k, v);
  return s.empty() ? "–" : s;
}

std::string cell(const MeanSe& m) {
  if (std::isnan(m.mean)) return metric_text(m.mean, 4);
  return fmt::format("{:.4f} ± {}", m.mean, metric_text(m.se, 4));
}

}  // namespace

json evaluation_json(const EvaluationInput& input, const SplitOptions& options, const StrongSplit& split,
                     const std::vector<ModelEvaluation>& results, const std::string& grid) {
  json models = json::array();
  for (const ModelEvaluation& e : results) {
    json trials = json::array();
    for (const auto& [params, summary] : e.trials)
      trials.push_back({{"params", params}, {"validation", ranking_json(summary)}});
    models.push_back({{"name", e.name},
                      {"params", e.params},
                      {"validation", ranking_json(e.validation)},
                      {"test", ranking_json(e.test)},
                      {"trials", trials},
                      {"warnings", e.warnings}});
  }
  const json protocol = {{"name", "strong generalization (Liang et al. 2018)"},
                         {"input", input.path ? json(*input.path) : json(nullptr)},
                         {"n_users", input.n_users},
                         {"n_items", input.n_items},
                         {"nnz", input.nnz},
                         {"min_value", input.min_value ? json(*input.min_value) : json(nullptr)},
                         {"heldout_users_per_set", split.valid_users.size()},
                         {"min_interactions", options.min_interactions},
                         {"fold_in", options.fold_in},
                         {"seed", options.seed},
                         {"selection", "validation ndcg@100"},
                         {"grid", grid},
                         {"warnings", protocol_warnings(split)}};
  return {{"protocol", protocol}, {"models", models}};
}

std::string evaluation_summary(const StrongSplit& split, const std::vector<ModelEvaluation>& results) {
  std::string s = "| model | chosen parameters | Recall@20 | Recall@50 | NDCG@100 |\n|---|---|---|---|---|\n";
  for (const ModelEvaluation& e : results) {
    s += fmt::format("| {} | {} | {} | {} | {} |\n", e.name, params_text(e.params), cell(e.test.recall20),
                     cell(e.test.recall50), cell(e.test.ndcg100));
  }
  // The users the means are over: the held-out users with a target (one with a single interaction
  // keeps it as input and has none). Every model is scored on the same users.
  const auto users = [](Index scored, size_t held_out) {
    return static_cast<size_t>(scored) == held_out
               ? fmt::format("{}", scored)
               : fmt::format("{} (of {} held out; the others have no target: one interaction, kept as input)",
                             scored, held_out);
  };
  if (results.empty()) return s;
  s += fmt::format(
      "\nTest users: {} (mean ± standard error over users); parameters chosen on {} validation users by "
      "NDCG@100.\n",
      users(results.front().test.users, split.test_users.size()),
      users(results.front().validation.users, split.valid_users.size()));
  return s;
}

std::string evaluation_markdown(const EvaluationInput& input, const StrongSplit& split,
                                const std::vector<ModelEvaluation>& results) {
  std::vector<std::string> warnings = protocol_warnings(split);
  for (const ModelEvaluation& e : results) warnings.insert(warnings.end(), e.warnings.begin(), e.warnings.end());
  return fmt::format("# Top-N evaluation{}\n\n{} users × {} items, {} interactions (binarised{}).\n\n",
                     input.path ? ": " + *input.path : "", input.n_users, input.n_items, input.nnz,
                     input.min_value ? fmt::format(", values >= {:g}", *input.min_value) : "") +
         markdown_warnings(warnings) + evaluation_summary(split, results);
}

std::string markdown_warnings(const std::vector<std::string>& warnings) {
  std::string text;
  for (const std::string& w : warnings) text += fmt::format("**Warning:** {}\n\n", w);
  return text;
}

}  // namespace linsim
