// Top-N evaluation with the "strong generalisation" protocol of Liang et al. 2018 (MATH.md M7):
// held-out users are never trained on; 80 % of each held-out user's items are the input
// (fold-in) and 20 % the target; all items outside the fold-in are ranked.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/evaluate/ranking.h"

namespace linsim {

struct SplitOptions {
  double heldout = 0.1;         // per held-out set: a fraction of the users (< 1) or a count (>= 1)
  Index min_interactions = 5;   // only users with at least this many items are held out
  double fold_in = 0.8;         // share of a held-out user's items given as input
  std::uint64_t seed = 42;
};

struct StrongSplit {
  SparseMatrix train;                       // training users × items
  SparseMatrix valid_fold_in, valid_target;  // validation users × items
  SparseMatrix test_fold_in, test_target;    // test users × items
  std::vector<Index> train_users, valid_users, test_users;  // rows of the input matrix
};

// Splits the users of X (binary) into training, validation and test users (the two held-out
// sets have equal size), and each held-out user's items into fold-in and target. Deterministic
// for a given seed. Throws InvalidArgument when too few users qualify.
StrongSplit strong_generalization_split(const SparseView& X, const SplitOptions& options);

// Hyper-parameter grid: "lambda=10,100 rank=50,100 eq1.lambda=1000,10000". A key without a
// model prefix applies to every model that has that parameter; a prefixed key overrides it.
using ParamGrid = std::map<std::string, std::map<std::string, std::vector<double>>>;  // model ("" = all)
ParamGrid parse_grid(const std::string& text);

// Refuses a model named twice in `models` and a grid key that changes none of them: a
// model-qualified key the model does not take or that names a model not in `models`, a bare key
// no model in `models` takes. evaluate_models calls it before any fit.
void check_grid_applies(const ParamGrid& grid, const std::vector<std::string>& models);

// The parameter settings to try for `model` (every combination of its grid values; defaults
// where the grid says nothing). A rank the grid gives above `n_items` is an InvalidArgument; a
// default one is left out (InvalidArgument when none is left).
std::vector<std::map<std::string, double>> grid_points(const std::string& model, const ParamGrid& grid,
                                                       Index n_items);

struct RankingSummary {
  MeanSe recall20, recall50, ndcg100;
  Index users = 0;
};

// Scores fold-in rows (users × items) for one fitted model.
using Scorer = std::function<Matrix(const SparseView& fold_in)>;

// Per-user Recall@20, Recall@50 and NDCG@100 of `scorer` on held-out users; fold-in items are
// never recommended. Users without target items are skipped.
RankingSummary evaluate_ranking(const Scorer& scorer, const SparseView& fold_in, const SparseView& target,
                                const Context& ctx);

// What the split itself makes of the metrics, for every model alike: a test user with K or fewer
// unseen items (the candidates a model ranks) has them all in its top K, so its Recall@K is 1
// whatever the model (K = 20, 50). One warning per such K, counting those users; none otherwise.
std::vector<std::string> protocol_warnings(const StrongSplit& split);

struct ModelEvaluation {
  std::string name;
  std::map<std::string, double> params;  // chosen on the validation users
  RankingSummary validation;
  RankingSummary test;
  std::vector<std::pair<std::map<std::string, double>, RankingSummary>> trials;  // every grid point
  // The chosen point's fit warning where its λ leaves one dimension (every user's ranking is then
  // one item order or its reverse), prefixed with the model and the point; fewer dimensions than
  // the rank but more than one is what tuning λ may choose and is not repeated.
  std::vector<std::string> warnings;
};

// Models: popularity, itemknn (raw cosine), eq1, eq2, ease, sppmi, cosine. Each grid point is fitted on the
// training users and scored on the validation users; the point with the best validation
// NDCG@100 is then scored once on the test users (ModelEvaluation::warnings: what its fit warns).
std::vector<ModelEvaluation> evaluate_models(const StrongSplit& split, const std::vector<std::string>& models,
                                             const ParamGrid& grid, const Context& ctx,
                                             const ProgressFn& progress = {});

}  // namespace linsim
