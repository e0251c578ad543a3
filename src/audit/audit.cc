#include "linsim/audit/audit.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include <Eigen/Eigenvalues>
#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/core/random.h"
#include "linsim/evaluate/cluster_quality.h"
#include "linsim/similarity/measure.h"
#include "linsim/similarity/neighbors.h"

namespace linsim {

void AuditOptions::validate() const {
  if (top < 1) throw InvalidArgument(fmt::format("--top must be >= 1, got {}", top));
  if (queries < 1) throw InvalidArgument(fmt::format("--queries must be >= 1, got {}", queries));
  if (random_gauges < 0) throw InvalidArgument(fmt::format("--random-gauges must be >= 0, got {}", random_gauges));
  if (!(random_spread > 0) || !std::isfinite(random_spread)) {
    throw InvalidArgument(fmt::format("--random-spread must be > 0, got {}", random_spread));
  }
}

namespace {

double jaccard(const std::vector<Neighbor>& a, const std::vector<Neighbor>& b) {
  std::vector<Index> x, y;
  for (const Neighbor& n : a) x.push_back(n.index);
  for (const Neighbor& n : b) y.push_back(n.index);
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  std::vector<Index> both;
  std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(both));
  const double uni = static_cast<double>(x.size() + y.size() - both.size());
  return uni > 0 ? static_cast<double>(both.size()) / uni : 1.0;
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

}  // namespace

double spearman(const Vector& a, const Vector& b) {
  if (a.size() != b.size() || a.size() < 2) return std::nan("");
  // Mid-rank percentiles are an affine function of the average ranks, which Pearson ignores.
  const Vector ra = percentiles(a), rb = percentiles(b);
  const Vector ca = ra.array() - ra.mean(), cb = rb.array() - rb.mean();
  const double den = ca.norm() * cb.norm();
  return den > 0 ? ca.dot(cb) / den : std::nan("");
}

AuditReport run_audit(const AuditInput& in, const AuditOptions& o, const Context& ctx, const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  o.validate();
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  const Matrix& B = in.items;
  const Index p = B.rows(), k = B.cols();
  if (p == 0 || k == 0) throw InvalidArgument("the item embeddings are empty");
  if (in.item_ids.size() != p) {
    throw InvalidArgument(fmt::format("{} item ids for {} item vectors", in.item_ids.size(), p));
  }
  for (Index i = 0; i < p; ++i) {
    if (!B.row(i).allFinite()) {
      throw InvalidArgument(fmt::format("item '{}' (row {}) has a value that is not a finite number",
                                        in.item_ids.id(i), i));
    }
  }
  if (o.top >= p) {
    throw InvalidArgument(fmt::format("--top {} needs more than {} items (there are {})", o.top, o.top, p));
  }
  if (in.users) {
    if (in.users->cols() != k) {
      throw InvalidArgument(fmt::format("users have dimension {}, items {}: the embeddings do not belong together",
                                        in.users->cols(), k));
    }
    if (!in.users->allFinite()) throw InvalidArgument("the user embeddings contain a value that is not a finite number");
  }
  if (in.interactions && in.interactions->cols() != p) {
    throw InvalidArgument(fmt::format("the interactions have {} items, the embeddings {}", in.interactions->cols(), p));
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

  // 1. Gauge sensitivity.
  say(fmt::format("gauge sensitivity: {} queries x {} items", r.queries.size(), p));
  const NeighborLists given = cosine_lists(B, r.queries, o.top, ctx);
  const Vector c = B.colwise().norm().transpose();
  std::vector<std::pair<std::string, Vector>> family;  // name, D
  for (const double t : {1.0, 0.5, -0.5, -1.0}) {
    Vector D(k);
    for (Index j = 0; j < k; ++j) D(j) = c(j) > 0 ? std::pow(c(j), t) : 1.0;
    family.emplace_back(fmt::format("power t={:g}", t), D);
  }
  if (in.users) {
    const Vector pc = in.users->colwise().norm().transpose();
    Vector D(k);
    for (Index j = 0; j < k; ++j) D(j) = c(j) > 0 && pc(j) > 0 ? std::sqrt(c(j) / pc(j)) : 1.0;
    family.emplace_back("balanced", D);
  }
  for (Index g = 0; g < o.random_gauges; ++g) {
    Rng rng(o.seed, 100 + static_cast<std::uint64_t>(g));
    Vector D(k);
    for (Index j = 0; j < k; ++j) D(j) = std::exp(o.random_spread * rng.normal());
    family.emplace_back(fmt::format("random {}", g + 1), D);
  }
  const size_t nq = r.queries.size();
  r.item_mean_jaccard = Vector::Zero(static_cast<Index>(nq));
  std::vector<std::set<Index>> top1(nq);
  for (size_t q = 0; q < nq; ++q) {
    if (!given[q].empty()) top1[q].insert(given[q][0].index);
  }
  for (const auto& [name, D] : family) {
    // In dimension 1 a positive rescaling changes no cosine at all; computed lists would differ
    // only by rounding among the ties, so the given lists are used.
    const NeighborLists lists = k == 1 ? given : cosine_lists(B * D.cwiseInverse().asDiagonal(), r.queries, o.top, ctx);
    GaugeResult g{name, Vector(static_cast<Index>(nq))};
    for (size_t q = 0; q < nq; ++q) {
      g.jaccard(static_cast<Index>(q)) = jaccard(given[q], lists[q]);
      if (!lists[q].empty()) top1[q].insert(lists[q][0].index);
    }
    r.item_mean_jaccard += g.jaccard;
    r.gauges.push_back(std::move(g));
  }
  r.item_mean_jaccard /= static_cast<double>(family.size());
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
    const Matrix PtP = in.users->transpose() * *in.users;
    const Matrix BtB = B.transpose() * B;
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
    C = projected_factors(B, least_squares_users(*in.interactions, B));
    r.projected_source = "interactions (least-squares users X B (BᵀB)⁺)";
  }
  NeighborLists projected_lists;
  if (C) {
    say("projected neighbours");
    projected_lists = cosine_lists(*C, r.queries, o.top, ctx);
    double s = 0;
    for (size_t q = 0; q < nq; ++q) s += jaccard(given[q], projected_lists[q]);
    r.projected_mean_jaccard = s / static_cast<double>(nq);
  }

  // 3. Popularity.
  if (in.interactions) {
    say("popularity");
    r.popularity = item_users(*in.interactions);
    r.norm_spearman = spearman(r.item_norms, r.popularity);
    const Vector pct_pop = percentiles(r.popularity);
    const NeighborLists dot = top_neighbors(*make_factor_space(B), r.queries, o.top, false, ctx);
    r.neighbour_popularity.emplace_back("dot", mean_percentile(dot, pct_pop));
    r.neighbour_popularity.emplace_back("cosine", mean_percentile(given, pct_pop));
    if (C) r.neighbour_popularity.emplace_back("projected", mean_percentile(projected_lists, pct_pop));
  }

  // 4. Geometry.
  say("geometry");
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
    const Matrix centred = B.rowwise() - B.colwise().mean();
    Eigen::SelfAdjointEigenSolver<Matrix> cov(centred.transpose() * centred);
    const double total = cov.eigenvalues().cwiseMax(0.0).sum();
    r.top_dim_variance_share = total > 0 ? cov.eigenvalues().maxCoeff() / total : 0.0;
    Eigen::SelfAdjointEigenSolver<Matrix> gram(B.transpose() * B);
    const Vector sigma = gram.eigenvalues().cwiseMax(0.0).cwiseSqrt();
    const double ssum = sigma.sum();
    double entropy = 0;
    for (Index j = 0; j < sigma.size(); ++j) {
      const double q = ssum > 0 ? sigma(j) / ssum : 0.0;
      if (q > 0) entropy -= q * std::log(q);
    }
    r.effective_rank = std::exp(entropy);
    r.hubness_exact = static_cast<Index>(nonzero.size()) <= o.hubness_exact_limit;
    const std::vector<Index> hub_queries =
        r.hubness_exact ? nonzero : sample(nonzero, o.hubness_queries, o.seed, 3);
    say(fmt::format("hubness: {} neighbour lists", hub_queries.size()));
    const NeighborLists lists = cosine_lists(B, hub_queries, o.top, ctx);
    Vector counts = Vector::Zero(p);
    for (const auto& list : lists) {
      for (const Neighbor& n : list) counts(n.index) += 1;
    }
    Vector nz(static_cast<Index>(nonzero.size()));
    for (size_t i = 0; i < nonzero.size(); ++i) nz(static_cast<Index>(i)) = counts(nonzero[i]);
    const double mu = nz.mean();
    const double var = (nz.array() - mu).square().mean();
    r.hubness_skew = var > 0 ? (nz.array() - mu).cube().mean() / std::pow(var, 1.5) : 0.0;
  }

  // 5. Truth.
  std::vector<std::pair<std::string, const Matrix*>> measures = {{"cosine", &B}, {"dot", &B}};
  if (C) measures.emplace_back("projected", &*C);
  if (!in.clusters.empty()) {
    say("truth: clusters");
    std::vector<Index> labelled;
    for (Index i : nonzero) {
      if (in.clusters[static_cast<size_t>(i)] >= 0) labelled.push_back(i);
    }
    const std::vector<Index> sub = sample(labelled, 5000, o.seed, 4);
    if (sub.size() >= 2) {
      std::vector<int> cl;
      for (Index i : sub) cl.push_back(in.clusters[static_cast<size_t>(i)]);
      const Vector pop = r.popularity.size() ? Vector(r.popularity(sub)) : Vector::Zero(static_cast<Index>(sub.size()));
      for (const auto& [name, F] : measures) {
        const Matrix Fs = (*F)(sub, Eigen::all);
        const auto space = make_factor_space(name == "dot" ? Fs : normalize_rows(Fs));
        r.truth_auc.emplace_back(name, cluster_quality(*space, cl, pop, std::min<Index>(o.top, static_cast<Index>(sub.size()) - 1), ctx).auc);
      }
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
    if (in.pairs.size() >= 3) {
      Vector human(r.pairs_found);
      for (Index t = 0; t < r.pairs_found; ++t) human(t) = in.pairs[static_cast<size_t>(t)].score;
      for (const auto& [name, F] : measures) {
        const Matrix Fn = name == "dot" ? *F : normalize_rows(*F);
        Vector sim(r.pairs_found);
        for (Index t = 0; t < r.pairs_found; ++t) {
          const WordPair& wp = in.pairs[static_cast<size_t>(t)];
          sim(t) = Fn.row(wp.a).dot(Fn.row(wp.b));
        }
        r.truth_spearman.emplace_back(name, spearman(sim, human));
      }
    }
  }

  // 6. Verdict.
  auto& v = r.verdict;
  const bool sensitive = r.mean_jaccard < 0.9;
  if (sensitive) {
    v.push_back(fmt::format("Cosine neighbours on these vectors are not fixed by the model's scores: rescalings that "
                            "leave every dot product ⟨p_u, b_i⟩ unchanged keep on average {} of each item's top-{} "
                            "neighbours (worst item {}), and change the nearest neighbour of {} of the items.",
                            pct(r.mean_jaccard), o.top, pct(r.worst_jaccard), pct(r.top1_changed_share)));
  } else {
    v.push_back(fmt::format("Cosine neighbours are stable under rescalings that leave the scores unchanged (mean "
                            "Jaccard@{} {:.2f}, worst item {:.2f}).", o.top, r.mean_jaccard, r.worst_jaccard));
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
  if (r.projected_mean_jaccard) {
    if (*r.projected_mean_jaccard >= 0.99) {
      v.push_back(fmt::format("Cosine equals the gauge-free projected similarity here (overlap@{} {:.3f}): these "
                              "vectors are already canonical, and any cosine index serves the right neighbours.",
                              o.top, *r.projected_mean_jaccard));
    } else if (balanced) {
      v.push_back(fmt::format("The projected similarity (MATH.md M4, the cosine of the predicted data) is the "
                              "rescaling-free alternative; it shares {} of the top-{} neighbours with cosine here.",
                              pct(*r.projected_mean_jaccard), o.top));
    } else {
      v.push_back(fmt::format("Use the projected similarity (MATH.md M4, from {}) instead: it is the same for "
                              "every rescaling, and shares only {} of the top-{} neighbours with cosine; "
                              "`linsim export --measure projected` writes vectors whose plain cosine is it.",
                              r.projected_source, pct(*r.projected_mean_jaccard), o.top));
    }
  } else {
    v.push_back("Give --users or --interactions to compute the gauge-free projected similarity.");
  }
  // Popularity and geometry share one sentence, so the verdict stays at five at most.
  std::vector<std::string> also;
  if (r.norm_spearman && std::isfinite(*r.norm_spearman) && *r.norm_spearman > 0.3) {
    also.push_back(fmt::format("item norms follow popularity (Spearman {:.2f}), so dot products favour popular "
                               "items", *r.norm_spearman));
  }
  if (r.mean_random_cosine > 0.3) {
    also.push_back(fmt::format("the vectors are anisotropic (random pairs have mean cosine {:.2f}; the top "
                               "direction carries {} of the variance), so subtracting the mean vector before cosine "
                               "helps", r.mean_random_cosine, pct(r.top_dim_variance_share)));
  } else if (r.hubness_skew > 2.0) {
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
    v.push_back(fmt::format("Against the given truth, {} agrees best ({} {:.3f}).", best->first,
                            r.truth_auc.empty() ? "Spearman" : "same-cluster AUC", best->second));
  }
  return r;
}

}  // namespace linsim
