#include "linsim/evaluate/protocol.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "../data/line_reader.h"
#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/random.h"
#include "linsim/data/interaction_matrix.h"
#include "linsim/linalg/data_matrix.h"
#include "linsim/linalg/gram.h"
#include "linsim/linalg/spectrum.h"
#include "linsim/models/ease.h"
#include "linsim/models/model.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/top_k.h"

namespace linsim {
namespace {

using Params = std::map<std::string, double>;

SparseMatrix rows_to_matrix(const std::vector<std::vector<int>>& rows, Index p) {
  std::vector<Eigen::Triplet<double, int>> t;
  for (size_t r = 0; r < rows.size(); ++r)
    for (int j : rows[r]) t.emplace_back(static_cast<int>(r), j, 1.0);
  SparseMatrix M(static_cast<Index>(rows.size()), p);
  M.setFromTriplets(t.begin(), t.end());
  return M;
}

std::vector<int> row_items(const SparseView& X, Index u) {
  return std::vector<int>(X.innerIndexPtr() + X.outerIndexPtr()[u], X.innerIndexPtr() + X.outerIndexPtr()[u + 1]);
}

// Shuffle with our own generator (std::shuffle's algorithm is implementation-defined).
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(rng() % i);
    std::swap(v[i - 1], v[j]);
  }
}

const std::map<std::string, std::vector<std::string>>& model_params() {
  static const std::map<std::string, std::vector<std::string>> params = {
      {"popularity", {}}, {"itemknn", {}}, {"eq1", {"rank", "lambda"}}, {"eq2", {"rank", "lambda"}},
      {"ease", {"lambda"}}, {"sppmi", {"rank", "negatives"}}, {"cosine", {"rank", "lambda"}}};
  return params;
}

// Defaults where the grid is silent (λ ranges in each model's own units: σ² for eq1, σ for eq2).
std::vector<double> default_values(const std::string& model, const std::string& param) {
  if (param == "rank") return {50, 100, 200};
  if (model == "eq1") return {100, 1000, 10000};
  if (model == "eq2" || model == "cosine") return {1, 10, 100};  // cosine: λ of its eq2 warm start
  if (param == "negatives") return {1, 5};
  return {100, 500, 2000};  // ease
}

std::string params_text(const Params& p) {
  std::string s;
  for (const auto& [k, v] : p) s += fmt::format("{}{}={:g}", s.empty() ? "" : " ", k, v);
  return s.empty() ? "-" : s;
}

}  // namespace

StrongSplit strong_generalization_split(const SparseView& X, const SplitOptions& o) {
  if (!(o.heldout > 0) || !std::isfinite(o.heldout)) {
    throw InvalidArgument(fmt::format("--heldout-users must be > 0 (a fraction < 1 or a count), got {}", o.heldout));
  }
  if (!(o.fold_in > 0 && o.fold_in < 1)) throw InvalidArgument(fmt::format("fold-in share must be in (0, 1), got {}", o.fold_in));
  if (o.min_interactions < 0) throw InvalidArgument(fmt::format("--min-interactions must be >= 0, got {}", o.min_interactions));
  const Index n = X.rows();
  const Index p = X.cols();
  if (o.heldout >= 1 && (o.heldout != std::floor(o.heldout) || o.heldout > static_cast<double>(n))) {
    throw InvalidArgument(fmt::format("--heldout-users {} is neither a fraction < 1 nor a whole number of the {} users",
                                      o.heldout, n));
  }
  const auto size = static_cast<Index>(o.heldout < 1 ? std::floor(o.heldout * static_cast<double>(n)) : o.heldout);
  if (size < 1) {
    throw InvalidArgument(fmt::format("--heldout-users {} of the {} users rounds down to 0 users: use a larger fraction "
                                      "or a count",
                                      o.heldout, n));
  }
  std::vector<Index> eligible;
  for (Index u = 0; u < n; ++u) {
    if (X.outerIndexPtr()[u + 1] - X.outerIndexPtr()[u] >= o.min_interactions) eligible.push_back(u);
  }
  if (size < 1 || 2 * size > static_cast<Index>(eligible.size()) || 2 * size >= n) {
    throw InvalidArgument(fmt::format(
        "cannot hold out 2 x {} users: {} of {} users have >= {} interactions and training needs some left",
        size, eligible.size(), n, o.min_interactions));
  }
  Rng rng(o.seed, 0);
  shuffle(eligible, rng);
  StrongSplit s;
  s.valid_users.assign(eligible.begin(), eligible.begin() + size);
  s.test_users.assign(eligible.begin() + size, eligible.begin() + 2 * size);
  std::sort(s.valid_users.begin(), s.valid_users.end());
  std::sort(s.test_users.begin(), s.test_users.end());
  std::vector<char> heldout(static_cast<size_t>(n), 0);
  for (Index u : s.valid_users) heldout[static_cast<size_t>(u)] = 1;
  for (Index u : s.test_users) heldout[static_cast<size_t>(u)] = 1;
  std::vector<std::vector<int>> train_rows;
  for (Index u = 0; u < n; ++u) {
    if (heldout[static_cast<size_t>(u)] == 0) {
      s.train_users.push_back(u);
      train_rows.push_back(row_items(X, u));
    }
  }
  s.train = rows_to_matrix(train_rows, p);
  auto split_users = [&](const std::vector<Index>& users, SparseMatrix& fold_in, SparseMatrix& target) {
    std::vector<std::vector<int>> in_rows, out_rows;
    for (Index u : users) {
      std::vector<int> items = row_items(X, u);
      Rng user_rng(o.seed, static_cast<std::uint64_t>(u) + 1);
      shuffle(items, user_rng);
      const auto keep = static_cast<size_t>(std::floor(o.fold_in * static_cast<double>(items.size())));
      std::vector<int> in(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(std::max<size_t>(keep, 1)));
      std::vector<int> out(items.begin() + static_cast<std::ptrdiff_t>(std::max<size_t>(keep, 1)), items.end());
      std::sort(in.begin(), in.end());
      std::sort(out.begin(), out.end());
      in_rows.push_back(std::move(in));
      out_rows.push_back(std::move(out));
    }
    fold_in = rows_to_matrix(in_rows, p);
    target = rows_to_matrix(out_rows, p);
  };
  split_users(s.valid_users, s.valid_fold_in, s.valid_target);
  split_users(s.test_users, s.test_fold_in, s.test_target);
  // A user with one item keeps it as fold-in: where every held-out user of a set has one, the set
  // has nothing to predict and its recall is undefined, so no model could be chosen or tested.
  for (const auto& [set, target] : {std::pair{"validation", &s.valid_target}, std::pair{"test", &s.test_target}}) {
    if (target->nonZeros() == 0) {
      throw InvalidArgument(fmt::format("no {} user has an item left to predict after the fold-in share {} "
                                        "(each has one interaction): raise --min-interactions (now {})",
                                        set, o.fold_in, o.min_interactions));
    }
  }
  return s;
}

ParamGrid parse_grid(const std::string& text) {
  ParamGrid grid;
  if (!text.empty() && text.find_first_not_of(" \t\n") == std::string::npos) {
    throw InvalidArgument("--grid: only blanks (leave it out for the defaults)");
  }
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    const auto eq = token.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == token.size() || token.back() == ',') {
      throw InvalidArgument(fmt::format("--grid: expected 'param=v1,v2' or 'model.param=v1,v2', got '{}'", token));
    }
    std::string key = token.substr(0, eq);
    std::string model;
    if (const auto dot = key.find('.'); dot != std::string::npos) {
      model = key.substr(0, dot);
      key = key.substr(dot + 1);
      if (model_params().count(model) == 0) throw InvalidArgument(fmt::format("--grid: unknown model '{}'", model));
    }
    if (key != "rank" && key != "lambda" && key != "negatives") {
      throw InvalidArgument(fmt::format("--grid: unknown parameter '{}' (rank, lambda, negatives)", key));
    }
    std::vector<double> values;
    std::stringstream list(token.substr(eq + 1));
    std::string item;
    while (std::getline(list, item, ',')) {
      // Decimal only (std::stod would take "0x10"); a value beyond a double reads as ±inf, which
      // the checks below refuse, and one below the smallest (1e-400, read as 0) is refused here
      // (was: evaluated, and reported, as λ = 0).
      const std::optional<double> parsed = detail::field_number(item);
      if (!parsed) throw InvalidArgument(fmt::format("--grid: '{}' in '{}' is not a number", item, token));
      const double v = *parsed;
      if (detail::underflowed(item, v)) {
        throw InvalidArgument(fmt::format("--grid: '{}' in '{}' is too small to represent (below ~5e-324)", item, token));
      }
      if (!std::isfinite(v) || v < 0 || (key == "rank" && (v < 1 || v > 2147483647.0 || v != std::floor(v))) ||
          (key == "negatives" && v < 1)) {
        throw InvalidArgument(fmt::format("--grid: invalid {} value {}", key, item));
      }
      values.push_back(v);
    }
    if (values.empty()) throw InvalidArgument(fmt::format("--grid: no values in '{}'", token));
    // A value or a key given twice would evaluate one setting twice, or silently keep only the last.
    for (size_t i = 0; i < values.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (values[i] == values[j]) throw InvalidArgument(fmt::format("--grid: {:g} is given twice in '{}'", values[i], token));
      }
    }
    if (!grid[model].emplace(key, values).second) {
      throw InvalidArgument(fmt::format("--grid: '{}{}' is given twice", model.empty() ? "" : model + ".", key));
    }
  }
  return grid;
}

namespace {

void check_model_name(const std::string& model) {
  if (model_params().count(model) == 0) {
    throw InvalidArgument(fmt::format("unknown model '{}' (valid: popularity, itemknn, eq1, eq2, ease, sppmi, cosine)", model));
  }
}

}  // namespace

void check_grid_applies(const ParamGrid& grid, const std::vector<std::string>& models) {
  for (const std::string& name : models) check_model_name(name);
  for (size_t i = 0; i < models.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (models[i] == models[j]) throw InvalidArgument(fmt::format("--models: '{}' is given twice", models[i]));
    }
  }
  const auto takes = [](const std::string& model, const std::string& key) {
    const auto& params = model_params().at(model);
    return std::find(params.begin(), params.end(), key) != params.end();
  };
  // Each key must change some evaluated model: one that changes none was a mistake (a misplaced
  // prefix, a model left out of --models), and ignoring it would report a grid never tried.
  for (const auto& model_keys : grid) {
    const std::string& model = model_keys.first;
    for (const auto& entry : model_keys.second) {
      const std::string& key = entry.first;  // not a structured binding: lambdas below capture it
      if (model.empty()) {
        const auto overridden = [&](const std::string& m) { return grid.count(m) != 0 && grid.at(m).count(key) != 0; };
        if (std::none_of(models.begin(), models.end(), [&](const std::string& m) { return takes(m, key) && !overridden(m); })) {
          throw InvalidArgument(fmt::format("--grid: '{}' changes none of --models ({}){}", key, fmt::join(models, ","),
                                            std::any_of(models.begin(), models.end(), overridden)
                                                ? ": each that takes it has its own" : ""));
        }
        continue;
      }
      if (!takes(model, key)) {
        const auto& params = model_params().at(model);
        throw InvalidArgument(fmt::format("--grid: {} has no parameter '{}' ({})", model, key,
                                          params.empty() ? "it has none" : fmt::format("it has {}", fmt::join(params, ", "))));
      }
      if (std::find(models.begin(), models.end(), model) == models.end()) {
        throw InvalidArgument(fmt::format("--grid: '{}.{}' names a model not in --models ({})", model, key, fmt::join(models, ",")));
      }
    }
  }
}

std::vector<Params> grid_points(const std::string& model, const ParamGrid& grid, Index n_items) {
  check_model_name(model);
  const auto known = model_params().find(model);
  std::vector<Params> points = {{}};
  for (const std::string& param : known->second) {
    std::vector<double> values = default_values(model, param);
    bool given = false;
    if (auto all = grid.find(""); all != grid.end() && all->second.count(param)) values = all->second.at(param), given = true;
    if (auto own = grid.find(model); own != grid.end() && own->second.count(param)) values = own->second.at(param), given = true;
    if (param == "rank") {
      // A default rank the items cannot hold is left out; one the user gave is refused, not
      // dropped (the report would name a grid that was never tried).
      for (double r : values) {
        if (given && r > static_cast<double>(n_items)) {
          throw InvalidArgument(fmt::format("--grid: {} rank {:g} exceeds the {} items", model, r, n_items));
        }
      }
      values.erase(std::remove_if(values.begin(), values.end(), [&](double r) { return r > static_cast<double>(n_items); }),
                   values.end());
      if (values.empty()) {
        throw InvalidArgument(fmt::format("{}: every default rank (50, 100, 200) exceeds the {} items: give ranks with --grid",
                                          model, n_items));
      }
    }
    std::vector<Params> next;
    for (const Params& base : points) {
      for (double v : values) {
        Params q = base;
        q[param] = v;
        next.push_back(q);
      }
    }
    points = std::move(next);
  }
  return points;
}

RankingSummary evaluate_ranking(const Scorer& scorer, const SparseView& fold_in, const SparseView& target,
                                const Context& ctx) {
  const ThreadScope thread_scope(ctx);
  const Index n = fold_in.rows();
  std::vector<double> r20, r50, n100;
  constexpr Index kBlock = 512;
  for (Index first = 0; first < n; first += kBlock) {
    interruption_point();
    const Index count = std::min(kBlock, n - first);
    const SparseMatrix block = fold_in.middleRows(first, count);
    const RowMatrix scores = scorer(block);
    std::vector<double> b20(static_cast<size_t>(count), -1), b50(static_cast<size_t>(count)), b100(static_cast<size_t>(count));
#pragma omp parallel for schedule(dynamic, 16)
    for (Index r = 0; r < count; ++r) {
      const Index u = first + r;
      const std::span<const int> seen(block.innerIndexPtr() + block.outerIndexPtr()[r],
                                      static_cast<size_t>(block.outerIndexPtr()[r + 1] - block.outerIndexPtr()[r]));
      const std::span<const int> truth(target.innerIndexPtr() + target.outerIndexPtr()[u],
                                       static_cast<size_t>(target.outerIndexPtr()[u + 1] - target.outerIndexPtr()[u]));
      if (truth.empty()) continue;
      const std::vector<Neighbor> top = select_top_k(scores.row(r).data(), scores.cols(), 100, seen);
      std::vector<Index> ranked;
      ranked.reserve(top.size());
      for (const Neighbor& nb : top) ranked.push_back(nb.index);
      b20[static_cast<size_t>(r)] = recall_at_k(ranked, truth, 20);
      b50[static_cast<size_t>(r)] = recall_at_k(ranked, truth, 50);
      b100[static_cast<size_t>(r)] = ndcg_at_k(ranked, truth, 100);
    }
    for (Index r = 0; r < count; ++r) {
      if (b20[static_cast<size_t>(r)] < 0) continue;
      r20.push_back(b20[static_cast<size_t>(r)]);
      r50.push_back(b50[static_cast<size_t>(r)]);
      n100.push_back(b100[static_cast<size_t>(r)]);
    }
  }
  return {mean_and_se(r20), mean_and_se(r50), mean_and_se(n100), static_cast<Index>(r20.size())};
}

std::vector<std::string> protocol_warnings(const StrongSplit& split) {
  const SparseMatrix& fold_in = split.test_fold_in;
  const SparseMatrix& target = split.test_target;
  const Index p = fold_in.cols();
  std::vector<std::string> warnings;
  for (const Index k : {Index{20}, Index{50}}) {
    Index scored = 0, trivial = 0;
    for (Index u = 0; u < fold_in.rows(); ++u) {
      if (target.outerIndexPtr()[u + 1] == target.outerIndexPtr()[u]) continue;  // not scored
      ++scored;
      if (p - (fold_in.outerIndexPtr()[u + 1] - fold_in.outerIndexPtr()[u]) <= k) ++trivial;
    }
    if (trivial == 0) continue;
    warnings.push_back(fmt::format(
        "Recall@{0} is 1 for {1} of the {2} test users whatever the model: each has {0} or fewer items it has not "
        "seen (of the {3} items), so all of them, its held-out items among them, are in its top {0}",
        k, trivial, scored, p));
  }
  return warnings;
}

std::vector<ModelEvaluation> evaluate_models(const StrongSplit& split, const std::vector<std::string>& models,
                                             const ParamGrid& grid, const Context& ctx, const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  const SparseMatrix& X = split.train;
  const Index n = X.rows();
  const Index p = X.cols();
  // Every model name is known (grid_points refuses the others) before any model is evaluated: a
  // misspelt name is a usage error, not one found after the models before it have run.
  for (const std::string& name : models) grid_points(name, grid, p);
  check_grid_applies(grid, models);
  // Every grid point's rank must be one the training users can support, checked before any fit.
  for (const std::string& name : models) {
    if (name != "eq1" && name != "eq2" && name != "sppmi" && name != "cosine") continue;
    for (const Params& q : grid_points(name, grid, p)) {
      const auto k = static_cast<Index>(q.at("rank"));
      const Index limit = name == "sppmi" ? p : std::min(n, p);
      if (k < 1 || k > limit) {
        throw InvalidArgument(fmt::format(
            "{} rank {} in the grid is outside [1, {}]: the split leaves {} training users and {} items{}", name, k,
            limit, n, p, n < p ? " (hold out fewer users with --heldout-users)" : ""));
      }
    }
  }
  // itemknn and ease need the dense p × p Gram matrix and one p × p model each: fail before
  // allocating when they cannot fit.
  for (const std::string& name : models) {
    if (name != "itemknn" && name != "ease") continue;
    const double need = 3.0 * 8.0 * static_cast<double>(p) * static_cast<double>(p);
    if (const auto shortfall = memory_shortfall(need)) {
      throw OutOfMemory(fmt::format("evaluating {} on {} items needs about {} (dense items x items matrices), {}; "
                              "leave it out of --models",
                              name, p, format_bytes(need), shortfall->more_than()));
    }
  }
  // Shared, computed at most once: the Gram matrix and the spectrum at the largest rank.
  Matrix G;
  auto gram = [&]() -> const Matrix& {
    if (G.size() == 0) G = gram_matrix(X, ctx);
    return G;
  };
  Spectrum spectrum;
  Matrix XV;
  std::vector<ModelEvaluation> results;
  for (const std::string& name : models) {
    const std::vector<Params> points = grid_points(name, grid, p);
    if (name == "eq1" || name == "eq2") {
      Index max_rank = 0;
      for (const Params& q : points) max_rank = std::max(max_rank, static_cast<Index>(q.at("rank")));
      if (spectrum.sigma.size() < max_rank) {
        say(fmt::format("spectrum of the training matrix (rank {})", max_rank));
        spectrum = top_spectrum(X, max_rank, Solver::kAuto, ctx);
        XV = take_data_times_vectors(spectrum, DataMatrix(X));
      }
    }
    // Builds the scorer of one grid point; a model left with one dimension gives `warnings` its fit's.
    auto make_scorer = [&](const Params& q, std::vector<std::string>& warnings) -> Scorer {
      const auto one_dimension = [&](const Model& m) {
        if (kept_dimensions(m.options.kind, m.singular_values, m.options.lambda) == 1) warnings = m.warnings;
      };
      if (name == "popularity") {
        const Vector pop = item_users(X);
        return [pop](const SparseView& F) { return Matrix(Vector::Ones(F.rows()) * pop.transpose()); };
      }
      if (name == "itemknn") {
        auto W = std::make_shared<Matrix>(cosine_from_gram(gram()));
        W->diagonal().setZero();
        return [W](const SparseView& F) { return DataMatrix(F).times(*W); };
      }
      if (name == "ease") {
        auto W = std::make_shared<Matrix>(ease_weights(gram(), q.at("lambda")));
        return [W](const SparseView& F) { return DataMatrix(F).times(*W); };
      }
      const auto k = static_cast<Index>(q.at("rank"));
      if (name == "sppmi" || name == "cosine") {  // fitted per grid point (MATH.md M5, M6)
        FitOptions f;
        f.kind = parse_model_kind(name);
        f.rank = k;
        if (name == "sppmi") f.sppmi.negatives = q.at("negatives");
        if (name == "cosine") f.lambda = q.at("lambda");
        auto m = std::make_shared<Model>(fit_model(X, f, ctx));
        one_dimension(*m);
        return [m](const SparseView& F) { return score_users(*m, F); };
      }
      Spectrum top;
      top.sigma = spectrum.sigma.head(k);
      top.V = spectrum.V.leftCols(k);
      FitOptions f;
      f.kind = name == "eq1" ? ModelKind::kEq1 : ModelKind::kEq2;
      f.lambda = q.at("lambda");
      auto m = std::make_shared<Model>(model_from_spectrum(XV.leftCols(k), top, f));
      one_dimension(*m);
      return [m](const SparseView& F) { return score_users(*m, F); };
    };
    ModelEvaluation e;
    e.name = name;
    double best = -1;
    // A refusal of a fit names the grid point: its words ("--rank 99 exceeds the rank of the data")
    // are the fit's, and evaluate has no such option.
    const auto scorer_of = [&](const Params& q, std::vector<std::string>& warnings) {
      try {
        return make_scorer(q, warnings);
      } catch (const InvalidArgument& refused) {
        throw InvalidArgument(fmt::format("{} at the grid point {}: {}", name, params_text(q), refused.what()));
      }
    };
    for (const Params& q : points) {
      say(fmt::format("{} {}: validation", name, params_text(q)));
      std::vector<std::string> unused;  // a point's warning matters only if it is chosen
      const RankingSummary v = evaluate_ranking(scorer_of(q, unused), split.valid_fold_in, split.valid_target, ctx);
      e.trials.emplace_back(q, v);
      if (v.ndcg100.mean > best) {
        best = v.ndcg100.mean;
        e.params = q;
        e.validation = v;
      }
    }
    say(fmt::format("{} {}: test", name, params_text(e.params)));
    std::vector<std::string> warnings;
    e.test = evaluate_ranking(scorer_of(e.params, warnings), split.test_fold_in, split.test_target, ctx);
    for (const std::string& w : warnings) {
      e.warnings.push_back(fmt::format("{} at the chosen grid point {}: {}", name, params_text(e.params), w));
    }
    results.push_back(std::move(e));
  }
  return results;
}

}  // namespace linsim
