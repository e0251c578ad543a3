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
  std::optional<SparseMatrix> interactions;  // n' × p, columns are the items
  std::vector<int> clusters;             // per item (−1: none); empty when not given
  std::vector<WordPair> pairs;           // word pairs with human scores; empty when not given
  Index pairs_in_file = 0;               // pairs in the truth file (found or not)
  std::vector<std::string> notes;        // input warnings, carried into the report
};

struct AuditOptions {
  Index top = 10;                 // N of Jaccard@N, overlap@N and the neighbours' popularity
  Index queries = 1000;           // query items sampled for the neighbour comparisons (all if fewer)
  Index random_gauges = 8;        // random diagonal rescalings
  double random_spread = 0.5;     // s: D_j = exp(s z_j)
  Index random_pairs = 100000;    // pairs sampled for the mean random cosine
  Index hubness_exact_limit = 20000;  // hubness from every item's list up to this many items
  Index hubness_queries = 10000;      // sampled queries above it
  std::uint64_t seed = 42;

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
  // 5. truth
  std::vector<std::pair<std::string, double>> truth_auc;       // measure → same-cluster AUC
  std::vector<std::pair<std::string, double>> truth_spearman;  // measure → Spearman with human scores
  Index pairs_found = 0, pairs_in_file = 0;
  Matrix heatmap;                           // cosine of a cluster-sorted sample (truth clusters)
  std::vector<int> heatmap_cluster_sizes;
  // 6. verdict
  std::vector<std::string> verdict;
  std::vector<std::string> notes;
};

// Reads a truth file into `input` (clusters or pairs). kind "clusters": item<sep>cluster[...]
// lines (e.g. `linsim simulate --truth`); "pairs": word1<sep>word2<sep>score lines (WordSim-353,
// MEN; SimLex-999's header names its score column "SimLex999"); "auto": clusters when the header
// names a "cluster" or "label" column, else pairs when the third field is a number, else clusters.
// Separator: tab if the first line has one, else comma, else blanks. A first line whose ids are
// unknown (clusters) or whose score is not a number (pairs) is a header. Words are matched
// exactly, then lower-cased. Ids not among the items are counted in a note, not an error.
void read_truth(const std::string& path, const std::string& kind, AuditInput& input);

// Runs every section the input allows. Throws InvalidArgument for inconsistent inputs (users or
// interactions whose shape does not match the items, N ≥ number of items, non-finite values).
AuditReport run_audit(const AuditInput& input, const AuditOptions& options, const Context& ctx,
                      const ProgressFn& progress = {});

// Spearman rank correlation (average ranks for ties); NaN when either side is constant.
double spearman(const Vector& a, const Vector& b);

}  // namespace linsim
