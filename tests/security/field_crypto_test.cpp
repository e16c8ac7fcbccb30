// Identifiers at rest: AES-256-GCM round trips with a fresh nonce each time, a changed
// ciphertext or a value moved to another field fails authentication, a key not in the ring is
// named, and a ring with a new key first still opens what the old key sealed.
#include "medtwin/security/field_crypto.h"

#include <gtest/gtest.h>

namespace medtwin::security {
namespace {

TEST(FieldCrypto, SealOpenTamperRotate) {
  auto line1 = NewDataKeyLine();
  auto line2 = NewDataKeyLine();
  ASSERT_TRUE(line1.ok() && line2.ok());
  auto old_ring = DataKeyRing::FromText(*line1 + "\n", "test");
  auto new_ring = DataKeyRing::FromText(*line2 + "\n" + *line1 + "\n", "test");
  ASSERT_TRUE(old_ring.ok() && new_ring.ok());
  EXPECT_NE(old_ring->current_id(), new_ring->current_id());

  auto a = old_ring->Encrypt("Zoë Example-Smith", "name", "p-1");
  auto b = old_ring->Encrypt("Zoë Example-Smith", "name", "p-1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);  // a fresh nonce each time
  // The name is not visible in the stored text. (Not a 2-letter probe such as "Zo": random
  // base64 contains any given pair about 1 % of the time, which made this test flaky.)
  EXPECT_EQ(a->find("Example-Smith"), std::string::npos);
  EXPECT_TRUE(a->starts_with("enc:v2:" + old_ring->current_id() + ":"));
  EXPECT_EQ(*old_ring->Decrypt(*a, "name", "p-1"), "Zoë Example-Smith");
  // The newer ring still opens it; the older ring cannot open the newer key's values.
  EXPECT_EQ(*new_ring->Decrypt(*a, "name", "p-1"), "Zoë Example-Smith");
  auto c = new_ring->Encrypt("1950-02-03", "birth_date", "p-1");
  ASSERT_TRUE(c.ok());
  auto missing = old_ring->Decrypt(*c, "birth_date", "p-1");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("not in the key ring"), std::string::npos);
  // Moved to another field, copied into another patient's record, or altered: refused.
  EXPECT_FALSE(old_ring->Decrypt(*a, "birth_date", "p-1").ok());
  EXPECT_TRUE(a->starts_with("enc:v2:"));
  auto copied = old_ring->Decrypt(*a, "name", "p-2");
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.error().message.find("another field or patient"), std::string::npos);
  // Values written before owners were bound (v1, the field only) still open, for any owner.
  auto legacy = old_ring->Encrypt("Ada Legacy", "name", "");
  ASSERT_TRUE(legacy.ok());
  EXPECT_TRUE(legacy->starts_with("enc:v1:"));
  EXPECT_EQ(*old_ring->Decrypt(*legacy, "name", "p-9"), "Ada Legacy");
  std::string altered = *a;
  altered[altered.size() - 5] = altered[altered.size() - 5] == 'A' ? 'B' : 'A';
  auto bad = old_ring->Decrypt(altered, "name", "p-1");
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(old_ring->Decrypt("enc:v1:zz:abc", "name", "p-1").ok());
  // Values stored before encryption pass through.
  EXPECT_EQ(*old_ring->Decrypt("plain name", "name", "p-1"), "plain name");
  EXPECT_FALSE(DataKeyRing::FromText("not-a-key\n", "test").ok());
  EXPECT_FALSE(DataKeyRing::FromText("", "test").ok());
  auto empty = old_ring->Encrypt("", "name", "p-1");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*old_ring->Decrypt(*empty, "name", "p-1"), "");
}

}  // namespace
}  // namespace medtwin::security
