#include "automata/consensus/vote_set.h"

#include "consensus_fixture.h"

#include <gtest/gtest.h>

namespace automata::consensus {
namespace {

using testing::block_id;
using testing::Validators;

TEST(VoteSet, CountsPowerPerBlock) {
  Validators validators(4, {1, 1, 1, 2});  // total 5
  VoteSet set(&validators.set, VoteType::kPrevote);
  EXPECT_EQ(set.add(validators.vote(0, VoteType::kPrevote, 1, 0, block_id("B")), 0, nullptr),
            VoteSet::AddResult::kAdded);
  EXPECT_EQ(set.add(validators.vote(3, VoteType::kPrevote, 1, 0, block_id("B")), 3, nullptr),
            VoteSet::AddResult::kAdded);
  EXPECT_EQ(set.power_for(block_id("B")), 3u);
  EXPECT_FALSE(set.has_two_thirds_for(block_id("B")));  // 3 of 5

  EXPECT_EQ(set.add(validators.vote(1, VoteType::kPrevote, 1, 0, std::nullopt), 1, nullptr),
            VoteSet::AddResult::kAdded);
  EXPECT_TRUE(set.has_two_thirds_any());  // 4 of 5
  EXPECT_FALSE(set.two_thirds_majority().has_value());

  EXPECT_EQ(set.add(validators.vote(2, VoteType::kPrevote, 1, 0, block_id("B")), 2, nullptr),
            VoteSet::AddResult::kAdded);
  ASSERT_TRUE(set.two_thirds_majority().has_value());
  EXPECT_EQ(*set.two_thirds_majority(), BlockId(block_id("B")));
}

TEST(VoteSet, ConflictCountsOncePerBlock) {
  Validators validators(4);
  VoteSet set(&validators.set, VoteType::kPrecommit);
  const Vote first = validators.vote(0, VoteType::kPrecommit, 1, 0, block_id("B"));
  const Vote second = validators.vote(0, VoteType::kPrecommit, 1, 0, block_id("C"));
  ASSERT_EQ(set.add(first, 0, nullptr), VoteSet::AddResult::kAdded);
  EXPECT_EQ(set.add(first, 0, nullptr), VoteSet::AddResult::kDuplicate);

  DuplicateVoteEvidence evidence;
  EXPECT_EQ(set.add(second, 0, &evidence), VoteSet::AddResult::kConflict);
  EXPECT_EQ(evidence.vote_a, first);
  EXPECT_EQ(evidence.vote_b, second);
  EXPECT_EQ(set.add(second, 0, nullptr), VoteSet::AddResult::kDuplicate);
  EXPECT_EQ(set.power_for(block_id("B")), 1u);
  EXPECT_EQ(set.power_for(block_id("C")), 1u);
  EXPECT_EQ(set.total_voted_power(), 1u);
  EXPECT_EQ(set.votes().size(), 2u);
}

}  // namespace
}  // namespace automata::consensus
