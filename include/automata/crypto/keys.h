// BIP-340 Schnorr keys and signatures over secp256k1 (libsecp256k1). All
// calls share one process-wide, randomized context, so they are safe to make
// from many threads at once. A failure of OpenSSL's RNG or of libsecp256k1 on
// checked input aborts the process.
#pragma once

#include "automata/types/bytes.h"

#include <optional>

namespace automata::crypto {

using PublicKey = std::array<uint8_t, 32>;   // x-only public key (BIP-340)
using Signature = std::array<uint8_t, 64>;   // BIP-340 signature

// A secp256k1 secret key. The bytes are wiped when the object is destroyed.
class PrivateKey {
 public:
  // A fresh key from the operating system's CSPRNG (OpenSSL RAND_bytes).
  static PrivateKey generate();
  // Returns nullopt unless bytes is 32 bytes and a valid scalar (0 < k < n).
  static std::optional<PrivateKey> from_bytes(ByteView bytes);

  PrivateKey(const PrivateKey&) = default;
  PrivateKey& operator=(const PrivateKey&) = default;
  ~PrivateKey();

  const std::array<uint8_t, 32>& bytes() const { return secret_; }
  PublicKey public_key() const;

  // BIP-340 signature of a message of any length. aux_rand is the 32 bytes
  // of auxiliary randomness from BIP-340; when null, fresh random bytes are
  // drawn.
  Signature sign(ByteView message, const std::array<uint8_t, 32>* aux_rand = nullptr) const;

 private:
  explicit PrivateKey(const std::array<uint8_t, 32>& secret) : secret_(secret) {}
  std::array<uint8_t, 32> secret_;
};

// BIP-340 verification of a message of any length. Returns false for an
// invalid public key or signature; never throws.
bool verify(const PublicKey& pubkey, ByteView message, const Signature& signature);
bool verify(ByteView pubkey, ByteView message, ByteView signature);

// The account address of a public key: SHA-256(pubkey)[0..20).
Address address_of(const PublicKey& pubkey);

}  // namespace automata::crypto
