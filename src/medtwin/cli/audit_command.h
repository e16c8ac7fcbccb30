// cli/audit_command.h — the audit ledger from the command line, read straight from the store:
//   medtwin audit verify --store URL --key FILE   checks every record and signed tree head and
//                                                 names the first altered, removed or moved
//                                                 record (exit 1 if any);
//   medtwin audit proof  --store URL --key FILE --seq N
//                                                 an RFC 6962 inclusion proof of record N in the
//                                                 newest signed tree head (JSON);
//   medtwin audit export --store URL --out FILE   every record as a FHIR AuditEvent (NDJSON).
// FILE is the server's --auth-key: the tree-head key is derived from it.
#pragma once

#include <cstdint>
#include <string>

#include "medtwin/core/result.h"

namespace medtwin::cli {

struct AuditArgs {
  std::string store, key_file, out;
  std::uint64_t seq = 0;
};

// Returns whether the ledger verified (the report is printed either way).
[[nodiscard]] Result<bool> RunAuditVerify(const AuditArgs& args);
[[nodiscard]] Status RunAuditProof(const AuditArgs& args);
[[nodiscard]] Status RunAuditExport(const AuditArgs& args);

}  // namespace medtwin::cli
