// The gauge of an M1 solution: which of the equally optimal factorisations (A D, B D⁻¹) of the
// product A Bᵀ = V_k G_k V_kᵀ is reported (MATH.md M1, table of named gauges).
#pragma once

#include <string>

namespace linsim {

struct Gauge {
  enum class Kind { kPower, kBalanced };
  Kind kind = Kind::kBalanced;
  double t = 0.5;  // kPower: B = V_k G_k^t, P = U_k Σ_k G_k^{1-t}
  std::string name = "balanced";
};

// "symmetric" (power 1/2), "item-orthonormal" (power 0), "input-orthonormal" (power 1),
// "balanced", or "power:t" with t in [0, 1]. Throws InvalidArgument otherwise.
Gauge parse_gauge(const std::string& name);

}  // namespace linsim
