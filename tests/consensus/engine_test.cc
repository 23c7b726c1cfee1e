#include "automata/consensus/engine.h"

#include "consensus_fixture.h"

#include <gtest/gtest.h>

namespace automata::consensus {
namespace {

using testing::append;
using testing::block_id;
using testing::effects_of;
using testing::kChain;
using testing::only_vote;
using testing::Validators;

constexpr TimeoutConfig kTimeouts{100, 40, 60, 20, 70, 30};

// Four validators of power 1; the engine under test is the one that does
// not propose in rounds 0, 1 and 2.
class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : validators_(4), me_(pick_me()), signer_(validators_.keys[me_]),
                 engine_(EngineConfig{std::string(kChain), kTimeouts, {}}, &signer_) {
    for (size_t i = 0; i < 4; ++i) {
      if (i != me_) others_.push_back(i);
    }
  }

  size_t pick_me() const {
    for (size_t i = 0; i < 4; ++i) {
      bool proposes = false;
      for (int64_t round = 0; round < 3; ++round) proposes |= validators_.set.proposer_index(round) == i;
      if (!proposes) return i;
    }
    ADD_FAILURE() << "every validator proposes in rounds 0..2";
    return 0;
  }

  size_t proposer(int64_t round) const { return validators_.set.proposer_index(round); }

  // Delivers a proposal and reports every requested validation as valid.
  Effects deliver(const Proposal& proposal, bool valid = true) {
    Effects effects = engine_.on_proposal(proposal);
    for (const auto& request : effects_of<ValidateBlock>(effects)) {
      append(effects, engine_.on_block_validity(request.height, request.block_hash, valid));
    }
    return effects;
  }

  Effects deliver_votes(const std::vector<size_t>& from, VoteType type, int64_t round, BlockId hash) {
    Effects effects;
    for (size_t index : from) append(effects, engine_.on_vote(validators_.vote(index, type, 1, round, hash)));
    return effects;
  }

  // Round 0: proposal "B" and prevotes from two others lock the engine on B.
  void lock_on_b_in_round_0() {
    engine_.start_height(1, validators_.set);
    Effects effects = deliver(validators_.proposal(proposer(0), 1, 0, "B"));
    auto prevote = only_vote(effects);
    ASSERT_TRUE(prevote);
    ASSERT_EQ(prevote->block_hash, BlockId(block_id("B")));
    effects = deliver_votes({others_[0], others_[1]}, VoteType::kPrevote, 0, block_id("B"));
    auto precommit = only_vote(effects);
    ASSERT_TRUE(precommit);
    ASSERT_EQ(precommit->type, VoteType::kPrecommit);
  }

  // Ends round 0 with nil precommits from two others and the precommit timeout.
  void finish_round_0() {
    Effects effects = deliver_votes({others_[0], others_[1]}, VoteType::kPrecommit, 0, std::nullopt);
    ASSERT_EQ(effects_of<ScheduleTimeout>(effects).size(), 1u);
    engine_.on_timeout(1, 0, Step::kPrecommit);
    ASSERT_EQ(engine_.round(), 1);
  }

  Validators validators_;
  size_t me_;
  std::vector<size_t> others_;
  KeySigner signer_;
  Engine engine_;
};

TEST_F(EngineTest, PrevotesValidProposal) {
  engine_.start_height(1, validators_.set);
  Effects effects = deliver(validators_.proposal(proposer(0), 1, 0, "B"));
  auto vote = only_vote(effects);
  ASSERT_TRUE(vote);
  EXPECT_EQ(vote->type, VoteType::kPrevote);
  EXPECT_EQ(vote->block_hash, BlockId(block_id("B")));
  EXPECT_TRUE(verify_signature(vote->validator, vote_sign_bytes(kChain, *vote), vote->signature));
}

TEST_F(EngineTest, PrevotesNilForInvalidBlock) {
  engine_.start_height(1, validators_.set);
  auto vote = only_vote(deliver(validators_.proposal(proposer(0), 1, 0, "B"), /*valid=*/false));
  ASSERT_TRUE(vote);
  EXPECT_FALSE(vote->block_hash.has_value());
}

TEST_F(EngineTest, IgnoresProposalFromWrongProposer) {
  engine_.start_height(1, validators_.set);
  const size_t wrong = proposer(1);
  ASSERT_NE(wrong, proposer(0));
  Effects effects = deliver(validators_.proposal(wrong, 1, 0, "B"));
  EXPECT_TRUE(effects_of<BroadcastVote>(effects).empty());
  EXPECT_TRUE(effects_of<ValidateBlock>(effects).empty());
}

TEST_F(EngineTest, LocksOnProofOfLock) {
  lock_on_b_in_round_0();
  const RecoveryState state = engine_.recovery_state();
  EXPECT_EQ(state.locked_round, 0);
  EXPECT_EQ(state.locked_hash, BlockId(block_id("B")));
  EXPECT_EQ(state.valid_round, 0);
  EXPECT_EQ(state.locked_block, testing::block_bytes("B"));
}

TEST_F(EngineTest, PersistsLockBeforePrecommit) {
  engine_.start_height(1, validators_.set);
  deliver(validators_.proposal(proposer(0), 1, 0, "B"));
  Effects effects = deliver_votes({others_[0], others_[1]}, VoteType::kPrevote, 0, block_id("B"));
  std::optional<size_t> persist_at, precommit_at;
  for (size_t i = 0; i < effects.size(); ++i) {
    if (auto* persist = std::get_if<PersistState>(&effects[i]); persist && persist->state.locked_round == 0) {
      persist_at = persist_at.value_or(i);
    }
    if (std::holds_alternative<BroadcastVote>(effects[i])) precommit_at = i;
  }
  ASSERT_TRUE(persist_at);
  ASSERT_TRUE(precommit_at);
  EXPECT_LT(*persist_at, *precommit_at);
}

TEST_F(EngineTest, LockedEnginePrevotesNilForOtherBlock) {
  lock_on_b_in_round_0();
  finish_round_0();
  auto vote = only_vote(deliver(validators_.proposal(proposer(1), 1, 1, "C")));
  ASSERT_TRUE(vote);
  EXPECT_EQ(vote->round, 1);
  EXPECT_FALSE(vote->block_hash.has_value());
}

TEST_F(EngineTest, LockedEnginePrevotesLockedBlock) {
  lock_on_b_in_round_0();
  finish_round_0();
  auto vote = only_vote(deliver(validators_.proposal(proposer(1), 1, 1, "B")));
  ASSERT_TRUE(vote);
  EXPECT_EQ(vote->block_hash, BlockId(block_id("B")));
}

TEST_F(EngineTest, UnlocksOnNewerProofOfLock) {
  lock_on_b_in_round_0();
  finish_round_0();

  // Round 1: the engine saw no proposal, prevotes nil on timeout, and the
  // others form a proof of lock for C in round 1.
  auto nil_prevote = only_vote(engine_.on_timeout(1, 1, Step::kPropose));
  ASSERT_TRUE(nil_prevote);
  EXPECT_FALSE(nil_prevote->block_hash.has_value());
  deliver_votes(others_, VoteType::kPrevote, 1, block_id("C"));
  engine_.on_timeout(1, 1, Step::kPrevote);
  EXPECT_EQ(engine_.step(), Step::kPrecommit);
  deliver_votes({others_[0], others_[1]}, VoteType::kPrecommit, 1, std::nullopt);
  engine_.on_timeout(1, 1, Step::kPrecommit);
  ASSERT_EQ(engine_.round(), 2);

  // Round 2: C with pol_round 1 overrides the lock from round 0.
  auto vote = only_vote(deliver(validators_.proposal(proposer(2), 1, 2, "C", /*pol_round=*/1)));
  ASSERT_TRUE(vote);
  EXPECT_EQ(vote->round, 2);
  EXPECT_EQ(vote->block_hash, BlockId(block_id("C")));
}

TEST_F(EngineTest, WaitsForProofOfLockOfProposal) {
  engine_.start_height(1, validators_.set);
  engine_.on_timeout(1, 0, Step::kPropose);
  deliver_votes(others_, VoteType::kPrecommit, 0, std::nullopt);
  engine_.on_timeout(1, 0, Step::kPrecommit);
  ASSERT_EQ(engine_.round(), 1);

  // pol_round 0 without +2/3 prevotes for C in round 0: no prevote yet.
  Effects effects = deliver(validators_.proposal(proposer(1), 1, 1, "C", /*pol_round=*/0));
  EXPECT_TRUE(effects_of<BroadcastVote>(effects).empty());
  effects = deliver_votes(others_, VoteType::kPrevote, 0, block_id("C"));
  auto vote = only_vote(effects);
  ASSERT_TRUE(vote);
  EXPECT_EQ(vote->round, 1);
  EXPECT_EQ(vote->block_hash, BlockId(block_id("C")));
}

TEST_F(EngineTest, PrecommitsNilOnNilMajority) {
  engine_.start_height(1, validators_.set);
  engine_.on_timeout(1, 0, Step::kPropose);
  auto vote = only_vote(deliver_votes({others_[0], others_[1]}, VoteType::kPrevote, 0, std::nullopt));
  ASSERT_TRUE(vote);
  EXPECT_EQ(vote->type, VoteType::kPrecommit);
  EXPECT_FALSE(vote->block_hash.has_value());
}

TEST_F(EngineTest, DecidesOnPrecommitMajority) {
  engine_.start_height(1, validators_.set);
  deliver(validators_.proposal(proposer(0), 1, 0, "B"));
  Effects effects = deliver_votes(others_, VoteType::kPrecommit, 0, block_id("B"));
  auto decisions = effects_of<Decide>(effects);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].block_hash, block_id("B"));
  EXPECT_EQ(decisions[0].block, testing::block_bytes("B"));
  EXPECT_TRUE(verify_commit(kChain, validators_.set, decisions[0].commit).is_ok());
  EXPECT_TRUE(engine_.decided());
}

TEST_F(EngineTest, SkipsToRoundWithOneThirdOfPower) {
  engine_.start_height(1, validators_.set);
  deliver_votes({others_[0]}, VoteType::kPrevote, 3, std::nullopt);
  EXPECT_EQ(engine_.round(), 0);  // 1 of 4 is not more than 1/3
  deliver_votes({others_[1]}, VoteType::kPrecommit, 3, std::nullopt);
  EXPECT_EQ(engine_.round(), 3);
}

TEST_F(EngineTest, IgnoresBadSignatures) {
  engine_.start_height(1, validators_.set);
  for (size_t index : {others_[0], others_[1]}) {
    Vote vote = validators_.vote(index, VoteType::kPrevote, 1, 3, std::nullopt);
    vote.signature[5] ^= 0x01;
    engine_.on_vote(vote);
  }
  EXPECT_EQ(engine_.round(), 0);
  for (size_t index : {others_[0], others_[1]}) {
    engine_.on_vote(validators_.vote(index, VoteType::kPrevote, 1, 3, std::nullopt, "another-chain"));
  }
  EXPECT_EQ(engine_.round(), 0);
  deliver_votes({others_[0], others_[1]}, VoteType::kPrevote, 3, std::nullopt);
  EXPECT_EQ(engine_.round(), 3);
}

TEST_F(EngineTest, TimeoutsGrowWithRound) {
  Effects effects = engine_.start_height(1, validators_.set);
  auto timeouts = effects_of<ScheduleTimeout>(effects);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].step, Step::kPropose);
  EXPECT_EQ(timeouts[0].duration_ms, 100u);

  engine_.on_timeout(1, 0, Step::kPropose);
  effects = deliver_votes(others_, VoteType::kPrevote, 0, block_id("X"));
  timeouts = effects_of<ScheduleTimeout>(effects);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].step, Step::kPrevote);
  EXPECT_EQ(timeouts[0].duration_ms, 60u);

  engine_.on_timeout(1, 0, Step::kPrevote);
  effects = deliver_votes({others_[0], others_[1]}, VoteType::kPrecommit, 0, std::nullopt);
  timeouts = effects_of<ScheduleTimeout>(effects);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].duration_ms, 70u);

  effects = engine_.on_timeout(1, 0, Step::kPrecommit);
  timeouts = effects_of<ScheduleTimeout>(effects);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].round, 1);
  EXPECT_EQ(timeouts[0].duration_ms, 100u + 40u);
  EXPECT_EQ(kTimeouts.duration_ms(Step::kPrecommit, 5), 70u + 5 * 30u);
}

TEST_F(EngineTest, IgnoresStaleTimeout) {
  engine_.start_height(1, validators_.set);
  engine_.on_timeout(1, 0, Step::kPropose);
  ASSERT_EQ(engine_.step(), Step::kPrevote);
  Effects effects = engine_.on_timeout(1, 0, Step::kPropose);
  EXPECT_TRUE(effects_of<BroadcastVote>(effects).empty());
  effects = engine_.on_timeout(2, 0, Step::kPrevote);
  EXPECT_TRUE(effects.empty());
}

TEST_F(EngineTest, ReportsEquivocationOnce) {
  engine_.start_height(1, validators_.set);
  const size_t cheater = others_[0];
  engine_.on_vote(validators_.vote(cheater, VoteType::kPrevote, 1, 0, block_id("B")));
  Effects effects = engine_.on_vote(validators_.vote(cheater, VoteType::kPrevote, 1, 0, block_id("C")));
  auto reports = effects_of<ReportEvidence>(effects);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].evidence.vote_a.block_hash, BlockId(block_id("B")));
  EXPECT_EQ(reports[0].evidence.vote_b.block_hash, BlockId(block_id("C")));
  effects = engine_.on_vote(validators_.vote(cheater, VoteType::kPrevote, 1, 0, std::nullopt));
  EXPECT_TRUE(effects_of<ReportEvidence>(effects).empty());
}

TEST_F(EngineTest, DecidesFromVerifiedCommit) {
  engine_.start_height(1, validators_.set);
  Commit commit{1, 2, block_id("B"), {}};
  for (size_t index : {others_[0], others_[1]}) {
    Vote vote = validators_.vote(index, VoteType::kPrecommit, 1, 2, block_id("B"));
    commit.signatures.push_back({vote.validator, vote.signature});
  }
  EXPECT_TRUE(effects_of<Decide>(engine_.on_commit(commit, testing::block_bytes("B"))).empty());

  Vote third = validators_.vote(others_[2], VoteType::kPrecommit, 1, 2, block_id("B"));
  commit.signatures.push_back({third.validator, third.signature});
  EXPECT_TRUE(effects_of<Decide>(engine_.on_commit(commit, testing::block_bytes("not B"))).empty());
  auto decisions = effects_of<Decide>(engine_.on_commit(commit, testing::block_bytes("B")));
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].round, 2);
  EXPECT_EQ(decisions[0].block_hash, block_id("B"));
}

TEST_F(EngineTest, BuffersNextHeightMessages) {
  engine_.start_height(1, validators_.set);
  deliver_votes({others_[0], others_[1]}, VoteType::kPrevote, 0, std::nullopt);
  for (size_t index : {others_[0], others_[1]}) {
    engine_.on_vote(validators_.vote(index, VoteType::kPrevote, 2, 2, std::nullopt));
  }
  EXPECT_EQ(engine_.height(), 1u);
  engine_.start_height(2, validators_.set.for_next_height());
  EXPECT_EQ(engine_.height(), 2u);
  EXPECT_EQ(engine_.round(), 2);  // the buffered round-2 votes made it skip
}

TEST_F(EngineTest, RecoveredLockSurvivesRestart) {
  RecoveryState state;
  state.height = 1;
  state.round = 1;
  state.locked_round = 0;
  state.locked_hash = block_id("B");
  state.locked_block = testing::block_bytes("B");
  state.valid_round = 0;
  state.valid_hash = block_id("B");
  state.valid_block = testing::block_bytes("B");
  KeySigner fresh_signer(validators_.keys[me_]);
  Engine restarted(EngineConfig{std::string(kChain), kTimeouts, {}}, &fresh_signer);
  restarted.recover(state, validators_.set);
  EXPECT_EQ(restarted.round(), 1);
  EXPECT_EQ(restarted.recovery_state(), state);

  Effects effects = restarted.on_proposal(validators_.proposal(proposer(1), 1, 1, "C"));
  for (const auto& request : effects_of<ValidateBlock>(effects)) {
    append(effects, restarted.on_block_validity(1, request.block_hash, true));
  }
  auto vote = only_vote(effects);
  ASSERT_TRUE(vote);
  EXPECT_FALSE(vote->block_hash.has_value());
}

TEST_F(EngineTest, RestartedSignerBlocksConflictingPrevote) {
  engine_.start_height(1, validators_.set);
  ASSERT_TRUE(only_vote(deliver(validators_.proposal(proposer(0), 1, 0, "B"))));

  // Restart without the recovery state but with the signer state: a
  // conflicting proposal for the same round must not produce a vote.
  KeySigner restored(validators_.keys[me_], signer_.last_sign_state());
  Engine restarted(EngineConfig{std::string(kChain), kTimeouts, {}}, &restored);
  restarted.start_height(1, validators_.set);
  Effects effects = restarted.on_proposal(validators_.proposal(proposer(0), 1, 0, "B2"));
  for (const auto& request : effects_of<ValidateBlock>(effects)) {
    append(effects, restarted.on_block_validity(1, request.block_hash, true));
  }
  EXPECT_TRUE(effects_of<BroadcastVote>(effects).empty());
  EXPECT_EQ(restarted.step(), Step::kPrevote);
}

TEST(OneValidatorEngine, DecidesEveryHeightWithoutTimeouts) {
  Validators validators(1);
  KeySigner signer(validators.keys[0]);
  Engine engine(EngineConfig{std::string(kChain), kTimeouts, {}}, &signer);
  ValidatorSet set = validators.set;
  for (uint64_t height = 1; height <= 5; ++height) {
    Effects effects = engine.start_height(height, set);
    auto requests = effects_of<RequestBlock>(effects);
    ASSERT_EQ(requests.size(), 1u) << "height " << height;
    EXPECT_EQ(requests[0].round, 0);
    const std::string label = "block " + std::to_string(height);
    effects = engine.on_block_to_propose(height, 0, testing::block_bytes(label));
    auto decisions = effects_of<Decide>(effects);
    ASSERT_EQ(decisions.size(), 1u) << "height " << height;
    EXPECT_EQ(decisions[0].height, height);
    EXPECT_EQ(decisions[0].block_hash, block_id(label));
    EXPECT_TRUE(verify_commit(kChain, set, decisions[0].commit).is_ok());
    set = set.for_next_height();
  }
}

TEST(VerifyCommit, RejectsBadCommits) {
  Validators validators(4);
  Commit commit{3, 0, block_id("B"), {}};
  for (size_t index = 0; index < 3; ++index) {
    Vote vote = validators.vote(index, VoteType::kPrecommit, 3, 0, block_id("B"));
    commit.signatures.push_back({vote.validator, vote.signature});
  }
  EXPECT_TRUE(verify_commit(kChain, validators.set, commit).is_ok());
  EXPECT_FALSE(verify_commit("another-chain", validators.set, commit).is_ok());

  Commit repeated = commit;
  repeated.signatures[2] = repeated.signatures[0];
  Status status = verify_commit(kChain, validators.set, repeated);
  EXPECT_NE(status.message().find("repeats"), std::string::npos) << status.to_string();

  Commit short_commit = commit;
  short_commit.signatures.pop_back();
  status = verify_commit(kChain, validators.set, short_commit);
  EXPECT_NE(status.message().find("more than 2/3"), std::string::npos) << status.to_string();

  Commit stranger = commit;
  stranger.signatures[0].validator = testing::test_key(99).public_key();
  status = verify_commit(kChain, validators.set, stranger);
  EXPECT_NE(status.message().find("not a validator"), std::string::npos) << status.to_string();
}

}  // namespace
}  // namespace automata::consensus
