// io/patient.h — the patient record (record/patient.h) as JSON, in and out. Every error names
// the field; unknown members are refused; text from clients may hold no control characters.
#pragma once

#include <nlohmann/json.hpp>

#include "medtwin/core/result.h"
#include "medtwin/record/patient.h"

namespace medtwin::io {

// Parses a patient document. With `base`, members present override it (PUT/PATCH); without,
// `id` may be absent (the server assigns one). Text from clients may hold no control
// characters; `from_store` reads a stored document as it was written (earlier versions
// allowed them), so an old record never stops the server from starting.
[[nodiscard]] Result<record::PatientRecord> ParsePatient(
    const nlohmann::json& j, const record::PatientRecord* base = nullptr, bool from_store = false);
// {"rules": {"spo2-low": {"raise": 92, "clear": 94, "critical": 88}, …},
//  "escalate_unacknowledged_min": 15}; every error names its field ("alarm_limits.rules.…").
[[nodiscard]] Result<record::AlarmLimits> ParseAlarmLimits(const nlohmann::json& j);
[[nodiscard]] nlohmann::json AlarmLimitsToJson(const record::AlarmLimits& limits);
// A consent as JSON: {"research", "share_with", "recorded_at", "withdrawn_at"}.
[[nodiscard]] nlohmann::json ConsentToJson(const record::Consent& c);
// {"id", "status", "class", "start", "end", "locations": [{"ward", "room", "bed", "facility",
//  "status", "start", "end"}]}.
[[nodiscard]] nlohmann::json EncounterToJson(const record::Encounter& e);
[[nodiscard]] nlohmann::json PatientToJson(const record::PatientRecord& p);

}  // namespace medtwin::io
