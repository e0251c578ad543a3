// Shared helpers of the libFuzzer targets (fuzz/README.md).
//
// Every reader under test takes a path: an input is written to a file in a scratch directory
// created once per process (mkdtemp under $TMPDIR or /tmp, removed at exit) and reused.
// The library must turn every failure into its own exception types, so a target catches exactly
// linsim::Error (InputError included) and linsim::InvalidArgument; anything else — std::bad_alloc,
// std::out_of_range, std::length_error, std::ios_base::failure, nlohmann::json exceptions —
// escapes, std::terminate aborts, and libFuzzer reports a crash with the exception's type.
#pragma once

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

// The per-process scratch directory (created on first use, removed at normal exit).
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/linsim-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) harness_failure("mkdtemp", pattern);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return pattern;
  }();
  return dir;
}

inline std::string scratch_path(std::string_view name) { return scratch_dir() + "/" + std::string(name); }

inline void write_file(const std::string& path, const void* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) harness_failure("cannot create", path);
  if (size > 0 && std::fwrite(data, 1, size, f) != size) harness_failure("cannot write", path);
  if (std::fclose(f) != 0) harness_failure("cannot close", path);
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
