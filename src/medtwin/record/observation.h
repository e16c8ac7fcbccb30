// record/observation.h — one observed value of a patient, and the catalog of LOINC codes medtwin
// understands: each with the one UCUM unit its values are kept in and the range a real value
// can take. io parses and formats observations; everything else uses them as they are here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/time.h"

namespace medtwin::record {

struct ObservationCode {
  std::string_view loinc;
  std::string_view name;
  std::string_view unit;    // canonical UCUM unit ("" for coded values)
  double min = 0, max = 0;  // physically possible range, in the canonical unit
  bool coded = false;       // value is a code (ACVPU), not a number
  double molar_mass = 0;    // allows mol-based units (glucose)
};

// The FHIR observation category of a code (terminology.hl7.org/CodeSystem/observation-category):
// "vital-signs" for what the R4 vital-signs profile lists (heart and respiratory rate, SpO2,
// temperature, blood pressure), "laboratory" for blood and interstitial glucose, drug levels and
// INR, "exam" for the level of consciousness, "therapy" for inhaled oxygen.
[[nodiscard]] std::string_view ObservationCategory(std::string_view loinc);

// The catalog, in a stable order.
const std::vector<ObservationCode>& ObservationCatalog();
const ObservationCode* FindObservationCode(std::string_view loinc);

// LOINC codes used by the twin's models.
namespace loinc {
inline constexpr std::string_view kHeartRate = "8867-4";
inline constexpr std::string_view kRespiratoryRate = "9279-1";
inline constexpr std::string_view kSpo2 = "2708-6";
inline constexpr std::string_view kBodyTemperature = "8310-5";
inline constexpr std::string_view kSystolicBp = "8480-6";
inline constexpr std::string_view kDiastolicBp = "8462-4";
// The panel of the two (R4 vital-signs profile): medtwin stores its components.
inline constexpr std::string_view kBloodPressurePanel = "85354-9";
inline constexpr std::string_view kConsciousness = "80288-4";
inline constexpr std::string_view kInhaledO2Flow = "3151-8";
inline constexpr std::string_view kBloodGlucose = "2339-0";
inline constexpr std::string_view kCgmGlucose = "99504-3";
inline constexpr std::string_view kVancomycin = "20578-1";
inline constexpr std::string_view kInr = "6301-6";  // INR in platelet-poor plasma
// Covariates of the drug twins, measured: they also update the patient record.
inline constexpr std::string_view kBodyWeight = "29463-7";
inline constexpr std::string_view kBodyHeight = "8302-2";
inline constexpr std::string_view kCreatinine = "2160-0";  // creatinine in serum or plasma
}  // namespace loinc

// The levels of the ACVPU scale (RCP NEWS2, 2017) in order — a stored level of consciousness
// is its index — with their words and SNOMED CT codes (HL7 UK's CareConnect-ACVPU-1 value set).
struct AcvpuLevel {
  std::string_view letter;  // "A"
  std::string_view word;    // "alert"
  std::string_view snomed;  // "248234008"
  std::string_view snomed_display;
};
inline constexpr AcvpuLevel kAcvpuLevels[] = {{"A", "alert", "248234008", "Mentally alert"},
                                              {"C", "confusion", "130987000", "Acute confusion"},
                                              {"V", "voice", "300202002", "Responds to voice"},
                                              {"P", "pain", "450847001", "Responds to pain"},
                                              {"U", "unresponsive", "422768004", "Unresponsive"}};
// The level `text` names: its letter, its word in any case ("Alert"; "confused" and "new
// confusion" for C), or its SNOMED CT code; null if none.
[[nodiscard]] const AcvpuLevel* FindAcvpuLevel(std::string_view text);

struct Observation {
  std::string patient;
  std::string code;  // LOINC
  double value = 0;  // canonical unit; for coded values the index of the code
  std::string text;  // coded value as given ("A", "C", "V", "P", "U"); else empty
  Instant time;
  std::string source;
  // When the store first committed it (FHIR meta.lastUpdated, _lastUpdated); 0: not stored
  // yet, or stored before medtwin kept it.
  Instant stored_at{0};
};

}  // namespace medtwin::record
