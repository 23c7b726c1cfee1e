#include "automata/consensus/vote_set.h"

namespace automata::consensus {

VoteSet::AddResult VoteSet::add(const Vote& vote, size_t validator_index, DuplicateVoteEvidence* evidence) {
  std::optional<Vote>& slot = votes_[validator_index];
  if (slot) {
    if (slot->block_hash == vote.block_hash) return AddResult::kDuplicate;
    if (evidence != nullptr) *evidence = DuplicateVoteEvidence{*slot, vote};
    return AddResult::kConflict;
  }
  slot = vote;
  const uint64_t power = validators_->at(validator_index).power;
  power_by_block_[vote.block_hash] += power;
  voted_power_ += power;
  return AddResult::kAdded;
}

uint64_t VoteSet::power_for(const BlockId& block_id) const {
  auto it = power_by_block_.find(block_id);
  return it == power_by_block_.end() ? 0 : it->second;
}

std::optional<BlockId> VoteSet::two_thirds_majority() const {
  for (const auto& [block_id, power] : power_by_block_) {
    if (validators_->is_two_thirds(power)) return block_id;
  }
  return std::nullopt;
}

std::vector<Vote> VoteSet::votes() const {
  std::vector<Vote> out;
  for (const auto& vote : votes_) {
    if (vote) out.push_back(*vote);
  }
  return out;
}

}  // namespace automata::consensus
