// /fhir/r4/Encounter: the patient's stays and beds as FHIR R4 Encounters (read, and search by
// patient and status), from the record the HL7 ADT feed keeps (record/encounter.h). A bed is a
// Location reference by display ("ICU 1-A"): medtwin keeps no Location resources yet.
#include "medtwin/server/handlers.h"

#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

namespace {

std::string BedDisplay(const record::BedLocation& b) {
  std::string out = b.ward;
  if (!b.room.empty()) out += (out.empty() ? "" : " ") + b.room;
  if (!b.bed.empty()) out += (out.empty() ? "" : "-") + b.bed;
  return out.empty() ? "unknown bed" : out;
}

json EncounterResource(const record::PatientRecord& p, const record::Encounter& e) {
  json r = {{"resourceType", "Encounter"},
            {"id", e.id},
            {"status", e.status},
            {"class",
             {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
              {"code", e.class_code.empty() ? "IMP" : e.class_code}}},
            {"subject", {{"reference", "Patient/" + p.id}}}};
  json period = json::object();
  if (!e.start.empty()) period["start"] = e.start;
  if (!e.end.empty()) period["end"] = e.end;
  if (!period.empty()) r["period"] = period;
  json locations = json::array();
  for (const auto& l : e.locations) {
    json entry = {{"location", {{"display", BedDisplay(l.bed)}}},
                  {"status", l.status == "active" ? "active" : "completed"}};
    json lp = json::object();
    if (!l.start.empty()) lp["start"] = l.start;
    if (!l.end.empty()) lp["end"] = l.end;
    if (!lp.empty()) entry["period"] = lp;
    locations.push_back(std::move(entry));
  }
  if (!locations.empty()) r["location"] = std::move(locations);
  return r;
}

}  // namespace

Response FhirSearchEncounter(const RouteRequest& rq) {
  auto terms = SearchTerms(rq, "Encounter");
  if (!terms.ok()) return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  const std::string patient = PatientInQuery(rq.query());
  if (patient.empty()) return Outcome(400, "required", "patient", "search needs patient");
  auto p = rq.service.Patient(patient);
  if (!p) return Outcome(404, "not-found", "patient", "no Patient/" + patient);
  std::vector<std::string> statuses;
  for (const auto& t : *terms) {
    if (t.name == "status") statuses.insert(statuses.end(), t.values.begin(), t.values.end());
  }
  json list = json::array();
  // Newest first: the stay in progress leads.
  for (auto it = p->encounters.rbegin(); it != p->encounters.rend(); ++it) {
    if (!statuses.empty() &&
        std::find(statuses.begin(), statuses.end(), it->status) == statuses.end()) {
      continue;
    }
    list.push_back(EncounterResource(*p, *it));
  }
  return Fhir(200, Searchset(list, &rq));
}

Response FhirReadEncounter(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  for (const std::string& patient : rq.service.PatientIds()) {
    auto p = rq.service.Patient(patient);
    if (!p) continue;
    for (const auto& e : p->encounters) {
      if (e.id != id) continue;
      if (auto d = rq.caller.Check(p->id, "Encounter", Interaction::kRead); !d.allowed) {
        return Outcome(403, "forbidden", "Encounter.subject", d.reason);
      }
      return Fhir(200, EncounterResource(*p, e));
    }
  }
  return Outcome(404, "not-found", "Encounter.id", "no Encounter/" + id);
}

}  // namespace medtwin::server
