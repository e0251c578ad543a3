#include "linsim/models/cosine_model.h"

#include <chrono>
#include <cmath>
#include <algorithm>
#include <deque>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "linalg/products.h"
#include "linsim/core/context.h"
#include "linsim/core/error.h"
#include "linsim/linalg/normalize.h"
#include "linsim/linalg/spectrum.h"

namespace linsim {

void CosineOptions::validate() const {
  // At most int's range, as model.json's integers are read back (was: a fit with --epochs 3000000000
  // wrote a model that every later command refused to load).
  if (epochs < 1 || epochs > std::numeric_limits<int>::max()) {
    throw InvalidArgument(fmt::format("--epochs must be in [1, {}], got {}", std::numeric_limits<int>::max(), epochs));
  }
  if (!(tol >= 0) || !std::isfinite(tol)) throw InvalidArgument(fmt::format("--tol must be >= 0, got {}", tol));
  if (memory < 1) throw InvalidArgument(fmt::format("L-BFGS memory must be >= 1, got {}", memory));
}

namespace {

// Row norms, with rows below the library's zero-norm floor (MATH.md M4) reported as 0: those
// rows stay zero under normalisation and get no gradient, exactly as normalize_rows treats them.
// The row operations below run column by column over the column-major n × k blocks (vectorised,
// contiguous) rather than row by row (strided, single-threaded: several per cent of a fit on
// 20,000 × 50 blocks while the other core waited).
Vector safe_row_norms(const Eigen::Ref<const Matrix>& F) {
  Vector n = F.rowwise().norm();
  const double floor = kRelativeNormFloor * (n.size() ? n.maxCoeff() : 0.0);
  for (Index r = 0; r < n.size(); ++r) {
    if (!(n(r) > floor)) n(r) = 0;
  }
  return n;
}

// diag(1/‖F_r‖) M, with the rows reported as zero set to zero (whatever M holds there).
Matrix scaled_by_inverse_norms(const Vector& norms, Matrix M) {
  const Vector inverse = norms.unaryExpr([](double x) { return x > 0 ? 1.0 / x : 0.0; });
  M = inverse.asDiagonal() * M;
  for (Index r = 0; r < norms.size(); ++r) {
    if (!(norms(r) > 0)) M.row(r).setZero();
  }
  return M;
}

Matrix normalized(const Eigen::Ref<const Matrix>& F, const Vector& norms) {
  return scaled_by_inverse_norms(norms, F);
}

// Back-propagates a gradient G with respect to N(F) to F: (G_r − f̃_r ⟨f̃_r, G_r⟩) / ‖F_r‖.
Matrix normalization_backward(const Matrix& Fn, const Vector& norms, const Matrix& G) {
  const Vector along = Fn.cwiseProduct(G).rowwise().sum();
  return scaled_by_inverse_norms(norms, G - along.asDiagonal() * Fn);
}

}  // namespace

double cosine_objective(const DataMatrix& X, const Matrix& A, const Matrix& B, Matrix* gA, Matrix* gB,
                        double* scale) {
  const Index k = A.cols();
  const Vector qn = safe_row_norms(B);
  const Matrix Qt = normalized(B, qn);
  // X A and X Q̃ as one product X [A Q̃]: one pass over X instead of two (on dense data the
  // GEMM packs X once); the same sums up to rounding.
  Matrix AQ(A.rows(), 2 * k);
  AQ << A, Qt;
  const Matrix XAQ = X.times(AQ);
  const auto P = XAQ.leftCols(k);
  const auto XQ = XAQ.rightCols(k);                  // n × k
  const Vector pn = safe_row_norms(P);
  const Matrix Pt = normalized(P, pn);
  const Matrix PP = transpose_times(Pt, Pt);         // k × k
  const Matrix QQ = transpose_times(Qt, Qt);
  const double t = Pt.cwiseProduct(XQ).sum();
  const double q = PP.cwiseProduct(QQ).sum();
  const double x2 = X.squared_norm();
  const double s = q > 0 ? t / q : 0.0;
  if (scale) *scale = s;
  const double f = q > 0 ? x2 - t * t / q : x2;
  if (gA || gB) {
    // ∂/∂P̃ = −2s XQ̃ + 2s² P̃ (Q̃ᵀQ̃);  ∂/∂Q̃ = −2s XᵀP̃ + 2s² Q̃ (P̃ᵀP̃)  (envelope: s = s*)
    const Matrix GPt = -2.0 * s * XQ + 2.0 * s * s * times(Pt, QQ);
    const Matrix GP = normalization_backward(Pt, pn, GPt);
    // One transposed product for both Xᵀ P̃ and Xᵀ ∂f/∂P.
    Matrix stacked(P.rows(), 2 * P.cols());
    stacked << Pt, GP;
    const Matrix XtS = X.transpose_times(stacked);
    if (gB) {
      const Matrix GQt = -2.0 * s * XtS.leftCols(k) + 2.0 * s * s * times(Qt, PP);
      *gB = normalization_backward(Qt, qn, GQt);
    }
    if (gA) *gA = XtS.rightCols(k);
  }
  return f;
}

namespace {

// L-BFGS on f from (A0, B0). f · 2^unit_exponent is f in the caller's units (progress only).
CosineFit minimise(const DataMatrix& X, Matrix A0, Matrix B0, const CosineOptions& options, const ProgressFn& progress,
                   int unit_exponent) {
  const auto start = std::chrono::steady_clock::now();
  // f is invariant under A → cA and under rescaling rows of B, and its gradient scales inversely
  // with those scales. Starting from unit rows of B and ‖A‖_F = ‖B‖_F puts both blocks on a
  // comparable scale (on the M2 warm start ‖A‖ is ~1e-3 ‖B‖ and its gradient ~1e3 times larger),
  // which L-BFGS's single initial scaling needs. The objective is unchanged.
  B0 = normalize_rows(B0);
  const double a_norm = A0.norm();
  if (a_norm > 0) A0 *= B0.norm() / a_norm;
  const Index p = A0.rows();
  const Index k = A0.cols();
  const Index dim = 2 * p * k;
  // θ = [vec(A); vec(B)]
  Vector theta(dim);
  theta.head(p * k) = Eigen::Map<const Vector>(A0.data(), p * k);
  theta.tail(p * k) = Eigen::Map<const Vector>(B0.data(), p * k);
  Matrix gA, gB;
  Convergence conv;
  auto evaluate = [&](const Vector& th, Vector& grad, double* s) {
    const Eigen::Map<const Matrix> A(th.data(), p, k);
    const Eigen::Map<const Matrix> B(th.data() + p * k, p, k);
    const double f = cosine_objective(X, A, B, &gA, &gB, s);
    grad.resize(dim);
    grad.head(p * k) = Eigen::Map<const Vector>(gA.data(), p * k);
    grad.tail(p * k) = Eigen::Map<const Vector>(gB.data(), p * k);
    ++conv.evaluations;
    return f;
  };
  Vector g;
  double s = 0;
  double f = evaluate(theta, g, &s);
  if (!std::isfinite(f)) throw Error("cosine model: the objective is not finite at the warm start");
  conv.initial_objective = f;
  conv.history.push_back(f);
  std::deque<Vector> S, Y;
  std::deque<double> rho;
  conv.reason = "epoch limit reached";
  conv.epoch_limit = true;  // until another rule stops the loop
  for (Index it = 0; it < options.epochs; ++it) {
    interruption_point();
    // Two-loop recursion: d = −H g.
    Vector d = -g;
    std::vector<double> alpha(S.size());
    for (Index j = static_cast<Index>(S.size()) - 1; j >= 0; --j) {
      alpha[j] = rho[j] * S[j].dot(d);
      d -= alpha[j] * Y[j];
    }
    if (!S.empty()) d *= S.back().dot(Y.back()) / Y.back().squaredNorm();
    for (size_t j = 0; j < S.size(); ++j) {
      const double beta = rho[j] * Y[j].dot(d);
      d += (alpha[j] - beta) * S[j];
    }
    double slope = g.dot(d);
    double step = 1.0;
    if (!(slope < 0) || S.empty()) {
      // No curvature yet (or not a descent direction): steepest descent scaled to move θ by ~1 %.
      S.clear();
      Y.clear();
      rho.clear();
      d = -g;
      slope = g.dot(d);
      const double gn = g.norm();
      step = gn > 0 ? 0.01 * std::max(theta.norm(), 1.0) / gn : 1.0;
    }
    if (!(slope < 0)) {
      conv.converged = true;
      conv.reason = "zero gradient";
      conv.epoch_limit = false;
      break;
    }
    const double predicted = -step * slope;  // the first step's decrease to first order
    // Backtracking Armijo: f(θ + a d) ≤ f(θ) + 1e-4 a gᵀd.
    Vector theta_new, g_new;
    double f_new = f;
    double s_new = s;
    bool accepted = false;
    for (int tries = 0; tries < 40; ++tries) {
      theta_new = theta + step * d;
      f_new = evaluate(theta_new, g_new, &s_new);
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      // At a minimum to machine precision the decrease the first step predicts is below what f's
      // rounding can show; at an ill-conditioned point (the objective has no minimiser: MATH.md
      // M5) the line search fails with much left to gain, and that is no convergence.
      conv.converged = predicted <= options.tol * std::abs(f);
      conv.reason = fmt::format("the line search found no decrease along its direction in 40 halvings (the first "
                                "step predicted a relative decrease of {:.1e}{})",
                                predicted / std::max(std::abs(f), 1e-300),
                                conv.converged ? ", below tol: converged" : ", not below tol: stopped there");
      conv.epoch_limit = false;
      break;
    }
    const Vector sv = theta_new - theta;
    const Vector yv = g_new - g;
    const double sy = sv.dot(yv);
    if (sy > 1e-12 * sv.norm() * yv.norm()) {
      S.push_back(sv);
      Y.push_back(yv);
      rho.push_back(1.0 / sy);
      if (static_cast<Index>(S.size()) > options.memory) {
        S.pop_front();
        Y.pop_front();
        rho.pop_front();
      }
    }
    const double decrease = f - f_new;
    theta = std::move(theta_new);
    g = std::move(g_new);
    f = f_new;
    s = s_new;
    conv.iterations = it + 1;
    conv.history.push_back(f);
    if (progress && (it % 10 == 0 || it + 1 == options.epochs)) {
      progress(fmt::format("cosine model: iteration {}/{}, objective {:.6g}", it + 1, options.epochs,
                           std::ldexp(f, unit_exponent)));
    }
    if (decrease <= options.tol * std::max(std::abs(f), 1e-300)) {
      conv.converged = true;
      conv.reason = fmt::format("relative decrease below tol = {}", options.tol);
      conv.epoch_limit = false;
      break;
    }
  }
  conv.final_objective = f;
  conv.scale = s;
  conv.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CosineFit fit;
  fit.A = Eigen::Map<const Matrix>(theta.data(), p, k);
  fit.B = Eigen::Map<const Matrix>(theta.data() + p * k, p, k);
  fit.convergence = std::move(conv);
  return fit;
}

}  // namespace

CosineFit fit_cosine(const DataMatrix& X, Matrix A0, Matrix B0, const CosineOptions& options, const Context& ctx,
                     const ProgressFn& progress) {
  options.validate();
  if (A0.rows() != X.cols() || B0.rows() != X.cols() || A0.cols() != B0.cols()) {
    throw InvalidArgument("cosine model: the warm start does not match the data");
  }
  const ThreadScope thread_scope(ctx);
  // f(2^e X) = 4^e f(X) at every (A, B), its gradient likewise, and every test of the optimiser
  // compares such quantities with each other: on data scaled by a power of two (exact) the
  // iterates are the same, bit for bit. The slope gᵀd grows as the fourth power of the data,
  // so values beyond ~1e77 overflowed it (and below ~1e-77 underflowed it), and the fit stopped
  // at its start reporting convergence. Outside the solvers' window the fit runs on the copy
  // whose largest |entry| lies in [1/2, 1), as top_spectrum's solve does (docs/math.md M0).
  const int e = solve_scale_exponent(X);
  if (e == 0) return minimise(X, std::move(A0), std::move(B0), options, progress, 0);
  const double up = std::ldexp(1.0, e);
  const SparseMatrix scaled = X.sparse() * up;
  CosineFit fit = minimise(DataMatrix(scaled, X.centered() ? Vector(X.center() * up) : Vector()), std::move(A0),
                           std::move(B0), options, progress, -2 * e);
  Convergence& c = fit.convergence;  // back in the data's units: f as their square, s as them
  c.initial_objective = std::ldexp(c.initial_objective, -2 * e);
  c.final_objective = std::ldexp(c.final_objective, -2 * e);
  for (double& f : c.history) f = std::ldexp(f, -2 * e);
  c.scale = std::ldexp(c.scale, -e);
  return fit;
}

}  // namespace linsim
