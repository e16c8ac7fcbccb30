// cli/token_command.h — `medtwin token keygen --out FILE` writes a new signing key (mode 0600);
// `medtwin token issue --key FILE --role ROLE --subject NAME [--patient ID] [--scope S …]
// [--ttl 8h]` prints a signed bearer token for `medtwin serve --auth-key FILE` (its id, jti,
// on stderr); `medtwin token revoke JTI --store S` revokes one: every server on that store
// refuses it within a second, open streams included.
#pragma once

#include <string>
#include <vector>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct TokenIssueArgs {
  std::string key_file, role, subject, patient, ttl = "8h";
  std::vector<std::string> scopes;
};

[[nodiscard]] Status RunTokenKeygen(const std::string& out);
// Prints the token on stdout.
[[nodiscard]] Status RunTokenIssue(const TokenIssueArgs& args);
// Records `jti` as revoked in the store at `store_url`.
[[nodiscard]] Status RunTokenRevoke(const std::string& jti, const std::string& store_url);
// The token itself (for --demo and tests).
[[nodiscard]] Result<std::string> IssueTokenFor(const TokenIssueArgs& args);

// `medtwin routes`: the server's route table (text, or JSON with --json).
[[nodiscard]] std::string DescribeRoutes(bool as_json);

// Adds `medtwin token keygen|issue|revoke`.
void AddTokenCommand(CLI::App& app);
// Adds `medtwin routes`.
void AddRoutesCommand(CLI::App& app);

}  // namespace medtwin::cli
