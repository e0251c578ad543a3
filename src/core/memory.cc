#include "linsim/core/memory.h"

#include "linsim/core/setup.h"
#include "core/switch_setting.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

namespace linsim {

namespace {

// A number at the start of a file's text; nullopt when the file is missing or holds none ("max").
std::optional<double> read_number(const std::string& file) {
  std::ifstream in(file);
  double value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

// The value of `key` in a file of "key value" lines (memory.stat; /proc/meminfo's "Key: value kB").
std::optional<double> read_field(const std::string& file, std::string_view key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    double value = 0;
    if (fields >> name >> value && name == key) return value;
  }
  return std::nullopt;
}

// A mountinfo field as written: space, tab, newline and backslash come as octal escapes ("\040").
std::string unescape_mount_field(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() &&
        std::isdigit(static_cast<unsigned char>(field[i + 1])) && std::isdigit(static_cast<unsigned char>(field[i + 2])) &&
        std::isdigit(static_cast<unsigned char>(field[i + 3]))) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

// Where a control-group hierarchy is mounted: its mount point and the part of the hierarchy it
// shows ("/" unless the process sees only a subtree, as in a container without a cgroup namespace).
struct Mount {
  std::string point;
  std::string root;
};

// The cgroup2 mount (`v2`) or the cgroup v1 mount with the memory controller, from mountinfo.
std::optional<Mount> cgroup_mount(const std::string& mountinfo, bool v2) {
  std::ifstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    // "ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [TAGS…] - TYPE SOURCE SUPER_OPTIONS"
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, device, root, point, type, source, options;
    if (!(head >> id >> parent >> device >> root >> point) || !(tail >> type >> source >> options)) continue;
    const bool memory = ("," + options + ",").find(",memory,") != std::string::npos;
    if (v2 ? type == "cgroup2" : (type == "cgroup" && memory)) {
      return Mount{unescape_mount_field(point), unescape_mount_field(root)};
    }
  }
  return std::nullopt;
}

// The process's group in a hierarchy, from /proc/self/cgroup ("0::/path" for cgroup2,
// "N:memory,…:/path" for the v1 memory controller).
std::optional<std::string> cgroup_path(const std::string& cgroup_file, bool v2) {
  std::ifstream in(cgroup_file);
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const bool match = v2 ? line.compare(0, first, "0") == 0 && controllers.empty()
                          : ("," + controllers + ",").find(",memory,") != std::string::npos;
    if (match) return line.substr(second + 1);
  }
  return std::nullopt;
}

// The least room under the memory limits of the process's group and of every group above it in
// one hierarchy: a limit less the group's use beyond its page cache (which the kernel reclaims
// before it fails an allocation). Levels without a limit, or files that cannot be read, are
// skipped: outside any group nothing is returned.
void least_cgroup_room(const std::string& root, bool v2, AvailableMemory& least) {
  const auto mount = cgroup_mount(root + "/proc/self/mountinfo", v2);
  const auto path = cgroup_path(root + "/proc/self/cgroup", v2);
  if (!mount || !path) return;
  // The group's directory: its path below the part of the hierarchy the mount shows.
  std::string below = *path;
  if (mount->root != "/" && below.rfind(mount->root, 0) == 0) below.erase(0, mount->root.size());
  const std::filesystem::path top = root + mount->point;
  std::filesystem::path dir = top;
  for (const auto& part : std::filesystem::path(below).relative_path()) {
    if (!part.empty()) dir /= part;
  }
  std::error_code error;  // a directory that cannot be entered is one without a limit to read
  if (!std::filesystem::is_directory(dir, error)) dir = top;  // the mount shows the group itself
  const char* limit_file = v2 ? "memory.max" : "memory.limit_in_bytes";
  const char* use_file = v2 ? "memory.current" : "memory.usage_in_bytes";
  for (;;) {
    const auto limit = read_number((dir / limit_file).string());
    const auto use = read_number((dir / use_file).string());
    // cgroup v1 writes "no limit" as the largest page multiple below 2^63.
    if (limit && use && *limit < 0x1p60) {
      const std::string stat = (dir / "memory.stat").string();
      // v1's hierarchical counts are "total_…"; v2's (and v1's own) are unprefixed.
      const double cache = read_field(stat, v2 ? "active_file" : "total_active_file").value_or(0) +
                           read_field(stat, v2 ? "inactive_file" : "total_inactive_file").value_or(0);
      const double room = std::max(0.0, *limit - std::max(0.0, *use - cache));
      if (room < least.bytes) {
        const std::string below_top = dir.lexically_relative(top).generic_string();
        const std::string group =
            below_top == "." ? mount->root : (std::filesystem::path(mount->root) / below_top).generic_string();
        least = {room, fmt::format("the {} memory limit of control group '{}' ({})", format_bytes(*limit), group,
                                   limit_file)};
      }
    }
    if (dir == top || dir.parent_path() == dir || !dir.has_relative_path()) break;  // stops at `top` or "/"
    dir = dir.parent_path();
  }
}

// The room under one of the process's resource limits: the limit less what the process holds of
// what it counts (a field of /proc/self/status, in kB).
void least_rlimit_room(int resource, std::string_view held_field, const char* what, const char* shell,
                       AvailableMemory& least) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  const double held = 1024.0 * read_field("/proc/self/status", held_field).value_or(0);
  const double room = std::max(0.0, static_cast<double>(limit.rlim_cur) - held);
  if (room < least.bytes) least = {room, fmt::format("{} of {} ({})", what, format_bytes(static_cast<double>(limit.rlim_cur)), shell)};
}

}  // namespace

std::string AvailableMemory::text() const {
  return limit.empty() ? format_bytes(bytes) + " available" : fmt::format("{} available under {}", format_bytes(bytes), limit);
}

namespace detail {

AvailableMemory available_memory_under(const std::string& root) {
  AvailableMemory least{8.0 * (1ULL << 30), ""};
  const std::string meminfo = root + "/proc/meminfo";
  if (const auto kib = read_field(meminfo, "MemAvailable:")) least.bytes = 1024.0 * *kib;
  // Where the system refuses allocations beyond its commit limit, what is not yet committed.
  if (read_number(root + "/proc/sys/vm/overcommit_memory").value_or(0) == 2) {
    const auto limit = read_field(meminfo, "CommitLimit:");
    const auto committed = read_field(meminfo, "Committed_AS:");
    if (limit && committed && 1024.0 * std::max(0.0, *limit - *committed) < least.bytes) {
      least = {1024.0 * std::max(0.0, *limit - *committed),
               fmt::format("the system's commit limit of {} (vm.overcommit_memory = 2)", format_bytes(1024.0 * *limit))};
    }
  }
  least_cgroup_room(root, true, least);
  least_cgroup_room(root, false, least);
  return least;
}

}  // namespace detail

AvailableMemory available_memory() {
  AvailableMemory least = detail::available_memory_under("");
  least_rlimit_room(RLIMIT_AS, "VmSize:", "this process's address-space limit", "ulimit -v", least);
  least_rlimit_room(RLIMIT_DATA, "VmData:", "this process's data limit", "ulimit -d", least);
  return least;
}

double available_memory_bytes() { return available_memory().bytes; }

std::string allocations_refused_by() {
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    return "an address-space limit (ulimit -v)";
  }
  if (getrlimit(RLIMIT_DATA, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) return "a data limit (ulimit -d)";
  if (read_number("/proc/sys/vm/overcommit_memory").value_or(0) == 2) {
    return "the system's commit limit (vm.overcommit_memory = 2)";
  }
  return "";
}

std::string MemoryShortfall::more_than() const {
  return size > 1 ? fmt::format("more than the {} on rank {} of {}", available.text(), rank, size)
                  : "more than the " + available.text();
}

std::optional<MemoryShortfall> memory_shortfall(double need, const Communicator& comm) {
  const AvailableMemory mine = available_memory();
  const bool fits = need <= mine.bytes;
  if (comm.all(fits)) return std::nullopt;
  // The shortest process: the largest need / available among those it does not fit on (ties: the
  // lowest rank), then its numbers.
  const double ratio = fits ? 0.0 : mine.bytes > 0 ? need / mine.bytes : std::numeric_limits<double>::infinity();
  std::vector<double> each(static_cast<size_t>(comm.size()), 0.0);
  each[static_cast<size_t>(comm.rank())] = std::isfinite(ratio) ? ratio : std::numeric_limits<double>::max();
  comm.sum(each.data(), each.size());
  const int shortest = static_cast<int>(std::max_element(each.begin(), each.end()) - each.begin());
  MemoryShortfall out;
  std::vector<double> numbers(2, 0.0);
  if (comm.rank() == shortest) numbers = {need, mine.bytes};
  comm.sum(numbers.data(), numbers.size());
  out.need = numbers[0];
  out.available = {numbers[1], comm.broadcast(mine.limit, shortest)};
  out.rank = shortest;
  out.size = comm.size();
  return out;
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
