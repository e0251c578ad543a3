// A program built against the installed library (tests/installed_library.sh): it simulates data,
// fits eq2 and checks the fit against oracles it computes itself with Eigen — the top singular
// values of X from a dense eigen-decomposition of XᵀX, and the scores x_u A Bᵀ of the fitted
// factors — and that the library's exceptions reach it with their types.
#include <linsim/core/error.h>
#include <linsim/core/setup.h>
#include <linsim/models/model.h>
#include <linsim/simulate/simulation.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdio>

int main() {
  linsim::configure_gemm();
  linsim::Context ctx;
  ctx.threads = 2;

  linsim::SimulationOptions sim_options;
  sim_options.users = 3000;
  sim_options.items = 300;
  sim_options.seed = 7;
  const linsim::Simulation sim = linsim::simulate(sim_options, ctx);

  linsim::FitOptions options;
  options.kind = linsim::ModelKind::kEq2;
  options.rank = 20;
  options.lambda = 50;
  const linsim::Model model = linsim::fit_model(sim.data.X, options, ctx);

  const Eigen::MatrixXd X = Eigen::MatrixXd(sim.data.X);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(X.transpose() * X, Eigen::EigenvaluesOnly);
  const Eigen::Index p = X.cols();
  double sigma_error = 0;
  for (Eigen::Index i = 0; i < options.rank; ++i) {
    const double sigma = std::sqrt(eig.eigenvalues()(p - 1 - i));
    sigma_error = std::max(sigma_error, std::abs(model.singular_values(i) - sigma) / sigma);
  }

  const linsim::SparseMatrix Xq = sim.data.X.topRows(50);
  const Eigen::MatrixXd scores = linsim::score_users(model, Xq);
  const Eigen::MatrixXd expected = Eigen::MatrixXd(Xq) * model.encoder * model.item_embeddings.transpose();
  const double score_error = (scores - expected).cwiseAbs().maxCoeff() / expected.cwiseAbs().maxCoeff();

  bool thrown = false;
  try {
    options.lambda = -1;
    linsim::fit_model(sim.data.X, options, ctx);
  } catch (const linsim::InvalidArgument&) {
    thrown = true;
  }

  std::printf("linsim %s: %lld x %lld, %lld interactions; sigma relative error %.1e, scores %.1e, "
              "lambda < 0 %s\n",
              LINSIM_VERSION, static_cast<long long>(X.rows()), static_cast<long long>(p),
              static_cast<long long>(sim.data.X.nonZeros()), sigma_error, score_error,
              thrown ? "refused" : "NOT refused");
  return sigma_error <= 1e-8 && score_error <= 1e-10 && thrown && sim.data.X.nonZeros() > 0 ? 0 : 1;
}
