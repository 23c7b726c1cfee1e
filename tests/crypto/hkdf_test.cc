#include "automata/crypto/ecies.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

Bytes hex(const std::string& text) {
  std::optional<Bytes> bytes = from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << "invalid hex in test data: " << text;
  return bytes.value_or(Bytes{});
}

// Bytes first, first + 1, ..., last.
Bytes byte_range(int first, int last) {
  Bytes out;
  for (int b = first; b <= last; ++b) out.push_back(static_cast<uint8_t>(b));
  return out;
}

// The SHA-256 test cases of RFC 5869 appendix A (A.1 to A.3), "HMAC-based
// Extract-and-Expand Key Derivation Function (HKDF)", Krawczyk and Eronen,
// May 2010. A.2 was also recomputed with Python's hmac module.
TEST(HkdfSha256, Rfc5869CaseA1Basic) {
  Bytes ikm(22, 0x0b);
  Bytes okm = hkdf_sha256(ikm, hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42);
  EXPECT_EQ(to_hex(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256, Rfc5869CaseA2LongInputs) {
  Bytes okm = hkdf_sha256(byte_range(0x00, 0x4f), byte_range(0x60, 0xaf), byte_range(0xb0, 0xff), 82);
  EXPECT_EQ(to_hex(okm),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(HkdfSha256, Rfc5869CaseA3EmptySaltAndInfo) {
  Bytes ikm(22, 0x0b);
  Bytes okm = hkdf_sha256(ikm, {}, {}, 42);
  EXPECT_EQ(to_hex(okm), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// RFC 5869 section 2.2: a missing salt is HashLen zero bytes, so an explicit
// 32-byte zero salt must give the same output as an empty one.
TEST(HkdfSha256, EmptySaltEqualsZeroSalt) {
  Bytes ikm(22, 0x0b);
  Bytes zero_salt(32, 0);
  EXPECT_EQ(hkdf_sha256(ikm, {}, as_view("info"), 42), hkdf_sha256(ikm, zero_salt, as_view("info"), 42));
}

TEST(HkdfSha256, EmptyIkmIsAccepted) {
  Bytes okm = hkdf_sha256({}, as_view("salt"), as_view("info"), 32);
  EXPECT_EQ(okm.size(), 32u);
  EXPECT_NE(okm, Bytes(32, 0));
}

// Expand output is T(1) || T(2) || ..., so a shorter request is a prefix of a
// longer one with the same inputs.
TEST(HkdfSha256, ShorterOutputIsPrefix) {
  Bytes ikm(22, 0x0b);
  Bytes long_okm = hkdf_sha256(ikm, as_view("salt"), as_view("info"), 100);
  Bytes short_okm = hkdf_sha256(ikm, as_view("salt"), as_view("info"), 44);
  ASSERT_EQ(long_okm.size(), 100u);
  ASSERT_EQ(short_okm.size(), 44u);
  EXPECT_TRUE(std::equal(short_okm.begin(), short_okm.end(), long_okm.begin()));
}

TEST(HkdfSha256, InfoChangesOutput) {
  Bytes ikm(32, 0x42);
  EXPECT_NE(hkdf_sha256(ikm, {}, as_view("a"), 32), hkdf_sha256(ikm, {}, as_view("b"), 32));
}

TEST(HkdfSha256, ZeroLengthReturnsEmpty) { EXPECT_TRUE(hkdf_sha256(Bytes(32, 1), {}, {}, 0).empty()); }

TEST(HkdfSha256, MaximumLengthAccepted) {
  EXPECT_EQ(hkdf_sha256(Bytes(32, 1), {}, {}, kHkdfSha256MaxLength).size(), size_t{8160});
}

TEST(HkdfSha256, OverMaximumLengthRejected) {
  try {
    hkdf_sha256(Bytes(32, 1), {}, {}, kHkdfSha256MaxLength + 1);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("8161"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace automata::crypto
