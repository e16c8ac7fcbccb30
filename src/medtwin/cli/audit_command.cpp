#include "medtwin/cli/audit_command.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "medtwin/cli/command.h"
#include "medtwin/cli/http_client.h"
#include "medtwin/security/audit.h"
#include "medtwin/server/service.h"
#include "medtwin/store/store.h"

namespace medtwin::cli {
namespace {

// The verifier's public key: --public-key, or derived from --key (the audit key file).
Result<std::string> VerifierKey(const AuditArgs& args) {
  if (!args.public_key.empty()) return security::ReadPublicKey(args.public_key);
  if (!args.key_file.empty()) {
    MEDTWIN_TRY(auto key, security::ReadAuditKeyFile(args.key_file));
    return key.public_key;
  }
  return InvalidArgument("--public-key", "give the ledger's public key (`medtwin audit pubkey`)");
}

// Heads a witness kept: one JSON object per line.
Result<std::vector<security::StoredHead>> ReadHeads(const std::string& path) {
  std::vector<security::StoredHead> heads;
  if (path.empty()) return heads;
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::kNotFound, "--heads", "cannot read " + path};
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto head = security::TreeHeadFromJson(nlohmann::json::parse(line, nullptr, false));
    if (!head.ok()) return head.error().WithContext(path + ":" + std::to_string(n));
    heads.push_back(*head);
  }
  return heads;
}

}  // namespace

Result<bool> RunAuditVerify(const AuditArgs& args) {
  MEDTWIN_TRY(std::string public_key, VerifierKey(args));
  MEDTWIN_TRY(auto kept, ReadHeads(args.heads_file));
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  const nlohmann::json report = server::VerifyStoredLedger(*store, public_key, kept);
  std::printf("%s\n", report.dump(1).c_str());
  if (report["ok"].get<bool>()) {
    std::fprintf(stderr, "medtwin audit: ledger intact: %llu records, %llu signed tree heads%s\n",
                 static_cast<unsigned long long>(report["records"].get<std::uint64_t>()),
                 static_cast<unsigned long long>(report["tree_heads_checked"].get<std::uint64_t>()),
                 kept.empty() ? "" : " (witness heads included)");
  } else {
    std::fprintf(stderr, "medtwin audit: LEDGER TAMPERED: %s\n",
                 report["problem"].get<std::string>().c_str());
  }
  return report["ok"].get<bool>();
}

Status RunAuditProof(const AuditArgs& args) {
  MEDTWIN_TRY(std::string public_key, VerifierKey(args));
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  MEDTWIN_TRY(server::StoredLedger l, server::ReadStoredLedger(*store));
  if (l.heads.empty()) return InvalidArgument("--seq", "the ledger has no signed tree head yet");
  const security::StoredHead& head = l.heads.back();
  if (!security::TreeHeadSignatureValid(head, public_key)) {
    return InvalidArgument("--public-key", "the newest tree head is not signed by this key");
  }
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
      {"public_key", security::ToHex(public_key)},
      {"verified", verified}};
  std::printf("%s\n", out.dump(1).c_str());
  if (!verified)
    return InvalidArgument("--seq", "the proof does not verify: the ledger was altered");
  return Ok{};
}

Status RunAuditKeygen(const AuditArgs& args) {
  if (args.out.empty()) return InvalidArgument("--out", "name the key file");
  if (std::filesystem::exists(args.out)) {
    return InvalidArgument("--out", args.out + " exists; a new key would not verify its ledger");
  }
  MEDTWIN_TRY(auto seed, security::GenerateKey());
  MEDTWIN_RETURN_IF_ERROR(security::WriteKeyFile(seed, args.out));
  MEDTWIN_TRY(auto key, security::Ed25519FromSeed(seed.bytes));
  std::fprintf(stderr,
               "medtwin audit: wrote a new audit signing key to %s (keep it secret, apart from the "
               "token key); its public key:\n",
               args.out.c_str());
  std::printf("%s\n", security::ToHex(key.public_key).c_str());
  return Ok{};
}

Status RunAuditPubkey(const AuditArgs& args) {
  MEDTWIN_TRY(auto key, security::ReadAuditKeyFile(args.key_file));
  std::printf("%s\n", security::ToHex(key.public_key).c_str());
  return Ok{};
}

Result<bool> RunAuditWitness(const AuditArgs& args) {
  MEDTWIN_TRY(std::string public_key, VerifierKey(args));
  MEDTWIN_TRY(std::int64_t interval_s, security::ParseDuration(args.interval));
  MEDTWIN_TRY(HostPort hp, ParseUrl(args.url, "http", 80, "--url"));
  if (args.out.empty()) return InvalidArgument("--out", "the file that keeps the heads");
  std::vector<security::StoredHead> kept;  // a witness starts with no file
  if (std::filesystem::exists(args.out)) {
    MEDTWIN_TRY(kept, ReadHeads(args.out));
  }
  HttpClient client(hp, args.token, "--url");
  std::optional<security::StoredHead> last;
  if (!kept.empty()) last = kept.back();
  int taken = 0;
  for (;;) {
    MEDTWIN_TRY(auto reply, client.Get("/api/v1/audit/head"));
    if (reply.first != 200) {
      return Error{ErrorCode::kIoError, "--url",
                   "GET /api/v1/audit/head answered " + std::to_string(reply.first) + ": " +
                       reply.second.substr(0, 200)};
    }
    MEDTWIN_TRY(security::StoredHead head,
                security::TreeHeadFromJson(nlohmann::json::parse(reply.second, nullptr, false)));
    if (!security::TreeHeadSignatureValid(head, public_key)) {
      std::fprintf(stderr,
                   "medtwin audit witness: the server's tree head at size %llu is not "
                   "signed by the ledger's key\n",
                   static_cast<unsigned long long>(head.size));
      return false;
    }
    bool consistent = true;
    std::string why;
    if (last && head.size < last->size) {
      consistent = false;
      why = "the ledger shrank from " + std::to_string(last->size) + " to " +
            std::to_string(head.size) + " records (truncated)";
    } else if (last && head.size > last->size) {
      MEDTWIN_TRY(auto proof_reply,
                  client.Get("/api/v1/audit/consistency?first=" + std::to_string(last->size) +
                             "&second=" + std::to_string(head.size)));
      const auto j = nlohmann::json::parse(proof_reply.second, nullptr, false);
      std::vector<security::Hash> proof;
      if (proof_reply.first == 200 && j.is_object() && j.contains("proof")) {
        for (const auto& h : j["proof"]) {
          if (auto b = security::FromHex(h.is_string() ? h.get<std::string>() : ""); b.ok()) {
            proof.push_back(*b);
          }
        }
      }
      auto first_root = security::FromHex(last->root_hex);
      auto second_root = security::FromHex(head.root_hex);
      consistent =
          proof_reply.first == 200 && first_root.ok() && second_root.ok() &&
          security::VerifyConsistency(last->size, head.size, *first_root, *second_root, proof);
      if (!consistent) {
        why = "the tree at " + std::to_string(head.size) + " does not extend the one at " +
              std::to_string(last->size) + " (records were rewritten)";
      }
    } else if (last && head.size == last->size && head.root_hex != last->root_hex) {
      consistent = false;
      why = "two different roots for " + std::to_string(head.size) + " records";
    }
    if (!consistent) {
      std::fprintf(stderr, "medtwin audit witness: INCONSISTENT: %s\n", why.c_str());
      return false;
    }
    if (!last || head.size != last->size || head.time_us != last->time_us) {
      std::ofstream out(args.out, std::ios::app);
      out << security::TreeHeadToJson(head).dump() << "\n";
      if (!out) return Error{ErrorCode::kIoError, "--out", "cannot write " + args.out};
      std::fprintf(stderr, "medtwin audit witness: head at %llu records kept, consistent\n",
                   static_cast<unsigned long long>(head.size));
      last = head;
    }
    if (args.count > 0 && ++taken >= args.count) return true;
    std::this_thread::sleep_for(std::chrono::seconds(interval_s));
  }
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

void AddAuditCommand(CLI::App& app) {
  auto* audit = app.add_subcommand(
      "audit",
      "The audit ledger: every access to patient data, chained in an RFC 6962 Merkle tree with\n"
      "tree heads signed by the server's --audit-key (Ed25519); anyone with the public key can\n"
      "verify it, and a witness that keeps heads catches truncation and rewriting.");
  audit->require_subcommand(1);
  auto args = std::make_shared<AuditArgs>();
  auto* audit_keygen = audit->add_subcommand(
      "keygen", "Write a new tree-head signing key (mode 0600) and print its public key");
  audit_keygen->add_option("--out", args->out, "Key file to create")->required();
  auto* audit_pubkey =
      audit->add_subcommand("pubkey", "Print the public key of an audit key file (hex)");
  audit_pubkey->add_option("--key", args->key_file, "The --audit-key file")->required();
  auto* audit_verify =
      audit->add_subcommand("verify",
                            "Check every record and tree head (and a witness's kept heads);\n"
                            "name the first altered, removed or reordered record (exit 1)");
  auto* audit_proof = audit->add_subcommand(
      "proof", "Inclusion proof of one record in the newest signed tree head (JSON)");
  auto* audit_export =
      audit->add_subcommand("export", "Every record as a FHIR R4 AuditEvent (NDJSON)");
  auto* audit_witness = audit->add_subcommand(
      "witness",
      "Keep every signed tree head a server shows (HEADS.jsonl) and check each new one extends\n"
      "the last by an RFC 6962 consistency proof; exit 1 when one does not");
  for (auto* sub : {audit_verify, audit_proof, audit_export}) {
    sub->add_option("--store", args->store, "sqlite:PATH or postgresql://…")->required();
  }
  for (auto* sub : {audit_verify, audit_proof, audit_witness}) {
    sub->add_option("--public-key", args->public_key,
                    "The ledger's public key: 64 hex digits or a file (`medtwin audit pubkey`)");
    sub->add_option("--key", args->key_file, "Or the --audit-key file itself");
  }
  audit_verify->add_option("--heads", args->heads_file,
                           "Tree heads a witness kept (JSON lines): the store must hold them all");
  audit_proof->add_option("--seq", args->seq, "Record number (from 0)")->required();
  audit_export->add_option("--out", args->out, "NDJSON file to write")->required();
  audit_witness->add_option("--url", args->url, "The server, http://HOST:PORT")->required();
  audit_witness->add_option("--token", args->token, "An administrator's bearer token")->required();
  audit_witness->add_option("--out", args->out, "Where the heads are kept (appended)")->required();
  audit_witness->add_option("--interval", args->interval, "Between looks: 10s, 1m …")
      ->capture_default_str();
  audit_witness->add_option("--count", args->count, "Stop after this many looks (0: never)")
      ->capture_default_str();

  // verify and witness exit 1 when the ledger does not check out.
  auto check = [](const char* name, const Result<bool>& ok) {
    if (!ok.ok()) return Report(name, ok.error());
    return *ok ? 0 : 1;
  };
  OnChosen(audit_verify, [args, check] { return check("audit verify", RunAuditVerify(*args)); });
  OnChosen(audit_witness, [args, check] { return check("audit witness", RunAuditWitness(*args)); });
  OnChosen(audit_proof, [args] { return Report("audit proof", RunAuditProof(*args)); });
  OnChosen(audit_keygen, [args] { return Report("audit keygen", RunAuditKeygen(*args)); });
  OnChosen(audit_pubkey, [args] { return Report("audit pubkey", RunAuditPubkey(*args)); });
  OnChosen(audit_export, [args] { return Report("audit export", RunAuditExport(*args)); });
}

}  // namespace medtwin::cli
