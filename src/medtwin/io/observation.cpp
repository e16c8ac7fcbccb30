#include "medtwin/io/observation.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "medtwin/core/format.h"
#include "medtwin/core/text.h"
#include "medtwin/core/units.h"
#include "medtwin/io/json_input.h"

namespace medtwin::io {

namespace {}  // namespace

Result<Observation> ParseObservation(const nlohmann::json& j, std::string_view patient_from_path,
                                     const ObservationLimits& limits) {
  if (!j.is_object()) return InvalidArgument("observation", "must be a JSON object");
  Observation o;
  MEDTWIN_TRY(o.patient, TextMember(j, "patient", patient_from_path.empty()));
  if (!patient_from_path.empty()) {
    if (o.patient.empty()) {
      o.patient = std::string(patient_from_path);
    } else if (o.patient != patient_from_path) {
      return InvalidArgument("patient", "'" + o.patient + "' differs from the patient in the URL");
    }
  }
  if (o.patient.empty()) return InvalidArgument("patient", "empty");
  MEDTWIN_RETURN_IF_ERROR(ValidateId(o.patient, "patient"));
  MEDTWIN_TRY(o.code, TextMember(j, "code", true));
  const ObservationCode* code = FindObservationCode(o.code);
  if (code == nullptr) {
    return InvalidArgument("code", "unknown LOINC code '" + o.code + "'");
  }
  auto value = j.find("value");
  if (value == j.end() || value->is_null()) return InvalidArgument("value", "missing");
  if (code->coded) {
    if (!value->is_string()) {
      return InvalidArgument("value", std::string(code->name) + " is one of A, C, V, P, U");
    }
    o.text = value->get<std::string>();
    const record::AcvpuLevel* level = record::FindAcvpuLevel(o.text);
    if (level == nullptr || o.text != level->letter) {
      return InvalidArgument("value", "'" + o.text.substr(0, 16) + "' is not one of A, C, V, P, U");
    }
    o.value = static_cast<double>(level - record::kAcvpuLevels);
  } else {
    if (!value->is_number()) return InvalidArgument("value", "must be a number");
    const double v = value->get<double>();
    if (!std::isfinite(v)) return InvalidArgument("value", "must be finite");
    MEDTWIN_TRY(std::string unit, TextMember(j, "unit", true));
    auto converted = ConvertUnit(v, unit, code->unit, code->molar_mass);
    if (!converted.ok()) {
      return Error{ErrorCode::kUnitMismatch, "unit",
                   "'" + unit.substr(0, 32) + "' is not a unit of " + std::string(code->name) +
                       " (expected " + std::string(code->unit) + " or a convertible unit)"};
    }
    o.value = *converted;
    if (o.value < code->min || o.value > code->max) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%g %s is outside the possible range %g–%g %s", o.value,
                    std::string(code->unit).c_str(), code->min, code->max,
                    std::string(code->unit).c_str());
      return InvalidArgument("value", buf);
    }
  }
  MEDTWIN_TRY(std::string time, TextMember(j, "time", true));
  auto t = ParseRfc3339(time);
  if (!t.ok()) return InvalidArgument("time", "'" + time.substr(0, 40) + "' is not RFC 3339");
  o.time = *t;
  if (limits.now.us_since_epoch > 0 &&
      o.time.us_since_epoch > limits.now.us_since_epoch + limits.max_future_us) {
    return InvalidArgument("time", "more than 5 min in the future");
  }
  if (o.time < limits.earliest) return InvalidArgument("time", "before 1900-01-01");
  MEDTWIN_TRY(o.source, TextMember(j, "source", false));
  return o;
}

nlohmann::json ObservationToJson(const Observation& o) {
  const ObservationCode* code = FindObservationCode(o.code);
  nlohmann::json j = {{"patient", o.patient}, {"code", o.code}};
  if (code != nullptr && code->coded) {
    j["value"] = o.text;
  } else {
    j["value"] = WithoutFloatNoise(o.value);
    j["unit"] = code != nullptr ? std::string(code->unit) : "";
  }
  j["time"] = FormatRfc3339(o.time);
  j["source"] = o.source;
  return j;
}

std::size_t CountNdjsonLines(std::string_view body) {
  std::size_t count = 0, start = 0;
  while (start < body.size()) {
    auto nl = body.find('\n', start);
    if (nl == std::string_view::npos) nl = body.size();
    const std::string_view line = body.substr(start, nl - start);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) ++count;
    start = nl + 1;
  }
  return count;
}

std::vector<NdjsonLine> ReadNdjson(std::string_view body) {
  std::vector<NdjsonLine> out;
  std::size_t start = 0, number = 0;
  while (start < body.size()) {
    auto nl = body.find('\n', start);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(start, nl - start);
    ++number;
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    NdjsonLine l;
    l.number = number;
    auto parsed = ParseUntrustedJson(line, "json");
    l.malformed = !parsed.ok();
    if (l.malformed) {
      l.error = parsed.error().message;
    } else {
      l.value = std::move(*parsed);
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace medtwin::io
