// security/deidentify.h — research data that cannot identify anyone, by HIPAA Safe Harbor
// (45 CFR 164.514(b)(2)): the 18 identifier kinds removed — names, identifiers (patient id →
// a keyed pseudonym), all dates but the year (here: every date shifted by a secret per-patient
// offset of 1–365 days, so intervals within a patient are kept), ages over 89 grouped as "90+",
// device identifiers (observation sources dropped), and free-text care-team names; the patient
// record holds no address, so there is no ZIP code to truncate. Then k-anonymity (Sweeney 2002)
// on the quasi-identifiers (age, sex): age is generalized (1 → 5 → 10 → 20-year bands) until
// every (age, sex) class holds at least k patients, and patients still in smaller classes are
// suppressed.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "medtwin/core/time.h"
#include "medtwin/io/observation.h"
#include "medtwin/security/token.h"

namespace medtwin::security {

struct DeidentifyOptions {
  int k = 5;
  Instant as_of;  // ages are computed at this time (the export's)
};

// One consenting patient as the store holds it: the patient document (twin::PatientToJson) and
// their observations.
struct IdentifiedPatient {
  nlohmann::json record;
  std::vector<io::Observation> observations;
};

struct DeidentifiedCohort {
  nlohmann::json patients = nlohmann::json::array();      // {id, sex, age, conditions, models}
  nlohmann::json observations = nlohmann::json::array();  // {patient, code, value, unit, time}
  int k = 5;
  std::string age_generalization;  // "years", "5-year bands", "10-year bands", "20-year bands"
  int suppressed = 0;              // patients left out to reach k
};

// Stable pseudonym and date shift from the server's secret (the same patient maps the same way
// in every export; without the secret neither can be reversed).
[[nodiscard]] std::string Pseudonym(const SigningKey& secret, const std::string& patient_id);
[[nodiscard]] std::int64_t DateShiftUs(const SigningKey& secret, const std::string& patient_id);

[[nodiscard]] DeidentifiedCohort Deidentify(const std::vector<IdentifiedPatient>& patients,
                                            const SigningKey& secret,
                                            const DeidentifyOptions& options);

// Writers: patients.csv + observations.csv, and FHIR R4 NDJSON (Patient.ndjson,
// Observation.ndjson), into `dir` (created).
[[nodiscard]] Status WriteCohortCsv(const DeidentifiedCohort& cohort, const std::string& dir);
[[nodiscard]] Status WriteCohortFhirNdjson(const DeidentifiedCohort& cohort,
                                           const std::string& dir);

}  // namespace medtwin::security
