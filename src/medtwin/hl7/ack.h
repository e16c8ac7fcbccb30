// hl7/ack.h — the acknowledgement a sender waits for (HL7 v2.5.1 §2.9.2 original mode): MSA-1
// AA (stored), AE (an error in the message: fix and resend), AR (rejected: not a message medtwin
// takes, or not now); MSA-3 and ERR segments say why and where, with HL7 table 0357 codes so
// an interface engine can route the error without reading the text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/time.h"
#include "medtwin/hl7/message.h"

namespace medtwin::hl7 {

enum class AckCode { kAccept, kError, kReject };  // AA, AE, AR

// HL7 table 0357 (message error condition codes) that medtwin sends.
enum class ErrorCondition {
  kSegmentSequence = 100,
  kRequiredFieldMissing = 101,
  kDataType = 102,
  kTableValueNotFound = 103,
  kUnsupportedMessageType = 200,
  kUnsupportedEvent = 201,
  kUnknownKey = 204,  // a patient no identifier matches
  kDuplicateKey = 205,
  kRecordLocked = 206,  // not allowed: consent, authorization
  kInternal = 207,      // the store failed: resend
};

struct AckError {
  std::string segment;  // "OBX"; "" when the message could not be read
  int sequence = 0;     // which of those segments (1-based); 0 unknown
  int field = 0;        // field number; 0 for the segment as a whole
  ErrorCondition condition = ErrorCondition::kDataType;
  std::string message;  // for people (ERR-8, and MSA-3 for the first error)
  char severity = 'E';  // E, W (accepted with a warning), I
};

// Whether an ACK in HL7 version `version` (MSH-12) reports errors in ERR-1 (before v2.5)
// rather than ERR-2/3/4/8.
[[nodiscard]] bool LegacyErrorSegment(std::string_view version);

// The ACK to `received` (null when it could not be parsed: then MSA-2 is empty and the header
// is medtwin's own). `control_id` is this ACK's MSH-10.
[[nodiscard]] std::string BuildAck(const Message* received, AckCode code,
                                   const std::vector<AckError>& errors, Instant now,
                                   const std::string& control_id);

}  // namespace medtwin::hl7
