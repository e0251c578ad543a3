#include "linsim/linalg/spectrum.h"

#include <Spectra/MatOp/DenseSymMatProd.h>
#include <Spectra/SymEigsSolver.h>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "linalg/gemm.h"
#include "linalg/orthogonalize.h"
#include "linsim/core/error.h"
#include "linsim/core/memory.h"
#include "linsim/core/random.h"
#include "linsim/linalg/block_krylov.h"
#include "linsim/linalg/gram.h"

namespace linsim {
void fix_signs(Matrix& V, Matrix* with) {
  if (V.rows() == 0) return;
  for (Index c = 0; c < V.cols(); ++c) {
    // Entries equal in exact arithmetic (v = (e_i − e_j)/√2 of two items alike) come out with
    // magnitudes a rounding apart, which one computation orders one way and another (a different
    // gauge, solver or thread count) the other: entries within kSignTieTolerance of the largest
    // count as tied, and the first of them decides.
    const double threshold = (1.0 - kSignTieTolerance) * V.col(c).cwiseAbs().maxCoeff();
    Index arg = 0;
    while (arg + 1 < V.rows() && !(std::abs(V(arg, c)) >= threshold)) ++arg;
    if (V(arg, c) < 0) {
      V.col(c) *= -1.0;
      if (with != nullptr && with->size() > 0) with->col(c) *= -1.0;
    }
  }
}

namespace {

// The most memory auto lets the dense Gram route take: half of what is available.
double gram_memory_budget() { return 0.5 * available_memory_bytes(); }

Vector sigma_from_eigenvalues(const Vector& eig) {
  return eig.cwiseMax(0.0).cwiseSqrt();
}

}  // namespace

Solver parse_solver(const std::string& name) {
  if (name == "auto") return Solver::kAuto;
  if (name == "gram") return Solver::kGram;
  if (name == "lanczos") return Solver::kLanczos;
  if (name == "randomized") return Solver::kRandomized;
  throw InvalidArgument(fmt::format("unknown solver '{}' (valid: auto, gram, randomized, lanczos)", name));
}

const char* solver_name(Solver solver) {
  switch (solver) {
    case Solver::kAuto: return "auto";
    case Solver::kGram: return "gram";
    case Solver::kLanczos: return "lanczos";
    case Solver::kRandomized: return "randomized";
  }
  return "?";
}

double spectrum_bytes(Index n, Index p, Index k, Solver solver) {
  const double pp = static_cast<double>(p) * static_cast<double>(p);
  switch (solver) {
    // G, the eigen-solver's working copy and its eigenvectors.
    case Solver::kGram: return 3.0 * 8.0 * pp;
    case Solver::kLanczos: {
      const double ncv = static_cast<double>(std::min(p, std::max<Index>(2 * k + 1, 20)));
      return 8.0 * (static_cast<double>(p) * 2.0 * ncv + 3.0 * ncv * ncv + static_cast<double>(n));
    }
    case Solver::kRandomized: return block_krylov_bytes(n, p, k, BlockKrylovOptions{});
    case Solver::kAuto: {
      // top_spectrum's auto may take either route when the Gram route fits its memory budget.
      const double gram = spectrum_bytes(n, p, k, Solver::kGram);
      const double krylov = spectrum_bytes(n, p, k, Solver::kRandomized);
      return gram <= gram_memory_budget() ? std::max(gram, krylov) : krylov;
    }
  }
  return 0;
}

Route choose_route(const SparseView& X, Index k, Solver requested, const Communicator& comm) {
  if (requested != Solver::kAuto) return {requested, "requested"};
  const Index n = X.rows();
  const Index p = X.cols();
  Route route;
  // Rough cost model (seconds on this class of machine, 2 cores): the dense route pays for XᵀX
  // and a p × p eigen-decomposition (dense_top_eigen_seconds: LAPACK's is ~7× Eigen's, so with
  // and without OpenBLAS auto may take different routes, each within the same tolerance); the
  // block Krylov solver ~14 k vector products with XᵀX (measured at k = 100 on 138,000 × 20,000
  // simulated data) at ~0.5 ns per nonzero and vector, reorthogonalisation included.
  // Across processes: the estimates summed over them (each does its share of the sparse work in
  // parallel), and the Gram route only where it fits every process's budget, so that every
  // process takes the same route.
  const double ranks = comm.size();
  const double gram_s = comm.sum(gram_seconds_estimate(X) + dense_top_eigen_seconds(p)) / ranks;
  const double global_nnz = comm.sum(static_cast<double>(X.nonZeros()));
  const double krylov_s = 14.0 * static_cast<double>(k) * global_nnz / ranks * kKrylovSecondsPerNonzeroAndVector;
  const double gram_bytes = spectrum_bytes(n, p, k, Solver::kGram);
  const double budget = gram_memory_budget();
  const bool gram_fits = comm.all(gram_bytes <= budget);
  if (p <= 500) {
    route.solver = Solver::kGram;
    route.reason = fmt::format("p = {} <= 500: a dense decomposition is cheap and exact", p);
  } else if (!gram_fits) {
    route.solver = Solver::kRandomized;
    route.reason =
        fmt::format("the dense Gram route needs {} (half the available memory is {}): block Krylov on V -> X^T(XV)",
                    format_bytes(gram_bytes), format_bytes(budget));
  } else if (4 * k > p) {
    route.solver = Solver::kGram;
    route.reason = fmt::format("rank {} > p/4: an iterative solver gains nothing", k);
  } else if (gram_s < krylov_s) {
    route.solver = Solver::kGram;
    route.reason =
        fmt::format("estimated {:.2g} s for the dense Gram route vs {:.2g} s for block Krylov", gram_s, krylov_s);
  } else {
    route.solver = Solver::kRandomized;
    route.reason = fmt::format(
        "estimated {:.2g} s for block Krylov on V -> X^T(XV) vs {:.2g} s for the dense Gram route", krylov_s, gram_s);
  }
  return route;
}

Spectrum spectrum_from_gram(const Matrix& G, Index k) {
  Spectrum s;
  Vector values;
  dense_top_eigen(G, k, values, s.V);
  s.sigma = sigma_from_eigenvalues(values);
  fix_signs(s.V);
  s.solver = "gram";
  return s;
}

Spectrum top_spectrum(const SparseView& X, Index k, Solver solver, const Context& ctx) {
  return top_spectrum(DataMatrix(X), k, solver, ctx);
}

namespace {

// docs/math.md M0, "Scale". The solvers' arithmetic is safe for data whose largest |entry| is 2^E
// with E in this window: G's eigenvalues then lie far from double's underflow and overflow even
// after the block solver's Cholesky QR squares them, and θ_1 ≥ (largest |entry|)² (uncentred;
// about that for centred data, whose largest |entry| of X_w is at least half the largest of Y and
// centre) stays well above the absolute floor ε^(2/3) of Spectra's convergence test (below it,
// Lanczos stops early and its pairs fail the check below). Outside it (values of 1e-80 gave the block solver σ off by 20–100 % with a
// residual of 0, values of 1e-8 or 1e100 made Lanczos refuse) the solve runs on a copy scaled by
// a power of two, which is exact, so that the largest |entry| lies in [1/2, 1). The window is
// [2^-8, 2^61): the exponent of the largest |entry| from -8 to 60.
constexpr int kSafeExponentLow = -8;
constexpr int kSafeExponentHigh = 60;

// The binary exponent of the largest |entry| over every process: of its largest, `largest` here
// (kNoExponent: no process has a positive finite one).
constexpr int kNoExponent = -1'000'000;
int largest_exponent_across(double largest, const Communicator& comm) {
  const double overall = comm.max(largest > 0 && std::isfinite(largest) ? largest : 0.0);
  return overall > 0 ? std::ilogb(overall) : kNoExponent;
}

// This process's largest |entry| of Y and of the centre: what the solve scales by.
double largest_entry(const DataMatrix& data) {
  const SparseView& Y = data.sparse();
  double largest = 0;  // a process may hold no rows (and Eigen's maxCoeff of nothing is undefined)
  if (Y.nonZeros() > 0) largest = Eigen::Map<const Vector>(Y.valuePtr(), Y.nonZeros()).cwiseAbs().maxCoeff();
  if (data.centered()) largest = std::max(largest, data.center().cwiseAbs().maxCoeff());
  return largest;
}

bool outside_window(int exponent) { return exponent < kSafeExponentLow || exponent > kSafeExponentHigh; }

}  // namespace

int solve_scale_exponent(const DataMatrix& data, const Communicator& comm) {
  const int exponent = largest_exponent_across(largest_entry(data), comm);  // in [2^exponent, 2^(exponent+1))
  if (exponent == kNoExponent || !outside_window(exponent)) return 0;
  // 2^e and 2^-e must both be finite (fit_model refuses values below 2^-450 before this; a
  // caller of the library may not have).
  if (exponent < -1022 || exponent > 1021) {
    throw DataError(
        fmt::format("the data's largest |value| is 2^{}: beyond what the solvers can scale into their range", exponent));
  }
  return -exponent - 1;
}

bool solves_on_scaled_copy(double largest, const Communicator& comm) {
  const int exponent = largest_exponent_across(largest, comm);
  return exponent != kNoExponent && outside_window(exponent);
}

bool solves_on_scaled_copy(const DataMatrix& data, const Communicator& comm) {
  return solves_on_scaled_copy(largest_entry(data), comm);
}

namespace {

void check_spectrum_arguments(Index k, Index p, double tol) {
  if (k < 1 || k > p) {
    throw InvalidArgument(fmt::format("rank {} is outside [1, {}] (the number of items)", k, p));
  }
  if (!(tol >= kMinSolverTol) || !(tol < 1)) {
    throw InvalidArgument(fmt::format("the solver tolerance must be in [{:g}, 1), got {}", kMinSolverTol, tol));
  }
}

// How far Lanczos's k pairs (V, values), with SV = S V, are from eigenpairs: the largest entry of
// VᵀV − I, and the largest residual ‖S v_i − θ_i v_i‖ / max(|θ_i|, floor). Spectra's convergence
// test looks at the recurrence only; on data of lower rank than asked for it can return copies
// of one pair ("ghosts"). Both Lanczos routes check their pairs with it.
struct PairErrors {
  double orthogonality = 0;
  double residual = 0;
};
PairErrors pair_errors(const Matrix& V, const Vector& values, const Matrix& SV, double floor) {
  const Index k = V.cols();
  PairErrors e;
  e.orthogonality = (V.transpose() * V - Matrix::Identity(k, k)).cwiseAbs().maxCoeff();
  for (Index i = 0; i < k; ++i) {
    e.residual = std::max(e.residual, (SV.col(i) - values(i) * V.col(i)).norm() / std::max(std::abs(values(i)), floor));
  }
  return e;
}

// A symmetric matrix's product with a block of vectors (every process gets the same result).
using BlockProduct = std::function<Matrix(const Matrix&)>;

// Whether a symmetric matrix S has an eigenvalue above θ_k, the smallest of the k pairs found,
// outside the found vectors V. An iterative solver started from b random vectors (block Krylov:
// b = 4 to 16; Lanczos: 1) sees at most b copies of an eigenvalue repeated exactly, as data of
// identical disconnected communities have: ten copies of σ_1 came out as eight, with two smaller
// σ in place of the rest, and every residual small (exit 0). A fresh random block of 8, kept
// orthogonal to V, spans with S times it, S² times it, … a block Krylov space of `max_blocks`
// blocks outside V (32 dimensions at 4 blocks); a Rayleigh–Ritz step there finds what V misses
// from the top: the largest Ritz value then exceeds θ_k. A Krylov space, unlike powers of S, is
// the same for S and S + cI, so eigenvalues of S that are negative and large (an SPPMI
// matrix's) do not hide a missed positive one. What it finds depends on the gap: a missed eigenvalue λ above the rest of the
// complement's spectrum [a, b] is amplified by the Chebyshev polynomial of the space's degree at
// 1 + 2(λ − b)/(b − a), so a small gap over a wide spread needs more `blocks` (vector products:
// 8 per block, the same on every process: one seed).
bool misses_larger_eigenvalues(const BlockProduct& product, const Matrix& V, double theta_1, double theta_k,
                               double tol, Index max_blocks) {
  const Index p = V.rows(), k = V.cols();
  const Index b = std::min<Index>(8, p - k);
  if (b <= 0) return false;  // V spans R^p
  const Index blocks = std::clamp<Index>((p - k) / b, 1, max_blocks);
  Matrix basis(p, k + blocks * b);  // [V, Q_0, …]: Q_j orthonormal and orthogonal to what precedes it
  basis.leftCols(k) = V;
  Matrix SQ(p, blocks * b);
  Rng rng(0x6d69737365645f65ULL, 1);
  Matrix Z(p, b);
  for (Index i = 0; i < Z.size(); ++i) Z.data()[i] = rng.normal();
  for (Index j = 0; j < blocks; ++j) {
    const Index done = k + j * b;
    for (int pass = 0; pass < 2; ++pass) {  // the second for the directions a rank-deficient Z leaves arbitrary
      project_out(basis.leftCols(done), Z);
      Eigen::HouseholderQR<Matrix> qr(Z);
      Z = qr.householderQ() * Matrix::Identity(p, b);
    }
    basis.middleCols(done, b) = Z;
    SQ.middleCols(j * b, b) = product(Z);
    Z = SQ.middleCols(j * b, b);
  }
  const Matrix T = basis.rightCols(blocks * b).transpose() * SQ;
  const Vector ritz = Eigen::SelfAdjointEigenSolver<Matrix>(0.5 * (T + T.transpose()), Eigen::EigenvaluesOnly)
                          .eigenvalues();
  // Beyond the solver's tolerance, and beyond rounding of the products (of order ε ‖S‖, which is
  // all there is outside V when S has rank below k).
  const double scale = std::max({std::abs(theta_1), std::abs(ritz(0)), std::abs(ritz(ritz.size() - 1))});
  return ritz(ritz.size() - 1) > theta_k + 10.0 * tol * std::abs(theta_k) + 1e-10 * scale;
}

// The same for G = X_wᵀX_w, through the block solver's own product, summed over processes: four
// blocks, 32 vector products (1–4 % of (a)'s and (d)'s in bench/README.md). G's spectrum decays
// from θ_1 to near 0, so a missed copy of a top eigenvalue stands far above the rest.
bool misses_larger_eigenvalues(const DataMatrix& data, const Matrix& V, double theta_1, double theta_k, double tol,
                               const Communicator& comm) {
  const auto product = [&](const Matrix& Z) {
    Matrix W = data.gram_times_rows(RowMatrix(Z), false);
    comm.sum(W.data(), static_cast<std::size_t>(W.size()));
    return W;
  };
  return misses_larger_eigenvalues(product, V, theta_1, theta_k, tol, 4);
}

}  // namespace

Spectrum top_spectrum(const DataMatrix& data, Index k, Solver solver, const Context& ctx,
                      const ProgressFn& progress, double tol, const Communicator& comm) {
  check_spectrum_arguments(k, data.cols(), tol);
  return top_spectrum(data, k, choose_route(data.sparse(), k, solver, comm), ctx, progress, tol, comm);
}

Spectrum top_spectrum(const DataMatrix& data, Index k, const Route& chosen, const Context& ctx,
                      const ProgressFn& progress, double tol, const Communicator& comm) {
  const ThreadScope thread_scope(ctx);
  const SparseView& X = data.sparse();
  const Index p = X.cols();
  check_spectrum_arguments(k, p, tol);
  const Index ncv = std::min(p, std::max<Index>(2 * k + 1, 20));
  const Route route = chosen.solver == Solver::kAuto ? choose_route(X, k, Solver::kAuto, comm) : chosen;
  if (const int e = solve_scale_exponent(data, comm); e != 0) {
    const double up = std::ldexp(1.0, e);
    const SparseMatrix scaled = X * up;
    Spectrum s = top_spectrum(DataMatrix(scaled, data.centered() ? Vector(data.center() * up) : Vector()), k, route,
                              ctx, progress, tol, comm);
    const double down = std::ldexp(1.0, -e);
    s.sigma *= down;
    if (s.XV.size() > 0) s.XV *= down;
    s.reason += fmt::format("; solved on the values scaled by 2^{} (exact), their largest |value| being outside "
                            "[2^{}, 2^{})",
                            e, kSafeExponentLow, kSafeExponentHigh + 1);
    return s;
  }
  const Solver solver = route.solver;
  const std::string& reason = route.reason;
  if (solver == Solver::kLanczos && comm.distributed()) {
    throw InvalidArgument("--solver lanczos runs in one process only; across processes use randomized or gram");
  }
  if (solver == Solver::kLanczos && ncv <= k) {
    throw InvalidArgument(fmt::format(
        "--solver lanczos needs rank < p = {} with room for {} Lanczos vectors; use --solver gram", p, 2 * k + 1));
  }
  if (solver == Solver::kGram) {
    Matrix G = data.gram(ctx);  // this process's share: Σ_r of the shares is G (gram.h, centring included)
    comm.sum(G.data(), static_cast<std::size_t>(G.size()));
    Spectrum s = spectrum_from_gram(G, k);
    s.reason = reason;
    return s;
  }
  Spectrum s;
  if (solver == Solver::kRandomized) {
    BlockKrylovOptions options;
    options.tol = tol;
    BlockKrylovResult r = block_krylov_eigs(data, k, options, ctx, progress, comm);
    // An eigenvalue repeated more times than the block has vectors can be missed: solved again
    // with blocks twice as wide (at most k), which see twice as many copies.
    std::string retried;
    while (!r.spans_all && misses_larger_eigenvalues(data, r.vectors, r.values(0), r.values(k - 1), tol, comm)) {
      if (r.block >= k) {
        throw Error(fmt::format("the block Krylov solver missed an eigenvalue of XᵀX above its {}th even with blocks "
                                "of {} vectors (an eigenvalue repeated more times than that): use --solver gram",
                                k, r.block));
      }
      options.block = std::min(k, 2 * r.block);
      retried += fmt::format("; blocks of {} missed an eigenvalue above the {}th (a repeated one): solved again with "
                             "blocks of {}",
                             r.block, k, options.block);
      if (progress) progress(fmt::format("a repeated eigenvalue was missed: solving again with blocks of {}", options.block));
      r = block_krylov_eigs(data, k, options, ctx, progress, comm);
    }
    s.sigma = sigma_from_eigenvalues(r.values);
    s.V = r.vectors;
    s.XV = std::move(r.data_times_vectors);
    s.solver = "randomized";
    s.reason = fmt::format("{}; block {}, basis {}, {} vector products ({} on float32 blocks), worst relative residual "
                           "{:.1e} (tol {:.0e}){}",
                           reason, r.block, r.basis, r.products, r.float32_products, r.residuals.maxCoeff(), tol,
                           retried);
  } else {
    GramOperator op(data);
    Spectra::SymEigsSolver<GramOperator> eigs(op, k, ncv);
    eigs.init();  // Spectra's fixed-seed start vector: deterministic
    // On data of rank below the ncv Lanczos vectors the recurrence breaks down, and Spectra's
    // tridiagonal step may throw its own words ("TridiagEigen: eigen decomposition failed").
    try {
      eigs.compute(Spectra::SortRule::LargestAlge, 1000, tol);
    } catch (const Error&) {
      throw;  // the library's own (an interruption, memory)
    } catch (const std::runtime_error& e) {
      throw Error(fmt::format("Lanczos broke down ({}): the data may have rank below the {} Lanczos vectors it builds; "
                              "use --solver randomized or gram",
                              e.what(), ncv));
    }
    if (eigs.info() != Spectra::CompInfo::Successful) {
      throw Error(fmt::format("Lanczos did not converge for rank {} (p = {}); retry with --solver gram", k, p));
    }
    // Spectra's convergence test looks at the Lanczos recurrence only; on data of lower rank than
    // asked for it can return copies of one pair ("ghosts"). Checked here with k true products:
    // the vectors must be orthonormal and each pair's residual within the tolerance.
    const Vector values = eigs.eigenvalues();
    const Matrix V = eigs.eigenvectors();
    const PairErrors errors = pair_errors(V, values, op.apply(V), 1e-6 * std::max(values(0), 0.0));
    if (!(errors.orthogonality <= 1e-6) || !(errors.residual <= 10 * tol)) {
      throw Error(fmt::format("Lanczos returned pairs that are not eigenpairs of XᵀX (vectors orthonormal to {:.1e}, "
                              "worst relative residual {:.1e} for tol {:.0e}; the data may have rank below the {} "
                              "Lanczos vectors it builds): use --solver randomized or gram",
                              errors.orthogonality, errors.residual, tol, ncv));
    }
    // Lanczos, from one vector, finds one copy of an eigenvalue repeated exactly (in exact
    // arithmetic; rounding may add some), and gives smaller ones in place of the others.
    if (misses_larger_eigenvalues(data, V, values(0), values(k - 1), tol, comm)) {
      throw Error(fmt::format("Lanczos missed an eigenvalue of XᵀX above its {}th (a repeated one: it finds one copy "
                              "of each): use --solver randomized or gram",
                              k));
    }
    s.sigma = sigma_from_eigenvalues(values);
    s.V = V;
    s.solver = "lanczos";
    s.reason = fmt::format("{}; tol {:.0e}", reason, tol);
  }
  fix_signs(s.V, &s.XV);
  return s;
}

Matrix take_data_times_vectors(Spectrum& s, const DataMatrix& X) {
  if (s.XV.size() > 0) return std::move(s.XV);
  return X.times(s.V);
}

SymmetricEigen top_eigenpairs(const Matrix& S, Index k, Solver solver, const Context& ctx) {
  const ThreadScope thread_scope(ctx);
  const Index p = S.rows();
  if (k < 1 || k > p) throw InvalidArgument(fmt::format("rank {} is outside [1, {}]", k, p));
  const Index ncv = std::min(p, std::max<Index>(2 * k + 1, 20));
  SymmetricEigen out;
  const bool automatic = solver == Solver::kAuto;
  if (automatic) {
    // Lanczos pays ~2 ncv dense products of p² each (one thread) and a dense ncv-sized
    // eigenproblem per restart; the dense decomposition ~p³ (dense_top_eigen_seconds).
    if (p <= 4000 || 10 * k > p || ncv <= k) {
      solver = Solver::kGram;
      out.reason = fmt::format("p = {}, k = {}: a dense decomposition is cheap enough", p, k);
    } else {
      solver = Solver::kLanczos;
      out.reason = fmt::format("p = {} > 4000 and k = {} <= p/10: Lanczos on v -> S v", p, k);
    }
  } else if (solver == Solver::kRandomized) {  // block Krylov works on a data matrix's operator, not on S
    solver = Solver::kLanczos;
    out.reason = "randomized requested: the block Krylov solver needs a data matrix, so Lanczos on the dense matrix";
  } else {
    out.reason = "requested";
  }
  if (solver == Solver::kGram) {
    dense_top_eigen(S, k, out.values, out.vectors);
    out.solver = "dense";
  } else {
    if (ncv <= k) throw InvalidArgument(fmt::format("Lanczos needs rank < {} with room for {} vectors", p, 2 * k + 1));
    Spectra::DenseSymMatProd<double> op(S);
    Spectra::SymEigsSolver<Spectra::DenseSymMatProd<double>> eigs(op, k, ncv);
    eigs.init();
    eigs.compute(Spectra::SortRule::LargestAlge, 1000, 1e-10);
    if (eigs.info() != Spectra::CompInfo::Successful) {
      throw Error(fmt::format("Lanczos did not converge for rank {} (p = {}); retry with --solver gram", k, p));
    }
    out.values = eigs.eigenvalues();
    out.vectors = eigs.eigenvectors();
    out.solver = "lanczos";
    // Checked as the data-matrix Lanczos above is: that the pairs are eigenpairs (Spectra's test
    // looks at the recurrence only), and that no larger eigenvalue was missed (from one vector,
    // Lanczos finds one copy of an eigenvalue repeated exactly). `auto` then takes the dense
    // decomposition. The check takes 16 blocks (128 dense products of p² each, a few per cent of
    // Lanczos's): an SPPMI matrix's negative eigenvalues can spread its spectrum far below the
    // top, where a degree-3 space saw nothing (a repeated 5 over the rest in (−20, 3)).
    const double top = out.values.cwiseAbs().maxCoeff();
    const PairErrors errors = pair_errors(out.vectors, out.values, S * out.vectors, std::max(1e-6 * top, 1e-300));
    std::string problem;
    if (!(errors.orthogonality <= 1e-6) || !(errors.residual <= 1e-6)) {
      problem = fmt::format("returned pairs that are not eigenpairs (vectors orthonormal to {:.1e}, worst relative "
                            "residual {:.1e})",
                            errors.orthogonality, errors.residual);
    } else if (misses_larger_eigenvalues([&](const Matrix& Z) { return Matrix(S * Z); }, out.vectors, out.values(0),
                                         out.values(k - 1), 1e-10, 16)) {
      problem = fmt::format("missed an eigenvalue above its {}th (a repeated one: it finds one copy of each)", k);
    }
    if (!problem.empty()) {
      if (!automatic) {
        throw Error(fmt::format("Lanczos on the {} × {} matrix {}: use --solver gram", p, p, problem));
      }
      dense_top_eigen(S, k, out.values, out.vectors);
      out.solver = "dense";
      out.reason += fmt::format("; Lanczos {}: the dense decomposition instead", problem);
    }
  }
  fix_signs(out.vectors);
  return out;
}

Index numerical_rank(const Vector& sigma, Index p) {
  if (sigma.size() == 0 || sigma(0) <= 0) return 0;
  // σ_r² > 10 p ε σ_1², as ratios: σ_1² itself overflowed for data near 1e154, whose σ_1 is finite
  // (every singular value then counted as zero, and a fit of rank 1 was refused).
  const double floor = static_cast<double>(p) * 10.0 * std::numeric_limits<double>::epsilon();
  Index r = 0;
  while (r < sigma.size() && (sigma(r) / sigma(0)) * (sigma(r) / sigma(0)) > floor) ++r;
  return r;
}

}  // namespace linsim
