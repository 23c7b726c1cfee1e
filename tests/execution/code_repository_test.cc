// Code assets as repositories: blobs, publish, commit, branches, merge and
// the bounds on what an op may carry.
#include "automata/crypto/merkle.h"
#include "code_fixture.h"

#include <gtest/gtest.h>

#include <map>

namespace automata::execution::testing {
namespace {

const Files kFiles = {{"src/main.cc", "int main() { return 0; }\n"}, {"README.md", "# demo\n"}};

TEST(CodeRepository, PublishUsesBlobsUploadedInEarlierTx) {
  CodeChain chain;
  Outcome upload = chain.run(0, {upload_files_op(kFiles)});
  ASSERT_EQ(upload.code, ResultCode::kOk) << upload.log;
  EXPECT_TRUE(chain.has_blob(kFiles[0].second));

  Outcome publish = chain.run(0, {publish_op("demo", kFiles, 250)});
  ASSERT_EQ(publish.code, ResultCode::kOk) << publish.log;
  std::string id = publish.created("asset");
  std::string version = publish.created("version");

  v1::ObjectEnvelope object = chain.object(id);
  EXPECT_EQ(object.type(), "code.repository");
  EXPECT_EQ(object.owner(), raw(chain.address(0)));
  EXPECT_EQ(object.created_height(), chain.height());
  v1::CodeAsset asset = chain.asset(id);
  EXPECT_EQ(asset.name(), "demo");
  EXPECT_EQ(asset.author(), raw(chain.address(0)));
  EXPECT_EQ(asset.royalty_bps(), 250u);
  EXPECT_EQ(chain.head(id), version);

  // The id rule: SHA-256("automata/object" || tx hash || u32 op index).
  Hash32 tx_hash{};
  std::copy_n(publish.result.tx_hash().begin(), 32, tx_hash.begin());
  uint8_t index[4] = {0, 0, 0, 0};
  Hash32 expected = crypto::sha256_concat({as_view(std::string_view("automata/object")), tx_hash, ByteView(index, 4)});
  EXPECT_EQ(id, raw(expected));

  // The tree hash is the RFC 6962 root over the entries sorted by path.
  v1::StoredVersion stored = chain.version(version);
  EXPECT_EQ(stored.file_count(), 2u);
  EXPECT_TRUE(stored.version().parents().empty());
  std::vector<Bytes> leaves;
  for (const auto& [path, content] : Files{kFiles[1], kFiles[0]}) {
    v1::TreeEntry entry;
    entry.set_path(path);
    entry.set_blob_hash(hash_of(content));
    entry.set_mode(0644);
    leaves.push_back(to_bytes(entry.SerializeAsString()));
  }
  EXPECT_EQ(stored.version().tree_hash(), raw(crypto::merkle_root(leaves)));
  // The version id is SHA-256 of the serialized CodeVersion.
  EXPECT_EQ(version, raw(crypto::sha256(as_view(stored.version().SerializeAsString()))));
}

TEST(CodeRepository, PublishWithoutBlobFailsNamingPath) {
  CodeChain chain;
  Outcome outcome = chain.run(0, {publish_op("demo", kFiles)});
  EXPECT_EQ(outcome.code, ResultCode::kBlobMissing);
  EXPECT_NE(outcome.log.find("README.md"), std::string::npos) << outcome.log;
  EXPECT_TRUE(outcome.result.created().empty());
}

TEST(CodeRepository, UploadOfStoredBlobCostsLessGas) {
  CodeChain chain;
  std::string blob(100'000, 'x');
  Outcome first = chain.run(0, {upload_op({blob})});
  ASSERT_EQ(first.code, ResultCode::kOk) << first.log;
  Outcome again = chain.run(0, {upload_op({blob})});
  ASSERT_EQ(again.code, ResultCode::kOk) << again.log;
  // Same tx size, but the second upload stores nothing.
  EXPECT_LT(again.result.gas_used() + 100'000, first.result.gas_used());
}

TEST(CodeRepository, CommitAdvancesBranchWithParent) {
  CodeChain chain;
  std::string id = chain.publish(0, "demo", kFiles);
  std::string first = chain.head(id);

  Files changed = {{"src/main.cc", "int main() { return 1; }\n"}, {"README.md", "# demo\n"}};
  Outcome commit = chain.run(0, {upload_op({changed[0].second}), commit_op(id, "main", changed)});
  ASSERT_EQ(commit.code, ResultCode::kOk) << commit.log;
  std::string second = commit.created("version");
  EXPECT_EQ(chain.head(id), second);
  v1::StoredVersion stored = chain.version(second);
  ASSERT_EQ(stored.version().parents_size(), 1);
  EXPECT_EQ(stored.version().parents(0), first);
  EXPECT_GT(stored.seq(), chain.version(first).seq());
}

TEST(CodeRepository, CommitRecordsBlobSizesFromParentAndUploads) {
  CodeChain chain;
  std::string id = chain.publish(0, "demo", kFiles);
  // main.cc keeps its blob, README.md is renamed (same blob, so its size
  // comes from the parent's tree) and notes.txt is new in this tx.
  Files next = {kFiles[0], {"docs/README.md", kFiles[1].second}, {"notes.txt", "three\nlines\nhere\n"}};
  Outcome commit = chain.run(0, {upload_op({next[2].second}), commit_op(id, "main", next)});
  ASSERT_EQ(commit.code, ResultCode::kOk) << commit.log;

  v1::StoredVersion stored = chain.version(commit.created("version"));
  v1::CodeTree tree;
  ASSERT_TRUE(chain.read(keys::tree(as_view(stored.version().tree_hash())), &tree));
  std::map<std::string, uint64_t> sizes;
  for (const auto& entry : tree.entries()) sizes[entry.path()] = entry.size();
  EXPECT_EQ(sizes, (std::map<std::string, uint64_t>{{"docs/README.md", kFiles[1].second.size()},
                                                    {"notes.txt", next[2].second.size()},
                                                    {"src/main.cc", kFiles[0].second.size()}}));

  // A blob in neither the parent's tree nor the store is still refused.
  Outcome missing = chain.run(0, {commit_op(id, "main", {{"new.txt", "never uploaded\n"}})});
  EXPECT_EQ(missing.code, ResultCode::kBlobMissing) << missing.log;
  EXPECT_NE(missing.log.find("new.txt"), std::string::npos) << missing.log;
}

TEST(CodeRepository, CommitWithStaleExpectedHeadFails) {
  CodeChain chain;
  std::string id = chain.publish(0, "demo", kFiles);
  std::string first = chain.head(id);
  ASSERT_EQ(chain.run(0, {commit_op(id, "main", {kFiles[0]})}).code, ResultCode::kOk);

  Outcome stale = chain.run(0, {commit_op(id, "main", kFiles, "again", first)});
  EXPECT_EQ(stale.code, ResultCode::kHeadMismatch);
  EXPECT_NE(stale.log.find(to_hex(as_view(first))), std::string::npos) << stale.log;
}

TEST(CodeRepository, OnlyOwnerCommits) {
  CodeChain chain;
  std::string id = chain.publish(0, "demo", kFiles);
  Outcome outcome = chain.run(1, {commit_op(id, "main", kFiles)});
  EXPECT_EQ(outcome.code, ResultCode::kNotOwner);
  Outcome missing = chain.run(0, {commit_op(std::string(32, '\x07'), "main", kFiles)});
  EXPECT_EQ(missing.code, ResultCode::kObjectNotFound);
}

TEST(CodeRepository, BranchCreateMoveDelete) {
  CodeChain chain;
  std::string id = chain.publish(0, "demo", kFiles);
  std::string first = chain.head(id);
  ASSERT_EQ(chain.run(0, {commit_op(id, "main", {kFiles[0]})}).code, ResultCode::kOk);
  std::string second = chain.head(id);

  Outcome create = chain.run(0, {branch_op(id, "feature/x", v1::CodeBranch::ACTION_CREATE, first)});
  ASSERT_EQ(create.code, ResultCode::kOk) << create.log;
  EXPECT_EQ(chain.head(id, "feature/x"), first);
  EXPECT_EQ(chain.run(0, {branch_op(id, "feature/x", v1::CodeBranch::ACTION_CREATE, first)}).code,
            ResultCode::kBranchExists);

  Outcome move = chain.run(0, {branch_op(id, "feature/x", v1::CodeBranch::ACTION_MOVE, second)});
  ASSERT_EQ(move.code, ResultCode::kOk) << move.log;
  EXPECT_EQ(chain.head(id, "feature/x"), second);

  Outcome unknown_target = chain.run(0, {branch_op(id, "other", v1::CodeBranch::ACTION_CREATE, std::string(32, 'z'))});
  EXPECT_EQ(unknown_target.code, ResultCode::kObjectNotFound);

  Outcome remove = chain.run(0, {branch_op(id, "feature/x", v1::CodeBranch::ACTION_DELETE)});
  ASSERT_EQ(remove.code, ResultCode::kOk) << remove.log;
  EXPECT_EQ(chain.head(id, "feature/x"), "");
  EXPECT_EQ(chain.run(0, {branch_op(id, "feature/x", v1::CodeBranch::ACTION_MOVE, first)}).code,
            ResultCode::kBranchNotFound);

  Outcome bad_name = chain.run(0, {branch_op(id, "../x", v1::CodeBranch::ACTION_CREATE, first)});
  EXPECT_EQ(bad_name.code, ResultCode::kInvalidOp);
  EXPECT_FALSE(bad_name.included);
}

TEST(CodeRepository, MergeRecordsTwoParents) {
  CodeChain chain;
  std::string id = chain.publish(0, "demo", kFiles);
  std::string base = chain.head(id);
  ASSERT_EQ(chain.run(0, {branch_op(id, "dev", v1::CodeBranch::ACTION_CREATE, base)}).code, ResultCode::kOk);
  Files dev_files = {{"dev.txt", "dev work\n"}};
  ASSERT_EQ(chain.run(0, {upload_files_op(dev_files), commit_op(id, "dev", dev_files)}).code, ResultCode::kOk);
  ASSERT_EQ(chain.run(0, {commit_op(id, "main", {kFiles[1]})}).code, ResultCode::kOk);
  std::string main_head = chain.head(id);
  std::string dev_head = chain.head(id, "dev");

  Files merged = {kFiles[1], dev_files[0]};
  Outcome merge = chain.run(0, {merge_op(id, "main", dev_head, merged)});
  ASSERT_EQ(merge.code, ResultCode::kOk) << merge.log;
  v1::StoredVersion stored = chain.version(merge.created("version"));
  ASSERT_EQ(stored.version().parents_size(), 2);
  EXPECT_EQ(stored.version().parents(0), main_head);
  EXPECT_EQ(stored.version().parents(1), dev_head);
  EXPECT_EQ(chain.head(id), merge.created("version"));
}

TEST(CodeRepository, BlobAboveBoundIsRejectedNamingBound) {
  CodeChain chain;
  std::string big(256 * 1024 + 1, 'b');
  Outcome outcome = chain.run(0, {upload_op({big})});
  EXPECT_EQ(outcome.code, ResultCode::kBlobTooLarge);
  EXPECT_FALSE(outcome.included);
  EXPECT_NE(outcome.log.find("max_blob_bytes"), std::string::npos) << outcome.log;
  EXPECT_NE(outcome.log.find(std::to_string(big.size())), std::string::npos) << outcome.log;

  std::string fits(256 * 1024, 'b');
  EXPECT_EQ(chain.run(0, {upload_op({fits})}).code, ResultCode::kOk);
}

TEST(CodeRepository, TooManyFilesIsRejectedNamingBound) {
  ChainParameters params = code_params();
  params.max_files_per_version = 3;
  CodeChain chain(2, params);
  Files files = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};
  Outcome outcome = chain.run(0, {upload_files_op(files), publish_op("many", files)});
  EXPECT_EQ(outcome.code, ResultCode::kTooManyFiles);
  EXPECT_NE(outcome.log.find("max_files_per_version is 3"), std::string::npos) << outcome.log;

  files.pop_back();
  EXPECT_EQ(chain.run(0, {upload_files_op(files), publish_op("three", files)}).code, ResultCode::kOk);
}

TEST(CodeRepository, DefaultFileBoundIsTenThousand) {
  CodeChain chain(2);
  Files files;
  for (int i = 0; i < 10'001; ++i) files.emplace_back("f" + std::to_string(i), "same");
  Outcome outcome = chain.run(0, {publish_op("huge", files)});
  EXPECT_EQ(outcome.code, ResultCode::kTooManyFiles);
  EXPECT_NE(outcome.log.find("10001 files"), std::string::npos) << outcome.log;
}

TEST(CodeRepository, PathRulesAreEnforced) {
  CodeChain chain(2);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"/abs", "starts with '/'"},
      {"a/../b", "'..'"},
      {"./a", "'.' segment"},
      {"a//b", "empty segment"},
      {"a\\b", "backslash"},
      {std::string("a\0b", 3), "NUL"},
      {"dir/", "ends with '/'"},
      {std::string(513, 'p'), "max_path_bytes is 512"},
  };
  for (const auto& [path, rule] : cases) {
    Outcome outcome = chain.run(0, {publish_op("paths", {{path, "x"}})});
    EXPECT_EQ(outcome.code, ResultCode::kInvalidPath) << "path '" << path << "': " << outcome.log;
    EXPECT_NE(outcome.log.find(rule), std::string::npos) << outcome.log;
  }
  Outcome duplicate = chain.run(0, {publish_op("paths", {{"a", "x"}, {"a", "y"}})});
  EXPECT_EQ(duplicate.code, ResultCode::kInvalidPath);
  EXPECT_NE(duplicate.log.find("more than once"), std::string::npos) << duplicate.log;

  Files fine = {{std::string(512, 'p'), "x"}};
  EXPECT_EQ(chain.run(0, {upload_files_op(fine), publish_op("ok", fine)}).code, ResultCode::kOk);
}

TEST(CodeRepository, TxAboveMaxTxBytesIsRejected) {
  CodeChain chain(2);
  // Five blobs of 250 KiB each fit the blob bound but not one 1 MiB tx.
  std::vector<std::string> blobs;
  for (char c = 'a'; c < 'f'; ++c) blobs.emplace_back(250 * 1024, c);
  Outcome outcome = chain.run(0, {upload_op(blobs)});
  EXPECT_EQ(outcome.code, ResultCode::kTxTooLarge);
  EXPECT_NE(outcome.log.find("the maximum is 1048576"), std::string::npos) << outcome.log;

  blobs.resize(3);
  EXPECT_EQ(chain.run(0, {upload_op(blobs)}).code, ResultCode::kOk);
}

TEST(CodeRepository, OpWithoutHandlerFieldIsInvalid) {
  CodeChain chain(2);
  Outcome outcome = chain.run(0, {v1::Op()});
  EXPECT_EQ(outcome.code, ResultCode::kInvalidOp);
  EXPECT_FALSE(outcome.included);
}

}  // namespace
}  // namespace automata::execution::testing
