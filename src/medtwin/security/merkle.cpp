#include "medtwin/security/merkle.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <memory>

namespace medtwin::security {
namespace {

// The largest power of two strictly below n (n ≥ 2).
std::uint64_t SplitPoint(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash RootOf(const std::vector<Hash>& leaves, std::uint64_t begin, std::uint64_t end) {
  const std::uint64_t n = end - begin;
  if (n == 1) return leaves[begin];
  const std::uint64_t k = SplitPoint(n);
  return NodeHash(RootOf(leaves, begin, begin + k), RootOf(leaves, begin + k, end));
}

// RFC 6962 §2.1.1 PATH(m, D[begin:end]).
void Path(const std::vector<Hash>& leaves, std::uint64_t m, std::uint64_t begin, std::uint64_t end,
          std::vector<Hash>& out) {
  const std::uint64_t n = end - begin;
  if (n <= 1) return;
  const std::uint64_t k = SplitPoint(n);
  if (m < k) {
    Path(leaves, m, begin, begin + k, out);
    out.push_back(RootOf(leaves, begin + k, end));
  } else {
    Path(leaves, m - k, begin + k, end, out);
    out.push_back(RootOf(leaves, begin, begin + k));
  }
}

// RFC 6962 §2.1.2 SUBPROOF(m, D[begin:end], b).
void SubProof(const std::vector<Hash>& leaves, std::uint64_t m, std::uint64_t begin,
              std::uint64_t end, bool complete, std::vector<Hash>& out) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (!complete) out.push_back(RootOf(leaves, begin, end));
    return;
  }
  const std::uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(leaves, m, begin, begin + k, complete, out);
    out.push_back(RootOf(leaves, begin + k, end));
  } else {
    SubProof(leaves, m - k, begin + k, end, false, out);
    out.push_back(RootOf(leaves, begin, begin + k));
  }
}

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

}  // namespace

Hash Sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return Hash(reinterpret_cast<const char*>(out), SHA256_DIGEST_LENGTH);
}

Hash LeafHash(std::string_view leaf_data) {
  std::string buf;
  buf.reserve(leaf_data.size() + 1);
  buf += '\x00';
  buf += leaf_data;
  return Sha256(buf);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  std::string buf;
  buf.reserve(65);
  buf += '\x01';
  buf += left;
  buf += right;
  return Sha256(buf);
}

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return InvalidArgument("hex", "odd length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("hex", "not a hex digit");
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Hash MerkleRoot(const std::vector<Hash>& leaf_hashes) {
  if (leaf_hashes.empty()) return Sha256("");
  return RootOf(leaf_hashes, 0, leaf_hashes.size());
}

std::vector<Hash> InclusionProof(const std::vector<Hash>& leaf_hashes, std::uint64_t index,
                                 std::uint64_t size) {
  std::vector<Hash> out;
  if (size > leaf_hashes.size() || index >= size) return out;
  Path(leaf_hashes, index, 0, size, out);
  return out;
}

std::vector<Hash> ConsistencyProof(const std::vector<Hash>& leaf_hashes, std::uint64_t first,
                                   std::uint64_t second) {
  std::vector<Hash> out;
  if (first == 0 || first >= second || second > leaf_hashes.size()) return out;
  SubProof(leaf_hashes, first, 0, second, true, out);
  return out;
}

bool VerifyConsistency(std::uint64_t first, std::uint64_t second, const Hash& first_root,
                       const Hash& second_root, const std::vector<Hash>& proof) {
  // RFC 9162 §2.1.4.2.
  if (first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (first == 0) return proof.empty();  // the empty tree is a prefix of every tree
  std::vector<Hash> path = proof;
  if ((first & (first - 1)) == 0) path.insert(path.begin(), first_root);
  if (path.empty()) return false;
  std::uint64_t fn = first - 1, sn = second - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

bool VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size,
                     const std::vector<Hash>& proof, const Hash& root) {
  // RFC 9162 §2.1.3.2.
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

void MerkleFrontier::Append(const Hash& leaf_hash) {
  stack_.push_back({leaf_hash, 1});
  // Merge equal-sized perfect subtrees, as a binary counter carries.
  while (stack_.size() >= 2 &&
         stack_[stack_.size() - 1].leaves == stack_[stack_.size() - 2].leaves) {
    Subtree right = std::move(stack_.back());
    stack_.pop_back();
    Subtree& left = stack_.back();
    left.root = NodeHash(left.root, right.root);
    left.leaves *= 2;
  }
  ++size_;
}

Hash MerkleFrontier::Root() const {
  if (stack_.empty()) return Sha256("");
  // The RFC 6962 tree is the perfect subtrees, largest first, joined from the right.
  Hash r = stack_.back().root;
  for (std::size_t i = stack_.size() - 1; i-- > 0;) r = NodeHash(stack_[i].root, r);
  return r;
}

Result<SigningKeyPair> Ed25519FromSeed(std::string_view seed) {
  if (seed.size() != 32) return InvalidArgument("key", "an Ed25519 seed is 32 bytes");
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(seed.data()), 32),
           &EVP_PKEY_free);
  if (!key) return Error{ErrorCode::kInternal, "key", "OpenSSL refused the Ed25519 key"};
  std::string pub(32, '\0');
  std::size_t len = 32;
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(pub.data()), &len) !=
      1) {
    return Error{ErrorCode::kInternal, "key", "cannot derive the Ed25519 public key"};
  }
  return SigningKeyPair{std::string(seed), pub};
}

Result<std::string> Ed25519Sign(const SigningKeyPair& kp, std::string_view message) {
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(kp.seed.data()),
                                        kp.seed.size()),
           &EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return Error{ErrorCode::kInternal, "key", "cannot start an Ed25519 signature"};
  }
  std::string sig(64, '\0');
  std::size_t len = 64;
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Error{ErrorCode::kInternal, "key", "Ed25519 signing failed"};
  }
  return sig;
}

bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  PKey key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(public_key.data()), 32),
      &EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace medtwin::security
