// The text of linsim's JSON documents (model.json, results.json, audit.json, similarity.json,
// words.json). JSON text is Unicode, but a path or an id is bytes and need not be UTF-8 (a file
// named in Latin-1, an id read from such a file); the JSON library refuses to write those. Here a
// byte that does not start a valid UTF-8 sequence is written as the four characters \xNN, as the
// error messages quote it, and everything else as it is: the document is always valid JSON.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace linsim {

// doc.dump(indent) with every string (values and keys) made valid UTF-8 as above.
std::string json_text(const nlohmann::json& doc, int indent = 2);

// `s` with every byte that does not start a valid UTF-8 sequence written as \xNN, as above (the
// HTML reports use it too, so that they say what the JSON beside them says).
std::string valid_utf8(std::string_view s);

}  // namespace linsim
