// Private: the one reader of text input, line by line: plain or gzip-compressed (ByteSource reads both),
// a file or standard input ("-"). Every text format linsim reads goes through it, so all of them
// share its rules:
// - a UTF-8 byte-order mark at the start is skipped (it would otherwise become part of an id);
// - "\n" and "\r\n" both end a line;
// - a gzip stream that ends early (a truncated download), or bytes after it that are not another
//   gzip member, are an error, never a silently short file (ByteSource);
// - a line longer than kMaxLineBytes is an InputError (memory stays bounded on hostile input);
// - a directory is refused by name.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linsim::detail {

// How messages name the input "-".
inline const std::string kStandardInputName = "standard input";

// The UTF-8 byte-order mark the reader skips at the start of its input.
inline constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// What a writer of a file with one value per line (an id file) writes before the first line so
// that the reader gives that line back intact: a byte-order mark when the line itself begins with
// one (the reader skips exactly one), else nothing.
inline std::string_view first_line_prefix(std::string_view first_line) {
  return first_line.substr(0, kByteOrderMark.size()) == kByteOrderMark ? kByteOrderMark : std::string_view();
}

// The value of a field that reads as a number in full, finite or not: "nan" and "inf" do (scores
// gone wrong, not words of a header), and so does "1e400", as ±inf (a number beyond a double,
// which the caller refuses as not finite, never a word). Nothing for any other text.
std::optional<double> field_number(std::string_view field);
// Whether `field`, which field_number read as `value`, is a nonzero number that no double holds:
// read as 0 although its digits are not all 0 ("1e-400": below ~4.9e-324). Options and specs
// refuse it rather than take 0 for a value the user gave as positive.
bool underflowed(std::string_view field, double value);

// The bytes of a file or of standard input ("-"), decompressed where they are gzip data (one
// member or several, as `cat a.gz b.gz` makes). Unlike zlib's gzread, which this replaces, bytes
// after the gzip data that are not another member are an Error ("bytes follow the end of its gzip
// data"), never silently dropped; gzip data that stops before its end (a truncated download) and
// corrupt gzip data are Errors too. Messages name the input by `name`.
class ByteSource {
 public:
  // Throws Error when the path cannot be opened.
  ByteSource(const std::string& path, const std::string& name);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // `count` bytes into `to`, fewer only at the end of the input (0 there).
  size_t read(char* to, size_t count);
  // Continues at byte `offset` of a plain (not gzip) input that can seek (a regular file).
  void seek(std::int64_t offset);

 private:
  size_t read_some(char* to, size_t count);  // at least 1 byte unless at the end
  bool fill_input();  // more raw bytes into input_; false at the end of the file
  bool detect();      // reads the first bytes and decides plain or gzip; false for an empty input

  std::string name_;
  int fd_ = -1;
  std::vector<unsigned char> input_;
  size_t in_begin_ = 0, in_end_ = 0;
  std::int64_t consumed_ = 0;  // raw bytes before input_[in_begin_]
  bool eof_ = false;
  bool decided_ = false, gzip_ = false, stream_open_ = false, member_done_ = false;
  z_stream stream_{};
};

class LineReader {
 public:
  static constexpr size_t kMaxLineBytes = size_t{16} << 20;

  // "-" reads standard input. Throws Error if the path cannot be opened or is a directory.
  explicit LineReader(const std::string& path);
  // The lines of a regular, uncompressed file that start in the byte range [begin, end) (end < 0:
  // to the end of the file), for readers that split one file between processes or threads: a line that
  // starts before `begin` belongs to the range before, one that starts before `end` is read to
  // its end. `lines_before` is the number of newlines in [0, begin), so that line_number() counts
  // from the start of the file. No byte-order mark is skipped unless begin is 0.
  LineReader(const std::string& path, std::int64_t begin, std::int64_t end, std::int64_t lines_before);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its terminator; false at the end of the input.
  // The view stays valid until the next call.
  bool next(std::string_view& line);
  // The line next() would return, without consuming it (empty at the end of the input).
  std::string_view peek();
  // 1-based number of the line last returned.
  std::int64_t line_number() const { return line_number_; }
  // Whether the input can be read again from the start by a new reader (a regular file; not a
  // pipe or standard input).
  bool rereadable() const { return rereadable_; }
  // How the input is named in messages: the path, or "standard input".
  const std::string& name() const { return name_; }

 private:
  bool fill();
  // Makes [begin_, end_) hold a whole line (or the rest of the input); returns its length.
  bool find_line(size_t& length);

  void open_file();
  // Whether the line at begin_ starts at or after the end of the range.
  bool past_range() const { return range_end_ >= 0 && offset_ + static_cast<std::int64_t>(begin_) >= range_end_; }

  std::string path_;
  std::string name_;
  std::int64_t offset_ = 0;      // position in the file of buffer_[0] (ranges only)
  std::int64_t range_end_ = -1;  // end of the byte range; −1: none
  std::unique_ptr<ByteSource> source_;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool started_ = false;  // the first bytes were read (and a byte-order mark skipped)
  bool rereadable_ = false;
  std::int64_t line_number_ = 0;
};

// What readers that split a file into byte ranges (linsim-mpi's ranks, read_interactions' threads)
// need to know of it: whether it is a regular file, its size, whether it is gzip-compressed (then it
// can only be read whole), and what identifies this version of it, so that a file replaced or
// changed while it is read is noticed.
struct FileFacts {
  bool regular = false;
  bool compressed = false;
  std::int64_t size = 0;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t modified_ns = 0;
  bool same_version(const FileFacts& o) const {
    return device == o.device && inode == o.inode && size == o.size && modified_ns == o.modified_ns;
  }
};
// Throws Error when `path` does not exist or cannot be opened; anything but a regular file is only
// looked at (regular = false), never opened.
FileFacts file_facts(const std::string& path);
// The newlines in the byte range [begin, end) of a regular file; Error when it cannot be read or
// ends before `end`.
std::int64_t count_newlines(const std::string& path, std::int64_t begin, std::int64_t end);

}  // namespace linsim::detail
