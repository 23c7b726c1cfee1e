#include "automata/consensus/signer.h"

#include "consensus_fixture.h"

#include <gtest/gtest.h>

namespace automata::consensus {
namespace {

using testing::block_id;
using testing::kChain;

Bytes prevote_bytes(int64_t round, std::string_view label) {
  return vote_sign_bytes(kChain, VoteType::kPrevote, 7, round, block_id(label));
}

class RecordingStore : public SignStateStore {
 public:
  Status save(const LastSignState& state) override {
    if (fail) return Status::io_error("disk full");
    saved.push_back(state);
    return Status::ok();
  }
  bool fail = false;
  std::vector<LastSignState> saved;
};

TEST(KeySigner, RefusesConflictingVote) {
  KeySigner signer(testing::test_key(0));
  crypto::Signature first{};
  ASSERT_TRUE(signer.sign(7, 0, Step::kPrevote, prevote_bytes(0, "A"), &first).is_ok());
  EXPECT_TRUE(verify_signature(signer.public_key(), prevote_bytes(0, "A"), first));

  crypto::Signature second{};
  Status status = signer.sign(7, 0, Step::kPrevote, prevote_bytes(0, "B"), &second);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(status.message().find("second, different prevote"), std::string::npos) << status.to_string();
  EXPECT_EQ(second, crypto::Signature{});
}

TEST(KeySigner, RepeatsSameSignature) {
  KeySigner signer(testing::test_key(0));
  crypto::Signature first{}, again{};
  ASSERT_TRUE(signer.sign(7, 0, Step::kPrevote, prevote_bytes(0, "A"), &first).is_ok());
  ASSERT_TRUE(signer.sign(7, 0, Step::kPrevote, prevote_bytes(0, "A"), &again).is_ok());
  EXPECT_EQ(first, again);
}

TEST(KeySigner, RefusesRegression) {
  KeySigner signer(testing::test_key(0));
  crypto::Signature signature{};
  ASSERT_TRUE(signer.sign(7, 2, Step::kPrecommit,
                          vote_sign_bytes(kChain, VoteType::kPrecommit, 7, 2, std::nullopt), &signature).is_ok());
  EXPECT_FALSE(signer.sign(7, 2, Step::kPrevote, prevote_bytes(2, "A"), &signature).is_ok());
  EXPECT_FALSE(signer.sign(7, 1, Step::kPrecommit, prevote_bytes(1, "A"), &signature).is_ok());
  EXPECT_FALSE(signer.sign(6, 9, Step::kPrevote, prevote_bytes(9, "A"), &signature).is_ok());
  EXPECT_TRUE(signer.sign(7, 3, Step::kPropose, prevote_bytes(3, "A"), &signature).is_ok());
}

TEST(KeySigner, RestoredStateStillRefuses) {
  KeySigner signer(testing::test_key(0));
  crypto::Signature signature{};
  ASSERT_TRUE(signer.sign(7, 0, Step::kPrevote, prevote_bytes(0, "A"), &signature).is_ok());
  KeySigner restored(testing::test_key(0), signer.last_sign_state());
  EXPECT_FALSE(restored.sign(7, 0, Step::kPrevote, prevote_bytes(0, "B"), &signature).is_ok());
}

TEST(KeySigner, SavesBeforeSigning) {
  RecordingStore store;
  KeySigner signer(testing::test_key(0), {}, &store);
  crypto::Signature signature{};
  ASSERT_TRUE(signer.sign(7, 0, Step::kPrevote, prevote_bytes(0, "A"), &signature).is_ok());
  ASSERT_EQ(store.saved.size(), 1u);
  EXPECT_EQ(store.saved[0].height, 7u);
  EXPECT_EQ(store.saved[0].signature, signature);

  store.fail = true;
  crypto::Signature refused{};
  Status status = signer.sign(7, 1, Step::kPrevote, prevote_bytes(1, "A"), &refused);
  EXPECT_EQ(status.kind(), Status::Kind::kIoError);
  EXPECT_EQ(refused, crypto::Signature{});
  EXPECT_EQ(signer.last_sign_state().round, 0);
}

TEST(KeySigner, RejectsHeightZero) {
  KeySigner signer(testing::test_key(0));
  crypto::Signature signature{};
  Status status = signer.sign(0, 0, Step::kPrevote, prevote_bytes(0, "A"), &signature);
  EXPECT_NE(status.message().find("height 0"), std::string::npos) << status.to_string();
}

TEST(SignBytes, BindChainAndFields) {
  const Bytes base = vote_sign_bytes(kChain, VoteType::kPrevote, 1, 0, block_id("A"));
  EXPECT_NE(base, vote_sign_bytes("other", VoteType::kPrevote, 1, 0, block_id("A")));
  EXPECT_NE(base, vote_sign_bytes(kChain, VoteType::kPrecommit, 1, 0, block_id("A")));
  EXPECT_NE(base, vote_sign_bytes(kChain, VoteType::kPrevote, 2, 0, block_id("A")));
  EXPECT_NE(base, vote_sign_bytes(kChain, VoteType::kPrevote, 1, 1, block_id("A")));
  EXPECT_NE(base, vote_sign_bytes(kChain, VoteType::kPrevote, 1, 0, std::nullopt));
  Proposal proposal;
  proposal.height = 1;
  proposal.block_hash = block_id("A");
  EXPECT_NE(proposal_sign_bytes(kChain, proposal), base);
}

}  // namespace
}  // namespace automata::consensus
