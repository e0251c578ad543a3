#include "linsim/io/json_text.h"

#include <fmt/format.h>

#include <string_view>

#include "linsim/text/tokenize.h"

namespace linsim {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 (the tokeniser's decoder: RFC 3629, no
// overlong forms, no surrogates).
int sequence_length(std::string_view s, size_t i) {
  if (static_cast<unsigned char>(s[i]) < 0x80) return 1;
  std::uint32_t c = 0;
  return text_detail::decode_utf8(s, i, c);
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const int length = sequence_length(s, i);
    if (length == 0) return false;
    i += static_cast<size_t>(length);
  }
  return true;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const int length = sequence_length(s, i);
    if (length == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
      ++i;
    } else {
      out.append(s.substr(i, static_cast<size_t>(length)));
      i += static_cast<size_t>(length);
    }
  }
  return out;
}

namespace {

bool needs_repair(const nlohmann::json& doc) {
  if (doc.is_string()) return !is_valid_utf8(doc.get_ref<const std::string&>());
  if (doc.is_array()) {
    for (const auto& element : doc) {
      if (needs_repair(element)) return true;
    }
  }
  if (doc.is_object()) {
    for (const auto& [key, value] : doc.items()) {
      if (!is_valid_utf8(key) || needs_repair(value)) return true;
    }
  }
  return false;
}

nlohmann::json repaired(const nlohmann::json& doc) {
  if (doc.is_string()) return valid_utf8(doc.get_ref<const std::string&>());
  if (doc.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& element : doc) out.push_back(repaired(element));
    return out;
  }
  if (doc.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : doc.items()) out[valid_utf8(key)] = repaired(value);
    return out;
  }
  return doc;
}

}  // namespace

std::string json_text(const nlohmann::json& doc, int indent) {
  if (!needs_repair(doc)) return doc.dump(indent);
  return repaired(doc).dump(indent);
}

}  // namespace linsim
