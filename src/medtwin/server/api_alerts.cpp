// /api/v1/alerts: the alerts the caller may see, filtered; acknowledging one (who acknowledged
// is the token's subject).
#include "medtwin/server/handlers.h"

#include <charconv>

#include "medtwin/core/text.h"
#include "medtwin/server/api_common.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

Response ListAlerts(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const Target& t = rq.target;
  twin::AlertFilter f;
  if (auto it = t.query.find("status"); it != t.query.end()) f.status = it->second;
  if (auto it = t.query.find("severity"); it != t.query.end()) f.severity = it->second;
  if (auto it = t.query.find("patient"); it != t.query.end()) f.patient = it->second;
  if (!f.status.empty() && f.status != "open" && f.status != "acknowledged" &&
      f.status != "resolved") {
    return Fail(400, "invalid", "status", "open, acknowledged or resolved");
  }
  if (!f.severity.empty() && f.severity != "low" && f.severity != "low-medium" &&
      f.severity != "medium" && f.severity != "high" && f.severity != "critical") {
    return Fail(400, "invalid", "severity", "low, low-medium, medium, high or critical");
  }
  if (!f.patient.empty() && !IsValidId(f.patient)) {
    return Fail(400, ValidateId(f.patient, "patient").error());
  }
  json visible = json::array();
  for (auto& a : service.engine().Alerts(f)) {
    if (caller.May(a["patient"].get<std::string>(), "DetectedIssue", Interaction::kSearch)) {
      visible.push_back(std::move(a));
    }
  }
  return Json(200, visible);
}

Response PostAlertAck(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const std::string& id = rq.param("id");
  std::uint64_t alert_id = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), alert_id);
  if (ec != std::errc() || p != id.data() + id.size()) {
    return Fail(400, "invalid", "id", "alert ids are numbers");
  }
  // The alert's patient decides who may acknowledge it.
  std::string patient;
  for (const auto& a : service.engine().Alerts({})) {
    if (a["id"] == id) patient = a["patient"];
  }
  if (patient.empty()) return Fail(404, "not_found", "id", "no alert " + id);
  if (auto d = caller.Check(patient, "DetectedIssue", Interaction::kUpdate); !d.allowed) {
    return Fail(403, "forbidden", "authorization", d.reason);
  }
  // Who acknowledged is who signed in (the token's subject), never what a body says.
  auto a = service.Acknowledge(alert_id, caller.Subject());
  if (!a.ok()) return Fail(404, a.error());
  return Json(200, *a);
}

}  // namespace medtwin::server
