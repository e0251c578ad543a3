#include "linsim/core/error.h"

#include <fmt/format.h>

namespace linsim {

std::string printable_message(const std::string& message) {
  const auto control = [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; };
  bool any = false;
  for (const char c : message) any = any || control(static_cast<unsigned char>(c));
  if (!any) return message;
  std::string out;
  out.reserve(message.size() + 16);
  for (const char c : message) {
    if (control(static_cast<unsigned char>(c))) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

InputError::InputError(const std::string& file, std::int64_t line, const std::string& what)
    : DataError(file + ":" + std::to_string(line) + ": " + what), file_(file), line_(line) {}

}  // namespace linsim
