// The report of a top-N evaluation (MATH.md M7, strong generalisation): the results.json and
// results.md that `linsim evaluate --out` writes, built here so that every front end (the
// command line, the Python module) returns the same documents.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "linsim/core/types.h"
#include "linsim/evaluate/protocol.h"

namespace linsim {

// The evaluated data as the report describes it. What exists only for data read from a file is
// optional: left empty (in-memory data), it is null in the JSON.
struct EvaluationInput {
  std::optional<std::string> path;  // the interaction file
  Index n_users = 0;                // of the matrix the split was made from
  Index n_items = 0;
  Index nnz = 0;
  std::optional<double> min_value;  // ReadOptions::min_value the file was read with
};

// results.json: {"protocol": {"name", "input" (path or null), "n_users", "n_items", "nnz",
// "min_value" (or null), "heldout_users_per_set", "min_interactions", "fold_in", "seed",
// "selection", "grid", "warnings" (protocol_warnings)}, "models": [{"name", "params", "validation", "test" (each
// {"recall@20": {"mean", "se"}, "recall@50": ..., "ndcg@100": ..., "users"}), "trials":
// [{"params", "validation"}], "warnings" (ModelEvaluation::warnings)}]}. `options` and `split` are those strong_generalization_split was
// given and returned, `results` what evaluate_models returned; `grid` is the grid's text as
// parse_grid was given it ("" for the defaults), reported as written.
nlohmann::json evaluation_json(const EvaluationInput& input, const SplitOptions& options,
                               const StrongSplit& split, const std::vector<ModelEvaluation>& results,
                               const std::string& grid);

// What the command line prints: the table of test results (mean ± standard error, the chosen
// parameters), then a caption with the numbers of test and validation users.
std::string evaluation_summary(const StrongSplit& split, const std::vector<ModelEvaluation>& results);

// results.md: a heading naming the input (its path when there is one), its size, the protocol's
// and the models' warnings (markdown_warnings), then evaluation_summary.
std::string evaluation_markdown(const EvaluationInput& input, const StrongSplit& split,
                                const std::vector<ModelEvaluation>& results);

// Warnings as the Markdown reports show them, one "**Warning:** ..." paragraph each.
std::string markdown_warnings(const std::vector<std::string>& warnings);

}  // namespace linsim
