#include "automata/crypto/ecies.h"

#include "automata/crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

secp256k1_context* create_context() {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (ctx == nullptr) throw std::runtime_error("ecies: secp256k1_context_create failed");
  // Randomizing blinds secp256k1_ec_pubkey_create against side channels.
  // It runs once, before any other thread can see the context.
  std::array<uint8_t, 32> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1 ||
      secp256k1_context_randomize(ctx, seed.data()) != 1) {
    secp256k1_context_destroy(ctx);
    throw std::runtime_error("ecies: failed to randomize the secp256k1 context");
  }
  OPENSSL_cleanse(seed.data(), seed.size());
  return ctx;
}

// The process-wide context for this file. libsecp256k1 only reads it after
// creation, so threads may share it.
const secp256k1_context* context() {
  static secp256k1_context* const ctx = create_context();
  return ctx;
}

// secp256k1_ecdh hash callback that outputs the shared point's x coordinate
// unhashed, because HKDF does the key derivation.
int copy_x_coordinate(unsigned char* output, const unsigned char* x32, const unsigned char* /*y32*/,
                      void* /*data*/) {
  std::memcpy(output, x32, 32);
  return 1;
}

// 32 secret bytes on the stack that wipe themselves.
struct SecretBlock {
  std::array<uint8_t, 32> bytes{};
  ~SecretBlock() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// Wipes a derived key when it goes out of scope.
struct WipedBytes {
  Bytes bytes;
  ~WipedBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// Parses 0x02 || x, the even-Y point with that x coordinate. Returns false
// when x is not the x coordinate of a curve point.
bool lift_even_y(const PublicKey& xonly, secp256k1_pubkey* point) {
  std::array<uint8_t, 33> compressed{};
  compressed[0] = 0x02;
  std::memcpy(compressed.data() + 1, xonly.data(), xonly.size());
  return secp256k1_ec_pubkey_parse(context(), point, compressed.data(), compressed.size()) == 1;
}

// Derives the AES key and nonce (44 bytes) from the ECDH x coordinate.
Bytes derive_envelope_key(ByteView shared_x, ByteView ephemeral_pubkey, const PublicKey& recipient_xonly) {
  Bytes salt(ephemeral_pubkey.begin(), ephemeral_pubkey.end());
  salt.insert(salt.end(), recipient_xonly.begin(), recipient_xonly.end());
  return hkdf_sha256(shared_x, salt, as_view(kEciesInfo), kAesKeySize + kGcmNonceSize);
}

}  // namespace

SealedKey ecies_seal(const PublicKey& recipient_xonly, ByteView content_key, ByteView context_bytes) {
  if (content_key.size() != kContentKeySize) {
    throw std::invalid_argument("ecies_seal: content key is " + std::to_string(content_key.size()) +
                                " bytes, expected " + std::to_string(kContentKeySize));
  }
  secp256k1_pubkey recipient_point;
  if (!lift_even_y(recipient_xonly, &recipient_point)) {
    throw std::invalid_argument("ecies_seal: recipient key " + to_hex(recipient_xonly) +
                                " is not the x coordinate of a secp256k1 point");
  }

  // PrivateKey::generate draws from the OS CSPRNG and wipes itself.
  const PrivateKey ephemeral = PrivateKey::generate();
  secp256k1_pubkey ephemeral_point;
  if (secp256k1_ec_pubkey_create(context(), &ephemeral_point, ephemeral.bytes().data()) != 1) {
    throw std::runtime_error("ecies_seal: secp256k1_ec_pubkey_create rejected a generated key");
  }
  SealedKey out{};
  size_t serialized_size = out.ephemeral_pubkey.size();
  if (secp256k1_ec_pubkey_serialize(context(), out.ephemeral_pubkey.data(), &serialized_size, &ephemeral_point,
                                    SECP256K1_EC_COMPRESSED) != 1 ||
      serialized_size != kEphemeralPubkeySize) {
    throw std::runtime_error("ecies_seal: secp256k1_ec_pubkey_serialize failed");
  }

  SecretBlock shared;
  if (secp256k1_ecdh(context(), shared.bytes.data(), &recipient_point, ephemeral.bytes().data(), copy_x_coordinate,
                     nullptr) != 1) {
    throw std::runtime_error("ecies_seal: secp256k1_ecdh failed");
  }

  WipedBytes okm{derive_envelope_key(shared.bytes, out.ephemeral_pubkey, recipient_xonly)};
  ByteView aes_key(okm.bytes.data(), kAesKeySize);
  ByteView nonce(okm.bytes.data() + kAesKeySize, kGcmNonceSize);
  out.sealed = aes256gcm_seal(aes_key, nonce, content_key, context_bytes);
  return out;
}

std::optional<Bytes> ecies_open(const PrivateKey& recipient, ByteView ephemeral_pubkey, ByteView sealed,
                                ByteView context_bytes) {
  if (ephemeral_pubkey.size() != kEphemeralPubkeySize || sealed.size() != kSealedKeySize) return std::nullopt;
  // Only compressed encodings are accepted, because the HKDF salt commits to
  // these exact 33 bytes and the sender always writes that form.
  if (ephemeral_pubkey[0] != 0x02 && ephemeral_pubkey[0] != 0x03) return std::nullopt;
  secp256k1_pubkey ephemeral_point;
  if (secp256k1_ec_pubkey_parse(context(), &ephemeral_point, ephemeral_pubkey.data(), ephemeral_pubkey.size()) != 1) {
    return std::nullopt;
  }

  // The sender used the even-Y lift of the x-only key, so when d*G has odd Y
  // the matching secret is n - d. The x coordinate of the shared point would
  // agree either way, but negating keeps the secret exactly the one that
  // BIP-340 pairs with the x-only key.
  SecretBlock secret;
  secret.bytes = recipient.bytes();
  secp256k1_pubkey own_point;
  if (secp256k1_ec_pubkey_create(context(), &own_point, secret.bytes.data()) != 1) return std::nullopt;
  std::array<uint8_t, 33> own_compressed{};
  size_t own_size = own_compressed.size();
  if (secp256k1_ec_pubkey_serialize(context(), own_compressed.data(), &own_size, &own_point,
                                    SECP256K1_EC_COMPRESSED) != 1) {
    return std::nullopt;
  }
  if (own_compressed[0] == 0x03 && secp256k1_ec_seckey_negate(context(), secret.bytes.data()) != 1) {
    return std::nullopt;
  }
  PublicKey own_xonly{};
  std::memcpy(own_xonly.data(), own_compressed.data() + 1, own_xonly.size());

  SecretBlock shared;
  if (secp256k1_ecdh(context(), shared.bytes.data(), &ephemeral_point, secret.bytes.data(), copy_x_coordinate,
                     nullptr) != 1) {
    return std::nullopt;
  }

  WipedBytes okm{derive_envelope_key(shared.bytes, ephemeral_pubkey, own_xonly)};
  ByteView aes_key(okm.bytes.data(), kAesKeySize);
  ByteView nonce(okm.bytes.data() + kAesKeySize, kGcmNonceSize);
  return aes256gcm_open(aes_key, nonce, sealed, context_bytes);
}

}  // namespace automata::crypto
