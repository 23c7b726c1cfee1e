#include "automata/consensus/codec.h"

#include "automata/v1/consensus.pb.h"
#include "consensus_fixture.h"

#include <gtest/gtest.h>

namespace automata::consensus {
namespace {

using testing::block_id;
using testing::Validators;

TEST(Codec, RoundTripsMessages) {
  Validators validators(2);
  const Proposal proposal = validators.proposal(0, 3, 2, "B", 1);
  Proposal proposal_out;
  ASSERT_TRUE(decode_proposal(encode_proposal(proposal), &proposal_out).is_ok());
  EXPECT_EQ(proposal_out, proposal);

  const Vote nil_vote = validators.vote(1, VoteType::kPrecommit, 3, 2, std::nullopt);
  Vote vote_out;
  ASSERT_TRUE(decode_vote(encode_vote(nil_vote), &vote_out).is_ok());
  EXPECT_EQ(vote_out, nil_vote);

  const Vote vote_a = validators.vote(1, VoteType::kPrevote, 3, 2, block_id("B"));
  DuplicateVoteEvidence evidence{vote_a, nil_vote}, evidence_out;
  ASSERT_TRUE(decode_evidence(encode_evidence(evidence), &evidence_out).is_ok());
  EXPECT_EQ(evidence_out, evidence);

  Commit commit{3, 2, block_id("B"), {{vote_a.validator, vote_a.signature}}}, commit_out;
  ASSERT_TRUE(decode_commit(encode_commit(commit), &commit_out).is_ok());
  EXPECT_EQ(commit_out, commit);

  ConsensusMessage envelope_out;
  ASSERT_TRUE(decode_message(encode_message(ConsensusMessage(nil_vote)), &envelope_out).is_ok());
  ASSERT_TRUE(std::holds_alternative<Vote>(envelope_out));
  EXPECT_EQ(std::get<Vote>(envelope_out), nil_vote);
}

TEST(Codec, RoundTripsPersistedState) {
  RecoveryState state{9, 3, 2, block_id("L"), to_bytes("L"), 3, block_id("V"), to_bytes("V")}, state_out;
  ASSERT_TRUE(decode_recovery_state(encode_recovery_state(state), &state_out).is_ok());
  EXPECT_EQ(state_out, state);

  // A valid value equal to the locked one is stored once and read back
  // into both fields.
  RecoveryState same{9, 3, 2, block_id("L"), to_bytes("locked block"), 2, block_id("L"), to_bytes("locked block")};
  Bytes encoded = encode_recovery_state(same);
  RecoveryState same_out;
  ASSERT_TRUE(decode_recovery_state(encoded, &same_out).is_ok());
  EXPECT_EQ(same_out, same);
  RecoveryState locked_only = same;
  locked_only.valid_block.clear();
  locked_only.valid_hash = block_id("other");
  EXPECT_EQ(encoded.size(), encode_recovery_state(locked_only).size())
      << "the valid block is not stored a second time";

  // Without a valid hash nothing is copied.
  RecoveryState no_valid{9, 3, 2, block_id("L"), to_bytes("locked block"), -1, std::nullopt, {}};
  ASSERT_TRUE(decode_recovery_state(encode_recovery_state(no_valid), &same_out).is_ok());
  EXPECT_EQ(same_out, no_valid);

  LastSignState sign{9, 3, Step::kPrecommit, to_bytes("sign bytes"), {}}, sign_out;
  sign.signature[0] = 7;
  ASSERT_TRUE(decode_last_sign_state(encode_last_sign_state(sign), &sign_out).is_ok());
  EXPECT_EQ(sign_out, sign);
}

TEST(Codec, RejectsBadFields) {
  Validators validators(1);
  v1::Vote vote;
  vote.set_type(v1::VOTE_TYPE_PREVOTE);
  vote.set_height(1);
  vote.set_block_hash(std::string(31, 'x'));
  vote.set_validator(std::string(32, 'k'));
  vote.set_signature(std::string(64, 's'));
  Vote out;
  Status status = decode_vote(to_bytes(vote.SerializeAsString()), &out);
  EXPECT_NE(status.message().find("vote block_hash has 31 bytes"), std::string::npos) << status.to_string();

  vote.set_block_hash("");
  vote.set_type(v1::VOTE_TYPE_UNSPECIFIED);
  status = decode_vote(to_bytes(vote.SerializeAsString()), &out);
  EXPECT_NE(status.message().find("vote type 0 is invalid"), std::string::npos) << status.to_string();

  Proposal proposal = validators.proposal(0, 1, 1, "B");
  proposal.pol_round = 1;
  Proposal proposal_out;
  status = decode_proposal(encode_proposal(proposal), &proposal_out);
  EXPECT_NE(status.message().find("pol_round 1 is invalid"), std::string::npos) << status.to_string();

  const Bytes garbage{0xff, 0xff, 0xff};
  status = decode_message(garbage, nullptr);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
}

}  // namespace
}  // namespace automata::consensus
