#include "automata/consensus/vote_set.h"

namespace automata::consensus {

VoteSet::AddResult VoteSet::add(const Vote& vote, size_t validator_index, DuplicateVoteEvidence* evidence) {
  std::vector<Vote>& stored = votes_[validator_index];
  const uint64_t power = validators_->at(validator_index).power;
  for (const Vote& existing : stored) {
    if (existing.block_hash == vote.block_hash) return AddResult::kDuplicate;
  }
  if (stored.empty()) {
    stored.push_back(vote);
    power_by_block_[vote.block_hash] += power;
    voted_power_ += power;
    return AddResult::kAdded;
  }
  if (evidence != nullptr) *evidence = DuplicateVoteEvidence{stored.front(), vote};
  if (stored.size() < kMaxVotesPerValidator) {
    stored.push_back(vote);
    power_by_block_[vote.block_hash] += power;
  }
  return AddResult::kConflict;
}

bool VoteSet::contains(const Vote& vote, size_t validator_index) const {
  for (const Vote& existing : votes_[validator_index]) {
    if (existing == vote) return true;
  }
  return false;
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
  for (const auto& stored : votes_) out.insert(out.end(), stored.begin(), stored.end());
  return out;
}

}  // namespace automata::consensus
