#include "linsim/linalg/spectrum.h"

#include <Spectra/MatOp/DenseSymMatProd.h>
#include <Spectra/SymEigsSolver.h>
#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <limits>

#include "linsim/core/error.h"
#include "linsim/linalg/gram.h"

namespace linsim {
namespace {

// Fixes the sign of each singular vector (largest |entry| positive), so results do not depend
// on the solver's arbitrary signs.
void fix_signs(Matrix& V) {
  for (Index c = 0; c < V.cols(); ++c) {
    Index arg = 0;
    V.col(c).cwiseAbs().maxCoeff(&arg);
    if (V(arg, c) < 0) V.col(c) *= -1.0;
  }
}

Vector sigma_from_eigenvalues(const Vector& eig) {
  return eig.cwiseMax(0.0).cwiseSqrt();
}

}  // namespace

Solver parse_solver(const std::string& name) {
  if (name == "auto") return Solver::kAuto;
  if (name == "gram") return Solver::kGram;
  if (name == "lanczos") return Solver::kLanczos;
  throw InvalidArgument(fmt::format("unknown solver '{}' (valid: auto, gram, lanczos)", name));
}

const char* solver_name(Solver solver) {
  switch (solver) {
    case Solver::kAuto: return "auto";
    case Solver::kGram: return "gram";
    case Solver::kLanczos: return "lanczos";
  }
  return "?";
}

Spectrum spectrum_from_gram(const Matrix& G, Index k) {
  Eigen::SelfAdjointEigenSolver<Matrix> eig(G);
  if (eig.info() != Eigen::Success) throw Error("dense eigen-decomposition of XᵀX failed");
  Spectrum s;
  // Eigen returns ascending eigenvalues: take the last k, reversed.
  s.sigma = sigma_from_eigenvalues(eig.eigenvalues().tail(k).reverse());
  s.V = eig.eigenvectors().rightCols(k).rowwise().reverse();
  fix_signs(s.V);
  s.solver = "gram";
  return s;
}

Spectrum top_spectrum(const SparseMatrix& X, Index k, Solver solver, const Context& ctx) {
  return top_spectrum(DataMatrix(X), k, solver, ctx);
}

Spectrum top_spectrum(const DataMatrix& data, Index k, Solver solver, const Context& ctx) {
  const SparseMatrix& X = data.sparse();
  const Index p = X.cols();
  if (k < 1 || k > p) {
    throw InvalidArgument(fmt::format("rank {} is outside [1, {}] (the number of items)", k, p));
  }
  const Index ncv = std::min(p, std::max<Index>(2 * k + 1, 20));
  std::string reason;
  if (solver == Solver::kAuto) {
    // Rough cost model (seconds on 2 cores): the dense route pays for XᵀX and a full p × p
    // eigen-decomposition (~0.5 s at p = 1000, cubic); Lanczos pays ~10 k products with XᵀX,
    // each two memory-bound passes over the nonzeros.
    const double pk = static_cast<double>(p) / 1000.0;
    const double gram_s = gram_seconds_estimate(X) + 0.5 * pk * pk * pk;
    const double lanczos_s = 10.0 * static_cast<double>(k) * 2.0 * static_cast<double>(X.nonZeros()) / 1.5e9;
    const double gram_gib = 8.0 * static_cast<double>(p) * static_cast<double>(p) / (1 << 30);
    if (p <= 500) {
      solver = Solver::kGram;
      reason = fmt::format("p = {} <= 500: a dense decomposition is cheap and exact", p);
    } else if (gram_gib > 4.0 && 4 * k <= p) {
      solver = Solver::kLanczos;
      reason = fmt::format("a dense {} x {} Gram matrix would take {:.1f} GiB: Lanczos on v -> X^T(Xv)", p, p, gram_gib);
    } else if (4 * k > p) {
      solver = Solver::kGram;
      reason = fmt::format("rank {} > p/4: Lanczos gains nothing", k);
    } else if (gram_s < lanczos_s) {
      solver = Solver::kGram;
      reason = fmt::format("estimated {:.2g} s for the dense Gram route vs {:.2g} s for Lanczos", gram_s, lanczos_s);
    } else {
      solver = Solver::kLanczos;
      reason = fmt::format("estimated {:.2g} s for Lanczos on v -> X^T(Xv) vs {:.2g} s for the dense Gram route",
                           lanczos_s, gram_s);
    }
  } else {
    reason = "requested";
  }
  if (solver == Solver::kLanczos && ncv <= k) {
    throw InvalidArgument(fmt::format(
        "--solver lanczos needs rank < p = {} with room for {} Lanczos vectors; use --solver gram", p, 2 * k + 1));
  }
  if (solver == Solver::kGram) {
    Spectrum s = spectrum_from_gram(data.gram(ctx), k);
    s.reason = reason;
    return s;
  }
  use_threads(ctx);
  GramOperator op(data);
  Spectra::SymEigsSolver<GramOperator> eigs(op, k, ncv);
  eigs.init();  // Spectra's fixed-seed start vector: deterministic
  eigs.compute(Spectra::SortRule::LargestAlge, 1000, 1e-10);
  if (eigs.info() != Spectra::CompInfo::Successful) {
    throw Error(fmt::format("Lanczos did not converge for rank {} (p = {}); retry with --solver gram", k, p));
  }
  Spectrum s;
  s.sigma = sigma_from_eigenvalues(eigs.eigenvalues());
  s.V = eigs.eigenvectors();
  fix_signs(s.V);
  s.solver = "lanczos";
  s.reason = reason;
  return s;
}

SymmetricEigen top_eigenpairs(const Matrix& S, Index k, Solver solver, const Context& ctx) {
  const Index p = S.rows();
  if (k < 1 || k > p) throw InvalidArgument(fmt::format("rank {} is outside [1, {}]", k, p));
  const Index ncv = std::min(p, std::max<Index>(2 * k + 1, 20));
  SymmetricEigen out;
  if (solver == Solver::kAuto) {
    // Lanczos pays ~2 ncv dense products of p² each (one thread) and a dense ncv-sized
    // eigenproblem per restart; the full decomposition ~p³ (cubic, threaded GEMM inside).
    if (p <= 4000 || 10 * k > p || ncv <= k) {
      solver = Solver::kGram;
      out.reason = fmt::format("p = {}, k = {}: a full decomposition is cheap enough", p, k);
    } else {
      solver = Solver::kLanczos;
      out.reason = fmt::format("p = {} > 4000 and k = {} <= p/10: Lanczos on v -> S v", p, k);
    }
  } else {
    out.reason = "requested";
  }
  if (solver == Solver::kGram) {
    Eigen::SelfAdjointEigenSolver<Matrix> eig(S);
    if (eig.info() != Eigen::Success) throw Error("dense symmetric eigen-decomposition failed");
    out.values = eig.eigenvalues().tail(k).reverse();
    out.vectors = eig.eigenvectors().rightCols(k).rowwise().reverse();
    out.solver = "dense";
  } else {
    if (ncv <= k) throw InvalidArgument(fmt::format("Lanczos needs rank < {} with room for {} vectors", p, 2 * k + 1));
    use_threads(ctx);
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
  }
  fix_signs(out.vectors);
  return out;
}

Index numerical_rank(const Vector& sigma, Index p) {
  if (sigma.size() == 0 || sigma(0) <= 0) return 0;
  const double floor = sigma(0) * sigma(0) * static_cast<double>(p) * 10.0 *
                       std::numeric_limits<double>::epsilon();
  Index r = 0;
  while (r < sigma.size() && sigma(r) * sigma(r) > floor) ++r;
  return r;
}

}  // namespace linsim
