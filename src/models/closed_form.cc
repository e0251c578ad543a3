#include "linsim/models/closed_form.h"

#include <cmath>

namespace linsim {

Vector eq1_shrinkage(const Vector& sigma, double lambda) {
  // MATH.md M1: g_i = σ_i² / (σ_i² + λ)
  Vector g(sigma.size());
  for (Index i = 0; i < sigma.size(); ++i) {
    const double s2 = sigma(i) * sigma(i);
    g(i) = s2 > 0 ? s2 / (s2 + lambda) : 0.0;
  }
  return g;
}

Vector eq2_shrinkage(const Vector& sigma, double lambda) {
  // MATH.md M2: (1 − λ/σ_i)_+
  Vector s(sigma.size());
  for (Index i = 0; i < sigma.size(); ++i) {
    s(i) = sigma(i) > 0 ? std::max(0.0, 1.0 - lambda / sigma(i)) : 0.0;
  }
  return s;
}

FactorScales eq1_scales(const Vector& sigma, double lambda, const Gauge& gauge) {
  const Vector g = eq1_shrinkage(sigma, lambda);
  FactorScales f{Vector(g.size()), Vector(g.size())};
  for (Index i = 0; i < g.size(); ++i) {
    if (gauge.kind == Gauge::Kind::kBalanced) {
      // MATH.md M1 "balanced": B = V_k dMat(sqrt(σ_i g_i)), A = V_k dMat(sqrt(g_i / σ_i))
      f.b(i) = std::sqrt(sigma(i) * g(i));
      f.a(i) = sigma(i) > 0 ? std::sqrt(g(i) / sigma(i)) : 0.0;
    } else {
      // MATH.md M1 "power:t": B = V_k G_k^t, A = V_k G_k^{1−t}
      f.b(i) = std::pow(g(i), gauge.t);
      f.a(i) = std::pow(g(i), 1.0 - gauge.t);
    }
  }
  return f;
}

FactorScales eq2_scales(const Vector& sigma, double lambda) {
  const Vector s = eq2_shrinkage(sigma, lambda);
  FactorScales f{Vector(s.size()), Vector(s.size())};
  for (Index i = 0; i < s.size(); ++i) {
    // MATH.md M2 (paper eq. 6)
    f.a(i) = sigma(i) > 0 ? std::sqrt(s(i) / sigma(i)) : 0.0;
    f.b(i) = std::sqrt(sigma(i) * s(i));
  }
  return f;
}

double reconstruction_error(const SparseView& X, const Matrix& P, const Matrix& B) {
  double x2 = 0;
  double cross = 0;
  for (Index u = 0; u < X.outerSize(); ++u) {
    for (SparseView::InnerIterator it(X, u); it; ++it) {
      x2 += it.value() * it.value();
      cross += it.value() * P.row(u).dot(B.row(it.col()));
    }
  }
  const Matrix PtP = P.transpose() * P;
  const Matrix BtB = B.transpose() * B;
  return x2 - 2.0 * cross + PtP.cwiseProduct(BtB).sum();
}

double eq1_objective(const SparseView& X, const Matrix& A, const Matrix& B, double lambda) {
  const Matrix P = X * A;
  const Matrix AtA = A.transpose() * A;
  const Matrix BtB = B.transpose() * B;
  return reconstruction_error(X, P, B) + lambda * AtA.cwiseProduct(BtB).sum();
}

double eq2_objective(const SparseView& X, const Matrix& A, const Matrix& B, double lambda) {
  const Matrix P = X * A;
  return reconstruction_error(X, P, B) + lambda * (P.squaredNorm() + B.squaredNorm());
}

}  // namespace linsim
