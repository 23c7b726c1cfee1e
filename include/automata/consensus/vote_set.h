// The votes of one (height, round, type), with voting power per block id.
#pragma once

#include "automata/consensus/messages.h"
#include "automata/consensus/validator_set.h"

#include <map>
#include <optional>
#include <vector>

namespace automata::consensus {

// Counts at most one vote per validator. A second vote from the same
// validator with a different block id is not counted; add() returns it as
// duplicate-vote evidence instead. The set does not check signatures: the
// caller verifies them before add(). Keeps a pointer to validators, which
// must outlive the set.
class VoteSet {
 public:
  enum class AddResult { kAdded, kDuplicate, kConflict };

  VoteSet(const ValidatorSet* validators, VoteType type) : validators_(validators), type_(type) {
    votes_.resize(validators->size());
  }

  // Adds the vote of the validator at validator_index. On kConflict, fills
  // evidence with the stored vote and the new one.
  AddResult add(const Vote& vote, size_t validator_index, DuplicateVoteEvidence* evidence);

  VoteType type() const { return type_; }
  // The stored vote of a validator, if any.
  const std::optional<Vote>& vote_of(size_t validator_index) const { return votes_[validator_index]; }
  // Power of all counted votes, whatever their block id.
  uint64_t total_voted_power() const { return voted_power_; }
  uint64_t power_for(const BlockId& block_id) const;
  // True when more than 2/3 of the power voted, for any mix of block ids.
  bool has_two_thirds_any() const { return validators_->is_two_thirds(voted_power_); }
  bool has_two_thirds_for(const BlockId& block_id) const { return validators_->is_two_thirds(power_for(block_id)); }
  // The block id (possibly nil) with more than 2/3 of the power, if any.
  std::optional<BlockId> two_thirds_majority() const;
  // The counted votes in validator order.
  std::vector<Vote> votes() const;

 private:
  const ValidatorSet* validators_;
  VoteType type_;
  std::vector<std::optional<Vote>> votes_;  // by validator index
  std::map<BlockId, uint64_t> power_by_block_;
  uint64_t voted_power_ = 0;
};

}  // namespace automata::consensus
