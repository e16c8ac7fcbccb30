#include "medtwin/hl7/ack.h"

#include <string_view>

namespace medtwin::hl7 {
namespace {

std::string_view ConditionText(ErrorCondition c) {
  switch (c) {
    case ErrorCondition::kSegmentSequence:
      return "Segment sequence error";
    case ErrorCondition::kRequiredFieldMissing:
      return "Required field missing";
    case ErrorCondition::kDataType:
      return "Data type error";
    case ErrorCondition::kTableValueNotFound:
      return "Table value not found";
    case ErrorCondition::kUnsupportedMessageType:
      return "Unsupported message type";
    case ErrorCondition::kUnsupportedEvent:
      return "Unsupported event code";
    case ErrorCondition::kUnknownKey:
      return "Unknown key identifier";
    case ErrorCondition::kDuplicateKey:
      return "Duplicate key identifier";
    case ErrorCondition::kRecordLocked:
      return "Application record locked";
    case ErrorCondition::kInternal:
      return "Application internal error";
  }
  return "Application internal error";
}

// The first `max_bytes` of UTF-8 `text`, not cutting a character in two.
std::string_view Cut(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

bool LegacyErrorSegment(std::string_view version) {
  // MSH-12's first component: "2.3", "2.3.1", "2.4" are before 2.5; "2.5", "2.5.1", "2.6", …
  // are not.
  version = version.substr(0, version.find_first_of("^~&\\"));
  if (!version.starts_with("2.") || version.size() < 3) return false;
  const char minor = version[2];
  return minor >= '1' && minor <= '4' && (version.size() == 3 || version[3] == '.');
}

std::string BuildAck(const Message* received, AckCode code, const std::vector<AckError>& errors,
                     Instant now, const std::string& control_id) {
  const Delimiters d = received != nullptr ? received->delimiters() : Delimiters{};
  const std::string f(1, d.field);
  const std::string c(1, d.component);
  auto esc = [&](std::string_view text) { return Escape(text, d); };
  std::string out;
  // The header: sender and receiver swapped.
  std::string app = "MEDTWIN", facility, to_app, to_facility, processing = "P", version = "2.5.1",
              trigger;
  if (received != nullptr) {
    const Segment& msh = received->msh();
    if (!msh.Raw(5).empty()) app = std::string(msh.Raw(5));
    facility = std::string(msh.Raw(6));
    to_app = std::string(msh.Raw(3));
    to_facility = std::string(msh.Raw(4));
    if (!msh.Raw(11).empty()) processing = std::string(msh.Raw(11));
    if (!msh.Raw(12).empty()) version = std::string(msh.Raw(12));
    trigger = esc(received->trigger());
  }
  out += "MSH" + f + std::string{d.component, d.repetition, d.escape, d.subcomponent} + f + app +
         f + facility + f + to_app + f + to_facility + f + FormatDtm(now) + f + f + "ACK" + c +
         trigger + c + "ACK" + f + esc(control_id) + f + processing + f + version + "\r";
  const char* msa = code == AckCode::kAccept ? "AA" : code == AckCode::kError ? "AE" : "AR";
  out +=
      std::string("MSA") + f + msa + f + (received != nullptr ? esc(received->control_id()) : "");
  if (!errors.empty()) out += f + esc(Cut(errors.front().message, 80));
  out += "\r";
  // Before v2.5 ERR had one field, ERR-1 (ELD: segment ^ sequence ^ field ^ code&text&system);
  // a v2.3 receiver reads nothing else. From v2.5 on, ERR-2 (location), ERR-3 (the code), ERR-4
  // (severity) and ERR-8 (the text).
  const bool legacy = LegacyErrorSegment(version);
  const std::string sub(1, d.subcomponent);
  std::string legacy_errors;
  for (const AckError& e : errors) {
    std::string location;
    if (!e.segment.empty()) {
      location = esc(e.segment) + c + std::to_string(e.sequence > 0 ? e.sequence : 1);
      if (e.field > 0 || legacy) location += c + (e.field > 0 ? std::to_string(e.field) : "");
    }
    const std::string condition = std::to_string(static_cast<int>(e.condition));
    if (legacy) {
      // One ERR segment before v2.5: each error a repetition of ERR-1.
      legacy_errors += (legacy_errors.empty() ? "" : std::string(1, d.repetition)) + location +
                       (location.empty() ? c + c + c : c) + condition + sub +
                       esc(ConditionText(e.condition)) + sub + "HL70357";
      continue;
    }
    out += "ERR" + f + f + location + f + condition + c + esc(ConditionText(e.condition)) + c +
           "HL70357" + f + e.severity + f + f + f + f + esc(e.message) + "\r";
  }
  if (!legacy_errors.empty()) out += "ERR" + f + legacy_errors + "\r";
  return out;
}

}  // namespace medtwin::hl7
