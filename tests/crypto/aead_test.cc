#include "automata/crypto/aead.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

Bytes hex(const std::string& text) {
  std::optional<Bytes> bytes = from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  return bytes.value_or(Bytes{});
}

// Test case 16 of McGrew and Viega, "The Galois/Counter Mode of Operation
// (GCM)", the specification submitted to NIST for SP 800-38D: 256-bit key,
// 96-bit IV, 60 bytes of plaintext and 20 bytes of associated data. The
// values were cross-checked with Python's cryptography package.
struct GcmVector {
  std::string key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
  std::string iv = "cafebabefacedbaddecaf888";
  std::string plaintext =
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
      "b16aedf5aa0de657ba637b39";
  std::string associated_data = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
  std::string ciphertext =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
      "c5f61e6393ba7a0abcc9f662";
  std::string tag = "76fc6ece0f4e1768cddf8853bb2d551b";
};

TEST(Aes256Gcm, PublishedVectorSeals) {
  GcmVector v;
  Bytes sealed = aes256gcm_seal(hex(v.key), hex(v.iv), hex(v.plaintext), hex(v.associated_data));
  EXPECT_EQ(to_hex(sealed), v.ciphertext + v.tag);
}

TEST(Aes256Gcm, PublishedVectorOpens) {
  GcmVector v;
  std::optional<Bytes> opened = aes256gcm_open(hex(v.key), hex(v.iv), hex(v.ciphertext + v.tag), hex(v.associated_data));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(to_hex(*opened), v.plaintext);
}

// Test case 13 of the same paper: all-zero key and IV, no input at all,
// which checks the tag-only path.
TEST(Aes256Gcm, PublishedEmptyVector) {
  const Bytes key(32, 0);
  const Bytes iv(12, 0);
  Bytes sealed = aes256gcm_seal(key, iv, {}, {});
  EXPECT_EQ(to_hex(sealed), "530f8afbc74536b9a963b4f1c4cb738b");
  std::optional<Bytes> opened = aes256gcm_open(key, iv, sealed, {});
  ASSERT_TRUE(opened.has_value());
  EXPECT_TRUE(opened->empty());
}

TEST(Aes256Gcm, TamperingDetected) {
  GcmVector v;
  const Bytes key = hex(v.key);
  const Bytes iv = hex(v.iv);
  const Bytes associated_data = hex(v.associated_data);
  const Bytes sealed = hex(v.ciphertext + v.tag);

  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(aes256gcm_open(key, iv, tampered, associated_data).has_value()) << "byte " << i << " flipped";
  }

  Bytes other_associated_data = associated_data;
  other_associated_data[0] ^= 0x80;
  EXPECT_FALSE(aes256gcm_open(key, iv, sealed, other_associated_data).has_value());
  EXPECT_FALSE(aes256gcm_open(key, iv, sealed, {}).has_value());

  Bytes other_key = key;
  other_key[31] ^= 1;
  EXPECT_FALSE(aes256gcm_open(other_key, iv, sealed, associated_data).has_value());

  Bytes other_iv = iv;
  other_iv[0] ^= 1;
  EXPECT_FALSE(aes256gcm_open(key, other_iv, sealed, associated_data).has_value());

  Bytes truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_FALSE(aes256gcm_open(key, iv, truncated, associated_data).has_value());
}

TEST(Aes256Gcm, WrongSizesRejected) {
  const Bytes key(32, 7);
  const Bytes iv(12, 9);
  EXPECT_THROW(aes256gcm_seal(Bytes(16, 7), iv, {}, {}), std::invalid_argument);
  EXPECT_THROW(aes256gcm_seal(key, Bytes(16, 9), {}, {}), std::invalid_argument);
  EXPECT_FALSE(aes256gcm_open(Bytes(31, 7), iv, Bytes(32, 0), {}).has_value());
  EXPECT_FALSE(aes256gcm_open(key, Bytes(11, 9), Bytes(32, 0), {}).has_value());
  EXPECT_FALSE(aes256gcm_open(key, iv, Bytes(15, 0), {}).has_value());
}

TEST(Aes256Gcm, RoundTripsLargeInput) {
  const Bytes key = random_bytes(kAesKeySize);
  const Bytes iv = random_bytes(kGcmNonceSize);
  Bytes plaintext(100000);
  for (size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = static_cast<uint8_t>(i * 13);
  Bytes sealed = aes256gcm_seal(key, iv, plaintext, to_bytes("header"));
  EXPECT_EQ(sealed.size(), plaintext.size() + kGcmTagSize);
  std::optional<Bytes> opened = aes256gcm_open(key, iv, sealed, to_bytes("header"));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plaintext);
}

// RFC 7914 section 12 vectors. The fourth (n = 2^20, r = 8) needs 1 GiB,
// which kScryptMaxMemory rejects, so only its rejection is checked.
TEST(Scrypt, Rfc7914Vectors) {
  std::optional<Bytes> first = scrypt({}, {}, 16, 1, 1, 64);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(to_hex(*first),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");

  std::optional<Bytes> second = scrypt(to_bytes("password"), to_bytes("NaCl"), 1024, 8, 16, 64);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(to_hex(*second),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");

  std::optional<Bytes> third = scrypt(to_bytes("pleaseletmein"), to_bytes("SodiumChloride"), 16384, 8, 1, 64);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(to_hex(*third),
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
            "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");

  EXPECT_FALSE(scrypt(to_bytes("pleaseletmein"), to_bytes("SodiumChloride"), 1048576, 8, 1, 64).has_value());
}

TEST(Scrypt, RejectsBadParameters) {
  EXPECT_FALSE(scrypt(to_bytes("p"), to_bytes("s"), 1000, 8, 1, 32).has_value()) << "n not a power of two";
  EXPECT_FALSE(scrypt(to_bytes("p"), to_bytes("s"), 1, 8, 1, 32).has_value()) << "n below 2";
  EXPECT_FALSE(scrypt(to_bytes("p"), to_bytes("s"), 16, 8, 1, 0).has_value()) << "empty key";
}

TEST(RandomBytes, SizesAndVariety) {
  EXPECT_TRUE(random_bytes(0).empty());
  EXPECT_EQ(random_bytes(1000).size(), 1000u);
  // 32 random bytes repeat with probability 2^-256 per pair.
  std::set<Bytes> seen;
  for (int i = 0; i < 64; ++i) seen.insert(random_bytes(32));
  EXPECT_EQ(seen.size(), 64u);
}

}  // namespace
}  // namespace automata::crypto
