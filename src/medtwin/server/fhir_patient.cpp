// /fhir/r4/Patient: search, create, read, update (create at a new id). medtwin's patient
// record through io's FHIR Patient mapping.
#include "medtwin/server/handlers.h"

#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/io/patient.h"
#include "medtwin/server/api_common.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

Response FhirSearchPatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  json list = json::array();
  for (const auto& p : service.Patients()) {
    if (caller.May(p.id, "Patient", Interaction::kSearch)) {
      list.push_back(io::ToFhirPatient(io::PatientToJson(p)));
    }
  }
  return Fhir(200, Searchset(list));
}

Response FhirCreatePatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  auto b = ParseBody(rq.req);
  if (!b.ok()) return Outcome(400, "structure", "Patient", b.error().message);
  auto doc = io::FromFhirPatient(*b);
  if (!doc.ok()) return Outcome(400, "invalid", doc.error().field, doc.error().message);
  JoinCareTeam(*doc, caller);
  auto p = service.CreatePatient(*doc);
  if (!p.ok())
    return Outcome(p.error().code == ErrorCode::kAlreadyExists ? 409 : 400,
                   p.error().code == ErrorCode::kAlreadyExists ? "duplicate" : "invalid",
                   p.error().field, p.error().message);
  caller.Touch(p->id);
  return Fhir(201, io::ToFhirPatient(io::PatientToJson(*p)));
}

Response FhirReadPatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const std::string& id = rq.param("id");
  auto p = service.Patient(id);
  if (!p) return Outcome(404, "not-found", "Patient.id", "no Patient/" + id);
  return Fhir(200, io::ToFhirPatient(io::PatientToJson(*p)));
}

Response FhirUpdatePatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const std::string& id = rq.param("id");
  auto b = ParseBody(rq.req);
  if (!b.ok()) return Outcome(400, "structure", "Patient", b.error().message);
  auto doc = io::FromFhirPatient(*b);
  if (!doc.ok()) return Outcome(400, "invalid", doc.error().field, doc.error().message);
  (*doc)["id"] = id;
  const bool exists = service.Patient(id).has_value();
  if (!exists) JoinCareTeam(*doc, caller);
  auto p = exists ? service.UpdatePatient(id, *doc, caller.Subject()) : service.CreatePatient(*doc);
  if (!p.ok()) return Outcome(400, "invalid", p.error().field, p.error().message);
  return Fhir(exists ? 200 : 201, io::ToFhirPatient(io::PatientToJson(*p)));
}

}  // namespace medtwin::server
