// libFuzzer: bearer token verification never crashes, and accepts only what it signed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "medtwin/security/token.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const medtwin::security::SigningKey key{std::string(32, 'k')};
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  auto claims = medtwin::security::VerifyToken(token, key, 1'800'000'000);
  if (claims.ok()) {
    // Whatever verified must survive a round trip through issuing.
    auto again = medtwin::security::VerifyToken(medtwin::security::IssueToken(*claims, key), key,
                                                1'800'000'000);
    if (!again.ok() || again->subject != claims->subject) __builtin_trap();
  }
  (void)medtwin::security::Base64UrlDecode(token);
  return 0;
}
