#include "medtwin/security/field_crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "medtwin/security/merkle.h"
#include "medtwin/security/token.h"

namespace medtwin::security {
namespace {

using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
constexpr int kNonce = 12, kTag = 16;

Error CryptoError(const std::string& why) { return Error{ErrorCode::kInternal, "data key", why}; }

}  // namespace

Result<DataKeyRing> DataKeyRing::FromText(std::string_view text, const std::string& origin) {
  DataKeyRing ring;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto bytes = Base64UrlDecode(line);
    if (!bytes.ok() || bytes->size() != 32) {
      return InvalidArgument(origin,
                             "each line must be a base64url 256-bit key (`medtwin keys new`)");
    }
    ring.keys_.push_back({ToHex(Sha256(*bytes)).substr(0, 8), *bytes});
  }
  if (ring.keys_.empty()) return InvalidArgument(origin, "no key");
  return ring;
}

Result<DataKeyRing> DataKeyRing::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::kIoError, path, "cannot read the data key file"};
  std::stringstream ss;
  ss << in.rdbuf();
  return FromText(ss.str(), path);
}

Result<std::string> NewDataKeyLine() {
  MEDTWIN_TRY(auto k, GenerateKey());
  return Base64UrlEncode(k.bytes);
}

namespace {
// What a value is bound to: v1 the field only; v2 the field and the record's owner (a
// patient's ciphertext copied into another patient's record does not open there).
std::string AssociatedData(std::string_view field, std::string_view owner) {
  std::string ad(field);
  if (!owner.empty()) {
    ad += '\0';
    ad += owner;
  }
  return ad;
}
}  // namespace

Result<std::string> DataKeyRing::Encrypt(std::string_view plaintext, std::string_view field,
                                         std::string_view owner) const {
  if (keys_.empty()) return CryptoError("no data key");
  const std::string ad = AssociatedData(field, owner);
  const Key& key = keys_[0];
  std::string nonce(kNonce, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonce) != 1) {
    return CryptoError("no random nonce");
  }
  Ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  std::string out(plaintext.size(), '\0');
  std::string tag(kTag, '\0');
  int len = 0, total = 0;
  const auto* k = reinterpret_cast<const unsigned char*>(key.bytes.data());
  const auto* iv = reinterpret_cast<const unsigned char*>(nonce.data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()),
                        static_cast<int>(ad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1) {
    return CryptoError("encryption failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + total, &len) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, tag.data()) != 1) {
    return CryptoError("encryption failed");
  }
  total += len;
  out.resize(static_cast<std::size_t>(total));
  return (owner.empty() ? "enc:v1:" : "enc:v2:") + key.id + ":" +
         Base64UrlEncode(nonce + out + tag);
}

Result<std::string> DataKeyRing::Decrypt(std::string_view stored, std::string_view field,
                                         std::string_view owner) const {
  if (!IsEncrypted(stored)) return std::string(stored);
  // v2 values are bound to their owner; v1 values (written before) to the field only.
  const std::string ad = AssociatedData(field, stored.starts_with("enc:v2:") ? owner : "");
  const std::string_view rest = stored.substr(7);
  const auto colon = rest.find(':');
  if (colon != 8) return CryptoError("malformed encrypted value");
  const std::string id(rest.substr(0, 8));
  const Key* key = nullptr;
  for (const auto& k : keys_) {
    if (k.id == id) key = &k;
  }
  if (key == nullptr) {
    return CryptoError("a value is encrypted with key " + id + ", which is not in the key ring");
  }
  auto blob = Base64UrlDecode(rest.substr(9));
  if (!blob.ok() || blob->size() < static_cast<std::size_t>(kNonce + kTag)) {
    return CryptoError("malformed encrypted value");
  }
  const std::string nonce = blob->substr(0, kNonce);
  const std::string tag = blob->substr(blob->size() - kTag);
  const std::string cipher = blob->substr(kNonce, blob->size() - kNonce - kTag);
  Ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  std::string out(cipher.size(), '\0');
  int len = 0, total = 0;
  std::string tag_copy = tag;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key->bytes.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()),
                        static_cast<int>(ad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(cipher.data()),
                        static_cast<int>(cipher.size())) != 1) {
    return CryptoError("decryption failed");
  }
  total = len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag_copy.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + total, &len) !=
          1) {
    return CryptoError(
        "an encrypted value failed authentication (altered, or moved from another field or "
        "patient)");
  }
  total += len;
  out.resize(static_cast<std::size_t>(total));
  return out;
}

}  // namespace medtwin::security
