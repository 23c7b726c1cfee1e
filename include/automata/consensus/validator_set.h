// The validators of one height with their voting power, and the weighted
// round-robin proposer schedule.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/status.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace automata::consensus {

struct ValidatorInfo {
  crypto::PublicKey pubkey{};
  uint64_t power = 0;
  // Proposer priority carried across heights; 0 for a new set.
  int64_t priority = 0;
};

// An immutable validator list in a fixed order. Proposer selection is the
// priority accumulation that CometBFT uses: each step adds every validator's
// power to its priority, picks the highest priority (ties go to the lower
// index), and subtracts the total power from the chosen one. Over any
// window of total-power steps a validator is chosen power times. All math
// is on 64-bit integers.
class ValidatorSet {
 public:
  // Largest total voting power accepted. It keeps 3 * power within uint64
  // and each priority within a few multiples of it, far from the int64 limit.
  static constexpr uint64_t kMaxTotalPower = uint64_t{1} << 60;

  // Returns invalid_argument for an empty list, a zero power, a duplicate
  // public key or a total power above kMaxTotalPower.
  static Status create(std::vector<ValidatorInfo> validators, ValidatorSet* out);

  ValidatorSet() = default;

  size_t size() const { return validators_.size(); }
  const ValidatorInfo& at(size_t index) const { return validators_[index]; }
  const std::vector<ValidatorInfo>& validators() const { return validators_; }
  uint64_t total_power() const { return total_power_; }
  std::optional<size_t> index_of(const crypto::PublicKey& pubkey) const;

  // True when power is more than 2/3 of the total power.
  bool is_two_thirds(uint64_t power) const { return power * 3 > total_power_ * 2; }
  // True when power is more than 1/3 of the total power (at least f+1).
  bool is_one_third(uint64_t power) const { return power * 3 > total_power_; }

  // Index of the proposer of round (round >= 0) at this set's height: the
  // choice after round + 1 selection steps from the current priorities.
  size_t proposer_index(int64_t round) const;

  // The same validators for the next height: priorities advanced by one
  // step, as CometBFT does per height. The round a block was decided in does
  // not matter, because two nodes may decide the same block in different
  // rounds and must still agree on the next proposers.
  // NOTE: validator set changes (new validators, power updates) need the
  // CometBFT centering and new-validator priority rules, not done here.
  ValidatorSet for_next_height() const;

 private:
  // One selection step on priorities; returns the chosen index.
  static size_t select_step(std::vector<int64_t>& priorities, const std::vector<ValidatorInfo>& validators,
                            uint64_t total_power);

  std::vector<ValidatorInfo> validators_;
  std::map<crypto::PublicKey, size_t> index_;
  uint64_t total_power_ = 0;
};

}  // namespace automata::consensus
