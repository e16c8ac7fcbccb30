// hl7/adt.h — ADT (admission, discharge, transfer; HL7 v2.5.1 chapter 3) messages read as what
// they change: A01 admit (an encounter begins in a bed), A02 transfer (to another bed), A03
// discharge (the encounter ends), A08 update (demographics or visit details). The patient is
// named by PID-3 identifiers; demographics from PID-5/7/8; the visit from PV1 (class PV1-2,
// bed PV1-3, visit number PV1-19, admit and discharge times PV1-44/45); when it happened from
// EVN-6, else EVN-2, else MSH-7.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/hl7/message.h"
#include "medtwin/hl7/vitals.h"
#include "medtwin/record/encounter.h"
#include "medtwin/record/location.h"
#include "medtwin/record/patient.h"

namespace medtwin::hl7 {

enum class AdtEvent { kAdmit, kTransfer, kDischarge, kUpdate };

struct AdtContent {
  AdtEvent event = AdtEvent::kUpdate;
  std::vector<record::Identifier> identifiers;  // PID-3
  std::string name;                             // PID-5 as "Given Family"; "" if not sent
  std::optional<std::string> birth_date;        // PID-7 as YYYY-MM-DD
  std::string sex;                              // PID-8 as FHIR gender; "" if not sent
  std::string visit_number;                     // PV1-19
  std::string class_code;                       // PV1-2 as v3 ActCode; "" if not sent
  record::BedLocation bed;                      // PV1-3
  Instant when;                                 // the event
  std::optional<Instant> admitted, discharged;  // PV1-44, PV1-45
};

// The ADT events medtwin takes; others are refused (AR: unsupported event, HL7 0357 201).
[[nodiscard]] Result<AdtContent> ReadAdt(const Message& m, const IdentifierPolicy& policy);

// The patient's encounters after `adt` (a new one on admit, a bed change on transfer, the end
// on discharge, details on update). Refuses a transfer or discharge with no encounter to
// apply it to.
[[nodiscard]] Result<std::vector<record::Encounter>> ApplyAdt(
    std::vector<record::Encounter> encounters, const AdtContent& adt, const std::string& new_id);

}  // namespace medtwin::hl7
