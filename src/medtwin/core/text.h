// core/text.h — checks on text that arrives from outside, applied at every edge before the text
// is stored, logged, put in a header or serialized: identifiers (the FHIR id rule), UTF-8
// validity and control characters. Bytes that fail here never reach JSON or the audit trail.
// And numbers read from text: the whole text or nothing (std::from_chars; no exceptions, no
// leading spaces or trailing junk as std::stoll would accept).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "medtwin/core/result.h"

namespace medtwin {

// Ids of patients, devices and resources: 1–64 of A–Z a–z 0–9 '-' '.' '_' (FHIR R4 §2.26.0.1
// allows [A-Za-z0-9\-\.]{1,64}; '_' is medtwin's own, kept for ids made before this rule).
inline constexpr std::size_t kMaxIdLength = 64;
[[nodiscard]] bool IsValidId(std::string_view id);
// An error naming `field` when `id` is not valid (the id itself is not echoed: it may be bytes
// that cannot be shown).
[[nodiscard]] Status ValidateId(std::string_view id, const std::string& field);

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
[[nodiscard]] bool IsValidUtf8(std::string_view text);
// Any C0 control character (NUL, CR, LF, TAB, ESC …) or DEL.
[[nodiscard]] bool HasControlCharacters(std::string_view text);
// Valid UTF-8 without control characters, at most `max_bytes` long: text that may reach a
// header, a log line or a stored record. The error names `field` and the reason.
[[nodiscard]] Status ValidateText(std::string_view text, const std::string& field,
                                  std::size_t max_bytes);
// `text` with every byte outside printable ASCII written as \xHH, cut to `max_bytes`: for
// messages that must mention untrusted bytes.
[[nodiscard]] std::string Printable(std::string_view text, std::size_t max_bytes = 64);

// The number `text` is, entirely; nullopt otherwise (a double must also be finite).
[[nodiscard]] std::optional<std::int64_t> ParseInt64(std::string_view text);
[[nodiscard]] std::optional<std::uint64_t> ParseUint64(std::string_view text);
[[nodiscard]] std::optional<double> ParseDouble(std::string_view text);
// A TCP port, 0–65535, as the whole text.
[[nodiscard]] std::optional<int> ParsePort(std::string_view text);

}  // namespace medtwin
