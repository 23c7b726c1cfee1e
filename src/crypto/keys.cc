#include "automata/crypto/keys.h"

#include "automata/crypto/sha256.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace automata::crypto {
namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "automata: fatal: %s\n", what);
  std::abort();
}

secp256k1_context* create_context() {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (ctx == nullptr) die("secp256k1_context_create failed");

  // Randomizing the context blinds the signing computations against timing
  // and power side channels. It is the only call that mutates the context,
  // and it runs before any other thread can see it.
  std::array<uint8_t, 32> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) die("RAND_bytes failed for the secp256k1 seed");
  if (secp256k1_context_randomize(ctx, seed.data()) != 1) die("secp256k1_context_randomize failed");
  OPENSSL_cleanse(seed.data(), seed.size());
  return ctx;
}

// The process-wide context. libsecp256k1 only reads a context in signing
// and verification, so many threads may share it once it exists.
const secp256k1_context* context() {
  static secp256k1_context* const ctx = create_context();
  return ctx;
}

// A keypair on the stack that wipes itself, because it contains the secret.
struct ScopedKeypair {
  secp256k1_keypair keypair;
  ~ScopedKeypair() { OPENSSL_cleanse(&keypair, sizeof(keypair)); }
};

void make_keypair(const std::array<uint8_t, 32>& secret, ScopedKeypair& out) {
  // The secret was checked by from_bytes or generate, so this cannot fail
  // unless memory is corrupted.
  if (secp256k1_keypair_create(context(), &out.keypair, secret.data()) != 1) die("secp256k1_keypair_create rejected a checked secret key");
}

bool is_valid_secret(const std::array<uint8_t, 32>& secret) {
  return secp256k1_ec_seckey_verify(context(), secret.data()) == 1;
}

}  // namespace

PrivateKey PrivateKey::generate() {
  std::array<uint8_t, 32> secret{};
  // A uniform 32-byte string is out of range with probability below 2^-127,
  // so the loop runs once in practice.
  do {
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) die("RAND_bytes failed while generating a key");
  } while (!is_valid_secret(secret));
  PrivateKey key(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  return key;
}

std::optional<PrivateKey> PrivateKey::from_bytes(ByteView bytes) {
  if (bytes.size() != 32) return std::nullopt;
  std::array<uint8_t, 32> secret{};
  std::memcpy(secret.data(), bytes.data(), secret.size());
  std::optional<PrivateKey> key;
  if (is_valid_secret(secret)) key = PrivateKey(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  return key;
}

PrivateKey::~PrivateKey() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

PublicKey PrivateKey::public_key() const {
  ScopedKeypair keypair;
  make_keypair(secret_, keypair);
  secp256k1_xonly_pubkey xonly;
  if (secp256k1_keypair_xonly_pub(context(), &xonly, nullptr, &keypair.keypair) != 1) die("secp256k1_keypair_xonly_pub failed");
  PublicKey out{};
  secp256k1_xonly_pubkey_serialize(context(), out.data(), &xonly);
  return out;
}

Signature PrivateKey::sign(ByteView message, const std::array<uint8_t, 32>* aux_rand) const {
  std::array<uint8_t, 32> fresh_aux{};
  if (aux_rand == nullptr) {
    if (RAND_bytes(fresh_aux.data(), static_cast<int>(fresh_aux.size())) != 1) die("RAND_bytes failed while signing");
    aux_rand = &fresh_aux;
  }

  ScopedKeypair keypair;
  make_keypair(secret_, keypair);

  secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
  // libsecp256k1 takes ndata as non-const but only reads it.
  params.ndata = const_cast<uint8_t*>(aux_rand->data());

  Signature signature{};
  if (secp256k1_schnorrsig_sign_custom(context(), signature.data(), message.data(), message.size(),
                                       &keypair.keypair, &params) != 1) {
    die("secp256k1_schnorrsig_sign_custom failed");
  }

  // BIP-340 recommends checking a fresh signature: a signature corrupted by
  // a fault during signing can expose the key, so it must not be returned.
  secp256k1_xonly_pubkey xonly;
  if (secp256k1_keypair_xonly_pub(context(), &xonly, nullptr, &keypair.keypair) != 1 ||
      secp256k1_schnorrsig_verify(context(), signature.data(), message.data(), message.size(), &xonly) != 1) {
    die("a fresh BIP-340 signature failed verification");
  }
  return signature;
}

bool verify(const PublicKey& pubkey, ByteView message, const Signature& signature) {
  secp256k1_xonly_pubkey xonly;
  if (secp256k1_xonly_pubkey_parse(context(), &xonly, pubkey.data()) != 1) return false;
  return secp256k1_schnorrsig_verify(context(), signature.data(), message.data(), message.size(), &xonly) == 1;
}

bool verify(ByteView pubkey, ByteView message, ByteView signature) {
  std::optional<PublicKey> key = to_array<32>(pubkey);
  std::optional<Signature> sig = to_array<64>(signature);
  if (!key || !sig) return false;
  return verify(*key, message, *sig);
}

Address address_of(const PublicKey& pubkey) {
  Hash32 digest = sha256(pubkey);
  Address out{};
  std::memcpy(out.data(), digest.data(), out.size());
  return out;
}

}  // namespace automata::crypto
