// io/fhir.h — FHIR R4 JSON in and out for what the twin consumes and produces: Patient and
// Observation (vital signs, glucose, drug levels; LOINC codes and UCUM quantities, blood
// pressure panels with components, partial dates), and the twin's outputs as RiskAssessment
// (NEWS2) and DetectedIssue (alerts). Errors name the FHIR element at fault
// ("Observation.valueQuantity.code").
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/io/observation.h"

namespace medtwin::io {

// A FHIR dateTime/instant/date (partial dates mean the start of that period, UTC).
[[nodiscard]] Result<Instant> ParseFhirDateTime(const std::string& text);

// One FHIR Observation → one or more medtwin observations (a blood-pressure panel gives its
// components). `patient_override` replaces subject when non-empty (e.g. a transaction's
// fullUrl mapping). Codes outside medtwin's catalog are an error naming Observation.code.
[[nodiscard]] Result<std::vector<Observation>> FromFhirObservation(const nlohmann::json& r,
                                                                   const ObservationLimits& limits);
[[nodiscard]] nlohmann::json ToFhirObservation(const Observation& o, const std::string& id);

// FHIR Patient ↔ medtwin's patient document (twin::PatientRecord JSON form).
[[nodiscard]] Result<nlohmann::json> FromFhirPatient(const nlohmann::json& r);
[[nodiscard]] nlohmann::json ToFhirPatient(const nlohmann::json& patient_doc);

// An OperationOutcome for an error (severity error, code `issue_type`).
[[nodiscard]] nlohmann::json OperationOutcome(const std::string& issue_type,
                                              const std::string& expression,
                                              const std::string& diagnostics);

}  // namespace medtwin::io
