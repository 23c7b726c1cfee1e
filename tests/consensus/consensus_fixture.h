// Keys, validator sets and signed messages for the engine unit tests.
#pragma once

#include "automata/consensus/engine.h"
#include "automata/crypto/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace automata::consensus::testing {

inline constexpr std::string_view kChain = "automata-test";

inline crypto::PrivateKey test_key(size_t index) {
  const Hash32 secret = crypto::sha256(as_view("consensus-test-key-" + std::to_string(index)));
  return *crypto::PrivateKey::from_bytes(secret);
}

inline Bytes block_bytes(std::string_view label) { return to_bytes(label); }
inline Hash32 block_id(std::string_view label) { return crypto::sha256(as_view(label)); }

// n validators with the given powers (1 each when empty).
struct Validators {
  explicit Validators(size_t n, std::vector<uint64_t> powers = {}) {
    std::vector<ValidatorInfo> infos;
    for (size_t i = 0; i < n; ++i) {
      keys.push_back(test_key(i));
      infos.push_back(ValidatorInfo{keys.back().public_key(), powers.empty() ? 1 : powers[i], 0});
    }
    Status status = ValidatorSet::create(infos, &set);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
  }

  Vote vote(size_t index, VoteType type, uint64_t height, int64_t round, BlockId hash,
            std::string_view chain = kChain) const {
    Vote v{type, height, round, hash, keys[index].public_key(), {}};
    v.signature = keys[index].sign(signing_digest(vote_sign_bytes(chain, v)));
    return v;
  }

  Proposal proposal(size_t index, uint64_t height, int64_t round, std::string_view label, int64_t pol_round = -1) const {
    Proposal p;
    p.height = height;
    p.round = round;
    p.pol_round = pol_round;
    p.block = block_bytes(label);
    p.block_hash = block_id(label);
    p.proposer = keys[index].public_key();
    p.signature = keys[index].sign(signing_digest(proposal_sign_bytes(kChain, p)));
    return p;
  }

  std::vector<crypto::PrivateKey> keys;
  ValidatorSet set;
};

template <typename T>
std::vector<T> effects_of(const Effects& effects) {
  std::vector<T> out;
  for (const Effect& effect : effects) {
    if (const T* value = std::get_if<T>(&effect)) out.push_back(*value);
  }
  return out;
}

// The single vote the engine broadcast among effects; fails the test if
// there is not exactly one.
inline std::optional<Vote> only_vote(const Effects& effects) {
  auto votes = effects_of<BroadcastVote>(effects);
  EXPECT_EQ(votes.size(), 1u);
  if (votes.size() != 1) return std::nullopt;
  return votes[0].vote;
}

inline void append(Effects& into, Effects more) {
  for (auto& effect : more) into.push_back(std::move(effect));
}

}  // namespace automata::consensus::testing
