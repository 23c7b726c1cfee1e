#include "automata/crypto/model_content.h"

#include "automata/crypto/aead.h"
#include "automata/crypto/sha256.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace automata::crypto {
namespace {

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

}  // namespace

Hash32 derive_model_id(const Address& creator, uint64_t tx_nonce, uint32_t op_index) {
  static constexpr std::string_view kDomain = "automata/model";
  std::array<uint8_t, 8> nonce_bytes = big_endian<8>(tx_nonce);
  std::array<uint8_t, 4> op_bytes = big_endian<4>(op_index);
  return sha256_concat({as_view(kDomain), creator, nonce_bytes, op_bytes});
}

Bytes seal_fragment(ByteView content_key, ByteView model_id, uint64_t index, ByteView plaintext) {
  if (model_id.size() != kModelIdSize) {
    throw std::invalid_argument("seal_fragment: model id is " + std::to_string(model_id.size()) +
                                " bytes, expected 32");
  }
  // A random 96-bit nonce per fragment. By the birthday bound, q seals under
  // one key repeat a nonce with probability below q^2 / 2^97, which is 2^-57
  // for the 2^20 fragments a model may have.
  Bytes nonce = random_bytes(kGcmNonceSize);
  Bytes ciphertext = aes256gcm_seal(content_key, nonce, plaintext, fragment_associated_data(model_id, index));

  Bytes out;
  out.reserve(nonce.size() + ciphertext.size());
  out.insert(out.end(), nonce.begin(), nonce.end());
  out.insert(out.end(), ciphertext.begin(), ciphertext.end());
  return out;
}

std::optional<Bytes> open_fragment(ByteView content_key, ByteView model_id, uint64_t index, ByteView sealed) {
  if (model_id.size() != kModelIdSize || sealed.size() < kFragmentOverhead) return std::nullopt;
  ByteView nonce = sealed.first(kGcmNonceSize);
  ByteView ciphertext = sealed.subspan(kGcmNonceSize);
  return aes256gcm_open(content_key, nonce, ciphertext, fragment_associated_data(model_id, index));
}

}  // namespace automata::crypto
