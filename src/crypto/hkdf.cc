#include "automata/crypto/ecies.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

struct KdfDeleter {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
};
struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

// OSSL_PARAM takes non-const pointers for octet strings but only reads them.
// A zero-length input still needs a valid address, so empty views point at a
// static byte.
void* param_data(ByteView bytes) {
  static uint8_t empty = 0;
  if (bytes.empty()) return &empty;
  return const_cast<uint8_t*>(bytes.data());
}

}  // namespace

Bytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length) {
  if (length > kHkdfSha256MaxLength) {
    throw std::invalid_argument("hkdf_sha256: length " + std::to_string(length) + " is over the maximum of " +
                                std::to_string(kHkdfSha256MaxLength) + " bytes (255 SHA-256 blocks)");
  }
  Bytes out(length);
  if (length == 0) return out;

  // The algorithm is fetched on every call, which keeps this function free
  // of shared state. Callers derive once per envelope, not per fragment.
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (kdf == nullptr) throw std::runtime_error("hkdf_sha256: OpenSSL has no HKDF implementation");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (ctx == nullptr) throw std::runtime_error("hkdf_sha256: EVP_KDF_CTX_new failed");

  char digest_name[] = "SHA256";
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, param_data(ikm), ikm.size());
  // An empty salt is left out. HMAC pads a short key with zeros, so no salt
  // and 32 zero bytes give the same PRK, as RFC 5869 section 2.2 requires.
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_data(salt), salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, param_data(info), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();

  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    throw std::runtime_error("hkdf_sha256: OpenSSL EVP_KDF_derive failed for " + std::to_string(length) + " bytes");
  }
  return out;
}

}  // namespace automata::crypto
