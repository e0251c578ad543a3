#include "linsim/audit/audit.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <limits>
#include <map>
#include <set>

#include <Eigen/Eigenvalues>
#include <fmt/format.h>

#include "linalg/products.h"
#include "linsim/audit/inputs.h"
#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/core/random.h"
#include "linsim/evaluate/cluster_quality.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/neighbors.h"

namespace linsim {

void AuditOptions::validate() const {
  using L = AuditOptionLimits;
  auto in_range = [](const char* option, Index value, Index lo, Index hi) {
    if (value < lo || value > hi) {
      throw InvalidArgument(fmt::format("{} must be in [{}, {}], got {}", option, lo, hi, value));
    }
  };
  in_range("--top", top, 1, L::kMaxTop);
  in_range("--queries", queries, 1, L::kMaxQueries);
  in_range("--random-gauges", random_gauges, 0, L::kMaxRandomGauges);
  if (!(random_spread > 0) || !(random_spread <= L::kMaxRandomSpread)) {
    throw InvalidArgument(fmt::format("--random-spread must be in (0, {:g}], got {}", L::kMaxRandomSpread, random_spread));
  }
  in_range("random_pairs", random_pairs, 1, L::kMaxRandomPairs);
  in_range("hubness_exact_limit", hubness_exact_limit, 0, L::kMaxHubnessLists);
  in_range("hubness_queries", hubness_queries, 1, L::kMaxHubnessLists);
}

const std::string* AuditReport::why_undefined(const std::string& key) const {
  for (const auto& [k, why] : undefined) {
    if (k == key) return &why;
  }
  return nullptr;
}

std::optional<double> AuditReport::truth_of(const std::string& measure) const {
  const auto& t = truth_auc.empty() ? truth_spearman : truth_auc;
  for (const auto& [name, x] : t) {
    if (name == measure) return x;
  }
  return std::nullopt;
}

namespace {

// The cosine of rows a and b of F diag(scale) (scale empty: of F), as cosine_lists scores them up
// to rounding.
double row_cosine(const Matrix& F, const Vector& scale, Index a, Index b) {
  Eigen::RowVectorXd x = F.row(a), y = F.row(b);
  if (scale.size() > 0) {
    x = x.cwiseProduct(scale.transpose());
    y = y.cwiseProduct(scale.transpose());
  }
  const double nx = x.norm(), ny = y.norm();
  return nx > 0 && ny > 0 ? x.dot(y) / (nx * ny) : 0.0;
}

// Cosines that differ by less than this are one score computed twice: equal vectors (items with
// the same interactions) tie exactly, and two computations of one similarity round such ties
// apart in either direction.
constexpr double kTieTolerance = 1e-9;

// The Jaccard overlap of the top-k lists `a` and `b` of query q, up to ties: a neighbour that one
// list lacks counts as shared when, under that list's own measure (`score_a`, `score_b`: the
// cosine of q and an item), it ties the list's last score. Exact ties are otherwise ordered by
// rounding: the export of canonical vectors, whose cosine is the projected similarity, audited at
// 97 % overlap with it and was advised to switch (8 % of the items of a MovieLens model had their
// 10th and 11th cosines within 1e-9).
template <typename ScoreA, typename ScoreB>
double jaccard_up_to_ties(const std::vector<Neighbor>& a, const std::vector<Neighbor>& b, const ScoreA& score_a,
                          const ScoreB& score_b) {
  std::set<Index> in_a, in_b;
  for (const Neighbor& n : a) in_a.insert(n.index);
  for (const Neighbor& n : b) in_b.insert(n.index);
  Index both = 0, a_ties_b = 0, b_ties_a = 0;
  for (const Neighbor& n : a) both += in_b.count(n.index) ? 1 : 0;
  if (!a.empty() && !b.empty()) {
    for (const Neighbor& n : b) {  // b's neighbours a lacks, tied with a's last
      if (in_a.count(n.index) == 0 && score_a(n.index) >= a.back().score - kTieTolerance) ++b_ties_a;
    }
    for (const Neighbor& n : a) {
      if (in_b.count(n.index) == 0 && score_b(n.index) >= b.back().score - kTieTolerance) ++a_ties_b;
    }
  }
  const double shared = static_cast<double>(both + std::min(a_ties_b, b_ties_a));
  const double uni = static_cast<double>(a.size() + b.size()) - shared;
  return uni > 0 ? shared / uni : 1.0;
}

NeighborLists cosine_lists(const Matrix& F, const std::vector<Index>& queries, Index top, const Context& ctx) {
  return top_neighbors(*make_factor_space(normalize_rows(F)), queries, top, false, ctx);
}

// k × k symmetric positive semi-definite square root and pseudo-inverse square root.
std::vector<Index> sample(const std::vector<Index>& from, Index count, std::uint64_t seed, std::uint64_t stream) {
  std::vector<Index> v = from;
  if (static_cast<Index>(v.size()) <= count) return v;
  Rng rng(seed, stream);
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {  // partial Fisher–Yates
    const size_t j = i + static_cast<size_t>(rng() % (v.size() - i));
    std::swap(v[i], v[j]);
  }
  v.resize(static_cast<size_t>(count));
  std::sort(v.begin(), v.end());
  return v;
}

double mean_percentile(const NeighborLists& lists, const Vector& pct) {
  double sum = 0;
  Index count = 0;
  for (const auto& list : lists) {
    if (list.empty()) continue;
    double s = 0;
    for (const Neighbor& n : list) s += pct(n.index);
    sum += s / static_cast<double>(list.size());
    ++count;
  }
  return count ? sum / static_cast<double>(count) : std::nan("");
}

std::string pct(double x) { return fmt::format("{:.0f} %", 100.0 * x); }

constexpr Index kMaxItems = std::numeric_limits<int>::max();  // top-k stores int indices
// The most dimensions: the audit forms k × k Gram matrices (with users: PᵀP and BᵀB, the canonical
// basis's eigen-decompositions, the least-squares pseudo-inverse), up to about six at once, 48 k²
// bytes: 0.8 GB at k = 4,096, within the audit's bound of about 1 GB (docs/audit.md), and
// eigen-decompositions of O(k³) that stay within minutes. Beyond it a 20 × 20,000 file had taken
// 6.3 GB and run for over a minute in the geometry.
constexpr Index kMaxDimensions = 4096;

// The eigenvalues of MᵀM (k × k), from the smaller of MᵀM and M Mᵀ: the nonzero ones are the same,
// and the larger side has only zeros more (which no sum, maximum or entropy below counts).
Vector gram_eigenvalues(const Matrix& M) {
  const Matrix G = M.rows() < M.cols() ? times_transpose(M, M) : transpose_times(M, M);
  return Eigen::SelfAdjointEigenSolver<Matrix>(G, Eigen::EigenvaluesOnly).eigenvalues();
}
constexpr double kEqualNormTolerance = 1e-6;  // relative spread of lengths that counts as "all equal"

std::string display_name(const std::string& measure) {
  if (measure == "dot") return "dot-product";
  if (measure == "centred") return "centred cosine";
  return measure;
}

std::string truth_metric(const AuditReport& r) {
  return r.truth_auc.empty() ? "Spearman correlation with the human scores" : "same-cluster AUC";
}

// Both numbers with enough decimals (3 or more) that they read differently.
std::pair<std::string, std::string> two_numbers(double a, double b) {
  for (int d = 3;; ++d) {
    std::string x = fmt::format("{:.{}f}", a, d), y = fmt::format("{:.{}f}", b, d);
    if (x != y || d == 8) return {x, y};
  }
}

// "METRIC x for STEP against y for BASE" from the truth section.
std::string compared(const AuditReport& r, const std::string& step, const std::string& base) {
  const auto [x, y] = two_numbers(*r.truth_of(step), *r.truth_of(base));
  return fmt::format("{} {} for {} against {} for {}", truth_metric(r), x, display_name(step), y, display_name(base));
}

// Both measures have a truth number, and `step` scores strictly lower than `base`.
bool truth_contradicts(const AuditReport& r, const std::string& step, const std::string& base) {
  const auto s = r.truth_of(step), b = r.truth_of(base);
  return s && b && std::isfinite(*s) && std::isfinite(*b) && *s < *b;
}

// Both measures have a truth number, and they are equal (a tie supports neither).
bool truth_ties(const AuditReport& r, const std::string& step, const std::string& base) {
  const auto s = r.truth_of(step), b = r.truth_of(base);
  return s && b && std::isfinite(*s) && std::isfinite(*b) && *s == *b;
}

// " (on the given truth, METRIC x for STEP against y for BASE)" when both are defined, else "";
// a tie is said to be one (it supports neither).
std::string truth_support(const AuditReport& r, const std::string& step, const std::string& base) {
  const auto s = r.truth_of(step), b = r.truth_of(base);
  if (!s || !b || !std::isfinite(*s) || !std::isfinite(*b)) return "";
  return std::string(*s == *b ? " (on the given truth the two score the same, " : " (on the given truth, ") +
         compared(r, step, base) + ")";
}

// Three to five sentences from the numbers. Every step it recommends (projected, centring,
// normalising away from dot products) is checked against the truth section when there is one: a
// step that the truth scores lower is reported as such, with both numbers, and not recommended.
std::vector<std::string> verdict(const AuditReport& r) {
  std::vector<std::string> v;
  const Index top = r.options.top;
  const bool sensitive = r.mean_jaccard < 0.9;
  if (sensitive) {
    v.push_back(fmt::format("Cosine neighbours on these vectors are not fixed by the model's scores: rescalings that "
                            "leave every dot product ⟨p_u, b_i⟩ unchanged keep on average {} of each item's top-{} "
                            "neighbours (worst item {}), and change the nearest neighbour of {} of the items.",
                            pct(r.mean_jaccard), top, pct(r.worst_jaccard), pct(r.top1_changed_share)));
  } else {
    v.push_back(fmt::format("Cosine neighbours are stable under rescalings that leave the scores unchanged (mean "
                            "Jaccard@{} {:.2f}, worst item {:.2f}).", top, r.mean_jaccard, r.worst_jaccard));
  }
  const bool canonical = r.projected_mean_jaccard && *r.projected_mean_jaccard >= 0.99;
  if (r.imbalance && !canonical) {
    if (*r.imbalance < 0.05) {
      v.push_back(fmt::format("The embeddings are balanced (‖PᵀP − BᵀB‖/‖BᵀB‖ = {:.3f}), as weight decay on both "
                              "factors leaves them: if they were trained that way, the scale is pinned and the "
                              "sensitivity above is hypothetical.", *r.imbalance));
    } else {
      v.push_back(fmt::format("The embeddings are not balanced (‖PᵀP − BᵀB‖/‖BᵀB‖ = {:.2f}), so no per-factor "
                              "weight decay pinned their scale{}.", *r.imbalance,
                              sensitive ? ": treat cosine on them as one arbitrary choice among many" : ""));
    }
  } else if (sensitive && !canonical) {
    v.push_back("Without user embeddings it cannot be checked whether training pinned the scale; unless the model "
                "regularised each factor (weight decay), treat cosine on these vectors as one arbitrary choice.");
  }
  const bool balanced = r.imbalance && *r.imbalance < 0.05;
  if (r.projected_mean_jaccard && !std::isfinite(*r.projected_mean_jaccard)) {
    const std::string* why = r.why_undefined("projected_overlap.mean_jaccard");
    v.push_back(fmt::format("The gauge-free projected similarity is undefined here: {}; it needs users (or "
                            "interactions) that span at least two of the dimensions.",
                            why != nullptr ? *why : std::string("it could not be computed")));
  } else if (r.projected_mean_jaccard) {
    const std::string shares = pct(*r.projected_mean_jaccard);
    if (canonical) {
      v.push_back(fmt::format("Cosine equals the gauge-free projected similarity here (overlap@{} {:.3f}): these "
                              "vectors are already canonical, and any cosine index serves the right neighbours.",
                              top, *r.projected_mean_jaccard));
    } else if (truth_contradicts(r, "projected", "cosine")) {
      v.push_back(fmt::format("The projected similarity (docs/math.md M4, from {}) is the same for every rescaling and "
                              "shares {} of the top-{} neighbours with cosine, but on the given truth it scores lower "
                              "({}), so this truth does not support switching to it{}.",
                              r.projected_source, shares, top, compared(r, "projected", "cosine"),
                              sensitive ? "; the cosine's advantage rests on a scale the model's scores do not fix, "
                                          "so check it on other truth before relying on it"
                                        : ""));
    } else if (balanced) {
      v.push_back(fmt::format("The projected similarity (docs/math.md M4, the cosine of the predicted data) is the "
                              "rescaling-free alternative; it shares {} of the top-{} neighbours with cosine here{}.",
                              shares, top, truth_support(r, "projected", "cosine")));
    } else {
      v.push_back(fmt::format("Use the projected similarity (docs/math.md M4, from {}) instead: it is the same for "
                              "every rescaling, and shares only {} of the top-{} neighbours with cosine{}; "
                              "`linsim export --measure projected` writes vectors whose plain cosine is it.",
                              r.projected_source, shares, top, truth_support(r, "projected", "cosine")));
    }
  } else {
    v.push_back("Give --users or --interactions to compute the gauge-free projected similarity.");
  }
  // Popularity and geometry share one sentence, so the verdict stays at five at most.
  std::vector<std::string> also;
  if (r.norm_spearman && std::isfinite(*r.norm_spearman) && *r.norm_spearman > 0.3) {
    if (truth_contradicts(r, "cosine", "dot")) {
      also.push_back(fmt::format("item norms follow popularity (Spearman {:.2f}), so dot products favour popular "
                                 "items, yet on the given truth they score higher than cosine ({})",
                                 *r.norm_spearman, compared(r, "dot", "cosine")));
    } else {
      also.push_back(fmt::format("item norms follow popularity (Spearman {:.2f}), so dot products favour popular "
                                 "items", *r.norm_spearman));
    }
  }
  if (r.item_dimensions <= 1) {
    // One direction (one vector repeated, or vectors on a line): every cosine is ±1, centred ones
    // too, so no step helps (was: "the top direction carries all (100 %) of the variance, so
    // subtracting the mean vector before cosine helps").
    also.push_back(std::isfinite(r.top_dim_variance_share)
                       ? std::string("the item vectors lie on one line, so every cosine between them is +1 or -1, "
                                     "centred or not: no similarity on them can tell the items apart")
                       : std::string("every item vector is the same up to rounding, so no similarity on them can "
                                     "tell the items apart"));
  } else if (r.mean_random_cosine > 0.3) {
    const std::string anisotropic =
        fmt::format("the vectors are anisotropic (random pairs have mean cosine {:.2f}; the top direction carries {} "
                    "of the variance)", r.mean_random_cosine, pct(r.top_dim_variance_share));
    if (truth_ties(r, "centred", "cosine")) {
      also.push_back(fmt::format("{}; subtracting the mean vector before cosine changes nothing on the given truth "
                                 "({})", anisotropic, compared(r, "centred", "cosine")));
    } else if (truth_contradicts(r, "centred", "cosine")) {
      also.push_back(fmt::format("{}, but subtracting the mean vector before cosine does not help on the given truth "
                                 "({})", anisotropic, compared(r, "centred", "cosine")));
    } else {
      also.push_back(fmt::format("{}, so subtracting the mean vector before cosine helps{}", anisotropic,
                                 truth_support(r, "centred", "cosine")));
    }
  } else if (std::isfinite(r.hubness_skew) && r.hubness_skew > 2.0) {
    also.push_back(fmt::format("some items are hubs that appear in many neighbour lists (k-occurrence skewness "
                               "{:.1f})", r.hubness_skew));
  }
  if (!also.empty()) {
    std::string sentence = also[0];
    if (also.size() > 1) sentence += "; " + also[1];
    sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
    v.push_back(sentence + ".");
  }
  if (!r.truth_auc.empty() || !r.truth_spearman.empty()) {
    const auto& t = r.truth_auc.empty() ? r.truth_spearman : r.truth_auc;
    const auto best = std::max_element(t.begin(), t.end(), [](const auto& a, const auto& b) {
      return (std::isfinite(a.second) ? a.second : -2) < (std::isfinite(b.second) ? b.second : -2);
    });
    if (std::isfinite(best->second)) {
      v.push_back(fmt::format("Against the given truth, {} agrees best ({} {:.3f}).", display_name(best->first),
                              truth_metric(r), best->second));
    } else {
      const std::string key = std::string(r.truth_auc.empty() ? "truth.spearman." : "truth.auc.") + best->first;
      const std::string* why = r.why_undefined(key);
      v.push_back(fmt::format("Against the given truth, the {} is undefined: {}.", truth_metric(r),
                              why ? *why : std::string("no value")));
    }
  }
  return v;
}

}  // namespace

AuditReport run_audit(const AuditInput& in, const AuditOptions& o, const Context& ctx, const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  o.validate();
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  const Matrix& B = in.items;
  const Index p = B.rows(), k = B.cols();
  if (p == 0 || k == 0) throw InvalidArgument("the item embeddings are empty");
  if (k > kMaxDimensions) {
    throw InvalidArgument(fmt::format("the item vectors have {} dimensions: the audit supports at most {} (its "
                                      "k x k Gram matrices and their eigen-decompositions grow with k^2 and k^3)",
                                      k, kMaxDimensions));
  }
  if (p > kMaxItems) {
    throw InvalidArgument(fmt::format("{} item vectors: at most {} are supported (neighbour search indexes rows with "
                                      "32-bit integers)", p, kMaxItems));
  }
  if (in.item_ids.size() != p) {
    throw InvalidArgument(fmt::format("{} item ids for {} item vectors", in.item_ids.size(), p));
  }
  for (Index i = 0; i < p; ++i) {
    if (!B.row(i).allFinite()) {
      throw InvalidArgument(fmt::format("item '{}' (row {}) has a value that is not a finite number",
                                        in.item_ids.id(i), i));
    }
  }
  // Norms, cosines and the Gram matrices square the values: their sums must stay finite (was: the
  // norms overflowed to inf and every vector counted as zero).
  // And the other way: values so small that every squared length underflows (1e-300) left every
  // vector "zero" and the message blamed --top.
  check_vector_scale(B, "item");
  if (o.top >= p) {
    throw InvalidArgument(fmt::format("--top {} needs more than {} items (there are {})", o.top, o.top, p));
  }
  if (in.users) {
    if (in.users->cols() != k) {
      throw InvalidArgument(fmt::format("users have dimension {}, items {}: the embeddings do not belong together",
                                        in.users->cols(), k));
    }
    if (!in.users->allFinite()) throw InvalidArgument("the user embeddings contain a value that is not a finite number");
    check_vector_scale(*in.users, "user");
  }
  if (in.interactions && in.interactions->cols() != p) {
    throw InvalidArgument(fmt::format("the interactions have {} items, the embeddings {}", in.interactions->cols(), p));
  }
  if (!in.clusters.empty() && static_cast<Index>(in.clusters.size()) != p) {
    throw InvalidArgument(fmt::format("{} cluster labels for {} items", in.clusters.size(), p));
  }
  for (const WordPair& wp : in.pairs) {
    if (wp.a < 0 || wp.a >= p || wp.b < 0 || wp.b >= p || !std::isfinite(wp.score)) {
      throw InvalidArgument("a word pair names an item outside the embeddings or has a score that is not finite");
    }
  }
  AuditReport r;
  r.options = o;
  r.n_items = p;
  r.dim = k;
  r.notes = in.notes;
  r.have_users = in.users.has_value();
  r.n_users = r.have_users ? in.users->rows() : 0;
  r.have_interactions = in.interactions.has_value();
  r.have_clusters = !in.clusters.empty();
  r.have_pairs = in.pairs_in_file > 0;
  r.item_norms = B.rowwise().norm();
  const double max_norm = r.item_norms.maxCoeff();
  std::vector<Index> nonzero;
  for (Index i = 0; i < p; ++i) {
    if (r.item_norms(i) > kRelativeNormFloor * max_norm) nonzero.push_back(i);
  }
  r.zero_vectors = p - static_cast<Index>(nonzero.size());
  if (static_cast<Index>(nonzero.size()) <= o.top) {
    throw InvalidArgument(fmt::format("only {} items have nonzero vectors: --top {} needs more", nonzero.size(), o.top));
  }
  if (r.zero_vectors > 0) {
    r.notes.push_back(fmt::format("{} zero vectors have no direction: they are not queried and their cosine with "
                                  "anything is 0", r.zero_vectors));
  }
  if (k == 1) r.notes.push_back("dimension 1: every cosine is +1, −1 or 0, so cosine neighbours are mostly ties");
  r.queries = sample(nonzero, o.queries, o.seed, 1);

  // 1. Gauge sensitivity. The family's scalings are made one at a time (the random ones from their
  // own seeded stream), so --random-gauges costs no memory beyond each member's Jaccard vector.
  say(fmt::format("gauge sensitivity: {} queries x {} items", r.queries.size(), p));
  const NeighborLists given = cosine_lists(B, r.queries, o.top, ctx);
  const Vector c = B.colwise().norm().transpose();
  const std::vector<double> powers = {1.0, 0.5, -0.5, -1.0};
  const Index fixed_members = static_cast<Index>(powers.size()) + (in.users ? 1 : 0);
  auto member = [&](Index g, std::string& name) {
    Vector D(k);
    if (g < static_cast<Index>(powers.size())) {
      const double t = powers[static_cast<size_t>(g)];
      for (Index j = 0; j < k; ++j) D(j) = c(j) > 0 ? std::pow(c(j), t) : 1.0;
      name = fmt::format("power t={:g}", t);
    } else if (g < fixed_members) {
      const Vector pc = in.users->colwise().norm().transpose();
      for (Index j = 0; j < k; ++j) D(j) = c(j) > 0 && pc(j) > 0 ? std::sqrt(c(j) / pc(j)) : 1.0;
      name = "balanced";
    } else {
      const Index index = g - fixed_members;
      Rng rng(o.seed, 100 + static_cast<std::uint64_t>(index));
      for (Index j = 0; j < k; ++j) D(j) = std::exp(o.random_spread * rng.normal());
      name = fmt::format("random {}", index + 1);
    }
    return D;
  };
  const size_t nq = r.queries.size();
  r.item_mean_jaccard = Vector::Zero(static_cast<Index>(nq));
  std::vector<std::set<Index>> top1(nq);
  for (size_t q = 0; q < nq; ++q) {
    if (!given[q].empty()) top1[q].insert(given[q][0].index);
  }
  const Index family_size = fixed_members + o.random_gauges;
  for (Index g = 0; g < family_size; ++g) {
    interruption_point();
    std::string name;
    const Vector D = member(g, name);
    // In dimension 1 a positive rescaling changes no cosine at all; computed lists would differ
    // only by rounding among the ties, so the given lists are used.
    const Vector inverse = D.cwiseInverse();
    const NeighborLists lists = k == 1 ? given : cosine_lists(B * inverse.asDiagonal(), r.queries, o.top, ctx);
    GaugeResult result{name, Vector(static_cast<Index>(nq))};
    for (size_t q = 0; q < nq; ++q) {
      const Index query = r.queries[q];
      result.jaccard(static_cast<Index>(q)) = jaccard_up_to_ties(
          given[q], lists[q], [&](Index j) { return row_cosine(B, Vector(), query, j); },
          [&](Index j) { return row_cosine(B, inverse, query, j); });
      if (!lists[q].empty()) top1[q].insert(lists[q][0].index);
    }
    r.item_mean_jaccard += result.jaccard;
    r.gauges.push_back(std::move(result));
  }
  r.item_mean_jaccard /= static_cast<double>(family_size);
  r.mean_jaccard = r.item_mean_jaccard.mean();
  r.worst_jaccard = r.item_mean_jaccard.minCoeff();
  double distinct = 0, changed = 0;
  for (const auto& s : top1) {
    distinct += static_cast<double>(s.size());
    changed += s.size() > 1 ? 1.0 : 0.0;
  }
  r.top1_mean_distinct = distinct / static_cast<double>(nq);
  r.top1_changed_share = changed / static_cast<double>(nq);
  if (in.users) {
    const Matrix PtP = transpose_times(*in.users, *in.users);
    const Matrix BtB = transpose_times(B, B);
    r.imbalance = (PtP - BtB).norm() / std::max(BtB.norm(), 1e-300);
  }

  // 2. The gauge-free alternative.
  std::optional<Matrix> C;
  if (in.users) {
    C = projected_factors(B, *in.users);
    r.projected_source = "users";
  } else if (in.interactions) {
    // The users that fit the interactions best for these items: P = X B (BᵀB)⁺ (least squares).
    say("projected similarity from least-squares users");
    int exponent = 0;  // the projected factors are scale-free in P: P times a power of two serves
    C = projected_factors(B, least_squares_users(*in.interactions, B, &exponent));
    r.projected_source = "interactions (least-squares users X B (BᵀB)⁺)";
  }
  if (C) {
    // C's columns are principal coordinates (orthogonal, decreasing): their squared lengths are the
    // eigenvalues of C Cᵀ. With fewer than two of them nonzero every projected cosine is ±1 (or
    // 0/0), and its neighbour lists are ties in index order: undefined, not a number to compare
    // (was: all-zero or rank-1 users gave an overlap, and the verdict recommended it).
    const Vector energy = C->colwise().squaredNorm().transpose();
    const double largest = energy.size() > 0 ? energy.maxCoeff() : 0.0;
    Index dimensions = 0;
    for (Index j = 0; j < energy.size(); ++j) dimensions += largest > 0 && energy(j) > 1e-12 * largest ? 1 : 0;
    if (dimensions <= 1) {
      r.projected_mean_jaccard = std::nan("");
      r.undefined.emplace_back(
          "projected_overlap.mean_jaccard",
          fmt::format("the projected vectors (from {}) {}", r.projected_source,
                      dimensions == 0 ? "are all zero"
                                      : "span a single dimension, so every cosine between them is +1 or -1 and "
                                        "their neighbours are ties"));
      C.reset();
    }
  }
  NeighborLists projected_lists;
  if (C) {
    say("projected neighbours");
    projected_lists = cosine_lists(*C, r.queries, o.top, ctx);
    double s = 0;
    for (size_t q = 0; q < nq; ++q) {
      const Index query = r.queries[q];
      s += jaccard_up_to_ties(given[q], projected_lists[q], [&](Index j) { return row_cosine(B, Vector(), query, j); },
                              [&](Index j) { return row_cosine(*C, Vector(), query, j); });
    }
    r.projected_mean_jaccard = s / static_cast<double>(nq);
  }

  // 3. Popularity.
  if (in.interactions) {
    say("popularity");
    r.popularity = item_users(*in.interactions);
    r.norm_spearman = spearman(r.item_norms, r.popularity);
    // Norms equal to rounding (normalised vectors) would rank noise: the correlation is undefined.
    const double spread = r.item_norms.maxCoeff() - r.item_norms.minCoeff();
    if (spread <= kEqualNormTolerance * max_norm) {
      r.norm_spearman = std::nan("");
      r.undefined.emplace_back("popularity.norm_spearman",
                               "every item vector has the same length (the vectors look normalised), so length "
                               "cannot follow popularity");
    } else if (r.popularity.maxCoeff() == r.popularity.minCoeff()) {
      r.norm_spearman = std::nan("");
      r.undefined.emplace_back("popularity.norm_spearman",
                               fmt::format("every item has the same number of users ({:g})", r.popularity(0)));
    }
    const Vector pct_pop = percentiles(r.popularity);
    const NeighborLists dot = top_neighbors(*make_factor_space(B), r.queries, o.top, false, ctx);
    r.neighbour_popularity.emplace_back("dot", mean_percentile(dot, pct_pop));
    r.neighbour_popularity.emplace_back("cosine", mean_percentile(given, pct_pop));
    if (C) r.neighbour_popularity.emplace_back("projected", mean_percentile(projected_lists, pct_pop));
  }

  // 4. Geometry.
  say("geometry");
  const Matrix centred = B.rowwise() - B.colwise().mean();
  {
    const Matrix N = normalize_rows(B);
    Rng rng(o.seed, 2);
    const auto m = static_cast<std::uint64_t>(nonzero.size());
    double s = 0;
    for (Index t = 0; t < o.random_pairs; ++t) {
      const auto ia = static_cast<size_t>(rng() % m);
      auto ib = static_cast<size_t>(rng() % (m - 1));  // a different item: skip ia
      if (ib >= ia) ++ib;
      const Index a = nonzero[ia], b = nonzero[ib];
      s += N.row(a).dot(N.row(b));
    }
    r.mean_random_cosine = s / static_cast<double>(o.random_pairs);
    const Vector cov = gram_eigenvalues(centred);
    // The centred vectors' squared length, against B's: below (1e-12)² of it they are rounding
    // residue of the mean (identical rows of non-dyadic values left ~1e-16 of them, whose top
    // direction then "carried 100 % of the variance").
    const double total = cov.cwiseMax(0.0).sum();
    if (total > 1e-24 * B.squaredNorm()) {
      r.top_dim_variance_share = cov.maxCoeff() / total;
    } else {
      r.top_dim_variance_share = std::nan("");
      r.undefined.emplace_back("geometry.top_dim_variance_share", "every item vector is the same: there is no variance");
    }
    const Vector squares = gram_eigenvalues(B).cwiseMax(0.0);
    const Vector sigma = squares.cwiseSqrt();
    const double ssum = sigma.sum();
    double entropy = 0;
    for (Index j = 0; j < sigma.size(); ++j) {
      const double q = ssum > 0 ? sigma(j) / ssum : 0.0;
      if (q > 0) entropy -= q * std::log(q);
    }
    r.effective_rank = std::exp(entropy);
    r.hubness_exact = static_cast<Index>(nonzero.size()) <= o.hubness_exact_limit;
    // Vectors in one dimension (as the projected overlap's test): every cosine is +1 or −1, the
    // lists are ties in index order, and their k-occurrence skew is the order's (was: 2.0 to 2.2
    // for one set of vectors in three orders, reported as hubs).
    const double top_square = squares.size() > 0 ? squares.maxCoeff() : 0.0;
    const auto dimensions = (squares.array() > 1e-12 * top_square).count();
    r.item_dimensions = static_cast<Index>(dimensions);
    double mu = 0, var = 0;
    Vector nz;
    if (dimensions > 1) {
      const std::vector<Index> hub_queries =
          r.hubness_exact ? nonzero : sample(nonzero, o.hubness_queries, o.seed, 3);
      say(fmt::format("hubness: {} neighbour lists", hub_queries.size()));
      const NeighborLists lists = cosine_lists(B, hub_queries, o.top, ctx);
      Vector counts = Vector::Zero(p);
      for (const auto& list : lists) {
        for (const Neighbor& n : list) counts(n.index) += 1;
      }
      nz.resize(static_cast<Index>(nonzero.size()));
      for (size_t i = 0; i < nonzero.size(); ++i) nz(static_cast<Index>(i)) = counts(nonzero[i]);
      mu = nz.mean();
      var = (nz.array() - mu).square().mean();
    }
    if (dimensions <= 1) {
      r.hubness_skew = std::nan("");
      r.undefined.emplace_back("geometry.hubness_skew",
                               "the item vectors span a single dimension, so every cosine between them is +1 or -1 "
                               "and their neighbours are ties");
    } else if (var > 0) {
      r.hubness_skew = (nz.array() - mu).cube().mean() / std::pow(var, 1.5);
    } else {
      r.hubness_skew = std::nan("");
      r.undefined.emplace_back("geometry.hubness_skew",
                               fmt::format("every item appears in the same number of top-{} lists ({:g})", o.top, mu));
    }
  }

  // 5. Truth.
  struct TruthMeasure {
    std::string name;
    const Matrix* F;
    bool unit;  // compare directions (cosine) rather than inner products
  };
  std::vector<TruthMeasure> measures = {{"cosine", &B, true}, {"dot", &B, false}, {"centred", &centred, true}};
  if (C) measures.push_back({"projected", &*C, true});
  if (!in.clusters.empty()) {
    say("truth: clusters");
    std::vector<Index> labelled;
    for (Index i : nonzero) {
      if (in.clusters[static_cast<size_t>(i)] >= 0) labelled.push_back(i);
    }
    const std::vector<Index> sub = sample(labelled, 5000, o.seed, 4);
    std::map<int, Index> sizes;
    for (Index i : sub) ++sizes[in.clusters[static_cast<size_t>(i)]];
    std::string why;
    if (sub.size() < 2) {
      why = fmt::format("only {} item with a nonzero vector has a cluster", sub.size());
    } else if (sizes.size() == 1) {
      why = "every labelled item is in the same cluster, so there is no other-cluster item to rank below the "
            "same-cluster ones";
    } else if (std::all_of(sizes.begin(), sizes.end(), [](const auto& s) { return s.second == 1; })) {
      why = "no two labelled items share a cluster, so there is no same-cluster item to rank";
    }
    std::vector<int> cl;
    for (Index i : sub) cl.push_back(in.clusters[static_cast<size_t>(i)]);
    const Vector pop = r.popularity.size() ? Vector(r.popularity(sub)) : Vector::Zero(static_cast<Index>(sub.size()));
    for (const TruthMeasure& m : measures) {
      double auc = std::nan("");
      if (why.empty()) {
        const Matrix Fs = (*m.F)(sub, Eigen::all);
        const auto space = make_factor_space(m.unit ? normalize_rows(Fs) : Fs);
        const ClusterQuality q =
            cluster_quality(*space, cl, pop, std::min<Index>(o.top, static_cast<Index>(sub.size()) - 1), ctx);
        if (q.items_scored > 0) auc = q.auc;
      }
      r.truth_auc.emplace_back(m.name, auc);
      if (!std::isfinite(auc)) {
        r.undefined.emplace_back("truth.auc." + m.name,
                                 why.empty() ? "no labelled item has both a same-cluster and an other-cluster item" : why);
      }
    }
    if (sub.size() >= 2) {
      std::vector<Index> fig = sample(sub, 400, o.seed, 5);
      std::stable_sort(fig.begin(), fig.end(), [&](Index a, Index b) {
        return in.clusters[static_cast<size_t>(a)] < in.clusters[static_cast<size_t>(b)];
      });
      const Matrix N = normalize_rows(Matrix(B(fig, Eigen::all)));
      r.heatmap = N * N.transpose();
      int last = -1;
      for (Index i : fig) {
        const int cl_i = in.clusters[static_cast<size_t>(i)];
        if (cl_i != last) r.heatmap_cluster_sizes.push_back(0);
        ++r.heatmap_cluster_sizes.back();
        last = cl_i;
      }
    }
  }
  if (in.pairs_in_file > 0) {
    say("truth: word pairs");
    r.pairs_in_file = in.pairs_in_file;
    r.pairs_found = static_cast<Index>(in.pairs.size());
    Vector human(r.pairs_found);
    for (Index t = 0; t < r.pairs_found; ++t) human(t) = in.pairs[static_cast<size_t>(t)].score;
    std::string why;
    if (r.pairs_found < 3) {
      why = fmt::format("only {} of the {} pairs have both words among the embeddings; a Spearman correlation needs 3",
                        r.pairs_found, r.pairs_in_file);
    } else if (human.maxCoeff() == human.minCoeff()) {
      why = fmt::format("every pair has the same human score ({:g})", human(0));
    }
    for (const TruthMeasure& m : measures) {
      double rho = std::nan("");
      std::string why_m = why;
      if (why.empty()) {
        const Matrix Fn = m.unit ? normalize_rows(*m.F) : *m.F;
        Vector sim(r.pairs_found);
        for (Index t = 0; t < r.pairs_found; ++t) {
          const WordPair& wp = in.pairs[static_cast<size_t>(t)];
          sim(t) = Fn.row(wp.a).dot(Fn.row(wp.b));
        }
        rho = spearman(sim, human);
        if (!std::isfinite(rho)) why_m = fmt::format("every pair has the same {} similarity", display_name(m.name));
      }
      r.truth_spearman.emplace_back(m.name, rho);
      if (!std::isfinite(rho)) r.undefined.emplace_back("truth.spearman." + m.name, why_m);
    }
  }

  r.verdict = verdict(r);
  return r;
}

}  // namespace linsim
