// AES-256-GCM and scrypt through OpenSSL, for the CLI keystore and (later)
// encrypted model fragments.
#pragma once

#include "automata/types/bytes.h"

#include <optional>

namespace automata::crypto {

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// Encrypts plaintext; returns ciphertext followed by the 16-byte tag.
// REQUIRES: key is 32 bytes, nonce is 12 bytes and never reused with a key.
Bytes aes256gcm_seal(ByteView key, ByteView nonce, ByteView plaintext, ByteView associated_data);

// Decrypts ciphertext||tag. Returns nullopt when the tag does not verify.
std::optional<Bytes> aes256gcm_open(ByteView key, ByteView nonce, ByteView sealed, ByteView associated_data);

// scrypt key derivation (RFC 7914). Returns nullopt when OpenSSL rejects the
// parameters (for example n not a power of two, or memory over its limit).
std::optional<Bytes> scrypt(ByteView passphrase, ByteView salt, uint64_t n, uint64_t r, uint64_t p, size_t key_len);

// Bytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
Bytes random_bytes(size_t count);

}  // namespace automata::crypto
