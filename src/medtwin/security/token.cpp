#include "medtwin/security/token.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "medtwin/core/text.h"

namespace medtwin::security {
namespace {

using nlohmann::json;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

unsigned Byte(char c) { return static_cast<unsigned>(static_cast<unsigned char>(c)); }

Error TokenError(std::string why) { return InvalidArgument("token", std::move(why)); }

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (Byte(bytes[i]) << 16) | (Byte(bytes[i + 1]) << 8) | Byte(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = Byte(bytes[i]) << 16;
    if (rest == 2) v |= Byte(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return InvalidArgument("base64url", "impossible length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = Sextet(c);
    if (v < 0) return InvalidArgument("base64url", "character outside the alphabet");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (a canonical encoding).
  if (bits > 0 && (buffer & ((1U << bits) - 1)) != 0) {
    return InvalidArgument("base64url", "non-canonical trailing bits");
  }
  return out;
}

Result<SigningKey> GenerateKey() {
  SigningKey k;
  k.bytes.resize(32);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(k.bytes.data()), 32) != 1) {
    return Error{ErrorCode::kInternal, "key", "the system random generator failed"};
  }
  return k;
}

Status WriteKeyFile(const SigningKey& key, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Error{ErrorCode::kIoError, path, "cannot write the key file"};
    out << Base64UrlEncode(key.bytes) << "\n";
    if (!out.flush()) return Error{ErrorCode::kIoError, path, "cannot write the key file"};
  }
  ::chmod(tmp.c_str(), 0600);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error{ErrorCode::kIoError, path, "cannot move the key file into place"};
  }
  return Ok{};
}

Result<SigningKey> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::kIoError, path, "cannot read the key file"};
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  auto bytes = Base64UrlDecode(line);
  if (!bytes.ok() || bytes->size() < 32) {
    return InvalidArgument(path, "not a medtwin key (32 bytes, base64url; `medtwin token keygen`)");
  }
  return SigningKey{*bytes};
}

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAdmin:
      return "admin";
    case Role::kClinician:
      return "clinician";
    case Role::kPatient:
      return "patient";
    case Role::kDevice:
      return "device";
    case Role::kResearcher:
      return "researcher";
  }
  return "patient";
}

Result<Role> ParseRole(std::string_view text) {
  for (Role r :
       {Role::kAdmin, Role::kClinician, Role::kPatient, Role::kDevice, Role::kResearcher}) {
    if (text == RoleName(r)) return r;
  }
  return InvalidArgument("role", "admin, clinician, patient, device or researcher");
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string IssueToken(const Claims& c, const SigningKey& key) {
  json payload = {{"sub", c.subject},
                  {"role", std::string(RoleName(c.role))},
                  {"iat", c.issued_at_s},
                  {"exp", c.expires_at_s}};
  if (!c.scopes.empty()) {
    std::string scope;
    for (const auto& s : c.scopes) scope += (scope.empty() ? "" : " ") + s;
    payload["scope"] = scope;
  }
  if (!c.patient.empty()) payload["patient"] = c.patient;
  if (!c.token_id.empty()) payload["jti"] = c.token_id;
  const std::string signing_input =
      Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(payload.dump());
  return signing_input + "." + Base64UrlEncode(HmacSha256(key.bytes, signing_input));
}

Result<Claims> VerifyToken(std::string_view token, const SigningKey& key, std::int64_t now_s) {
  if (token.size() > 8192) return TokenError("longer than 8 KiB");
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return TokenError("malformed: a JWS compact token has three parts");
  }
  auto header_bytes = Base64UrlDecode(token.substr(0, dot1));
  if (!header_bytes.ok()) return TokenError("malformed header");
  const json header = json::parse(*header_bytes, nullptr, false);
  if (!header.is_object()) return TokenError("malformed header");
  // Only HS256: "none", RS256 (key confusion) and anything else are refused before any other
  // work.
  if (!header.contains("alg") || header["alg"] != "HS256") {
    return TokenError("algorithm must be HS256");
  }
  if (header.contains("crit")) return TokenError("unsupported critical header");
  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature.ok() || signature->size() != 32) return TokenError("malformed signature");
  const std::string expected = HmacSha256(key.bytes, token.substr(0, dot2));
  if (CRYPTO_memcmp(expected.data(), signature->data(), 32) != 0) {
    return TokenError("bad signature");
  }
  auto payload_bytes = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_bytes.ok()) return TokenError("malformed payload");
  const json p = json::parse(*payload_bytes, nullptr, false);
  if (!p.is_object()) return TokenError("malformed payload");
  Claims c;
  if (!p.contains("sub") || !p["sub"].is_string() || p["sub"].get<std::string>().empty()) {
    return TokenError("no subject");
  }
  c.subject = p["sub"];
  // The subject goes into the audit trail and onto orders: text only, no control characters.
  if (!ValidateText(c.subject, "sub", 256).ok()) return TokenError("subject is not plain text");
  if (!p.contains("role") || !p["role"].is_string()) return TokenError("no role");
  auto role = ParseRole(p["role"].get<std::string>());
  if (!role.ok()) return TokenError("unknown role");
  c.role = *role;
  if (!p.contains("exp") || !p["exp"].is_number_integer()) return TokenError("no expiry");
  c.expires_at_s = p["exp"];
  if (now_s >= c.expires_at_s) return TokenError("expired");
  // Issued-at is required and bounds the lifetime (RFC 7519 §4.1.6): a leaked token cannot be
  // made to live forever, and one "issued" in the future is refused.
  if (!p.contains("iat") || !p["iat"].is_number_integer()) return TokenError("no issued-at (iat)");
  c.issued_at_s = p["iat"];
  if (c.issued_at_s > now_s + kClockSkewS) return TokenError("issued in the future");
  if (c.expires_at_s - c.issued_at_s > kMaxTokenLifetimeS) {
    return TokenError("lives longer than " + std::to_string(kMaxTokenLifetimeS / 86400) + " days");
  }
  // Not before (RFC 7519 §4.1.5).
  if (p.contains("nbf")) {
    if (!p["nbf"].is_number_integer()) return TokenError("nbf must be an integer");
    if (now_s + kClockSkewS < p["nbf"].get<std::int64_t>())
      return TokenError("not yet valid (nbf)");
  }
  if (p.contains("scope")) {
    if (!p["scope"].is_string()) return TokenError("scope must be a string");
    std::istringstream words(p["scope"].get<std::string>());
    for (std::string s; words >> s;) c.scopes.push_back(s);
  }
  if (p.contains("patient")) {
    if (!p["patient"].is_string()) return TokenError("patient must be a string");
    c.patient = p["patient"];
    if (!IsValidId(c.patient)) return TokenError("patient is not a patient id");
  }
  if (p.contains("jti")) {
    if (!p["jti"].is_string() || !ValidateText(p["jti"].get<std::string>(), "jti", 128).ok()) {
      return TokenError("jti must be plain text of at most 128 bytes");
    }
    c.token_id = p["jti"];
  }
  if ((c.role == Role::kPatient || c.role == Role::kDevice) && c.patient.empty()) {
    return TokenError("a patient or device token needs a patient");
  }
  return c;
}

Result<std::int64_t> ParseDuration(std::string_view text) {
  if (text.size() < 2) return InvalidArgument("--ttl", "a number and a unit: 90s, 30m, 8h, 2d");
  std::int64_t n = 0;
  const char unit = text.back();
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || p != text.data() + text.size() - 1 || n <= 0) {
    return InvalidArgument("--ttl", "a number and a unit: 90s, 30m, 8h, 2d");
  }
  const std::int64_t scale = unit == 's'   ? 1
                             : unit == 'm' ? 60
                             : unit == 'h' ? 3600
                             : unit == 'd' ? 86400
                                           : 0;
  if (scale == 0) return InvalidArgument("--ttl", "unit s, m, h or d");
  if (n > 366 * 86400 / scale) return InvalidArgument("--ttl", "at most a year");
  return n * scale;
}

}  // namespace medtwin::security
