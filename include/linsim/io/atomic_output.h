// Atomic outputs (ARCHITECTURE.md habit 8): everything is written under a temporary sibling of
// the target and renamed into place by commit(). Without commit() (an exception on the way) the
// temporary is removed, so a failed run never leaves partial output behind.
#pragma once

#include <fstream>
#include <string>

namespace linsim {

class AtomicDirectory {
 public:
  // Throws InvalidArgument if `target` exists and !force, Error if the temporary directory
  // cannot be created (missing or unwritable parent). Call before long work to fail fast.
  AtomicDirectory(std::string target, bool force);
  ~AtomicDirectory();
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  // Path of `name` inside the temporary directory.
  std::string file(const std::string& name) const;
  const std::string& target() const { return target_; }
  // Moves the finished directory into place (replacing an existing one when forced).
  void commit();

 private:
  std::string target_;
  std::string temp_;
  bool force_;
  bool committed_ = false;
};

class AtomicFile {
 public:
  // Same contract as AtomicDirectory, for one file.
  AtomicFile(std::string target, bool force);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  void commit();

 private:
  std::string target_;
  std::string temp_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace linsim
