// Huge-page advice (core/memory.h): it lands on exactly the 2 MiB-aligned interior of a block of a
// use the setting covers (core/setup.h), on no other, and never fails on blocks too small to hold
// a huge page. The memory available: the least of the machine's and of every control group's
// limit (on a tree of files built here), agreed across processes.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "linsim/core/memory.h"
#include "linsim/core/setup.h"
#include "test_util.h"
#include "thread_ranks.h"

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

// A system's files below a scratch root, as available_memory_under reads them.
class FakeSystem {
 public:
  FakeSystem() { write("proc/meminfo", "MemTotal:       25000000 kB\nMemAvailable:   20000000 kB\nSwapTotal: 0 kB\n"); }
  void write(const std::string& relative, const std::string& text) {
    const std::filesystem::path file = dir_.path() / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  // A group's limit, use and page cache in `dir` (below the root), in the files of cgroup v2 or v1.
  void group(const std::string& dir, const std::string& limit, double use, double active_file, double inactive_file,
             bool v2) {
    write(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"), limit + "\n");
    write(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes"), whole(use) + "\n");
    const std::string prefix = v2 ? "" : "total_";
    write(dir + "/memory.stat", "anon 1\n" + prefix + "active_file " + whole(active_file) + "\n" + prefix +
                                    "inactive_file " + whole(inactive_file) + "\nfile_dirty 0\n");
  }
  AvailableMemory available() const { return detail::available_memory_under(dir_.path().string()); }
  static std::string whole(double x) { return std::to_string(static_cast<long long>(x)); }

 private:
  test::TempDir dir_;
};

constexpr const char* kMountsV2 =
    "30 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
    "31 22 0:5 / /proc rw - proc proc rw\n";

TEST(Memory, AvailableIsTheMachinesWhereNoGroupLimitsIt) {
  FakeSystem system;
  EXPECT_EQ(system.available().bytes, 20000000.0 * 1024);
  EXPECT_EQ(system.available().limit, "");
  EXPECT_EQ(system.available().text(), "20.5 GB available");
  // No meminfo: 8 GiB, the documented guess.
  FakeSystem bare;
  bare.write("proc/meminfo", "MemTotal: 1 kB\n");
  EXPECT_EQ(bare.available().bytes, 8.0 * (1ULL << 30));
  // A group without a limit ("max") at every level, and the hierarchy's root (no memory.max).
  system.write("proc/self/mountinfo", kMountsV2);
  system.write("proc/self/cgroup", "0::/user.slice/session\n");
  system.group("sys/fs/cgroup/user.slice", "max", 5e9, 0, 0, true);
  system.group("sys/fs/cgroup/user.slice/session", "max", 5e9, 0, 0, true);
  EXPECT_EQ(system.available().bytes, 20000000.0 * 1024);
  // A system that refuses allocations beyond its commit limit: what is not yet committed, where it
  // is less; with overcommit (0, 1) the commit figures do not count.
  system.write("proc/meminfo", "MemAvailable:   20000000 kB\nCommitLimit:    15000000 kB\nCommitted_AS:   9000000 kB\n");
  system.write("proc/sys/vm/overcommit_memory", "0\n");
  EXPECT_EQ(system.available().bytes, 20000000.0 * 1024);
  system.write("proc/sys/vm/overcommit_memory", "2\n");
  EXPECT_EQ(system.available().bytes, 6000000.0 * 1024);
  EXPECT_EQ(system.available().limit, "the system's commit limit of 15.4 GB (vm.overcommit_memory = 2)");
}

// cgroup v2: each level's room is its limit less its use beyond the page cache; the least over
// the process's group and every group above it counts, and is named.
TEST(Memory, AvailableIsTheLeastRoomOfEveryControlGroupAboveTheProcess) {
  FakeSystem system;
  system.write("proc/self/mountinfo", kMountsV2);
  system.write("proc/self/cgroup", "0::/job/step\n");
  // job: 4e9 − (3e9 − 1.5e9 of cache) = 2.5e9; step: no limit.
  system.group("sys/fs/cgroup/job", "4000000000", 3e9, 1e9, 5e8, true);
  system.group("sys/fs/cgroup/job/step", "max", 2e9, 1e9, 5e8, true);
  EXPECT_EQ(system.available().bytes, 2.5e9);
  EXPECT_EQ(system.available().text(),
            "2.5 GB available under the 4.0 GB memory limit of control group '/job' (memory.max)");
  // A tighter limit below it: step's 3e9 − (2e9 − 0.2e9) = 1.2e9 is now the least.
  system.group("sys/fs/cgroup/job/step", "3000000000", 2e9, 1e8, 1e8, true);
  EXPECT_EQ(system.available().bytes, 1.2e9);
  EXPECT_EQ(system.available().limit, "the 3.0 GB memory limit of control group '/job/step' (memory.max)");
  // A group using more than its limit beyond the cache leaves no room (never a negative amount).
  system.group("sys/fs/cgroup/job/step", "1000000000", 2e9, 0, 0, true);
  EXPECT_EQ(system.available().bytes, 0.0);
  // A limit above the machine's MemAvailable leaves the machine's.
  system.group("sys/fs/cgroup/job", "900000000000", 0, 0, 0, true);
  system.group("sys/fs/cgroup/job/step", "max", 0, 0, 0, true);
  EXPECT_EQ(system.available().bytes, 20000000.0 * 1024);
  EXPECT_EQ(system.available().limit, "");
}

// cgroup v1's memory controller: "no limit" is a number near 2^63; the counts are hierarchical
// ("total_…"). A container's view: the mount shows its own group as the hierarchy's root.
TEST(Memory, AvailableReadsCgroupV1AndAContainersViewOfItsGroup) {
  FakeSystem system;
  system.write("proc/self/mountinfo",
               "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
               "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n");
  system.write("proc/self/cgroup", "5:cpu,cpuacct:/other\n4:memory:/batch/job_7\n0::/\n");
  system.group("sys/fs/cgroup/memory", "9223372036854771712", 9e9, 0, 0, false);
  system.group("sys/fs/cgroup/memory/batch", "9223372036854771712", 9e9, 0, 0, false);
  system.group("sys/fs/cgroup/memory/batch/job_7", "2000000000", 1.5e9, 2e8, 3e8, false);
  EXPECT_EQ(system.available().bytes, 1e9);
  EXPECT_EQ(system.available().limit,
            "the 2.0 GB memory limit of control group '/batch/job_7' (memory.limit_in_bytes)");

  FakeSystem container;
  container.write("proc/self/mountinfo", "40 30 0:37 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  container.write("proc/self/cgroup", "0::/docker/abc\n");
  container.group("sys/fs/cgroup", "536870912", 1e8, 0, 0, true);
  EXPECT_EQ(container.available().bytes, 536870912.0 - 1e8);
  EXPECT_EQ(container.available().limit, "the 537 MB memory limit of control group '/docker/abc' (memory.max)");
  // A group below the container's: its path less the part the mount shows, then up to the mount.
  container.write("proc/self/cgroup", "0::/docker/abc/worker\n");
  container.group("sys/fs/cgroup/worker", "300000000", 1e8, 0, 0, true);
  EXPECT_EQ(container.available().bytes, 2e8);
  EXPECT_EQ(container.available().limit, "the 300 MB memory limit of control group '/docker/abc/worker' (memory.max)");
  container.group("sys/fs/cgroup/worker", "max", 1e8, 0, 0, true);
  EXPECT_EQ(container.available().bytes, 536870912.0 - 1e8);
  // Mount points and roots are written with octal escapes (a space as \040).
  FakeSystem spaced;
  spaced.write("proc/self/mountinfo", "40 30 0:37 / /cg\\040v2 rw - cgroup2 cgroup2 rw\n");
  spaced.write("proc/self/cgroup", "0::/job\n");
  spaced.group("cg v2/job", "1000000000", 0, 0, 0, true);
  EXPECT_EQ(spaced.available().bytes, 1e9);
}

// Communicator::broadcast, which the refusals below rest on: every process gets the root's text,
// byte for byte (any byte, the empty text too).
TEST(Communicator, BroadcastGivesEveryProcessTheRootsText) {
  const std::string text = "limit of control group '/j\xc3\xa9/x' \t\x01\xff";
  for (int root = 0; root < 3; ++root) {
    for (const std::string& sent : {text, std::string()}) {
      test::ThreadRanks ranks(3);
      std::vector<std::string> got(3);
      ranks.run([&](const Communicator& comm, int r) {
        got[static_cast<size_t>(r)] = comm.broadcast(r == root ? sent : "other " + std::to_string(r), root);
      });
      for (const std::string& g : got) EXPECT_EQ(g, sent);
    }
  }
}

// A step whose need fits on every process but one is refused on all of them alike, naming that
// process and its numbers; one that fits everywhere is not.
TEST(Memory, AShortfallOnOneProcessIsTheSameRefusalOnEvery) {
  const double machine = available_memory().bytes;
  for (int shortest = 0; shortest < 3; ++shortest) {
    test::ThreadRanks ranks(3);
    std::vector<std::optional<MemoryShortfall>> got(3);
    ranks.run([&](const Communicator& comm, int r) {
      got[static_cast<size_t>(r)] = memory_shortfall(r == shortest ? 1e30 : 1.0, comm);
    });
    for (const auto& g : got) {
      ASSERT_TRUE(g.has_value());
      EXPECT_EQ(g->need, 1e30);
      EXPECT_EQ(g->rank, shortest);
      EXPECT_EQ(g->size, 3);
      EXPECT_EQ(g->more_than(), fmt::format("more than the {} on rank {} of 3", g->available.text(), shortest));
    }
  }
  test::ThreadRanks ranks(2);
  std::vector<int> refused(2, -1);
  ranks.run([&](const Communicator& comm, int r) { refused[static_cast<size_t>(r)] = memory_shortfall(1.0, comm).has_value(); });
  EXPECT_EQ(refused, std::vector<int>({0, 0}));
  // One process: no rank named.
  const auto alone = memory_shortfall(1e30);
  ASSERT_TRUE(alone.has_value());
  EXPECT_EQ(alone->more_than().rfind("more than the ", 0), 0u);
  EXPECT_EQ(alone->more_than().find("rank"), std::string::npos);
  EXPECT_FALSE(memory_shortfall(0.5 * machine).has_value());
}

}  // namespace
}  // namespace linsim
