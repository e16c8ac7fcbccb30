// record/encounter.h — the patient's stays (FHIR R4 Encounter) and where they lay during each
// (Encounter.location: ward, room, bed), as an ADT feed (HL7 v2 A01 admit, A02 transfer, A03
// discharge) or a FHIR Encounter tells the server. The hospital twin counts beds from them;
// the patient record keeps them, the current one last.
#pragma once

#include <string>
#include <vector>

#include "medtwin/core/result.h"

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
  // R4 EncounterLocationStatus: "active" (the patient is there), "completed" (moved on),
  // "planned" or "reserved".
  std::string status;
  std::string start;  // RFC 3339
  std::string end;    // RFC 3339, "" while active
  // The Location resource (record/location.h) when the place is one ("ICU.1.A"); "" for a
  // place known only by name (a FHIR client's display, a contained Location).
  std::string location_id;
  std::string display;  // a FHIR client's Location display, when there is no bed
  bool operator==(const EncounterLocation&) const = default;
  // Is the patient in this place now?
  [[nodiscard]] bool occupied() const { return status == "active" && end.empty(); }
};

struct Encounter {
  std::string id;  // the visit number (PV1-19) or one the server made
  // R4 EncounterStatus: planned, arrived, triaged, in-progress, onleave, finished, cancelled,
  // entered-in-error, unknown (ADT uses in-progress and finished).
  std::string status;
  std::string class_code;  // HL7 v3 ActCode: IMP inpatient, EMER, AMB, OBSENC, PRENC, SS
  std::string start;       // RFC 3339 (admission)
  std::string end;         // RFC 3339 (discharge), "" until then
  std::vector<EncounterLocation> locations;  // in order; the active one last
  bool operator==(const Encounter&) const = default;
};

// The encounter in progress — the last such that has the patient in a place, else the last
// such (a consultation in progress during an admission does not hide the admission's bed) —
// or null.
template <typename Encounters>  // std::vector<Encounter>, const or not
[[nodiscard]] auto CurrentEncounter(Encounters& encounters) -> decltype(&encounters.front()) {
  decltype(&encounters.front()) last = nullptr;
  for (auto it = encounters.rbegin(); it != encounters.rend(); ++it) {
    if (it->status != "in-progress") continue;
    for (const auto& l : it->locations) {
      if (l.occupied()) return &*it;
    }
    if (last == nullptr) last = &*it;
  }
  return last;
}

// Where the patient is now: the place an encounter in progress has them in (the last such), or
// null.
[[nodiscard]] inline const EncounterLocation* CurrentPlace(
    const std::vector<Encounter>& encounters) {
  for (auto it = encounters.rbegin(); it != encounters.rend(); ++it) {
    if (it->status != "in-progress") continue;
    for (auto l = it->locations.rbegin(); l != it->locations.rend(); ++l) {
      if (l->occupied()) return &*l;
    }
  }
  return nullptr;
}

// Puts `e` in `encounters` (the stay with its id replaced, else added; the record keeps its
// last 100), by the rule that a patient lies in one place at a time: a stay in progress that
// puts them in a Location while another stay in progress has them in one is refused
// (kAlreadyExists naming Encounter.location; `patient` names the record in the message).
// Stays in progress without a place, such as an outpatient visit during an admission, are
// not. `created` (if given) says whether the stay is new.
[[nodiscard]] Status PlaceEncounter(std::vector<Encounter>& encounters, const Encounter& e,
                                    const std::string& patient, bool* created = nullptr);

}  // namespace medtwin::record
