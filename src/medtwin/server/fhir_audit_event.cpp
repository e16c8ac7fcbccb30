// /fhir/r4/AuditEvent: the newest audit records as FHIR AuditEvents.
#include "medtwin/server/handlers.h"

#include "medtwin/core/text.h"
#include "medtwin/security/audit.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/audit_log.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {

using nlohmann::json;

Response FhirSearchAuditEvent(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const auto& query = rq.query();
  if (auto terms = SearchTerms(rq, "AuditEvent"); !terms.ok()) {
    return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  }
  AuditLog* log = service.audit_log();
  if (log == nullptr) return Outcome(404, "not-found", "AuditEvent", "no audit log");
  std::size_t count = 100;
  if (auto it = query.find("_count"); it != query.end()) {
    count = static_cast<std::size_t>(ParseUint64(it->second).value_or(0));
    if (count < 1 || count > 10'000) return Outcome(400, "value", "_count", "1..10000");
  }
  log->Flush();
  auto rows = service.store().RecentAudit(count);
  if (!rows.ok()) return Outcome(503, "transient", "store", rows.error().message);
  json list = json::array();
  for (const auto& row : *rows) {
    if (auto rec = security::ParseAuditRecord(row.text); rec.ok()) {
      list.push_back(security::ToFhirAuditEvent(*rec));
    }
  }
  return Fhir(200, Searchset(list, &rq));
}

Response FhirReadAuditEvent(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto not_found = [&] {
    return Outcome(404, "not-found", "AuditEvent.id", "no AuditEvent/" + id.substr(0, 64));
  };
  AuditLog* log = rq.service.audit_log();
  const auto seq =
      id.starts_with("audit-") ? ParseUint64(std::string_view(id).substr(6)) : std::nullopt;
  if (log == nullptr || !seq) return not_found();
  log->Flush();
  auto row = rq.service.store().AuditRecord(*seq);
  if (!row.ok()) return Outcome(503, "transient", "store", row.error().message);
  if (!*row) return not_found();
  auto rec = security::ParseAuditRecord((*row)->text);
  if (!rec.ok()) return Outcome(500, "exception", "AuditEvent", "the stored record is unreadable");
  return Fhir(200, security::ToFhirAuditEvent(*rec));
}

}  // namespace medtwin::server
