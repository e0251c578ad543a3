#include "line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <new>

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

bool underflowed(std::string_view field, double value) {
  return value == 0 && field.substr(0, field.find_first_of("eE")).find_first_of("123456789") != std::string_view::npos;
}

ByteSource::ByteSource(const std::string& path, const std::string& name)
    : name_(name), input_(size_t{1} << 18) {
  if (path == "-") {
    fd_ = ::dup(STDIN_FILENO);
    if (fd_ < 0) throw Error(fmt::format("cannot read standard input: {}", std::strerror(errno)));
    return;
  }
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
}

ByteSource::~ByteSource() {
  if (stream_open_) inflateEnd(&stream_);
  if (fd_ >= 0) ::close(fd_);
}

bool ByteSource::fill_input() {
  if (eof_) return false;
  if (in_begin_ > 0) {  // keep what is left at the front
    std::memmove(input_.data(), input_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    consumed_ += static_cast<std::int64_t>(in_begin_);
    in_begin_ = 0;
  }
  for (;;) {
    const ssize_t got = ::read(fd_, input_.data() + in_end_, input_.size() - in_end_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(fmt::format("cannot read '{}': {}", name_, std::strerror(errno)));
    if (got == 0) {
      eof_ = true;
      return false;
    }
    in_end_ += static_cast<size_t>(got);
    return true;
  }
}

bool ByteSource::detect() {
  decided_ = true;
  while (in_end_ - in_begin_ < 2 && fill_input()) {
  }
  if (in_end_ == in_begin_) return false;
  gzip_ = in_end_ - in_begin_ >= 2 && input_[in_begin_] == 0x1f && input_[in_begin_ + 1] == 0x8b;
  if (gzip_) {
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();  // 16: gzip only
    stream_open_ = true;
  }
  return true;
}

size_t ByteSource::read(char* to, size_t count) {
  // Whole requests, as gzread filled them: a caller that looks at the first bytes (a byte-order
  // mark, a format's magic) must not see them cut by a pipe's or an inflate step's short delivery.
  size_t done = 0;
  while (done < count) {
    const size_t got = read_some(to + done, count - done);
    if (got == 0) break;
    done += got;
  }
  return done;
}

size_t ByteSource::read_some(char* to, size_t count) {
  if (count == 0) return 0;
  if (!decided_ && !detect()) return 0;
  if (!gzip_) {
    if (in_begin_ < in_end_) {  // the bytes detect() looked at first
      const size_t n = std::min(count, in_end_ - in_begin_);
      std::memcpy(to, input_.data() + in_begin_, n);
      in_begin_ += n;
      return n;
    }
    for (;;) {
      const ssize_t got = ::read(fd_, to, count);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw Error(fmt::format("cannot read '{}': {}", name_, std::strerror(errno)));
      return static_cast<size_t>(got);
    }
  }
  size_t done = 0;
  while (done == 0) {
    if (member_done_) {
      // After a member: another member (its magic bytes), the end of the input, or bytes that are
      // neither — which zlib's gzread would drop without a word.
      while (in_end_ - in_begin_ < 2 && fill_input()) {
      }
      if (in_end_ == in_begin_) return 0;
      if (in_end_ - in_begin_ < 2 || input_[in_begin_] != 0x1f || input_[in_begin_ + 1] != 0x8b) {
        throw DataError(fmt::format("cannot read '{}': bytes follow the end of its gzip data at byte offset {} and are not "
                                "another gzip member (a file appended to a compressed one?)",
                                name_, consumed_ + static_cast<std::int64_t>(in_begin_)));
      }
      inflateReset(&stream_);
      member_done_ = false;
    }
    if (in_begin_ == in_end_ && !fill_input()) {
      throw DataError(fmt::format("cannot read '{}': the gzip data stops before its end (a truncated file?)", name_));
    }
    stream_.next_in = input_.data() + in_begin_;
    stream_.avail_in = static_cast<uInt>(in_end_ - in_begin_);
    stream_.next_out = reinterpret_cast<Bytef*>(to + done);
    stream_.avail_out = static_cast<uInt>(std::min<size_t>(count - done, UINT32_MAX));
    const int code = inflate(&stream_, Z_NO_FLUSH);
    in_begin_ = in_end_ - stream_.avail_in;
    done = count - stream_.avail_out;
    if (code == Z_STREAM_END) {
      member_done_ = true;
    } else if (code == Z_MEM_ERROR) {
      throw std::bad_alloc();
    } else if (code != Z_OK && code != Z_BUF_ERROR) {
      throw DataError(fmt::format("cannot read '{}': invalid gzip data at byte offset {}: {}", name_,
                              consumed_ + static_cast<std::int64_t>(in_begin_),
                              stream_.msg != nullptr ? stream_.msg : "corrupt data"));
    }
  }
  return done;
}

void ByteSource::seek(std::int64_t offset) {
  if (gzip_) throw Error(fmt::format("cannot read '{}' from byte {}: it is compressed", name_, offset));
  if (::lseek(fd_, offset, SEEK_SET) != offset) {
    throw Error(fmt::format("cannot read '{}' from byte {}: {}", name_, offset, std::strerror(errno)));
  }
  decided_ = true;  // a range of a file the caller knows to be plain
  in_begin_ = in_end_ = 0;
  consumed_ = offset;
  eof_ = false;
}

LineReader::LineReader(const std::string& path)
    : path_(path), name_(path == "-" ? kStandardInputName : path), buffer_(size_t{1} << 20) {
  if (path == "-") {
    rereadable_ = false;
    source_ = std::make_unique<ByteSource>(path, name_);
  } else {
    open_file();
  }
}

void LineReader::open_file() {
  struct stat st {};
  if (stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(fmt::format("cannot read '{}': it is a directory", path_));
  }
  source_ = std::make_unique<ByteSource>(path_, name_);
  rereadable_ = stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

LineReader::LineReader(const std::string& path, std::int64_t begin, std::int64_t end, std::int64_t lines_before)
    : path_(path), name_(path), buffer_(size_t{1} << 20) {
  range_end_ = end;
  open_file();
  line_number_ = lines_before;
  if (begin <= 0) return;
  // Start one byte early: the range's first line starts after the first newline at or after
  // begin − 1 (at begin itself when the byte before it ends a line).
  started_ = true;
  source_->seek(begin - 1);
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

LineReader::~LineReader() = default;

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
  const size_t got = source_->read(buffer_.data() + end_, buffer_.size() - end_);
  if (got == 0) eof_ = true;
  if (!started_ && got > 0) {
    started_ = true;
    if (std::string_view(buffer_.data() + end_, static_cast<size_t>(got)).substr(0, kByteOrderMark.size()) ==
        kByteOrderMark) {
      begin_ += kByteOrderMark.size();
    }
  }
  end_ += got;
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
