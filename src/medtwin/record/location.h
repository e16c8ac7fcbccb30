// record/location.h — the hospital's places (FHIR R4 Location): wards, rooms and beds, each
// inside the one above it (partOf), with an operational status from HL7 table 0116 (bed status).
// A bed's occupancy is not stored here: it is whoever's encounter is active in it
// (record/encounter.h), so a Location and the ADT feed cannot disagree. What is stored is what
// only people know: a bed closed, being cleaned, isolated or contaminated.
// Ids follow one convention so ADT beds and FHIR clients meet: the ward "ICU", its room
// "ICU.1", the bed "ICU.1.A" (PV1-3 point of care, room, bed); LocationIdFor makes them.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/record/encounter.h"
#include "medtwin/record/patient.h"

namespace medtwin::record {

// HL7 v2 table 0116 "Bed Status" (v2.5.1 §3.4.3.40, also FHIR's v2-0116 code system, used by
// Location.operationalStatus).
struct BedStatus {
  std::string_view code;     // "U"
  std::string_view display;  // "Unoccupied"
};
[[nodiscard]] std::span<const BedStatus> BedStatuses();
[[nodiscard]] const BedStatus* FindBedStatus(std::string_view code);

// The levels of FHIR's location-physical-type (http://terminology.hl7.org/CodeSystem/
// location-physical-type) that a PV1-3 names: ward "wa", room "ro", bed "bd". Other codes
// (wing "wi", building "bu", vehicle "ve", house "ho", ...) are kept as given.
enum class LocationKind { kWard, kRoom, kBed };
[[nodiscard]] std::string_view PhysicalTypeCode(LocationKind kind);  // "wa", "ro", "bd"
// The display of a location-physical-type code ("Bed"), "" for a code not in R4's list.
[[nodiscard]] std::string_view PhysicalTypeDisplay(std::string_view code);

struct Location {
  std::string id;
  std::vector<Identifier> identifiers;
  std::string status = "active";  // R4 LocationStatus: active | suspended | inactive
  // HL7 table 0116 as people set it ("C" closed, "H" housekeeping, "I" isolated, "K"
  // contaminated; "" none). A bed's "O"/"U" come from encounters, not from here.
  std::string bed_status;
  std::string name;  // a bed as PV1-3 names it: "A"; its room "1"; its ward "ICU"
  std::vector<std::string> alias;
  std::string description;
  std::string mode = "instance";  // instance | kind
  std::string physical_type;      // location-physical-type code: "bd", "ro", "wa", ...
  std::string part_of;            // the id of the location it is in; "" at the top
  int version = 0;                // FHIR meta.versionId
  std::string last_updated;       // RFC 3339
  bool operator==(const Location&) const = default;
};

// The id convention above for the ward, room or bed a PV1-3 names (`kind` picks the level):
// parts joined by '.', each part's characters outside [A-Za-z0-9-] as '-'; "" when that level
// is not named (a bed with no room is "ICU.A"). At most 64 characters (FHIR id), longer parts
// cut.
[[nodiscard]] std::string LocationIdFor(const BedLocation& bed, LocationKind kind);
// The most exact place PV1-3 names: the bed's id, else the room's, else the ward's.
[[nodiscard]] std::string LocationIdFor(const BedLocation& bed);

}  // namespace medtwin::record
