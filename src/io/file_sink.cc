#include "io/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "linsim/core/error.h"
#include "linsim/core/setup.h"
#include "core/switch_setting.h"

namespace linsim {
namespace {
// The process's setting: only programs change it (setup.h), the library reads it.
std::atomic<bool> direct_writes_setting{true};
}  // namespace

bool configure_direct_writes(bool wanted) {
  direct_writes_setting.store(wanted, std::memory_order_relaxed);
  return wanted;
}

bool configure_direct_writes() { return configure_direct_writes(switch_setting("LINSIM_DIRECT_WRITES")); }

FileSink::FileSink(std::string path, std::uint64_t total_bytes, std::uint64_t direct_from)
    : path_(std::move(path)), announced_(total_bytes), buffer_(nullptr, std::free) {
  // The buffer holds whole aligned blocks; a small file needs no more than its own size.
  const std::uint64_t rounded = (total_bytes + kAlign - 1) / kAlign * kAlign;
  capacity_ = static_cast<std::size_t>(std::clamp<std::uint64_t>(rounded, kAlign, kBufferBytes));
  buffer_.reset(static_cast<char*>(std::aligned_alloc(kAlign, capacity_)));
  if (!buffer_) throw Error(fmt::format("cannot write '{}': out of memory for a {} byte buffer", path_, capacity_));
  // 0666 less the umask, as a stream creates files.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) fail("cannot write");
#ifdef O_DIRECT
  // Regular files only: on a pipe or FIFO O_DIRECT is accepted and means packets, whose reader
  // loses what it does not read of each.
  struct stat info {};
  if (total_bytes >= direct_from && direct_writes_setting.load(std::memory_order_relaxed) &&
      ::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode)) {
    const int flags = ::fcntl(fd_, F_GETFL);
    direct_ = flags >= 0 && ::fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
  }
#endif
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::fail(const char* what) const {
  throw Error(fmt::format("{} '{}': {}", what, path_, std::strerror(errno)));
}

void FileSink::leave_direct() {
#ifdef O_DIRECT
  if (!direct_) return;
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) fail("cannot write");
  direct_ = false;
#endif
}

// Writes all of [data, data + bytes), retrying short writes. A direct write the file system
// refuses (EINVAL: no O_DIRECT there, or blocks larger than kAlign) is retried through the cache,
// and the rest of the file goes that way too.
void FileSink::write_out(const char* data, std::size_t bytes) {
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, data, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EINVAL && direct_) {
        leave_direct();
        continue;
      }
      fail("cannot write");
    }
    if (n == 0) {
      errno = EIO;
      fail("cannot write");
    }
    data += n;
    bytes -= static_cast<std::size_t>(n);
    written_ += static_cast<std::uint64_t>(n);
    if (direct_) direct_bytes_ += static_cast<std::uint64_t>(n);
  }
}

void FileSink::write(const void* data, std::size_t bytes) {
  const char* from = static_cast<const char*>(data);
  while (bytes > 0) {
    const std::size_t take = std::min(bytes, capacity_ - used_);
    std::memcpy(buffer_.get() + used_, from, take);
    used_ += take;
    from += take;
    bytes -= take;
    if (used_ == capacity_) {  // capacity_ is a multiple of kAlign: a direct write may take it whole
      write_out(buffer_.get(), used_);
      used_ = 0;
    }
  }
}

void FileSink::finish() {
  if (fd_ < 0) return;
  const std::size_t whole = used_ / kAlign * kAlign;
  if (whole > 0) write_out(buffer_.get(), whole);
  if (used_ > whole) {
    leave_direct();  // the file's last, partial block
    write_out(buffer_.get() + whole, used_ - whole);
  }
  used_ = 0;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot write");
  if (written_ != announced_) {
    throw Error(fmt::format("cannot write '{}': {} bytes written where {} were announced", path_, written_,
                            announced_));
  }
}

}  // namespace linsim
