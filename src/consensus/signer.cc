#include "automata/consensus/signer.h"

#include "automata/crypto/sha256.h"
#include "automata/types/crash_point.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace automata::consensus {

Status check_sign_request(const LastSignState& last, uint64_t height, int64_t round, Step step,
                          ByteView sign_bytes, bool* reuse_last) {
  *reuse_last = false;
  if (height == 0) return Status::invalid_argument("cannot sign at height 0: heights start at 1");
  if (round < 0) return Status::invalid_argument(fmt::format("cannot sign at round {}: rounds start at 0", round));
  if (last.height == 0) return Status::ok();

  const auto requested = std::make_tuple(height, round, static_cast<int>(step));
  const auto signed_last = std::make_tuple(last.height, last.round, static_cast<int>(last.step));
  if (requested < signed_last) {
    return Status::invalid_argument(fmt::format(
        "refusing to sign {} at height {} round {}: already signed {} at height {} round {}", to_string(step),
        height, round, to_string(last.step), last.height, last.round));
  }
  if (requested == signed_last) {
    if (!std::ranges::equal(last.sign_bytes, sign_bytes)) {
      return Status::invalid_argument(fmt::format(
          "refusing to sign a second, different {} at height {} round {}", to_string(step), height, round));
    }
    *reuse_last = true;
  }
  return Status::ok();
}

KeySigner::KeySigner(crypto::PrivateKey key, LastSignState initial, SignStateStore* store)
    : key_(std::move(key)), public_key_(key_.public_key()), last_(std::move(initial)), store_(store) {}

Status KeySigner::sign(uint64_t height, int64_t round, Step step, ByteView sign_bytes,
                       crypto::Signature* signature) {
  bool reuse_last = false;
  Status status = check_sign_request(last_, height, round, step, sign_bytes, &reuse_last);
  if (!status.is_ok()) return status;
  if (reuse_last) {
    *signature = last_.signature;
    return Status::ok();
  }

  // BIP-340 auxiliary randomness derived from the message keeps signatures
  // reproducible, which the seeded simulator relies on.
  const Hash32 digest = signing_digest(sign_bytes);
  const Hash32 aux = crypto::sha256_concat({as_view("automata/consensus/aux"), digest});
  LastSignState next{height, round, step, Bytes(sign_bytes.begin(), sign_bytes.end()), key_.sign(digest, &aux)};
  if (store_ != nullptr) {
    status = store_->save(next);
    if (!status.is_ok()) return status;
    crash_point(kCrashAfterSignState);
  }
  last_ = std::move(next);
  *signature = last_.signature;
  return Status::ok();
}

}  // namespace automata::consensus
