// hl7/vitals.h — ORU^R01 observation results (HL7 v2.5.1 chapter 7; IHE PCD-01 "Communicate
// PCD Data" as bedside monitor gateways send it) read as the observations medtwin takes: each
// OBX with the patient (PID-3 identifiers), a LOINC code (OBX-3 in LOINC, or the monitor's
// IEEE 11073-10101 MDC code mapped to LOINC), the value as sent, the unit in UCUM (OBX-6 in
// UCUM, MDC or the common monitor spellings), the time (OBX-14, else OBR-7, else MSH-7) and
// the device (OBX-18, else MSH-3). An OBX medtwin does not use (an unknown code, a status
// that withdraws a result) is skipped with a warning, never silently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/hl7/ack.h"
#include "medtwin/hl7/message.h"
#include "medtwin/record/patient.h"

namespace medtwin::hl7 {

// How one sender's identifiers read: CX assigning authorities (PID-3.4, namespace or universal
// id) to the identifier systems medtwin stores (e.g. "HOSP" → "http://hospital.example/mrn");
// an authority not listed keeps its name ("urn:oid:" before an ISO universal id). Times without
// an offset are `utc_offset_min` east of UTC.
struct IdentifierPolicy {
  std::vector<std::pair<std::string, std::string>> systems;  // authority → system
  int utc_offset_min = 0;
};

// PID-3's identifiers (at most kMaxIdentifiers), each with the system `policy` gives its
// authority. "MEDTWIN" as the authority names medtwin's own patient id (system "medtwin").
inline constexpr int kMaxIdentifiers = 20;
[[nodiscard]] std::vector<record::Identifier> PatientIdentifiers(const Segment& pid,
                                                                 const IdentifierPolicy& policy);
inline constexpr std::string_view kMedtwinIdSystem = "medtwin";

struct Hl7Observation {
  int obx = 0;          // the OBX's position among the message's OBX segments (1-based)
  std::string code;     // LOINC
  std::string value;    // as sent: a number, or a code (ACVPU "A")
  bool numeric = true;  // false for a coded value
  std::string unit;     // UCUM; "" for a coded value
  Instant time;
  std::string source;  // the device
};

struct OruPatient {
  std::vector<record::Identifier> identifiers;
  std::vector<Hl7Observation> observations;
};

struct OruContent {
  std::vector<OruPatient> patients;  // one per PID (an ORU may carry several)
  // OBX not taken, each with its field and why: warnings (W) for what medtwin does not use (a
  // code outside its catalog, a withdrawn result), errors (E) for what is wrong (a value that
  // is not a number, no unit, no time). The other OBX are taken all the same.
  std::vector<AckError> issues;
};

// The observations of an ORU^R01; an error only for what makes the whole message unusable (no
// PID, an OBX before any PID, a PID without identifiers, an MSH-7 or OBR-7 that is no DTM).
[[nodiscard]] Result<OruContent> ReadOru(const Message& m, const IdentifierPolicy& policy);

// The LOINC code for a monitor's observation identifier (OBX-3: code, text, coding system).
[[nodiscard]] std::optional<std::string> LoincForObservation(std::string_view code,
                                                             std::string_view text,
                                                             std::string_view system);
// The UCUM unit for OBX-6 (code, text, coding system); the code itself when not recognised.
[[nodiscard]] std::string UcumForUnit(std::string_view code, std::string_view text,
                                      std::string_view system);

}  // namespace medtwin::hl7
