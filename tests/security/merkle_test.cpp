// The audit ledger's primitives: RFC 6962 roots against Certificate Transparency's published
// test vectors, the append-only frontier against the recursive definition, inclusion proofs
// (every leaf of every tree up to 40 leaves verifies; a changed leaf, index, size or root does
// not), and Ed25519 against RFC 8032 §7.1 test 1.
#include <gtest/gtest.h>

#include "medtwin/security/merkle.h"

namespace medtwin::security {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

// The leaves of the Certificate Transparency reference implementation's Merkle tree tests.
std::vector<std::string> CtLeaves() {
  return {"",
          Bytes({0x00}),
          Bytes({0x10}),
          Bytes({0x20, 0x21}),
          Bytes({0x30, 0x31}),
          Bytes({0x40, 0x41, 0x42, 0x43}),
          Bytes({0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57}),
          Bytes({0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
                 0x6e, 0x6f})};
}

TEST(Merkle, CertificateTransparencyVectors) {
  // The leaves and roots of the CT reference implementation's Merkle tree tests.
  const std::vector<std::string> leaves = CtLeaves();
  const char* roots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  std::vector<Hash> hashes;
  MerkleFrontier frontier;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    hashes.push_back(LeafHash(leaves[i]));
    frontier.Append(hashes.back());
    EXPECT_EQ(ToHex(MerkleRoot(hashes)), roots[i]) << i + 1 << " leaves";
    EXPECT_EQ(ToHex(frontier.Root()), roots[i]) << i + 1 << " leaves";
  }
  EXPECT_EQ(ToHex(MerkleRoot({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Merkle, FrontierAndInclusionProofsForEveryLeaf) {
  std::vector<Hash> hashes;
  MerkleFrontier frontier;
  for (int n = 1; n <= 100; ++n) {
    hashes.push_back(LeafHash("record " + std::to_string(n)));
    frontier.Append(hashes.back());
    ASSERT_EQ(frontier.Root(), MerkleRoot(hashes)) << n;
  }
  for (std::uint64_t size = 1; size <= 40; ++size) {
    std::vector<Hash> first(hashes.begin(), hashes.begin() + static_cast<long>(size));
    const Hash root = MerkleRoot(first);
    for (std::uint64_t i = 0; i < size; ++i) {
      const auto proof = InclusionProof(hashes, i, size);
      ASSERT_TRUE(VerifyInclusion(hashes[i], i, size, proof, root)) << i << " of " << size;
      EXPECT_FALSE(VerifyInclusion(LeafHash("forged"), i, size, proof, root));
      EXPECT_FALSE(VerifyInclusion(hashes[i], i, size, proof, LeafHash("other root")));
      // (A wrong size can verify when the path has the same shape: the signed tree head binds
      // the size to the root, so proofs are only checked against signed heads.)
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion(hashes[i], (i + 1) % size, size, proof, root));
      }
    }
  }
}

TEST(Ed25519, Rfc8032Test1AndTampering) {
  auto seed = FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(seed.ok());
  auto key = Ed25519FromSeed(*seed);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ToHex(key->public_key),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = Ed25519Sign(*key, "");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(ToHex(*sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
            "39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(Ed25519Verify(key->public_key, "", *sig));
  EXPECT_FALSE(Ed25519Verify(key->public_key, "x", *sig));
  std::string bad = *sig;
  bad[10] ^= 1;
  EXPECT_FALSE(Ed25519Verify(key->public_key, "", bad));
}

// Certificate Transparency's reference consistency proofs over the 8 leaves above (the vectors
// every RFC 6962 implementation tests against).
TEST(Merkle, ConsistencyProofsMatchTheCertificateTransparencyVectors) {
  const std::vector<std::string> leaves = CtLeaves();
  std::vector<Hash> hashes;
  for (const auto& l : leaves) hashes.push_back(LeafHash(l));
  struct Vector {
    std::uint64_t m, n;
    std::vector<const char*> proof;
  };
  const std::vector<Vector> vectors = {
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}}};
  for (const auto& v : vectors) {
    const auto proof = ConsistencyProof(hashes, v.m, v.n);
    ASSERT_EQ(proof.size(), v.proof.size()) << v.m << "," << v.n;
    for (std::size_t i = 0; i < proof.size(); ++i) EXPECT_EQ(ToHex(proof[i]), v.proof[i]);
    const Hash first = MerkleRoot({hashes.begin(), hashes.begin() + static_cast<long>(v.m)});
    const Hash second = MerkleRoot({hashes.begin(), hashes.begin() + static_cast<long>(v.n)});
    EXPECT_TRUE(VerifyConsistency(v.m, v.n, first, second, proof));
  }
  EXPECT_TRUE(VerifyConsistency(1, 1, MerkleRoot({hashes[0]}), MerkleRoot({hashes[0]}), {}));
}

// Every pair of sizes up to 40: the proof verifies; a changed old root (a rewritten prefix), a
// changed new root, a dropped or altered proof node, or swapped sizes do not.
TEST(Merkle, ConsistencyProofsForEveryPairOfSizesAndTheirTampering) {
  std::vector<Hash> hashes;
  for (int n = 1; n <= 40; ++n) hashes.push_back(LeafHash("record " + std::to_string(n)));
  std::vector<Hash> roots = {MerkleRoot({})};
  for (std::size_t n = 1; n <= hashes.size(); ++n) {
    roots.push_back(MerkleRoot({hashes.begin(), hashes.begin() + static_cast<long>(n)}));
  }
  // A ledger whose record 3 was rewritten: its roots from size 4 on differ.
  std::vector<Hash> rewritten = hashes;
  rewritten[3] = LeafHash("record 4, rewritten");
  for (std::uint64_t m = 1; m <= 40; ++m) {
    for (std::uint64_t n = m + 1; n <= 40; ++n) {
      const auto proof = ConsistencyProof(hashes, m, n);
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], proof)) << m << "," << n;
      EXPECT_FALSE(VerifyConsistency(m, n, roots[n], roots[n], proof)) << m << "," << n;
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[m], proof)) << m << "," << n;
      if (!proof.empty()) {
        auto shorter = proof;
        shorter.pop_back();
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], shorter)) << m << "," << n;
        auto altered = proof;
        altered[0][0] = static_cast<char>(altered[0][0] ^ 1);
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], altered)) << m << "," << n;
      }
      if (m > 3) {
        // The server rewrote history: its new tree is not an extension of the old head.
        const Hash forged =
            MerkleRoot({rewritten.begin(), rewritten.begin() + static_cast<long>(n)});
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], forged, ConsistencyProof(rewritten, m, n)))
            << m << "," << n;
      }
    }
  }
  EXPECT_FALSE(VerifyConsistency(5, 4, roots[5], roots[4], {}));
}

}  // namespace
}  // namespace medtwin::security
