// io/json_input.h — JSON from outside (HTTP bodies, MQTT payloads, NDJSON lines, files) is parsed
// only here, with limits: nesting deeper than kMaxJsonDepth is refused before any tree is built
// (a tree 200,000 arrays deep crashes whatever walks it recursively, dump() included), and the
// error names the field and the byte offset. nlohmann's parser itself rejects invalid UTF-8, so
// every string in a parsed document is valid UTF-8.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "medtwin/core/result.h"

namespace medtwin::io {

// Deeper than any document medtwin reads (a FHIR Bundle of Observations nests about 8 levels).
inline constexpr int kMaxJsonDepth = 64;

// The byte offset at which `text` first nests deeper than `max_depth` arrays and objects, or
// npos when it never does. Strings are skipped (brackets inside them do not count).
[[nodiscard]] std::size_t JsonDepthExceededAt(std::string_view text, int max_depth);

// Parses untrusted JSON; the error names `field` ("body", "payload", "line 12") and says why.
[[nodiscard]] Result<nlohmann::json> ParseUntrustedJson(std::string_view text,
                                                        const std::string& field,
                                                        int max_depth = kMaxJsonDepth);

// Compact JSON text that never throws: bytes that are not UTF-8 (which no parsed document holds,
// but a message quoting a URL might) become U+FFFD instead of aborting the writer.
[[nodiscard]] std::string DumpJson(const nlohmann::json& j);

// The string member `key` of object `j`: "" when absent or null (an error when `required`), an
// error naming `key` when it is not a string, longer than `max_bytes`, or holds control
// characters (text may reach a header, a log line or the audit trail).
// `check_text` false (stored data) checks the type and length only.
[[nodiscard]] Result<std::string> TextMember(const nlohmann::json& j, const char* key,
                                             bool required, std::size_t max_bytes = 256,
                                             bool check_text = true);

}  // namespace medtwin::io
