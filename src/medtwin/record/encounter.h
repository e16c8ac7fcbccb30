// record/encounter.h — the patient's stays (FHIR R4 Encounter) and where they lay during each
// (Encounter.location: ward, room, bed), as an ADT feed (HL7 v2 A01 admit, A02 transfer, A03
// discharge) or a FHIR Encounter tells the server. The hospital twin counts beds from them;
// the patient record keeps them, the current one last.
#pragma once

#include <string>
#include <vector>

namespace medtwin::record {

// A bed as HL7 v2 PV1-3 (PL: point of care ^ room ^ bed ^ facility) names it.
struct BedLocation {
  std::string ward;  // point of care (nursing unit)
  std::string room;
  std::string bed;
  std::string facility;
  bool operator==(const BedLocation&) const = default;
  [[nodiscard]] bool empty() const { return ward.empty() && room.empty() && bed.empty(); }
};

// Encounter.location: a bed and when the patient was in it.
struct EncounterLocation {
  BedLocation bed;
  std::string status;  // "active" (the patient is there) or "completed" (moved on)
  std::string start;   // RFC 3339
  std::string end;     // RFC 3339, "" while active
  bool operator==(const EncounterLocation&) const = default;
};

struct Encounter {
  std::string id;          // the visit number (PV1-19) or one the server made
  std::string status;      // "planned", "in-progress", "finished" (R4 EncounterStatus)
  std::string class_code;  // HL7 v3 ActCode: IMP inpatient, EMER, AMB, OBSENC, PRENC, SS
  std::string start;       // RFC 3339 (admission)
  std::string end;         // RFC 3339 (discharge), "" until then
  std::vector<EncounterLocation> locations;  // in order; the active one last
  bool operator==(const Encounter&) const = default;
};

// The encounter in progress (the last such), or null.
template <typename Encounters>  // std::vector<Encounter>, const or not
[[nodiscard]] auto CurrentEncounter(Encounters& encounters) -> decltype(&encounters.front()) {
  for (auto it = encounters.rbegin(); it != encounters.rend(); ++it) {
    if (it->status == "in-progress") return &*it;
  }
  return nullptr;
}

}  // namespace medtwin::record
