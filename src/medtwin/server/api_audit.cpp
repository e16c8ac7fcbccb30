// /api/v1/audit: the newest audit records, verification of the stored ledger against its signed
// tree heads, the newest signed head, and RFC 6962 consistency proofs between two tree sizes.
#include "medtwin/server/handlers.h"

#include <charconv>

#include "medtwin/security/audit.h"
#include "medtwin/security/merkle.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/audit_log.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

Response NoAuditLog() { return Fail(404, "not_found", "audit", "this server keeps no audit log"); }

}  // namespace

Response ListAudit(const RouteRequest& rq) {
  AuditLog* log = rq.service.audit_log();
  if (log == nullptr) return NoAuditLog();
  TwinService& service = rq.service;
  const Target& t = rq.target;
  std::size_t limit = 100;
  if (auto it = t.query.find("limit"); it != t.query.end()) {
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
    if (ec != std::errc() || limit < 1 || limit > 10'000) {
      return Fail(400, "invalid", "limit", "an integer 1..10000");
    }
  }
  log->Flush();
  auto rows = service.store().RecentAudit(limit);
  if (!rows.ok()) return Fail(503, rows.error());
  json out = json::array();
  for (const auto& row : *rows) {
    auto rec = security::ParseAuditRecord(row.text);
    out.push_back(rec.ok() ? *rec : json{{"seq", row.seq}, {"invalid", true}});
  }
  return Json(200, out);
}

Response GetAuditVerify(const RouteRequest& rq) {
  AuditLog* log = rq.service.audit_log();
  if (log == nullptr) return NoAuditLog();
  TwinService& service = rq.service;
  log->Flush();
  json report = VerifyStoredLedger(service.store(), log->public_key());
  report["public_key"] = security::ToHex(log->public_key());
  return Json(200, report);
}

Response GetAuditHead(const RouteRequest& rq) {
  AuditLog* log = rq.service.audit_log();
  if (log == nullptr) return NoAuditLog();
  // The newest signed tree head: what a witness keeps.
  auto head = log->NewestHead();
  if (!head.ok()) return Fail(head.error().code == ErrorCode::kNotFound ? 404 : 503, head.error());
  json out = security::TreeHeadToJson(*head);
  out["public_key"] = security::ToHex(log->public_key());
  return Json(200, out);
}

Response GetAuditConsistency(const RouteRequest& rq) {
  AuditLog* log = rq.service.audit_log();
  if (log == nullptr) return NoAuditLog();
  TwinService& service = rq.service;
  const Target& t = rq.target;
  // RFC 6962 §2.1.2: the proof that the tree at `first` records is a prefix of the tree
  // at `second`, with both roots.
  std::uint64_t sizes[2] = {0, 0};
  const char* names[2] = {"first", "second"};
  for (int k = 0; k < 2; ++k) {
    auto it = t.query.find(names[k]);
    const std::string v = it == t.query.end() ? "" : it->second;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), sizes[k]);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
      return Fail(400, "invalid", names[k], "a tree size (records), e.g. from a tree head");
    }
  }
  log->Flush();
  auto ledger = ReadStoredLedger(service.store());
  if (!ledger.ok()) return Fail(503, ledger.error());
  if (sizes[0] > sizes[1] || sizes[1] > ledger->records.size()) {
    return Fail(400, "invalid", "second",
                "0 < first <= second <= " + std::to_string(ledger->records.size()));
  }
  std::vector<security::Hash> leaves;
  leaves.reserve(sizes[1]);
  for (std::uint64_t i = 0; i < sizes[1]; ++i) {
    leaves.push_back(security::LeafHash(ledger->records[i].text));
  }
  json proof = json::array();
  for (const auto& h : security::ConsistencyProof(leaves, sizes[0], sizes[1])) {
    proof.push_back(security::ToHex(h));
  }
  const std::vector<security::Hash> first(leaves.begin(),
                                          leaves.begin() + static_cast<long>(sizes[0]));
  return Json(200, {{"first", sizes[0]},
                    {"second", sizes[1]},
                    {"first_root", security::ToHex(security::MerkleRoot(first))},
                    {"second_root", security::ToHex(security::MerkleRoot(leaves))},
                    {"proof", proof}});
}

}  // namespace medtwin::server
