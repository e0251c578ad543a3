#include "linsim/simulate/reproduction.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/evaluate/report.h"
#include "linsim/io/atomic_output.h"
#include "linsim/io/heatmap.h"
#include "linsim/io/json_text.h"
#include "linsim/similarity/measure.h"

namespace linsim {
namespace {

using nlohmann::json;

Summary summarize(const std::vector<double>& x) {
  // One seed has no spread: its sd is NaN ("undefined", null in JSON), not 0.
  Summary s;
  s.sd = std::numeric_limits<double>::quiet_NaN();
  if (x.empty()) return s;
  s.mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
  if (x.size() > 1) {
    double ss = 0;
    for (double v : x) ss += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(x.size() - 1));
  }
  return s;
}

// One-hot rows of the cluster labels: their cosine is the same-cluster indicator.
Matrix cluster_indicator(const std::vector<int>& cluster, Index clusters) {
  Matrix F = Matrix::Zero(static_cast<Index>(cluster.size()), clusters);
  for (size_t i = 0; i < cluster.size(); ++i) F(static_cast<Index>(i), cluster[i]) = 1.0;
  return F;
}

json summary_json(const Summary& s) { return {{"mean", s.mean}, {"sd", s.sd}}; }

// "mean ± sd", or "undefined" when the metric was undefined on a seed (--clusters 1: no AUC).
std::string pm(const Summary& s, int digits) {
  if (std::isnan(s.mean)) return metric_text(s.mean, digits);
  return fmt::format("{:.{}f} ± {}", s.mean, digits, metric_text(s.sd, digits));
}

// results.md and the figures name the first seed (results.md the last too) and the figures need
// one similarity per variant: a result from reproduce() has them.
void require_seeds(const ReproductionResult& r, bool figures) {
  if (r.seeds.empty() || (figures && r.figure_similarity.size() != r.variants.size())) {
    throw InvalidArgument(fmt::format("a reproduction result without {} (not one from reproduce())",
                                      r.seeds.empty() ? "seeds" : "one figure similarity per variant"));
  }
}

}  // namespace

// Rows of a figure's similarity scored at a time.
constexpr Index kFigureBlockRows = 256;

void ReproductionOptions::validate() const {
  simulation.validate();
  // Each seed is a whole experiment (seconds to minutes): a count beyond any run's length is a
  // mistake, refused before it starts rather than run until stopped.
  if (seeds < 1 || seeds > kMaxReproductionSeeds) {
    throw InvalidArgument(fmt::format("--seeds must be in [1, {}], got {}", kMaxReproductionSeeds, seeds));
  }
  // Seeds seed, seed + 1, …: past 2^64 − 1 they would wrap to 0 (the results listing 2^64 − 1, 0).
  if (static_cast<std::uint64_t>(seeds - 1) > std::numeric_limits<std::uint64_t>::max() - simulation.seed) {
    throw InvalidArgument(fmt::format("--seed {} with --seeds {} runs past the largest seed, 2^64 - 1 = {}",
                                      simulation.seed, seeds, std::numeric_limits<std::uint64_t>::max()));
  }
  if (rank < 1 || rank > simulation.items) {
    throw InvalidArgument(fmt::format("--rank must be in [1, items = {}], got {}", simulation.items, rank));
  }
  for (const auto& [name, l] : {std::pair<const char*, double>{"--lambda-eq1", lambda_eq1}, {"--lambda-eq2", lambda_eq2}}) {
    if (!std::isfinite(l) || l < 0) throw InvalidArgument(fmt::format("{} must be a finite number >= 0, got {}", name, l));
  }
  // The first seed keeps an items × items similarity per variant for the figures; beside them are
  // X's Gram matrix (kept for raw item-kNN), raw's cosine matrix, and the blocks being scored: four
  // more (measured peak: 17.8 of them at 2,000 items with 15 variants, 13.8 with 10). Fail before
  // simulating when they cannot fit.
  const double figures = static_cast<double>(reproduction_variants().size() + 4) * 8.0 *
                         static_cast<double>(simulation.items) * static_cast<double>(simulation.items);
  if (const auto shortfall = memory_shortfall(figures)) {
    throw OutOfMemory(fmt::format("--items {} needs about {} for the figures' items x items similarities, {}",
                                      simulation.items, format_bytes(figures), shortfall->more_than()));
  }
  if (top < 1 || top >= simulation.items) {
    throw InvalidArgument(fmt::format("--top must be in [1, items - 1 = {}], got {}", simulation.items - 1, top));
  }
  remedies.validate();
}

const std::vector<Variant>& reproduction_variants() {
  static const std::vector<Variant> variants = [] {
    std::vector<Variant> v = {{"ground truth", "truth", "", "cosine", true, "", false}};
    v.insert(v.end(), model_variants().begin(), model_variants().end());
    return v;
  }();
  return variants;
}

ReproductionResult reproduce(const ReproductionOptions& options, const Context& ctx, const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  options.validate();
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  ReproductionResult result;
  result.options = options;
  std::vector<Variant> variants;
  for (const Variant& v : reproduction_variants()) {
    if (!v.remedy || options.remedies.enabled) variants.push_back(v);
  }
  for (const Variant& v : variants) result.variants.push_back({v, {}, {}, {}, {}});
  // Each model's first warning, and on how many seeds it had one (their σ differ, so their texts do).
  struct Warned {
    std::string model, first;
    Index seeds;
  };
  std::vector<Warned> warned;
  for (Index s = 0; s < options.seeds; ++s) {
    SimulationOptions sim_options = options.simulation;
    sim_options.seed = options.simulation.seed + static_cast<std::uint64_t>(s);
    result.seeds.push_back(sim_options.seed);
    say(fmt::format("seed {} ({}/{}): simulating {} users x {} items", sim_options.seed, s + 1, options.seeds,
                    sim_options.users, sim_options.items));
    const Simulation sim = simulate(sim_options, ctx);
    const SparseMatrix& X = sim.data.X;
    say(fmt::format("seed {}: {} interactions; spectrum (rank {})", sim_options.seed, X.nonZeros(), options.rank));
    const VariantModels models =
        fit_variant_models(X, options.rank, options.lambda_eq1, options.lambda_eq2, std::nullopt, ctx,
                           options.remedies, [&](const std::string& m) { say(fmt::format("seed {}: {}", sim_options.seed, m)); });
    if (models.cosine) result.cosine_fits.push_back(models.cosine->convergence);
    for (const std::string& w : models.warnings()) {
      const std::string model = w.substr(0, w.find(": "));
      auto same = std::find_if(warned.begin(), warned.end(), [&](const auto& e) { return e.model == model; });
      if (same == warned.end()) {
        warned.push_back({model, fmt::format("seed {}, {}", sim_options.seed, w), 1});
      } else {
        ++same->seeds;
      }
    }
    // Observed popularity: the number of users of each item.
    const Vector popularity = item_users(X);
    if (s == 0) {
      result.figure_order.resize(static_cast<size_t>(X.cols()));
      std::iota(result.figure_order.begin(), result.figure_order.end(), Index{0});
      std::sort(result.figure_order.begin(), result.figure_order.end(), [&](Index a, Index b) {
        const int ca = sim.cluster[static_cast<size_t>(a)], cb = sim.cluster[static_cast<size_t>(b)];
        if (ca != cb) return ca < cb;
        if (sim.popularity(a) != sim.popularity(b)) return sim.popularity(a) > sim.popularity(b);
        return a < b;
      });
      result.figure_cluster_sizes.assign(static_cast<size_t>(sim.cluster_probability.size()), 0);
      for (int c : sim.cluster) ++result.figure_cluster_sizes[static_cast<size_t>(c)];
    }
    say(fmt::format("seed {}: measuring {} variants", sim_options.seed, variants.size()));
    for (size_t v = 0; v < variants.size(); ++v) {
      interruption_point();
      const auto space = variants[v].model == "truth"
                             ? make_factor_space(cluster_indicator(sim.cluster, sim.cluster_probability.size()))
                             : variant_space(variants[v], models, X, ctx);
      result.variants[v].per_seed.push_back(cluster_quality(*space, sim.cluster, popularity, options.top, ctx));
      if (s == 0) {
        // Rows and columns in figure order, scored a block of rows at a time into the figure itself:
        // a whole items x items temporary beside each figure had nearly doubled the peak memory.
        const auto n = static_cast<Index>(result.figure_order.size());
        Matrix sorted(n, n);
        RowMatrix block;
        for (Index first = 0; first < n; first += kFigureBlockRows) {
          const Index rows = std::min(kFigureBlockRows, n - first);
          const std::vector<Index> queries(result.figure_order.begin() + first,
                                           result.figure_order.begin() + first + rows);
          space->score(queries, block);
          sorted.middleRows(first, rows) = block(Eigen::all, result.figure_order);
        }
        if (variants[v].measure == "dot") {
          const double scale = sorted.cwiseAbs().maxCoeff();
          if (scale > 0) sorted /= scale;
        }
        result.figure_similarity.push_back(std::move(sorted));
      }
    }
  }
  double lo = 1e300, hi = -1e300;
  for (VariantResult& r : result.variants) {
    std::vector<double> auc, prec, pop;
    for (const ClusterQuality& q : r.per_seed) {
      auc.push_back(q.auc);
      prec.push_back(q.precision_at_k);
      pop.push_back(q.popularity_percentile_at_k);
    }
    r.auc = summarize(auc);
    r.precision = summarize(prec);
    r.popularity = summarize(pop);
    if (r.variant.model == "eq1" && r.variant.measure == "cosine") {
      lo = std::isnan(r.auc.mean) ? r.auc.mean : std::min(lo, r.auc.mean);  // NaN (undefined) stays NaN
      hi = std::isnan(r.auc.mean) ? r.auc.mean : std::max(hi, r.auc.mean);
    }
  }
  result.gauge_spread_auc = hi - lo;
  for (const Warned& w : warned) {
    result.warnings.push_back(w.seeds == 1 ? w.first
                                           : fmt::format("{} (and on {} more of the {} seeds)", w.first, w.seeds - 1, options.seeds));
  }
  return result;
}

std::string reproduction_table(const ReproductionResult& r) {
  std::string t = fmt::format("| variant | same-cluster AUC | precision@{0} | popularity percentile@{0} |\n"
                              "|---|---|---|---|\n",
                              r.options.top);
  for (const VariantResult& v : r.variants) {
    t += fmt::format("| {} | {} | {} | {} |\n", v.variant.name, pm(v.auc, 3), pm(v.precision, 3),
                     pm(v.popularity, 1));
  }
  t += fmt::format("\nSpread of the AUC across the eq1 gauges (max − min): **{}**\n", metric_text(r.gauge_spread_auc, 3));
  return t;
}

nlohmann::json reproduction_json(const ReproductionResult& r) {
  const ReproductionOptions& o = r.options;
  const SimulationOptions& s = o.simulation;
  json variants = json::array();
  for (const VariantResult& v : r.variants) {
    json per_seed = {{"auc", json::array()}, {"precision_at_k", json::array()},
                     {"popularity_percentile_at_k", json::array()}};
    for (const ClusterQuality& q : v.per_seed) {
      per_seed["auc"].push_back(q.auc);
      per_seed["precision_at_k"].push_back(q.precision_at_k);
      per_seed["popularity_percentile_at_k"].push_back(q.popularity_percentile_at_k);
    }
    variants.push_back({{"name", v.variant.name},
                        {"model", v.variant.model},
                        {"gauge", v.variant.gauge.empty() ? json(nullptr) : json(v.variant.gauge)},
                        {"measure", v.variant.measure},
                        {"auc", summary_json(v.auc)},
                        {"precision_at_k", summary_json(v.precision)},
                        {"popularity_percentile_at_k", summary_json(v.popularity)},
                        {"per_seed", per_seed}});
  }
  const json options = {{"users", s.users},
                        {"items", s.items},
                        {"clusters", s.clusters},
                        {"beta_min", s.beta_min},
                        {"beta_max", s.beta_max},
                        {"user_beta", s.user_beta},
                        {"cluster_concentration", s.cluster_concentration},
                        {"preference_concentration", s.preference_concentration},
                        {"activity_scale", s.activity_scale > 0 ? s.activity_scale : static_cast<double>(s.items)},
                        {"max_items_per_user", s.max_items_per_user},
                        {"seed", s.seed},
                        {"seeds", o.seeds},
                        {"rank", o.rank},
                        {"lambda_eq1", o.lambda_eq1},
                        {"lambda_eq2", o.lambda_eq2},
                        {"top", o.top},
                        {"remedies", o.remedies.enabled},
                        {"ips_beta", o.remedies.ips_beta},
                        {"sppmi_negatives", o.remedies.sppmi.negatives},
                        {"sppmi_smoothing", o.remedies.sppmi.smoothing},
                        {"sppmi_eigen_power", o.remedies.sppmi.eigen_power},
                        {"cosine_epochs", o.remedies.cosine_epochs},
                        {"linsim_version", LINSIM_VERSION}};
  json cosine_fits = json::array();
  for (size_t i = 0; i < r.cosine_fits.size(); ++i) {
    const Convergence& c = r.cosine_fits[i];
    cosine_fits.push_back({{"seed", i < r.seeds.size() ? json(r.seeds[i]) : json(nullptr)},
                           {"iterations", c.iterations},
                           {"converged", c.converged},
                           {"epoch_limit", c.epoch_limit},
                           {"reason", c.reason},
                           {"final_objective", c.final_objective}});
  }
  return {{"options", options}, {"seeds", r.seeds}, {"variants", variants},
          {"gauge_spread_auc", r.gauge_spread_auc}, {"warnings", r.warnings}, {"cosine_fits", cosine_fits}};
}

namespace {

// How the cosine-trained variant stopped, for results.md: its objective has no minimiser (M5), so
// where it stopped is part of its row.
std::string cosine_fit_sentence(const ReproductionResult& r) {
  if (r.cosine_fits.empty()) return "";
  const auto limited = std::count_if(r.cosine_fits.begin(), r.cosine_fits.end(),
                                     [](const Convergence& c) { return c.epoch_limit; });
  const auto converged = std::count_if(r.cosine_fits.begin(), r.cosine_fits.end(),
                                       [](const Convergence& c) { return c.converged; });
  std::string text = fmt::format("\nThe cosine-trained model stopped at its iteration limit (--cosine-epochs {}) on {} "
                                 "of {} seeds and met its tolerance on {}",
                                 r.options.remedies.cosine_epochs, limited, r.cosine_fits.size(), converged);
  const auto other = static_cast<Index>(r.cosine_fits.size()) - limited - converged;
  if (other > 0) text += fmt::format("; on {} its line search stopped first", other);
  return text + ". Its objective has no minimiser (docs/math.md M5): its row depends on where it stopped.\n";
}

}  // namespace

std::string reproduction_markdown(const ReproductionResult& r) {
  require_seeds(r, false);
  const ReproductionOptions& o = r.options;
  const SimulationOptions& s = o.simulation;
  return "# Reproduction of the paper's simulation\n\n" +
         fmt::format("{} users × {} items, {} clusters; eq1 with λ = {:g}, eq2 with λ = {:g}, rank {}; "
                     "mean ± sd over {} seeds ({}–{}).\n\n",
                     s.users, s.items, s.clusters, o.lambda_eq1, o.lambda_eq2, o.rank, r.seeds.size(),
                     r.seeds.front(), r.seeds.back()) +
         markdown_warnings(r.warnings) + reproduction_table(r) + cosine_fit_sentence(r) +
         fmt::format("\nAUC: for each item, the ROC-AUC of ranking all other items by the similarity, same "
                     "cluster = positive (ties count ½), averaged over items. precision@{0}: share of "
                     "same-cluster items among the {0} nearest neighbours. popularity percentile@{0}: mean "
                     "popularity percentile (0–100, by number of users) of those neighbours; 50 means no "
                     "preference for popular items.\n\n",
                     o.top) +
         "![Figure 1](figure1.png)\n\n![All variants](figure1-extended.png)\n";
}

void write_reproduction(AtomicDirectory& out, const ReproductionResult& r) {
  require_seeds(r, true);
  const std::string& dir = out.target();
  // Figures.
  const std::string subtitle = fmt::format("seed {}: {} items sorted by cluster, then by descending popularity",
                                           r.seeds.front(), r.options.simulation.items);
  std::vector<HeatmapPanel> paper, extended;
  for (size_t v = 0; v < r.variants.size(); ++v) {
    const Variant& var = r.variants[v].variant;
    std::string title = var.name;
    if (var.measure == "dot") title += " (scaled)";
    HeatmapPanel panel{title, &r.figure_similarity[v]};
    if (var.in_figure1) paper.push_back(panel);
    extended.push_back(std::move(panel));
  }
  HeatmapOptions fig;
  fig.title = "Item-item cosine similarity on simulated data (" + subtitle + ")";
  fig.colorbar_label = "cosine similarity";
  write_heatmaps(out.file("figure1.png"), paper, fig, false);
  fig.columns = 5;
  fig.title = "All similarity variants (" + subtitle + ")";
  write_heatmaps(out.file("figure1-extended.png"), extended, fig, false);
  {
    std::ofstream f(out.file("results.json"));
    f << json_text(reproduction_json(r)) << '\n';
    f.close();  // a write that fails may fail only when the buffer is flushed
    if (!f) throw Error(fmt::format("cannot write results.json in '{}'", dir));
  }
  {
    std::ofstream f(out.file("results.md"));
    f << reproduction_markdown(r);
    f.close();
    if (!f) throw Error(fmt::format("cannot write results.md in '{}'", dir));
  }
}

}  // namespace linsim
