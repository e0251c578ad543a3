// Shared helpers of the libFuzzer targets (fuzz/README.md).
//
// Every reader under test takes a path: an input is written to a file in a scratch directory
// created once per process (mkdtemp under $TMPDIR or /tmp, removed at exit) and reused.
// The library must turn every failure into its own exception types, so a target catches exactly
// linsim::Error (InputError included) and linsim::InvalidArgument; anything else — std::bad_alloc,
// std::out_of_range, std::length_error, std::ios_base::failure, nlohmann::json exceptions —
// escapes, std::terminate aborts, and libFuzzer reports a crash with the exception's type.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "linsim/core/error.h"

namespace linsim_fuzz {

[[noreturn]] inline void harness_failure(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz harness: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The per-process scratch directory (created on first use, removed at normal exit). Never
// destroyed: the atexit handler that removes it runs after static destructors.
inline const std::string& scratch_dir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto* made = new std::string(std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/linsim-fuzz-XXXXXX");
    if (mkdtemp(made->data()) == nullptr) harness_failure("mkdtemp", *made);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return made;
  }();
  return *dir;
}

inline std::string scratch_path(std::string_view name) { return scratch_dir() + "/" + std::string(name); }

// Replaces the file's content in place: written over the old bytes, then cut to `size`. Not
// O_TRUNC: on ext4, a file truncated to zero and rewritten is flushed to disk at close
// (auto_da_alloc), which made every input cost a synchronous write.
inline void write_file(const std::string& path, const void* data, size_t size) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) harness_failure("cannot create", path);
  const char* bytes = static_cast<const char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pwrite(fd, bytes + done, size - done, static_cast<off_t>(done));
    if (n <= 0) harness_failure("cannot write", path);
    done += static_cast<size_t>(n);
  }
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) harness_failure("cannot truncate", path);
  if (close(fd) != 0) harness_failure("cannot close", path);
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  write_file(path, static_cast<const void*>(data), size);
}

// `name` in the scratch directory as a symbolic link to `target` (created once): one write of
// the input serves every reader that chooses its format by file name.
inline std::string link_as(const std::string& target, std::string_view name) {
  const std::string link = scratch_path(name);
  std::error_code ec;
  std::filesystem::remove(link, ec);
  std::filesystem::create_symlink(target, link, ec);
  if (ec) harness_failure("cannot create symlink", link + ": " + ec.message());
  return link;
}

// Picks one of `n` variants (reader options, file names) for an input, from a hash of its bytes:
// each read of the interactions readers costs milliseconds under ASan (a 1 MB line buffer and a
// 16 MB entry chunk per call), so an input is read one way rather than every way. The choice is
// a function of the bytes: a saved input reproduces.
inline unsigned pick(const uint8_t* data, size_t size, unsigned n) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
  return h % n;
}

// Runs `read`, accepting only the library's documented exceptions.
template <typename Fn>
void expect_library_errors(Fn&& read) {
  try {
    read();
  } catch (const linsim::Error&) {          // InputError derives from Error
  } catch (const linsim::InvalidArgument&) {
  }
}

// Keeps the library's OpenMP regions single-threaded (faster under ASan, deterministic) unless
// the caller set OMP_NUM_THREADS; call from LLVMFuzzerInitialize, before the first parallel region.
inline void single_threaded() { setenv("OMP_NUM_THREADS", "1", 0); }

}  // namespace linsim_fuzz
