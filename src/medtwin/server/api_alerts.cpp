// /api/v1/alerts: the alerts the caller may see, filtered; acknowledging one (who acknowledged
// is the token's subject).
#include "medtwin/server/handlers.h"

#include "medtwin/core/text.h"
#include "medtwin/io/advice_json.h"
#include "medtwin/server/api_common.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

Response ListAlerts(const RouteRequest& rq) {
  const auto& query = rq.query();
  twin::AlertFilter f;
  if (auto it = query.find("status"); it != query.end() && !it->second.empty()) {
    f.status = record::ParseAlertStatus(it->second);
    if (!f.status) return Fail(400, "invalid", "status", "open, acknowledged or resolved");
  }
  if (auto it = query.find("severity"); it != query.end() && !it->second.empty()) {
    f.min_severity = record::ParseSeverity(it->second);
    if (!f.min_severity) {
      return Fail(400, "invalid", "severity", "low, low-medium, medium, high or critical");
    }
  }
  if (auto it = query.find("patient"); it != query.end()) f.patient = it->second;
  if (!f.patient.empty() && !IsValidId(f.patient)) {
    return Fail(400, ValidateId(f.patient, "patient").error());
  }
  json visible = json::array();
  for (const auto& a : rq.service.engine().Alerts(f)) {
    if (rq.caller.May(a.patient, "DetectedIssue", Interaction::kSearch)) {
      visible.push_back(io::AlertToJson(a));
    }
  }
  return Json(200, visible);
}

Response PostAlertAck(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  const auto alert_id = ParseUint64(id);
  if (!alert_id) return Fail(400, "invalid", "id", "alert ids are numbers");
  // The alert's patient decides who may acknowledge it.
  const auto alert = rq.service.engine().FindAlert(*alert_id);
  if (!alert) return Fail(404, "not_found", "id", "no alert " + id);
  if (auto d = rq.caller.Check(alert->patient, "DetectedIssue", Interaction::kUpdate); !d.allowed) {
    return Fail(403, "forbidden", "authorization", d.reason);
  }
  // Who acknowledged is who signed in (the token's subject), never what a body says.
  auto a = rq.service.Acknowledge(*alert_id, rq.caller.Subject(), alert->patient);
  if (!a.ok()) return Fail(404, a.error());
  return Json(200, io::AlertToJson(*a));
}

}  // namespace medtwin::server
