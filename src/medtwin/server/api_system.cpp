// The server's own routes: the dashboard (index, static files), health and readiness, metrics,
// and the live stream.
#include "medtwin/server/handlers.h"

#include "medtwin/core/time.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/audit_log.h"
#include "medtwin/server/static_files.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

constexpr const char* kIndexHtml = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medtwin</title></head>
<body><h1>medtwin</h1><p>The twin server is running. API under <code>/api/v1</code>:
<code>/api/v1/patients</code>, <code>/api/v1/alerts</code>, <code>/api/v1/stream</code> (live
events), <code>/healthz</code>, <code>/metrics</code>. See docs/api.md.</p></body></html>
)html";

}  // namespace

Response GetIndex(const RouteRequest&) {
  Response index = ServeStatic("");
  return index.status == 200 ? index : Text("text/html; charset=utf-8", kIndexHtml);
}

Response GetStatic(const RouteRequest& r) { return ServeStatic(r.param("path")); }

Response GetHealth(const RouteRequest& r) {
  TwinService& service = r.service;
  return Json(200, {{"status", "ok"},
                    {"store", std::string(service.store().Kind())},
                    {"twins", service.engine().TwinCount()}});
}

Response GetReady(const RouteRequest& rq) {
  TwinService& service = rq.service;
  // Ready only when a write can be committed now and the audit trail keeps up: a load
  // balancer sends no traffic to a server whose store is down or whose disk is full.
  json out = {{"store", std::string(service.store().Kind())}};
  bool ready = true;
  if (Status st = service.store().CheckWritable(WallClockNow().us_since_epoch); !st.ok()) {
    ready = false;
    out["store_error"] = st.error().message;
  }
  if (AuditLog* log = service.audit_log(); log != nullptr) {
    out["audit_records_held"] = log->held();
    if (log->held() > 0) ready = false;
  }
  out["status"] = ready ? "ready" : "not ready";
  Response r = Json(ready ? 200 : 503, out);
  if (!ready) r.headers.emplace_back("Retry-After", "2");
  return r;
}

Response GetMetrics(const RouteRequest& r) {
  return Text("text/plain; version=0.0.4", r.service.MetricsText());
}

// What a live stream carries: the one patient asked for, everything (an administrator without
// a patient context), or the patients the caller may see now (a patient added later, or put in
// the caller's care, joins at the stream's next check).
void SelectStream(TwinService& service, const Caller& caller,
                  const std::map<std::string, std::string>& query, bool* all,
                  std::vector<std::string>* topics) {
  using security::Interaction;
  topics->clear();
  *all = false;
  if (auto it = query.find("patient"); it != query.end()) {
    if (caller.May(it->second, "Observation", Interaction::kSearch)) *topics = {it->second};
  } else if (caller.claims() && caller.claims()->role == security::Role::kAdmin &&
             caller.May("", "Observation", Interaction::kSearch) &&
             caller.claims()->patient.empty()) {
    *all = true;
  } else {
    for (const auto& p : service.Patients()) {
      if (caller.May(p.id, "Observation", Interaction::kSearch)) topics->push_back(p.id);
    }
  }
}

Response OpenStream(const RouteRequest& r) {
  Response out;
  out.event_stream = true;
  SelectStream(r.service, r.caller, r.query(), &out.stream_all, &out.stream_topics);
  return out;
}

}  // namespace medtwin::server
