// Atomic outputs (ARCHITECTURE.md habit 8): everything is written under a temporary sibling of
// the target and renamed into place by commit(). Without commit() (an exception on the way) the
// temporary is removed, so a failed run never leaves partial output behind.
//
// Temporaries are named ".NAME.tmp-PID-N" beside the target NAME. A program that is interrupted
// calls remove_unfinished_outputs() from its signal handling (the CLI does, on SIGINT, SIGTERM and
// SIGHUP); after SIGKILL or a power cut they stay, and can be deleted by that pattern.
//
// --force (`force`) replaces only what linsim itself writes: a regular file, or a directory that
// holds the marker file its kind always writes (model.json for a model directory, audit.json, …)
// or is empty. A device, a FIFO, a symbolic link or someone else's directory is refused with an
// InvalidArgument, forced or not.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace linsim {

class AtomicDirectory {
 public:
  // Throws InvalidArgument if `target` exists and may not be replaced (see above), Error if the
  // temporary directory cannot be created (missing or unwritable parent). Call before long work
  // to fail fast. `marker`: the file this kind of directory always contains.
  AtomicDirectory(std::string target, bool force, std::string marker);
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
  std::string marker_;
  bool force_;
  bool committed_ = false;
};

class AtomicFile {
 public:
  // Same contract as AtomicDirectory, for one regular file.
  AtomicFile(std::string target, bool force);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  // The temporary file, for writers that fill it by other means than stream() (linsim-mpi's ranks
  // write their parts of one table with MPI-IO); stream() must then stay unused.
  const std::string& temporary() const { return temp_; }
  const std::string& target() const { return target_; }
  void commit();
  // Flushes and closes the temporary without committing it (a scratch file read back before it is
  // dropped, or a file committed later); throws Error if anything failed to be written.
  void finish();

 private:
  friend void commit_together(const std::vector<AtomicFile*>& files);
  std::string target_;
  std::string temp_;
  bool force_;
  std::ofstream out_;
  bool committed_ = false;
};

// Commits several files as one output: all of them appear, or none (the targets they were to
// replace are restored). Every file is finished (written and checked) before any is renamed.
void commit_together(const std::vector<AtomicFile*>& files);

// A forced commit moves what it replaces aside, then deletes it; where that deletion fails (a file
// inside that this process may not remove) the new output is in place all the same, and the old
// copy stays beside it. Returns a message for each such copy since the last call, and forgets them:
// the program tells the user (the CLI at its end, as warnings).
std::vector<std::string> take_undeleted_replacements();

// Removes every temporary of this process that has not been committed, for a program about to
// end on a signal: afterwards no output of this process can be opened, committed or dropped any
// more (those calls block), so none appears between the removal and the end of the process.
void remove_unfinished_outputs();

// Whether remove_unfinished_outputs() has run to its end (async-signal-safe): a signal handler
// that would otherwise hand the ending to a thread calling it (which would then block for good)
// ends the process itself.
bool unfinished_outputs_removed();

// Has remove_unfinished_outputs() run also when the process ends by exit() with outputs not yet
// committed: a library under the program may end it so, from any thread (libgomp when it cannot
// start a thread: "Thread creation failed", then exit(1)). A run that commits everything or
// fails by an exception has nothing left to remove by then. Once per process; call early in main().
void remove_unfinished_outputs_at_exit();

// A path a command reads or writes, with the option that names it in messages ("--out"). For an
// input directory, `holds` says which files directly inside it are part of the input (a model
// directory's: model_dir_file); unset, everything inside is (a corpus directory).
struct NamedPath {
  std::string option;
  std::string path;
  bool (*holds)(const std::string& name) = nullptr;
};

// Throws InvalidArgument, naming both options, where two outputs are the same file or one lies
// inside the other, or an output is an input, is an existing file that is part of an input
// directory (m/model.json; anything inside a corpus directory) or holds an input (a directory
// --force would replace). A new file inside an input directory, or one that is not part of it
// (m/neighbours.tsv beside a model), is allowed. Paths are compared as the file
// system resolves them (symbolic links, "..", "./"), so spellings that differ do not slip through.
// Empty paths are skipped; "-" (standard input or output) is compared only with "-" and with the
// stream itself: two inputs, or two outputs, given as "-", or "-" beside a path that is the same
// pipe (/dev/stdin) or, for outputs, the same pipe or file (/dev/stdout), are refused.
void check_distinct_paths(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs = {});

}  // namespace linsim
