#include "medtwin/hl7/vitals.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "medtwin/core/text.h"
#include "medtwin/record/observation.h"

namespace medtwin::hl7 {
namespace {

// IEEE 11073-10101 nomenclature (MDC) for the vital signs medtwin uses, as IHE PCD-01 monitor
// gateways send them in OBX-3: the numeric code (partition 2, "SCADA": 2·65536 + term code) and
// the reference id. Several terms mean the same LOINC quantity (a pulse from the oximeter or
// from the ECG; a cuff, non-invasive or arterial systolic pressure).
struct MonitorCode {
  std::string_view mdc_code;
  std::string_view mdc_refid;
  std::string_view loinc;
};
constexpr std::array<MonitorCode, 19> kMonitorCodes{{
    {"147842", "MDC_ECG_HEART_RATE", record::loinc::kHeartRate},
    {"149514", "MDC_PULS_RATE", record::loinc::kHeartRate},
    {"149522", "MDC_BLD_PULS_RATE_INV", record::loinc::kHeartRate},
    {"149530", "MDC_PULS_OXIM_PULS_RATE", record::loinc::kHeartRate},
    {"149546", "MDC_PULS_RATE_NON_INV", record::loinc::kHeartRate},
    {"151562", "MDC_RESP_RATE", record::loinc::kRespiratoryRate},
    {"151578", "MDC_TTHOR_RESP_RATE", record::loinc::kRespiratoryRate},
    {"150456", "MDC_PULS_OXIM_SAT_O2", record::loinc::kSpo2},
    {"150344", "MDC_TEMP", record::loinc::kBodyTemperature},
    {"150364", "MDC_TEMP_BODY", record::loinc::kBodyTemperature},
    {"188496", "MDC_TEMP_AXILLA", record::loinc::kBodyTemperature},
    {"150017", "MDC_PRESS_BLD_SYS", record::loinc::kSystolicBp},
    {"150018", "MDC_PRESS_BLD_DIA", record::loinc::kDiastolicBp},
    {"150021", "MDC_PRESS_BLD_NONINV_SYS", record::loinc::kSystolicBp},
    {"150022", "MDC_PRESS_BLD_NONINV_DIA", record::loinc::kDiastolicBp},
    {"150301", "MDC_PRESS_CUFF_SYS", record::loinc::kSystolicBp},
    {"150302", "MDC_PRESS_CUFF_DIA", record::loinc::kDiastolicBp},
    {"150033", "MDC_PRESS_BLD_ART_SYS", record::loinc::kSystolicBp},
    {"150034", "MDC_PRESS_BLD_ART_DIA", record::loinc::kDiastolicBp},
}};

// MDC units (partition 4, "DIM") and the spellings monitors put in OBX-6 without a coding
// system, to UCUM.
struct UnitAlias {
  std::string_view alias;
  std::string_view ucum;
};
constexpr std::array<UnitAlias, 26> kUnitAliases{{
    {"262688", "%"},
    {"MDC_DIM_PERCENT", "%"},
    {"264864", "/min"},
    {"MDC_DIM_BEAT_PER_MIN", "/min"},
    {"264928", "/min"},
    {"MDC_DIM_RESP_PER_MIN", "/min"},
    {"266016", "mm[Hg]"},
    {"MDC_DIM_MMHG", "mm[Hg]"},
    {"268192", "Cel"},
    {"MDC_DIM_DEGC", "Cel"},
    {"266560", "[degF]"},
    {"MDC_DIM_FAHR", "[degF]"},
    {"bpm", "/min"},
    {"beats/min", "/min"},
    {"rpm", "/min"},
    {"br/min", "/min"},
    {"breaths/min", "/min"},
    {"1/min", "/min"},
    {"mmHg", "mm[Hg]"},
    {"mm Hg", "mm[Hg]"},
    {"degC", "Cel"},
    {"\xC2\xB0"
     "C",
     "Cel"},
    {"C", "Cel"},
    {"degF", "[degF]"},
    {"\xC2\xB0"
     "F",
     "[degF]"},
    {"F", "[degF]"},
}};

bool IsLoincSystem(std::string_view s) {
  return s == "LN" || s == "LOINC" || s == "http://loinc.org";
}

}  // namespace

std::optional<std::string> LoincForObservation(std::string_view code, std::string_view text,
                                               std::string_view system) {
  if (IsLoincSystem(system) || (system.empty() && record::FindObservationCode(code) != nullptr)) {
    if (record::FindObservationCode(code) != nullptr) return std::string(code);
    return std::nullopt;
  }
  for (const MonitorCode& m : kMonitorCodes) {
    if (code == m.mdc_code || code == m.mdc_refid || text == m.mdc_refid) {
      return std::string(m.loinc);
    }
  }
  return std::nullopt;
}

std::string UcumForUnit(std::string_view code, std::string_view text, std::string_view system) {
  if (system == "UCUM" || system == "http://unitsofmeasure.org") return std::string(code);
  for (const UnitAlias& a : kUnitAliases) {
    if (code == a.alias || (!text.empty() && text == a.alias)) return std::string(a.ucum);
  }
  return std::string(code);
}

std::vector<record::Identifier> PatientIdentifiers(const Segment& pid,
                                                   const IdentifierPolicy& policy) {
  std::vector<record::Identifier> out;
  // Each repetition read once (a hostile PID-3 of a million repetitions costs one pass).
  const int repetitions = std::min(pid.Repetitions(3), kMaxIdentifiers);
  for (int r = 0; r < repetitions; ++r) {
    record::Identifier id;
    id.value = pid.Get(3, 1, 1, r);
    if (id.value.empty()) continue;
    const std::string ns = pid.Get(3, 4, 1, r);
    const std::string universal = pid.Get(3, 4, 2, r);
    const std::string universal_type = pid.Get(3, 4, 3, r);
    const std::string authority = !ns.empty() ? ns : universal;
    if (authority == "MEDTWIN") {
      id.system = std::string(kMedtwinIdSystem);
    } else {
      id.system = authority;
      if (ns.empty() && universal_type == "ISO") id.system = "urn:oid:" + universal;
      for (const auto& [from, system] : policy.systems) {
        if (from == ns || (!universal.empty() && from == universal)) id.system = system;
      }
    }
    out.push_back(std::move(id));
  }
  return out;
}

Result<OruContent> ReadOru(const Message& m, const IdentifierPolicy& policy) {
  OruContent out;
  std::optional<Instant> message_time;
  if (!m.msh().Get(7).empty()) {
    auto t = ParseDtm(m.msh().Get(7), policy.utc_offset_min);
    if (!t.ok()) return t.error().WithContext("MSH-7");
    message_time = *t;
  }
  std::optional<Instant> request_time;  // OBR-7 of the current order
  const std::string default_source =
      !m.msh().Get(3).empty() ? m.msh().Get(3) : m.sending_facility();
  int obx_number = 0;
  int pid_number = 0;
  for (const Segment& s : m.segments()) {
    if (s.id() == "PID") {
      ++pid_number;
      OruPatient p;
      p.identifiers = PatientIdentifiers(s, policy);
      if (p.identifiers.empty()) {
        return InvalidArgument("PID[" + std::to_string(pid_number) + "]-3",
                               "a patient identifier is required");
      }
      out.patients.push_back(std::move(p));
      request_time.reset();
    } else if (s.id() == "OBR") {
      request_time.reset();
      if (!s.Get(7).empty()) {
        auto t = ParseDtm(s.Get(7), policy.utc_offset_min);
        if (!t.ok()) return t.error().WithContext("OBR-7");
        request_time = *t;
      }
    } else if (s.id() == "OBX") {
      ++obx_number;
      // What is wrong with one OBX is said in the ACK, and the others are still stored.
      auto issue = [&](int field, ErrorCondition c, std::string why, char severity) {
        out.issues.push_back(AckError{"OBX", obx_number, field, c, std::move(why), severity});
      };
      if (out.patients.empty()) {
        return Error{ErrorCode::kInvalidArgument, "OBX[" + std::to_string(obx_number) + "]",
                     "an OBX before any PID"};
      }
      const std::string status = s.Get(11);
      if (status == "X" || status == "D" || status == "W" || status == "N" || status == "I" ||
          status == "O") {
        issue(11, ErrorCondition::kTableValueNotFound,
              "result status '" + Printable(status, 4) + "' carries no value to store", 'W');
        continue;
      }
      const std::string code = s.Get(3, 1), text = s.Get(3, 2), system = s.Get(3, 3);
      std::optional<std::string> loinc = LoincForObservation(code, text, system);
      if (!loinc && !s.Get(3, 4).empty()) {  // the alternate coding
        loinc = LoincForObservation(s.Get(3, 4), s.Get(3, 5), s.Get(3, 6));
      }
      if (!loinc) {
        issue(3, ErrorCondition::kTableValueNotFound,
              "'" + Printable(code, 24) + "^" + Printable(system, 12) +
                  "' is no observation medtwin uses",
              'W');
        continue;
      }
      Hl7Observation o;
      o.obx = obx_number;
      o.code = *loinc;
      const record::ObservationCode* catalog = record::FindObservationCode(o.code);
      const std::string type = s.Get(2);
      if (catalog != nullptr && catalog->coded) {
        const record::AcvpuLevel* level = record::FindAcvpuLevel(s.Get(5, 1));
        if (level == nullptr) level = record::FindAcvpuLevel(s.Get(5, 2));
        if (level == nullptr) {
          issue(5, ErrorCondition::kDataType, "level of consciousness is one of A, C, V, P, U",
                'E');
          continue;
        }
        o.value = std::string(level->letter);
        o.numeric = false;
      } else {
        if (type == "SN") {  // structured numeric: comparator ^ number; only "=" or none
          const std::string comparator = s.Get(5, 1);
          if (!comparator.empty() && comparator != "=") {
            issue(5, ErrorCondition::kDataType,
                  "a value '" + Printable(comparator, 4) + " …' is a bound, not a measurement",
                  'W');
            continue;
          }
          o.value = s.Get(5, 2);
        } else {
          o.value = s.Get(5, 1);
        }
        if (!ParseDouble(o.value)) {
          issue(5, ErrorCondition::kDataType, "'" + Printable(o.value, 24) + "' is not a number",
                'E');
          continue;
        }
        o.unit = UcumForUnit(s.Get(6, 1), s.Get(6, 2), s.Get(6, 3));
        if (o.unit.empty()) {
          issue(6, ErrorCondition::kRequiredFieldMissing, "the unit is required", 'E');
          continue;
        }
      }
      std::optional<Instant> time;
      if (!s.Get(14).empty()) {
        auto t = ParseDtm(s.Get(14), policy.utc_offset_min);
        if (!t.ok()) {
          issue(14, ErrorCondition::kDataType, t.error().message, 'E');
          continue;
        }
        time = *t;
      }
      if (!time) time = request_time;
      if (!time) time = message_time;
      if (!time) {
        issue(14, ErrorCondition::kRequiredFieldMissing,
              "no time (OBX-14, OBR-7 or MSH-7) for the observation", 'E');
        continue;
      }
      o.time = *time;
      o.source = !s.Get(18).empty() ? s.Get(18) : default_source;
      out.patients.back().observations.push_back(std::move(o));
    }
  }
  if (out.patients.empty()) return InvalidArgument("PID", "an ORU^R01 names its patient in PID");
  return out;
}

}  // namespace medtwin::hl7
