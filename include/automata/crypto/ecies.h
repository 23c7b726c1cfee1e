// ECIES over secp256k1 for wrapping a model's content key to an x-only
// (BIP-340) public key, and HKDF-SHA256 (RFC 5869) which it derives keys with.
//
// Envelope construction, fixed by the model NFT wire format:
//   1. Lift the recipient's x-only key to the point with even Y.
//   2. Draw a fresh ephemeral key e. ephemeral_pubkey = compressed e*G (33).
//   3. shared = x coordinate of e * recipient point (32 bytes, not hashed).
//   4. okm = HKDF-SHA256(ikm = shared,
//                        salt = ephemeral_pubkey(33) || recipient_xonly(32),
//                        info = kEciesInfo, length 44).
//   5. sealed = AES-256-GCM(key = okm[0..32), nonce = okm[32..44),
//                           aad = context) of the 32-byte content key,
//      so sealed is 32 bytes of ciphertext followed by the 16-byte tag.
// The nonce may be derived because each envelope uses a fresh ephemeral key,
// so no AES key is ever used twice.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"

#include <array>
#include <optional>
#include <string_view>

namespace automata::crypto {

// The HKDF info string that binds derived keys to this envelope format.
inline constexpr std::string_view kEciesInfo = "automata/v1/model-key";
inline constexpr size_t kEphemeralPubkeySize = 33;
// The content key that an envelope wraps (an AES-256 key).
inline constexpr size_t kContentKeySize = 32;
// The size of SealedKey::sealed: the content key plus the GCM tag.
inline constexpr size_t kSealedKeySize = 48;
// The largest output HKDF-SHA256 can produce: 255 blocks of 32 bytes.
inline constexpr size_t kHkdfSha256MaxLength = 255 * 32;

// A content key wrapped to one recipient.
struct SealedKey {
  std::array<uint8_t, 33> ephemeral_pubkey;  // compressed secp256k1 point
  Bytes sealed;                              // 48 bytes: ciphertext || tag
};

// HKDF-SHA256 extract-then-expand (RFC 5869) through OpenSSL's EVP_KDF.
// An empty salt means 32 zero bytes, as RFC 5869 specifies. Returns an
// empty string when length is 0. Throws std::invalid_argument when length is
// over kHkdfSha256MaxLength, and std::runtime_error when OpenSSL fails.
Bytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length);

// Wraps content_key to recipient_xonly, binding it to context (the model id)
// as GCM associated data. Throws std::invalid_argument when content_key is
// not 32 bytes or recipient_xonly is not the x coordinate of a secp256k1
// point, and std::runtime_error when OpenSSL or libsecp256k1 fails. A failing
// RNG while drawing the ephemeral key aborts instead (PrivateKey::generate).
SealedKey ecies_seal(const PublicKey& recipient_xonly, ByteView content_key, ByteView context);

// Unwraps a content key sealed by ecies_seal to recipient's x-only public
// key. The secret is negated when its point has odd Y, as BIP-340 does, so
// every valid key works. Returns nullopt when ephemeral_pubkey is not a
// 33-byte compressed point, sealed is not 48 bytes, or the tag does not
// verify (wrong key, wrong context or tampered bytes).
std::optional<Bytes> ecies_open(const PrivateKey& recipient, ByteView ephemeral_pubkey, ByteView sealed,
                                ByteView context);

}  // namespace automata::crypto
