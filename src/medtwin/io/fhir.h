// io/fhir.h — FHIR R4 JSON in and out for what the twin consumes and produces: Patient and
// Observation (vital signs, glucose, drug levels; LOINC codes and UCUM quantities, blood
// pressure panels with components, partial dates), MedicationAdministration (doses), and the
// twin's outputs as RiskAssessment (NEWS2), DetectedIssue (alerts) and MedicationRequest (dose
// advice). Errors name the FHIR element at fault
// ("Observation.valueQuantity.code").
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/io/event.h"
#include "medtwin/io/observation.h"

namespace medtwin::io {

// A FHIR dateTime/instant/date (partial dates mean the start of that period, UTC).
[[nodiscard]] Result<Instant> ParseFhirDateTime(const std::string& text);

// One FHIR Observation → one or more medtwin observations (a blood-pressure panel gives its
// components). `patient_override` replaces subject when non-empty (e.g. a transaction's
// fullUrl mapping). Codes outside medtwin's catalog are an error naming Observation.code.
[[nodiscard]] Result<std::vector<Observation>> FromFhirObservation(const nlohmann::json& r,
                                                                   const ObservationLimits& limits);
// Values go out without binary noise (WithoutFloatNoise: 37.00000000000001 as 37); the level of
// consciousness coded in SNOMED CT.
[[nodiscard]] nlohmann::json ToFhirObservation(const Observation& o, const std::string& id);
// A systolic and a diastolic reading of one measurement (same time and device) as the R4
// vital-signs blood-pressure profile wants them: one 85354-9 panel with the two components.
[[nodiscard]] nlohmann::json ToFhirBloodPressurePanel(const Observation& systolic,
                                                      const Observation& diastolic,
                                                      const std::string& id);

// FHIR MedicationAdministration → a dose event (record::Event type "dose"). The drug is named from
// medicationCodeableConcept or a contained Medication (medicationReference "#id"); RxNorm 11124,
// SNOMED CT 372735009 or any name containing "vancomycin" is "vancomycin". Time from
// effectiveDateTime or effectivePeriod.start; an effectivePeriod with an end is an infusion over
// that period. dosage.dose in a mass unit becomes mg; other units (meq, patch) are kept as given.
// status "not-done" or "entered-in-error" records nothing (nullopt); errors name the element.
[[nodiscard]] Result<std::optional<Event>> FromFhirMedicationAdministration(
    const nlohmann::json& r, const ObservationLimits& limits);
[[nodiscard]] nlohmann::json ToFhirMedicationAdministration(const Event& dose,
                                                            const std::string& id);
// The twin's dose advice as a MedicationRequest: a recommendation (intent "proposal") or an
// accepted recommendation (intent "order"), both status "draft" until signed in the EHR.
// `advice` is the twin's recommendation or order JSON (dose_mg, interval_h, infusion_h, drug).
[[nodiscard]] nlohmann::json ToFhirMedicationRequest(const nlohmann::json& advice,
                                                     const std::string& patient,
                                                     const std::string& id, bool order);

// FHIR Patient ↔ medtwin's patient document (record::PatientRecord JSON form).
[[nodiscard]] Result<nlohmann::json> FromFhirPatient(const nlohmann::json& r);
[[nodiscard]] nlohmann::json ToFhirPatient(const nlohmann::json& patient_doc);

// An OperationOutcome for an error (severity error, code `issue_type`).
[[nodiscard]] nlohmann::json OperationOutcome(const std::string& issue_type,
                                              const std::string& expression,
                                              const std::string& diagnostics);

}  // namespace medtwin::io
