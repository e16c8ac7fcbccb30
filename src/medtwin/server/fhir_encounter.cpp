// /fhir/r4/Encounter: the patient's stays as FHIR R4 Encounters — read, search (by patient,
// status, location; across the patients the caller may see when no patient is named), create
// and update — kept in the patient's record, where the HL7 ADT feed keeps them too
// (record/encounter.h). A place given as Location/{id} must be one of the server's Locations
// (its ward, room and bed come from there); one given by display only is kept as that text.
#include "medtwin/server/handlers.h"

#include "medtwin/io/fhir_encounter.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

Status PrepareEncounter(TwinService& service, io::EncounterIn& in, const std::string& path_id) {
  record::Encounter& e = in.encounter;
  if (path_id.empty()) {
    e.id = "enc-" + NewPatientId().substr(2);  // R4 §3.1.0.7: the server names what it creates
  } else {
    if (!io::IsFhirId(path_id)) return InvalidArgument("Encounter.id", io::kFhirIdRule);
    if (!e.id.empty() && e.id != path_id) {
      return InvalidArgument(
          "Encounter.id", "the body's id '" + e.id.substr(0, 64) + "' is not the one in the URL");
    }
    e.id = path_id;
    const std::string owner = service.EncounterOwner(e.id);
    if (!owner.empty() && owner != in.patient) {
      // Said the same way whether or not the caller may see the other patient.
      return Error{ErrorCode::kAlreadyExists, "Encounter.subject",
                   "Encounter/" + e.id + " belongs to another patient's record"};
    }
  }
  for (std::size_t i = 0; i < e.locations.size(); ++i) {
    auto& l = e.locations[i];
    if (l.location_id.empty()) continue;
    if (!service.locations().Get(l.location_id)) {
      return NotFound("Encounter.location[" + std::to_string(i) + "].location.reference",
                      "no Location/" + l.location_id + " (create it first)");
    }
    l.bed = service.locations().BedOf(l.location_id);
  }
  return Ok{};
}

Response EncounterRefused(const Error& e) {
  if (e.code == ErrorCode::kAlreadyExists) return Outcome(409, "conflict", e.field, e.message);
  if (e.code == ErrorCode::kNotFound) return Outcome(422, "not-found", e.field, e.message);
  if (e.code == ErrorCode::kInvalidArgument) return Outcome(400, "value", e.field, e.message);
  return Outcome(StatusFor(e), "processing", e.field, e.message);
}

namespace {

Response SaveEncounter(const RouteRequest& rq, const std::string& path_id) {
  TwinService& service = rq.service;
  auto body = ParseBody(rq.req);
  if (!body.ok()) return Outcome(400, "structure", "Encounter", body.error().message);
  auto in = io::FromFhirEncounter(*body);
  if (!in.ok()) return Outcome(400, "invalid", in.error().field, in.error().message);
  record::Encounter& e = in->encounter;
  const Interaction what = path_id.empty() ? Interaction::kCreate : Interaction::kUpdate;
  if (auto d = rq.caller.Check(in->patient, "Encounter", what); !d.allowed) {
    return Outcome(403, "forbidden", "Encounter.subject", d.reason);
  }
  if (!service.Patient(in->patient)) {
    return Outcome(404, "not-found", "Encounter.subject", "no Patient/" + in->patient);
  }
  if (Status ready = PrepareEncounter(service, *in, path_id); !ready.ok()) {
    return EncounterRefused(ready.error());
  }
  bool created = false;
  auto changed = service.ChangePatient(in->patient, std::nullopt, [&](record::PatientRecord& p) {
    return record::PlaceEncounter(p.encounters, e, p.id, &created);
  });
  if (!changed.ok()) return EncounterRefused(changed.error());
  Response r = Fhir(created ? 201 : 200, io::ToFhirEncounter(e, in->patient));
  if (created) r.headers.emplace_back("Location", FhirBase(rq) + "/Encounter/" + e.id);
  return r;
}

}  // namespace

Response FhirSearchEncounter(const RouteRequest& rq) {
  auto terms = SearchTerms(rq, "Encounter");
  if (!terms.ok()) return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  const std::string patient = PatientInQuery(rq.query());
  std::vector<std::string> patients;
  if (!patient.empty()) {
    if (!rq.service.Patient(patient)) {
      return Outcome(404, "not-found", "patient", "no Patient/" + patient);
    }
    patients.push_back(patient);
  } else {
    // Across patients: only those the caller may see (a census for the bed manager).
    for (const std::string& id : rq.service.PatientIds()) {
      if (rq.caller.Check(id, "Encounter", Interaction::kSearch).allowed) patients.push_back(id);
    }
  }
  json list = json::array();
  for (const std::string& id : patients) {
    auto p = rq.service.Patient(id);
    if (!p) continue;
    // Newest first: the stay in progress leads.
    for (auto it = p->encounters.rbegin(); it != p->encounters.rend(); ++it) {
      bool match = true;
      for (const auto& t : *terms) {
        if (t.name == "status") {
          match =
              match && std::find(t.values.begin(), t.values.end(), it->status) != t.values.end();
        }
        if (t.name == "location") {
          match = match && std::any_of(t.values.begin(), t.values.end(), [&](const std::string& v) {
                    const std::string want = v.starts_with("Location/") ? v.substr(9) : v;
                    return std::any_of(
                        it->locations.begin(), it->locations.end(),
                        [&](const record::EncounterLocation& l) { return l.location_id == want; });
                  });
        }
      }
      if (match) list.push_back(io::ToFhirEncounter(*it, p->id));
    }
  }
  return Fhir(200, Searchset(list, &rq));
}

Response FhirReadEncounter(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  const std::string owner = rq.service.EncounterOwner(id);
  auto p = owner.empty() ? std::nullopt : rq.service.Patient(owner);
  if (!p) return Outcome(404, "not-found", "Encounter.id", "no Encounter/" + id.substr(0, 64));
  if (auto d = rq.caller.Check(p->id, "Encounter", Interaction::kRead); !d.allowed) {
    return Outcome(403, "forbidden", "Encounter.subject", d.reason);
  }
  for (const auto& e : p->encounters) {
    if (e.id == id) return Fhir(200, io::ToFhirEncounter(e, p->id));
  }
  return Outcome(404, "not-found", "Encounter.id", "no Encounter/" + id.substr(0, 64));
}

Response FhirCreateEncounter(const RouteRequest& rq) { return SaveEncounter(rq, ""); }

Response FhirUpdateEncounter(const RouteRequest& rq) { return SaveEncounter(rq, rq.param("id")); }

}  // namespace medtwin::server
