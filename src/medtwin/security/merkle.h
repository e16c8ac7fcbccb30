// security/merkle.h — the audit ledger's Merkle tree as RFC 6962 (Certificate Transparency)
// defines it: leaf hash SHA-256(0x00 ‖ data), interior node SHA-256(0x01 ‖ left ‖ right), the
// tree of n leaves split at the largest power of two below n; inclusion proofs (audit paths)
// and their verification (RFC 9162 §2.1.3.2); an append-only frontier that gives the root after
// each leaf in O(log n) memory. And Ed25519 signatures (OpenSSL) for signed tree heads, with
// the signing key derived from the server's secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"

namespace medtwin::security {

using Hash = std::string;  // 32 raw bytes

[[nodiscard]] Hash Sha256(std::string_view data);
[[nodiscard]] Hash LeafHash(std::string_view leaf_data);
[[nodiscard]] Hash NodeHash(const Hash& left, const Hash& right);
[[nodiscard]] std::string ToHex(std::string_view bytes);
[[nodiscard]] Result<std::string> FromHex(std::string_view hex);

// The root of the tree over `leaf_hashes` (the empty tree: SHA-256 of nothing).
[[nodiscard]] Hash MerkleRoot(const std::vector<Hash>& leaf_hashes);
// The audit path for leaf `index` in the tree of the first `size` leaves.
[[nodiscard]] std::vector<Hash> InclusionProof(const std::vector<Hash>& leaf_hashes,
                                               std::uint64_t index, std::uint64_t size);
[[nodiscard]] bool VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size,
                                   const std::vector<Hash>& proof, const Hash& root);

// RFC 6962 §2.1.2 consistency proof that the tree of the first `first` leaves is a prefix of
// the tree of the first `second` (0 < first < second ≤ leaves); verification as RFC 9162
// §2.1.4.2 gives it. With it, anyone who kept an older signed tree head can check a newer one
// extends it: a truncated or rewritten ledger has no valid proof.
[[nodiscard]] std::vector<Hash> ConsistencyProof(const std::vector<Hash>& leaf_hashes,
                                                 std::uint64_t first, std::uint64_t second);
[[nodiscard]] bool VerifyConsistency(std::uint64_t first, std::uint64_t second,
                                     const Hash& first_root, const Hash& second_root,
                                     const std::vector<Hash>& proof);

// Appends leaves one at a time and knows the root of the tree so far: the roots of the perfect
// subtrees that make up the tree (one per set bit of the size), largest first.
class MerkleFrontier {
 public:
  void Append(const Hash& leaf_hash);
  [[nodiscard]] Hash Root() const;
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  struct Subtree {
    Hash root;
    std::uint64_t leaves;
  };
  std::vector<Subtree> stack_;
  std::uint64_t size_ = 0;
};

// Ed25519 from a 32-byte seed.
struct SigningKeyPair {
  std::string seed;        // private
  std::string public_key;  // 32 bytes
};
[[nodiscard]] Result<SigningKeyPair> Ed25519FromSeed(std::string_view seed);
[[nodiscard]] Result<std::string> Ed25519Sign(const SigningKeyPair& key, std::string_view message);
[[nodiscard]] bool Ed25519Verify(std::string_view public_key, std::string_view message,
                                 std::string_view signature);

}  // namespace medtwin::security
