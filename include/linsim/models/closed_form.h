// Closed-form solutions of the paper's two objectives as pure functions of the spectrum
// (MATH.md M1, M2). Every solution has the form A = V_k dMat(a), B = V_k dMat(b) with
// a_i b_i = s_i, the model's shrinkage; user embeddings are P = X A.
#pragma once

#include "linsim/core/types.h"
#include "linsim/models/gauge.h"

namespace linsim {

// MATH.md M1: g_i = σ_i² / (σ_i² + λ).
Vector eq1_shrinkage(const Vector& sigma, double lambda);
// MATH.md M2: (1 − λ/σ_i)_+ (zero where σ_i = 0).
Vector eq2_shrinkage(const Vector& sigma, double lambda);

struct FactorScales {
  Vector a;  // A = V_k dMat(a)
  Vector b;  // B = V_k dMat(b)
};

// MATH.md M1 gauges: power:t gives b = g^t, a = g^{1−t} (so P = U_k Σ_k G_k^{1−t});
// balanced gives b = sqrt(σ g), a = sqrt(g / σ) (so Pᵀ P = Bᵀ B).
FactorScales eq1_scales(const Vector& sigma, double lambda, const Gauge& gauge);
// MATH.md M2 (paper eq. 6): a = sqrt((1/σ)(1 − λ/σ)_+), b = sqrt((σ − λ)_+).
FactorScales eq2_scales(const Vector& sigma, double lambda);

// ‖X − P Bᵀ‖²_F without forming the n × p product:
// ‖X‖² − 2 Σ_{x_ui ≠ 0} x_ui ⟨p_u, b_i⟩ + tr((PᵀP)(BᵀB)).
double reconstruction_error(const SparseView& X, const Matrix& P, const Matrix& B);
// MATH.md M1 objective ‖X − X A Bᵀ‖² + λ ‖A Bᵀ‖² (‖A Bᵀ‖² = tr((AᵀA)(BᵀB))).
double eq1_objective(const SparseView& X, const Matrix& A, const Matrix& B, double lambda);
// MATH.md M2 objective ‖X − X A Bᵀ‖² + λ (‖X A‖² + ‖B‖²).
double eq2_objective(const SparseView& X, const Matrix& A, const Matrix& B, double lambda);

}  // namespace linsim
