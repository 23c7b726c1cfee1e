// AES-256-GCM and scrypt through OpenSSL, for the CLI keystore and (later)
// encrypted model fragments.
#pragma once

#include "automata/types/bytes.h"

#include <optional>

namespace automata::crypto {

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// The maximum memory scrypt may use, in bytes. scrypt needs about
// 128 * r * (n + p) bytes, so n = 2^18 with r = 8 (256 MiB) fits and
// n = 2^20 with r = 8 (1 GiB) is rejected.
inline constexpr uint64_t kScryptMaxMemory = uint64_t{512} << 20;

// Encrypts plaintext and returns the ciphertext followed by the 16-byte tag.
// The caller must never reuse a nonce with the same key. Throws
// std::invalid_argument when key is not 32 bytes, nonce is not 12 bytes or an
// input is over 2 GiB, and std::runtime_error when OpenSSL fails.
Bytes aes256gcm_seal(ByteView key, ByteView nonce, ByteView plaintext, ByteView associated_data);

// Decrypts ciphertext||tag. Returns nullopt when the tag does not verify or
// when key, nonce or sealed has the wrong size.
std::optional<Bytes> aes256gcm_open(ByteView key, ByteView nonce, ByteView sealed, ByteView associated_data);

// scrypt key derivation (RFC 7914). Returns nullopt when OpenSSL rejects the
// parameters (for example n not a power of two, or memory over
// kScryptMaxMemory) or key_len is 0.
std::optional<Bytes> scrypt(ByteView passphrase, ByteView salt, uint64_t n, uint64_t r, uint64_t p, size_t key_len);

// Bytes from OpenSSL's CSPRNG (RAND_bytes, seeded by the operating system).
// Throws std::runtime_error when RAND_bytes fails, so a caller never gets
// weak bytes.
Bytes random_bytes(size_t count);

}  // namespace automata::crypto
