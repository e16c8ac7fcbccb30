#include "medtwin/io/fhir.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "medtwin/core/format.h"
#include "medtwin/core/units.h"

namespace medtwin::io {
namespace {

using nlohmann::json;

constexpr const char* kLoinc = "http://loinc.org";
constexpr const char* kUcum = "http://unitsofmeasure.org";

// A string member of an untrusted object, or `fallback` (a missing member, a member of another
// type, or no object at all: never an exception).
std::string Text(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A member of an untrusted object as JSON (null when absent or not an object).
json Member(const json& j, const char* key) {
  if (!j.is_object()) return json();
  auto it = j.find(key);
  return it != j.end() ? *it : json();
}

const ObservationCode* LoincCode(const json& codeable, std::string* code) {
  if (!codeable.is_object() || !codeable.contains("coding") || !codeable["coding"].is_array()) {
    return nullptr;
  }
  for (const auto& c : codeable["coding"]) {
    if (!c.is_object() || Text(c, "system") != kLoinc || !c.contains("code") ||
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
    // ACVPU as valueCodeableConcept (a coding's code — the letter or SNOMED CT — or display,
    // else the text) or valueString.
    std::string v;
    if (r.contains("valueString") && r["valueString"].is_string()) v = r["valueString"];
    if (r.contains("valueCodeableConcept")) {
      const json& cc = r["valueCodeableConcept"];
      if (cc.contains("coding") && cc["coding"].is_array() && !cc["coding"].empty()) {
        const json& c0 = cc["coding"][0];
        v = Text(c0, "code");
        if (record::FindAcvpuLevel(v) == nullptr) v = Text(c0, "display");
      }
      if (v.empty()) v = Text(cc, "text");
    }
    const record::AcvpuLevel* level = record::FindAcvpuLevel(v);
    if (level == nullptr) {
      return InvalidArgument(path + ".valueCodeableConcept", "ACVPU: A, C, V, P or U");
    }
    v = std::string(level->letter);
    o.text = v;
    o.value = static_cast<double>(level - record::kAcvpuLevels);
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
      Text(q, "system", kUcum) == std::string(kUcum)) {
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

constexpr const char* kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
constexpr const char* kSnomed = "http://snomed.info/sct";

template <class... Args>
std::string Printf(const char* format, Args... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

// A drug's name from a CodeableConcept: "vancomycin" when any coding or text says so, else the
// text, the first display or the first code.
std::string DrugName(const json& cc) {
  if (!cc.is_object()) return "";
  std::string text =
      cc.contains("text") && cc["text"].is_string() ? cc["text"].get<std::string>() : std::string();
  std::string first;
  if (cc.contains("coding") && cc["coding"].is_array()) {
    for (const auto& c : cc["coding"]) {
      if (!c.is_object()) continue;
      const std::string system = Text(c, "system");
      const std::string code = c.contains("code") && c["code"].is_string() ? c["code"] : json("");
      const std::string display =
          c.contains("display") && c["display"].is_string() ? c["display"] : json("");
      if ((system == kRxNorm && code == "11124") || (system == kSnomed && code == "372735009") ||
          ToLowerAscii(display).find("vancomycin") != std::string::npos) {
        return "vancomycin";
      }
      if (first.empty()) first = !display.empty() ? display : code;
    }
  }
  if (ToLowerAscii(text).find("vancomycin") != std::string::npos) return "vancomycin";
  return !text.empty() ? text : first;
}

// A Quantity's UCUM code (or unit text).
std::string QuantityUnit(const json& q) {
  if (q.contains("code") && q["code"].is_string() &&
      Text(q, "system", kUcum) == std::string(kUcum)) {
    return q["code"];
  }
  if (q.contains("unit") && q["unit"].is_string()) return q["unit"];
  return "";
}

}  // namespace

Result<std::optional<Event>> FromFhirMedicationAdministration(const json& r,
                                                              const ObservationLimits& limits) {
  const std::string T = "MedicationAdministration";
  if (!r.is_object() || Text(r, "resourceType") != T) {
    return InvalidArgument(T + ".resourceType", "must be MedicationAdministration");
  }
  const std::string status =
      r.contains("status") && r["status"].is_string() ? r["status"] : json("");
  if (status.empty()) return InvalidArgument(T + ".status", "missing");
  if (status == "not-done" || status == "entered-in-error") return std::optional<Event>();
  static const char* kStatuses[] = {"in-progress", "on-hold", "completed", "stopped", "unknown"};
  if (std::find_if(std::begin(kStatuses), std::end(kStatuses),
                   [&](const char* k) { return status == k; }) == std::end(kStatuses)) {
    return InvalidArgument(T + ".status", "'" + status.substr(0, 24) + "' is not an R4 status");
  }
  json e = {{"type", "dose"}};
  const std::string ref = r.contains("subject") && r["subject"].is_object()
                              ? Text(r["subject"], "reference")
                              : std::string();
  if (!ref.starts_with("Patient/") || ref.size() <= 8) {
    return InvalidArgument(T + ".subject.reference", "Patient/{id} is required");
  }
  e["patient"] = ref.substr(8);
  // The drug.
  std::string drug;
  if (r.contains("medicationCodeableConcept")) {
    drug = DrugName(r["medicationCodeableConcept"]);
  } else if (r.contains("medicationReference") && r["medicationReference"].is_object()) {
    const json& mr = r["medicationReference"];
    const std::string mref = Text(mr, "reference");
    if (mref.starts_with("#") && r.contains("contained") && r["contained"].is_array()) {
      for (const auto& c : r["contained"]) {
        if (c.is_object() && Text(c, "resourceType") == "Medication" &&
            Text(c, "id") == mref.substr(1)) {
          drug = DrugName(Member(c, "code"));
          // A compounded medication without a code: its first ingredient.
          if (drug.empty() && c.contains("ingredient") && c["ingredient"].is_array() &&
              !c["ingredient"].empty()) {
            drug = DrugName(Member(c["ingredient"][0], "itemCodeableConcept"));
          }
        }
      }
    }
    if (drug.empty() && mr.contains("display") && mr["display"].is_string()) {
      drug = DrugName(json{{"text", mr["display"]}});
    }
    if (drug.empty()) drug = mref;
  }
  if (drug.empty()) {
    return InvalidArgument(T + ".medication[x]",
                           "medicationCodeableConcept or medicationReference");
  }
  e["drug"] = drug;
  // When.
  std::string start, end;
  if (r.contains("effectiveDateTime") && r["effectiveDateTime"].is_string()) {
    start = r["effectiveDateTime"];
  } else if (r.contains("effectivePeriod") && r["effectivePeriod"].is_object()) {
    const json& p = r["effectivePeriod"];
    if (p.contains("start") && p["start"].is_string()) start = p["start"];
    if (p.contains("end") && p["end"].is_string()) end = p["end"];
  }
  if (start.empty()) {
    return InvalidArgument(T + ".effective[x]", "effectiveDateTime or effectivePeriod.start");
  }
  auto t0 = ParseFhirDateTime(start);
  if (!t0.ok())
    return InvalidArgument(T + ".effective[x]", "'" + start.substr(0, 40) + "' is not a dateTime");
  e["time"] = FormatRfc3339(*t0);
  if (!end.empty()) {
    auto t1 = ParseFhirDateTime(end);
    if (!t1.ok() || *t1 < *t0) {
      return InvalidArgument(T + ".effectivePeriod.end", "not a dateTime after the start");
    }
    e["duration_h"] = static_cast<double>(t1->us_since_epoch - t0->us_since_epoch) / 3.6e9;
  }
  // How much.
  const json dosage = r.value("dosage", json());
  if (!dosage.is_object() || !dosage.contains("dose") || !dosage["dose"].is_object()) {
    return InvalidArgument(T + ".dosage.dose", "the dose given is required");
  }
  const json& dose = dosage["dose"];
  e["amount"] = dose.value("value", json());
  e["unit"] = QuantityUnit(dose);
  if (r.contains("id") && r["id"].is_string()) {
    e["source"] = "fhir:MedicationAdministration/" + r["id"].get<std::string>();
  }
  auto parsed = ParseEvent(e, "", limits);
  if (!parsed.ok()) {
    Error err = parsed.error();
    const std::string& f = err.field;
    err.field = f == "amount"       ? T + ".dosage.dose.value"
                : f == "unit"       ? T + ".dosage.dose.code"
                : f == "duration_h" ? T + ".effectivePeriod"
                : f == "time"       ? T + ".effective[x]"
                                    : T + "." + f;
    return err;
  }
  return std::optional<Event>(std::move(*parsed));
}

json ToFhirMedicationAdministration(const Event& d, const std::string& id) {
  json med = {{"text", d.drug}};
  if (d.drug == "vancomycin") {
    med["coding"] = {{{"system", kRxNorm}, {"code", "11124"}, {"display", "vancomycin"}}};
  }
  json r = {
      {"resourceType", "MedicationAdministration"},
      {"id", id},
      {"status", "completed"},
      {"medicationCodeableConcept", med},
      {"subject", {{"reference", "Patient/" + d.patient}}},
      {"dosage",
       {{"dose",
         {{"value", d.amount}, {"unit", d.dose_unit}, {"system", kUcum}, {"code", d.dose_unit}}}}}};
  if (d.duration_h > 0) {
    r["effectivePeriod"] = {
        {"start", FormatRfc3339(d.time)},
        {"end", FormatRfc3339(Instant{d.time.us_since_epoch +
                                      static_cast<std::int64_t>(d.duration_h * 3.6e9)})}};
    if (d.dose_unit == "mg") {
      r["dosage"]["rateQuantity"] = {{"value", d.amount / d.duration_h},
                                     {"unit", "mg/h"},
                                     {"system", kUcum},
                                     {"code", "mg/h"}};
    }
  } else {
    r["effectiveDateTime"] = FormatRfc3339(d.time);
  }
  return r;
}

json ToFhirMedicationRequest(const json& advice, const std::string& patient, const std::string& id,
                             bool order) {
  const std::string drug = advice.value("drug", "");
  json med = {{"text", drug}};
  if (drug == "vancomycin") {
    med["coding"] = {{{"system", kRxNorm}, {"code", "11124"}, {"display", "vancomycin"}}};
  }
  if (drug == "warfarin") {
    med["coding"] = {{{"system", kRxNorm}, {"code", "11289"}, {"display", "warfarin"}}};
  }
  if (drug == "insulin") {
    // An accepted glucose plan: a subcutaneous bolus now and/or a basal rate.
    const double bolus = advice.value("bolus_u", 0.0);
    const json basal = advice.contains("basal_u_per_h") ? advice["basal_u_per_h"] : json();
    json dose_and_rate = {
        {"doseQuantity", {{"value", bolus}, {"unit", "U"}, {"system", kUcum}, {"code", "U"}}}};
    std::string text = Printf("bolus %g U subcutaneous now", bolus);
    if (basal.is_number()) {
      dose_and_rate["rateQuantity"] = {
          {"value", basal}, {"unit", "U/h"}, {"system", kUcum}, {"code", "U/h"}};
      text += Printf("; basal %g U/h", basal.get<double>());
    }
    json dosage = {
        {"text", text},
        {"route",
         {{"coding",
           {{{"system", kSnomed}, {"code", "34206005"}, {"display", "Subcutaneous route"}}}}}},
        {"doseAndRate", {dose_and_rate}}};
    return {{"resourceType", "MedicationRequest"},
            {"id", id},
            {"status", "draft"},
            {"intent", order ? "order" : "proposal"},
            {"medicationCodeableConcept", med},
            {"subject", {{"reference", "Patient/" + patient}}},
            {"dosageInstruction", {dosage}},
            {"authoredOn", advice.value("accepted_at", "")},
            {"requester", {{"display", advice.value("accepted_by", "")}}}};
  }
  const double dose = advice.value("dose_mg", 0.0);
  const double interval = advice.value("interval_h", 0.0);
  const double infusion = advice.value("infusion_h", 0.0);
  const bool oral = drug == "warfarin";  // tablets; the other drug twins' drugs are infused
  json dosage = {
      {"text", oral ? Printf("%g mg by mouth every %g h", dose, interval)
                    : Printf("%g mg IV every %g h, infused over %g h", dose, interval, infusion)},
      {"timing", {{"repeat", {{"frequency", 1}, {"period", interval}, {"periodUnit", "h"}}}}},
      {"route",
       {{"coding",
         {oral ? json{{"system", kSnomed}, {"code", "26643006"}, {"display", "Oral route"}}
               : json{{"system", kSnomed},
                      {"code", "47625008"},
                      {"display", "Intravenous route"}}}}}},
      {"doseAndRate",
       {{{"doseQuantity", {{"value", dose}, {"unit", "mg"}, {"system", kUcum}, {"code", "mg"}}}}}}};
  if (infusion > 0) {
    dosage["doseAndRate"][0]["rateQuantity"] = {
        {"value", dose / infusion}, {"unit", "mg/h"}, {"system", kUcum}, {"code", "mg/h"}};
  }
  json r = {{"resourceType", "MedicationRequest"},
            {"id", id},
            {"status", "draft"},
            {"intent", order ? "order" : "proposal"},
            {"medicationCodeableConcept", med},
            {"subject", {{"reference", "Patient/" + patient}}},
            {"dosageInstruction", {dosage}}};
  if (order) {
    r["authoredOn"] = advice.value("accepted_at", "");
    r["requester"] = {{"display", advice.value("accepted_by", "")}};
  } else {
    json note = advice.value("basis", "");
    if (advice.contains("probability_of_target_attainment")) {
      r["note"] = {
          {{"text", Printf("%s; target %s; probability of target attainment %.2f",
                           note.get<std::string>().c_str(), advice.value("target", "").c_str(),
                           advice["probability_of_target_attainment"].get<double>())}}};
    }
    r["performer"] = {{"display", "medtwin (twin's dose advice)"}};
  }
  return r;
}

Result<Instant> ParseFhirDateTime(const std::string& text) {
  // YYYY, YYYY-MM, YYYY-MM-DD: the start of that period, UTC.
  if (text.size() == 4) return ParseRfc3339(text + "-01-01T00:00:00Z");
  if (text.size() == 7) return ParseRfc3339(text + "-01T00:00:00Z");
  if (text.size() == 10) return ParseRfc3339(text + "T00:00:00Z");
  return ParseRfc3339(text);
}

Result<std::vector<Observation>> FromFhirObservation(const json& r,
                                                     const ObservationLimits& limits) {
  if (!r.is_object() || Text(r, "resourceType") != "Observation") {
    return InvalidArgument("Observation.resourceType", "must be Observation");
  }
  const std::string status = Text(r, "status");
  if (status == "entered-in-error" || status == "cancelled") {
    return InvalidArgument("Observation.status", "'" + status + "' carries no value to use");
  }
  if (status.empty()) return InvalidArgument("Observation.status", "missing");
  Observation base;
  const std::string ref = r.contains("subject") ? Text(r["subject"], "reference") : "";
  if (!ref.starts_with("Patient/") || ref.size() <= 8) {
    return InvalidArgument("Observation.subject.reference", "Patient/{id} is required");
  }
  base.patient = ref.substr(8);
  std::string when = Text(r, "effectiveDateTime");
  if (when.empty()) when = Text(r, "effectiveInstant");
  if (when.empty()) when = Text(Member(r, "effectivePeriod"), "start");
  if (when.empty()) when = Text(r, "issued");
  if (when.empty()) return InvalidArgument("Observation.effective[x]", "missing");
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
    base.source = Text(r["device"], "reference", "fhir");
  } else if (r.contains("id") && r["id"].is_string()) {
    base.source = "fhir:" + r["id"].get<std::string>();
  }
  std::vector<Observation> out;
  std::string code;
  if (const ObservationCode* c = LoincCode(Member(r, "code"), &code); c != nullptr) {
    Observation o = base;
    o.code = code;
    MEDTWIN_RETURN_IF_ERROR(ReadValue(r, *c, "Observation", o));
    out.push_back(std::move(o));
  } else if (r.contains("component") && r["component"].is_array()) {
    // A panel (blood pressure 85354-9): its components carry the values.
    for (std::size_t i = 0; i < r["component"].size(); ++i) {
      const json& comp = r["component"][i];
      std::string cc;
      const ObservationCode* cc_code = LoincCode(Member(comp, "code"), &cc);
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
  const std::string category(record::ObservationCategory(o.code));
  r["category"] = {{{"coding",
                     {{{"system", "http://terminology.hl7.org/CodeSystem/observation-category"},
                       {"code", category}}}}}};
  r["code"] = {{"coding", json::array({coding})}};
  r["subject"] = {{"reference", "Patient/" + o.patient}};
  r["effectiveDateTime"] = FormatRfc3339(o.time);
  if (c != nullptr && c->coded) {
    json answer = json::array();
    if (const record::AcvpuLevel* level = record::FindAcvpuLevel(o.text)) {
      answer.push_back({{"system", kSnomed},
                        {"code", std::string(level->snomed)},
                        {"display", std::string(level->snomed_display)}});
    }
    r["valueCodeableConcept"] = {{"text", o.text}};
    if (!answer.empty()) r["valueCodeableConcept"]["coding"] = std::move(answer);
  } else {
    const std::string unit = c != nullptr ? std::string(c->unit) : "";
    r["valueQuantity"] = {
        {"value", WithoutFloatNoise(o.value)}, {"unit", unit}, {"system", kUcum}, {"code", unit}};
  }
  if (!o.source.empty()) r["device"] = {{"display", o.source}};
  return r;
}

json ToFhirBloodPressurePanel(const Observation& systolic, const Observation& diastolic,
                              const std::string& id) {
  json r = ToFhirObservation(systolic, id);
  r.erase("valueQuantity");
  r["code"] = {{"coding",
                {{{"system", kLoinc},
                  {"code", std::string(record::loinc::kBloodPressurePanel)},
                  {"display", "Blood pressure panel with all children optional"}}}},
               {"text", "Blood pressure"}};
  json components = json::array();
  for (const Observation* part : {&systolic, &diastolic}) {
    const json single = ToFhirObservation(*part, id);
    components.push_back({{"code", single["code"]}, {"valueQuantity", single["valueQuantity"]}});
  }
  r["component"] = std::move(components);
  return r;
}

namespace {

// US Core race extension (OMB categories, CDC Race & Ethnicity code system) ↔ the record's race:
// one OMB category → white, asian, black (American Indian / Alaska Native and Native Hawaiian /
// Pacific Islander → other, IWPC having no category for them); several → mixed; the null
// flavours UNK / ASKU → unknown.
constexpr const char* kUsCoreRace = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";
constexpr const char* kOmbRaceSystem = "urn:oid:2.16.840.1.113883.6.238";
constexpr const char* kNullFlavor = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
struct OmbRace {
  const char* code;
  const char* display;
  const char* race;
};
constexpr OmbRace kOmbRaces[] = {{"2106-3", "White", "white"},
                                 {"2028-9", "Asian", "asian"},
                                 {"2054-5", "Black or African American", "black"},
                                 {"1002-5", "American Indian or Alaska Native", "other"},
                                 {"2076-8", "Native Hawaiian or Other Pacific Islander", "other"}};

Result<std::string> RaceFromUsCore(const json& ext) {
  const std::string where = "Patient.extension[us-core-race]";
  if (!ext.contains("extension") || !ext["extension"].is_array()) {
    return InvalidArgument(where, "needs its ombCategory / text sub-extensions");
  }
  std::vector<std::string> categories;
  bool unknown = false;
  for (const auto& sub : ext["extension"]) {
    if (!sub.is_object() || Text(sub, "url") != "ombCategory") continue;
    if (!sub.contains("valueCoding") || !sub["valueCoding"].is_object()) {
      return InvalidArgument(where + ".ombCategory", "needs a valueCoding");
    }
    const std::string code = Text(sub["valueCoding"], "code");
    if (code == "UNK" || code == "ASKU") {
      unknown = true;
      continue;
    }
    const auto* omb = std::find_if(std::begin(kOmbRaces), std::end(kOmbRaces),
                                   [&](const OmbRace& o) { return code == o.code; });
    if (omb == std::end(kOmbRaces)) {
      return InvalidArgument(where + ".ombCategory",
                             "code '" + code.substr(0, 20) +
                                 "' is not an OMB race category (2106-3, 2028-9, 2054-5, "
                                 "1002-5, 2076-8) or UNK/ASKU");
    }
    if (std::find(categories.begin(), categories.end(), code) == categories.end()) {
      categories.push_back(code);
    }
  }
  if (categories.size() > 1) return std::string("mixed");
  if (categories.size() == 1) {
    for (const auto& o : kOmbRaces) {
      if (categories[0] == o.code) return std::string(o.race);
    }
  }
  return std::string(unknown ? "unknown" : "");
}

json UsCoreRace(const std::string& race) {
  json subs = json::array();
  std::string text = race == "mixed" ? "Mixed" : race == "other" ? "Other" : "Unknown";
  for (const auto& o : kOmbRaces) {
    if (race == o.race && race != "other") {
      subs.push_back({{"url", "ombCategory"},
                      {"valueCoding",
                       {{"system", kOmbRaceSystem}, {"code", o.code}, {"display", o.display}}}});
      text = o.display;
    }
  }
  if (race == "unknown") {
    subs.push_back(
        {{"url", "ombCategory"},
         {"valueCoding", {{"system", kNullFlavor}, {"code", "UNK"}, {"display", "Unknown"}}}});
  }
  subs.push_back({{"url", "text"}, {"valueString", text}});
  return {{"url", kUsCoreRace}, {"extension", subs}};
}

}  // namespace

Result<json> FromFhirPatient(const json& r) {
  if (!r.is_object() || Text(r, "resourceType") != "Patient") {
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
  // Identifiers (the MRN) and contact points: system and value (and use), checked by the
  // record's parser; here only their shape, so errors name the FHIR element.
  for (const auto& [element, member] :
       {std::pair{"identifier", "identifiers"}, std::pair{"telecom", "telecom"}}) {
    if (!r.contains(element)) continue;
    const json& list = r[element];
    if (!list.is_array()) return InvalidArgument(std::string("Patient.") + element, "an array");
    json out = json::array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = std::string("Patient.") + element + "[" + std::to_string(i) + "]";
      if (!list[i].is_object()) return InvalidArgument(where, "an object");
      // (value is 0..1: one without it, e.g. only a use, identifies and reaches no one.)
      if (!list[i].contains("value")) continue;
      if (!list[i]["value"].is_string()) return InvalidArgument(where + ".value", "a string");
      json item = {{"value", list[i]["value"]}};
      for (const char* key : {"system", "use"}) {
        if (std::string(element) == "identifier" && std::string(key) == "use") continue;
        if (!list[i].contains(key)) continue;
        if (!list[i][key].is_string()) return InvalidArgument(where + "." + key, "a string");
        item[key] = list[i][key];
      }
      out.push_back(std::move(item));
    }
    doc[member] = std::move(out);
  }
  if (r.contains("extension") && r["extension"].is_array()) {
    for (const auto& ext : r["extension"]) {
      if (!ext.is_object() || Text(ext, "url") != kUsCoreRace) continue;
      MEDTWIN_TRY(std::string race, RaceFromUsCore(ext));
      if (!race.empty()) doc["race"] = race;
    }
  }
  if (r.contains("birthDate")) {
    if (!r["birthDate"].is_string() || r["birthDate"].get<std::string>().size() != 10) {
      return InvalidArgument("Patient.birthDate", "YYYY-MM-DD");
    }
    doc["birth_date"] = r["birthDate"];
  }
  if (r.contains("name") && r["name"].is_array() && !r["name"].empty()) {
    const json& n = r["name"][0];
    std::string text = Text(n, "text");
    if (text.empty()) {
      if (n.contains("given") && n["given"].is_array()) {
        for (const auto& g : n["given"]) {
          if (g.is_string()) text += g.get<std::string>() + " ";
        }
      }
      text += Text(n, "family");
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (!text.empty()) doc["name"] = text;
  }
  return doc;
}

json ToFhirPatient(const json& p) {
  json r = {{"resourceType", "Patient"}, {"id", p.value("id", "")}};
  if (p.contains("version") && p["version"].is_number_integer() && p["version"].get<int>() > 0) {
    r["meta"] = {{"versionId", std::to_string(p["version"].get<int>())}};
    if (p.contains("last_updated") && p["last_updated"].is_string()) {
      r["meta"]["lastUpdated"] = p["last_updated"];
    }
  }
  for (const auto& [member, element] :
       {std::pair{"identifiers", "identifier"}, std::pair{"telecom", "telecom"}}) {
    if (!p.contains(member) || !p[member].is_array() || p[member].empty()) continue;
    json out = json::array();
    for (const auto& item : p[member]) {
      json e = {{"value", item.value("value", "")}};
      for (const char* key : {"system", "use"}) {
        if (item.contains(key) && item[key].is_string() && !item[key].get<std::string>().empty()) {
          e[key] = item[key];
        }
      }
      out.push_back(std::move(e));
    }
    r[element] = std::move(out);
  }
  if (p.contains("sex")) r["gender"] = p["sex"];
  if (p.contains("race") && p["race"].is_string()) {
    r["extension"] = json::array({UsCoreRace(p["race"].get<std::string>())});
  }
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
