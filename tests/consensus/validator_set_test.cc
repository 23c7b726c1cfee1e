#include "automata/consensus/validator_set.h"

#include "consensus_fixture.h"

#include <gtest/gtest.h>

namespace automata::consensus {
namespace {

using testing::Validators;

TEST(ValidatorSet, RejectsBadLists) {
  ValidatorSet set;
  EXPECT_FALSE(ValidatorSet::create({}, &set).is_ok());

  const auto key = testing::test_key(0).public_key();
  Status status = ValidatorSet::create({{key, 0, 0}}, &set);
  EXPECT_NE(status.message().find("power 0"), std::string::npos) << status.to_string();

  status = ValidatorSet::create({{key, 1, 0}, {key, 2, 0}}, &set);
  EXPECT_NE(status.message().find("repeats public key"), std::string::npos) << status.to_string();

  status = ValidatorSet::create({{key, ValidatorSet::kMaxTotalPower + 1, 0}}, &set);
  EXPECT_NE(status.message().find("exceeds the maximum"), std::string::npos) << status.to_string();
}

TEST(ValidatorSet, ThresholdsAreStrict) {
  Validators validators(3);  // total power 3
  EXPECT_FALSE(validators.set.is_two_thirds(2));
  EXPECT_TRUE(validators.set.is_two_thirds(3));
  EXPECT_FALSE(validators.set.is_one_third(1));
  EXPECT_TRUE(validators.set.is_one_third(2));
}

TEST(ValidatorSet, ProposerRotationFollowsPower) {
  const std::vector<uint64_t> powers{1, 2, 3, 4};
  Validators validators(4, powers);
  const uint64_t total = 10;
  const int64_t cycles = 7;

  std::vector<uint64_t> by_round(4, 0);
  for (int64_t round = 0; round < static_cast<int64_t>(total) * cycles; ++round) {
    by_round[validators.set.proposer_index(round)]++;
  }
  std::vector<uint64_t> by_height(4, 0);
  ValidatorSet set = validators.set;
  for (uint64_t height = 0; height < total * cycles; ++height) {
    by_height[set.proposer_index(0)]++;
    set = set.for_next_height();
  }
  for (size_t i = 0; i < powers.size(); ++i) {
    EXPECT_EQ(by_round[i], powers[i] * cycles) << "validator " << i << " over rounds";
    EXPECT_EQ(by_height[i], powers[i] * cycles) << "validator " << i << " over heights";
  }
}

TEST(ValidatorSet, EqualPowersRotateEveryRound) {
  Validators validators(5);
  for (int64_t round = 1; round < 20; ++round) {
    EXPECT_NE(validators.set.proposer_index(round), validators.set.proposer_index(round - 1)) << "round " << round;
  }
}

}  // namespace
}  // namespace automata::consensus
