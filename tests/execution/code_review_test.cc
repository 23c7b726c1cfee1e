// Review rules on protected branches: proposals land only with enough
// approvals from listed reviewers.
#include "code_fixture.h"

#include <gtest/gtest.h>

namespace automata::execution::testing {
namespace {

const Files kFiles = {{"lib.cc", "int f() { return 1; }\n"}};
const Files kChange = {{"lib.cc", "int f() { return 2; }\n"}};

// Owner is key 0; reviewers are keys 1, 2 and 3; key 4 is an outsider.
class CodeReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = chain_.publish(0, "reviewed", kFiles);
    Outcome rules = chain_.run(0, {rules_op(id_, "main", reviewers(), 2)});
    ASSERT_EQ(rules.code, ResultCode::kOk) << rules.log;
    ASSERT_EQ(chain_.run(4, {upload_files_op(kChange)}).code, ResultCode::kOk);
  }

  std::vector<Address> reviewers() { return {chain_.address(1), chain_.address(2), chain_.address(3)}; }

  std::string propose(size_t key, const Files& files) {
    Outcome outcome = chain_.run(key, {propose_op(id_, "main", files)});
    EXPECT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
    return outcome.created("proposal");
  }

  v1::CodeProposal proposal(const std::string& id) {
    v1::CodeProposal out;
    EXPECT_TRUE(chain_.read(keys::proposal(as_view(id)), &out));
    return out;
  }

  CodeChain chain_;
  std::string id_;
};

TEST_F(CodeReviewTest, ProtectedBranchRejectsCommitAndMerge) {
  std::string head = chain_.head(id_);
  Outcome commit = chain_.run(0, {commit_op(id_, "main", kChange)});
  EXPECT_EQ(commit.code, ResultCode::kBranchProtected);
  EXPECT_NE(commit.log.find("code_propose"), std::string::npos) << commit.log;
  Outcome merge = chain_.run(0, {merge_op(id_, "main", head, kChange)});
  EXPECT_EQ(merge.code, ResultCode::kBranchProtected);
  Outcome move = chain_.run(0, {branch_op(id_, "main", v1::CodeBranch::ACTION_MOVE, head)});
  EXPECT_EQ(move.code, ResultCode::kBranchProtected);
  EXPECT_EQ(chain_.head(id_), head);
}

TEST_F(CodeReviewTest, ProposalLandsAfterTwoOfThreeApprovals) {
  std::string head = chain_.head(id_);
  std::string id = propose(4, kChange);
  EXPECT_EQ(proposal(id).status(), v1::CodeProposal::STATUS_OPEN);

  Outcome first = chain_.run(1, {review_op(id, true)});
  ASSERT_EQ(first.code, ResultCode::kOk) << first.log;
  EXPECT_EQ(proposal(id).status(), v1::CodeProposal::STATUS_OPEN);
  EXPECT_EQ(chain_.head(id_), head) << "one approval of two must not land";

  // The same reviewer approving again still counts once.
  ASSERT_EQ(chain_.run(1, {review_op(id, true)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.head(id_), head);

  Outcome second = chain_.run(2, {review_op(id, true)});
  ASSERT_EQ(second.code, ResultCode::kOk) << second.log;
  v1::CodeProposal landed = proposal(id);
  EXPECT_EQ(landed.status(), v1::CodeProposal::STATUS_LANDED);
  std::string version = second.created("version");
  EXPECT_EQ(landed.landed_version(), version);
  EXPECT_EQ(chain_.head(id_), version);
  v1::StoredVersion stored = chain_.version(version);
  ASSERT_EQ(stored.version().parents_size(), 1);
  EXPECT_EQ(stored.version().parents(0), head);
  EXPECT_EQ(stored.version().author(), raw(chain_.address(4)));

  Outcome late = chain_.run(3, {review_op(id, true)});
  EXPECT_EQ(late.code, ResultCode::kProposalClosed);
}

TEST_F(CodeReviewTest, NonReviewerCannotApprove) {
  std::string id = propose(4, kChange);
  Outcome outsider = chain_.run(4, {review_op(id, true)});
  EXPECT_EQ(outsider.code, ResultCode::kNotReviewer);
  Outcome owner = chain_.run(0, {review_op(id, true)});
  EXPECT_EQ(owner.code, ResultCode::kNotReviewer);
  ASSERT_EQ(chain_.run(1, {review_op(id, true)}).code, ResultCode::kOk);
  EXPECT_EQ(proposal(id).status(), v1::CodeProposal::STATUS_OPEN);
  EXPECT_EQ(proposal(id).approvals_size(), 1);
}

TEST_F(CodeReviewTest, OneRejectionDoesNotBlock) {
  std::string id = propose(4, kChange);
  ASSERT_EQ(chain_.run(3, {review_op(id, false)}).code, ResultCode::kOk);
  EXPECT_EQ(proposal(id).status(), v1::CodeProposal::STATUS_OPEN);
  ASSERT_EQ(chain_.run(1, {review_op(id, true)}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(2, {review_op(id, true)}).code, ResultCode::kOk);
  EXPECT_EQ(proposal(id).status(), v1::CodeProposal::STATUS_LANDED);
}

TEST_F(CodeReviewTest, TwoRejectionsCloseProposal) {
  std::string id = propose(4, kChange);
  ASSERT_EQ(chain_.run(2, {review_op(id, false)}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(3, {review_op(id, false)}).code, ResultCode::kOk);
  EXPECT_EQ(proposal(id).status(), v1::CodeProposal::STATUS_REJECTED);
  EXPECT_EQ(chain_.run(1, {review_op(id, true)}).code, ResultCode::kProposalClosed);
}

TEST_F(CodeReviewTest, ProposalLandsOnMovedHead) {
  std::string a = propose(4, kChange);
  Files other = {{"lib.cc", "int f() { return 1; }\n"}, {"extra.txt", "more\n"}};
  ASSERT_EQ(chain_.run(4, {upload_files_op(other)}).code, ResultCode::kOk);
  std::string b = propose(4, other);
  for (size_t reviewer : {1, 2}) ASSERT_EQ(chain_.run(reviewer, {review_op(b, true)}).code, ResultCode::kOk);
  std::string moved = chain_.head(id_);
  ASSERT_EQ(proposal(b).landed_version(), moved);

  for (size_t reviewer : {1, 2}) ASSERT_EQ(chain_.run(reviewer, {review_op(a, true)}).code, ResultCode::kOk);
  v1::StoredVersion stored = chain_.version(chain_.head(id_));
  ASSERT_EQ(stored.version().parents_size(), 1);
  EXPECT_EQ(stored.version().parents(0), moved);
  EXPECT_EQ(stored.file_count(), 1u) << "a proposal's tree is its content, not a diff";
}

TEST_F(CodeReviewTest, RulesChangesAreRecorded) {
  v1::CodeAsset asset = chain_.asset(id_);
  ASSERT_EQ(asset.rules_history_size(), 1);
  EXPECT_EQ(asset.rules_history(0).required_approvals(), 2u);
  EXPECT_EQ(asset.rules_history(0).branch(), "main");

  Outcome outsider = chain_.run(4, {rules_op(id_, "main", {}, 0)});
  EXPECT_EQ(outsider.code, ResultCode::kNotOwner);

  ASSERT_EQ(chain_.run(0, {rules_op(id_, "main", {}, 0)}).code, ResultCode::kOk);
  asset = chain_.asset(id_);
  ASSERT_EQ(asset.rules_history_size(), 2);
  EXPECT_EQ(asset.rules_history(1).required_approvals(), 0u);
  EXPECT_EQ(asset.rules_history(1).height(), chain_.height());
  EXPECT_EQ(asset.rules_size(), 0);
  // Unprotected again: the owner commits and proposals are refused.
  EXPECT_EQ(chain_.run(0, {commit_op(id_, "main", kChange)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.run(4, {propose_op(id_, "main", kChange)}).code, ResultCode::kBranchNotProtected);
}

TEST_F(CodeReviewTest, RequiredAboveReviewerCountIsInvalid) {
  Outcome outcome = chain_.run(0, {rules_op(id_, "main", {chain_.address(1)}, 2)});
  EXPECT_EQ(outcome.code, ResultCode::kInvalidOp);
  EXPECT_FALSE(outcome.included);
}

TEST_F(CodeReviewTest, LicenseAllowListAndSizeBound) {
  ASSERT_EQ(chain_.run(0, {rules_op(id_, "main", reviewers(), 2, 0, {"MIT"})}).code, ResultCode::kOk);
  Outcome license = chain_.run(4, {propose_op(id_, "main", kChange)});
  EXPECT_EQ(license.code, ResultCode::kLicenseNotAllowed);
  EXPECT_NE(license.log.find("Apache-2.0"), std::string::npos) << license.log;

  ASSERT_EQ(chain_.run(0, {rules_op(id_, "main", reviewers(), 2, 10, {"Apache-2.0"})}).code, ResultCode::kOk);
  Outcome size = chain_.run(4, {propose_op(id_, "main", kChange)});
  EXPECT_EQ(size.code, ResultCode::kChangeTooLarge);
  EXPECT_NE(size.log.find("max_change_bytes"), std::string::npos) << size.log;
  // An unchanged file costs nothing against the bound.
  EXPECT_EQ(chain_.run(4, {propose_op(id_, "main", kFiles)}).code, ResultCode::kOk);
}

TEST_F(CodeReviewTest, TransferClearsApprovals) {
  std::string id = propose(4, kChange);
  ASSERT_EQ(chain_.run(1, {review_op(id, true)}).code, ResultCode::kOk);
  ASSERT_EQ(proposal(id).approvals_size(), 1);
  ASSERT_EQ(chain_.run(0, {transfer_object_op(id_, chain_.address(5))}).code, ResultCode::kOk);
  EXPECT_EQ(proposal(id).approvals_size(), 0);
  EXPECT_EQ(chain_.object(id_).owner(), raw(chain_.address(5)));
}

}  // namespace
}  // namespace automata::execution::testing
