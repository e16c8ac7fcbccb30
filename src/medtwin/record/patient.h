// record/patient.h — the patient record a twin is built around: demographics, size, renal
// function, conditions, genotype calls, which models the twin runs, the clinician's alarm
// limits, the care team and consent. io/patient.h reads and writes it as JSON (every error
// naming the field). Identifiers (id, name) are data, never written to logs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/record/encounter.h"

namespace medtwin::record {

// A clinician's limits for one rule, replacing its defaults where given.
struct AlarmLimit {
  std::string kind;  // a rule of monitor::Rules()
  std::optional<double> raise, clear, critical;
  bool operator==(const AlarmLimit&) const = default;
};
struct AlarmLimits {
  std::vector<AlarmLimit> limits;
  // Open alerts unacknowledged this long are escalated one severity (0: never).
  int escalate_unacknowledged_min = 0;
  [[nodiscard]] const AlarmLimit* For(std::string_view kind) const;
  bool operator==(const AlarmLimits&) const = default;
};

struct GenotypeCall {
  std::string gene;                      // "CYP2C19"
  std::string diplotype;                 // "*1/*2"
  std::string phenotype;                 // "Intermediate Metabolizer"
  std::optional<double> activity_score;  // CPIC activity score where the gene has one
  bool operator==(const GenotypeCall&) const = default;
};

// The patient's consent, FHIR Consent-like: research use, sharing with named organizations, and
// a withdrawal date after which neither holds (exports after it leave the patient out).
struct Consent {
  bool research = false;
  std::vector<std::string> share_with;  // organizations
  std::string recorded_at;              // RFC 3339, when this consent was given
  std::string withdrawn_at;             // RFC 3339, or "" if not withdrawn
};

// A consent as it was before a change: who changed it, and when (the history is kept by the
// server; clients cannot write it).
struct ConsentChange {
  Consent consent;
  std::string changed_at;  // RFC 3339
  std::string by;          // token subject
};

// An identifier the hospital knows the patient by (FHIR Identifier): the MRN, a national
// number. `system` is the namespace (a URI, e.g. "urn:oid:2.16.840.1.113883.19.5"); "" when the
// sender gave none. A system|value names one patient.
struct Identifier {
  std::string system;
  std::string value;
  bool operator==(const Identifier&) const = default;
};

// How to reach the patient (FHIR ContactPoint): system phone|fax|email|pager|url|sms|other,
// use home|work|temp|old|mobile.
struct ContactPoint {
  std::string system;
  std::string value;
  std::string use;
  bool operator==(const ContactPoint&) const = default;
};

struct PatientRecord {
  std::string id;
  // Which version of the record this is (FHIR meta.versionId: 1 when created, +1 with every
  // stored change; 0 for a record stored before versions were kept) and when it was stored
  // (RFC 3339, meta.lastUpdated). Written by the server.
  int version = 0;
  std::string last_updated;
  std::string name;  // optional display name
  // Direct identifiers (with name and birth date: encrypted at rest with data keys, never
  // exported for research).
  std::vector<Identifier> identifiers;
  std::vector<ContactPoint> telecom;
  std::optional<std::string> birth_date;  // YYYY-MM-DD
  std::string sex = "unknown";            // female, male, other, unknown
  // Self-reported race in the categories of the IWPC warfarin algorithm, the one model here
  // that takes it (it was fitted with it): "white", "asian", "black", "mixed", "other",
  // "unknown", or "" when not recorded. Not exported for research (a quasi-identifier).
  std::string race;
  std::optional<double> weight_kg, height_cm, scr_mg_dl;
  // When a measurement (an observation: body weight, height, serum creatinine) set one of them,
  // by field name ("weight_kg"): RFC 3339. Written by the server; a value a client sets has
  // none (entered, not measured).
  std::map<std::string, std::string> measured_at;
  std::vector<std::string> conditions;
  std::vector<GenotypeCall> genotype;
  int spo2_scale = 1;  // 2: NEWS2 SpO2 scale 2 (hypercapnic respiratory failure)
  // The kind of unit caring for the patient, for the alarm defaults (monitor::UnitTypes():
  // "ward", "maternity"); "" is a general ward.
  std::string unit_type;
  std::vector<std::string> models = {"news2"};  // news2, glucose, vancomycin, warfarin
  std::string population_model;                 // for drug twins, e.g. vancomycin_goti2018
  std::string virtual_patient;                  // glucose twin parameters, e.g. adult#001
  // Closed-loop insulin for the glucose twin: "" (off: the twin only forecasts and warns), or
  // the controller ("bb", "pid", "mpc") whose commands go back to the pump on each CGM reading.
  std::string closed_loop;
  // Who may see and change this patient's data with a clinician token (token subjects).
  std::vector<std::string> care_team;
  // The patient's stays and beds, oldest first (written by the server from ADT messages and
  // FHIR Encounters; CurrentEncounter() finds the one in progress).
  std::vector<Encounter> encounters;
  Consent consent;
  std::vector<ConsentChange> consent_history;  // earlier consents, oldest first
  // The clinician's alarm limits over monitor::Rules() and the escalation time (audited as any
  // change of the record).
  AlarmLimits alarm_limits;
};

// Whether `p` allowed research use at `at` (given, and not withdrawn: a recorded withdrawal counts
// at once, whatever date it names).
[[nodiscard]] bool ResearchConsentAt(const PatientRecord& p, const std::string& at_rfc3339);

}  // namespace medtwin::record
