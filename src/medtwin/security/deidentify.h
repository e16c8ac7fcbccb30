// security/deidentify.h — research data that cannot identify anyone, by HIPAA Safe Harbor
// (45 CFR 164.514(b)(2)): the 18 identifier kinds removed — names, identifiers (patient id →
// a keyed pseudonym, salted per export so two exports cannot be joined unless an administrator
// asks for a study key), all dates but the year (here: every date shifted by a secret
// per-patient, per-export offset of 1–365 days and generalized to the day, and each patient's
// most recent 30–120 days (a secret per-patient embargo) withheld, so "the newest reading was
// taken just before the export" cannot recover the shift), ages over 89 grouped as "90+",
// device identifiers (observation sources dropped), and free text (care teams; conditions go
// out only as SNOMED CT or ICD-10 codes, others dropped). Then k-anonymity (Sweeney 2002) on the
// quasi-identifiers (age, sex, condition codes): age is generalized (1 → 5 → 10 → 20-year bands)
// until every class holds at least k patients, and patients still in smaller classes are
// suppressed. The server enforces a minimum k (`serve --research-min-k`).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "medtwin/core/time.h"
#include "medtwin/record/observation.h"
#include "medtwin/security/token.h"

namespace medtwin::security {

struct DeidentifyOptions {
  int k = 5;
  Instant as_of;  // ages are computed at this time (the export's)
  // Mixed into pseudonyms and date shifts: random per export (unlinkable exports), or a study
  // key an administrator chose (the same pseudonyms in every export of that study).
  std::string salt;
  // Each patient's newest readings withheld: a secret per-patient embargo in this range.
  int embargo_min_days = 30, embargo_max_days = 120;
};

// A condition as a code, or nullopt when it is free text: "SNOMED:<6–18 digits>" (also written
// "SCT:…", "http://snomed.info/sct|…" or bare digits) or "ICD-10:<code>" (also bare, e.g.
// "E11.9", "I10").
[[nodiscard]] std::optional<std::string> ConditionCode(const std::string& condition);

// One consenting patient as the store holds it: the patient document (io::PatientToJson) and
// their observations.
struct IdentifiedPatient {
  nlohmann::json record;
  std::vector<record::Observation> observations;
};

struct DeidentifiedCohort {
  nlohmann::json patients = nlohmann::json::array();      // {id, sex, age, conditions, models}
  nlohmann::json observations = nlohmann::json::array();  // {patient, code, value, unit, time}
  int k = 5;
  std::string age_generalization;  // "years", "5-year bands", "10-year bands", "20-year bands"
  int suppressed = 0;              // patients left out to reach k
};

// Pseudonym, date shift and embargo from the server's secret and the export's salt (without the
// secret none can be reversed; with another salt they differ).
[[nodiscard]] std::string Pseudonym(const SigningKey& secret, const std::string& salt,
                                    const std::string& patient_id);
[[nodiscard]] std::int64_t DateShiftUs(const SigningKey& secret, const std::string& salt,
                                       const std::string& patient_id);
[[nodiscard]] int EmbargoDays(const SigningKey& secret, const DeidentifyOptions& options,
                              const std::string& patient_id);

[[nodiscard]] DeidentifiedCohort Deidentify(const std::vector<IdentifiedPatient>& patients,
                                            const SigningKey& secret,
                                            const DeidentifyOptions& options);

// Writers: patients.csv + observations.csv, and FHIR R4 NDJSON (Patient.ndjson,
// Observation.ndjson), into `dir` (created).
[[nodiscard]] Status WriteCohortCsv(const DeidentifiedCohort& cohort, const std::string& dir);
[[nodiscard]] Status WriteCohortFhirNdjson(const DeidentifiedCohort& cohort,
                                           const std::string& dir);

}  // namespace medtwin::security
