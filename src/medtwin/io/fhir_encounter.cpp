#include "medtwin/io/fhir_encounter.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "medtwin/io/fhir.h"

namespace medtwin::io {
namespace {

using nlohmann::json;

constexpr const char* kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr const char* kBedStatus = "http://terminology.hl7.org/CodeSystem/v2-0116";
constexpr const char* kPhysicalType =
    "http://terminology.hl7.org/CodeSystem/location-physical-type";

// R4 value sets (required bindings).
constexpr std::array<std::string_view, 9> kEncounterStatuses = {
    "planned",  "arrived",   "triaged",          "in-progress", "onleave",
    "finished", "cancelled", "entered-in-error", "unknown"};
constexpr std::array<std::string_view, 4> kEncounterLocationStatuses = {"planned", "active",
                                                                        "reserved", "completed"};
constexpr std::array<std::string_view, 3> kLocationStatuses = {"active", "suspended", "inactive"};
constexpr std::array<std::string_view, 2> kLocationModes = {"instance", "kind"};

template <std::size_t N>
bool OneOf(const std::array<std::string_view, N>& codes, std::string_view v) {
  return std::find(codes.begin(), codes.end(), v) != codes.end();
}
template <std::size_t N>
std::string List(const std::array<std::string_view, N>& codes) {
  std::string out;
  for (auto c : codes) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

// An optional string member; errors name `where`.
Result<std::string> OptionalString(const json& r, const char* key, const std::string& where) {
  auto it = r.find(key);
  if (it == r.end()) return std::string();
  if (!it->is_string()) return InvalidArgument(where, "must be a string");
  return it->get<std::string>();
}

Result<std::string> DateTimeText(const json& r, const char* key, const std::string& where) {
  MEDTWIN_TRY(std::string text, OptionalString(r, key, where));
  if (text.empty()) return text;
  if (auto t = ParseFhirDateTime(text); !t.ok()) {
    return InvalidArgument(where, "'" + text.substr(0, 40) + "' is not a FHIR dateTime");
  }
  return text;
}

Status Period(const json& r, const std::string& where, std::string* start, std::string* end) {
  auto it = r.find("period");
  if (it == r.end()) return Ok{};
  if (!it->is_object()) return InvalidArgument(where + ".period", "must be an object");
  MEDTWIN_TRY(*start, DateTimeText(*it, "start", where + ".period.start"));
  MEDTWIN_TRY(*end, DateTimeText(*it, "end", where + ".period.end"));
  if (!start->empty() && !end->empty()) {
    auto s = ParseFhirDateTime(*start);
    auto e = ParseFhirDateTime(*end);
    if (s.ok() && e.ok() && e->us_since_epoch < s->us_since_epoch) {
      return InvalidArgument(where + ".period.end", "is before the start");
    }
  }
  return Ok{};
}

json PeriodJson(const std::string& start, const std::string& end) {
  json p = json::object();
  if (!start.empty()) p["start"] = start;
  if (!end.empty()) p["end"] = end;
  return p;
}

// The id a "Type/{id}" reference names, or "" when it is not one of that type.
std::string ReferencedId(std::string_view reference, std::string_view type) {
  if (reference.size() <= type.size() + 1 || !reference.starts_with(type) ||
      reference[type.size()] != '/') {
    return "";
  }
  return std::string(reference.substr(type.size() + 1));
}

Result<std::vector<record::Identifier>> Identifiers(const json& r, const std::string& type) {
  std::vector<record::Identifier> out;
  auto it = r.find("identifier");
  if (it == r.end()) return out;
  if (!it->is_array()) return InvalidArgument(type + ".identifier", "must be an array");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string where = type + ".identifier[" + std::to_string(i) + "]";
    const json& item = (*it)[i];
    if (!item.is_object()) return InvalidArgument(where, "must be an object");
    MEDTWIN_TRY(std::string value, OptionalString(item, "value", where + ".value"));
    MEDTWIN_TRY(std::string system, OptionalString(item, "system", where + ".system"));
    if (value.empty()) continue;  // an identifier without a value identifies nothing
    out.push_back({system, value});
  }
  return out;
}

json IdentifiersJson(const std::vector<record::Identifier>& ids) {
  json out = json::array();
  for (const auto& id : ids) {
    json e = {{"value", id.value}};
    if (!id.system.empty()) e["system"] = id.system;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

bool IsFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
  });
}

std::string BedDisplay(const record::BedLocation& b) {
  std::string out = b.ward;
  if (!b.room.empty()) out += (out.empty() ? "" : " ") + b.room;
  if (!b.bed.empty()) out += (out.empty() ? "" : "-") + b.bed;
  return out.empty() ? "unknown bed" : out;
}

Result<EncounterIn> FromFhirEncounter(const json& r) {
  if (!r.is_object() || !r.contains("resourceType") || r["resourceType"] != "Encounter") {
    return InvalidArgument("Encounter.resourceType", "must be Encounter");
  }
  EncounterIn in;
  record::Encounter& e = in.encounter;
  MEDTWIN_TRY(e.id, OptionalString(r, "id", "Encounter.id"));
  if (!e.id.empty() && !IsFhirId(e.id)) {
    return InvalidArgument("Encounter.id", kFhirIdRule);
  }
  MEDTWIN_TRY(e.status, OptionalString(r, "status", "Encounter.status"));
  if (e.status.empty()) return InvalidArgument("Encounter.status", "is required");
  if (!OneOf(kEncounterStatuses, e.status)) {
    return InvalidArgument("Encounter.status", "'" + e.status.substr(0, 40) + "' is not one of " +
                                                   List(kEncounterStatuses));
  }
  auto cls = r.find("class");
  if (cls == r.end()) return InvalidArgument("Encounter.class", "is required (e.g. IMP)");
  if (!cls->is_object()) return InvalidArgument("Encounter.class", "must be a Coding");
  MEDTWIN_TRY(e.class_code, OptionalString(*cls, "code", "Encounter.class.code"));
  if (e.class_code.empty()) return InvalidArgument("Encounter.class.code", "is required");
  auto subject = r.find("subject");
  if (subject == r.end() || !subject->is_object()) {
    return InvalidArgument("Encounter.subject", "a Patient reference is required");
  }
  MEDTWIN_TRY(std::string reference,
              OptionalString(*subject, "reference", "Encounter.subject.reference"));
  in.patient = ReferencedId(reference, "Patient");
  if (in.patient.empty()) {
    return InvalidArgument("Encounter.subject.reference", "must be Patient/{id}");
  }
  MEDTWIN_RETURN_IF_ERROR(Period(r, "Encounter", &e.start, &e.end));
  if (auto list = r.find("location"); list != r.end()) {
    if (!list->is_array()) return InvalidArgument("Encounter.location", "must be an array");
    if (list->size() > 1000) return InvalidArgument("Encounter.location", "at most 1000 places");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string where = "Encounter.location[" + std::to_string(i) + "]";
      const json& item = (*list)[i];
      if (!item.is_object()) return InvalidArgument(where, "must be an object");
      record::EncounterLocation loc;
      auto place = item.find("location");
      if (place == item.end() || !place->is_object()) {
        return InvalidArgument(where + ".location", "a Location reference is required");
      }
      MEDTWIN_TRY(std::string ref,
                  OptionalString(*place, "reference", where + ".location.reference"));
      MEDTWIN_TRY(loc.display, OptionalString(*place, "display", where + ".location.display"));
      if (!ref.empty() && !ref.starts_with("#")) {
        loc.location_id = ReferencedId(ref, "Location");
        if (!IsFhirId(loc.location_id)) {
          return InvalidArgument(where + ".location.reference",
                                 "must be Location/{id} or a contained #id");
        }
      }
      if (loc.location_id.empty() && loc.display.empty()) {
        return InvalidArgument(where + ".location", "needs a reference or a display");
      }
      MEDTWIN_TRY(loc.status, OptionalString(item, "status", where + ".status"));
      if (loc.status.empty()) loc.status = e.status == "in-progress" ? "active" : "completed";
      if (!OneOf(kEncounterLocationStatuses, loc.status)) {
        return InvalidArgument(
            where + ".status",
            "'" + loc.status.substr(0, 40) + "' is not one of " + List(kEncounterLocationStatuses));
      }
      MEDTWIN_RETURN_IF_ERROR(Period(item, where, &loc.start, &loc.end));
      e.locations.push_back(std::move(loc));
    }
  }
  return in;
}

json ToFhirEncounter(const record::Encounter& e, const std::string& patient) {
  json r = {
      {"resourceType", "Encounter"},
      {"id", e.id},
      {"status", e.status},
      {"class", {{"system", kActCode}, {"code", e.class_code.empty() ? "IMP" : e.class_code}}},
      {"subject", {{"reference", "Patient/" + patient}}}};
  if (json p = PeriodJson(e.start, e.end); !p.empty()) r["period"] = std::move(p);
  json locations = json::array();
  for (const auto& l : e.locations) {
    json place = json::object();
    if (!l.location_id.empty()) place["reference"] = "Location/" + l.location_id;
    place["display"] = !l.display.empty() ? l.display : BedDisplay(l.bed);
    json entry = {{"location", std::move(place)}, {"status", l.status}};
    if (json p = PeriodJson(l.start, l.end); !p.empty()) entry["period"] = std::move(p);
    locations.push_back(std::move(entry));
  }
  if (!locations.empty()) r["location"] = std::move(locations);
  return r;
}

Result<record::Location> FromFhirLocation(const json& r) {
  if (!r.is_object() || !r.contains("resourceType") || r["resourceType"] != "Location") {
    return InvalidArgument("Location.resourceType", "must be Location");
  }
  record::Location l;
  MEDTWIN_TRY(l.id, OptionalString(r, "id", "Location.id"));
  if (!l.id.empty() && !IsFhirId(l.id)) {
    return InvalidArgument("Location.id", kFhirIdRule);
  }
  MEDTWIN_TRY(l.identifiers, Identifiers(r, "Location"));
  MEDTWIN_TRY(std::string status, OptionalString(r, "status", "Location.status"));
  if (!status.empty()) {
    if (!OneOf(kLocationStatuses, status)) {
      return InvalidArgument("Location.status", "'" + status.substr(0, 40) + "' is not one of " +
                                                    List(kLocationStatuses));
    }
    l.status = status;
  }
  if (auto op = r.find("operationalStatus"); op != r.end()) {
    if (!op->is_object()) return InvalidArgument("Location.operationalStatus", "a Coding");
    MEDTWIN_TRY(std::string system,
                OptionalString(*op, "system", "Location.operationalStatus.system"));
    MEDTWIN_TRY(l.bed_status, OptionalString(*op, "code", "Location.operationalStatus.code"));
    if (!system.empty() && system != kBedStatus) {
      return InvalidArgument("Location.operationalStatus.system",
                             std::string("must be ") + kBedStatus + " (HL7 table 0116)");
    }
    if (record::FindBedStatus(l.bed_status) == nullptr) {
      return InvalidArgument(
          "Location.operationalStatus.code",
          "'" + l.bed_status.substr(0, 20) + "' is not in HL7 table 0116 (C, H, I, K, O, U)");
    }
  }
  MEDTWIN_TRY(l.name, OptionalString(r, "name", "Location.name"));
  if (auto alias = r.find("alias"); alias != r.end()) {
    if (!alias->is_array()) return InvalidArgument("Location.alias", "must be an array");
    for (std::size_t i = 0; i < alias->size() && i < 100; ++i) {
      if (!(*alias)[i].is_string()) {
        return InvalidArgument("Location.alias[" + std::to_string(i) + "]", "must be a string");
      }
      l.alias.push_back((*alias)[i].get<std::string>());
    }
  }
  MEDTWIN_TRY(l.description, OptionalString(r, "description", "Location.description"));
  MEDTWIN_TRY(std::string mode, OptionalString(r, "mode", "Location.mode"));
  if (!mode.empty()) {
    if (!OneOf(kLocationModes, mode)) {
      return InvalidArgument("Location.mode",
                             "'" + mode.substr(0, 20) + "' is not instance or kind");
    }
    l.mode = mode;
  }
  if (auto type = r.find("physicalType"); type != r.end()) {
    if (!type->is_object()) return InvalidArgument("Location.physicalType", "a CodeableConcept");
    if (auto coding = type->find("coding"); coding != type->end()) {
      if (!coding->is_array()) {
        return InvalidArgument("Location.physicalType.coding", "must be an array");
      }
      for (const json& c : *coding) {
        if (!c.is_object() || !c.contains("system") || c["system"] != kPhysicalType) continue;
        if (c.contains("code") && c["code"].is_string()) l.physical_type = c["code"];
      }
    }
  }
  if (auto part = r.find("partOf"); part != r.end()) {
    if (!part->is_object()) return InvalidArgument("Location.partOf", "a Reference");
    MEDTWIN_TRY(std::string ref, OptionalString(*part, "reference", "Location.partOf.reference"));
    l.part_of = ReferencedId(ref, "Location");
    if (!IsFhirId(l.part_of)) {
      return InvalidArgument("Location.partOf.reference", "must be Location/{id}");
    }
  }
  return l;
}

json ToFhirLocation(const record::Location& l, std::string_view operational_status) {
  json r = {{"resourceType", "Location"}, {"id", l.id}};
  if (l.version > 0) {
    r["meta"] = {{"versionId", std::to_string(l.version)}, {"lastUpdated", l.last_updated}};
  }
  if (!l.identifiers.empty()) r["identifier"] = IdentifiersJson(l.identifiers);
  r["status"] = l.status;
  if (const record::BedStatus* s = record::FindBedStatus(operational_status)) {
    r["operationalStatus"] = {{"system", kBedStatus},
                              {"code", std::string(s->code)},
                              {"display", std::string(s->display)}};
  }
  if (!l.name.empty()) r["name"] = l.name;
  if (!l.alias.empty()) r["alias"] = l.alias;
  if (!l.description.empty()) r["description"] = l.description;
  r["mode"] = l.mode;
  if (!l.physical_type.empty()) {
    json coding = {{"system", kPhysicalType}, {"code", l.physical_type}};
    if (auto display = record::PhysicalTypeDisplay(l.physical_type); !display.empty()) {
      coding["display"] = std::string(display);
    }
    r["physicalType"] = {{"coding", json::array({coding})}};
  }
  if (!l.part_of.empty()) r["partOf"] = {{"reference", "Location/" + l.part_of}};
  return r;
}

json LocationToJson(const record::Location& l) {
  return {{"id", l.id},
          {"identifiers", IdentifiersJson(l.identifiers)},
          {"status", l.status},
          {"bed_status", l.bed_status},
          {"name", l.name},
          {"alias", l.alias},
          {"description", l.description},
          {"mode", l.mode},
          {"physical_type", l.physical_type},
          {"part_of", l.part_of},
          {"version", l.version},
          {"last_updated", l.last_updated}};
}

Result<record::Location> ParseStoredLocation(const json& j) {
  if (!j.is_object()) return InvalidArgument("location", "must be a JSON object");
  record::Location l;
  auto text = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  l.id = text("id");
  if (!IsFhirId(l.id)) return InvalidArgument("location.id", "not a FHIR id");
  if (auto ids = j.find("identifiers"); ids != j.end() && ids->is_array()) {
    for (const json& i : *ids) {
      if (i.is_object()) l.identifiers.push_back({i.value("system", ""), i.value("value", "")});
    }
  }
  l.status = text("status");
  l.bed_status = text("bed_status");
  l.name = text("name");
  if (auto a = j.find("alias"); a != j.end() && a->is_array()) {
    for (const json& s : *a) {
      if (s.is_string()) l.alias.push_back(s);
    }
  }
  l.description = text("description");
  l.mode = text("mode");
  l.physical_type = text("physical_type");
  l.part_of = text("part_of");
  if (auto v = j.find("version"); v != j.end() && v->is_number_integer()) l.version = *v;
  l.last_updated = text("last_updated");
  return l;
}

}  // namespace medtwin::io
