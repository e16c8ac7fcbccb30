// /api/v1/patients and a patient's twin: list, create, read, update; the twin's view, what-ifs
// and accepting its advice.
#include "medtwin/server/handlers.h"

#include "medtwin/io/patient.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/twin_json.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

Response ListPatients(const RouteRequest& rq) {
  json arr = json::array();
  for (const auto& p : rq.service.Patients()) {
    if (rq.caller.May(p.id, "Patient", Interaction::kSearch)) arr.push_back(io::PatientToJson(p));
  }
  return Json(200, arr);
}

Response PostPatient(const RouteRequest& rq) {
  auto body = ParseBody(rq.req);
  if (!body.ok()) return Fail(400, body.error());
  JoinCareTeam(*body, rq.caller);
  auto p = rq.service.CreatePatient(*body);
  if (!p.ok()) return FailFor(p.error());
  rq.caller.Touch(p->id);
  Response r = Json(201, io::PatientToJson(*p));
  r.headers.emplace_back("Location", "/api/v1/patients/" + p->id);
  return r;
}

Response GetPatient(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto p = rq.service.Patient(id);
  if (!p) return NoPatient(id);
  return Json(200, io::PatientToJson(*p));
}

Response UpdatePatient(const RouteRequest& rq) {
  auto body = ParseBody(rq.req);
  if (!body.ok()) return Fail(400, body.error());
  auto p = rq.service.UpdatePatient(rq.param("id"), *body, rq.caller.Subject());
  if (!p.ok()) return FailFor(p.error());
  return Json(200, io::PatientToJson(*p));
}

Response GetTwin(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto view = rq.service.engine().View(id);
  if (!view) return NoPatient(id);
  json j = TwinViewToJson(*view);
  // The route needs Observation read; the record it embeds (name, birth date, genotype, care
  // team, consent) needs its own scopes, or it is left out.
  json& record = j["patient"];
  if (!rq.caller.May(id, "Patient", Interaction::kRead)) {
    record = {{"id", id}, {"omitted", "the token's scopes do not cover Patient"}};
  } else if (!rq.caller.May(id, "Consent", Interaction::kRead)) {
    record.erase("consent");
    record.erase("consent_history");
  }
  return Json(200, j);
}

Response PostWhatIf(const RouteRequest& rq) {
  auto body = ParseBody(rq.req);
  if (!body.ok()) return Fail(400, body.error());
  if (!rq.service.Patient(rq.param("id"))) return NoPatient(rq.param("id"));
  auto plan = ParseWhatIfPlan(*body);
  if (!plan.ok()) return Fail(400, plan.error());
  auto r = rq.service.engine().WhatIf(rq.param("id"), **plan);
  if (!r.ok()) return FailFor(r.error());
  return Json(200, WhatIfOutcomeToJson(**r));
}

Response PostAcceptRecommendation(const RouteRequest& rq) {
  auto body = ParseOptionalBody(rq.req);
  if (!body.ok()) return Fail(400, body.error());
  if (!body->is_object()) return Fail(400, "invalid", "body", "an object (or no body)");
  // The order records who signed in as its author, whatever the body says.
  (*body)["by"] = rq.caller.Subject();
  // Nothing to accept yet is a conflict with the twin's state (kFailedPrecondition).
  auto order = rq.service.AcceptRecommendation(rq.param("id"), *body);
  if (!order.ok()) return FailFor(order.error());
  return Json(201, *order);
}

}  // namespace medtwin::server
