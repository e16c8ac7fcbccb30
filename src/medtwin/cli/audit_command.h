// cli/audit_command.h — the audit ledger from the command line:
//   medtwin audit keygen --out FILE               a new tree-head signing key (serve --audit-key);
//   medtwin audit pubkey --key FILE               its public key (hex), all a verifier needs;
//   medtwin audit verify --store URL --public-key PUB [--heads HEADS.jsonl]
//                                                 checks every record and signed tree head (and
//                                                 every head a witness kept: a store shorter than
//                                                 or different from one fails), naming the first
//                                                 altered, removed or moved record (exit 1);
//   medtwin audit proof  --store URL --public-key PUB --seq N
//                                                 an RFC 6962 inclusion proof of record N in the
//                                                 newest signed tree head (JSON);
//   medtwin audit witness --url URL --token T --public-key PUB --out HEADS.jsonl
//                                                 keeps every signed head the server shows and
//                                                 checks each extends the last (RFC 6962
//                                                 consistency proof); exit 1 when one does not;
//   medtwin audit export --store URL --out FILE   every record as a FHIR AuditEvent (NDJSON).
// PUB is 64 hex digits or a file holding them; `--key FILE` (the audit key) may stand for it.
#pragma once

#include <cstdint>
#include <string>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct AuditArgs {
  std::string store, key_file, public_key, heads_file, out;
  std::uint64_t seq = 0;
  // witness
  std::string url, token, interval = "10s";
  int count = 0;  // heads to take before stopping (0: until stopped)
};

// Returns whether the ledger verified (the report is printed either way).
[[nodiscard]] Result<bool> RunAuditVerify(const AuditArgs& args);
[[nodiscard]] Status RunAuditProof(const AuditArgs& args);
[[nodiscard]] Status RunAuditExport(const AuditArgs& args);
[[nodiscard]] Status RunAuditKeygen(const AuditArgs& args);
[[nodiscard]] Status RunAuditPubkey(const AuditArgs& args);
// Returns whether every head seen was consistent with the ones before it.
[[nodiscard]] Result<bool> RunAuditWitness(const AuditArgs& args);

// Adds `medtwin audit keygen|pubkey|verify|proof|export|witness`.
void AddAuditCommand(CLI::App& app);

}  // namespace medtwin::cli
