// The programs' on/off switches read from the environment (LINSIM_HUGE_PAGES,
// LINSIM_DIRECT_WRITES; linsim/core/setup.h). Private to the library.
#pragma once

#include <cstdlib>
#include <string_view>

namespace linsim {

// False when the variable `name` is "off", "0" or "no"; true when it is unset or anything else.
inline bool switch_setting(const char* name) {
  const char* setting = std::getenv(name);
  const std::string_view value(setting == nullptr ? "" : setting);
  return !(value == "off" || value == "0" || value == "no");
}

}  // namespace linsim
