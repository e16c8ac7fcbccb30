#include "medtwin/cli/audit_command.h"

#include <cstdio>
#include <fstream>

#include "medtwin/security/audit.h"
#include "medtwin/server/service.h"
#include "medtwin/store/store.h"

namespace medtwin::cli {
Result<bool> RunAuditVerify(const AuditArgs& args) {
  MEDTWIN_TRY(auto secret, security::ReadKeyFile(args.key_file));
  MEDTWIN_TRY(auto key, security::AuditSigningKey(secret));
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  const nlohmann::json report = server::VerifyStoredLedger(*store, key.public_key);
  std::printf("%s\n", report.dump(1).c_str());
  if (report["ok"].get<bool>()) {
    std::fprintf(
        stderr, "medtwin audit: ledger intact: %llu records, %llu signed tree heads\n",
        static_cast<unsigned long long>(report["records"].get<std::uint64_t>()),
        static_cast<unsigned long long>(report["tree_heads_checked"].get<std::uint64_t>()));
  } else {
    std::fprintf(stderr, "medtwin audit: LEDGER TAMPERED: %s\n",
                 report["problem"].get<std::string>().c_str());
  }
  return report["ok"].get<bool>();
}

Status RunAuditProof(const AuditArgs& args) {
  MEDTWIN_TRY(auto secret, security::ReadKeyFile(args.key_file));
  MEDTWIN_TRY(auto key, security::AuditSigningKey(secret));
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  MEDTWIN_TRY(server::StoredLedger l, server::ReadStoredLedger(*store));
  if (l.heads.empty()) return InvalidArgument("--seq", "the ledger has no signed tree head yet");
  const security::StoredHead& head = l.heads.back();
  if (args.seq >= head.size) {
    return InvalidArgument("--seq", "record " + std::to_string(args.seq) +
                                        " is not under the newest signed tree head (size " +
                                        std::to_string(head.size) + ")");
  }
  if (l.records.size() < head.size) return InvalidArgument("store", "records are missing");
  std::vector<security::Hash> leaves;
  for (std::size_t i = 0; i < head.size; ++i)
    leaves.push_back(security::LeafHash(l.records[i].text));
  const auto proof = security::InclusionProof(leaves, args.seq, head.size);
  nlohmann::json path = nlohmann::json::array();
  for (const auto& h : proof) path.push_back(security::ToHex(h));
  MEDTWIN_TRY(std::string root, security::FromHex(head.root_hex));
  const bool verified =
      security::VerifyInclusion(leaves[args.seq], args.seq, head.size, proof, root);
  const nlohmann::json out = {
      {"record", nlohmann::json::parse(l.records[args.seq].text, nullptr, false)},
      {"leaf_index", args.seq},
      {"leaf_hash", security::ToHex(leaves[args.seq])},
      {"tree_size", head.size},
      {"root", head.root_hex},
      {"inclusion_path", path},
      {"tree_head_time_us", head.time_us},
      {"tree_head_signature", head.signature_hex},
      {"public_key", security::ToHex(key.public_key)},
      {"verified", verified}};
  std::printf("%s\n", out.dump(1).c_str());
  if (!verified)
    return InvalidArgument("--seq", "the proof does not verify: the ledger was altered");
  return Ok{};
}

Status RunAuditExport(const AuditArgs& args) {
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  const std::string tmp = args.out + ".tmp";
  std::ofstream out(tmp, std::ios::trunc);
  if (!out) return Error{ErrorCode::kIoError, "--out", "cannot write " + args.out};
  std::size_t n = 0;
  MEDTWIN_RETURN_IF_ERROR(store->ForEachAudit([&](const store::Store::AuditRow& r) {
    if (auto rec = security::ParseAuditRecord(r.text); rec.ok()) {
      out << security::ToFhirAuditEvent(*rec).dump() << "\n";
      ++n;
    }
  }));
  out.close();
  if (!out || std::rename(tmp.c_str(), args.out.c_str()) != 0) {
    return Error{ErrorCode::kIoError, "--out", "cannot write " + args.out};
  }
  std::fprintf(stderr, "medtwin audit: %zu AuditEvent resources written to %s\n", n,
               args.out.c_str());
  return Ok{};
}

}  // namespace medtwin::cli
