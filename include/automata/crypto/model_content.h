// Model NFT content encryption: model ids and AES-256-GCM sealing of the
// fixed-size fragments a model file is cut into.
//
// A sealed fragment is nonce(12, random) || ciphertext || tag(16), with
// associated data model_id(32) || big-endian u64 index, so a fragment cannot
// be moved to another model or another position without failing to open.
// Content keys wrap to owners and lessees with ecies_seal (ecies.h).
#pragma once

#include "automata/types/bytes.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace automata::crypto {

// The cipher_suite value that manifests record for this scheme.
inline constexpr std::string_view kModelCipherSuite = "aes-256-gcm/ecies-secp256k1-hkdf-sha256";
// Bytes that seal_fragment adds: the 12-byte nonce plus the 16-byte tag.
inline constexpr size_t kFragmentOverhead = 28;
inline constexpr size_t kModelIdSize = 32;

// The id of the model created by op op_index of the tx with tx_nonce sent by
// creator: SHA-256("automata/model" || creator(20) || BE u64 tx_nonce ||
// BE u32 op_index). A creator's nonce never repeats, so neither does the id.
Hash32 derive_model_id(const Address& creator, uint64_t tx_nonce, uint32_t op_index);

// Encrypts fragment index of model model_id under content_key with a fresh
// random nonce. Returns plaintext.size() + kFragmentOverhead bytes. Throws
// std::invalid_argument when content_key is not 32 bytes, model_id is not
// 32 bytes or plaintext is over 2 GiB, and std::runtime_error when OpenSSL
// fails.
Bytes seal_fragment(ByteView content_key, ByteView model_id, uint64_t index, ByteView plaintext);

// Decrypts a fragment sealed by seal_fragment. Returns nullopt when the tag
// does not verify (wrong key, model id, index or tampered bytes), or when
// content_key or model_id is not 32 bytes or sealed is shorter than
// kFragmentOverhead.
std::optional<Bytes> open_fragment(ByteView content_key, ByteView model_id, uint64_t index, ByteView sealed);

}  // namespace automata::crypto
