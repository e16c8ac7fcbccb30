#include "medtwin/cli/token_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "medtwin/cli/command.h"
#include "medtwin/security/access.h"
#include "medtwin/security/token.h"
#include "medtwin/server/access.h"
#include "medtwin/store/store.h"

#include <nlohmann/json.hpp>

namespace medtwin::cli {

Status RunTokenKeygen(const std::string& out) {
  if (out.empty()) return InvalidArgument("--out", "name the key file");
  if (std::filesystem::exists(out)) {
    return InvalidArgument("--out", out + " exists; a new key would invalidate its tokens");
  }
  MEDTWIN_TRY(auto key, security::GenerateKey());
  MEDTWIN_RETURN_IF_ERROR(security::WriteKeyFile(key, out));
  std::fprintf(stderr, "medtwin token: wrote a new signing key to %s (keep it secret)\n",
               out.c_str());
  return Ok{};
}

Result<std::string> IssueTokenFor(const TokenIssueArgs& args) {
  MEDTWIN_TRY(auto key, security::ReadKeyFile(args.key_file));
  security::Claims c;
  MEDTWIN_TRY(c.role, security::ParseRole(args.role));
  if (args.subject.empty() || args.subject.size() > 128) {
    return InvalidArgument("--subject", "1–128 characters");
  }
  c.subject = args.subject;
  c.patient = args.patient;
  if ((c.role == security::Role::kPatient || c.role == security::Role::kDevice) &&
      c.patient.empty()) {
    return InvalidArgument("--patient", "a patient or device token needs --patient");
  }
  for (const auto& s : args.scopes) MEDTWIN_RETURN_IF_ERROR(security::ValidateScope(s));
  c.scopes = args.scopes;
  MEDTWIN_TRY(std::int64_t ttl, security::ParseDuration(args.ttl));
  c.issued_at_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  c.expires_at_s = c.issued_at_s + ttl;
  MEDTWIN_TRY(auto id, security::GenerateKey());  // 32 random bytes: the token's id
  c.token_id = security::Base64UrlEncode(id.bytes.substr(0, 12));
  return security::IssueToken(c, key);
}

Status RunTokenIssue(const TokenIssueArgs& args) {
  MEDTWIN_TRY(std::string token, IssueTokenFor(args));
  std::printf("%s\n", token.c_str());
  // The id to revoke it by (the payload is the token's second part).
  const auto dot1 = token.find('.'), dot2 = token.find('.', dot1 + 1);
  if (auto payload = security::Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
      payload.ok()) {
    const auto j = nlohmann::json::parse(*payload, nullptr, false);
    if (j.is_object() && j.contains("jti")) {
      std::fprintf(
          stderr,
          "medtwin token: token id (jti) %s; revoke with `medtwin token revoke %s --store STORE`\n",
          j["jti"].get<std::string>().c_str(), j["jti"].get<std::string>().c_str());
    }
  }
  return Ok{};
}

Status RunTokenRevoke(const std::string& jti, const std::string& store_url) {
  if (jti.empty() || jti.size() > 128)
    return InvalidArgument("JTI", "a token id (1-128 characters)");
  MEDTWIN_TRY(auto store, store::OpenStore(store_url));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  // Kept as long as any token could still be valid.
  MEDTWIN_RETURN_IF_ERROR(
      store->RevokeToken(jti, std::chrono::duration_cast<std::chrono::microseconds>(now).count(),
                         now_s + security::kMaxTokenLifetimeS));
  std::fprintf(stderr, "medtwin token: %s revoked\n", jti.c_str());
  return Ok{};
}

std::string DescribeRoutes(bool as_json) {
  static const char* kFrom[] = {"none", "path", "query", "body"};
  nlohmann::json all = nlohmann::json::array();
  std::string text;
  for (const auto& r : server::ApiRoutes()) {
    const std::string method(boost::beast::http::to_string(r.method));
    const std::string interaction(1, security::InteractionLetter(r.interaction));
    const char* from = kFrom[static_cast<int>(r.patient_from)];
    all.push_back({{"method", method},
                   {"path", r.path},
                   {"public", r.is_public},
                   {"resource", r.resource},
                   {"interaction", interaction},
                   {"patient_from", from}});
    char line[256];
    std::snprintf(line, sizeof line, "%-6s %-48s %s\n", method.c_str(), r.path.c_str(),
                  r.is_public
                      ? "public"
                      : (r.resource + "." + interaction + "  patient from " + from).c_str());
    text += line;
  }
  return as_json ? all.dump(1) + "\n" : text;
}

void AddTokenCommand(CLI::App& app) {
  auto* token = app.add_subcommand(
      "token",
      "Bearer tokens for `medtwin serve --auth-key FILE`: HS256 JWTs naming a subject, a role\n"
      "(admin, clinician, patient, device, researcher), SMART scopes, a patient context and an\n"
      "expiry.");
  token->require_subcommand(1);
  auto keygen_out = std::make_shared<std::string>();
  auto* keygen = token->add_subcommand("keygen", "Write a new 256-bit signing key (mode 0600)");
  keygen->add_option("--out", *keygen_out, "Key file to create")->required();
  auto issue_args = std::make_shared<TokenIssueArgs>();
  auto* issue = token->add_subcommand("issue", "Print a signed token");
  issue->add_option("--key", issue_args->key_file, "Signing key file")->required();
  issue
      ->add_option("--role", issue_args->role,
                   "admin | clinician (their care teams' patients) | patient (own record, read)"
                   " | device (writes for its patient) | researcher (de-identified data)")
      ->required();
  issue->add_option("--subject", issue_args->subject, "Who: a user name or device id")->required();
  issue->add_option("--patient", issue_args->patient,
                    "Patient context (required for patient and device tokens)");
  issue->add_option("--scope", issue_args->scopes,
                    "SMART scopes narrowing the role, e.g. patient/*.rs user/Observation.cruds "
                    "system/*.read (repeatable)");
  issue->add_option("--ttl", issue_args->ttl, "Lifetime: 90s, 30m, 8h, 2d (at most 366d)")
      ->capture_default_str();
  struct RevokeArgs {
    std::string jti, store;
  };
  auto revoke_args = std::make_shared<RevokeArgs>();
  auto* revoke = token->add_subcommand(
      "revoke",
      "Revoke a token by its id (jti, printed by `token issue`): servers on the same store\n"
      "refuse it within a second and end its open streams");
  revoke->add_option("jti", revoke_args->jti, "The token's id")->required();
  revoke->add_option("--store", revoke_args->store, "sqlite:PATH or postgresql://… (the server's)")
      ->required();

  OnChosen(keygen, [keygen_out] { return Report("token keygen", RunTokenKeygen(*keygen_out)); });
  OnChosen(issue, [issue_args] { return Report("token issue", RunTokenIssue(*issue_args)); });
  OnChosen(revoke, [revoke_args] {
    return Report("token revoke", RunTokenRevoke(revoke_args->jti, revoke_args->store));
  });
}

void AddRoutesCommand(CLI::App& app) {
  auto as_json = std::make_shared<bool>(false);
  auto* routes = app.add_subcommand(
      "routes",
      "Every route `medtwin serve` answers, with the resource type and interaction it is\n"
      "authorized as and where its patient comes from (public routes need no token).");
  routes->add_flag("--json", *as_json, "As a JSON array");

  OnChosen(routes, [as_json] {
    std::cout << DescribeRoutes(*as_json);
    return 0;
  });
}

}  // namespace medtwin::cli
