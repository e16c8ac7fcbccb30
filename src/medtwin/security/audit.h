// security/audit.h — the audit trail's records and their verification. Every access to patient
// data becomes an AuditEntry (who, role, what, which patients, when, outcome, from where). The
// ledger stores each as canonical JSON text that also carries its sequence number and the
// Merkle root of all records before it (RFC 6962 tree, merkle.h), so a changed, missing or
// moved record breaks the chain at that record; signed tree heads (Ed25519 over size, root and
// time) pin the whole ledger, so rewriting the chain after a change needs the signing key.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "medtwin/security/merkle.h"
#include "medtwin/security/token.h"

namespace medtwin::security {

struct AuditEntry {
  std::int64_t time_us = 0;
  std::string who;     // token subject ("" for no or a bad token)
  std::string role;    // role name, or ""
  std::string action;  // "GET /api/v1/patients/{id}/twin"
  std::string resource;
  char interaction = 'r';             // c r u d s
  std::vector<std::string> patients;  // whose data (possibly several)
  int outcome = 200;                  // HTTP status
  std::string from;                   // client address
  // Identical refused requests recorded as one (a flood of requests without a valid token):
  // how many this record stands for. Stored only when not 1.
  std::uint64_t count = 1;
};

// The stored text of record `seq`, whose predecessors have Merkle root `prev_root`.
[[nodiscard]] std::string AuditRecordText(const AuditEntry& e, std::uint64_t seq,
                                          const Hash& prev_root);
// A stored record as JSON (for listing and FHIR AuditEvent export); an error if it is not one.
[[nodiscard]] Result<nlohmann::json> ParseAuditRecord(const std::string& text);

// The Ed25519 key that signs tree heads: a key of its own (`medtwin audit keygen`, a 32-byte
// seed in a 0600 file), so whoever holds the token secret cannot re-sign a rewritten ledger, and
// verifiers need only its public key (`medtwin audit pubkey`).
[[nodiscard]] Result<SigningKeyPair> ReadAuditKeyFile(const std::string& path);
// The key earlier versions derived from the token secret; only to carry a demo store's ledger
// over to a key of its own.
[[nodiscard]] Result<SigningKeyPair> LegacyAuditSigningKey(const SigningKey& secret);
// A public key given as 64 hex digits, or the name of a file holding them.
[[nodiscard]] Result<std::string> ReadPublicKey(const std::string& hex_or_file);
// What a tree head's signature covers.
[[nodiscard]] std::string TreeHeadMessage(std::uint64_t size, const Hash& root,
                                          std::int64_t time_us);

struct StoredRecord {
  std::uint64_t seq = 0;
  std::string text;
};
struct StoredHead {
  std::uint64_t size = 0;
  std::string root_hex;
  std::int64_t time_us = 0;
  std::string signature_hex;
};

struct LedgerReport {
  bool ok = true;
  std::uint64_t records = 0;
  std::uint64_t heads_checked = 0;
  std::optional<std::uint64_t> first_bad_seq;  // the first record found altered/removed/moved
  std::string problem;                         // what is wrong, in words
  Hash root;                                   // of all records read
};

// A signed tree head as JSON ({"size", "root", "time_us", "signature"}: what the API serves and
// a witness keeps, one per line), and back.
[[nodiscard]] nlohmann::json TreeHeadToJson(const StoredHead& head);
[[nodiscard]] Result<StoredHead> TreeHeadFromJson(const nlohmann::json& j);
[[nodiscard]] bool TreeHeadSignatureValid(const StoredHead& head, const std::string& public_key);

// Checks every record in order (sequence, chain of roots) and every tree head (signature,
// root at its size, no records missing beyond the last). Heads kept elsewhere (a witness's)
// are checked the same way: a store shorter than, or different from, any of them fails.
[[nodiscard]] LedgerReport VerifyLedger(const std::vector<StoredRecord>& rows,
                                        const std::vector<StoredHead>& heads,
                                        const std::string& public_key);

// A FHIR R4 AuditEvent for a stored record.
[[nodiscard]] nlohmann::json ToFhirAuditEvent(const nlohmann::json& record);

}  // namespace medtwin::security
