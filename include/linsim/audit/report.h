// The audit's outputs: audit.json (every number, the options and inputs used, null where an input
// needed for it was not given or where the input cannot define it — then "undefined" says why) and audit.html (self-contained: styles inline, figures embedded as
// PNG data, no network access).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "linsim/audit/audit.h"
#include "linsim/io/atomic_output.h"

namespace linsim {

// `inputs` describes where the embeddings came from (paths, formats), copied into the report.
nlohmann::json audit_json(const AuditReport& report, const nlohmann::json& inputs);
std::string audit_html(const AuditReport& report, const nlohmann::json& inputs);

// What the command line prints: the verdict, then one line per section with its key numbers;
// "undefined (why)" for a number the input cannot define, "— (needs …)" for one whose input was
// not given.
std::string audit_summary(const AuditReport& report);

// Writes audit.json and audit.html into `out` (the caller commits).
void write_audit(AtomicDirectory& out, const AuditReport& report, const nlohmann::json& inputs);

}  // namespace linsim
