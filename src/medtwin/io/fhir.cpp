#include "medtwin/io/fhir.h"

#include <cmath>

#include "medtwin/core/units.h"

namespace medtwin::io {
namespace {

using nlohmann::json;

constexpr const char* kLoinc = "http://loinc.org";
constexpr const char* kUcum = "http://unitsofmeasure.org";

const ObservationCode* LoincCode(const json& codeable, std::string* code) {
  if (!codeable.is_object() || !codeable.contains("coding") || !codeable["coding"].is_array()) {
    return nullptr;
  }
  for (const auto& c : codeable["coding"]) {
    if (!c.is_object() || c.value("system", "") != kLoinc || !c.contains("code") ||
        !c["code"].is_string()) {
      continue;
    }
    if (const ObservationCode* found = FindObservationCode(c["code"].get<std::string>())) {
      *code = c["code"].get<std::string>();
      return found;
    }
  }
  return nullptr;
}

// The value of one (component or) observation in medtwin's canonical unit.
Status ReadValue(const json& r, const ObservationCode& code, const std::string& path,
                 Observation& o) {
  if (code.coded) {
    // ACVPU as valueCodeableConcept (coding code or display) or valueString.
    std::string v;
    if (r.contains("valueString") && r["valueString"].is_string()) v = r["valueString"];
    if (r.contains("valueCodeableConcept")) {
      const json& cc = r["valueCodeableConcept"];
      if (cc.contains("coding") && cc["coding"].is_array() && !cc["coding"].empty()) {
        const json& c0 = cc["coding"][0];
        v = c0.value("code", std::string());
        if (v.size() != 1) v = c0.value("display", std::string());
      }
      if (v.empty()) v = cc.value("text", std::string());
    }
    static const std::pair<const char*, const char*> kNames[] = {
        {"Alert", "A"}, {"Confusion", "C"}, {"New confusion", "C"},
        {"Voice", "V"}, {"Pain", "P"},      {"Unresponsive", "U"}};
    for (const auto& [name, letter] : kNames) {
      if (v == name) v = letter;
    }
    if (v != "A" && v != "C" && v != "V" && v != "P" && v != "U") {
      return InvalidArgument(path + ".valueCodeableConcept", "ACVPU: A, C, V, P or U");
    }
    o.text = v;
    o.value = static_cast<double>(std::string("ACVPU").find(v[0]));
    return Ok{};
  }
  if (!r.contains("valueQuantity") || !r["valueQuantity"].is_object()) {
    return InvalidArgument(path + ".valueQuantity", "missing (" + std::string(code.name) + ")");
  }
  const json& q = r["valueQuantity"];
  if (!q.contains("value") || !q["value"].is_number()) {
    return InvalidArgument(path + ".valueQuantity.value", "must be a number");
  }
  std::string unit;
  if (q.contains("code") && q["code"].is_string() &&
      q.value("system", kUcum) == std::string(kUcum)) {
    unit = q["code"].get<std::string>();
  } else if (q.contains("unit") && q["unit"].is_string()) {
    unit = q["unit"].get<std::string>();
  } else {
    return InvalidArgument(path + ".valueQuantity.code", "a UCUM code is required");
  }
  auto v = ConvertUnit(q["value"].get<double>(), unit, code.unit, code.molar_mass);
  if (!v.ok()) {
    return Error{ErrorCode::kUnitMismatch, path + ".valueQuantity.code",
                 "'" + unit.substr(0, 24) + "' is not a unit of " + std::string(code.name)};
  }
  if (*v < code.min || *v > code.max) {
    return InvalidArgument(path + ".valueQuantity.value",
                           "outside the possible range of " + std::string(code.name));
  }
  o.value = *v;
  return Ok{};
}

}  // namespace

Result<Instant> ParseFhirDateTime(const std::string& text) {
  // YYYY, YYYY-MM, YYYY-MM-DD: the start of that period, UTC.
  if (text.size() == 4) return ParseRfc3339(text + "-01-01T00:00:00Z");
  if (text.size() == 7) return ParseRfc3339(text + "-01T00:00:00Z");
  if (text.size() == 10) return ParseRfc3339(text + "T00:00:00Z");
  return ParseRfc3339(text);
}

Result<std::vector<Observation>> FromFhirObservation(const json& r,
                                                     const ObservationLimits& limits) {
  if (!r.is_object() || r.value("resourceType", "") != "Observation") {
    return InvalidArgument("Observation.resourceType", "must be Observation");
  }
  const std::string status = r.value("status", "");
  if (status == "entered-in-error" || status == "cancelled") {
    return InvalidArgument("Observation.status", "'" + status + "' carries no value to use");
  }
  if (status.empty()) return InvalidArgument("Observation.status", "missing");
  Observation base;
  const std::string ref = r.contains("subject") ? r["subject"].value("reference", "") : "";
  if (!ref.starts_with("Patient/") || ref.size() <= 8) {
    return InvalidArgument("Observation.subject.reference", "Patient/{id} is required");
  }
  base.patient = ref.substr(8);
  std::string when;
  if (r.contains("effectiveDateTime") && r["effectiveDateTime"].is_string()) {
    when = r["effectiveDateTime"];
  } else if (r.contains("effectiveInstant") && r["effectiveInstant"].is_string()) {
    when = r["effectiveInstant"];
  } else if (r.contains("effectivePeriod") && r["effectivePeriod"].contains("start")) {
    when = r["effectivePeriod"]["start"];
  } else if (r.contains("issued") && r["issued"].is_string()) {
    when = r["issued"];
  } else {
    return InvalidArgument("Observation.effective[x]", "missing");
  }
  auto t = ParseFhirDateTime(when);
  if (!t.ok())
    return InvalidArgument("Observation.effective[x]", "'" + when + "' is not a dateTime");
  base.time = *t;
  if (limits.now.us_since_epoch > 0 &&
      base.time.us_since_epoch > limits.now.us_since_epoch + limits.max_future_us) {
    return InvalidArgument("Observation.effective[x]", "more than 5 min in the future");
  }
  base.source = "fhir";
  if (r.contains("device") && r["device"].contains("reference")) {
    base.source = r["device"].value("reference", "fhir");
  } else if (r.contains("id") && r["id"].is_string()) {
    base.source = "fhir:" + r["id"].get<std::string>();
  }
  std::vector<Observation> out;
  std::string code;
  if (const ObservationCode* c = LoincCode(r.value("code", json::object()), &code); c != nullptr) {
    Observation o = base;
    o.code = code;
    MEDTWIN_RETURN_IF_ERROR(ReadValue(r, *c, "Observation", o));
    out.push_back(std::move(o));
  } else if (r.contains("component") && r["component"].is_array()) {
    // A panel (blood pressure 85354-9): its components carry the values.
    for (std::size_t i = 0; i < r["component"].size(); ++i) {
      const json& comp = r["component"][i];
      std::string cc;
      const ObservationCode* cc_code = LoincCode(comp.value("code", json::object()), &cc);
      if (cc_code == nullptr) continue;
      Observation o = base;
      o.code = cc;
      MEDTWIN_RETURN_IF_ERROR(
          ReadValue(comp, *cc_code, "Observation.component[" + std::to_string(i) + "]", o));
      out.push_back(std::move(o));
    }
  }
  if (out.empty()) {
    return InvalidArgument("Observation.code", "no LOINC code medtwin uses (see docs/api.md)");
  }
  return out;
}

json ToFhirObservation(const Observation& o, const std::string& id) {
  const ObservationCode* c = FindObservationCode(o.code);
  json coding = {{"system", kLoinc},
                 {"code", o.code},
                 {"display", c != nullptr ? std::string(c->name) : std::string()}};
  json r = json::object();
  r["resourceType"] = "Observation";
  r["id"] = id;
  r["status"] = "final";
  r["code"] = {{"coding", json::array({coding})}};
  r["subject"] = {{"reference", "Patient/" + o.patient}};
  r["effectiveDateTime"] = FormatRfc3339(o.time);
  if (c != nullptr && c->coded) {
    r["valueCodeableConcept"] = {{"coding", {{{"code", o.text}}}}, {"text", o.text}};
  } else {
    const std::string unit = c != nullptr ? std::string(c->unit) : "";
    r["valueQuantity"] = {{"value", o.value}, {"unit", unit}, {"system", kUcum}, {"code", unit}};
  }
  if (!o.source.empty()) r["device"] = {{"display", o.source}};
  return r;
}

Result<json> FromFhirPatient(const json& r) {
  if (!r.is_object() || r.value("resourceType", "") != "Patient") {
    return InvalidArgument("Patient.resourceType", "must be Patient");
  }
  json doc = json::object();
  if (r.contains("id")) {
    if (!r["id"].is_string()) return InvalidArgument("Patient.id", "must be a string");
    doc["id"] = r["id"];
  }
  if (r.contains("gender")) {
    if (!r["gender"].is_string()) return InvalidArgument("Patient.gender", "must be a code");
    doc["sex"] = r["gender"];
  }
  if (r.contains("birthDate")) {
    if (!r["birthDate"].is_string() || r["birthDate"].get<std::string>().size() != 10) {
      return InvalidArgument("Patient.birthDate", "YYYY-MM-DD");
    }
    doc["birth_date"] = r["birthDate"];
  }
  if (r.contains("name") && r["name"].is_array() && !r["name"].empty()) {
    const json& n = r["name"][0];
    std::string text = n.value("text", std::string());
    if (text.empty()) {
      if (n.contains("given") && n["given"].is_array()) {
        for (const auto& g : n["given"]) {
          if (g.is_string()) text += g.get<std::string>() + " ";
        }
      }
      text += n.value("family", std::string());
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (!text.empty()) doc["name"] = text;
  }
  return doc;
}

json ToFhirPatient(const json& p) {
  json r = {{"resourceType", "Patient"}, {"id", p.value("id", "")}};
  if (p.contains("sex")) r["gender"] = p["sex"];
  if (p.contains("birth_date") && p["birth_date"].is_string()) r["birthDate"] = p["birth_date"];
  if (p.contains("name") && p["name"].is_string() && !p["name"].get<std::string>().empty()) {
    r["name"] = {{{"text", p["name"]}}};
  }
  return r;
}

json OperationOutcome(const std::string& issue_type, const std::string& expression,
                      const std::string& diagnostics) {
  return {{"resourceType", "OperationOutcome"},
          {"issue",
           {{{"severity", "error"},
             {"code", issue_type},
             {"expression", {expression}},
             {"diagnostics", diagnostics}}}}};
}

}  // namespace medtwin::io
