#include "line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim::detail {

std::optional<double> field_number(std::string_view field) {
  double value = 0;
  const char* end = field.data() + field.size();
  const auto [stop, ec] = std::from_chars(field.data(), end, value);
  if (field.empty() || stop != end) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return std::strtod(std::string(field).c_str(), nullptr);  // ±inf, or 0 and below
  if (ec != std::errc()) return std::nullopt;
  return value;
}

LineReader::LineReader(const std::string& path)
    : path_(path), name_(path == "-" ? "standard input" : path), buffer_(size_t{1} << 20) {
  if (path == "-") {
    rereadable_ = false;
    const int fd = dup(STDIN_FILENO);
    if (fd < 0) throw Error(fmt::format("cannot read standard input: {}", std::strerror(errno)));
    file_ = gzdopen(fd, "rb");
    if (file_ == nullptr) {
      close(fd);
      throw Error("cannot read standard input: out of memory");
    }
  } else {
    open_file();
  }
  gzbuffer(file_, 1 << 18);
}

void LineReader::open_file() {
  struct stat st {};
  if (stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(fmt::format("cannot read '{}': it is a directory", path_));
  }
  errno = 0;
  file_ = gzopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    throw Error(fmt::format("cannot open '{}': {}", path_, errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  rereadable_ = stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

LineReader::LineReader(const std::string& path, std::int64_t begin, std::int64_t end, std::int64_t lines_before)
    : path_(path), name_(path), buffer_(size_t{1} << 20) {
  range_end_ = end;
  open_file();
  gzbuffer(file_, 1 << 18);
  line_number_ = lines_before;
  if (begin <= 0) return;
  // Start one byte early: the range's first line starts after the first newline at or after
  // begin − 1 (at begin itself when the byte before it ends a line).
  started_ = true;
  // zlib seeks in a plain file only once it has looked at the first bytes (gzdirect looks);
  // before that, gzseek reads its way to the offset.
  gzdirect(file_);
  if (gzseek(file_, begin - 1, SEEK_SET) != begin - 1) {
    throw Error(fmt::format("cannot read '{}' from byte {}: {}", name_, begin - 1, std::strerror(errno)));
  }
  offset_ = begin - 1;
  for (;;) {
    const void* nl = std::memchr(buffer_.data() + begin_, '\n', end_ - begin_);
    if (nl != nullptr) {
      const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - buffer_.data());
      if (offset_ + static_cast<std::int64_t>(at) >= begin) ++line_number_;  // the newline ended a line we skip
      begin_ = at + 1;
      return;
    }
    begin_ = end_;  // the whole buffer is part of a line that belongs to the range before
    if (!fill()) return;
  }
}

FileFacts file_facts(const std::string& path) {
  // Looked at before it is opened: opening a named pipe a second time would wait for a writer.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  FileFacts f;
  f.regular = S_ISREG(st.st_mode);
  if (!f.regular) return f;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {  // replaced between the two looks
    ::close(fd);
    f.regular = false;
    return f;
  }
  f.size = st.st_size;
  f.device = st.st_dev;
  f.inode = st.st_ino;
  f.modified_ns = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  unsigned char magic[2] = {0, 0};
  f.compressed = ::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  ::close(fd);
  return f;
}

std::int64_t count_newlines(const std::string& path, std::int64_t begin, std::int64_t end) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::vector<char> buffer(size_t{1} << 20);
  std::int64_t count = 0;
  for (std::int64_t at = begin; at < end;) {
    const auto want = static_cast<size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(buffer.size()), end - at));
    const ssize_t got = ::pread(fd, buffer.data(), want, at);
    if (got <= 0) {
      const int code = errno;
      ::close(fd);
      throw Error(fmt::format("cannot read '{}': {}", path, got == 0 ? "it changed while it was being read" : std::strerror(code)));
    }
    count += std::count(buffer.data(), buffer.data() + got, '\n');
    at += got;
  }
  ::close(fd);
  return count;
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose(file_);
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {  // keep the unfinished line at the front
    offset_ += static_cast<std::int64_t>(begin_);
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) {  // a very long line
    if (buffer_.size() >= kMaxLineBytes) {
      throw InputError(name_, line_number_ + 1,
                       fmt::format("line longer than {} MiB: not a text file of this format?", kMaxLineBytes >> 20));
    }
    buffer_.resize(std::min(buffer_.size() * 2, kMaxLineBytes));
  }
  const auto want = static_cast<unsigned>(buffer_.size() - end_);
  const int got = gzread(file_, buffer_.data() + end_, want);
  int code = Z_OK;
  const char* message = gzerror(file_, &code);
  if (got < 0 || (code != Z_OK && code != Z_BUF_ERROR)) {
    throw Error(fmt::format("cannot read '{}': {}", name_, code == Z_ERRNO ? std::strerror(errno) : message));
  }
  if (got == 0) {
    // zlib reports a gzip stream that stops before its end as Z_BUF_ERROR once the input is used up.
    if (code == Z_BUF_ERROR) {
      throw Error(fmt::format("cannot read '{}': the gzip data stops before its end (a truncated file?)", name_));
    }
    eof_ = true;
  }
  if (!started_ && got > 0) {
    started_ = true;
    if (std::string_view(buffer_.data() + end_, static_cast<size_t>(got)).substr(0, kByteOrderMark.size()) ==
        kByteOrderMark) {
      begin_ += kByteOrderMark.size();
    }
  }
  end_ += static_cast<size_t>(got);
  return got > 0;
}

bool LineReader::find_line(size_t& length) {
  while (true) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl != nullptr) {
      length = static_cast<size_t>(static_cast<const char*>(nl) - start);
      return true;
    }
    if (!fill()) {
      length = end_ - begin_;
      return length > 0;  // the last line, without "\n"
    }
  }
}

std::string_view LineReader::peek() {
  if (past_range()) return {};
  size_t length = 0;
  if (!find_line(length)) return {};
  std::string_view line(buffer_.data() + begin_, length);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool LineReader::next(std::string_view& line) {
  if (past_range()) return false;
  size_t length = 0;
  if (!find_line(length)) return false;
  line = std::string_view(buffer_.data() + begin_, length);
  begin_ = std::min(begin_ + length + 1, end_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ++line_number_;
  return true;
}

}  // namespace linsim::detail
