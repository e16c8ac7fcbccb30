// io/fhir_encounter.h — FHIR R4 Encounter and Location in and out: the patient's stays with the
// places they lay (record/encounter.h) and the hospital's wards, rooms and beds
// (record/location.h), and the JSON a Location is stored as. What medtwin does not keep
// (participants, reasons, diagnoses, telecom, address, position, ...) is accepted and not sent
// back. Errors name the FHIR element at fault ("Encounter.location[1].status").
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "medtwin/core/result.h"
#include "medtwin/record/encounter.h"
#include "medtwin/record/location.h"

namespace medtwin::io {

// Is `id` a FHIR id ([A-Za-z0-9-.]{1,64})? kFhirIdRule says it to people.
[[nodiscard]] bool IsFhirId(std::string_view id);
inline constexpr const char* kFhirIdRule = "1–64 characters from A–Z, a–z, 0–9, '-', '.'";

// An Encounter as a client sends it. `encounter.id` is the body's id ("" when none); a
// location given as "Location/{id}" has location_id set (the caller fills its bed from the
// Location), one known by display or a contained "#id" only its display.
struct EncounterIn {
  std::string patient;  // from subject "Patient/{id}"
  record::Encounter encounter;
};
[[nodiscard]] Result<EncounterIn> FromFhirEncounter(const nlohmann::json& r);
[[nodiscard]] nlohmann::json ToFhirEncounter(const record::Encounter& e,
                                             const std::string& patient);
// "ICU 1-A": how a bed with no Location resource is shown.
[[nodiscard]] std::string BedDisplay(const record::BedLocation& bed);

[[nodiscard]] Result<record::Location> FromFhirLocation(const nlohmann::json& r);
// `operational_status`: the table 0116 code to show (the caller knows whether someone lies
// there); "" for none.
[[nodiscard]] nlohmann::json ToFhirLocation(const record::Location& l,
                                            std::string_view operational_status);

// The stored form (store/store.h LocationRow body).
[[nodiscard]] nlohmann::json LocationToJson(const record::Location& l);
[[nodiscard]] Result<record::Location> ParseStoredLocation(const nlohmann::json& j);

}  // namespace medtwin::io
