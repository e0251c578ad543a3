#include "linsim/core/memory.h"

#include "linsim/core/setup.h"
#include "core/switch_setting.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include <fstream>
#include <string_view>
#include <sstream>

namespace linsim {

double available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    double kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024.0;
  }
  return 8.0 * (1ULL << 30);
}

namespace {

// The process's huge-page setting: only programs change it (setup.h), the library reads it.
std::atomic<HugePages> setting_now{HugePages::kGathered};

}  // namespace

bool huge_pages_wanted(PageUse use) {
  const HugePages setting = huge_pages_setting();
  return setting == HugePages::kAll || (setting == HugePages::kGathered && use == PageUse::kGathered);
}

HugePages huge_pages_setting() { return setting_now.load(std::memory_order_relaxed); }

HugePages configure_huge_pages(HugePages setting) {
  setting_now.store(setting, std::memory_order_relaxed);
  return setting;
}

HugePages configure_huge_pages() {
  const char* value = std::getenv("LINSIM_HUGE_PAGES");
  const std::string_view v(value == nullptr ? "" : value);
  if (v == "all" || v == "on" || v == "1" || v == "yes") return configure_huge_pages(HugePages::kAll);
  // Otherwise the off values of the switch that LINSIM_DIRECT_WRITES shares, or the default.
  return configure_huge_pages(switch_setting("LINSIM_HUGE_PAGES") ? HugePages::kGathered : HugePages::kOff);
}

void prefer_huge_pages(void* data, std::size_t bytes, PageUse use) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + bytes) & ~(kHuge - 1);
  if (data == nullptr || last <= first || !huge_pages_wanted(use)) return;
  madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // advice: its result is not needed
#else
  (void)data;
  (void)bytes;
  (void)use;
#endif
}

std::string format_bytes(double bytes) {
  if (bytes >= 1e9) return fmt::format("{:.1f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.0f} MB", bytes / 1e6);
  return fmt::format("{:.0f} KB", bytes / 1e3);
}

}  // namespace linsim
