// security/token.h — bearer tokens: JSON Web Tokens (RFC 7519) signed with HMAC-SHA-256
// (JWS "HS256", RFC 7515) under a 256-bit key kept in a file. A token names its subject, role,
// SMART-on-FHIR scopes, patient context and expiry. Verification accepts exactly HS256 (never
// "none" or another algorithm), compares signatures in constant time and checks expiry, not
// before, issued-at and the longest lifetime. Revocation (by jti) is the server's: it keeps the
// revoked ids in its store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::security {

// base64url without padding (RFC 4648 §5), as JWS uses it. Decoding is strict: characters
// outside the alphabet, padding, or impossible lengths are errors.
[[nodiscard]] std::string Base64UrlEncode(std::string_view bytes);
[[nodiscard]] Result<std::string> Base64UrlDecode(std::string_view text);

// A signing key: 32 random bytes. On disk: one line of base64url (file mode 0600).
struct SigningKey {
  std::string bytes;
};
[[nodiscard]] Result<SigningKey> GenerateKey();
[[nodiscard]] Status WriteKeyFile(const SigningKey& key, const std::string& path);
[[nodiscard]] Result<SigningKey> ReadKeyFile(const std::string& path);

enum class Role { kAdmin, kClinician, kPatient, kDevice, kResearcher };
[[nodiscard]] std::string_view RoleName(Role r);
[[nodiscard]] Result<Role> ParseRole(std::string_view text);

struct Claims {
  std::string subject;              // "sub": who (a user name or device id)
  Role role = Role::kPatient;       // "role"
  std::vector<std::string> scopes;  // "scope": space-separated in the token
  std::string patient;              // "patient": the patient context (patient and device roles)
  std::int64_t issued_at_s = 0;     // "iat"
  std::int64_t expires_at_s = 0;    // "exp"
  std::string token_id;             // "jti"
};

// The longest a token may live (exp - iat), and the clock skew allowed on iat and nbf.
inline constexpr std::int64_t kMaxTokenLifetimeS = 366LL * 86400;
inline constexpr std::int64_t kClockSkewS = 300;

// HMAC-SHA-256 of `data` under `key` (raw 32 bytes out).
[[nodiscard]] std::string HmacSha256(std::string_view key, std::string_view data);

[[nodiscard]] std::string IssueToken(const Claims& claims, const SigningKey& key);

// Errors: field "token" with the reason (malformed, wrong algorithm, bad signature, expired,
// missing claim). `now_s`: seconds since the Unix epoch.
[[nodiscard]] Result<Claims> VerifyToken(std::string_view token, const SigningKey& key,
                                         std::int64_t now_s);

// "8h", "30m", "90s", "2d" → seconds.
[[nodiscard]] Result<std::int64_t> ParseDuration(std::string_view text);

}  // namespace medtwin::security
