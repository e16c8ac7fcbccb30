// security/field_crypto.h — direct identifiers encrypted at rest: AES-256-GCM (OpenSSL) with a
// random 96-bit nonce per value, the field's name and the record's owner (the patient id) bound
// in as associated data (a ciphertext cannot be moved to another field or another patient's
// record), under a key ring read from a file or the environment. The stored form is
// "enc:v2:KEYID:base64url(nonce ‖ ciphertext ‖ tag)" ("enc:v1:", bound to the field only, is
// what earlier versions wrote: still read, re-encrypted as v2 by `medtwin keys rotate`); KEYID (8
// hex digits of SHA-256 of the key) says which key of the ring opens it, so keys can be rotated:
// new values use the ring's first key, old ones stay readable until `medtwin keys rotate`
// re-encrypts them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::security {

class DataKeyRing {
 public:
  // A file of base64url 256-bit keys, one per line, newest (the one that encrypts) first.
  static Result<DataKeyRing> FromFile(const std::string& path);
  // The same, from the text of an environment variable.
  static Result<DataKeyRing> FromText(std::string_view text, const std::string& origin);
  [[nodiscard]] bool empty() const { return keys_.empty(); }
  [[nodiscard]] std::string current_id() const { return keys_.empty() ? "" : keys_[0].id; }

  // `owner`: the id of the record the value belongs to ("" writes the old, field-only v1 form).
  [[nodiscard]] Result<std::string> Encrypt(std::string_view plaintext, std::string_view field,
                                            std::string_view owner) const;
  // Values that are not "enc:" text are returned as they are (stored before encryption).
  [[nodiscard]] Result<std::string> Decrypt(std::string_view stored, std::string_view field,
                                            std::string_view owner) const;
  [[nodiscard]] static bool IsEncrypted(std::string_view stored) {
    return stored.starts_with("enc:v1:") || stored.starts_with("enc:v2:");
  }

 private:
  struct Key {
    std::string id, bytes;
  };
  std::vector<Key> keys_;
};

// A new key line for a key file.
[[nodiscard]] Result<std::string> NewDataKeyLine();

}  // namespace medtwin::security
