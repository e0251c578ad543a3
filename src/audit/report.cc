#include "linsim/audit/report.h"

#include <cmath>
#include <algorithm>
#include <array>
#include <fstream>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/io/heatmap.h"
#include "linsim/io/json_text.h"
#include "linsim/io/plots.h"

namespace linsim {
namespace {

using nlohmann::json;

json number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }
json maybe(const std::optional<double>& x) { return x ? number(*x) : json(nullptr); }

json measure_map(const std::vector<std::pair<std::string, double>>& v) {
  if (v.empty()) return nullptr;
  json m = json::object();
  for (const auto& [name, x] : v) m[name] = number(x);
  return m;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& s : parts) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {table[(v >> 18) & 63], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {table[(v >> 18) & 63], table[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {table[(v >> 18) & 63], table[(v >> 12) & 63], table[(v >> 6) & 63], '='};
  }
  return out;
}

// HTML text of `s`, made valid UTF-8 first as the JSON beside it is (json_text.h): the page
// declares UTF-8, and a path's Latin-1 byte read as U+FFFD there and as \xNN in audit.json.
std::string escape(const std::string& raw) {
  const std::string s = valid_utf8(raw);
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fixed(const std::optional<double>& x, int digits = 3) {
  if (!x || !std::isfinite(*x)) return "—";
  return fmt::format("{:.{}f}", *x, digits);
}

// A table cell or summary value: the number, "undefined" when the input cannot define it, "—" when
// its input was not given.
std::string shown(const AuditReport& r, const std::string& key, const std::optional<double>& x, int digits = 3) {
  if (x && std::isfinite(*x)) return fmt::format("{:.{}f}", *x, digits);
  return r.why_undefined(key) ? "undefined" : "—";
}

// The reading of an undefined number ("Undefined: why."), or `otherwise`.
std::string reading_or_why(const AuditReport& r, const std::string& key, const std::string& otherwise) {
  const std::string* why = r.why_undefined(key);
  return why ? "Undefined: " + *why + "." : otherwise;
}

std::string measure_label(const std::string& measure) {
  if (measure == "centred") return "centred cosine";
  return measure;
}

// One-line readings, shared by JSON and HTML.
struct Readings {
  std::string gauge, top1, balance, projected, spearman, random_cosine, top_dim, erank, hubness;
};

Readings readings(const AuditReport& r) {
  Readings t;
  const Index N = r.options.top;
  t.gauge = fmt::format("Under rescalings that leave every score unchanged, an item keeps on average {:.0f} % of its "
                        "top-{} cosine neighbours (100 % = cosine is not affected by the free scale).",
                        100 * r.mean_jaccard, N);
  t.top1 = fmt::format("{:.0f} % of the items change their nearest neighbour under some rescaling.",
                       100 * r.top1_changed_share);
  t.balance = !r.imbalance ? "Needs --users."
              : *r.imbalance < 0.05
                  ? "Balanced: what weight decay on both factors produces (docs/math.md M2); the scale is then pinned."
                  : "Not balanced: nothing in the training pinned the scale to weight decay's choice.";
  t.projected = !r.projected_mean_jaccard ? "Needs --users or --interactions."
                : !std::isfinite(*r.projected_mean_jaccard)
                    ? reading_or_why(r, "projected_overlap.mean_jaccard", "Undefined.")
                : *r.projected_mean_jaccard >= 0.99
                    ? "Cosine already equals the gauge-free projected similarity."
                    : fmt::format("Cosine and the gauge-free projected similarity share {:.0f} % of the top-{} "
                                  "neighbours.", 100 * *r.projected_mean_jaccard, N);
  t.spearman = !r.norm_spearman ? "Needs --interactions."
               : !std::isfinite(*r.norm_spearman) ? reading_or_why(r, "popularity.norm_spearman", "Undefined.")
               : fmt::format("{} correlation between an item's vector length and its number of users{}.",
                             std::abs(*r.norm_spearman) > 0.5 ? "Strong" : std::abs(*r.norm_spearman) > 0.2 ? "Moderate" : "Weak",
                             *r.norm_spearman > 0.3 ? ": dot products favour popular items" : "");
  t.random_cosine = fmt::format("Two random items have cosine {:.2f} on average ({}).", r.mean_random_cosine,
                                r.mean_random_cosine > 0.3 ? "anisotropic: the vectors share a common direction"
                                                           : "close to isotropic");
  t.top_dim = reading_or_why(r, "geometry.top_dim_variance_share",
                             fmt::format("The strongest direction carries {:.0f} % of the variance.",
                                         100 * r.top_dim_variance_share));
  t.erank = fmt::format("The vectors use about {:.1f} of their {} dimensions.", r.effective_rank, r.dim);
  t.hubness = reading_or_why(r, "geometry.hubness_skew",
                             fmt::format("{} (skewness of how often each item appears in others' top-{} lists{}).",
                                         r.hubness_skew > 2 ? "Strong hubs" : r.hubness_skew > 1 ? "Some hubs" : "Few hubs",
                                         N, r.hubness_exact ? "" : ", from sampled lists"));
  return t;
}

}  // namespace

json audit_json(const AuditReport& r, const json& inputs) {
  const Readings t = readings(r);
  const AuditOptions& o = r.options;
  json family = json::array();
  for (const GaugeResult& g : r.gauges) family.push_back({{"name", g.name}, {"mean_jaccard", number(g.jaccard.mean())}});
  json undefined = json::object();
  for (const auto& [key, why] : r.undefined) undefined[key] = why;
  json neighbour_pop = json::object();
  for (const auto& [name, x] : r.neighbour_popularity) neighbour_pop[name] = number(x);
  return {
      {"format", "linsim-audit"},
      {"options", {{"top", o.top}, {"queries", o.queries}, {"random_gauges", o.random_gauges},
                   {"random_spread", o.random_spread}, {"random_pairs", o.random_pairs},
                   {"hubness_exact_limit", o.hubness_exact_limit}, {"hubness_queries", o.hubness_queries},
                   {"seed", o.seed}, {"linsim_version", LINSIM_VERSION}}},
      {"input", inputs},
      {"items", r.n_items},
      {"dimension", r.dim},
      {"users", r.have_users ? json(r.n_users) : json(nullptr)},
      {"zero_vectors", r.zero_vectors},
      {"gauge_sensitivity", {{"mean_jaccard", number(r.mean_jaccard)},
                             {"worst_jaccard", number(r.worst_jaccard)},
                             {"top1_changed_share", number(r.top1_changed_share)},
                             {"top1_mean_distinct", number(r.top1_mean_distinct)},
                             {"queries", r.queries.size()},
                             {"family", family},
                             {"reading", t.gauge + " " + t.top1}}},
      {"balance", {{"imbalance", maybe(r.imbalance)}, {"reading", t.balance}}},
      {"projected_overlap", {{"mean_jaccard", maybe(r.projected_mean_jaccard)},
                             {"source", r.projected_source.empty() ? json(nullptr) : json(r.projected_source)},
                             {"reading", t.projected}}},
      {"popularity", {{"norm_spearman", maybe(r.norm_spearman)},
                      {"neighbour_popularity_percentile", r.neighbour_popularity.empty() ? json(nullptr) : neighbour_pop},
                      {"reading", t.spearman}}},
      {"geometry", {{"mean_random_cosine", number(r.mean_random_cosine)},
                    {"top_dim_variance_share", number(r.top_dim_variance_share)},
                    {"effective_rank", number(r.effective_rank)},
                    {"hubness_skew", number(r.hubness_skew)},
                    {"hubness_exact", r.hubness_exact},
                    {"reading", join({t.random_cosine, t.top_dim, t.erank, t.hubness}, " ")}}},
      {"truth", {{"auc", measure_map(r.truth_auc)},
                 {"spearman", measure_map(r.truth_spearman)},
                 {"pairs_found", r.have_pairs ? json(r.pairs_found) : json(nullptr)},
                 {"pairs_in_file", r.have_pairs ? json(r.pairs_in_file) : json(nullptr)}}},
      {"verdict", join(r.verdict, " ")},
      {"undefined", undefined},
      {"notes", r.notes}};
}

std::string audit_html(const AuditReport& r, const json& inputs) {
  const Readings t = readings(r);
  const Index N = r.options.top;
  std::vector<std::pair<std::string, std::string>> figures;  // caption, PNG
  figures.emplace_back(
      fmt::format("Jaccard@{} of each sampled item's cosine neighbours under rescaling, averaged over the {} "
                  "rescalings (1: unaffected).", N, r.gauges.size()),
      histogram_png(r.item_mean_jaccard, 0.0, 1.0, 20,
                    {fmt::format("Neighbour overlap under rescaling (Jaccard@{})", N), "mean Jaccard over rescalings",
                     "items"}));
  if (r.popularity.size()) {
    figures.emplace_back("Item vector length against popularity (number of users, log scale).",
                         scatter_png(r.popularity, r.item_norms, true,
                                     {"Vector length vs popularity", "users of the item (log)", "vector length"}));
  }
  if (r.heatmap.size()) {
    HeatmapOptions ho;
    ho.title = "";
    ho.colorbar_label = "cosine";
    ho.panel_pixels = 400;
    figures.emplace_back(fmt::format("Cosine similarity of {} sampled items sorted by their cluster (clusters of {}).",
                                     r.heatmap.rows(), [&] {
                                       std::string s;
                                       for (int c : r.heatmap_cluster_sizes) s += (s.empty() ? "" : ", ") + std::to_string(c);
                                       return s;
                                     }()),
                         heatmap_png({{"cosine, sorted by cluster", &r.heatmap}}, ho));
  }
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
       "<title>linsim audit</title><style>"
       "body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
       ".card{border:2px solid #2166ac;border-radius:8px;padding:1em 1.4em;background:#f4f8fc}"
       "table{border-collapse:collapse;width:100%;margin:.6em 0 1.4em}td,th{border-bottom:1px solid #ddd;"
       "padding:.35em .6em;text-align:left;vertical-align:top}th{background:#f0f0f0}td.v{font-family:monospace;"
       "white-space:nowrap}figure{margin:1em 0}figcaption{font-size:.9em;color:#555}.note{color:#8a5a00}"
       "</style></head><body>\n";
  h += "<h1>Is cosine similarity meaningful on these embeddings?</h1>\n";
  std::string sources;
  for (const auto& [key, value] : inputs.items()) {
    sources += (sources.empty() ? "" : ", ") + escape(key) + " <code>" +
               escape(value.is_string() ? value.get<std::string>() : json_text(value, -1)) + "</code>";
  }
  h += fmt::format("<p>{} items × {} dimensions{}. Inputs: {}.</p>\n", r.n_items, r.dim,
                   r.have_users ? fmt::format(", {} users", r.n_users) : "", sources);
  h += "<div class=\"card\" id=\"verdict\"><h2>Verdict</h2><p>" + escape(join(r.verdict, " ")) + "</p></div>\n";
  for (const auto& n : r.notes) h += "<p class=\"note\">Note: " + escape(n) + "</p>\n";
  h += "<h2>Figures</h2>\n";
  for (size_t f = 0; f < figures.size(); ++f) {
    h += fmt::format("<figure id=\"figure-{}\"><img alt=\"figure {}\" src=\"data:image/png;base64,{}\">"
                     "<figcaption>{}</figcaption></figure>\n",
                     f + 1, f + 1, base64(figures[f].second), escape(figures[f].first));
  }

  auto table = [&](const std::string& title, const std::vector<std::array<std::string, 3>>& rows) {
    h += "<h2>" + escape(title) + "</h2>\n<table><tr><th>measure</th><th>value</th><th>reading</th></tr>\n";
    for (const auto& row : rows) {
      h += "<tr><td>" + escape(row[0]) + "</td><td class=\"v\">" + escape(row[1]) + "</td><td>" + escape(row[2]) +
           "</td></tr>\n";
    }
    h += "</table>\n";
  };
  std::vector<std::array<std::string, 3>> gauge_rows = {
      {fmt::format("mean Jaccard@{}", N), fixed(r.mean_jaccard), t.gauge},
      {fmt::format("worst item Jaccard@{}", N), fixed(r.worst_jaccard), "The least stable sampled item."},
      {"top-1 neighbour changes", fixed(r.top1_changed_share), t.top1},
      {"distinct top-1 neighbours per item", fixed(r.top1_mean_distinct, 2),
       "Over the embeddings as given and every rescaling."}};
  double random_sum = 0, random_min = 1;
  Index random_count = 0;
  for (const GaugeResult& g : r.gauges) {
    if (g.name.rfind("random", 0) == 0) {
      random_sum += g.jaccard.mean();
      random_min = std::min(random_min, g.jaccard.mean());
      ++random_count;
      continue;
    }
    gauge_rows.push_back({"rescaling: " + g.name, fixed(g.jaccard.mean()), "Mean Jaccard under this rescaling."});
  }
  if (random_count > 0) {
    gauge_rows.push_back({fmt::format("{} random rescalings (spread {:g})", random_count, r.options.random_spread),
                          fixed(random_sum / static_cast<double>(random_count)),
                          fmt::format("Mean Jaccard over them; the lowest is {:.3f}.", random_min)});
  }
  gauge_rows.push_back({"balance ‖PᵀP − BᵀB‖/‖BᵀB‖", fixed(r.imbalance), t.balance});
  table("1. Gauge sensitivity", gauge_rows);
  table("2. Gauge-free alternative (projected, docs/math.md M4)",
        {{fmt::format("overlap@{} cosine vs projected", N),
          shown(r, "projected_overlap.mean_jaccard", r.projected_mean_jaccard), t.projected},
         {"computed from", r.projected_source.empty() ? "—" : r.projected_source,
          "Canonical vectors: linsim export --measure projected."}});
  std::vector<std::array<std::string, 3>> pop_rows = {
      {"Spearman(norm, popularity)", shown(r, "popularity.norm_spearman", r.norm_spearman), t.spearman}};
  for (const auto& [name, x] : r.neighbour_popularity) {
    pop_rows.push_back({"neighbours' popularity percentile: " + name, fixed(x, 1), "50 = no preference for popular items."});
  }
  table("3. Popularity", pop_rows);
  table("4. Geometry", {{"mean cosine of random pairs", fixed(r.mean_random_cosine), t.random_cosine},
                       {"variance share of the top dimension",
                        shown(r, "geometry.top_dim_variance_share", r.top_dim_variance_share), t.top_dim},
                       {"effective rank", fixed(r.effective_rank, 1), t.erank},
                       {"hubness (k-occurrence skewness)", shown(r, "geometry.hubness_skew", r.hubness_skew, 2),
                        t.hubness}});
  std::vector<std::array<std::string, 3>> truth_rows;
  for (const auto& [name, x] : r.truth_auc) {
    const std::string key = "truth.auc." + name;
    truth_rows.push_back({"same-cluster AUC: " + measure_label(name), shown(r, key, x),
                          reading_or_why(r, key, "0.5 = chance, 1 = perfect.")});
  }
  for (const auto& [name, x] : r.truth_spearman) {
    const std::string key = "truth.spearman." + name;
    truth_rows.push_back({"Spearman with human scores: " + measure_label(name), shown(r, key, x),
                          reading_or_why(r, key, fmt::format("Over {} of {} pairs with both words present.",
                                                             r.pairs_found, r.pairs_in_file))});
  }
  if (truth_rows.empty()) truth_rows.push_back({"—", "—", "Give --truth (item clusters or scored word pairs)."});
  table("5. Against truth", truth_rows);
  // A self-check that a browser can read: how many figures decoded.
  h += "<script>window.addEventListener('load',function(){var i=Array.prototype.slice.call(document.images);"
       "document.body.setAttribute('data-figures-loaded',i.filter(function(x){return x.complete&&x.naturalWidth>0;})"
       ".length+'/'+i.length);});</script>\n</body></html>\n";
  return h;
}

std::string audit_summary(const AuditReport& r) {
  const Index N = r.options.top;
  auto value = [&](const std::string& key, const std::optional<double>& x, const char* missing) {
    if (x && std::isfinite(*x)) return fmt::format("{:.3f}", *x);
    if (const std::string* why = r.why_undefined(key)) return fmt::format("undefined ({})", *why);
    return std::string(missing);
  };
  std::string out = "Verdict: " + join(r.verdict, " ") + "\n\n";
  out += fmt::format("gauge sensitivity  mean Jaccard@{} {:.3f}  worst {:.3f}\n", N, r.mean_jaccard, r.worst_jaccard);
  out += fmt::format("balance            {}\n", value("balance.imbalance", r.imbalance, "— (needs --users)"));
  out += fmt::format("projected overlap  {}\n",
                     value("projected_overlap.mean_jaccard", r.projected_mean_jaccard, "— (needs --users or --interactions)"));
  out += fmt::format("norm ~ popularity  {}\n", value("popularity.norm_spearman", r.norm_spearman, "— (needs --interactions)"));
  out += fmt::format("geometry           random cosine {:.3f}  top-dim share {}  effective rank {:.3f}  hubness {}\n",
                     r.mean_random_cosine, value("geometry.top_dim_variance_share", r.top_dim_variance_share, "—"),
                     r.effective_rank, value("geometry.hubness_skew", r.hubness_skew, "—"));
  const bool auc = !r.truth_auc.empty();
  const auto& truth = auc ? r.truth_auc : r.truth_spearman;
  if (truth.empty()) {
    out += "truth              — (needs --truth)\n";
  } else {
    out += fmt::format("truth              {}{}\n", auc ? "same-cluster AUC" : "Spearman with human scores",
                       auc ? "" : fmt::format(" over {} of {} pairs", r.pairs_found, r.pairs_in_file));
    for (const auto& [name, x] : truth) {
      out += fmt::format("  {:<17}{}\n", measure_label(name),
                         value(std::string(auc ? "truth.auc." : "truth.spearman.") + name, x, "—"));
    }
  }
  return out;
}

void write_audit(AtomicDirectory& out, const AuditReport& report, const json& inputs) {
  {
    std::ofstream f(out.file("audit.json"));
    f << json_text(audit_json(report, inputs)) << '\n';
    f.close();  // a write that fails may fail only when the buffer is flushed
    if (!f) throw Error(fmt::format("cannot write audit.json in '{}'", out.target()));
  }
  std::ofstream f(out.file("audit.html"));
  f << audit_html(report, inputs);
  f.close();
  if (!f) throw Error(fmt::format("cannot write audit.html in '{}'", out.target()));
}

}  // namespace linsim
