#include "linsim/data/weighting.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>

#include <fmt/format.h>

#include "line_reader.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/data/interaction_matrix.h"

namespace linsim {
namespace {

const char* step_name(WeightingKind kind) {
  switch (kind) {
    case WeightingKind::kIps: return "ips";
    case WeightingKind::kUserNorm: return "user-norm";
    case WeightingKind::kTfidf: return "tfidf";
    case WeightingKind::kBm25: return "bm25";
    case WeightingKind::kSppmi: return "sppmi";
    case WeightingKind::kStandardize: return "standardize";
  }
  return "?";
}

// Decimal only, as every number linsim reads (std::stod would take "0x0.8p0" for 0.5).
double parse_number(const std::string& step, const std::string& text) {
  const std::optional<double> value = detail::field_number(text);
  if (!value || !std::isfinite(*value)) {
    throw InvalidArgument(fmt::format("--weighting {}: '{}' is not a decimal number", step, text));
  }
  // A nonzero mantissa read as 0 underflowed (ips:1e-400 was stored as ips:0).
  if (detail::underflowed(text, *value)) {
    throw InvalidArgument(fmt::format("--weighting {}: '{}' is too small to represent (below ~5e-324)", step, text));
  }
  return *value;
}

void check_range(const std::string& step, const char* what, double value, double lo, double hi) {
  if (value < lo || value > hi) {
    throw InvalidArgument(fmt::format("--weighting {}: {} must be in [{}, {}], got {}", step, what, lo, hi, value));
  }
}

// Lucene's BM25 idf, positive for every pop ≤ n.
double bm25_idf(double n, double pop) { return std::log(1.0 + (n - pop + 0.5) / (pop + 0.5)); }

}  // namespace

bool Weighting::standardizes() const {
  return !steps.empty() && steps.back().kind == WeightingKind::kStandardize;
}

bool Weighting::needs_nonnegative() const {
  return std::any_of(steps.begin(), steps.end(), [](const WeightingStep& s) {
    return s.kind == WeightingKind::kBm25 || s.kind == WeightingKind::kSppmi;
  });
}

std::string Weighting::spec() const {
  if (steps.empty()) return "none";
  std::string out;
  for (const WeightingStep& s : steps) {
    if (!out.empty()) out += ",";
    out += step_name(s.kind);
    switch (s.kind) {
      case WeightingKind::kIps:
      case WeightingKind::kUserNorm: out += fmt::format(":{}", s.a); break;
      case WeightingKind::kBm25:
      case WeightingKind::kSppmi: out += fmt::format(":{}:{}", s.a, s.b); break;
      default: break;
    }
  }
  return out;
}

Weighting parse_weighting(const std::string& spec) {
  Weighting w;
  if (spec.empty() || spec == "none") return w;
  // getline drops a last empty field: "ips," and "ips:" would pass for "ips" with its default.
  if (spec.back() == ',') throw InvalidArgument(fmt::format("--weighting '{}': empty step", spec));
  std::stringstream list(spec);
  std::string item;
  while (std::getline(list, item, ',')) {
    std::vector<std::string> parts;
    std::stringstream fields(item);
    std::string f;
    while (std::getline(fields, f, ':')) parts.push_back(f);
    if (parts.empty() || parts[0].empty()) {
      throw InvalidArgument(fmt::format("--weighting '{}': empty step", spec));
    }
    if (item.back() == ':') {
      throw InvalidArgument(fmt::format(
          "--weighting '{}': a value after ':' is missing (leave out ':' for the default)", item));
    }
    const std::string& name = parts[0];
    const size_t args = parts.size() - 1;
    WeightingStep s;
    auto max_args = [&](size_t n) {
      if (args > n) throw InvalidArgument(fmt::format("--weighting {}: takes at most {} value(s)", item, n));
    };
    if (name == "ips") {
      max_args(1);
      s.kind = WeightingKind::kIps;
      s.a = args ? parse_number(item, parts[1]) : 1.0;
      check_range(item, "beta", s.a, 0, 1);
    } else if (name == "user-norm") {
      max_args(1);
      s.kind = WeightingKind::kUserNorm;
      s.a = args ? parse_number(item, parts[1]) : 0.5;
      check_range(item, "gamma", s.a, 0, 1);
    } else if (name == "tfidf") {
      max_args(0);
      s.kind = WeightingKind::kTfidf;
    } else if (name == "bm25") {
      max_args(2);
      s.kind = WeightingKind::kBm25;
      s.a = args >= 1 ? parse_number(item, parts[1]) : 1.2;
      s.b = args >= 2 ? parse_number(item, parts[2]) : 0.75;
      // k1 beyond 1e6 is BM25 without saturation (tf alone), and near double's limit v (k1 + 1) overflowed.
      if (!(s.a > 0 && s.a <= 1e6)) {
        throw InvalidArgument(fmt::format("--weighting {}: k1 must be in (0, 1e6], got {}", item, s.a));
      }
      check_range(item, "b", s.b, 0, 1);
    } else if (name == "sppmi") {
      max_args(2);
      s.kind = WeightingKind::kSppmi;
      s.a = args >= 1 ? parse_number(item, parts[1]) : 1.0;
      s.b = args >= 2 ? parse_number(item, parts[2]) : 0.75;
      if (!(s.a >= 1)) throw InvalidArgument(fmt::format("--weighting {}: k (negatives) must be >= 1, got {}", item, s.a));
      if (!(s.b > 0 && s.b <= 1)) {
        throw InvalidArgument(fmt::format("--weighting {}: alpha (smoothing) must be in (0, 1], got {}", item, s.b));
      }
      if (!w.steps.empty()) throw InvalidArgument(fmt::format("--weighting '{}': sppmi cannot be combined with other steps", spec));
    } else if (name == "standardize") {
      max_args(0);
      s.kind = WeightingKind::kStandardize;
    } else {
      throw InvalidArgument(fmt::format(
          "--weighting: unknown step '{}' (valid: ips:beta, user-norm:gamma, tfidf, bm25:k1:b, sppmi:k:alpha, "
          "standardize)", name));
    }
    // sppmi removes the entries it zeroes, which the statistics of other steps (popularity, row
    // lengths) are not computed after: it stands alone.
    if (!w.steps.empty() && w.steps.front().kind == WeightingKind::kSppmi) {
      throw InvalidArgument(fmt::format("--weighting '{}': sppmi cannot be combined with other steps", spec));
    }
    for (const WeightingStep& prior : w.steps) {
      if (prior.kind == s.kind) throw InvalidArgument(fmt::format("--weighting '{}': {} appears twice", spec, name));
      if (prior.kind == WeightingKind::kStandardize) {
        throw InvalidArgument(fmt::format("--weighting '{}': standardize must be the last step", spec));
      }
      const bool idf_pair = (prior.kind == WeightingKind::kTfidf && s.kind == WeightingKind::kBm25) ||
                            (prior.kind == WeightingKind::kBm25 && s.kind == WeightingKind::kTfidf);
      if (idf_pair) throw InvalidArgument(fmt::format("--weighting '{}': use either bm25 or tfidf", spec));
    }
    w.steps.push_back(s);
  }
  if (w.steps.empty()) throw InvalidArgument(fmt::format("--weighting '{}': no steps", spec));
  return w;
}

namespace {

// Applies the row-local steps (all but the centring) to a copy of X, using fitted item
// statistics. `fitted.inv_scale` is used only when complete (after fitting).
SparseMatrix apply_steps(const FittedWeighting& f, const SparseView& X, size_t step_count) {
  // The copy is what the solvers' products stream and gather from: its arrays are advised to take
  // huge pages before they are written (core/memory.h), as the reader's are. A view of some rows
  // keeps the whole matrix's arrays, so entries are counted from outer[0].
  SparseMatrix Y(X.rows(), X.cols());
  if (!X.isCompressed()) {  // a view of a matrix being filled: Eigen's copy, compressed
    Y = X;
    Y.makeCompressed();
  } else {
    const int* from = X.outerIndexPtr();
    const int first = from[0];
    const Index count = from[X.rows()] - first;
    Y.resizeNonZeros(count);
    prefer_huge_pages(Y.innerIndexPtr(), sizeof(int) * static_cast<std::size_t>(count), PageUse::kBulk);
    prefer_huge_pages(Y.valuePtr(), sizeof(double) * static_cast<std::size_t>(count), PageUse::kBulk);
    for (Index u = 0; u <= X.rows(); ++u) Y.outerIndexPtr()[u] = from[u] - first;
    std::copy(X.innerIndexPtr() + first, X.innerIndexPtr() + first + count, Y.innerIndexPtr());
    std::copy(X.valuePtr() + first, X.valuePtr() + first + count, Y.valuePtr());
  }
  const int* outer = Y.outerIndexPtr();
  const int* inner = Y.innerIndexPtr();
  double* value = Y.valuePtr();
  bool pruned = false;  // sppmi leaves zeros to remove
  for (size_t k = 0; k < step_count; ++k) {
    const WeightingStep& s = f.weighting.steps[k];
    switch (s.kind) {
      case WeightingKind::kIps:
      case WeightingKind::kTfidf:
        for (Index q = 0; q < Y.nonZeros(); ++q) value[q] *= f.item_factor[k](inner[q]);
        break;
      case WeightingKind::kUserNorm:
        for (Index u = 0; u < Y.rows(); ++u) {
          const int nu = outer[u + 1] - outer[u];
          if (nu == 0) continue;
          const double scale = std::pow(static_cast<double>(nu), -s.a);
          for (int q = outer[u]; q < outer[u + 1]; ++q) value[q] *= scale;
        }
        break;
      case WeightingKind::kBm25:
        for (Index u = 0; u < Y.rows(); ++u) {
          double length = 0;
          for (int q = outer[u]; q < outer[u + 1]; ++q) {
            if (!(value[q] >= 0)) {
              // Training data was checked whole (fit_weighting): this is a user folded in, and u
              // its row in one block of them, which would not identify it.
              throw DataError(fmt::format("bm25 needs nonnegative values, and a user to fold in has {}", value[q]));
            }
            length += value[q];
          }
          const double norm = s.a * (1.0 - s.b + s.b * length / f.mean_length[k]);
          // A stored zero (duplicates that sum to 0) stays 0: in a row of length 0 with b = 1 its
          // norm is 0 too, and 0 / 0 made the user's scores NaN.
          for (int q = outer[u]; q < outer[u + 1]; ++q) {
            if (value[q] != 0) value[q] = value[q] * (s.a + 1.0) / (value[q] + norm) * f.item_factor[k](inner[q]);
          }
        }
        break;
      case WeightingKind::kSppmi:
        // docs/math.md M6 (Levy & Goldberg 2014): max(0, log(v Z / (r_u c_i^α)) − log k), with
        // item_factor = α log c_i and mean_length = log Z − log k from fit_weighting.
        for (Index u = 0; u < Y.rows(); ++u) {
          double length = 0;
          for (int q = outer[u]; q < outer[u + 1]; ++q) {
            if (!(value[q] >= 0)) {
              throw DataError(fmt::format("sppmi needs nonnegative counts, and a user to fold in has {}", value[q]));
            }
            length += value[q];
          }
          if (!(length > 0)) continue;
          const double row_offset = f.mean_length[k] - std::log(length);
          for (int q = outer[u]; q < outer[u + 1]; ++q) {
            value[q] = value[q] > 0 ? std::max(0.0, std::log(value[q]) + row_offset - f.item_factor[k](inner[q])) : 0.0;
          }
        }
        pruned = true;
        break;
      case WeightingKind::kStandardize:
        for (Index q = 0; q < Y.nonZeros(); ++q) value[q] *= f.inv_scale(inner[q]);
        break;
    }
  }
  if (pruned) {
    Y.prune([](const Index&, const Index&, const double& v) { return v != 0.0; });
    Y.makeCompressed();
  }
  return Y;
}

}  // namespace

FittedWeighting fit_weighting(const Weighting& weighting, const SparseView& X, const Communicator& comm) {
  FittedWeighting f;
  f.weighting = weighting;
  // Across processes every statistic is a sum over users, summed over the processes' rows.
  f.n_train = static_cast<Index>(comm.sum(static_cast<std::int64_t>(X.rows())));
  f.item_factor.assign(weighting.steps.size(), Vector());
  f.mean_length.assign(weighting.steps.size(), 0.0);
  const double n = static_cast<double>(f.n_train);
  Vector pop = item_users(X);  // unchanged by every step: they only rescale nonzeros
  comm.sum(pop.data(), static_cast<std::size_t>(pop.size()));
  for (size_t k = 0; k < weighting.steps.size(); ++k) {
    const WeightingStep& s = weighting.steps[k];
    switch (s.kind) {
      case WeightingKind::kIps:
        f.item_factor[k] = pop.unaryExpr([&](double c) { return std::pow(std::max(c, 1.0), -s.a); });
        break;
      case WeightingKind::kTfidf:
        f.item_factor[k] = pop.unaryExpr([&](double c) { return std::log(n / std::max(c, 1.0)); });
        break;
      case WeightingKind::kBm25: {
        f.item_factor[k] = pop.unaryExpr([&](double c) { return bm25_idf(n, c); });
        // L̄ from the values this step sees (the earlier steps applied).
        const SparseMatrix before = apply_steps(f, X, k);
        const Eigen::Map<const Vector> values(before.valuePtr(), before.nonZeros());
        const double lowest = values.size() ? values.minCoeff() : 0.0;
        if (!comm.all(lowest >= 0)) {
          throw DataError(lowest >= 0 ? std::string("bm25 needs nonnegative values; the training data has a negative one")
                                  : fmt::format("bm25 needs nonnegative values; the training data has {}", lowest));
        }
        const double total = comm.sum(values.sum());
        f.mean_length[k] = n > 0 ? total / n : 1.0;
        if (!(f.mean_length[k] > 0)) {
          throw DataError("bm25 needs positive interaction values (the mean user length is not positive)");
        }
        break;
      }
      case WeightingKind::kSppmi: {
        // The first step: it sees X itself. Context counts c_i over all training rows.
        Vector count = Vector::Zero(X.cols());
        double lowest = 0;
        for (Index u = 0; u < X.outerSize(); ++u) {
          for (SparseView::InnerIterator it(X, u); it; ++it) {
            count(it.col()) += it.value();
            lowest = std::min(lowest, it.value());
          }
        }
        if (!comm.all(lowest >= 0)) {
          throw DataError(lowest >= 0 ? std::string("sppmi needs nonnegative counts; the training data has a negative one")
                                  : fmt::format("sppmi needs nonnegative counts; the training data has {}", lowest));
        }
        comm.sum(count.data(), static_cast<std::size_t>(count.size()));
        f.item_factor[k] = count.unaryExpr([&](double c) { return c > 0 ? s.b * std::log(c) : 0.0; });
        double z = 0;
        for (Index i = 0; i < count.size(); ++i) z += count(i) > 0 ? std::pow(count(i), s.b) : 0.0;
        if (!(z > 0)) throw DataError("sppmi needs positive counts (the training data has none)");
        f.mean_length[k] = std::log(z) - std::log(s.a);
        break;
      }
      case WeightingKind::kStandardize: {
        const SparseMatrix before = apply_steps(f, X, k);
        // The variance in two passes, about the mean: sum2/n − mean² cancels, leaving rounding
        // noise of order √ε·|mean| in the deviation of a constant column (every user 0.2, as
        // ips or bm25 make of an item all users have), which then passed for a spread and was
        // scaled up by 1e8 into garbage. The second pass counts the column's zeros as deviations
        // of −mean.
        // Each column is first divided by its mean stored |value|: the sums of squares below then
        // neither underflow (values of 1e-170 summed to 0, and the column was taken for constant
        // and zeroed) nor overflow (a value of 1e154 times tfidf's factor), and standardising
        // stays what it is, independent of a column's scale.
        const int* inner = before.innerIndexPtr();
        const double* value = before.valuePtr();
        Vector absolute = Vector::Zero(X.cols());
        Vector stored = Vector::Zero(X.cols());
        for (Index q = 0; q < before.nonZeros(); ++q) {
          absolute(inner[q]) += std::abs(value[q]);
          stored(inner[q]) += 1.0;
        }
        comm.sum(absolute.data(), static_cast<std::size_t>(absolute.size()));
        comm.sum(stored.data(), static_cast<std::size_t>(stored.size()));
        const Vector unit = absolute.binaryExpr(stored, [](double a, double c) { return a > 0 ? a / c : 1.0; });
        Vector sum = Vector::Zero(X.cols());
        for (Index q = 0; q < before.nonZeros(); ++q) sum(inner[q]) += value[q] / unit(inner[q]);
        comm.sum(sum.data(), static_cast<std::size_t>(sum.size()));
        const Vector mean = sum / n;  // of the column in its unit
        Vector squares = Vector::Zero(X.cols());  // Σ (x − mean)² over the stored entries
        Vector magnitude = Vector::Zero(X.cols());  // Σ x²
        for (Index q = 0; q < before.nonZeros(); ++q) {
          const double x = value[q] / unit(inner[q]);
          const double d = x - mean(inner[q]);
          squares(inner[q]) += d * d;
          magnitude(inner[q]) += x * x;
        }
        comm.sum(squares.data(), static_cast<std::size_t>(squares.size()));
        comm.sum(magnitude.data(), static_cast<std::size_t>(magnitude.size()));
        f.inv_scale.resize(X.cols());
        f.center.resize(X.cols());
        for (Index i = 0; i < X.cols(); ++i) {
          const double var = (squares(i) + (n - stored(i)) * mean(i) * mean(i)) / n;
          // A constant column has no variance: centred it is zero, and it is made exactly zero
          // (factor 0, centre 0), in training and for users folded in later. Centred through the
          // rank-one correction it would be rounding noise instead, and a model fitted on noise
          // (every column constant) passed for one. The test is relative to the column's own
          // size (its root mean square), so it does not depend on the data's units; a constant
          // column's two-pass deviation is of order ε of it.
          const double rms = std::sqrt(magnitude(i) / n);
          if (std::sqrt(var) > 1e-12 * rms) {
            f.inv_scale(i) = 1.0 / (unit(i) * std::sqrt(var));
            f.center(i) = mean(i) / std::sqrt(var);
            if (!std::isfinite(f.inv_scale(i))) {
              throw DataError(fmt::format("standardize: item column {} is too small to scale to unit variance (its "
                                      "standard deviation is {:.3g})",
                                      i, unit(i) * std::sqrt(var)));
            }
          } else {
            f.inv_scale(i) = 0.0;
            f.center(i) = 0.0;
          }
        }
        break;
      }
      case WeightingKind::kUserNorm: break;
    }
  }
  return f;
}

SparseMatrix FittedWeighting::apply(const SparseView& X) const {
  if (!item_factor.empty() && weighting.steps.size() != item_factor.size()) {
    throw InvalidArgument("the weighting has not been fitted");
  }
  const Index p = inv_scale.size() == 0 ? -1 : inv_scale.size();
  for (const Vector& v : item_factor) {
    if (v.size() > 0 && v.size() != X.cols()) {
      throw InvalidArgument(fmt::format("rows have {} items, the weighting was fitted on {}", X.cols(), v.size()));
    }
  }
  if (p >= 0 && p != X.cols()) {
    throw InvalidArgument(fmt::format("rows have {} items, the weighting was fitted on {}", X.cols(), p));
  }
  if (weighting.empty()) return X;
  return apply_steps(*this, X, weighting.steps.size());
}

}  // namespace linsim
