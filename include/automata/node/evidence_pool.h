// Verified double-sign evidence: reported by the local engine or received
// from peers, kept until a block includes it, and queryable over RPC.
#pragma once

#include "automata/consensus/messages.h"
#include "automata/consensus/validator_set.h"
#include "automata/node/consensus_store.h"
#include "automata/types/status.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace automata::node {

// Checks that both votes are by one validator of validators, share height,
// round and type, name different block ids, and carry valid signatures for
// chain_id. Returns invalid_argument naming the first rule broken.
Status verify_evidence(std::string_view chain_id, const consensus::ValidatorSet& validators,
                       const consensus::DuplicateVoteEvidence& evidence);

// Thread-safe. store must outlive the pool.
class EvidencePool {
 public:
  // validators is the set whose membership evidence is checked against.
  // NOTE: the validator set never changes yet, so one set serves every
  // height; per-height sets are needed once staking changes it.
  EvidencePool(ConsensusStore* store, std::string chain_id, consensus::ValidatorSet validators);

  // Loads the stored entries.
  Status load();

  // Verifies and stores new evidence. *added is false, with ok, when the
  // same fault (height, round, type, validator) is already known.
  Status add(const consensus::DuplicateVoteEvidence& evidence, bool* added);

  // Up to max pending entries, oldest fault first, for the next proposal.
  std::vector<consensus::DuplicateVoteEvidence> pending(size_t max) const;

  // Records that the block at height included each item (adding items the
  // pool did not know).
  Status mark_included(const std::vector<consensus::DuplicateVoteEvidence>& evidence, uint64_t height);

  // The height of the block that included the same fault (height, round,
  // type, validator), or nullopt while it is pending or unknown.
  std::optional<uint64_t> included_height(const consensus::DuplicateVoteEvidence& evidence) const;

  // Every entry, or those whose fault is at height.
  std::vector<EvidenceEntry> list(std::optional<uint64_t> height) const;

 private:
  using Key = std::tuple<uint64_t, int64_t, uint8_t, crypto::PublicKey>;
  static Key key_of(const consensus::DuplicateVoteEvidence& evidence);

  ConsensusStore* store_;
  const std::string chain_id_;
  const consensus::ValidatorSet validators_;

  mutable std::mutex mutex_;
  std::map<Key, EvidenceEntry> entries_;  // guarded by mutex_
};

}  // namespace automata::node
