#include "linsim/io/atomic_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {
namespace fs = std::filesystem;
namespace {

// The temporaries of this process that are not yet committed or removed, for
// remove_unfinished_outputs(). Touched only when an output is opened, committed or dropped.
std::mutex pending_mutex;
std::set<std::string>& pending() {
  static std::set<std::string> paths;
  return paths;
}
// Records `path` and creates it (`create`, which returns whether it did) under the lock that
// remove_unfinished_outputs() takes for good: the removal either finds it created, or comes first
// and this call blocks while the process ends. Recorded, then created without the lock, a file
// could appear just after the removal, and stay (a signal thread removes the temporaries while a
// worker thread, cooccur's spilling, opens its next run).
template <typename Create>
bool track_created(const std::string& path, Create create) {
  const std::lock_guard<std::mutex> lock(pending_mutex);
  pending().insert(path);
  if (create()) return true;
  pending().erase(path);
  return false;
}
void untrack(const std::string& path) {
  const std::lock_guard<std::mutex> lock(pending_mutex);
  pending().erase(path);
}

// What forced commits moved aside but could not delete (take_undeleted_replacements()).
std::mutex undeleted_mutex;
std::vector<std::string>& undeleted() {
  static std::vector<std::string> messages;
  return messages;
}
// Deletes `old`, the replaced `target` moved aside; what stays is noted for the user.
void delete_replaced(const std::string& old, const std::string& target) {
  std::error_code ec;
  fs::remove_all(old, ec);
  if (!ec) return;
  const std::lock_guard<std::mutex> lock(undeleted_mutex);
  undeleted().push_back(fmt::format("'{}' was replaced, but its previous contents, moved to '{}', could not be deleted "
                                    "({}); delete them by hand",
                                    target, old, ec.message()));
}

// `path` without a trailing separator ("dir/" -> "dir"), whose empty last element would otherwise
// stand for its name.
fs::path without_trailing_separator(fs::path path) {
  if (!path.empty() && path.filename().empty()) path = path.parent_path();
  return path;
}

// The path as the file system resolves it: symbolic links of its existing part followed, "." and
// ".." removed; "dir/" and "dir" compare equal.
fs::path resolved(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path, ec).lexically_normal();
  return without_trailing_separator(p);
}

std::string temp_sibling(const std::string& target, const char* tag) {
  static std::atomic<int> counter{0};
  const fs::path path = without_trailing_separator(target);
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  return (parent / fmt::format(".{}.{}-{}-{}", path.filename().string(), tag, getpid(), counter++)).string();
}

const char* kind_of(fs::file_type type) {
  switch (type) {
    case fs::file_type::regular: return "a regular file";
    case fs::file_type::directory: return "a directory";
    case fs::file_type::symlink: return "a symbolic link";
    case fs::file_type::block: return "a block device";
    case fs::file_type::character: return "a character device";
    case fs::file_type::fifo: return "a FIFO";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

// Whether `target` may be written: absent, or present, forced and of the kind linsim writes there
// (a regular file for files; for directories, one holding `marker` or empty). The link itself is
// looked at, never what it points to. What --force could not replace is refused as such, with or
// without it (was: "already exists (pass --force to replace it)" for /dev/stdout, a FIFO or
// someone else's directory, which --force then refused).
void check_target(const std::string& target, bool force, const std::string* marker) {
  if (target.empty()) throw InvalidArgument("the output path is empty");
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(target, ec);
  if (status.type() == fs::file_type::not_found) return;
  // A path that cannot be looked at (a loop of links, a directory without search permission) is
  // neither absent nor of some kind (was: "it is not a regular file").
  if (status.type() == fs::file_type::none) throw Error(fmt::format("cannot use output '{}': {}", target, ec.message()));
  if (marker == nullptr) {
    if (status.type() != fs::file_type::regular) {
      throw InvalidArgument(fmt::format("refusing to replace '{}': it is {}, and --force replaces only a regular file",
                                        target, kind_of(status.type())));
    }
  } else if (status.type() != fs::file_type::directory) {
    throw InvalidArgument(fmt::format(
        "refusing to replace '{}': it is {}, and --force replaces only a directory linsim wrote", target,
        kind_of(status.type())));
  } else if (const bool ours = fs::symlink_status(fs::path(target) / *marker, ec).type() == fs::file_type::regular;
             !ours && !fs::is_empty(target, ec)) {
    throw InvalidArgument(fmt::format(
        "refusing to replace '{}': it has no {}, so linsim did not write it (--force replaces only a directory "
        "linsim wrote, or an empty one)",
        target, *marker));
  } else if (const fs::path name = without_trailing_separator(target).filename(); name == "." || name == "..") {
    // The system renames no path that ends in "." or ".." (was: refused only when the finished
    // output was put in place, "Device or resource busy", after all the work). The directory's
    // own name can be renamed, wherever the working directory is.
    throw InvalidArgument(fmt::format("refusing to replace '{}': a path that ends in '.' or '..' cannot be renamed; "
                                      "name the directory itself ('{}')",
                                      target, resolved(target).string()));
  }
  if (!force) throw InvalidArgument(fmt::format("output '{}' already exists (pass --force to replace it)", target));
}

// Renames `from` to `to` unless `to` exists, in one step where the file system can
// (renameat2's RENAME_NOREPLACE): between a check that `to` is absent and a plain rename another
// run could commit the same output, which the rename would then replace or, for a directory, fail
// on. Returns false, leaving both in place, when `to` exists; other failures are in `ec`.
bool rename_no_replace(const std::string& from, const std::string& to, std::error_code& ec) {
  ec.clear();
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST || errno == ENOTEMPTY) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != EPERM) {  // EPERM: a sandbox that filters the call
    ec = std::error_code(errno, std::generic_category());
    return true;
  }
  // A file system without the flag, or a sandbox without the call: check, then rename (the window
  // the flag closes stays open; a real EPERM comes back from the rename).
  if (fs::symlink_status(to, ec).type() != fs::file_type::not_found) return false;
  fs::rename(from, to, ec);
  return true;
}

InvalidArgument appeared(const std::string& target) {
  return InvalidArgument(fmt::format(
      "output '{}' already exists: it appeared while this run worked (another run writing it?); nothing was replaced",
      target));
}

}  // namespace

AtomicDirectory::AtomicDirectory(std::string target, bool force, std::string marker)
    : target_(std::move(target)), marker_(std::move(marker)), force_(force) {
  check_target(target_, force_, &marker_);
  temp_ = temp_sibling(target_, "tmp");
  std::error_code ec;
  if (!track_created(temp_, [&] { return fs::create_directory(temp_, ec); })) {
    throw Error(fmt::format("cannot create output directory '{}': {}", target_,
                            ec ? ec.message() : "temporary directory exists"));
  }
}

AtomicDirectory::~AtomicDirectory() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
    untrack(temp_);
  }
}

std::string AtomicDirectory::file(const std::string& name) const { return (fs::path(temp_) / name).string(); }

void AtomicDirectory::commit() {
  check_target(target_, force_, &marker_);  // the target may have appeared while we worked
  std::error_code ec;
  if (!force_) {  // nothing to replace: the rename itself refuses a target that appeared since
    if (!rename_no_replace(temp_, target_, ec)) throw appeared(target_);
    if (ec) throw Error(fmt::format("cannot create '{}': {}", target_, ec.message()));
    committed_ = true;
    untrack(temp_);
    return;
  }
  std::string old;
  if (fs::symlink_status(target_, ec).type() != fs::file_type::not_found) {
    old = temp_sibling(target_, "old");
    fs::rename(target_, old, ec);
    if (ec) throw Error(fmt::format("cannot replace '{}': {}", target_, ec.message()));
  }
  fs::rename(temp_, target_, ec);
  if (ec) {
    std::error_code ignored;
    if (!old.empty()) fs::rename(old, target_, ignored);
    throw Error(fmt::format("cannot create '{}': {}", target_, ec.message()));
  }
  committed_ = true;
  untrack(temp_);
  if (!old.empty()) delete_replaced(old, target_);
}

AtomicFile::AtomicFile(std::string target, bool force) : target_(std::move(target)), force_(force) {
  check_target(target_, force_, nullptr);
  // A path ending in '/' can only name a directory: the rename at commit would fail after the work.
  if (target_.back() == '/') {
    throw InvalidArgument(fmt::format("output '{}' ends in '/', which names a directory: give a file name", target_));
  }
  temp_ = temp_sibling(target_, "tmp");
  int error = 0;
  if (!track_created(temp_, [&] {
        out_.open(temp_, std::ios::binary);
        error = errno;
        return static_cast<bool>(out_);
      })) {
    throw Error(fmt::format("cannot write '{}': {}", target_, std::strerror(error)));
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    fs::remove(temp_, ec);
    untrack(temp_);
  }
}

void AtomicFile::finish() {
  if (out_.is_open()) {
    out_.flush();
    if (!out_) throw Error(fmt::format("cannot write '{}': {}", target_, std::strerror(errno)));
    out_.close();
  }
  if (!out_) throw Error(fmt::format("cannot write '{}': {}", target_, std::strerror(errno)));
  check_target(target_, force_, nullptr);
}

void AtomicFile::commit() { commit_together({this}); }

void commit_together(const std::vector<AtomicFile*>& files) {
  for (AtomicFile* f : files) f->finish();
  // Move every existing target aside, then every temporary into place; on any failure put back
  // what was there before.
  std::vector<std::string> saved(files.size());
  size_t placed = 0;
  std::error_code ec;
  auto undo = [&] {
    std::error_code ignored;
    for (size_t i = 0; i < files.size(); ++i) {
      if (i < placed) fs::rename(files[i]->target_, files[i]->temp_, ignored);  // back to a temporary
      if (!saved[i].empty()) fs::rename(saved[i], files[i]->target_, ignored);
    }
  };
  for (size_t i = 0; i < files.size(); ++i) {
    // Only a forced file replaces what is there; another's target that appeared since its check
    // is refused by its rename below.
    if (!files[i]->force_ || fs::symlink_status(files[i]->target_, ec).type() == fs::file_type::not_found) continue;
    saved[i] = temp_sibling(files[i]->target_, "old");
    fs::rename(files[i]->target_, saved[i], ec);
    if (ec) {
      saved[i].clear();
      undo();
      throw Error(fmt::format("cannot replace '{}': {}", files[i]->target_, ec.message()));
    }
  }
  for (; placed < files.size(); ++placed) {
    if (files[placed]->force_) {
      fs::rename(files[placed]->temp_, files[placed]->target_, ec);
    } else if (!rename_no_replace(files[placed]->temp_, files[placed]->target_, ec)) {
      const InvalidArgument error = appeared(files[placed]->target_);
      undo();
      throw error;
    }
    if (ec) {
      const std::string message = fmt::format("cannot create '{}': {}", files[placed]->target_, ec.message());
      undo();
      throw Error(message);
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    files[i]->committed_ = true;
    untrack(files[i]->temp_);
    if (!saved[i].empty()) delete_replaced(saved[i], files[i]->target_);
  }
}

std::vector<std::string> take_undeleted_replacements() {
  const std::lock_guard<std::mutex> lock(undeleted_mutex);
  std::vector<std::string> messages;
  messages.swap(undeleted());
  return messages;
}

namespace {
std::atomic<bool> outputs_removed{false};
static_assert(std::atomic<bool>::is_always_lock_free);
}  // namespace

void remove_unfinished_outputs() {
  // Locked for good: an output opened after this point would outlive the process's cleanup.
  pending_mutex.lock();
  std::error_code ec;
  for (const std::string& path : pending()) fs::remove_all(path, ec);
  pending().clear();
  outputs_removed = true;
}

bool unfinished_outputs_removed() { return outputs_removed.load(); }

void remove_unfinished_outputs_at_exit() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The set of temporaries exists before the handler is registered, so that it is destroyed
    // only after the handler has run (handlers and static destructors run in reverse order).
    pending();
    // Only in the process that registered it: a forked child that exits (Python's os.fork) holds a
    // copy of the parent's list, whose temporaries the parent is still writing.
    static const pid_t owner = getpid();
    std::atexit([] {
      if (getpid() == owner) remove_unfinished_outputs();
    });
  });
}

namespace {

// Whether `inner` is `outer` or lies inside it.
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

bool skipped(const NamedPath& p) { return p.path.empty() || p.path == "-"; }

}  // namespace

void check_distinct_paths(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  // Standard input can be read by one input only, and standard output written by one output only
  // (two writers would interleave): "-" given twice is refused by name.
  for (const auto* list : {&outputs, &inputs}) {
    const NamedPath* first = nullptr;
    for (const NamedPath& p : *list) {
      if (p.path != "-") continue;
      if (first != nullptr) {
        throw InvalidArgument(fmt::format("{} and {} are both '-': standard {} can serve only one of them",
                                          first->option, p.option, list == &inputs ? "input" : "output"));
      }
      first = &p;
    }
    // One stream under two names ("-" and /dev/stdin, /dev/stdin and /dev/fd/0, a FIFO's path
    // twice): a pipe is read, and a file or pipe written, once, so the second would find it empty
    // or interleave with the first. A character device (a terminal, /dev/null) serves both, two
    // readers of a regular file each read all of it, and two spellings of one output file are
    // refused below by path.
    const bool output = list == &outputs;
    std::vector<struct stat> seen(list->size());
    std::vector<bool> once(list->size(), false);  // a stream that serves one reader or writer
    for (size_t a = 0; a < list->size(); ++a) {
      const NamedPath& p = (*list)[a];
      if (p.path.empty()) continue;
      const bool known = p.path == "-" ? fstat(output ? STDOUT_FILENO : STDIN_FILENO, &seen[a]) == 0
                                       : stat(p.path.c_str(), &seen[a]) == 0;
      const mode_t mode = seen[a].st_mode;
      once[a] = known && (S_ISFIFO(mode) || S_ISSOCK(mode) || (output && S_ISREG(mode)));
      for (size_t b = 0; once[a] && b < a; ++b) {
        const NamedPath& q = (*list)[b];
        if (!once[b] || seen[b].st_dev != seen[a].st_dev || seen[b].st_ino != seen[a].st_ino) continue;
        if (S_ISREG(mode) && p.path != "-" && q.path != "-") continue;  // two paths: the check by path below
        const auto name = [&](const NamedPath& n) {
          return n.path == "-" ? fmt::format("{} '-' (standard {})", n.option, output ? "output" : "input")
                               : fmt::format("{} '{}'", n.option, n.path);
        };
        throw InvalidArgument(fmt::format("{} and {} are the same {}: it can be {} only once", name(q), name(p),
                                          S_ISREG(mode) ? "file" : "stream", output ? "written" : "read"));
      }
    }
  }
  std::vector<fs::path> out(outputs.size());
  for (size_t a = 0; a < outputs.size(); ++a) {
    if (skipped(outputs[a])) continue;
    out[a] = resolved(outputs[a].path);
    for (size_t b = 0; b < a; ++b) {
      if (skipped(outputs[b])) continue;
      if (within(out[a], out[b]) || within(out[b], out[a])) {
        throw InvalidArgument(fmt::format("{} '{}' and {} '{}' are the same file or one holds the other: one "
                                          "output would replace the other",
                                          outputs[b].option, outputs[b].path, outputs[a].option, outputs[a].path));
      }
    }
    for (const NamedPath& input : inputs) {
      if (skipped(input)) continue;
      const fs::path in = resolved(input.path);
      // A new file inside an input directory replaces nothing (similar-items -m m --output
      // m/neighbours.tsv); an existing one may be part of the input (m/model.json).
      std::error_code ec;
      const bool inside = out[a] != in && within(out[a], in);
      const bool part = input.holds == nullptr || (out[a].parent_path() == in && input.holds(out[a].filename().string()));
      if (out[a] == in || within(in, out[a]) || (inside && part && fs::exists(fs::symlink_status(out[a], ec)))) {
        throw InvalidArgument(fmt::format("{} '{}' would replace {}the input {} '{}'", outputs[a].option,
                                          outputs[a].path, inside ? "a file of " : "", input.option, input.path));
      }
    }
  }
}

}  // namespace linsim
