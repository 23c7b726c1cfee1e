// The votes of one (height, round, type), with voting power per block id.
#pragma once

#include "automata/consensus/messages.h"
#include "automata/consensus/validator_set.h"

#include <map>
#include <optional>
#include <vector>

namespace automata::consensus {

// Counts each validator at most once per block id, and once in the total.
// A second vote from the same validator with a different block id makes
// add() return duplicate-vote evidence, and the vote still counts for its
// own block id, as in the algorithm, where every signed message counts
// toward the set of messages for its value. Without that, honest nodes
// that saw different halves of an equivocation could never agree that a
// proof of lock exists. The set does not check signatures: the caller
// verifies them before add(). Keeps a pointer to validators, which must
// outlive the set.
class VoteSet {
 public:
  enum class AddResult { kAdded, kDuplicate, kConflict };
  // Distinct block ids kept per validator. Further conflicting votes are
  // still reported as conflicts but not stored.
  // NOTE: a validator that signs more than this many values can hide the
  // one that completes a proof of lock; CometBFT instead keeps extra votes
  // only for blocks a peer claims have +2/3.
  static constexpr size_t kMaxVotesPerValidator = 3;

  VoteSet(const ValidatorSet* validators, VoteType type) : validators_(validators), type_(type) {
    votes_.resize(validators->size());
  }

  // Adds the vote of the validator at validator_index. On kConflict, fills
  // evidence with the stored vote and the new one.
  AddResult add(const Vote& vote, size_t validator_index, DuplicateVoteEvidence* evidence);

  VoteType type() const { return type_; }
  // True when this exact vote (signature included) is stored.
  bool contains(const Vote& vote, size_t validator_index) const;
  // Power of the validators that voted, each counted once.
  uint64_t total_voted_power() const { return voted_power_; }
  uint64_t power_for(const BlockId& block_id) const;
  // True when more than 2/3 of the power voted, for any mix of block ids.
  bool has_two_thirds_any() const { return validators_->is_two_thirds(voted_power_); }
  bool has_two_thirds_for(const BlockId& block_id) const { return validators_->is_two_thirds(power_for(block_id)); }
  // The block id (possibly nil) with more than 2/3 of the power, if any.
  std::optional<BlockId> two_thirds_majority() const;
  // The stored votes in validator order, conflicting ones included.
  std::vector<Vote> votes() const;

 private:
  const ValidatorSet* validators_;
  VoteType type_;
  std::vector<std::vector<Vote>> votes_;  // by validator index, first vote first
  std::map<BlockId, uint64_t> power_by_block_;
  uint64_t voted_power_ = 0;
};

}  // namespace automata::consensus
