#include "linsim/text/tokenize.h"

namespace linsim {

TextBoundary parse_text_boundary(const std::string& name) {
  if (name == "paragraph") return TextBoundary::kParagraph;
  if (name == "line") return TextBoundary::kLine;
  if (name == "file") return TextBoundary::kFile;
  throw InvalidArgument(fmt::format("--boundary must be paragraph, line or file, got '{}'", name));
}

const char* text_boundary_name(TextBoundary boundary) {
  switch (boundary) {
    case TextBoundary::kParagraph: return "paragraph";
    case TextBoundary::kLine: return "line";
    case TextBoundary::kFile: return "file";
  }
  return "?";
}

namespace text_detail {

std::uint32_t lower_code_point(std::uint32_t c) {
  // Latin-1 capitals À–Þ (not ×).
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0x130) return 'i';  // İ: its small letter is i (U+0131 ı is already small)
  if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;  // small letters without a pair in the run
  // Latin Extended-A: pairs capital/small, capital on the even code point ...
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c % 2 == 0) ? c + 1 : c;
  // ... then on the odd one.
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
  if (c == 0x178) return 0xFF;  // Ÿ
  // Greek.
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  // Cyrillic.
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF)) return (c % 2 == 0) ? c + 1 : c;
  return c;
}

}  // namespace text_detail

std::string lowercase_word(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  size_t i = 0;
  while (i < word.size()) {
    const unsigned char b = static_cast<unsigned char>(word[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++i;
      continue;
    }
    std::uint32_t c = 0;
    const int length = text_detail::decode_utf8(word, i, c);
    if (length == 0) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    text_detail::append_utf8(out, text_detail::lower_code_point(c));
    i += static_cast<size_t>(length);
  }
  return out;
}

}  // namespace linsim
