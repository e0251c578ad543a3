// Text to tokens, the one tokeniser behind `linsim cooccur` and the word lookups of
// `linsim evaluate-words` (docs/words.md).
//
// Input is UTF-8 (a byte-order mark is a separator like any other). A token is a maximal run of
// word characters: ASCII letters and digits, and every code point from U+00C0 on except the
// punctuation and symbol blocks (U+00D7, U+00F7, U+2000–U+2BFF, U+3000–U+303F, U+FE00–U+FE0F,
// U+FE30–U+FE4F, U+FEFF, the full-width ASCII punctuation of U+FF00–U+FF65, and U+FFF0 on).
// Everything else — blanks, ASCII punctuation, apostrophes, hyphens, U+0080–U+00BF — separates
// tokens: "don't" gives "don", "t"; "well-known" gives "well", "known". Tokens are lower-cased by
// the simple case mapping of ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic capitals (other
// characters are kept as they are).
//
// Windows of co-occurrence stop at boundaries: a blank line (paragraph, the default), every line
// end (line), or only the end of a file (file). A line is blank when it holds nothing but ASCII
// blanks (space, tab, CR, form feed, vertical tab).
//
// Invalid UTF-8 (a stray continuation byte, a truncated or overlong sequence, a surrogate, a code
// point above U+10FFFF) is an Error naming the file and the byte offset, unless such bytes are
// asked to be read as Latin-1; a NUL byte (a binary file) is always an Error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "linsim/core/error.h"

namespace linsim {

enum class TextBoundary { kParagraph, kLine, kFile };

// "paragraph", "line" or "file"; anything else is an InvalidArgument naming --boundary.
TextBoundary parse_text_boundary(const std::string& name);
const char* text_boundary_name(TextBoundary boundary);

// The lower-cased form of a word under the tokeniser's case mapping; invalid UTF-8 is passed
// through byte by byte. Used to look up words a user gives (word-pair files, queries).
std::string lowercase_word(std::string_view word);

namespace text_detail {

// Whether code point c (≥ 0x80) is a word character.
inline bool is_word_code_point(std::uint32_t c) {
  if (c < 0xC0) return false;
  if (c == 0xD7 || c == 0xF7) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;
  if (c >= 0x3000 && c <= 0x303F) return false;
  if (c >= 0xFE00 && c <= 0xFE0F) return false;
  if (c >= 0xFE30 && c <= 0xFE4F) return false;
  if (c == 0xFEFF) return false;
  if (c >= 0xFF00 && c <= 0xFF0F) return false;
  if (c >= 0xFF1A && c <= 0xFF20) return false;
  if (c >= 0xFF3B && c <= 0xFF40) return false;
  if (c >= 0xFF5B && c <= 0xFF65) return false;
  return c < 0xFFF0;
}

// Simple lower-case mapping of a code point ≥ 0x80 (see the header comment).
std::uint32_t lower_code_point(std::uint32_t c);

inline void append_utf8(std::string& out, std::uint32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Decodes the sequence starting at s[i] (s[i] ≥ 0x80) into c and returns its length, or 0 when
// it is not valid UTF-8.
inline int decode_utf8(std::string_view s, size_t i, std::uint32_t& c) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  int length = 0;
  std::uint32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2, c = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3, c = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4, c = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + static_cast<size_t>(length) > s.size()) return 0;
  for (int k = 1; k < length; ++k) {
    const unsigned char b = byte(i + static_cast<size_t>(k));
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  return length;
}

}  // namespace text_detail

// Splits `bytes` — the part of file `path` that starts at byte offset `base` — into tokens:
// on_token(std::string_view token) for each lower-cased token, on_boundary() at each boundary of
// `boundary` kind (possibly several in a row). The part must start at the start of a line. With
// `latin1_fallback` null invalid UTF-8 is an error; else a byte that does not start a valid
// sequence is read as the Latin-1 character of its value (files that mix the two encodings) and
// counted there.
// The longest token, in bytes (lower-cased UTF-8). No word of running text comes near it; a
// longer run of word characters (a blob of digits and letters) is an Error naming the file and
// the token's byte offset. Bounded so, two tokens and a count, every line that `cooccur` writes
// stays far inside the 16 MiB that linsim's readers allow a line. (`tokenize` writes a whole
// boundary unit per line, which can be longer; nothing in linsim reads that output back.)
inline constexpr size_t kMaxTokenBytes = size_t{1} << 16;

template <class TokenFn, class BoundaryFn>
void scan_text(std::string_view bytes, std::uint64_t base, const std::string& path, TextBoundary boundary,
               std::int64_t* latin1_fallback, TokenFn&& on_token, BoundaryFn&& on_boundary) {
  std::string token;
  size_t token_start = 0;  // offset in `bytes` of the token's first byte
  bool line_blank = true;
  const auto check_length = [&] {
    if (token.size() > kMaxTokenBytes) {
      throw Error(fmt::format("{}: a token of more than {} bytes at byte offset {}: not running text (linsim "
                              "reads UTF-8 text of words)",
                              path, kMaxTokenBytes, base + token_start));
    }
  };
  const auto flush = [&] {
    if (!token.empty()) {
      on_token(std::string_view(token));
      token.clear();
    }
  };
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const unsigned char b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z')) {
        if (token.empty()) token_start = i;
        token.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
        if (token.size() > kMaxTokenBytes) check_length();
        line_blank = false;
      } else if (b == '\n') {
        flush();
        if (boundary == TextBoundary::kLine || (boundary == TextBoundary::kParagraph && line_blank)) on_boundary();
        line_blank = true;
      } else if (b == 0) {
        throw Error(fmt::format("{}: a NUL byte at byte offset {}: not a text file (linsim reads UTF-8 text)",
                                path, base + i));
      } else {
        flush();
        if (!(b == ' ' || b == '\t' || b == '\r' || b == '\f' || b == '\v')) line_blank = false;
      }
      ++i;
      continue;
    }
    std::uint32_t c = 0;
    int length = text_detail::decode_utf8(bytes, i, c);
    if (length == 0) {
      if (latin1_fallback == nullptr) {
        throw Error(fmt::format("{}: invalid UTF-8 at byte offset {} (byte 0x{:02X}; --invalid-utf8 latin1 reads such "
                                "bytes as Latin-1)",
                                path, base + i, static_cast<unsigned>(b)));
      }
      ++*latin1_fallback;
      c = b;
      length = 1;
    }
    line_blank = false;
    if (text_detail::is_word_code_point(c)) {
      if (token.empty()) token_start = i;
      text_detail::append_utf8(token, text_detail::lower_code_point(c));
      if (token.size() > kMaxTokenBytes) check_length();
    } else {
      flush();
    }
    i += static_cast<size_t>(length);
  }
  flush();
}

}  // namespace linsim
