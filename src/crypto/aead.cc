#include "automata/crypto/aead.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// OpenSSL's cipher calls take int lengths.
bool fits_int(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

// Creates a context set up for AES-256-GCM with a 12-byte nonce, or returns
// null when OpenSSL fails.
CipherCtxPtr gcm_context(ByteView key, ByteView nonce, bool encrypt) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return nullptr;
  int enc = encrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, enc) != 1) return nullptr;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1) return nullptr;
  if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data(), enc) != 1) return nullptr;
  return ctx;
}

bool add_associated_data(EVP_CIPHER_CTX* ctx, ByteView associated_data) {
  if (associated_data.empty()) return true;
  int out_len = 0;
  return EVP_CipherUpdate(ctx, nullptr, &out_len, associated_data.data(), static_cast<int>(associated_data.size())) == 1;
}

}  // namespace

Bytes aes256gcm_seal(ByteView key, ByteView nonce, ByteView plaintext, ByteView associated_data) {
  if (key.size() != kAesKeySize) {
    throw std::invalid_argument("aes256gcm_seal: key is " + std::to_string(key.size()) + " bytes, expected 32");
  }
  if (nonce.size() != kGcmNonceSize) {
    throw std::invalid_argument("aes256gcm_seal: nonce is " + std::to_string(nonce.size()) + " bytes, expected 12");
  }
  if (!fits_int(plaintext.size()) || !fits_int(associated_data.size())) {
    throw std::invalid_argument("aes256gcm_seal: input over 2 GiB");
  }

  CipherCtxPtr ctx = gcm_context(key, nonce, true);
  if (ctx == nullptr || !add_associated_data(ctx.get(), associated_data)) {
    throw std::runtime_error("aes256gcm_seal: OpenSSL failed to set up AES-256-GCM");
  }

  Bytes out(plaintext.size() + kGcmTagSize);
  int written = 0;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), out.data(), &written, plaintext.data(), static_cast<int>(plaintext.size())) != 1) {
    throw std::runtime_error("aes256gcm_seal: OpenSSL encryption failed");
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &final_len) != 1 ||
      static_cast<size_t>(written + final_len) != plaintext.size()) {
    throw std::runtime_error("aes256gcm_seal: OpenSSL encryption failed");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize),
                          out.data() + plaintext.size()) != 1) {
    throw std::runtime_error("aes256gcm_seal: OpenSSL failed to produce the GCM tag");
  }
  return out;
}

std::optional<Bytes> aes256gcm_open(ByteView key, ByteView nonce, ByteView sealed, ByteView associated_data) {
  if (key.size() != kAesKeySize || nonce.size() != kGcmNonceSize || sealed.size() < kGcmTagSize) return std::nullopt;
  if (!fits_int(sealed.size()) || !fits_int(associated_data.size())) return std::nullopt;

  CipherCtxPtr ctx = gcm_context(key, nonce, false);
  if (ctx == nullptr || !add_associated_data(ctx.get(), associated_data)) return std::nullopt;

  const size_t ciphertext_size = sealed.size() - kGcmTagSize;
  Bytes plaintext(ciphertext_size);
  int written = 0;
  if (ciphertext_size > 0 &&
      EVP_DecryptUpdate(ctx.get(), plaintext.data(), &written, sealed.data(), static_cast<int>(ciphertext_size)) != 1) {
    return std::nullopt;
  }
  // OpenSSL copies the tag, so passing a pointer into const input is safe.
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize),
                          const_cast<uint8_t*>(sealed.data() + ciphertext_size)) != 1) {
    return std::nullopt;
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + written, &final_len) != 1) {
    // The tag did not match: wipe whatever was decrypted before rejecting.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return std::nullopt;
  }
  return plaintext;
}

std::optional<Bytes> scrypt(ByteView passphrase, ByteView salt, uint64_t n, uint64_t r, uint64_t p, size_t key_len) {
  if (key_len == 0) return std::nullopt;
  Bytes key(key_len);
  // EVP_PBE_scrypt rejects n that is not a power of two above 1, r * p of
  // 2^30 or more, and parameters needing more than max_memory bytes.
  int ok = EVP_PBE_scrypt(reinterpret_cast<const char*>(passphrase.data()), passphrase.size(), salt.data(),
                          salt.size(), n, r, p, kScryptMaxMemory, key.data(), key.size());
  if (ok != 1) return std::nullopt;
  return key;
}

Bytes random_bytes(size_t count) {
  Bytes out(count);
  if (count == 0) return out;
  if (!fits_int(count)) throw std::invalid_argument("random_bytes: count " + std::to_string(count) + " is over 2 GiB");
  if (RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
    throw std::runtime_error("random_bytes: OpenSSL RAND_bytes failed to produce " + std::to_string(count) + " bytes");
  }
  return out;
}

}  // namespace automata::crypto
