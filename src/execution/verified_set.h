// Txs whose signature check_tx already verified, so block execution can
// skip verifying them again. Bounded: the oldest entry is evicted first.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"

#include <deque>
#include <mutex>
#include <unordered_map>

namespace automata::execution {

class VerifiedSet {
 public:
  explicit VerifiedSet(size_t capacity) : capacity_(capacity) { entries_.reserve(capacity); }

  // Records that signature verified for the tx hash (SHA-256 of body_bytes).
  void insert(const Hash32& tx_hash, const crypto::Signature& signature);

  // True when this exact hash and signature were recorded. The signature is
  // compared too, because the tx hash does not cover it.
  bool contains(const Hash32& tx_hash, const crypto::Signature& signature) const;

  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  // guarded by mutex_. A hash map: with a std::map each lookup in a set
  // of 200,000 entries compared about 18 hashes with memcmp.
  std::unordered_map<Hash32, crypto::Signature, Hash32FirstBytes> entries_;
  std::deque<Hash32> order_;                     // guarded by mutex_; oldest first
};

}  // namespace automata::execution
