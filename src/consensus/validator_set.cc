#include "automata/consensus/validator_set.h"

#include <fmt/format.h>

namespace automata::consensus {

Status ValidatorSet::create(std::vector<ValidatorInfo> validators, ValidatorSet* out) {
  if (validators.empty()) return Status::invalid_argument("validator set is empty: at least one validator is required");
  ValidatorSet set;
  for (size_t i = 0; i < validators.size(); ++i) {
    const ValidatorInfo& validator = validators[i];
    if (validator.power == 0) {
      return Status::invalid_argument(fmt::format("validator {} has power 0: power must be positive", i));
    }
    if (validator.power > kMaxTotalPower || set.total_power_ + validator.power > kMaxTotalPower) {
      return Status::invalid_argument(fmt::format("total voting power exceeds the maximum {}", kMaxTotalPower));
    }
    if (!set.index_.emplace(validator.pubkey, i).second) {
      return Status::invalid_argument(fmt::format("validator {} repeats public key {}", i, to_hex(validator.pubkey)));
    }
    set.total_power_ += validator.power;
  }
  set.validators_ = std::move(validators);
  *out = std::move(set);
  return Status::ok();
}

std::optional<size_t> ValidatorSet::index_of(const crypto::PublicKey& pubkey) const {
  auto it = index_.find(pubkey);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

size_t ValidatorSet::select_step(std::vector<int64_t>& priorities, const std::vector<ValidatorInfo>& validators,
                                 uint64_t total_power) {
  size_t chosen = 0;
  for (size_t i = 0; i < priorities.size(); ++i) {
    priorities[i] += static_cast<int64_t>(validators[i].power);
    if (priorities[i] > priorities[chosen]) chosen = i;
  }
  priorities[chosen] -= static_cast<int64_t>(total_power);
  return chosen;
}

size_t ValidatorSet::proposer_index(int64_t round) const {
  std::vector<int64_t> priorities;
  priorities.reserve(validators_.size());
  for (const auto& validator : validators_) priorities.push_back(validator.priority);

  // Cost is O(size * round); rounds stay small because each round waits out
  // a timeout that grows with the round.
  const uint64_t steps = static_cast<uint64_t>(round) + 1;
  size_t chosen = 0;
  for (uint64_t step = 0; step < steps; ++step) chosen = select_step(priorities, validators_, total_power_);
  return chosen;
}

ValidatorSet ValidatorSet::for_next_height() const {
  ValidatorSet next = *this;
  std::vector<int64_t> priorities;
  for (const auto& validator : validators_) priorities.push_back(validator.priority);
  select_step(priorities, validators_, total_power_);
  for (size_t i = 0; i < priorities.size(); ++i) next.validators_[i].priority = priorities[i];
  return next;
}

}  // namespace automata::consensus
