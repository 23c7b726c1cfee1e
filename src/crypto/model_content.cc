#include "automata/crypto/model_content.h"

#include "automata/crypto/aead.h"
#include "automata/crypto/sha256.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
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

static_assert(kFragmentOverhead == kGcmNonceSize + kGcmTagSize);

template <size_t N>
std::array<uint8_t, N> big_endian(uint64_t value) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[N - 1 - i] = static_cast<uint8_t>(value >> (8 * i));
  return out;
}

// model_id(32) || BE u64 index.
std::array<uint8_t, kModelIdSize + 8> fragment_associated_data(ByteView model_id, uint64_t index) {
  std::array<uint8_t, kModelIdSize + 8> aad{};
  std::copy(model_id.begin(), model_id.end(), aad.begin());
  std::array<uint8_t, 8> index_bytes = big_endian<8>(index);
  std::copy(index_bytes.begin(), index_bytes.end(), aad.begin() + kModelIdSize);
  return aad;
}

// Encrypts plaintext with AES-256-GCM, writing plaintext.size() bytes of
// ciphertext and the 16-byte tag to the caller's buffers. The caller has
// checked the key size and that plaintext fits an int. Returns false when
// OpenSSL fails.
bool encrypt_gcm_into(ByteView key, const uint8_t* nonce, ByteView associated_data, ByteView plaintext,
                      uint8_t* ciphertext, uint8_t* tag) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return false;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kGcmNonceSize), nullptr) != 1) {
    return false;
  }
  if (EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1) return false;

  int written = 0;
  if (EVP_EncryptUpdate(ctx.get(), nullptr, &written, associated_data.data(),
                        static_cast<int>(associated_data.size())) != 1) {
    return false;
  }
  written = 0;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), ciphertext, &written, plaintext.data(), static_cast<int>(plaintext.size())) != 1) {
    return false;
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + written, &final_len) != 1) return false;
  if (static_cast<size_t>(written + final_len) != plaintext.size()) return false;
  return EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize), tag) == 1;
}

}  // namespace

Hash32 derive_model_id(const Address& creator, uint64_t tx_nonce, uint32_t op_index) {
  static constexpr std::string_view kDomain = "automata/model";
  std::array<uint8_t, 8> nonce_bytes = big_endian<8>(tx_nonce);
  std::array<uint8_t, 4> op_bytes = big_endian<4>(op_index);
  return sha256_concat({as_view(kDomain), creator, nonce_bytes, op_bytes});
}

Bytes seal_fragment(ByteView content_key, ByteView model_id, uint64_t index, ByteView plaintext) {
  if (content_key.size() != kAesKeySize) {
    throw std::invalid_argument("seal_fragment: content key is " + std::to_string(content_key.size()) +
                                " bytes, expected 32");
  }
  if (model_id.size() != kModelIdSize) {
    throw std::invalid_argument("seal_fragment: model id is " + std::to_string(model_id.size()) +
                                " bytes, expected 32");
  }
  if (plaintext.size() > static_cast<size_t>(INT_MAX)) {
    throw std::invalid_argument("seal_fragment: plaintext of " + std::to_string(plaintext.size()) +
                                " bytes is over 2 GiB");
  }

  // The output is written into one buffer, because sealing through aes256gcm_seal
  // and prepending the nonce costs a second fragment-sized buffer and copy.
  Bytes out(kGcmNonceSize + plaintext.size() + kGcmTagSize);
  uint8_t* nonce = out.data();
  uint8_t* ciphertext = out.data() + kGcmNonceSize;
  uint8_t* tag = ciphertext + plaintext.size();

  // A random 96-bit nonce per fragment. By the birthday bound, q seals under
  // one key repeat a nonce with probability below q^2 / 2^97, which is 2^-57
  // for the 2^20 fragments a model may have.
  if (RAND_bytes(nonce, static_cast<int>(kGcmNonceSize)) != 1) {
    throw std::runtime_error("seal_fragment: OpenSSL RAND_bytes failed to produce a nonce");
  }

  if (!encrypt_gcm_into(content_key, nonce, fragment_associated_data(model_id, index), plaintext, ciphertext,
                        tag)) {
    throw std::runtime_error("seal_fragment: OpenSSL AES-256-GCM encryption failed");
  }
  return out;
}

std::optional<Bytes> open_fragment(ByteView content_key, ByteView model_id, uint64_t index, ByteView sealed) {
  if (model_id.size() != kModelIdSize || sealed.size() < kFragmentOverhead) return std::nullopt;
  ByteView nonce = sealed.first(kGcmNonceSize);
  ByteView ciphertext = sealed.subspan(kGcmNonceSize);
  return aes256gcm_open(content_key, nonce, ciphertext, fragment_associated_data(model_id, index));
}

}  // namespace automata::crypto
