// /api/v1/patients/{id}/consent: read, history, replace, withdraw. Every change is a change of
// the patient (audited), and the consent it replaced goes to the history with who and when.
#include "medtwin/server/handlers.h"

#include "medtwin/core/time.h"
#include "medtwin/io/patient.h"
#include "medtwin/server/api_common.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// Stores `consent` as the patient's; the reply is the consent now held.
Response StoreConsent(const RouteRequest& rq, const json& consent) {
  auto updated =
      rq.service.UpdatePatient(rq.param("id"), json{{"consent", consent}}, rq.caller.Subject());
  if (!updated.ok()) {
    Error e = updated.error();
    if (!e.field.starts_with("consent")) e.field = "consent." + e.field;
    return FailFor(e);
  }
  return Json(200, io::ConsentToJson(updated->consent));
}

}  // namespace

Response GetConsent(const RouteRequest& rq) {
  auto p = rq.service.Patient(rq.param("id"));
  if (!p) return NoPatient(rq.param("id"));
  return Json(200, io::ConsentToJson(p->consent));
}

Response GetConsentHistory(const RouteRequest& rq) {
  auto p = rq.service.Patient(rq.param("id"));
  if (!p) return NoPatient(rq.param("id"));
  // Every earlier consent, oldest first, with who changed it and when.
  return Json(200, io::PatientToJson(*p)["consent_history"]);
}

Response PutConsent(const RouteRequest& rq) {
  auto p = rq.service.Patient(rq.param("id"));
  if (!p) return NoPatient(rq.param("id"));
  auto body = ParseBody(rq.req);
  if (!body.ok()) return Fail(400, body.error());
  if (!body->is_object()) return Fail(400, "invalid", "body", "a consent object");
  json consent = io::ConsentToJson(p->consent);
  for (auto& [k, v] : body->items()) consent[k] = v;
  if (!body->contains("recorded_at")) consent["recorded_at"] = FormatRfc3339(LimitsNow().now);
  if (!body->contains("withdrawn_at")) consent["withdrawn_at"] = nullptr;
  return StoreConsent(rq, consent);
}

Response PostConsentWithdraw(const RouteRequest& rq) {
  auto p = rq.service.Patient(rq.param("id"));
  if (!p) return NoPatient(rq.param("id"));
  auto body = ParseOptionalBody(rq.req);
  if (!body.ok()) return Fail(400, body.error());
  json consent = io::ConsentToJson(p->consent);
  consent["withdrawn_at"] = body->is_object() && body->contains("date")
                                ? (*body)["date"]
                                : json(FormatRfc3339(LimitsNow().now));
  return StoreConsent(rq, consent);
}

}  // namespace medtwin::server
