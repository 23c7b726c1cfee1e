#include "automata/crypto/model_content.h"

#include "automata/crypto/aead.h"
#include "automata/crypto/sha256.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

Hash32 test_model_id() {
  Hash32 id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i * 7 + 1);
  return id;
}

TEST(DeriveModelId, MatchesHandBuiltPreimage) {
  Address creator{};
  for (size_t i = 0; i < creator.size(); ++i) creator[i] = static_cast<uint8_t>(0xc0 + i);

  // "automata/model" || creator || BE u64 0x0102030405060708 || BE u32 0x0a0b0c0d.
  Bytes preimage = to_bytes("automata/model");
  preimage.insert(preimage.end(), creator.begin(), creator.end());
  for (uint8_t b : {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}) preimage.push_back(b);
  for (uint8_t b : {0x0a, 0x0b, 0x0c, 0x0d}) preimage.push_back(b);
  ASSERT_EQ(preimage.size(), size_t{14 + 20 + 8 + 4});

  EXPECT_EQ(derive_model_id(creator, 0x0102030405060708ULL, 0x0a0b0c0dU), sha256(preimage));
}

TEST(DeriveModelId, ZeroInputsMatchHandBuiltPreimage) {
  Address creator{};
  Bytes preimage = to_bytes("automata/model");
  preimage.resize(preimage.size() + 20 + 8 + 4, 0);
  EXPECT_EQ(derive_model_id(creator, 0, 0), sha256(preimage));
}

TEST(DeriveModelId, EachInputChangesId) {
  Address creator{};
  creator[0] = 1;
  Address other_creator = creator;
  other_creator[19] = 1;
  Hash32 base = derive_model_id(creator, 5, 0);
  EXPECT_NE(base, derive_model_id(other_creator, 5, 0));
  EXPECT_NE(base, derive_model_id(creator, 6, 0));
  EXPECT_NE(base, derive_model_id(creator, 5, 1));
}

TEST(Fragment, RoundTrip) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  Bytes plaintext = random_bytes(4096);
  Bytes sealed = seal_fragment(key, model_id, 3, plaintext);
  std::optional<Bytes> opened = open_fragment(key, model_id, 3, sealed);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plaintext);
}

TEST(Fragment, SizeIsPlaintextPlusOverhead) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  for (size_t size : {size_t{0}, size_t{1}, size_t{65536}, size_t{1} << 20}) {
    Bytes sealed = seal_fragment(key, model_id, 0, Bytes(size, 0x5a));
    EXPECT_EQ(sealed.size(), size + 28) << "plaintext of " << size << " bytes";
    EXPECT_EQ(open_fragment(key, model_id, 0, sealed), Bytes(size, 0x5a)) << "plaintext of " << size << " bytes";
  }
}

// The layout is nonce || ciphertext || tag with AAD model_id || BE u64 index,
// so aes256gcm_open with those parts built by hand must accept it.
TEST(Fragment, MatchesDocumentedLayout) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  Bytes plaintext = to_bytes("fragment payload");
  const uint64_t index = 0x0102030405060708ULL;
  Bytes sealed = seal_fragment(key, model_id, index, plaintext);

  Bytes nonce(sealed.begin(), sealed.begin() + 12);
  Bytes rest(sealed.begin() + 12, sealed.end());
  Bytes aad(model_id.begin(), model_id.end());
  for (uint8_t b : {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}) aad.push_back(b);

  std::optional<Bytes> opened = aes256gcm_open(key, nonce, rest, aad);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plaintext);
}

TEST(Fragment, TwoSealsDiffer) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  Bytes plaintext(1024, 0x11);
  Bytes first = seal_fragment(key, model_id, 0, plaintext);
  Bytes second = seal_fragment(key, model_id, 0, plaintext);
  EXPECT_NE(first, second);
  EXPECT_FALSE(std::equal(first.begin(), first.begin() + 12, second.begin())) << "nonce was reused";
}

TEST(Fragment, WrongIndexFails) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  Bytes sealed = seal_fragment(key, model_id, 7, random_bytes(100));
  EXPECT_FALSE(open_fragment(key, model_id, 6, sealed).has_value());
  EXPECT_FALSE(open_fragment(key, model_id, 8, sealed).has_value());
  // The index is 64 bits wide, so a difference in the high bits counts.
  EXPECT_FALSE(open_fragment(key, model_id, 7 + (uint64_t{1} << 32), sealed).has_value());
}

TEST(Fragment, WrongModelIdFails) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  Bytes sealed = seal_fragment(key, model_id, 0, random_bytes(100));
  Hash32 other = model_id;
  other[0] ^= 0x80;
  EXPECT_FALSE(open_fragment(key, other, 0, sealed).has_value());
}

TEST(Fragment, WrongKeyFails) {
  Hash32 model_id = test_model_id();
  Bytes sealed = seal_fragment(random_bytes(32), model_id, 0, random_bytes(100));
  EXPECT_FALSE(open_fragment(random_bytes(32), model_id, 0, sealed).has_value());
}

TEST(Fragment, FlippedByteFails) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  Bytes sealed = seal_fragment(key, model_id, 0, random_bytes(40));
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(open_fragment(key, model_id, 0, tampered).has_value()) << "byte " << i;
  }
}

TEST(Fragment, MalformedInputsReturnNullopt) {
  Bytes key = random_bytes(32);
  Hash32 model_id = test_model_id();
  Bytes sealed = seal_fragment(key, model_id, 0, random_bytes(40));

  EXPECT_FALSE(open_fragment(key, model_id, 0, ByteView(sealed).first(27)).has_value());
  EXPECT_FALSE(open_fragment(key, model_id, 0, {}).has_value());
  EXPECT_FALSE(open_fragment(ByteView(key).first(16), model_id, 0, sealed).has_value());
  EXPECT_FALSE(open_fragment(key, ByteView(model_id).first(31), 0, sealed).has_value());
  // A truncated tail drops tag bytes, so the tag cannot verify.
  EXPECT_FALSE(open_fragment(key, model_id, 0, ByteView(sealed).first(sealed.size() - 1)).has_value());
}

TEST(Fragment, SealRejectsBadKeyAndModelId) {
  Hash32 model_id = test_model_id();
  EXPECT_THROW(seal_fragment(Bytes(31, 1), model_id, 0, Bytes(10, 2)), std::invalid_argument);
  try {
    seal_fragment(Bytes(32, 1), ByteView(model_id).first(20), 0, Bytes(10, 2));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("model id is 20 bytes"), std::string::npos) << message;
  }
}

TEST(Fragment, CipherSuiteConstants) {
  EXPECT_EQ(kModelCipherSuite, "aes-256-gcm/ecies-secp256k1-hkdf-sha256");
  EXPECT_EQ(kFragmentOverhead, kGcmNonceSize + kGcmTagSize);
}

}  // namespace
}  // namespace automata::crypto
