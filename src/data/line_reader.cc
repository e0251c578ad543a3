#include "line_reader.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim::detail {

LineReader::LineReader(const std::string& path) : path_(path), buffer_(size_t{1} << 20) {
  errno = 0;
  file_ = gzopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw Error(fmt::format("cannot open '{}': {}", path,
                            errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(file_, 1 << 18);
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose(file_);
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {  // keep the unfinished line at the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a very long line
  const auto want = static_cast<unsigned>(buffer_.size() - end_);
  const int got = gzread(file_, buffer_.data() + end_, want);
  if (got < 0) {
    int code = 0;
    const char* message = gzerror(file_, &code);
    throw Error(fmt::format("cannot read '{}': {}", path_, message));
  }
  if (got == 0) eof_ = true;
  end_ += static_cast<size_t>(got);
  return got > 0;
}

bool LineReader::next(std::string_view& line) {
  while (true) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl != nullptr) {
      const auto length = static_cast<size_t>(static_cast<const char*>(nl) - start);
      line = std::string_view(start, length);
      begin_ += length + 1;
      break;
    }
    if (!fill()) {
      if (begin_ == end_) return false;
      line = std::string_view(buffer_.data() + begin_, end_ - begin_);  // last line, no "\n"
      begin_ = end_;
      break;
    }
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ++line_number_;
  return true;
}

}  // namespace linsim::detail
