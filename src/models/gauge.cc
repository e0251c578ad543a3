#include "linsim/models/gauge.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {

Gauge parse_gauge(const std::string& name) {
  if (name == "balanced") return {Gauge::Kind::kBalanced, 0.0, name};
  if (name == "symmetric") return {Gauge::Kind::kPower, 0.5, name};
  if (name == "item-orthonormal") return {Gauge::Kind::kPower, 0.0, name};
  if (name == "input-orthonormal") return {Gauge::Kind::kPower, 1.0, name};
  if (name.rfind("power:", 0) == 0) {
    const std::string text = name.substr(6);
    double t = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), t);
    if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty() && t >= 0 && t <= 1) {
      return {Gauge::Kind::kPower, t, name};
    }
  }
  throw InvalidArgument(fmt::format(
      "unknown gauge '{}' (valid: symmetric, item-orthonormal, input-orthonormal, balanced, "
      "power:t with 0 <= t <= 1)",
      name));
}

}  // namespace linsim
