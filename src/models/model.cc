#include "linsim/models/model.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "linalg/products.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/setup.h"
#include "linsim/linalg/data_matrix.h"
#include "linsim/linalg/gram.h"
#include "linsim/models/closed_form.h"
#include "linsim/models/ease.h"
#include "linsim/linalg/normalize.h"

namespace linsim {

ModelKind parse_model_kind(const std::string& name) {
  if (name == "eq1") return ModelKind::kEq1;
  if (name == "eq2") return ModelKind::kEq2;
  if (name == "ease") return ModelKind::kEase;
  if (name == "sppmi") return ModelKind::kSppmi;
  if (name == "cosine") return ModelKind::kCosine;
  throw InvalidArgument(fmt::format("unknown model '{}' (valid: eq1, eq2, ease, sppmi, cosine)", name));
}

const char* model_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kEq1: return "eq1";
    case ModelKind::kEq2: return "eq2";
    case ModelKind::kEase: return "ease";
    case ModelKind::kSppmi: return "sppmi";
    case ModelKind::kCosine: return "cosine";
  }
  return "?";
}

Dtype parse_dtype(const std::string& name) {
  if (name == "float64") return Dtype::kFloat64;
  if (name == "float32") return Dtype::kFloat32;
  throw InvalidArgument(fmt::format("unknown dtype '{}' (valid: float64, float32)", name));
}

const char* dtype_name(Dtype dtype) { return dtype == Dtype::kFloat32 ? "float32" : "float64"; }

namespace {

void check_lambda(double lambda) {
  if (!std::isfinite(lambda) || lambda < 0) {
    throw InvalidArgument(fmt::format("--lambda must be a finite number >= 0, got {}", lambda));
  }
}

}  // namespace

double default_lambda(ModelKind kind) {
  switch (kind) {
    case ModelKind::kEq1: return 10000.0;  // the paper's experiment (MATH.md M8)
    case ModelKind::kEq2: return 100.0;
    case ModelKind::kEase: return 500.0;   // EASE paper's value for MovieLens 20M
    case ModelKind::kSppmi: return 0.0;    // not regularised
    case ModelKind::kCosine: return 100.0; // λ of the M2 warm start
  }
  return 0;
}

Index kept_dimensions(ModelKind kind, const Vector& sigma, double lambda) {
  if (kind != ModelKind::kEq1 && kind != ModelKind::kEq2 && kind != ModelKind::kCosine) return sigma.size();
  const Vector s = kind == ModelKind::kEq1 ? eq1_shrinkage(sigma, lambda) : eq2_shrinkage(sigma, lambda);
  return (s.array() > 1e-10).count();
}

namespace {

// The dimensions the shrinkage keeps (MATH.md M1: g_i = σ_i²/(σ_i² + λ); M2: (1 − λ/σ_i)_+): a
// dimension whose shrinkage is at most 1e-10 is zero to rounding (every score along it vanishes).
// None kept is an error — the model would predict 0 for everything; fewer than k a warning — the
// model has lower rank than asked for, and with one dimension left every cosine is ±1.
std::vector<std::string> shrinkage_warnings(ModelKind kind, const Vector& sigma, double lambda) {
  const Index k = sigma.size();
  const Index kept = kept_dimensions(kind, sigma, lambda);
  const bool eq1 = kind == ModelKind::kEq1;
  // The λ that keeps all k: eq2 below σ_k; eq1 (g_k > 1e-10) below 1e10 σ_k².
  const std::string keep_all = eq1 ? fmt::format("λ well below 1e10 σ_k² = {:.4g}", 1e10 * sigma(k - 1) * sigma(k - 1))
                                   : fmt::format("λ < σ_k = {:.4g}", sigma(k - 1));
  if (kept == 0) {
    throw LambdaRefused(fmt::format(
        "λ = {:g} shrinks all {} dimensions to zero ({}; σ_1 = {:.4g}): the model would predict 0 for everything; "
        "use {}",
        lambda, k, eq1 ? "σ²/(σ² + λ) ≤ 1e-10" : "eq2 keeps only σ_i > λ", sigma(0), keep_all));
  }
  std::vector<std::string> warnings;
  if (kept < k) {
    warnings.push_back(fmt::format(
        "λ = {:g} leaves {} of the {} dimensions nonzero (σ_{} = {:.4g}{}): the model has rank {}{}; {} keeps all {}",
        lambda, kept, k, kept + 1, sigma(kept),
        // a shrinkage 1 − λ/σ of at most 1e-10 is zero to rounding: σ just above λ counts as not
        eq1 ? "" : (sigma(kept) > lambda ? " exceeds λ by less than a part in 10^10" : " is not above λ"), kept,
        kept == 1 ? ", so every cosine and projected similarity is ±1 and neighbour lists are arbitrary" : "",
        keep_all, k));
  }
  return warnings;
}

void check_rank(Index rank, Index n, Index p) {
  const Index max_rank = std::min(n, p);
  if (rank < 1 || rank > max_rank) {
    throw InvalidArgument(fmt::format("--rank must be in [1, {}] = [1, min(users, items)], got {}", max_rank, rank));
  }
}

// MATH.md M6 sppmi: B = V Λ^t, A = V Λ^(1−t) from the top-k eigenpairs of the SPPMI matrix.
Model fit_sppmi(const DataMatrix& data, const FitOptions& options, const Context& ctx, const Communicator& comm) {
  const ThreadScope thread_scope(ctx);
  options.sppmi.validate();
  Matrix cooccurrences = data.gram(ctx);  // across processes: every process holds the summed p × p matrix
  comm.sum(cooccurrences.data(), static_cast<std::size_t>(cooccurrences.size()));
  const SymmetricEigen eig = top_eigenpairs(sppmi_matrix(std::move(cooccurrences), options.sppmi), options.rank,
                                            options.solver, ctx);
  const Index positive = (eig.values.array() > 1e-12 * std::max(eig.values(0), 0.0)).count();
  if (!(eig.values(0) > 0)) {
    // A nonzero symmetric nonnegative matrix with a zero diagonal has a positive eigenvalue (that of
    // its largest entry's 2 × 2 block at least), so none means the shift removed every pair.
    throw InvalidArgument(fmt::format(
        "the SPPMI matrix is zero: no two items co-occur more than k = {} times as often as their smoothed "
        "marginals predict (k negatives: the shift log k); {}",
        options.sppmi.negatives,
        options.sppmi.negatives > 1 ? "a smaller k keeps more pairs" : "these data give SPPMI nothing to embed"));
  }
  if (positive < options.rank && !options.sppmi.truncate_rank) {
    throw InvalidArgument(fmt::format("--rank {} exceeds the number of positive eigenvalues of the SPPMI matrix ({})",
                                      options.rank, positive));
  }
  const double t = options.sppmi.eigen_power;
  const Index k = std::min(positive, options.rank);
  std::vector<std::string> warnings;
  if (k < options.rank) {
    warnings.push_back(fmt::format("the SPPMI matrix has {} positive eigenvalues: its embedding has rank {}, not {}",
                                   positive, k, options.rank));
  }
  const Vector values = eig.values.head(k);
  const Matrix vectors = eig.vectors.leftCols(k);
  Model model;
  model.options = options;
  model.options.rank = k;
  model.solver = eig.solver;
  model.solver_reason = eig.reason;
  model.singular_values = values;
  model.item_embeddings = vectors * values.array().pow(t).matrix().asDiagonal();
  model.encoder = vectors * values.array().pow(1.0 - t).matrix().asDiagonal();
  model.user_embeddings = data.times(model.encoder);
  model.warnings = std::move(warnings);
  return model;
}

}  // namespace

double fit_memory_bytes(Index n, Index p, Index nnz, const FitOptions& options, bool scaled_copy) {
  const double pp = 8.0 * static_cast<double>(p) * static_cast<double>(p);
  const double weighted = options.weighting.empty() ? 0.0 : 12.0 * static_cast<double>(nnz);
  switch (options.kind) {
    case ModelKind::kEase: {  // XᵀX + λI inverted in its own storage, two p × 256 panels
      const double scalar = options.dtype == Dtype::kFloat32 ? 4.0 : 8.0;
      return weighted + scalar * (static_cast<double>(p) * static_cast<double>(p) + 512.0 * static_cast<double>(p));
    }
    case ModelKind::kSppmi:  // co-occurrences, the SPPMI matrix, eigenvectors
      return 3.0 * pp;
    default: break;
  }
  const Index k = std::min(options.rank, p);
  const double route = spectrum_bytes(n, p, k, options.solver);
  // X V, the user and item factors (and the cosine model's gradients, about as many again).
  const double factors = 8.0 * static_cast<double>(k) * (3.0 * static_cast<double>(n) + 3.0 * static_cast<double>(p));
  const double scaled = scaled_copy ? 12.0 * static_cast<double>(nnz) + 4.0 * static_cast<double>(n + 1) : 0.0;
  // The one transposed copy that products X_wᵀ R build (data_matrix.h: the two-pass products,
  // Lanczos, narrow checks, the cosine model's gradients), counted with values: on 1,000,000 ×
  // 200,000 with 50M nonzeros 632 MB (232 MB where binarised data store none). The Gram route
  // forms XᵀX and X V alone.
  const bool transposes = options.solver != Solver::kGram || options.kind == ModelKind::kCosine;
  const double transposed = transposes ? transposed_copy_bytes(n, p, nnz) : 0.0;
  return weighted + scaled + transposed + route + (options.kind == ModelKind::kCosine ? 2.0 : 1.0) * factors;
}

void check_solver_applies(const FitOptions& options, bool given) {
  if (options.kind == ModelKind::kEase && given && options.solver != Solver::kAuto) {
    throw InvalidArgument(fmt::format("--solver {} does not apply to --model ease (it inverts XᵀX + λI: no eigen-solver)",
                                      solver_name(options.solver)));
  }
  if (options.kind == ModelKind::kSppmi && options.solver == Solver::kRandomized) {
    throw InvalidArgument("--solver randomized does not apply to --model sppmi (block Krylov works on the data's "
                          "operator; SPPMI decomposes a dense items x items matrix): use auto, gram or lanczos");
  }
}

Index check_fit_input(const SparseView& X, const FitOptions& options, const Communicator& comm,
                      double* largest_value) {
  // Across processes X holds this process's users; n and the data checks are global, and every
  // check that could fail on one process only is agreed on first, so that all of them stop alike.
  const Index n = static_cast<Index>(comm.sum(static_cast<std::int64_t>(X.rows())));
  if (n == 0 || X.cols() == 0 || comm.sum(static_cast<std::int64_t>(X.nonZeros())) == 0) {
    throw InvalidArgument("the interaction matrix is empty");
  }
  check_lambda(options.lambda);
  // Every model works with squares and products of the values: they must stay finite.
  const Eigen::Map<const Vector> values(X.valuePtr(), X.nonZeros());
  if (!comm.all(values.allFinite())) throw DataError("the interaction values contain a value that is not a finite number");
  const double largest = values.size() ? values.cwiseAbs().maxCoeff() : 0.0;
  if (largest_value != nullptr) *largest_value = largest;
  // The messages name the largest |value| of all processes, so that they read as linsim fit's.
  if (!std::isfinite(comm.sum(values.squaredNorm()))) {
    throw DataError(fmt::format("the interaction values are too large: their sum of squares overflows (largest |value| "
                            "{:.4g}); scale them down or pass --binarize",
                            comm.max(largest)));
  }
  // The other end: squares and products of values this small lose their digits to underflow (a
  // model's σ_i² and the Gram route's XᵀX are subnormal below about 2^-511 ≈ 1.5e-154). Values
  // down to 2^-450 (~3e-136, a margin above that) are fitted: the spectrum is solved on a copy
  // scaled by a power of two (spectrum.cc), and σ_i² of them, down to 10⁻¹² σ_1², stays normal.
  const double smallest_largest = std::ldexp(1.0, -450);
  if (comm.all(largest == 0)) {  // stored zeros only: duplicates that sum to 0 (--allow-negative)
    throw DataError("every interaction value is 0 (each entry's duplicates sum to 0): nothing to fit");
  }
  if (comm.all(largest < smallest_largest)) {
    throw DataError(fmt::format("the interaction values are too small: the largest |value| is {:.4g}, below 2^-450 "
                            "(~3e-136), too close to where their squares underflow; scale them up or pass --binarize",
                            comm.max(largest)));
  }
  if (options.dtype != Dtype::kFloat64 && options.kind != ModelKind::kEase) {
    throw InvalidArgument(fmt::format("--dtype {} applies to --model ease only (got --model {})",
                                      dtype_name(options.dtype), model_name(options.kind)));
  }
  return n;
}

namespace {

// Whether the model is built from the top spectrum of X_w (eq1, eq2, cosine), whose solve may work
// on a scaled copy; ease and sppmi work on a dense items × items matrix instead.
bool from_spectrum(ModelKind kind) { return kind != ModelKind::kEase && kind != ModelKind::kSppmi; }

// Fails fast, before allocating, where the fit cannot fit in memory on some process: its
// fit_memory_bytes for the route it takes against the memory available now. `stage` names the
// point of the fit in the progress line ("" before any work).
void check_fit_memory(Index n_local, Index p, Index nnz, const FitOptions& options, const Route& route,
                      bool scaled_copy, const char* stage, const ProgressFn& progress, const Communicator& comm) {
  FitOptions sized = options;
  sized.solver = route.solver;
  const double need = fit_memory_bytes(n_local, p, nnz, sized, scaled_copy);
  if (progress && need > 1e9) {
    progress(fmt::format("memory estimate{}: {} beyond the data ({})", stage, format_bytes(need),
                         available_memory().text()));
  }
  if (const auto shortfall = memory_shortfall(need, comm)) {
    const bool dense = !from_spectrum(options.kind);
    throw OutOfMemory(fmt::format(
        "fitting {} on {} items needs about {} beyond the data, {}; {}", model_name(options.kind),
        p, format_bytes(shortfall->need), shortfall->more_than(),
        dense ? "this model needs a dense items x items matrix: use --model eq2 (which can use --solver randomized) "
                "or fewer items"
              : "use --solver randomized (never forms the items x items matrix) or a smaller --rank"));
  }
}

// fit_model's checks before any work, shared by both entry points (X as given: a weighting keeps
// its structure but may drop entries). Returns the spectrum's route, decided once: the memory
// check is sized for it (fit_memory_bytes alone counts the larger of auto's two) and the fit runs
// it.
Route check_fit(const SparseView& X, const FitOptions& options, const ProgressFn& progress, const Communicator& comm) {
  const Index n_local = X.rows();
  double largest = 0;  // this process's largest |value|
  const Index n = check_fit_input(X, options, comm, &largest);  // users on all processes
  const Index p = X.cols();
  if (comm.distributed() && (options.kind == ModelKind::kEase || options.kind == ModelKind::kCosine)) {
    throw InvalidArgument(fmt::format("--model {} is not fitted across processes by fit_model ({})",
                                      model_name(options.kind),
                                      options.kind == ModelKind::kEase ? "linsim-mpi fits EASE on ScaLAPACK"
                                                                       : "the cosine model runs in one process"));
  }
  const bool spectral = from_spectrum(options.kind);
  const Route route = spectral ? choose_route(X, std::clamp<Index>(options.rank, 1, p), options.solver, comm)
                               : Route{options.solver, "requested"};
  // The spectrum's scaled copy is of the data as the solve sees them, decided by the largest
  // |value| over every process: X's values here, where there is no weighting; a weighting's values
  // are known once it is applied, and fit_model checks again then.
  const bool scaled_copy = spectral && options.weighting.empty() && solves_on_scaled_copy(largest, comm);
  check_fit_memory(n_local, p, X.nonZeros(), options, route, scaled_copy, "", progress, comm);
  if (options.kind == ModelKind::kSppmi) {
    if (!options.weighting.empty()) {
      throw InvalidArgument("--weighting does not apply to --model sppmi (SPPMI is itself a weighting of co-occurrences)");
    }
    check_rank(options.rank, p, p);
  } else if (options.kind != ModelKind::kEase) {
    check_rank(options.rank, n, p);
    if (options.kind == ModelKind::kCosine) options.cosine.validate();
  }
  return route;
}

// fit_model's work once checked, on data = X_w (the weighting, which the model records, applied).
Model fit_checked(const DataMatrix& data, const FitOptions& options, const Route& route, FittedWeighting weighting,
                  const Context& ctx, const ProgressFn& progress, const Communicator& comm) {
  if (options.kind == ModelKind::kSppmi) return fit_sppmi(data, options, ctx, comm);
  const Index p = data.cols();
  if (options.kind == ModelKind::kEase) {
    Model model;
    model.options = options;
    model.options.rank = p;
    model.solver = "spd-inverse";
    model.solver_reason = fmt::format(
        "EASE is full rank: (XᵀX + λI)⁻¹ in place by block sweep (Cholesky pivots checked), GEMM: {}",
        gemm_backend());
    if (progress) {
      progress(fmt::format("EASE: XᵀX and its {} × {} inverse in {} ({})", p, p, dtype_name(options.dtype),
                           model.solver_reason));
    }
    if (options.dtype == Dtype::kFloat32) {
      // float32 holds XᵀX + λI and its Cholesky pivots (down to 1e-5 of the largest diagonal entry)
      // only while that entry lies well inside its range; outside it, values far from 1 used to be
      // refused as "too ill-conditioned" whatever their condition number. The diagonal of
      // X_wᵀX_w = YᵀY − m cᵀ − c mᵀ + n m mᵀ (data_matrix.h), c = Yᵀ1 and m the centre (standardize).
      const SparseView& Y = data.sparse();
      Vector diagonal = Vector::Zero(p);
      for (Index u = 0; u < Y.outerSize(); ++u) {
        for (SparseView::InnerIterator it(Y, u); it; ++it) diagonal(it.col()) += it.value() * it.value();
      }
      if (data.centered()) {
        const Vector& m = data.center();
        diagonal += (static_cast<double>(data.rows()) * m - 2.0 * data.column_sums()).cwiseProduct(m);
      }
      const double largest = diagonal.maxCoeff() + options.lambda;
      if (!(largest >= 1e-30 && largest <= 1e37)) {
        throw InvalidArgument(fmt::format(
            "--dtype float32: the largest diagonal entry of XᵀX + λI is {:.3g}, outside the range [1e-30, 1e37] "
            "where float32 holds it and its Cholesky pivots; use --dtype float64, or scale the values (and λ)",
            largest));
      }
      model.weights32 = ease_weights<float>(data.gram<float>(ctx), options.lambda);
    } else {
      model.weights = ease_weights<double>(data.gram<double>(ctx), options.lambda);
    }
    model.weighting = std::move(weighting);
    return model;
  }
  Spectrum spectrum = top_spectrum(data, options.rank, route, ctx, progress, options.solver_tol, comm);
  Matrix XV = take_data_times_vectors(spectrum, data);
  FitOptions closed = options;
  if (options.kind == ModelKind::kCosine) closed.kind = ModelKind::kEq2;
  Model model = model_from_spectrum(std::move(XV), spectrum, closed);
  if (options.kind == ModelKind::kCosine) {
    model = fit_cosine_model(data, model, options.cosine, ctx, progress);
    model.options = options;
  }
  model.weighting = std::move(weighting);
  return model;
}

}  // namespace

Model fit_model(const SparseView& X, const FitOptions& options, const Context& ctx, const ProgressFn& progress,
                const Communicator& comm) {
  const ThreadScope thread_scope(ctx);
  const Route route = check_fit(X, options, progress, comm);
  // Only when there is a weighting (never for sppmi: check_fit refuses one): unweighted fits use X
  // itself, as fit_model on a DataMatrix does. Initialised, not assigned: Eigen's SparseMatrix has
  // no move assignment, and a copy would leave apply()'s advised arrays behind.
  const bool weighted_fit = !options.weighting.empty();
  FittedWeighting weighting = weighted_fit ? fit_weighting(options.weighting, X, comm) : FittedWeighting{};
  const SparseMatrix weighted = weighted_fit ? weighting.apply(X) : SparseMatrix();
  if (weighted_fit) {
    // A weighting that leaves every entry 0 (sppmi's shift log k above every pair's ratio; a
    // standardize whose columns are all constant, which it makes exactly 0, and which leaves no
    // centre either) leaves nothing to fit: EASE gave an all-zero model with exit 0, the
    // spectral fits blamed --rank.
    std::int64_t nonzero = 0;
    for (Index q = 0; q < weighted.nonZeros(); ++q) nonzero += weighted.valuePtr()[q] != 0;
    if (comm.sum(nonzero) == 0) {
      const auto sppmi = std::find_if(options.weighting.steps.begin(), options.weighting.steps.end(),
                                      [](const WeightingStep& s) { return s.kind == WeightingKind::kSppmi; });
      throw InvalidArgument(
          sppmi == options.weighting.steps.end()
              ? fmt::format("--weighting {} leaves every entry of the data 0: nothing to fit{}", options.weighting.spec(),
                            options.weighting.standardizes()
                                ? " (standardize centres a constant column to 0, and every item's column is constant: "
                                  "every training user has it with the same weight)"
                                : "")
              : fmt::format("--weighting {}: the SPPMI matrix is zero: no pair co-occurs more than k = {} times as "
                            "often as its smoothed marginals predict (the shift log k); {}",
                            options.weighting.spec(), sppmi->a,
                            sppmi->a > 1 ? "a smaller k keeps more pairs" : "these data give SPPMI nothing to embed"));
    }
  }
  const DataMatrix data(weighted_fit ? SparseView(weighted) : X, weighting.center);
  // The weighted values (and centre) decide whether the spectrum solves on a scaled copy, which
  // check_fit could not know: if so, the rest of the fit is checked again with that copy (the
  // weighted data are held now, so no longer counted).
  if (weighted_fit && from_spectrum(options.kind) && solves_on_scaled_copy(data, comm)) {
    FitOptions rest = options;
    rest.weighting = Weighting{};
    check_fit_memory(data.rows(), data.cols(), data.sparse().nonZeros(), rest, route, true,
                     " once weighted (the spectrum's scaled copy of the weighted data included)", progress, comm);
  }
  return fit_checked(data, options, route, std::move(weighting), ctx, progress, comm);
}

Model fit_model(const DataMatrix& data, const FitOptions& options, const Context& ctx, const ProgressFn& progress,
                const Communicator& comm) {
  if (!options.weighting.empty() || data.centered()) {
    throw InvalidArgument("fit_model on a DataMatrix fits its data as they are: no --weighting and no column centre");
  }
  const ThreadScope thread_scope(ctx);
  const Route route = check_fit(data.sparse(), options, progress, comm);
  return fit_checked(data, options, route, {}, ctx, progress, comm);
}

namespace {

// The cosine model's user vectors s · N(X_w A) (MATH.md M5). A row is zero where its length is
// rounding noise: below kRelativeNormFloor of the sum of its terms' lengths, Σ_i |y_ui| ‖A_i‖ (and
// ‖mᵀA‖ when centred), a bound of the row's own. So a user's vector, and scores, do not depend on
// the other users computed with it: normalize_rows' floor, relative to the longest row of the
// block, zeroed a folded-in user of 1e-9s scored beside one of 20s (and every user beside one of
// 1e308s), where alone it had its cosine's neighbours.
Matrix cosine_user_vectors(const DataMatrix& X, const Matrix& A, double scale) {
  Matrix P = X.times(A);
  const Vector terms = A.rowwise().norm();
  const double centre = X.centered() ? (X.center().transpose() * A).norm() : 0.0;
  const SparseView& Y = X.sparse();
  for (Index u = 0; u < P.rows(); ++u) {
    double bound = centre;
    for (SparseView::InnerIterator it(Y, u); it; ++it) bound += std::abs(it.value()) * terms(it.col());
    const double norm = P.row(u).stableNorm();
    if (norm > kRelativeNormFloor * bound) {
      P.row(u) /= norm;
      P.row(u) *= scale;
    } else {
      P.row(u).setZero();
    }
  }
  return P;
}

}  // namespace

Model fit_cosine_model(const DataMatrix& X, const Model& warm, const CosineOptions& options, const Context& ctx,
                       const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  if (warm.options.kind != ModelKind::kEq2) throw InvalidArgument("the cosine model starts from an eq2 model");
  CosineFit fit = fit_cosine(X, warm.encoder, warm.item_embeddings, options, ctx, progress);
  Model model = warm;
  model.options.kind = ModelKind::kCosine;
  model.options.cosine = options;
  model.scale = fit.convergence.scale;
  model.encoder = std::move(fit.A);
  model.item_embeddings = normalize_rows(fit.B);
  model.user_embeddings = cosine_user_vectors(X, model.encoder, model.scale);
  model.convergence = std::move(fit.convergence);
  const Convergence& c = model.convergence;
  if (!c.converged) {  // was silent: only the progress lines (a terminal's) showed it
    const bool limit = c.epoch_limit;
    model.warnings.push_back(fmt::format(
        "the cosine model stopped after {} iterations without meeting --tol {} ({}); its objective went from {:.6g} "
        "to {:.6g}{}",
        c.iterations, options.tol, limit ? "the --epochs limit" : c.reason, c.initial_objective, c.final_objective,
        limit ? ": more --epochs would change it (stopping is part of this model: docs/math.md M5)" : ""));
  }
  return model;
}

Model model_from_spectrum(Matrix XV, const Spectrum& spectrum, const FitOptions& options) {
  if (options.kind != ModelKind::kEq1 && options.kind != ModelKind::kEq2) {
    throw InvalidArgument(fmt::format("model_from_spectrum builds eq1 and eq2 models, not {}", model_name(options.kind)));
  }
  check_lambda(options.lambda);
  const Index supported = numerical_rank(spectrum.sigma, spectrum.V.rows());
  if (supported < spectrum.sigma.size()) {
    throw InvalidArgument(fmt::format("--rank {} exceeds the rank of the data ({} nonzero singular values)",
                                      spectrum.sigma.size(), supported));
  }
  const FactorScales f = options.kind == ModelKind::kEq1
                             ? eq1_scales(spectrum.sigma, options.lambda, options.gauge)
                             : eq2_scales(spectrum.sigma, options.lambda);
  std::vector<std::string> warnings = shrinkage_warnings(options.kind, spectrum.sigma, options.lambda);
  Model model;
  model.warnings = std::move(warnings);
  model.options = options;
  model.options.rank = spectrum.sigma.size();
  model.solver = spectrum.solver;
  model.solver_reason = spectrum.reason;
  model.singular_values = spectrum.sigma;
  model.encoder = spectrum.V * f.a.asDiagonal();
  model.item_embeddings = spectrum.V * f.b.asDiagonal();
  model.user_embeddings = std::move(XV);  // P = X A = X V_k dMat(a), scaled in place
  model.user_embeddings *= f.a.asDiagonal();
  return model;
}

namespace {

// The rows to fold in, checked as fit checks its data (check_fit_input): every value finite, and
// each row's squares too (was: values near 1e308 scored inf and −inf, exit 0, and for the cosine model
// made every other user's row zero).
void check_fold_in(const Model& model, const SparseView& Xq) {
  if (Xq.cols() != model.n_items()) {
    throw InvalidArgument(fmt::format("interactions have {} items, the model {}", Xq.cols(), model.n_items()));
  }
  // Per user: whether one is refused must not depend on the others scored with it.
  for (Index u = 0; u < Xq.outerSize(); ++u) {
    double squares = 0, largest = 0;
    for (SparseView::InnerIterator it(Xq, u); it; ++it) {
      if (!std::isfinite(it.value())) {
        throw Error("the interaction values to fold in contain a value that is not a finite number");
      }
      squares += it.value() * it.value();
      largest = std::max(largest, std::abs(it.value()));
    }
    if (!std::isfinite(squares)) {
      throw Error(fmt::format("the interaction values to fold in are too large: a user's sum of squares overflows "
                              "(largest |value| {:.4g}); scale them down or pass --binarize",
                              largest));
    }
  }
}

}  // namespace

Matrix embed_users(const Model& model, const SparseView& Xq) {
  check_fold_in(model, Xq);
  if (!model.has_embeddings()) throw InvalidArgument("EASE has no user embeddings");
  const SparseMatrix Y = model.weighting.apply(Xq);
  const DataMatrix data(Y, model.weighting.center);
  if (model.options.kind == ModelKind::kCosine) return cosine_user_vectors(data, model.encoder, model.scale);
  return data.times(model.encoder);
}

Matrix score_users(const Model& model, const SparseView& Xq) {
  check_fold_in(model, Xq);
  if (!model.has_embeddings()) {
    const SparseMatrix Y = model.weighting.apply(Xq);
    const DataMatrix data(Y, model.weighting.center);
    return model.with_weights([&](const auto& W) { return data.times(W); });
  }
  return times_transpose(embed_users(model, Xq), model.item_embeddings);
}

}  // namespace linsim
