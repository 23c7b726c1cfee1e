// The signer the engine uses for its own proposals and votes, and the
// last-sign-state check that keeps a validator from double signing.
#pragma once

#include "automata/consensus/messages.h"
#include "automata/crypto/keys.h"
#include "automata/types/status.h"

#include <cstdint>

namespace automata::consensus {

// The last (height, round, step) a validator signed and what it signed.
// height 0 means nothing was signed yet.
struct LastSignState {
  uint64_t height = 0;
  int64_t round = 0;
  Step step = Step::kPropose;
  Bytes sign_bytes;
  crypto::Signature signature{};

  bool operator==(const LastSignState&) const = default;
};

// Decides whether signing sign_bytes at (height, round, step) is safe after
// last. Returns ok and sets *reuse_last when the request repeats the last
// signed message exactly (the caller returns the stored signature again).
// Returns invalid_argument for a position before last, or for different
// sign bytes at the same position.
Status check_sign_request(const LastSignState& last, uint64_t height, int64_t round, Step step,
                          ByteView sign_bytes, bool* reuse_last);

// Signs consensus messages for one validator key. Implementations refuse
// any request that check_sign_request rejects, and a persisted one syncs
// the new LastSignState to disk before it returns the signature, so a crash
// can never make the validator forget what it signed. Not thread-safe: the
// engine calls it from one thread.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual crypto::PublicKey public_key() const = 0;
  // Signs SHA-256 of sign_bytes with BIP-340 and writes *signature. Returns
  // invalid_argument when the request would double sign or regress, or the
  // error of the persistence layer; *signature is untouched then.
  virtual Status sign(uint64_t height, int64_t round, Step step, ByteView sign_bytes,
                      crypto::Signature* signature) = 0;
};

// Durable storage for a KeySigner's LastSignState. save() must be durable
// (for a file: written and fsynced) before it returns ok.
class SignStateStore {
 public:
  virtual ~SignStateStore() = default;
  virtual Status save(const LastSignState& state) = 0;
};

// A Signer over a private key held in memory. With a store, every new
// LastSignState is saved before the signature is returned. Without one
// (tests, the simulator) the state lives only in this object.
class KeySigner final : public Signer {
 public:
  explicit KeySigner(crypto::PrivateKey key, LastSignState initial = {}, SignStateStore* store = nullptr);

  crypto::PublicKey public_key() const override { return public_key_; }
  Status sign(uint64_t height, int64_t round, Step step, ByteView sign_bytes,
              crypto::Signature* signature) override;
  const LastSignState& last_sign_state() const { return last_; }

 private:
  crypto::PrivateKey key_;
  crypto::PublicKey public_key_;
  LastSignState last_;
  SignStateStore* store_;  // not owned; may be null
};

}  // namespace automata::consensus
