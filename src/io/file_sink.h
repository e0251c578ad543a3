// A file written front to back whose size is known when it is opened: the .npy writers' route to
// disk (npy.cc). Private to the library.
//
// Files of at least kDirectBytes go around the page cache (Linux's O_DIRECT) where the file system
// takes it: every byte of a buffered write is first copied into a freshly allocated page of the
// cache, and for a multi-gigabyte array (an EASE weight matrix is p² numbers) those copies can cost
// more than the disk — on the AMD EPYC VM of bench/README.md, EASE's 3.1 GB of weights took
// 10.7–11.3 s through the cache and 1.4 s direct ((b) on that VM, "Writes"). The line is low,
// 4 MiB, because on such a VM fresh cache pages are dear at any size: a fit of (a) took 0.2–0.6 s
// to write its model with the 16–40 MB arrays (72 MB) through the cache, 0.1–0.2 s with them direct
// (bench/README.md, (a), "Small arrays direct"). Below the line a file is a few of the disk's
// blocks, where the cache, which returns before the disk has the bytes, costs less than a
// synchronous write. Direct I/O needs
// aligned addresses, offsets and lengths, so the bytes pass through an aligned buffer of
// kBufferBytes; the tail that is not a whole number of kAlign-byte blocks is written without
// O_DIRECT. Only regular files go direct; where O_DIRECT is refused (a file system without it, a
// block size above kAlign) or turned off (configure_direct_writes, linsim/core/setup.h; the
// linsim programs: LINSIM_DIRECT_WRITES=off) the file goes through the cache, with the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace linsim {

class FileSink {
 public:
  static constexpr std::uint64_t kDirectBytes = std::uint64_t{4} << 20;
  static constexpr std::size_t kAlign = 4096;
  static constexpr std::size_t kBufferBytes = std::size_t{8} << 20;

  // Creates or truncates `path`. `total_bytes` is what will be written (it chooses the route);
  // `direct_from` the size from which the route is direct (tests lower it). Throws Error naming
  // the path when the file cannot be opened.
  FileSink(std::string path, std::uint64_t total_bytes, std::uint64_t direct_from = kDirectBytes);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  // Appends `bytes` bytes. Throws Error naming the path on a failed write (a full disk, an I/O error).
  void write(const void* data, std::size_t bytes);
  // Writes what is buffered and closes the file; throws Error naming the path if either fails, or
  // if the bytes written are not the total announced.
  void finish();
  // Whether the file is being written around the page cache (false once a write refused it),
  // and the bytes written that way so far.
  bool direct() const { return direct_; }
  std::uint64_t direct_bytes() const { return direct_bytes_; }

 private:
  void write_out(const char* data, std::size_t bytes);
  void leave_direct();
  [[noreturn]] void fail(const char* what) const;

  std::string path_;
  int fd_ = -1;
  bool direct_ = false;
  std::uint64_t announced_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t direct_bytes_ = 0;
  std::unique_ptr<char, void (*)(void*)> buffer_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

}  // namespace linsim
