// Tokens: the RFC 7515 A.1 HS256 vector, base64url round trips and strictness, issue/verify,
// every kind of bad token (expired, tampered, alg none, wrong algorithm, malformed), a mutation
// fuzz that never crashes and never accepts a changed token; the access policy by role, care
// team and scope.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "../support/mutate.h"
#include "medtwin/security/access.h"
#include "medtwin/security/token.h"

namespace medtwin::security {
namespace {

using nlohmann::json;

SigningKey TestKey() { return SigningKey{std::string(32, '\x42')}; }

Claims Who(Role role, std::string subject, std::string patient = "",
           std::vector<std::string> scopes = {}) {
  Claims c;
  c.subject = std::move(subject);
  c.role = role;
  c.patient = std::move(patient);
  c.scopes = std::move(scopes);
  c.issued_at_s = 1'800'000'000;
  c.expires_at_s = 1'800'003'600;
  return c;
}

TEST(Token, Rfc7515AppendixA1Hs256Vector) {
  // RFC 7515 A.1: the JWK's key, the signing input and the signature as published.
  auto key = Base64UrlDecode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(key.ok());
  const std::string input =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ";
  EXPECT_EQ(Base64UrlEncode(HmacSha256(*key, input)),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  // The whole token verifies as far as the signature; it then lacks medtwin's claims.
  auto v = VerifyToken(input + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", SigningKey{*key},
                       1'300'819'000);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "no subject");
  auto header = Base64UrlDecode("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
}

TEST(Token, Base64UrlRoundTripsAndIsStrict) {
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    std::string bytes(static_cast<std::size_t>(n % 70), '\0');
    for (auto& b : bytes) b = static_cast<char>(rng() & 0xFF);
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto back = Base64UrlDecode(text);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_FALSE(Base64UrlDecode("abc=").ok());  // padding
  EXPECT_FALSE(Base64UrlDecode("ab+c").ok());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("a").ok());     // impossible length
  EXPECT_FALSE(Base64UrlDecode("QR").ok());    // non-canonical trailing bits ("QQ" is 'A')
  EXPECT_EQ(*Base64UrlDecode("QQ"), "A");
}

TEST(Token, IssueVerifyAndEveryBadToken) {
  const SigningKey key = TestKey();
  Claims c = Who(Role::kClinician, "dr-a", "", {"user/*.cruds"});
  c.token_id = "t1";
  const std::string token = IssueToken(c, key);
  auto ok = VerifyToken(token, key, 1'800'000'100);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->subject, "dr-a");
  EXPECT_EQ(ok->role, Role::kClinician);
  EXPECT_EQ(ok->scopes, std::vector<std::string>{"user/*.cruds"});
  EXPECT_EQ(ok->token_id, "t1");

  auto reason = [&](const std::string& t, std::int64_t now = 1'800'000'100) {
    auto r = VerifyToken(t, key, now);
    EXPECT_FALSE(r.ok()) << t;
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_EQ(reason(token, 1'800'003'600), "expired");
  EXPECT_EQ(reason(token + "x"), "malformed signature");
  EXPECT_EQ(reason(IssueToken(c, SigningKey{std::string(32, 'x')})), "bad signature");
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  const std::string signature = token.substr(dot2 + 1);
  // Privilege escalation: the payload rewritten to admin, the old signature kept.
  json payload = json::parse(*Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
  payload["role"] = "admin";
  const std::string forged =
      token.substr(0, dot1) + "." + Base64UrlEncode(payload.dump()) + "." + signature;
  EXPECT_EQ(reason(forged), "bad signature");
  // alg none, with and without a signature; another algorithm.
  const std::string body = Base64UrlEncode(payload.dump());
  EXPECT_EQ(reason(Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + body + "."),
            "algorithm must be HS256");
  EXPECT_EQ(reason(Base64UrlEncode(R"({"alg":"none"})") + "." + body + "." + signature),
            "algorithm must be HS256");
  EXPECT_EQ(reason(Base64UrlEncode(R"({"alg":"HS512"})") + "." + body + "." + signature),
            "algorithm must be HS256");
  EXPECT_EQ(reason(Base64UrlEncode(R"({"alg":"RS256"})") + "." + body + "." + signature),
            "algorithm must be HS256");
  EXPECT_EQ(reason("abc.def"), "malformed: a JWS compact token has three parts");
  EXPECT_EQ(reason("a.b.c.d"), "malformed: a JWS compact token has three parts");
  EXPECT_EQ(reason(""), "malformed: a JWS compact token has three parts");
  EXPECT_EQ(reason(std::string(9000, 'a')), "longer than 8 KiB");
  // A patient token must carry its patient.
  EXPECT_EQ(reason(IssueToken(Who(Role::kPatient, "p"), key)),
            "a patient or device token needs a patient");
}

TEST(Token, MutatedTokensNeverCrashAndAreNeverAccepted) {
  const SigningKey key = TestKey();
  const std::string token = IssueToken(Who(Role::kDevice, "pump-1", "bed-3"), key);
  std::mt19937 rng(11);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string mutated = medtwin::testing_support::Mutate(
        token, rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/");
    auto r = VerifyToken(mutated, key, 1'800'000'100);
    if (mutated == token) continue;
    ++checked;
    // Base64url has spare bits only in the last character of a part, so a change that decodes
    // to the same bytes is the only acceptable acceptance.
    if (r.ok()) {
      EXPECT_EQ(r->subject, "pump-1");
      EXPECT_EQ(r->patient, "bed-3");
      EXPECT_EQ(r->role, Role::kDevice);
    }
  }
  EXPECT_GT(checked, 2500);
}

TEST(Token, DurationsAndKeys) {
  EXPECT_EQ(*ParseDuration("8h"), 8 * 3600);
  EXPECT_EQ(*ParseDuration("30m"), 1800);
  EXPECT_EQ(*ParseDuration("2d"), 172800);
  EXPECT_FALSE(ParseDuration("8").ok());
  EXPECT_FALSE(ParseDuration("-1h").ok());
  EXPECT_FALSE(ParseDuration("8w").ok());
  auto k1 = GenerateKey();
  auto k2 = GenerateKey();
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_EQ(k1->bytes.size(), 32u);
  EXPECT_NE(k1->bytes, k2->bytes);
}

TEST(Access, RolesCareTeamsAndScopes) {
  using I = Interaction;
  const std::vector<std::string> team_a = {"dr-a"};
  const std::vector<std::string> none;
  // Admin: anything.
  EXPECT_TRUE(Decide(Who(Role::kAdmin, "root"), "Patient", I::kUpdate, "p1", none).allowed);
  // Clinician: only on the care team; lists are allowed (the handler filters).
  const Claims dr_a = Who(Role::kClinician, "dr-a");
  const Claims dr_b = Who(Role::kClinician, "dr-b");
  EXPECT_TRUE(Decide(dr_a, "Observation", I::kSearch, "p1", team_a).allowed);
  EXPECT_TRUE(Decide(dr_a, "Observation", I::kCreate, "p1", team_a).allowed);
  EXPECT_FALSE(Decide(dr_b, "Observation", I::kSearch, "p1", team_a).allowed);
  EXPECT_FALSE(Decide(dr_b, "Patient", I::kRead, "p1", team_a).allowed);
  EXPECT_TRUE(Decide(dr_b, "Patient", I::kSearch, "", none).allowed);
  // Patient: reads their own record only.
  const Claims pat = Who(Role::kPatient, "anna", "p1");
  EXPECT_TRUE(Decide(pat, "Observation", I::kRead, "p1", none).allowed);
  EXPECT_FALSE(Decide(pat, "Observation", I::kRead, "p2", none).allowed);
  EXPECT_FALSE(Decide(pat, "Observation", I::kCreate, "p1", none).allowed);
  // Device: writes observations for its bound patient only.
  const Claims dev = Who(Role::kDevice, "oximeter-9", "p1");
  EXPECT_TRUE(Decide(dev, "Observation", I::kCreate, "p1", none).allowed);
  EXPECT_FALSE(Decide(dev, "Observation", I::kCreate, "p2", none).allowed);
  EXPECT_FALSE(Decide(dev, "Observation", I::kRead, "p1", none).allowed);
  EXPECT_FALSE(Decide(dev, "Patient", I::kUpdate, "p1", none).allowed);
  // Researcher: nothing identifiable.
  EXPECT_FALSE(Decide(Who(Role::kResearcher, "r"), "Observation", I::kSearch, "", none).allowed);
  // Scopes narrow.
  const Claims dr_obs_read = Who(Role::kClinician, "dr-a", "", {"user/Observation.rs"});
  EXPECT_TRUE(Decide(dr_obs_read, "Observation", I::kSearch, "p1", team_a).allowed);
  EXPECT_FALSE(Decide(dr_obs_read, "Observation", I::kCreate, "p1", team_a).allowed);
  EXPECT_FALSE(Decide(dr_obs_read, "Patient", I::kRead, "p1", team_a).allowed);
  const Claims v1 = Who(Role::kAdmin, "svc", "", {"system/*.read"});
  EXPECT_TRUE(Decide(v1, "Patient", I::kRead, "p9", none).allowed);
  EXPECT_FALSE(Decide(v1, "Patient", I::kUpdate, "p9", none).allowed);
  // A patient/ scope covers only the token's patient, even for an admin.
  const Claims admin_in_context = Who(Role::kAdmin, "root", "p1", {"patient/*.cruds"});
  EXPECT_TRUE(Decide(admin_in_context, "Patient", I::kUpdate, "p1", none).allowed);
  EXPECT_FALSE(Decide(admin_in_context, "Patient", I::kUpdate, "p2", none).allowed);
  // Scope grammar.
  for (const char* good : {"patient/*.rs", "user/Observation.cruds", "system/*.read",
                           "patient/Patient.write", "user/*.*", "user/Observation.cs"}) {
    EXPECT_TRUE(ValidateScope(good).ok()) << good;
  }
  for (const char* bad :
       {"patient*.rs", "doctor/*.rs", "user/Observation.sc", "user/.rs", "user/Obs.x", "openid"}) {
    EXPECT_FALSE(ValidateScope(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace medtwin::security
