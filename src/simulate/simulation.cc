#include "linsim/simulate/simulation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/random.h"

namespace linsim {
namespace {

// Dirichlet(α, …, α) as normalised Gamma(α) draws.
Vector dirichlet(Rng& rng, Index size, double alpha) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  Vector x(size);
  for (Index c = 0; c < size; ++c) x(c) = gamma(rng);
  const double total = x.sum();
  if (total > 0) {
    x /= total;
    return x;
  }
  // Every draw underflowed (α below ~1e-3 can do that): drawn again in logarithms, Gamma(α) =
  // Gamma(1 + α) U^(1/α) (Marsaglia and Tsang 2000), and normalised by log-sum-exp. As α → 0 the
  // draw tends to one-hot, never to uniform shares, which this case used to return.
  std::gamma_distribution<double> gamma1(1.0 + alpha, 1.0);
  for (Index c = 0; c < size; ++c) x(c) = std::log(gamma1(rng)) + std::log(rng.uniform_open0()) / alpha;
  x = (x.array() - x.maxCoeff()).exp();
  return x / x.sum();
}

// MATH.md M8: PowerLaw(β), density β x^{β−1} on (0, 1]: x = U^{1/β}.
double power_law(Rng& rng, double beta) { return std::pow(rng.uniform_open0(), 1.0 / beta); }

// Per-cluster cumulative popularity, for drawing an item of a cluster ∝ p_i.
struct ClusterTables {
  std::vector<std::vector<int>> members;
  std::vector<std::vector<double>> cumulative;
  Vector mass;  // S_c = Σ_{i ∈ c} p_i
};

ClusterTables cluster_tables(const std::vector<int>& cluster, const Vector& popularity, Index clusters) {
  ClusterTables t;
  t.members.resize(static_cast<size_t>(clusters));
  t.cumulative.resize(static_cast<size_t>(clusters));
  t.mass = Vector::Zero(clusters);
  for (size_t i = 0; i < cluster.size(); ++i) {
    const auto c = static_cast<size_t>(cluster[i]);
    t.members[c].push_back(static_cast<int>(i));
    t.mass(static_cast<Index>(c)) += popularity(static_cast<Index>(i));
    t.cumulative[c].push_back(t.mass(static_cast<Index>(c)));
  }
  return t;
}

// k items without replacement, probability ∝ w_i = pref[c(i)] · p_i, successive sampling.
// `taken`: the calling thread's flags, one per item, all 0 on entry and again on return (only the
// chosen are set, and reset before leaving), so that a user costs O(k), not O(p) (was: p bytes
// zeroed per user, minutes for 150,000 users over 10 million items).
std::vector<int> draw_items(Rng& rng, Index k, const Vector& pref, const std::vector<int>& cluster,
                            const Vector& popularity, const ClusterTables& t, std::vector<char>& taken) {
  const auto p = static_cast<Index>(cluster.size());
  std::vector<int> chosen;
  chosen.reserve(static_cast<size_t>(k));
  if (8 * k <= p) {
    // Rejection: draw from the full distribution (cluster ∝ pref_c S_c, then item ∝ p_i within
    // it) and redraw items already taken; the accepted draw is distributed as successive
    // sampling from the remaining items. Gives up to the exact fallback below if unlucky.
    Vector cluster_weight = pref.cwiseProduct(t.mass);
    std::vector<double> cumulative(static_cast<size_t>(cluster_weight.size()));
    double total = 0;
    for (Index c = 0; c < cluster_weight.size(); ++c) cumulative[static_cast<size_t>(c)] = total += cluster_weight(c);
    const auto reset = [&] {
      for (const int item : chosen) taken[static_cast<size_t>(item)] = 0;
    };
    Index budget = 32 * k + 256;
    while (static_cast<Index>(chosen.size()) < k && budget-- > 0) {
      const double a = rng.uniform_open0() * total;
      const auto c = static_cast<size_t>(std::min<std::ptrdiff_t>(
          std::lower_bound(cumulative.begin(), cumulative.end(), a) - cumulative.begin(),
          static_cast<std::ptrdiff_t>(cumulative.size()) - 1));
      const auto& cum = t.cumulative[c];
      if (cum.empty()) continue;
      const double b = rng.uniform_open0() * cum.back();
      const auto pos = static_cast<size_t>(std::min<std::ptrdiff_t>(
          std::lower_bound(cum.begin(), cum.end(), b) - cum.begin(), static_cast<std::ptrdiff_t>(cum.size()) - 1));
      const int item = t.members[c][pos];
      if (taken[static_cast<size_t>(item)] != 0) continue;
      taken[static_cast<size_t>(item)] = 1;
      chosen.push_back(item);
    }
    reset();
    if (static_cast<Index>(chosen.size()) == k) {
      std::sort(chosen.begin(), chosen.end());
      return chosen;
    }
    chosen.clear();  // fall through to the exact method with the same stream
  }
  // Efraimidis–Spirakis: the k smallest exponential keys E_i / w_i (E_i ~ Exp(1)).
  std::vector<std::pair<double, int>> keys;
  keys.reserve(static_cast<size_t>(p));
  for (Index i = 0; i < p; ++i) {
    const double w = pref(cluster[static_cast<size_t>(i)]) * popularity(i);
    const double e = -std::log(rng.uniform_open0());
    keys.emplace_back(w > 0 ? e / w : std::numeric_limits<double>::infinity(), static_cast<int>(i));
  }
  std::nth_element(keys.begin(), keys.begin() + (k - 1), keys.end());
  for (Index r = 0; r < k; ++r) chosen.push_back(keys[static_cast<size_t>(r)].second);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace

void SimulationOptions::validate() const {
  auto fail = [](const std::string& what) { throw InvalidArgument(what); };
  constexpr Index kMaxIds = std::numeric_limits<int>::max();  // users and items are int-indexed
  if (users < 1 || users > kMaxIds) fail(fmt::format("--users must be in [1, 2^31 - 1], got {}", users));
  if (items < 1 || items > kMaxIds) fail(fmt::format("--items must be in [1, 2^31 - 1], got {}", items));
  if (clusters < 1 || clusters > items) fail(fmt::format("--clusters must be in [1, items = {}], got {}", items, clusters));
  if (!(beta_min > 0) || !(beta_max >= beta_min) || !std::isfinite(beta_max)) {
    fail(fmt::format("need 0 < --beta-min <= --beta-max (finite), got {} and {}", beta_min, beta_max));
  }
  // A popularity is u^(1/β), u ≥ 2^-53: below β = 53/1074 it can underflow to 0 (at 1e-300 for
  // every item, and each user then took the first items by index, the clusters lost without a
  // word; at 0.01 for u below 1e-3, 63 of 100,000 items).
  if (beta_min < kMinBeta) {
    fail(fmt::format("--beta-min must be at least {} (popularities u^(1/beta) of a smaller beta underflow to 0), "
                     "got {}", kMinBeta, beta_min));
  }
  if (!(user_beta > 0) || !std::isfinite(user_beta)) fail(fmt::format("--user-beta must be > 0, got {}", user_beta));
  if (!(cluster_concentration > 0) || !std::isfinite(cluster_concentration)) {
    fail(fmt::format("--cluster-concentration must be > 0, got {}", cluster_concentration));
  }
  if (!(preference_concentration > 0) || !std::isfinite(preference_concentration)) {
    fail(fmt::format("--preference-concentration must be > 0, got {}", preference_concentration));
  }
  if (activity_scale < 0 || !std::isfinite(activity_scale)) {
    fail(fmt::format("--activity-scale must be >= 0 (0: the number of items), got {}", activity_scale));
  }
  if (max_items_per_user < 0) fail(fmt::format("--max-items-per-user must be >= 0, got {}", max_items_per_user));
}

namespace {

// Fails fast where the simulation cannot fit: before drawing (interactions = 0), per item its
// cluster, popularity, place in the cluster tables, id and each drawing thread's flag, per cluster its two tables (two vectors
// and their heap blocks, ~120 bytes) and mass, and each drawing thread's cluster weights and sums
// (16 bytes), per user its stream, preferences, activity and id; once the activities fix the
// count, what is still to come (the rest was allocated and is no longer in the room measured): per
// interaction the drawn item and X's index and value, and the ids.
void check_simulation_memory(const SimulationOptions& o, Index interactions, int threads) {
  constexpr double kPerId = 96;  // the id's text and its entry in the id map
  const double ids = kPerId * static_cast<double>(o.users + o.items);
  const double need =
      interactions == 0
          ? ids + static_cast<double>(o.items) * (4 + 8 + 16 + threads) +
                static_cast<double>(o.clusters) * (128 + 16.0 * threads) +
                static_cast<double>(o.users) * (sizeof(Rng) + sizeof(Vector) + 8.0 * static_cast<double>(o.clusters) + 8 + 8 + 24)
          : ids + 16.0 * static_cast<double>(interactions);
  if (const auto shortfall = memory_shortfall(need)) {
    // The option that drives the need the most is named first (was: "lower --users or --items" when
    // --clusters made it).
    const double per_cluster = static_cast<double>(o.clusters) * (128.0 + 16.0 * threads +
                                                                  8.0 * static_cast<double>(o.users));
    const std::string lower = interactions > 0 ? "lower --users or --items, --activity-scale or set --max-items-per-user"
                              : per_cluster > 0.5 * need ? "lower --clusters, --users or --items"
                                                         : "lower --users or --items";
    throw OutOfMemory(fmt::format("simulating {} users x {} items{} needs about {}, {}; {}", o.users, o.items,
                                  interactions > 0 ? fmt::format(" ({} interactions)", interactions) : std::string(),
                                  format_bytes(need), shortfall->more_than(), lower));
  }
}

}  // namespace

Simulation simulate(const SimulationOptions& o, const Context& ctx) {
  o.validate();
  check_simulation_memory(o, 0, ctx.thread_count());
  const ThreadScope thread_scope(ctx);
  Simulation sim;
  const Index n = o.users;
  const Index p = o.items;
  const Index C = o.clusters;
  Rng global(o.seed, 0);
  // MATH.md M8: cluster probabilities, per-cluster exponents, item clusters and popularity.
  sim.cluster_probability = dirichlet(global, C, o.cluster_concentration);
  sim.cluster_beta.resize(C);
  std::uniform_real_distribution<double> beta(o.beta_min, o.beta_max);
  for (Index c = 0; c < C; ++c) sim.cluster_beta(c) = o.beta_min == o.beta_max ? o.beta_min : beta(global);
  std::discrete_distribution<int> pick_cluster(sim.cluster_probability.data(),
                                               sim.cluster_probability.data() + C);
  sim.cluster.resize(static_cast<size_t>(p));
  sim.popularity.resize(p);
  for (Index i = 0; i < p; ++i) {
    const int c = pick_cluster(global);
    sim.cluster[static_cast<size_t>(i)] = c;
    sim.popularity(i) = power_law(global, sim.cluster_beta(c));
  }
  const ClusterTables tables = cluster_tables(sim.cluster, sim.popularity, C);
  const double scale = o.activity_scale > 0 ? o.activity_scale : static_cast<double>(p);
  const Index cap = o.max_items_per_user > 0 ? std::min(o.max_items_per_user, p) : p;
  // Users, each from its own stream: first every user's preferences and activity k_u (clamped in
  // double, so any scale is safe), which fix the number of interactions before any is drawn...
  std::vector<Rng> streams;
  streams.reserve(static_cast<size_t>(n));
  std::vector<Vector> prefs(static_cast<size_t>(n));
  sim.activity.resize(static_cast<size_t>(n));
  for (Index u = 0; u < n; ++u) {
    Rng& rng = streams.emplace_back(o.seed, static_cast<std::uint64_t>(u) + 1);
    prefs[static_cast<size_t>(u)] = dirichlet(rng, C, o.preference_concentration);
    const double k = std::ceil(std::min(scale * power_law(rng, o.user_beta), static_cast<double>(cap)));
    sim.activity[static_cast<size_t>(u)] = std::max<Index>(static_cast<Index>(k), 1);
  }
  Index nnz = 0;
  for (Index k : sim.activity) nnz += k;
  if (nnz > std::numeric_limits<int>::max()) {
    throw InvalidArgument(fmt::format("the simulation would draw {} interactions, more than the 2^31 - 1 supported; "
                                      "lower --users, --items, --activity-scale or set --max-items-per-user",
                                      nnz));
  }
  check_simulation_memory(o, nnz, ctx.thread_count());
  // ... then the items, on the same streams.
  std::vector<std::vector<int>> rows(static_cast<size_t>(n));
#pragma omp parallel
  {
    std::vector<char> taken(static_cast<size_t>(p), 0);  // this thread's, for draw_items
#pragma omp for schedule(dynamic, 64)
    for (Index u = 0; u < n; ++u) {
      rows[static_cast<size_t>(u)] = draw_items(streams[static_cast<size_t>(u)], sim.activity[static_cast<size_t>(u)],
                                                prefs[static_cast<size_t>(u)], sim.cluster, sim.popularity, tables, taken);
    }
  }
  SparseMatrix& X = sim.data.X;
  X.resize(n, p);
  X.reserve(nnz);
  Index q = 0;
  for (Index u = 0; u < n; ++u) {
    X.outerIndexPtr()[u] = static_cast<int>(q);
    for (int item : rows[static_cast<size_t>(u)]) {
      X.innerIndexPtr()[q] = item;
      X.valuePtr()[q] = 1.0;
      ++q;
    }
    std::vector<int>().swap(rows[static_cast<size_t>(u)]);
  }
  X.outerIndexPtr()[n] = static_cast<int>(q);
  X.resizeNonZeros(nnz);
  for (Index u = 0; u < n; ++u) sim.data.users.add(std::to_string(u));
  for (Index i = 0; i < p; ++i) sim.data.items.add(std::to_string(i));
  return sim;
}

void write_simulated_interactions(std::ostream& out, const Simulation& sim) {
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "user\titem\n");
  const SparseMatrix& X = sim.data.X;
  for (Index u = 0; u < X.rows(); ++u) {
    for (SparseMatrix::InnerIterator it(X, u); it; ++it) fmt::format_to(std::back_inserter(buffer), "{}\t{}\n", u, it.col());
    if (buffer.size() > (1u << 22)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

void write_truth(std::ostream& out, const Simulation& sim) {
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "item\tcluster\tpopularity\n");
  for (size_t i = 0; i < sim.cluster.size(); ++i) {
    fmt::format_to(std::back_inserter(buffer), "{}\t{}\t{}\n", i, sim.cluster[i], sim.popularity(static_cast<Index>(i)));
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

}  // namespace linsim
