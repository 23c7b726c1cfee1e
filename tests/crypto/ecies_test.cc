#include "automata/crypto/ecies.h"

#include "automata/crypto/aead.h"

#include <gtest/gtest.h>
#include <secp256k1.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

// A verification-only context for building expected values in the tests.
const secp256k1_context* test_context() {
  static secp256k1_context* const ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  return ctx;
}

// True when key's point d*G has odd Y, read from the compressed encoding.
bool has_odd_y(const PrivateKey& key) {
  secp256k1_pubkey point;
  EXPECT_EQ(secp256k1_ec_pubkey_create(test_context(), &point, key.bytes().data()), 1);
  std::array<uint8_t, 33> compressed{};
  size_t size = compressed.size();
  EXPECT_EQ(secp256k1_ec_pubkey_serialize(test_context(), compressed.data(), &size, &point, SECP256K1_EC_COMPRESSED), 1);
  return compressed[0] == 0x03;
}

// Generates keys until one has the requested Y parity. Each try succeeds with
// probability 1/2, so 200 tries fail with probability 2^-200.
PrivateKey key_with_parity(bool odd) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    PrivateKey key = PrivateKey::generate();
    if (has_odd_y(key) == odd) return key;
  }
  ADD_FAILURE() << "no key with odd Y = " << odd << " in 200 tries";
  return PrivateKey::generate();
}

PublicKey xonly_from_hex(const std::string& text) {
  std::optional<Bytes> bytes = from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  std::optional<PublicKey> key = to_array<32>(bytes.value_or(Bytes{}));
  EXPECT_TRUE(key.has_value()) << text;
  return key.value_or(PublicKey{});
}

const Bytes kContext = Bytes(32, 0xa5);

TEST(Ecies, RoundTripEvenY) {
  PrivateKey recipient = key_with_parity(false);
  Bytes content_key = random_bytes(32);
  SealedKey envelope = ecies_seal(recipient.public_key(), content_key, kContext);
  EXPECT_EQ(envelope.sealed.size(), kSealedKeySize);
  std::optional<Bytes> opened = ecies_open(recipient, envelope.ephemeral_pubkey, envelope.sealed, kContext);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, content_key);
}

TEST(Ecies, RoundTripOddY) {
  PrivateKey recipient = key_with_parity(true);
  ASSERT_TRUE(has_odd_y(recipient));
  Bytes content_key = random_bytes(32);
  SealedKey envelope = ecies_seal(recipient.public_key(), content_key, kContext);
  std::optional<Bytes> opened = ecies_open(recipient, envelope.ephemeral_pubkey, envelope.sealed, kContext);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, content_key);
}

TEST(Ecies, RoundTripManyKeys) {
  for (int i = 0; i < 32; ++i) {
    PrivateKey recipient = PrivateKey::generate();
    Bytes content_key = random_bytes(32);
    SealedKey envelope = ecies_seal(recipient.public_key(), content_key, kContext);
    std::optional<Bytes> opened = ecies_open(recipient, envelope.ephemeral_pubkey, envelope.sealed, kContext);
    ASSERT_TRUE(opened.has_value()) << "key " << i << ", odd Y = " << has_odd_y(recipient);
    EXPECT_EQ(*opened, content_key) << "key " << i;
  }
}

// Rebuilds the envelope key the way the header describes, without
// ecies_open: the shared point comes from secp256k1_ec_pubkey_tweak_mul
// with the unnegated secret, whose x coordinate agrees with the even-Y lift.
TEST(Ecies, MatchesDocumentedConstruction) {
  for (bool odd : {false, true}) {
    PrivateKey recipient = key_with_parity(odd);
    PublicKey recipient_xonly = recipient.public_key();
    Bytes content_key = random_bytes(32);
    SealedKey envelope = ecies_seal(recipient_xonly, content_key, kContext);

    ASSERT_TRUE(envelope.ephemeral_pubkey[0] == 0x02 || envelope.ephemeral_pubkey[0] == 0x03);
    secp256k1_pubkey shared_point;
    ASSERT_EQ(secp256k1_ec_pubkey_parse(test_context(), &shared_point, envelope.ephemeral_pubkey.data(), 33), 1);
    ASSERT_EQ(secp256k1_ec_pubkey_tweak_mul(test_context(), &shared_point, recipient.bytes().data()), 1);
    std::array<uint8_t, 65> uncompressed{};
    size_t size = uncompressed.size();
    ASSERT_EQ(secp256k1_ec_pubkey_serialize(test_context(), uncompressed.data(), &size, &shared_point,
                                            SECP256K1_EC_UNCOMPRESSED),
              1);
    Bytes shared_x(uncompressed.begin() + 1, uncompressed.begin() + 33);

    Bytes salt(envelope.ephemeral_pubkey.begin(), envelope.ephemeral_pubkey.end());
    salt.insert(salt.end(), recipient_xonly.begin(), recipient_xonly.end());
    Bytes okm = hkdf_sha256(shared_x, salt, to_bytes("automata/v1/model-key"), 44);
    Bytes aes_key(okm.begin(), okm.begin() + 32);
    Bytes nonce(okm.begin() + 32, okm.end());

    std::optional<Bytes> opened = aes256gcm_open(aes_key, nonce, envelope.sealed, kContext);
    ASSERT_TRUE(opened.has_value()) << "odd Y = " << odd;
    EXPECT_EQ(*opened, content_key) << "odd Y = " << odd;
  }
}

TEST(Ecies, SealsOfOneKeyDiffer) {
  PrivateKey recipient = PrivateKey::generate();
  Bytes content_key = random_bytes(32);
  SealedKey first = ecies_seal(recipient.public_key(), content_key, kContext);
  SealedKey second = ecies_seal(recipient.public_key(), content_key, kContext);
  EXPECT_NE(first.ephemeral_pubkey, second.ephemeral_pubkey);
  EXPECT_NE(first.sealed, second.sealed);
}

TEST(Ecies, WrongRecipientFails) {
  PrivateKey recipient = PrivateKey::generate();
  PrivateKey other = PrivateKey::generate();
  SealedKey envelope = ecies_seal(recipient.public_key(), random_bytes(32), kContext);
  EXPECT_FALSE(ecies_open(other, envelope.ephemeral_pubkey, envelope.sealed, kContext).has_value());
}

TEST(Ecies, WrongContextFails) {
  PrivateKey recipient = PrivateKey::generate();
  SealedKey envelope = ecies_seal(recipient.public_key(), random_bytes(32), kContext);
  Bytes other_context = kContext;
  other_context[31] ^= 0x01;
  EXPECT_FALSE(ecies_open(recipient, envelope.ephemeral_pubkey, envelope.sealed, other_context).has_value());
  EXPECT_FALSE(ecies_open(recipient, envelope.ephemeral_pubkey, envelope.sealed, {}).has_value());
}

TEST(Ecies, FlippedSealedByteFails) {
  PrivateKey recipient = PrivateKey::generate();
  SealedKey envelope = ecies_seal(recipient.public_key(), random_bytes(32), kContext);
  for (size_t i = 0; i < envelope.sealed.size(); ++i) {
    Bytes tampered = envelope.sealed;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(ecies_open(recipient, envelope.ephemeral_pubkey, tampered, kContext).has_value()) << "byte " << i;
  }
}

TEST(Ecies, FlippedEphemeralByteFails) {
  PrivateKey recipient = PrivateKey::generate();
  SealedKey envelope = ecies_seal(recipient.public_key(), random_bytes(32), kContext);
  for (size_t i = 0; i < envelope.ephemeral_pubkey.size(); ++i) {
    std::array<uint8_t, 33> tampered = envelope.ephemeral_pubkey;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(ecies_open(recipient, tampered, envelope.sealed, kContext).has_value()) << "byte " << i;
  }
}

// Switching 0x02 and 0x03 negates the ephemeral point, which leaves the
// shared x coordinate unchanged. The HKDF salt covers the encoding, so the
// envelope must still fail to open.
TEST(Ecies, NegatedEphemeralPointFails) {
  PrivateKey recipient = PrivateKey::generate();
  SealedKey envelope = ecies_seal(recipient.public_key(), random_bytes(32), kContext);
  std::array<uint8_t, 33> negated = envelope.ephemeral_pubkey;
  negated[0] = negated[0] == 0x02 ? 0x03 : 0x02;
  EXPECT_FALSE(ecies_open(recipient, negated, envelope.sealed, kContext).has_value());
}

TEST(Ecies, MalformedInputsReturnNullopt) {
  PrivateKey recipient = PrivateKey::generate();
  SealedKey envelope = ecies_seal(recipient.public_key(), random_bytes(32), kContext);
  ByteView ephemeral(envelope.ephemeral_pubkey);

  EXPECT_FALSE(ecies_open(recipient, ephemeral.first(32), envelope.sealed, kContext).has_value());
  EXPECT_FALSE(ecies_open(recipient, {}, envelope.sealed, kContext).has_value());
  EXPECT_FALSE(ecies_open(recipient, ephemeral, ByteView(envelope.sealed).first(47), kContext).has_value());
  Bytes longer = envelope.sealed;
  longer.push_back(0);
  EXPECT_FALSE(ecies_open(recipient, ephemeral, longer, kContext).has_value());

  std::array<uint8_t, 33> bad_prefix = envelope.ephemeral_pubkey;
  bad_prefix[0] = 0x04;
  EXPECT_FALSE(ecies_open(recipient, bad_prefix, envelope.sealed, kContext).has_value());
}

// x = 0 and x = 5 have no point on secp256k1 (x^3 + 7 is not a square mod p,
// checked with Euler's criterion in Python), and p itself is not a field
// element. x = 1 is on the curve and is the control.
TEST(Ecies, OffCurveRecipientRejected) {
  const std::string off_curve[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000005",
      "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
  };
  for (const std::string& x : off_curve) {
    try {
      ecies_seal(xonly_from_hex(x), random_bytes(32), kContext);
      ADD_FAILURE() << "expected std::invalid_argument for x = " << x;
    } catch (const std::invalid_argument& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(x), std::string::npos) << message;
      EXPECT_NE(message.find("not the x coordinate"), std::string::npos) << message;
    }
  }
  PublicKey on_curve = xonly_from_hex("0000000000000000000000000000000000000000000000000000000000000001");
  EXPECT_EQ(ecies_seal(on_curve, random_bytes(32), kContext).sealed.size(), kSealedKeySize);
}

TEST(Ecies, ContentKeyOfWrongSizeRejected) {
  PrivateKey recipient = PrivateKey::generate();
  for (size_t size : {size_t{0}, size_t{16}, size_t{31}, size_t{33}}) {
    try {
      ecies_seal(recipient.public_key(), Bytes(size, 7), kContext);
      ADD_FAILURE() << "expected std::invalid_argument for a " << size << "-byte key";
    } catch (const std::invalid_argument& e) {
      std::string message = e.what();
      EXPECT_NE(message.find(std::to_string(size) + " bytes"), std::string::npos) << message;
    }
  }
}

// Owner and lessee envelopes of one content key open only for their own key.
TEST(Ecies, EachRecipientOpensOnlyItsEnvelope) {
  PrivateKey owner = PrivateKey::generate();
  PrivateKey lessee = PrivateKey::generate();
  Bytes content_key = random_bytes(32);
  SealedKey for_owner = ecies_seal(owner.public_key(), content_key, kContext);
  SealedKey for_lessee = ecies_seal(lessee.public_key(), content_key, kContext);

  EXPECT_EQ(ecies_open(owner, for_owner.ephemeral_pubkey, for_owner.sealed, kContext), content_key);
  EXPECT_EQ(ecies_open(lessee, for_lessee.ephemeral_pubkey, for_lessee.sealed, kContext), content_key);
  EXPECT_FALSE(ecies_open(owner, for_lessee.ephemeral_pubkey, for_lessee.sealed, kContext).has_value());
  EXPECT_FALSE(ecies_open(lessee, for_owner.ephemeral_pubkey, for_owner.sealed, kContext).has_value());
}

}  // namespace
}  // namespace automata::crypto
