#include "medtwin/io/patient.h"

#include <algorithm>
#include <cmath>

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/monitor/rules.h"
#include "medtwin/record/location.h"

namespace medtwin::io {

using record::Consent;
using record::ConsentChange;
using record::GenotypeCall;
using record::PatientRecord;

namespace {

using nlohmann::json;

// Text from a client is checked as text that may reach a header, a log or the audit trail;
// text read back from the store is taken as it was stored (a record written by an earlier
// version must not stop the server from starting).
enum class Source { kClient, kStore };

Result<std::string> Text(Source from, const json& j, const char* key, std::size_t max_len = 200) {
  const json& v = j.at(key);
  if (!v.is_string()) return InvalidArgument(key, "must be a string");
  std::string s = v.get<std::string>();
  if (from == Source::kStore) {
    if (s.size() > max_len) return InvalidArgument(key, "longer than " + std::to_string(max_len));
    return s;
  }
  MEDTWIN_RETURN_IF_ERROR(ValidateText(s, key, max_len));
  return s;
}

Result<std::optional<double>> Number(const json& j, const char* key, double lo, double hi,
                                     const char* unit) {
  const json& v = j.at(key);
  if (v.is_null()) return std::optional<double>();
  if (!v.is_number()) return InvalidArgument(key, std::string("must be a number in ") + unit);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%g %s is outside %g–%g %s", x, unit, lo, hi, unit);
    return InvalidArgument(key, buf);
  }
  return std::optional<double>(x);
}

Result<std::vector<std::string>> TextList(Source from, const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_array()) return InvalidArgument(key, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) return InvalidArgument(key, "must be an array of strings");
    if (from == Source::kClient) {
      MEDTWIN_RETURN_IF_ERROR(ValidateText(e.get_ref<const std::string&>(), key, 200));
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

// A few identifiers per patient (MRN, national number, insurer's): more is a sender's error.
constexpr std::size_t kMaxIdentifiers = 16;

Result<std::string> Member(Source from, const json& o, const char* key, const std::string& where,
                           std::size_t max_len, bool required) {
  if (!o.contains(key) || o[key].is_null()) {
    if (required) return InvalidArgument(where + "." + key, "missing");
    return std::string();
  }
  auto v = Text(from, o, key, max_len);
  if (!v.ok()) return InvalidArgument(where + "." + key, v.error().message);
  return v;
}

Result<std::vector<record::Identifier>> ParseIdentifiers(Source from, const json& list) {
  if (!list.is_array() || list.size() > kMaxIdentifiers) {
    return InvalidArgument("identifiers", "an array of at most 16 {system, value}");
  }
  std::vector<record::Identifier> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "identifiers[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return InvalidArgument(where, "an object {system, value}");
    record::Identifier id;
    MEDTWIN_TRY(id.system, Member(from, list[i], "system", where, 256, false));
    MEDTWIN_TRY(id.value, Member(from, list[i], "value", where, 128, true));
    if (id.value.empty()) return InvalidArgument(where + ".value", "empty");
    // '|' separates system and value in FHIR search (identifier=system|value).
    if (id.system.find('|') != std::string::npos) {
      return InvalidArgument(where + ".system", "must not contain '|'");
    }
    // The same identifier twice is one (HL7's Patient f201 example lists its BSN twice); two
    // values in one system (an old and a new MRN) are two.
    if (std::find(out.begin(), out.end(), id) != out.end()) continue;
    out.push_back(std::move(id));
  }
  return out;
}

Result<std::vector<record::ContactPoint>> ParseTelecom(Source from, const json& list) {
  if (!list.is_array() || list.size() > kMaxIdentifiers) {
    return InvalidArgument("telecom", "an array of at most 16 {system, value, use}");
  }
  static constexpr std::string_view kSystems[] = {"phone", "fax", "email", "pager",
                                                  "url",   "sms", "other"};
  static constexpr std::string_view kUses[] = {"home", "work", "temp", "old", "mobile"};
  std::vector<record::ContactPoint> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "telecom[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return InvalidArgument(where, "an object {system, value, use}");
    record::ContactPoint c;
    // FHIR cpt-2: a contact point with a value says what kind it is.
    MEDTWIN_TRY(c.system, Member(from, list[i], "system", where, 16, from == Source::kClient));
    MEDTWIN_TRY(c.value, Member(from, list[i], "value", where, 256, true));
    MEDTWIN_TRY(c.use, Member(from, list[i], "use", where, 16, false));
    if (from == Source::kClient &&
        std::find(std::begin(kSystems), std::end(kSystems), c.system) == std::end(kSystems)) {
      return InvalidArgument(where + ".system", "phone, fax, email, pager, url, sms or other");
    }
    if (!c.use.empty() && std::find(std::begin(kUses), std::end(kUses), c.use) == std::end(kUses)) {
      return InvalidArgument(where + ".use", "home, work, temp, old or mobile");
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string StringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Encounters as the server stored them (clients send them as ADT messages or FHIR Encounters).
std::vector<record::Encounter> ParseStoredEncounters(const json& list) {
  std::vector<record::Encounter> out;
  if (!list.is_array()) return out;
  for (const json& e : list) {
    if (!e.is_object()) continue;
    record::Encounter enc;
    enc.id = StringOr(e, "id");
    enc.status = StringOr(e, "status");
    enc.class_code = StringOr(e, "class");
    enc.start = StringOr(e, "start");
    enc.end = StringOr(e, "end");
    if (auto l = e.find("locations"); l != e.end() && l->is_array()) {
      for (const json& at : *l) {
        if (!at.is_object()) continue;
        record::EncounterLocation loc;
        loc.bed = {StringOr(at, "ward"), StringOr(at, "room"), StringOr(at, "bed"),
                   StringOr(at, "facility")};
        loc.status = StringOr(at, "status");
        loc.start = StringOr(at, "start");
        loc.end = StringOr(at, "end");
        loc.location_id = StringOr(at, "location");
        loc.display = StringOr(at, "display");
        // Stored before Location resources were kept: the id ADT beds have.
        if (!at.contains("location")) loc.location_id = record::LocationIdFor(loc.bed);
        enc.locations.push_back(std::move(loc));
      }
    }
    out.push_back(std::move(enc));
  }
  return out;
}

}  // namespace

json EncounterToJson(const record::Encounter& e) {
  json locations = json::array();
  for (const auto& l : e.locations) {
    locations.push_back({{"ward", l.bed.ward},
                         {"room", l.bed.room},
                         {"bed", l.bed.bed},
                         {"facility", l.bed.facility},
                         {"status", l.status},
                         {"start", l.start},
                         {"end", l.end.empty() ? json(nullptr) : json(l.end)},
                         {"location", l.location_id},
                         {"display", l.display}});
  }
  return {{"id", e.id},
          {"status", e.status},
          {"class", e.class_code},
          {"start", e.start},
          {"end", e.end.empty() ? json(nullptr) : json(e.end)},
          {"locations", std::move(locations)}};
}

Result<PatientRecord> ParsePatient(const json& j, const PatientRecord* base, bool from_store) {
  const Source from = from_store ? Source::kStore : Source::kClient;
  if (!j.is_object()) return InvalidArgument("patient", "must be a JSON object");
  PatientRecord p = base != nullptr ? *base : PatientRecord{};
  static const char* kKnown[] = {"id",
                                 "name",
                                 "identifiers",
                                 "telecom",
                                 "birth_date",
                                 "sex",
                                 "race",
                                 "weight_kg",
                                 "height_cm",
                                 "scr_mg_dl",
                                 "measured_at",
                                 "conditions",
                                 "genotype",
                                 "spo2_scale",
                                 "unit_type",
                                 "models",
                                 "population_model",
                                 "virtual_patient",
                                 "closed_loop",
                                 "care_team",
                                 "consent",
                                 "consent_history",
                                 "encounters",
                                 "version",
                                 "last_updated",
                                 "alarm_limits"};
  for (const auto& item : j.items()) {
    const std::string& key = item.key();  // a name, not a structured binding: lambdas capture it
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return key == k; }) == std::end(kKnown)) {
      return InvalidArgument(key.substr(0, 40), "unknown member of a patient");
    }
  }
  if (j.contains("id")) {
    MEDTWIN_TRY(std::string id, Text(from, j, "id", 64));
    if (!IsValidId(id)) {
      return InvalidArgument("id", "1–64 characters from A–Z, a–z, 0–9, '-', '_', '.'");
    }
    if (base != nullptr && id != base->id) return InvalidArgument("id", "cannot be changed");
    p.id = id;
  }
  if (j.contains("identifiers")) {
    MEDTWIN_TRY(p.identifiers, ParseIdentifiers(from, j.at("identifiers")));
  }
  if (j.contains("telecom")) {
    MEDTWIN_TRY(p.telecom, ParseTelecom(from, j.at("telecom")));
  }
  if (j.contains("name")) {
    MEDTWIN_TRY(p.name, Text(from, j, "name"));
  }
  if (j.contains("birth_date") && j.at("birth_date").is_null()) {
    p.birth_date.reset();
  } else if (j.contains("birth_date")) {
    MEDTWIN_TRY(std::string d, Text(from, j, "birth_date", 10));
    auto t = ParseRfc3339(d + "T00:00:00Z");
    if (d.size() != 10 || !t.ok()) return InvalidArgument("birth_date", "must be YYYY-MM-DD");
    p.birth_date = d;
  }
  if (j.contains("sex")) {
    MEDTWIN_TRY(std::string s, Text(from, j, "sex", 16));
    if (s != "female" && s != "male" && s != "other" && s != "unknown") {
      return InvalidArgument("sex", "one of female, male, other, unknown");
    }
    p.sex = s;
  }
  if (j.contains("race") && j.at("race").is_null()) {
    p.race.clear();
  } else if (j.contains("race")) {
    MEDTWIN_TRY(std::string r, Text(from, j, "race", 16));
    if (r != "white" && r != "asian" && r != "black" && r != "mixed" && r != "other" &&
        r != "unknown") {
      return InvalidArgument("race", "one of white, asian, black, mixed, other, unknown");
    }
    p.race = r;
  }
  // The server's record of when measurements set the covariates (from the store only).
  if (from == Source::kStore && j.contains("measured_at") && j["measured_at"].is_object()) {
    for (const auto& [key, value] : j["measured_at"].items()) {
      if (value.is_string()) p.measured_at[key] = value.get<std::string>();
    }
  }
  if (j.contains("weight_kg")) {
    MEDTWIN_TRY(p.weight_kg, Number(j, "weight_kg", 0.3, 500, "kg"));
  }
  if (j.contains("height_cm")) {
    MEDTWIN_TRY(p.height_cm, Number(j, "height_cm", 20, 280, "cm"));
  }
  if (j.contains("scr_mg_dl")) {
    MEDTWIN_TRY(p.scr_mg_dl, Number(j, "scr_mg_dl", 0.05, 30, "mg/dL"));
  }
  // A value a client changes is entered, not measured: it has no measurement time.
  if (from == Source::kClient) {
    const PatientRecord before = base != nullptr ? *base : PatientRecord{};
    if (p.weight_kg != before.weight_kg) p.measured_at.erase("weight_kg");
    if (p.height_cm != before.height_cm) p.measured_at.erase("height_cm");
    if (p.scr_mg_dl != before.scr_mg_dl) p.measured_at.erase("scr_mg_dl");
  }
  if (j.contains("conditions")) {
    MEDTWIN_TRY(p.conditions, TextList(from, j, "conditions"));
  }
  if (j.contains("genotype")) {
    const json& g = j.at("genotype");
    if (!g.is_array()) return InvalidArgument("genotype", "must be an array of calls");
    p.genotype.clear();
    for (const auto& call : g) {
      if (!call.is_object() || !call.contains("gene") || !call["gene"].is_string()) {
        return InvalidArgument("genotype", "each call needs a gene");
      }
      for (const char* key : {"diplotype", "phenotype"}) {
        if (call.contains(key) && !call[key].is_string()) {
          return InvalidArgument(std::string("genotype.") + key, "must be a string");
        }
      }
      GenotypeCall c{call["gene"].get<std::string>(), call.value("diplotype", ""),
                     call.value("phenotype", ""), std::nullopt};
      if (call.contains("activity_score") && !call["activity_score"].is_null()) {
        if (!call["activity_score"].is_number() || call["activity_score"] < 0 ||
            call["activity_score"] > 10) {
          return InvalidArgument("genotype.activity_score", "a number 0–10 or null");
        }
        c.activity_score = call["activity_score"].get<double>();
      }
      p.genotype.push_back(std::move(c));
    }
  }
  if (j.contains("spo2_scale")) {
    const json& v = j.at("spo2_scale");
    if (!v.is_number_integer() || (v.get<int>() != 1 && v.get<int>() != 2)) {
      return InvalidArgument("spo2_scale", "1 or 2");
    }
    p.spo2_scale = v.get<int>();
  }
  if (j.contains("unit_type")) {
    const json& v = j.at("unit_type");
    // A unit type this version does not know, read back from the store (written by a newer
    // one), is kept and alarms as a general ward: the server must still start.
    if (!v.is_string() ||
        (from == Source::kClient && monitor::FindUnitType(v.get<std::string>()) == nullptr)) {
      return InvalidArgument("unit_type", "one of " + monitor::UnitTypeList());
    }
    p.unit_type = v.get<std::string>();
  }
  if (j.contains("models")) {
    MEDTWIN_TRY(p.models, TextList(from, j, "models"));
    for (const auto& m : p.models) {
      if (m != "news2" && m != "glucose" && m != "vancomycin" && m != "warfarin") {
        return InvalidArgument("models", "unknown model '" + m.substr(0, 32) +
                                             "' (news2, glucose, vancomycin, warfarin)");
      }
    }
  }
  if (j.contains("population_model")) {
    MEDTWIN_TRY(p.population_model, Text(from, j, "population_model"));
  }
  if (j.contains("virtual_patient")) {
    MEDTWIN_TRY(p.virtual_patient, Text(from, j, "virtual_patient"));
  }
  if (j.contains("care_team")) {
    MEDTWIN_TRY(p.care_team, TextList(from, j, "care_team"));
    for (const auto& member : p.care_team) {
      if (member.empty() || member.size() > 128) {
        return InvalidArgument("care_team", "members are token subjects of 1–128 characters");
      }
    }
  }
  if (j.contains("consent")) {
    const json& c = j.at("consent");
    if (!c.is_object()) return InvalidArgument("consent", "must be an object");
    for (const auto& [key, value] : c.items()) {
      if (key != "research" && key != "share_with" && key != "recorded_at" &&
          key != "withdrawn_at") {
        return InvalidArgument("consent." + key.substr(0, 32),
                               "unknown member (research, share_with, recorded_at, withdrawn_at)");
      }
    }
    if (c.contains("research")) {
      if (!c["research"].is_boolean()) return InvalidArgument("consent.research", "true or false");
      p.consent.research = c["research"].get<bool>();
    }
    if (c.contains("share_with")) {
      MEDTWIN_TRY(p.consent.share_with, TextList(from, c, "share_with"));
    }
    for (const char* key : {"recorded_at", "withdrawn_at"}) {
      if (!c.contains(key)) continue;
      std::string& field =
          std::string(key) == "recorded_at" ? p.consent.recorded_at : p.consent.withdrawn_at;
      if (c[key].is_null()) {
        field.clear();
        continue;
      }
      if (!c[key].is_string() || !ParseRfc3339(c[key].get<std::string>()).ok()) {
        return InvalidArgument(std::string("consent.") + key, "an RFC 3339 time or null");
      }
      field = c[key].get<std::string>();
    }
  }
  if (j.contains("consent_history")) {
    // Written by the server only (each consent change keeps the one before): what a client
    // sends back (a record it read) is ignored.
  }
  // Encounters are the server's (from ADT and FHIR Encounter): a client's copy is ignored, so a
  // document read with GET can be PUT back.
  // The version and its time are the server's too.
  if (from == Source::kStore) {
    if (auto v = j.find("version"); v != j.end() && v->is_number_integer()) {
      p.version = v->get<int>();
    }
    p.last_updated = StringOr(j, "last_updated");
  }
  if (from == Source::kStore && j.contains("encounters")) {
    p.encounters = ParseStoredEncounters(j.at("encounters"));
  }
  if (from == Source::kStore && j.contains("consent_history")) {
    p.consent_history.clear();
    for (const auto& h : j.at("consent_history")) {
      if (!h.is_object()) continue;
      ConsentChange change;
      change.consent.research = h.value("research", false);
      if (h.contains("share_with") && h["share_with"].is_array()) {
        for (const auto& org : h["share_with"]) {
          if (org.is_string()) change.consent.share_with.push_back(org);
        }
      }
      for (const char* key : {"recorded_at", "withdrawn_at", "changed_at", "by"}) {
        if (!h.contains(key) || !h[key].is_string()) continue;
        const std::string v = h[key];
        if (std::string(key) == "recorded_at") change.consent.recorded_at = v;
        if (std::string(key) == "withdrawn_at") change.consent.withdrawn_at = v;
        if (std::string(key) == "changed_at") change.changed_at = v;
        if (std::string(key) == "by") change.by = v;
      }
      p.consent_history.push_back(std::move(change));
    }
  }
  if (j.contains("closed_loop")) {
    MEDTWIN_TRY(std::string c, Text(from, j, "closed_loop", 8));
    if (c != "" && c != "bb" && c != "pid" && c != "mpc") {
      return InvalidArgument("closed_loop", "\"\" (off), \"bb\", \"pid\" or \"mpc\"");
    }
    p.closed_loop = c;
  }
  if (j.contains("alarm_limits")) {
    MEDTWIN_TRY(p.alarm_limits, ParseAlarmLimits(j.at("alarm_limits")));
  }
  // Checked against the record's own defaults (its unit type's; SpO2 scale 2 alarms lower),
  // also when only the scale or the unit changed.
  if (from == Source::kClient) {
    MEDTWIN_RETURN_IF_ERROR(monitor::ValidateAlarmLimits(
        p.alarm_limits, monitor::DefaultAlarmLimits(p.spo2_scale, p.unit_type)));
  }
  return p;
}

Result<record::AlarmLimits> ParseAlarmLimits(const json& j) {
  if (!j.is_object()) return InvalidArgument("alarm_limits", "must be a JSON object");
  record::AlarmLimits out;
  for (const auto& [key, value] : j.items()) {
    if (key == "escalate_unacknowledged_min") {
      if (!value.is_number_integer()) {
        return InvalidArgument("alarm_limits.escalate_unacknowledged_min", "whole minutes");
      }
      // The range is the validator's (monitor::ValidateAlarmLimits); clamp only so the int holds.
      out.escalate_unacknowledged_min =
          static_cast<int>(std::clamp<std::int64_t>(value.get<std::int64_t>(), -1, 100'000));
    } else if (key == "rules") {
      if (!value.is_object()) return InvalidArgument("alarm_limits.rules", "must be a JSON object");
      if (value.size() > monitor::Rules().size()) {
        return InvalidArgument("alarm_limits.rules", "more rules than there are");
      }
      for (const auto& [kind, limit] : value.items()) {
        const std::string field = "alarm_limits.rules." + Printable(kind, 40);
        if (monitor::FindRule(kind) == nullptr) return InvalidArgument(field, "no such rule");
        if (!limit.is_object()) return InvalidArgument(field, "must be a JSON object");
        record::AlarmLimit l{kind, {}, {}, {}};
        for (const auto& [name, v] : limit.items()) {
          std::optional<double>* slot = name == "raise"      ? &l.raise
                                        : name == "clear"    ? &l.clear
                                        : name == "critical" ? &l.critical
                                                             : nullptr;
          if (slot == nullptr) {
            return InvalidArgument(field + "." + Printable(name, 40),
                                   "unknown: raise, clear or critical");
          }
          if (v.is_null()) continue;
          if (!v.is_number() || !std::isfinite(v.get<double>())) {
            return InvalidArgument(field + "." + name, "must be a number");
          }
          *slot = v.get<double>();
        }
        out.limits.push_back(std::move(l));
      }
    } else {
      return InvalidArgument("alarm_limits." + Printable(key, 40),
                             "unknown: rules or escalate_unacknowledged_min");
    }
  }
  return out;
}

json AlarmLimitsToJson(const record::AlarmLimits& limits) {
  json rules = json::object();
  for (const auto& l : limits.limits) {
    json r = json::object();
    if (l.raise) r["raise"] = *l.raise;
    if (l.clear) r["clear"] = *l.clear;
    if (l.critical) r["critical"] = *l.critical;
    rules[l.kind] = std::move(r);
  }
  return {{"rules", rules}, {"escalate_unacknowledged_min", limits.escalate_unacknowledged_min}};
}

json ConsentToJson(const Consent& c) {
  return {{"research", c.research},
          {"share_with", c.share_with},
          {"recorded_at", c.recorded_at.empty() ? json(nullptr) : json(c.recorded_at)},
          {"withdrawn_at", c.withdrawn_at.empty() ? json(nullptr) : json(c.withdrawn_at)}};
}

json PatientToJson(const PatientRecord& p) {
  json genotype = json::array();
  for (const auto& g : p.genotype) {
    genotype.push_back({{"gene", g.gene},
                        {"diplotype", g.diplotype},
                        {"phenotype", g.phenotype},
                        {"activity_score", g.activity_score ? json(*g.activity_score) : json()}});
  }
  json identifiers = json::array();
  for (const auto& id : p.identifiers) {
    identifiers.push_back({{"system", id.system}, {"value", id.value}});
  }
  json telecom = json::array();
  for (const auto& c : p.telecom) {
    telecom.push_back({{"system", c.system}, {"value", c.value}, {"use", c.use}});
  }
  json j = {{"id", p.id},
            {"name", p.name},
            {"identifiers", std::move(identifiers)},
            {"telecom", std::move(telecom)},
            {"sex", p.sex},
            {"race", p.race.empty() ? json(nullptr) : json(p.race)},
            {"conditions", p.conditions},
            {"genotype", genotype},
            {"spo2_scale", p.spo2_scale},
            {"unit_type", p.unit_type.empty() ? std::string("ward") : p.unit_type},
            {"models", p.models},
            {"population_model", p.population_model},
            {"virtual_patient", p.virtual_patient},
            {"closed_loop", p.closed_loop},
            {"care_team", p.care_team},
            {"alarm_limits", AlarmLimitsToJson(p.alarm_limits)},
            {"consent", ConsentToJson(p.consent)}};
  json history = json::array();
  for (const auto& h : p.consent_history) {
    json entry = ConsentToJson(h.consent);
    entry["changed_at"] = h.changed_at;
    entry["by"] = h.by;
    history.push_back(std::move(entry));
  }
  j["consent_history"] = std::move(history);
  json encounters = json::array();
  for (const auto& e : p.encounters) encounters.push_back(EncounterToJson(e));
  j["encounters"] = std::move(encounters);
  j["version"] = p.version;
  j["last_updated"] = p.last_updated;
  j["birth_date"] = p.birth_date ? json(*p.birth_date) : json(nullptr);
  j["weight_kg"] = p.weight_kg ? json(*p.weight_kg) : json(nullptr);
  j["measured_at"] = p.measured_at;
  j["height_cm"] = p.height_cm ? json(*p.height_cm) : json(nullptr);
  j["scr_mg_dl"] = p.scr_mg_dl ? json(*p.scr_mg_dl) : json(nullptr);
  return j;
}

}  // namespace medtwin::io
