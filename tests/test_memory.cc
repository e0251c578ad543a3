// Huge-page advice (core/memory.h): it lands on exactly the 2 MiB-aligned interior of a block of a
// use the setting covers (core/setup.h), on no other, and never fails on blocks too small to hold
// a huge page.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "linsim/core/memory.h"
#include "linsim/core/setup.h"

namespace linsim {
namespace {

struct Mapping {
  std::uintptr_t begin = 0, end = 0;
  bool huge_advised = false;  // "hg" among the mapping's VmFlags: madvise(MADV_HUGEPAGE) reached it
};

// The process's mappings that overlap [begin, end), from /proc/self/smaps.
std::vector<Mapping> mappings_in(std::uintptr_t begin, std::uintptr_t end) {
  std::ifstream smaps("/proc/self/smaps");
  std::vector<Mapping> all;
  std::string line;
  while (std::getline(smaps, line)) {
    std::uintptr_t a = 0, b = 0;
    char dash = 0;
    std::istringstream head(line);
    if (line.rfind("VmFlags:", 0) == 0) {
      if (!all.empty()) all.back().huge_advised = (line + " ").find(" hg ") != std::string::npos;
    } else if (head >> std::hex >> a >> dash >> b && dash == '-' && b > a) {
      all.push_back({a, b, false});
    }
  }
  std::vector<Mapping> out;
  for (const Mapping& m : all) {
    if (m.end > begin && m.begin < end) out.push_back(m);
  }
  return out;
}

// [first, last) of the advised mappings, clipped to [begin, end); 0, 0 when there are none.
std::pair<std::uintptr_t, std::uintptr_t> advised_range(std::uintptr_t begin, std::uintptr_t end) {
  std::uintptr_t first = 0, last = 0;
  for (const Mapping& m : mappings_in(begin, end)) {
    if (!m.huge_advised) continue;
    if (last == 0) first = std::max(m.begin, begin);
    last = std::min(m.end, end);
  }
  return {first, last};
}

// A 2 MiB-aligned region of `length` bytes inside a fresh, untouched anonymous mapping (kernels
// before 6.7 do not align large mappings themselves).
class AlignedRegion {
 public:
  explicit AlignedRegion(std::size_t length) : size_(length + kHuge) {
    raw_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw_ != MAP_FAILED) base_ = (reinterpret_cast<std::uintptr_t>(raw_) + kHuge - 1) / kHuge * kHuge;
  }
  ~AlignedRegion() {
    if (raw_ != MAP_FAILED) munmap(raw_, size_);
  }
  AlignedRegion(const AlignedRegion&) = delete;
  AlignedRegion& operator=(const AlignedRegion&) = delete;
  std::uintptr_t base() const { return base_; }

  static constexpr std::size_t kHuge = std::size_t{2} << 20;

 private:
  std::size_t size_;
  void* raw_ = MAP_FAILED;
  std::uintptr_t base_ = 0;
};

// The huge-page setting `now` for the scope, and LINSIM_HUGE_PAGES and the setting as they were
// after (the tests set the variable to read it back through configure_huge_pages()).
class HugePagesSettingScope {
 public:
  explicit HugePagesSettingScope(HugePages now) : was_(huge_pages_setting()) {
    if (const char* v = std::getenv("LINSIM_HUGE_PAGES")) saved_ = v;
    configure_huge_pages(now);
  }
  ~HugePagesSettingScope() {
    if (saved_) {
      setenv("LINSIM_HUGE_PAGES", saved_->c_str(), 1);
    } else {
      unsetenv("LINSIM_HUGE_PAGES");
    }
    configure_huge_pages(was_);
  }
  HugePagesSettingScope(const HugePagesSettingScope&) = delete;
  HugePagesSettingScope& operator=(const HugePagesSettingScope&) = delete;

 private:
  HugePages was_;
  std::optional<std::string> saved_;
};

TEST(Memory, HugePageAdviceCoversTheAlignedInteriorOfABlockOfTheUsesTheSettingCovers) {
  constexpr std::size_t kHuge = AlignedRegion::kHuge;
  constexpr std::size_t kLength = 16 * kHuge;
  const HugePagesSettingScope scope(HugePages::kGathered);
  {  // Can this process see the advice at all (a kernel with THP, smaps with VmFlags)?
    const AlignedRegion probe(kHuge);
    ASSERT_NE(probe.base(), 0u);
    if (madvise(reinterpret_cast<void*>(probe.base()), kHuge, MADV_HUGEPAGE) != 0 ||
        advised_range(probe.base(), probe.base() + kHuge).second == 0) {
      GTEST_SKIP() << "madvise(MADV_HUGEPAGE) is not available or not visible in /proc/self/smaps here: "
                      "the advice is a no-op on this system";
    }
  }
  const AlignedRegion region(kLength);
  ASSERT_NE(region.base(), 0u);
  const std::uintptr_t base = region.base();
  ASSERT_EQ(advised_range(base, base + kLength).second, 0u);

  // Gathered (the default): a gathered block gets the advice, a bulk one does not.
  EXPECT_TRUE(huge_pages_wanted(PageUse::kGathered));
  EXPECT_FALSE(huge_pages_wanted(PageUse::kBulk));
  prefer_huge_pages(reinterpret_cast<void*>(base + 8 * kHuge), 2 * kHuge, PageUse::kBulk);
  EXPECT_EQ(advised_range(base, base + kLength).second, 0u);

  // A block that starts and ends off the 2 MiB grid: only the whole huge pages inside it.
  const std::uintptr_t data = base + kHuge + 4096;
  const std::size_t bytes = 5 * kHuge;
  const std::uintptr_t first = base + 2 * kHuge;
  const std::uintptr_t last = base + 6 * kHuge;
  prefer_huge_pages(reinterpret_cast<void*>(data), bytes, PageUse::kGathered);
  const auto [got_first, got_last] = advised_range(base, base + kLength);
  EXPECT_EQ(got_first, first);
  EXPECT_EQ(got_last, last);

  // Blocks without a whole huge page inside, and no block at all: nothing, and no failure.
  const std::uintptr_t tail = base + 12 * kHuge;
  prefer_huge_pages(reinterpret_cast<void*>(tail + 4096), kHuge, PageUse::kGathered);
  prefer_huge_pages(nullptr, kLength, PageUse::kGathered);
  prefer_huge_pages(reinterpret_cast<void*>(tail), 0, PageUse::kGathered);
  EXPECT_EQ(advised_range(tail - kHuge, base + kLength).second, 0u);

  // Turned off by the program: a block that would qualify stays as it is.
  EXPECT_EQ(configure_huge_pages(HugePages::kOff), HugePages::kOff);
  EXPECT_FALSE(huge_pages_wanted(PageUse::kGathered));
  EXPECT_FALSE(huge_pages_wanted(PageUse::kBulk));
  prefer_huge_pages(reinterpret_cast<void*>(tail), 2 * kHuge, PageUse::kGathered);
  EXPECT_EQ(advised_range(tail - kHuge, base + kLength).second, 0u);

  // All: bulk blocks too.
  EXPECT_EQ(configure_huge_pages(HugePages::kAll), HugePages::kAll);
  EXPECT_TRUE(huge_pages_wanted(PageUse::kGathered));
  prefer_huge_pages(reinterpret_cast<void*>(base + 8 * kHuge), 2 * kHuge, PageUse::kBulk);
  const auto [bulk_first, bulk_last] = advised_range(base + 7 * kHuge, base + 11 * kHuge);
  EXPECT_EQ(bulk_first, base + 8 * kHuge);
  EXPECT_EQ(bulk_last, base + 10 * kHuge);
}

// The programs' setting, LINSIM_HUGE_PAGES, read by configure_huge_pages() (the library itself
// never reads it): off, 0 and no turn the advice off; all, on, 1 and yes give it to every use;
// anything else or nothing gives the default, gathered blocks only.
TEST(Memory, ProgramsTakeTheHugePageSettingFromTheEnvironment) {
  const HugePagesSettingScope scope(HugePages::kAll);
  // The library itself never reads the variable: only the set-up call does.
  ASSERT_EQ(setenv("LINSIM_HUGE_PAGES", "off", 1), 0);
  EXPECT_TRUE(huge_pages_wanted(PageUse::kGathered));
  EXPECT_TRUE(huge_pages_wanted(PageUse::kBulk));
  for (const char* off : {"off", "0", "no"}) {
    ASSERT_EQ(configure_huge_pages(HugePages::kAll), HugePages::kAll);
    ASSERT_EQ(setenv("LINSIM_HUGE_PAGES", off, 1), 0);
    EXPECT_EQ(configure_huge_pages(), HugePages::kOff) << off;
    EXPECT_FALSE(huge_pages_wanted(PageUse::kGathered)) << off;
  }
  for (const char* gathered : {"gathered", "", "some"}) {
    ASSERT_EQ(configure_huge_pages(HugePages::kOff), HugePages::kOff);
    ASSERT_EQ(setenv("LINSIM_HUGE_PAGES", gathered, 1), 0);
    EXPECT_EQ(configure_huge_pages(), HugePages::kGathered) << gathered;
    EXPECT_TRUE(huge_pages_wanted(PageUse::kGathered)) << gathered;
    EXPECT_FALSE(huge_pages_wanted(PageUse::kBulk)) << gathered;
  }
  for (const char* on : {"on", "1", "yes", "all"}) {
    ASSERT_EQ(setenv("LINSIM_HUGE_PAGES", on, 1), 0);
    EXPECT_EQ(configure_huge_pages(), HugePages::kAll) << on;
    EXPECT_TRUE(huge_pages_wanted(PageUse::kBulk)) << on;
  }
  ASSERT_EQ(configure_huge_pages(HugePages::kOff), HugePages::kOff);
  ASSERT_EQ(unsetenv("LINSIM_HUGE_PAGES"), 0);
  EXPECT_EQ(configure_huge_pages(), HugePages::kGathered);
  EXPECT_EQ(huge_pages_setting(), HugePages::kGathered);
}

}  // namespace
}  // namespace linsim
