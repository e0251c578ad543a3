#include "linsim/evaluate/variants.h"

#include <algorithm>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/linalg/data_matrix.h"
#include "linsim/linalg/gram.h"
#include "linsim/linalg/spectrum.h"

namespace linsim {

namespace {

// Up to this many items raw item-kNN's cosines come from the dense Gram matrix.
constexpr Index kRawFromGramItems = 20000;

// model_from_spectrum with the variant it fits named in a refusal ("eq2: λ = … shrinks all …"),
// and, for a weighted model, the λ it was given and how it came from the one asked for.
Model labelled_fit(const std::string& label, const Matrix& XV, const Spectrum& spectrum, const FitOptions& f,
                   const std::string& lambda_note = "") {
  try {
    return model_from_spectrum(XV, spectrum, f);
  } catch (const LambdaRefused& e) {  // the rescaling note explains a λ refusal, not any other
    throw LambdaRefused(fmt::format("{}: {}{}", label, e.what(), lambda_note));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(fmt::format("{}: {}", label, e.what()));
  }
}

}  // namespace

const std::vector<Variant>& model_variants() {
  static const std::vector<Variant> variants = {
      {"eq1 item-orthonormal cosine", "eq1", "item-orthonormal", "cosine", true, "", false},
      {"eq1 symmetric cosine", "eq1", "symmetric", "cosine", true, "", false},
      {"eq1 input-orthonormal cosine", "eq1", "input-orthonormal", "cosine", true, "", false},
      {"eq2 cosine", "eq2", "", "cosine", true, "", false},
      {"eq1 balanced cosine", "eq1", "balanced", "cosine", false, "", false},
      {"eq1 projected", "eq1", "", "projected", false, "", false},
      {"eq2 projected", "eq2", "", "projected", false, "", false},
      {"eq2 dot", "eq2", "", "dot", false, "", false},
      {"raw (item-kNN)", "raw", "", "raw", false, "", false},
      {"eq1 ips symmetric cosine", "eq1", "symmetric", "cosine", false, "ips", true},
      {"eq2 ips cosine", "eq2", "", "cosine", false, "ips", true},
      {"eq2 standardize cosine", "eq2", "", "cosine", false, "standardize", true},
      {"sppmi cosine", "sppmi", "", "cosine", false, "", true},
      {"cosine-trained cosine", "cosine", "", "cosine", false, "", true},
  };
  return variants;
}

const std::vector<std::string>& reported_gauges() {
  static const std::vector<std::string> gauges = {"item-orthonormal", "symmetric", "input-orthonormal", "balanced"};
  return gauges;
}

void RemedyOptions::validate() const {
  if (!(ips_beta >= 0 && ips_beta <= 1)) throw InvalidArgument(fmt::format("--ips-beta must be in [0, 1], got {}", ips_beta));
  sppmi.validate("--sppmi-negatives");  // reproduce's name for k
  if (cosine_epochs < 1) throw InvalidArgument(fmt::format("--cosine-epochs must be >= 1, got {}", cosine_epochs));
}

namespace {

// d with Y = X diag(d) where every step of the weighting rescales the columns (ips, tfidf and
// standardize multiply each value by its item's factor); nothing otherwise.
std::optional<Vector> column_scaling(const FittedWeighting& fitted, Index p) {
  Vector d = Vector::Ones(p);
  for (size_t k = 0; k < fitted.weighting.steps.size(); ++k) {
    switch (fitted.weighting.steps[k].kind) {
      case WeightingKind::kIps:
      case WeightingKind::kTfidf: d.array() *= fitted.item_factor[k].array(); break;
      case WeightingKind::kStandardize: d.array() *= fitted.inv_scale.array(); break;
      default: return std::nullopt;
    }
  }
  return d;
}

// eq1 (symmetric gauge) and eq2 on the weighted data, λ scaled to its spectrum (see VariantModels).
// Where the weighting only rescales X's columns, Y = X diag(d), and X's spectrum took the Gram
// route, Y is never formed (docs/math.md M6: "the Gram matrix is transformed accordingly"). Its Gram
// matrix comes from X's kept one: YᵀY = diag(d) XᵀX diag(d), and with a centre m (standardize:
// M6's S⁻¹(G − n μμᵀ)S⁻¹) Y_wᵀY_w = YᵀY − m cᵀ − c mᵀ + n m mᵀ, c = Yᵀ1 = d ⊙ Xᵀ1
// (data_matrix.h) — p² multiplications instead of a pass of ~n p² / 2 multiply-adds over the data
// (0.3 s per weighting per seed of the main job, `BM_GramDense`), decomposed and dropped as the Gram
// route's own would be, so the peak is the same. The user side Y_w V = X (diag(d) V) − 1 (mᵀV)
// goes through X's products (on dense-ish data X's dense copy, which the fits after these build
// anyway). Y has X's pattern, so X's route (choose_route reads shapes and counts only) is Y's.
// Equal in exact arithmetic, rounded differently.
void fit_weighted(const SparseView& X, const DataMatrix& unweighted, const std::string& spec, Index rank,
                  double sigma1, double lambda_eq1, double lambda_eq2, bool with_eq1, std::optional<Model>& eq1,
                  std::optional<Model>& eq2, const Context& ctx) {
  const Weighting weighting = parse_weighting(spec);
  FittedWeighting fitted = fit_weighting(weighting, X);
  const std::optional<Vector> d = column_scaling(fitted, X.cols());
  const Route route = choose_route(X, rank, Solver::kAuto);
  Spectrum spectrum;
  Matrix XV;
  if (d && route.solver == Solver::kGram && unweighted.gram_is_kept() && !unweighted.centered()) {
    const Vector& m = fitted.center;  // empty unless standardize
    {
      Matrix G = unweighted.gram(ctx);
      G.array().colwise() *= d->array();
      G.array().rowwise() *= d->transpose().array();
      if (m.size() > 0) {
        const Vector c = d->cwiseProduct(unweighted.column_sums());
        G.noalias() -= m * c.transpose();
        G.noalias() -= c * m.transpose();
        G.noalias() += (static_cast<double>(X.rows()) * m) * m.transpose();
      }
      spectrum = spectrum_from_gram(G, rank);
    }
    spectrum.reason = fmt::format("{}; the Gram matrix X's, its columns rescaled", route.reason);
    XV = unweighted.times(Matrix(d->asDiagonal() * spectrum.V));
    if (m.size() > 0) XV.rowwise() -= m.transpose() * spectrum.V;
  } else {
    const SparseMatrix Y = fitted.apply(X);
    const DataMatrix data(Y, fitted.center);
    spectrum = top_spectrum(data, rank, Solver::kAuto, ctx);
    XV = take_data_times_vectors(spectrum, data);
  }
  const double ratio = sigma1 > 0 ? spectrum.sigma(0) / sigma1 : 1.0;
  const auto note = [&](double asked, int power) {
    return fmt::format(" (λ = {:g} asked for, times (σ₁ of the {} data / σ₁ of X){} = {:.4g}: divide the λ "
                       "bounds above by that factor for the λ to ask for)",
                       asked, spec, power == 2 ? "²" : "", power == 2 ? ratio * ratio : ratio);
  };
  FitOptions f;
  f.weighting = weighting;
  if (with_eq1) {
    f.kind = ModelKind::kEq1;
    f.gauge = parse_gauge("symmetric");
    f.lambda = lambda_eq1 * ratio * ratio;
    eq1 = labelled_fit(fmt::format("eq1 {}", spec), XV, spectrum, f, note(lambda_eq1, 2));
    eq1->options.weighting = weighting;
    eq1->weighting = fitted;
  }
  f.kind = ModelKind::kEq2;
  f.lambda = lambda_eq2 * ratio;
  eq2 = labelled_fit(fmt::format("eq2 {}", spec), XV, spectrum, f, note(lambda_eq2, 1));
  eq2->options.weighting = weighting;
  eq2->weighting = std::move(fitted);
}

}  // namespace

VariantModels fit_variant_models(const SparseView& X, Index rank, double lambda_eq1, double lambda_eq2,
                                 std::optional<double> lambda_ease, const Context& ctx, const RemedyOptions& remedies,
                                 const ProgressFn& progress) {
  const ThreadScope thread_scope(ctx);
  if (rank < 1 || rank > std::min(X.rows(), X.cols())) {
    throw InvalidArgument(fmt::format("--rank must be in [1, {}], got {}", std::min(X.rows(), X.cols()), rank));
  }
  // The data checks of every fit (values finite, squares in range), once for all of them: the fits
  // below share X's spectrum and Gram matrix instead of calling fit_model, which checks (was: values
  // of 1e200 overflowed the Gram matrix, and a λ message blamed σ_1 = 7e199 and "λ well below inf").
  check_fit_input(X, FitOptions{});  // the data only: the λs are each fit's (checked by its caller)
  // One DataMatrix of X for every fit below, keeping XᵀX: the spectrum (on its Gram route), EASE,
  // SPPMI and raw item-kNN share it instead of forming it up to four times.
  DataMatrix data(X);
  data.keep_gram();
  Spectrum spectrum = top_spectrum(data, rank, Solver::kAuto, ctx);
  VariantModels m;
  if (remedies.enabled) {
    // The weighted data's fits first. Where they rescale X's columns and X's spectrum took the Gram
    // route they use X's Gram matrix and products (fit_weighted); otherwise each makes a dense copy
    // of its weighted data (dense-ish data), which should not be alive beside X's own.
    const double sigma1 = spectrum.sigma(0);
    std::optional<Model> unused;
    if (progress) progress("remedies: weighted models");
    fit_weighted(X, data, fmt::format("ips:{}", remedies.ips_beta), rank, sigma1, lambda_eq1, lambda_eq2, true, m.eq1_ips,
                 m.eq2_ips, ctx);
    fit_weighted(X, data, "standardize", rank, sigma1, lambda_eq1, lambda_eq2, false, unused, m.eq2_standardized, ctx);
  }
  const Matrix XV = take_data_times_vectors(spectrum, data);  // shared by every model
  for (const std::string& g : reported_gauges()) {
    FitOptions f;
    f.kind = ModelKind::kEq1;
    f.gauge = parse_gauge(g);
    f.lambda = lambda_eq1;
    m.eq1.push_back(labelled_fit("eq1", XV, spectrum, f));
  }
  FitOptions f2;
  f2.kind = ModelKind::kEq2;
  f2.lambda = lambda_eq2;
  m.eq2 = labelled_fit("eq2", XV, spectrum, f2);
  if (lambda_ease) {
    FitOptions fe;
    fe.kind = ModelKind::kEase;
    fe.lambda = *lambda_ease;
    m.ease = fit_model(data, fe, ctx);
  }
  if (remedies.enabled) {
    if (progress) progress("remedies: sppmi");
    FitOptions fs;
    fs.kind = ModelKind::kSppmi;
    fs.rank = rank;
    fs.sppmi = remedies.sppmi;
    fs.sppmi.truncate_rank = true;  // a comparison at the shared rank: use the positive part
    m.sppmi = fit_model(data, fs, ctx);
    if (progress) progress("remedies: cosine-trained model");
    CosineOptions co;
    co.epochs = remedies.cosine_epochs;
    m.cosine = fit_cosine_model(data, m.eq2, co, ctx);
  }
  // Last, so that SPPMI's copy of the kept XᵀX is gone before this one is made.
  if (X.cols() <= kRawFromGramItems) m.cooccurrences = data.gram(ctx);
  return m;
}

std::vector<std::string> VariantModels::warnings() const {
  std::vector<std::string> all, said;
  const auto add = [&](const std::string& label, const Model* m) {
    // Only a model left with one dimension: there every cosine and projected similarity is ±1 and
    // its rows of the comparison mean nothing. Fewer dimensions than the rank is what the paper's
    // λ for eq2 does on purpose (the main job's eq2 keeps 7 of 50), not a fault of the run.
    if (m == nullptr || kept_dimensions(m->options.kind, m->singular_values, m->options.lambda) != 1) return;
    for (const std::string& w : m->warnings) {
      // The cosine-trained model carries its eq2 warm start's warning: said once, for eq2.
      if (std::find(said.begin(), said.end(), w) != said.end()) continue;
      said.push_back(w);
      all.push_back(fmt::format("{}: {}", label, w));
    }
  };
  add("eq1", eq1.empty() ? nullptr : &eq1.front());  // the gauges share one spectrum and λ: one is enough
  add("eq2", &eq2);
  add("ease", ease ? &*ease : nullptr);
  add("eq1 ips", eq1_ips ? &*eq1_ips : nullptr);
  add("eq2 ips", eq2_ips ? &*eq2_ips : nullptr);
  add("eq2 standardize", eq2_standardized ? &*eq2_standardized : nullptr);
  add("cosine", cosine ? &*cosine : nullptr);
  // SPPMI has no λ: its warning is of a rank cut to the positive eigenvalues, always worth saying
  // (the comparison's rank is then not this model's).
  if (sppmi) {
    for (const std::string& w : sppmi->warnings) all.push_back(fmt::format("sppmi: {}", w));
  }
  return all;
}

std::unique_ptr<SimilaritySpace> variant_space(const Variant& v, const VariantModels& models,
                                               const SparseView& X, const Context& ctx) {
  const ThreadScope thread_scope(ctx);
  const Measure measure = parse_measure(v.measure);
  if (v.model == "raw") {
    if (X.cols() <= kRawFromGramItems) {
      return make_explicit_space(cosine_from_gram(models.cooccurrences.size() != 0 ? models.cooccurrences
                                                                                    : gram_matrix(X, ctx)));
    }
    return make_similarity_space(models.eq2, X, Side::kItems, Measure::kRaw, ctx);
  }
  auto remedy = [&](const std::optional<Model>& model) {
    if (!model) throw InvalidArgument(fmt::format("the variant '{}' needs the remedies enabled", v.name));
    return make_similarity_space(*model, X, Side::kItems, measure, ctx);
  };
  if (v.weighting == "ips") return remedy(v.model == "eq1" ? models.eq1_ips : models.eq2_ips);
  if (v.weighting == "standardize") return remedy(models.eq2_standardized);
  if (v.model == "sppmi") return remedy(models.sppmi);
  if (v.model == "cosine") return remedy(models.cosine);
  if (v.model == "eq2") return make_similarity_space(models.eq2, X, Side::kItems, measure, ctx);
  if (v.model == "ease") {
    if (!models.ease) throw InvalidArgument("the EASE variant needs a λ for EASE");
    return make_similarity_space(*models.ease, X, Side::kItems, measure, ctx);
  }
  if (v.model == "eq1") {
    const std::string gauge = v.gauge.empty() ? "symmetric" : v.gauge;  // projected: any gauge
    for (const Model& m : models.eq1) {
      if (m.options.gauge.name == gauge) return make_similarity_space(m, X, Side::kItems, measure, ctx);
    }
  }
  throw InvalidArgument(fmt::format("no model for variant '{}'", v.name));
}

}  // namespace linsim
