// `linsim audit`: is cosine similarity meaningful on a given set of embeddings, and what is the
// gauge-free alternative (MATH.md M1, M2, M4)? Works on embeddings from any model scored by dot
// products ⟨p_u, b_i⟩, not only linsim's.
//
// Sections (each a set of numbers; those whose input is missing are absent):
//   gauge sensitivity  top-N cosine neighbours under rescalings B → B D⁻¹ (P → P D) that leave
//                      every score unchanged, against the embeddings as given (Jaccard@N);
//   balance            ‖PᵀP − BᵀB‖_F / ‖BᵀB‖_F (0 at weight decay's optimum, MATH.md M2);
//   projected          overlap@N of cosine and projected neighbours (M4);
//   popularity         Spearman of item norm with popularity, neighbours' popularity percentile;
//   geometry           anisotropy, top-dimension variance share, effective rank, hubness;
//   truth              same-cluster AUC or Spearman with human pair scores, per measure.
//
// The gauge family (documented in docs/audit.md): with c_j = ‖B_:,j‖ the column norms of B,
// the power gauges D = diag(c)^t for t ∈ {1, 0.5, −0.5, −1} (t = 1 gives unit-norm columns,
// the paper's item-orthonormal choice when the columns are orthogonal; the others move
// between it and steeper versions of the given scale), with users the balanced gauge
// D_j = sqrt(‖b_j‖ / ‖p_j‖), and `random_gauges` draws D_j = exp(s z_j), z_j ~ N(0, 1).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "linsim/core/context.h"
#include "linsim/core/types.h"
#include "linsim/data/interaction_matrix.h"
#include "linsim/evaluate/rank_correlation.h"  // spearman, used by the truth section

namespace linsim {

struct WordPair {
  Index a;
  Index b;
  double score;
};

struct AuditInput {
  Matrix items;                          // B, p × k
  IdMap item_ids;
  std::optional<Matrix> users;           // P, n × k
  IdMap user_ids;                        // ids of the rows of users (empty when there are none)
  std::optional<SparseMatrix> interactions;  // n' × p, columns are the items
  IdMap interaction_users;               // ids of the interactions' rows
  std::vector<int> clusters;             // per item (−1: none); empty when not given
  std::vector<WordPair> pairs;           // word pairs with human scores; empty when not given
  Index pairs_in_file = 0;               // pairs in the truth file (found or not)
  std::vector<std::string> notes;        // input warnings, carried into the report
};

// Ranges of the options, chosen so that the audit's own memory stays bounded whatever the input
// size (docs/audit.md "Sampling and cost"): the neighbour lists take 16 bytes × queries × top
// each (up to four at once: 640 MB at the limits), the hubness lists 16 bytes ×
// max(hubness_exact_limit, hubness_queries) × top (320 MB), the per-query Jaccard of each
// rescaling 8 bytes × queries × (random_gauges + 5) (80 MB); random pairs cost time, not memory.
struct AuditOptionLimits {
  static constexpr Index kMaxTop = 1000;
  static constexpr Index kMaxQueries = 10000;
  static constexpr Index kMaxRandomGauges = 1000;
  static constexpr double kMaxRandomSpread = 10.0;  // exp(±10 z): no overflow for any z a seed draws
  static constexpr Index kMaxRandomPairs = 100000000;
  static constexpr Index kMaxHubnessLists = 20000;   // hubness_exact_limit and hubness_queries
};

struct AuditOptions {
  Index top = 10;                 // N of Jaccard@N, overlap@N and the neighbours' popularity; 1..1000
  Index queries = 1000;           // query items sampled for the neighbour comparisons (all if fewer); 1..10,000
  Index random_gauges = 8;        // random diagonal rescalings; 0..1000
  double random_spread = 0.5;     // s: D_j = exp(s z_j); (0, 10]
  Index random_pairs = 100000;    // pairs sampled for the mean random cosine; 1..10^8
  Index hubness_exact_limit = 20000;  // hubness from every item's list up to this many items; 0..20,000
  Index hubness_queries = 10000;      // sampled queries above it; 1..20,000
  std::uint64_t seed = 42;

  // Throws InvalidArgument naming the option (as the CLI spells it), its value and its range.
  void validate() const;
};

struct GaugeResult {
  std::string name;
  Vector jaccard;  // per query: Jaccard@N of its cosine neighbours vs the embeddings as given
};

struct AuditReport {
  AuditOptions options;
  Index n_items = 0, dim = 0, n_users = 0, zero_vectors = 0;
  bool have_users = false, have_interactions = false, have_clusters = false, have_pairs = false;
  std::vector<Index> queries;               // the sampled query items
  // 1. gauge sensitivity
  std::vector<GaugeResult> gauges;
  Vector item_mean_jaccard;                 // per query, averaged over the gauges
  double mean_jaccard = 0, worst_jaccard = 0;
  double top1_changed_share = 0;            // queries whose top-1 neighbour changes under some gauge
  double top1_mean_distinct = 0;            // distinct top-1 neighbours per query, given + gauges
  std::optional<double> imbalance;          // with users
  // 2. projected
  std::optional<double> projected_mean_jaccard;
  std::string projected_source;             // "users" or "interactions (least-squares users)"
  // 3. popularity
  std::optional<double> norm_spearman;
  std::vector<std::pair<std::string, double>> neighbour_popularity;  // measure → mean percentile
  Vector item_norms, popularity;            // for the figure
  // 4. geometry
  double mean_random_cosine = 0, top_dim_variance_share = 0, effective_rank = 0, hubness_skew = 0;
  bool hubness_exact = true;
  // Directions the item vectors span (singular values above 1e-6 of the largest): with one or
  // none, every cosine between them is ±1 (or 0), and no similarity tells the items apart.
  Index item_dimensions = 0;
  // 5. truth (measures: cosine, dot, centred = cosine after subtracting the mean item vector,
  // projected when users or interactions are given)
  std::vector<std::pair<std::string, double>> truth_auc;       // measure → same-cluster AUC
  std::vector<std::pair<std::string, double>> truth_spearman;  // measure → Spearman with human scores
  Index pairs_found = 0, pairs_in_file = 0;
  Matrix heatmap;                           // cosine of a cluster-sorted sample (truth clusters)
  std::vector<int> heatmap_cluster_sizes;
  // 6. verdict
  std::vector<std::string> verdict;
  std::vector<std::string> notes;
  // Numbers whose input was given but that have no value for it (NaN above; null in audit.json),
  // keyed as in audit.json ("popularity.norm_spearman", "truth.auc.cosine", …), with the reason.
  std::vector<std::pair<std::string, std::string>> undefined;

  // The reason `key` is undefined, or null when it is defined (or its input was not given).
  const std::string* why_undefined(const std::string& key) const;
  // The truth number of `measure` (AUC with clusters, else Spearman); nullopt without truth.
  std::optional<double> truth_of(const std::string& measure) const;
};

// Reads a truth file into `input` (clusters or pairs). kind "clusters": item<sep>cluster[...]
// lines (e.g. `linsim simulate --truth`); "pairs": word1<sep>word2<sep>score lines (WordSim-353,
// MEN; SimLex-999's header names its score column "SimLex999"); "auto": clusters when the header
// names a "cluster" or "label" column, else pairs when the third field is a number, else clusters.
// Separator: tab if the first line has one, else comma, else blanks. A first line whose ids are
// unknown (clusters) or whose score is not a number (pairs) is a header; a score that reads as a
// number but is not finite ("nan", "inf") is an InputError naming the line, never a header or a
// reason to take the file for clusters. Words are matched exactly, then lower-cased. Ids not among
// the items are counted in a note (with the coverage), not an error; but a pairs file with fewer
// than 3 pairs whose words are both present is an Error naming the file and the pairs read (a
// Spearman correlation needs 3), and so is a clusters file none of whose items is present.
void read_truth(const std::string& path, const std::string& kind, AuditInput& input);

// Runs every section the input allows. Throws InvalidArgument for options out of range and for
// inconsistent inputs (users or interactions whose shape does not match the items, N ≥ number of
// items, non-finite values, more than 2^31 − 1 items). Numbers the input cannot define (a
// Spearman correlation with a constant side, a same-cluster AUC with one cluster) are NaN and
// listed in `undefined`; the verdict never recommends a step (projected, centring, normalising)
// that the given truth scores lower, and says so with both numbers instead.
AuditReport run_audit(const AuditInput& input, const AuditOptions& options, const Context& ctx,
                      const ProgressFn& progress = {});

}  // namespace linsim
