#include "linsim/io/atomic_output.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {
namespace fs = std::filesystem;
namespace {

std::string temp_sibling(const std::string& target, const char* tag) {
  static std::atomic<int> counter{0};
  fs::path path(target);
  if (path.filename().empty()) path = path.parent_path();  // "dir/" -> "dir"
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  return (parent / fmt::format(".{}.{}-{}-{}", path.filename().string(), tag, getpid(), counter++)).string();
}

void check_target(const std::string& target, bool force) {
  if (target.empty()) throw InvalidArgument("the output path is empty");
  std::error_code ec;
  if (fs::exists(target, ec) && !force) {
    throw InvalidArgument(fmt::format("output '{}' already exists (pass --force to replace it)", target));
  }
}

}  // namespace

AtomicDirectory::AtomicDirectory(std::string target, bool force)
    : target_(std::move(target)), force_(force) {
  check_target(target_, force_);
  temp_ = temp_sibling(target_, "tmp");
  std::error_code ec;
  if (!fs::create_directory(temp_, ec)) {
    throw Error(fmt::format("cannot create output directory '{}': {}", target_,
                            ec ? ec.message() : "temporary directory exists"));
  }
}

AtomicDirectory::~AtomicDirectory() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
}

std::string AtomicDirectory::file(const std::string& name) const { return (fs::path(temp_) / name).string(); }

void AtomicDirectory::commit() {
  std::error_code ec;
  std::string old;
  if (fs::exists(target_, ec)) {
    if (!force_) throw InvalidArgument(fmt::format("output '{}' already exists (pass --force to replace it)", target_));
    old = temp_sibling(target_, "old");
    fs::rename(target_, old, ec);
    if (ec) throw Error(fmt::format("cannot replace '{}': {}", target_, ec.message()));
  }
  fs::rename(temp_, target_, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, target_, ec);
    throw Error(fmt::format("cannot create '{}': {}", target_, ec.message()));
  }
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
}

AtomicFile::AtomicFile(std::string target, bool force) : target_(std::move(target)) {
  check_target(target_, force);
  temp_ = temp_sibling(target_, "tmp");
  out_.open(temp_, std::ios::binary);
  if (!out_) throw Error(fmt::format("cannot write '{}': {}", target_, std::strerror(errno)));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  out_.flush();
  if (!out_) throw Error(fmt::format("cannot write '{}': {}", target_, std::strerror(errno)));
  out_.close();
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec) throw Error(fmt::format("cannot create '{}': {}", target_, ec.message()));
  committed_ = true;
}

}  // namespace linsim
