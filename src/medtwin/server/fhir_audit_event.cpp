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
  if (auto terms = SearchTerms(rq, "AuditEvent"); !terms.ok()) {
    return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  }
  AuditLog* log = service.audit_log();
  if (log == nullptr) return Outcome(404, "not-found", "AuditEvent", "no audit log");
  // The newest 10,000 records are searched (the ledger itself is verified and exported with
  // `medtwin audit`); newest first unless _sort says otherwise.
  log->Flush();
  auto rows = service.store().RecentAudit(10'000);
  if (!rows.ok()) return Outcome(503, "transient", "store", rows.error().message);
  json list = json::array();
  for (const auto& row : *rows) {
    if (auto rec = security::ParseAuditRecord(row.text); rec.ok()) {
      list.push_back(security::ToFhirAuditEvent(*rec));
    }
  }
  static const ListParam kParams[] = {
      {"date", [](const json& r) { return r.value("recorded", ""); }, nullptr},
      {"patient", nullptr,
       [](const json& r) {
         // As a reference: "Patient/{id}" or "{id}" both match the entity's reference.
         std::vector<std::pair<std::string, std::string>> out;
         if (r.contains("entity") && r["entity"].is_array()) {
           for (const auto& e : r["entity"]) {
             const std::string ref =
                 e.contains("what") ? e["what"].value("reference", "") : std::string();
             if (ref.starts_with("Patient/")) {
               out.emplace_back("", ref);
               out.emplace_back("", ref.substr(8));
             }
           }
         }
         return out;
       }},
      {"action", nullptr, TokenMember("action")},
      {"outcome", nullptr, TokenMember("outcome")}};
  return SearchList(rq, "AuditEvent", std::move(list), kParams, "date", /*newest_first=*/true,
                    /*max_count=*/10'000);
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
