#include "medtwin/record/observation.h"

#include <cctype>

#include "medtwin/core/units.h"

namespace medtwin::record {

const std::vector<ObservationCode>& ObservationCatalog() {
  // Ranges: what a living patient's reading can be, so a typo (SpO2 120 %) is refused while
  // extreme but real values pass.
  static const std::vector<ObservationCode> kCatalog = {
      {loinc::kHeartRate, "heart rate", "/min", 0, 350},
      {loinc::kRespiratoryRate, "respiratory rate", "/min", 0, 100},
      {loinc::kSpo2, "oxygen saturation (SpO2)", "%", 0, 100},
      {loinc::kBodyTemperature, "body temperature", "Cel", 20, 46},
      {loinc::kSystolicBp, "systolic blood pressure", "mm[Hg]", 0, 350},
      {loinc::kDiastolicBp, "diastolic blood pressure", "mm[Hg]", 0, 250},
      {loinc::kConsciousness, "level of consciousness (ACVPU)", "", 0, 4, true},
      {loinc::kInhaledO2Flow, "inhaled oxygen flow (0 = air)", "L/min", 0, 80},
      {loinc::kBloodGlucose, "glucose in blood", "mg/dL", 0, 2000, false,
       kGlucoseMolarMass_g_per_mol},
      {loinc::kCgmGlucose, "glucose in interstitial fluid (CGM)", "mg/dL", 0, 2000, false,
       kGlucoseMolarMass_g_per_mol},
      {loinc::kVancomycin, "vancomycin in serum or plasma", "mg/L", 0, 500},
      {loinc::kInr, "INR (prothrombin time, coagulation assay)", "{INR}", 0.5, 25},
      // The record's own limits (io/patient.cpp) for what a measurement may set.
      {loinc::kBodyWeight, "body weight", "kg", 0.3, 500},
      {loinc::kBodyHeight, "body height", "cm", 20, 280},
      {loinc::kCreatinine, "creatinine in serum or plasma", "mg/dL", 0.05, 30, false,
       kCreatinineMolarMass_g_per_mol},
  };
  return kCatalog;
}

std::string_view ObservationCategory(std::string_view code) {
  if (code == loinc::kHeartRate || code == loinc::kRespiratoryRate || code == loinc::kSpo2 ||
      code == loinc::kBodyTemperature || code == loinc::kSystolicBp ||
      code == loinc::kDiastolicBp || code == loinc::kBodyWeight || code == loinc::kBodyHeight) {
    return "vital-signs";
  }
  if (code == loinc::kConsciousness) return "exam";
  if (code == loinc::kInhaledO2Flow) return "therapy";
  return "laboratory";
}

const ObservationCode* FindObservationCode(std::string_view code) {
  for (const auto& c : ObservationCatalog()) {
    if (c.loinc == code) return &c;
  }
  return nullptr;
}

const AcvpuLevel* FindAcvpuLevel(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "confused" || lower == "new confusion") lower = "confusion";
  for (const AcvpuLevel& level : kAcvpuLevels) {
    if (text == level.letter || lower == level.word || text == level.snomed) return &level;
  }
  return nullptr;
}

}  // namespace medtwin::record
