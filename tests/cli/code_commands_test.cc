// The `automata code` commands run in-process against a fake node on
// 127.0.0.1 that stores uploaded blobs and serves canned code_* results.
#include "automata/cli/app.h"

#include "automata/cli/code_cache.h"
#include "automata/cli/code_tx.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "automata/crypto/sha256.h"
#include "automata/v1/tx.pb.h"
#include "fake_http_server.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace automata::cli {
namespace {

using nlohmann::json;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::TempDir;

std::string base64(const std::string& data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t group = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(group >> shift) & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t group = uint8_t(data[i]) << 16;
    out += std::string{kAlphabet[(group >> 18) & 63], kAlphabet[(group >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    uint32_t group = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += std::string{kAlphabet[(group >> 18) & 63], kAlphabet[(group >> 12) & 63], kAlphabet[(group >> 6) & 63],
                       '='};
  }
  return out;
}

// A node that keeps the blobs of committed CodeUploadBlobs ops, records
// every submitted tx body, and commits each tx at once with code 0.
class FakeCodeNode {
 public:
  FakeCodeNode()
      : server_([this](const std::string&, const std::string& target, const std::string& body) {
          return target == "/v1/txs" ? handle_tx_bytes(body) : handle(body);
        }) {}

  std::string url() const { return server_.url(); }

  void store_blob(const std::string& data) {
    std::lock_guard<std::mutex> lock(mutex_);
    blobs_[to_hex(crypto::sha256(as_view(data)))] = data;
  }

  std::vector<v1::TxBody> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

  // Every method called, in order.
  std::vector<std::string> methods() {
    std::lock_guard<std::mutex> lock(mutex_);
    return methods_;
  }

  // The hashes of every blobs_missing request, in order.
  std::vector<std::vector<std::string>> missing_queries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return missing_queries_;
  }

  // node_status "limits" when set; a node without them reports none.
  json limits;
  // False: return 404 for POST /v1/txs, as an older node does.
  bool serve_tx_bytes = true;
  // False: reply to tx_results with "method not found", as an older node does.
  bool serve_tx_results = true;
  // When set, every committed tx reports a version with this id created by
  // its ops 0 and 1, as a publish or commit tx does.
  std::string created_version;
  json tree_result;  // code_tree result
  json log_result;   // code_log result
  json offer_result;  // offer_get result
  std::vector<json> log_params;  // params of every code_log request
  json asset_result = {{"id", std::string(64, 'a')}, {"branches", {{"main", std::string(64, 'c')}}}};

 private:
  // Records the tx and returns its tx_submit result. Requires mutex_.
  json accept_tx(const std::string& bytes) {
    v1::Tx tx;
    tx.ParseFromString(bytes);
    v1::TxBody tx_body;
    tx_body.ParseFromString(tx.body_bytes());
    for (const auto& op : tx_body.ops()) {
      if (!op.has_code_upload_blobs()) continue;
      for (const auto& blob : op.code_upload_blobs().blobs()) blobs_[to_hex(crypto::sha256(as_view(blob)))] = blob;
    }
    bodies_.push_back(tx_body);
    return {{"hash", to_hex(crypto::sha256(as_view(tx.body_bytes())))}, {"status", "pending"}};
  }

  FakeResponse handle_tx_bytes(const std::string& body) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!serve_tx_bytes) {
      methods_.push_back("POST /v1/txs (not served)");
      return {404, R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"not served"},"id":null})"};
    }
    methods_.push_back("tx_submit");
    json reply = {{"jsonrpc", "2.0"}, {"result", accept_tx(body)}, {"id", nullptr}};
    return {200, reply.dump()};
  }

  FakeResponse handle(const std::string& body) {
    json request = json::parse(body);
    std::string method = request["method"];
    const json& params = request["params"];
    json reply = {{"jsonrpc", "2.0"}, {"id", request["id"]}};
    std::lock_guard<std::mutex> lock(mutex_);
    methods_.push_back(method);
    if (method == "node_status") {
      reply["result"] = {{"chain_id", "automata-test"}, {"height", 3}, {"min_gas_price", 1}};
      if (!limits.is_null()) reply["result"]["limits"] = limits;
    } else if (method == "account_get") {
      reply["result"] = {{"nonce", 5}, {"balances", json::array()}};
    } else if (method == "blobs_missing") {
      json missing = json::array();
      missing_queries_.emplace_back();
      for (const auto& hash : params["hashes"]) missing_queries_.back().push_back(hash.get<std::string>());
      for (const auto& hash : params["hashes"]) {
        if (blobs_.count(hash.get<std::string>()) == 0) missing.push_back(hash);
      }
      reply["result"] = {{"missing", missing}};
    } else if (method == "tx_submit") {
      auto bytes = from_hex(params["tx"].get<std::string>());
      reply["result"] = accept_tx(std::string(bytes->begin(), bytes->end()));
    } else if (method == "tx_get") {
      reply["result"] = {{"status", "committed"}, {"height", 4}, {"code", 0}, {"name", "ok"}, {"hash", params["hash"]},
                         {"created", json::array()}, {"tx", {{"ops", json::array()}}}};
    } else if (method == "tx_results" && serve_tx_results) {
      json results = json::array();
      for (const auto& hash : params["hashes"]) {
        json created = json::array();
        if (!created_version.empty()) {
          for (int index : {0, 1}) created.push_back({{"op_index", index}, {"kind", "version"}, {"id", created_version}});
        }
        results.push_back({{"status", "committed"}, {"height", 4}, {"code", 0}, {"name", "ok"}, {"hash", hash},
                           {"created", created}});
      }
      reply["result"] = {{"results", results}};
    } else if (method == "code_get") {
      reply["result"] = asset_result;
    } else if (method == "code_tree") {
      reply["result"] = tree_result;
    } else if (method == "offer_get") {
      reply["result"] = offer_result;
    } else if (method == "code_log") {
      log_params.push_back(params);
      reply["result"] = log_result;
    } else if (method == "code_blob") {
      auto it = blobs_.find(params["hash"].get<std::string>());
      if (it == blobs_.end()) {
        reply["error"] = {{"code", -32001}, {"message", "blob not found"}};
      } else {
        reply["result"] = {{"hash", it->first}, {"size", it->second.size()}, {"data_base64", base64(it->second)}};
      }
    } else {
      reply["error"] = {{"code", -32601}, {"message", "method not found: " + method}};
    }
    return FakeResponse{200, reply.dump()};
  }

  std::mutex mutex_;
  std::map<std::string, std::string> blobs_;  // guarded by mutex_
  std::vector<v1::TxBody> bodies_;            // guarded by mutex_
  std::vector<std::string> methods_;          // guarded by mutex_
  std::vector<std::vector<std::string>> missing_queries_;  // guarded by mutex_
  FakeHttpServer server_;
};

struct RunResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class CodeCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The stat cache goes to the temp dir, not the user's home.
    ::setenv(kCodeCacheDirEnv, cache_dir().c_str(), 1);
    crypto::Keyring keyring(keyring_dir(), crypto::ScryptParams{1024, 8, 1});
    ASSERT_TRUE(keyring.add("dev", crypto::PrivateKey::generate(), "", false).is_ok());
  }

  RunResult run(std::vector<std::string> args) {
    std::vector<std::string> argv = {"automata", "--node", node_.url(), "--keyring-dir", keyring_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<const char*> cargs;
    for (const auto& a : argv) cargs.push_back(a.c_str());
    std::ostringstream out;
    std::ostringstream err;
    RunResult result;
    result.exit_code = run_cli(static_cast<int>(cargs.size()), cargs.data(), out, err);
    result.out = out.str();
    result.err = err.str();
    return result;
  }

  void TearDown() override { ::unsetenv(kCodeCacheDirEnv); }

  std::string keyring_dir() const { return temp_.path() + "/keyring"; }
  std::string cache_dir() const { return temp_.path() + "/code-cache"; }

  std::string write_tree(const std::string& name, const std::map<std::string, std::string>& files) {
    std::string dir = temp_.path() + "/" + name;
    for (const auto& [path, contents] : files) {
      std::filesystem::create_directories(std::filesystem::path(dir + "/" + path).parent_path());
      std::ofstream(dir + "/" + path, std::ios::binary) << contents;
    }
    return dir;
  }

  TempDir temp_;
  FakeCodeNode node_;
};

TEST_F(CodeCommandsTest, PublishUploadsOnlyMissingBlobs) {
  node_.store_blob("already on chain\n");
  std::string dir = write_tree("tree", {{"a.txt", "already on chain\n"},
                                        {"b/c.txt", "new contents\n"},
                                        {"b/d.txt", "new contents\n"},
                                        {"e.bin", std::string("\0\1\2", 3)}});
  RunResult result = run({"code", "publish", dir, "--from", "dev", "--name", "demo", "--lang", "cpp", "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 1u) << "few blobs travel in the publish tx";
  ASSERT_EQ(bodies[0].ops_size(), 2);
  ASSERT_TRUE(bodies[0].ops(0).has_code_upload_blobs());
  std::set<std::string> uploaded(bodies[0].ops(0).code_upload_blobs().blobs().begin(),
                                 bodies[0].ops(0).code_upload_blobs().blobs().end());
  std::set<std::string> expected_uploads = {"new contents\n", std::string("\0\1\2", 3)};
  EXPECT_EQ(uploaded, expected_uploads) << "the stored blob and the duplicate are not sent";
  EXPECT_EQ(bodies[0].ops(0).code_upload_blobs().blobs_size(), 2);
  EXPECT_EQ(bodies[0].nonce(), 5u);

  ASSERT_TRUE(bodies[0].ops(1).has_code_publish());
  const v1::CodePublish& publish = bodies[0].ops(1).code_publish();
  EXPECT_EQ(publish.name(), "demo");
  ASSERT_EQ(publish.language_tags_size(), 1);
  ASSERT_EQ(publish.tree_size(), 4);
  EXPECT_EQ(publish.tree(0).path(), "a.txt");
  EXPECT_EQ(publish.tree(1).path(), "b/c.txt");
  EXPECT_EQ(publish.tree(3).path(), "e.bin");
  Hash32 c_hash = crypto::sha256(as_view("new contents\n"));
  EXPECT_EQ(publish.tree(1).blob_hash(), std::string(c_hash.begin(), c_hash.end()));

  EXPECT_NE(result.err.find("sent with the version"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("\nasset "), std::string::npos) << result.out;
}

TEST_F(CodeCommandsTest, LargeUploadSplitsIntoTxs) {
  std::map<std::string, std::string> files;
  for (char c : std::string("wxyz")) files[std::string(1, c) + ".txt"] = std::string(1500, c);
  std::string dir = write_tree("tree", files);
  // 4096-byte upload txs leave 2048 bytes for blobs: one 1500-byte blob each.
  RunResult result = run({"code", "publish", dir, "--from", "dev", "--name", "big", "--upload-tx-bytes", "4096",
                          "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_EQ(bodies.size(), 5u) << "four upload txs, then the publish tx";
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(bodies[i].ops(0).has_code_upload_blobs()) << i;
    EXPECT_EQ(bodies[i].ops(0).code_upload_blobs().blobs_size(), 1) << i;
    EXPECT_EQ(bodies[i].nonce(), 5u + i);
  }
  ASSERT_EQ(bodies[4].ops_size(), 1);
  EXPECT_TRUE(bodies[4].ops(0).has_code_publish());
  EXPECT_EQ(bodies[4].nonce(), 9u);
  EXPECT_NE(result.err.find("uploading blobs: tx 4/4, 6000/6000 bytes"), std::string::npos) << result.err;
}

TEST_F(CodeCommandsTest, UploadWaitsPollResultsOnly) {
  std::map<std::string, std::string> files;
  for (char c : std::string("wxyz")) files[std::string(1, c) + ".txt"] = std::string(1500, c);
  std::string dir = write_tree("tree", files);
  RunResult result = run({"code", "publish", dir, "--from", "dev", "--name", "big", "--upload-tx-bytes", "4096",
                          "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  std::vector<std::string> methods = node_.methods();
  EXPECT_EQ(std::count(methods.begin(), methods.end(), "tx_submit"), 5);
  EXPECT_EQ(std::count(methods.begin(), methods.end(), "tx_get"), 0) << "tx_get returns every blob again";
  EXPECT_GE(std::count(methods.begin(), methods.end(), "tx_results"), 1);
  EXPECT_NE(result.out.find("committed: height 4, code 0 (ok)"), std::string::npos) << result.out;
}

TEST_F(CodeCommandsTest, WaitFallsBackToTxGet) {
  node_.serve_tx_results = false;
  std::map<std::string, std::string> files;
  for (char c : std::string("wxyz")) files[std::string(1, c) + ".txt"] = std::string(1500, c);
  std::string dir = write_tree("tree", files);
  RunResult result = run({"code", "publish", dir, "--from", "dev", "--name", "big", "--upload-tx-bytes", "4096",
                          "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  std::vector<std::string> methods = node_.methods();
  EXPECT_EQ(std::count(methods.begin(), methods.end(), "tx_results"), 1) << "asked once, then tx_get";
  EXPECT_EQ(std::count(methods.begin(), methods.end(), "tx_get"), 5) << "one per committed tx";
  EXPECT_NE(result.out.find("committed: height 4, code 0 (ok)"), std::string::npos) << result.out;
}

TEST_F(CodeCommandsTest, SubmitFallsBackToTxSubmit) {
  node_.serve_tx_bytes = false;
  std::string dir = write_tree("tree", {{"a.txt", "a\n"}, {"b.txt", "b\n"}});
  RunResult result = run({"code", "publish", dir, "--from", "dev", "--name", "old-node", "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  std::vector<std::string> methods = node_.methods();
  EXPECT_EQ(std::count(methods.begin(), methods.end(), "POST /v1/txs (not served)"), 1);
  EXPECT_EQ(std::count(methods.begin(), methods.end(), "tx_submit"), 1) << "the tx went through tx_submit";
  ASSERT_EQ(node_.bodies().size(), 1u);
  EXPECT_TRUE(node_.bodies()[0].ops(node_.bodies()[0].ops_size() - 1).has_code_publish());
}

TEST_F(CodeCommandsTest, TreeLimitsComeFromNodeStatus) {
  // 300 KiB is above the compiled-in 256 KiB blob bound but within this
  // chain's, so the publish goes through.
  node_.limits = {{"max_tx_bytes", 1 << 20}, {"max_blob_bytes", 300 * 1024}, {"max_files_per_version", 3},
                  {"max_path_bytes", 64}};
  std::string big(280 * 1024, 'b');
  std::string dir = write_tree("tree", {{"big.bin", big}, {"a.txt", "a\n"}});
  RunResult result = run({"code", "publish", dir, "--from", "dev", "--name", "big-blobs", "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  // A chain with smaller bounds rejects before anything is sent.
  node_.limits["max_blob_bytes"] = 100;
  size_t submitted = node_.bodies().size();
  result = run({"code", "publish", dir, "--from", "dev", "--name", "small-blobs"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("big.bin"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("max blob size of 100 bytes"), std::string::npos) << result.err;

  node_.limits["max_blob_bytes"] = 1 << 20;
  std::string many = write_tree("many", {{"1.txt", "1"}, {"2.txt", "2"}, {"3.txt", "3"}, {"4.txt", "4"}});
  result = run({"code", "publish", many, "--from", "dev", "--name", "many"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("more than the max of 3 files per version"), std::string::npos) << result.err;

  std::string deep = write_tree("deep", {{std::string(70, 'p') + ".txt", "p"}});
  result = run({"code", "publish", deep, "--from", "dev", "--name", "deep"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("a path is at most 64 bytes"), std::string::npos) << result.err;
  EXPECT_EQ(node_.bodies().size(), submitted) << "no rejected publish reached the node";
}

TEST_F(CodeCommandsTest, ShowPrintsBranchesAndRules) {
  node_.asset_result = {{"id", std::string(64, 'a')},
                        {"kind", "repository"},
                        {"name", "demo"},
                        {"branches", {{"main", std::string(64, 'c')}, {"next", std::string(64, 'd')}}},
                        {"rules",
                         {{"main",
                           {{"required_approvals", 2},
                            {"reviewers", {"atm1reviewer"}},
                            {"max_change_bytes", 4096},
                            {"license_allow_list", {"MIT"}}}}}}};
  RunResult result = run({"code", "show", std::string(64, 'a')});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("name: demo"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("  main " + std::string(64, 'c')), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("  next " + std::string(64, 'd')), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("rules main: 2 of [\"atm1reviewer\"], max_change_bytes 4096, licenses [\"MIT\"]"),
            std::string::npos)
      << result.out;
}

TEST_F(CodeCommandsTest, CommitOfUnchangedTreeIsRejected) {
  std::string dir = write_tree("tree", {{"x.txt", "x\n"}});
  // The head (version cc..c, as code_get reports) has exactly this file.
  v1::TreeEntry entry;
  entry.set_path("x.txt");
  Hash32 blob = crypto::sha256(as_view("x\n"));
  entry.set_blob_hash(std::string(blob.begin(), blob.end()));
  entry.set_mode(0644);
  std::string tree_hash = to_hex(crypto::sha256(as_view(std::string(1, '\0') + entry.SerializeAsString())));
  node_.log_result = {{"versions", {{{"id", std::string(64, 'c')}, {"tree_hash", tree_hash}}}}};

  RunResult result = run({"code", "commit", std::string(64, 'a'), dir, "-m", "again", "--from", "dev"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("nothing to commit"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("--allow-empty"), std::string::npos) << result.err;
  EXPECT_TRUE(node_.bodies().empty()) << "nothing was sent";

  result = run({"code", "commit", std::string(64, 'a'), dir, "-m", "again", "--from", "dev", "--allow-empty"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  ASSERT_EQ(node_.bodies().size(), 1u);

  // A changed file is a real commit.
  std::ofstream(dir + "/x.txt", std::ios::binary | std::ios::trunc) << "y\n";
  result = run({"code", "commit", std::string(64, 'a'), dir, "-m", "change", "--from", "dev"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(node_.bodies().size(), 2u);
}

TEST_F(CodeCommandsTest, UnchangedNewlinePathTreeRejected) {
  // The stat cache leaves out a path with a newline, so it cannot tell
  // that the tree is unchanged, and the tree hashes must.
  std::string dir = write_tree("tree", {{"x.txt", "x\n"}, {"a\nb.txt", "ab\n"}});
  std::vector<CodeFile> files = {{"x.txt", crypto::sha256(as_view("x\n")), kModeRegular, 2, {}, {}},
                                 {"a\nb.txt", crypto::sha256(as_view("ab\n")), kModeRegular, 3, {}, {}}};
  const std::string head(64, 'c');
  node_.log_result = {{"versions", {{{"id", head}, {"tree_hash", to_hex(code_tree_hash(files))}}}}};
  node_.created_version = head;

  RunResult first = run({"code", "commit", std::string(64, 'a'), dir, "-m", "m", "--from", "dev", "--allow-empty",
                         "--wait"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_EQ(node_.bodies().size(), 1u);

  RunResult again = run({"code", "commit", std::string(64, 'a'), dir, "-m", "m", "--from", "dev", "--wait"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("nothing to commit"), std::string::npos) << again.err;
  EXPECT_EQ(node_.bodies().size(), 1u) << "the unchanged tree was not sent";
}

TEST_F(CodeCommandsTest, PendingJsonListsTheNewId) {
  std::string dir = write_tree("tree", {{"x.txt", "x\n"}});
  RunResult result = run({"--output", "json", "code", "publish", dir, "--name", "n", "--from", "dev"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  json printed = json::parse(result.out);
  EXPECT_EQ(printed["status"], "pending");
  ASSERT_EQ(printed["created"].size(), 1u) << printed.dump();
  const json& created = printed["created"][0];
  EXPECT_EQ(created["kind"], "asset");
  auto hash = from_hex(printed["hash"].get<std::string>());
  ASSERT_TRUE(hash.has_value());
  Hash32 tx_hash{};
  std::copy(hash->begin(), hash->end(), tx_hash.begin());
  EXPECT_EQ(created["id"], to_hex(object_id(tx_hash, created["op_index"].get<uint32_t>())));
}

TEST_F(CodeCommandsTest, OversizedTreeFailsBeforeUpload) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 60; ++i) files[std::string(90, 'p') + std::to_string(i)] = "file " + std::to_string(i);
  std::string dir = write_tree("tree", files);
  RunResult result = run({"code", "publish", dir, "--name", "n", "--from", "dev", "--max-tx-bytes", "6000"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("60 files"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("max tx size of 6000 bytes"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("fewer files or shorter paths"), std::string::npos) << result.err;
  EXPECT_TRUE(node_.bodies().empty()) << "no blob was uploaded";
}

TEST_F(CodeCommandsTest, OwnerAndWrapCheckedBeforeSending) {
  std::string dir = write_tree("tree", {{"x.txt", "x\n"}});
  crypto::KeyInfo dev;
  ASSERT_TRUE(crypto::Keyring(keyring_dir()).info("dev", &dev).is_ok());
  const std::string dev_address = crypto::encode_address(crypto::address_of(dev.pubkey));
  const std::string other_address = crypto::encode_address(Address{});
  const std::string asset(64, 'a');

  node_.asset_result["owner"] = other_address;
  RunResult commit = run({"code", "commit", asset, dir, "-m", "m", "--from", "dev", "--allow-empty"});
  EXPECT_NE(commit.exit_code, 0);
  EXPECT_NE(commit.err.find("is owned by " + other_address), std::string::npos) << commit.err;
  RunResult transfer = run({"code", "transfer", asset, dev_address, "--from", "dev"});
  EXPECT_NE(transfer.exit_code, 0);
  EXPECT_NE(transfer.err.find("only the owner can transfer it"), std::string::npos) << transfer.err;

  node_.asset_result["owner"] = nullptr;
  node_.asset_result["wrapped_by"] = std::string(64, 'e');
  RunResult offer = run({"code", "offer", asset, "5atm", "--from", "dev"});
  EXPECT_NE(offer.exit_code, 0);
  EXPECT_NE(offer.err.find("wrapped in composite " + std::string(64, 'e')), std::string::npos) << offer.err;
  EXPECT_NE(offer.err.find("decompose"), std::string::npos) << offer.err;
  EXPECT_TRUE(node_.bodies().empty()) << "no tx was sent to fail on chain";

  // The owner itself passes.
  node_.asset_result["wrapped_by"] = nullptr;
  node_.asset_result["owner"] = dev_address;
  RunResult own = run({"code", "commit", asset, dir, "-m", "m", "--from", "dev", "--allow-empty"});
  EXPECT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(node_.bodies().size(), 1u);
}

TEST_F(CodeCommandsTest, TimeoutOutOfRangeIsRejected) {
  std::string dir = write_tree("tree", {{"x.txt", "x\n"}});
  for (const char* timeout : {"-1", "86401"}) {
    RunResult result =
        run({"code", "publish", dir, "--name", "n", "--from", "dev", "--wait", "--timeout", timeout});
    EXPECT_NE(result.exit_code, 0) << timeout;
    EXPECT_NE(result.err.find("--timeout"), std::string::npos) << result.err;
  }
  EXPECT_TRUE(node_.bodies().empty()) << "nothing was sent";
}

TEST_F(CodeCommandsTest, LogPrintsAndTakesCursor) {
  const std::string version = std::string(64, 'c');
  const std::string cursor = "0000000000000007";
  node_.log_result = {{"versions", {{{"id", version}, {"parents", json::array()}, {"message", "first"}, {"height", 4}}}},
                      {"next_cursor", cursor}};

  RunResult result = run({"--output", "json", "code", "log", std::string(64, 'a'), "--limit", "1"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  json printed = json::parse(result.out);
  EXPECT_EQ(printed["next_cursor"], cursor);
  ASSERT_EQ(printed["versions"].size(), 1u);

  result = run({"code", "log", std::string(64, 'a'), "--limit", "1"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("first"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--cursor " + cursor), std::string::npos) << result.out;

  result = run({"code", "log", std::string(64, 'a'), "--limit", "1", "--cursor", cursor});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  ASSERT_FALSE(node_.log_params.empty());
  EXPECT_EQ(node_.log_params.back().value("cursor", std::string()), cursor);
}

TEST_F(CodeCommandsTest, OfferShowPrintsTermsOfSale) {
  node_.offer_result = {{"id", std::string(64, 'f')},
                        {"object_id", std::string(64, 'a')},
                        {"seller", "atm1seller"},
                        {"price", {{"denom", "atm"}, {"amount", "1000000"}}},
                        {"buyer", nullptr},
                        {"expiry_height", 9000},
                        {"commitment", std::string(64, 'd')}};
  RunResult result = run({"code", "offer-show", std::string(64, 'f')});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("object: " + std::string(64, 'a')), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("price: 1000000atm"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("buyer: anyone"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("expiry_height: 9000"), std::string::npos) << result.out;

  node_.offer_result["buyer"] = "atm1bob";
  result = run({"--output", "json", "code", "offer-show", std::string(64, 'f')});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(json::parse(result.out)["buyer"], "atm1bob");

  result = run({"code", "offer-show", "nothex"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("offer id"), std::string::npos) << result.err;
}

TEST_F(CodeCommandsTest, JsonWaitPrintsFullTx) {
  std::string dir = write_tree("tree", {{"x.txt", "x\n"}});
  RunResult result =
      run({"--output", "json", "code", "commit", std::string(64, 'a'), dir, "-m", "next", "--from", "dev", "--wait"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  json printed = json::parse(result.out);
  EXPECT_EQ(printed["status"], "committed");
  EXPECT_TRUE(printed.contains("tx")) << "the JSON output is tx_get's result: " << result.out;
}

TEST_F(CodeCommandsTest, CommitSendsExpectedHead) {
  std::string dir = write_tree("tree", {{"x.txt", "x\n"}});
  RunResult result = run({"code", "commit", std::string(64, 'a'), dir, "-m", "next", "--from", "dev"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::vector<v1::TxBody> bodies = node_.bodies();
  ASSERT_FALSE(bodies.empty());
  // The new blob travels first in the same tx, then the commit.
  ASSERT_EQ(bodies.back().ops_size(), 2);
  EXPECT_TRUE(bodies.back().ops(0).has_code_upload_blobs());
  ASSERT_TRUE(bodies.back().ops(1).has_code_commit());
  const v1::CodeCommit& commit = bodies.back().ops(1).code_commit();
  EXPECT_EQ(commit.branch(), "main");
  EXPECT_EQ(commit.message(), "next");
  EXPECT_EQ(to_hex(as_view(commit.expected_head())), std::string(64, 'c'));
  EXPECT_NE(result.out.find("pending: tx"), std::string::npos) << result.out;
}

TEST_F(CodeCommandsTest, BadInputsNameTheValue) {
  RunResult bad_id = run({"code", "commit", "xyz", temp_.path(), "-m", "m", "--from", "dev"});
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_NE(bad_id.err.find("invalid asset id 'xyz'"), std::string::npos) << bad_id.err;

  RunResult no_dir = run({"code", "publish", temp_.path() + "/none", "--from", "dev", "--name", "n"});
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_NE(no_dir.err.find("does not exist"), std::string::npos) << no_dir.err;

  RunResult royalty = run({"code", "publish", temp_.path(), "--from", "dev", "--name", "n", "--royalty-bps", "10001"});
  EXPECT_EQ(royalty.exit_code, 1);
  EXPECT_NE(royalty.err.find("10001"), std::string::npos) << royalty.err;

  RunResult approvals = run({"code", "rules", std::string(64, 'a'), "main", "--reviewer", "dev", "--approvals", "2",
                             "--from", "dev"});
  EXPECT_EQ(approvals.exit_code, 1);
  EXPECT_NE(approvals.err.find("--approvals 2"), std::string::npos) << approvals.err;

  RunResult no_from = run({"code", "transfer", std::string(64, 'a'), "dev"});
  EXPECT_NE(no_from.exit_code, 0);
  EXPECT_TRUE(node_.bodies().empty()) << "nothing may be submitted after a bad input";
}

TEST_F(CodeCommandsTest, CheckoutWritesFilesAndModes) {
  node_.store_blob("hello\n");
  node_.store_blob("#!/bin/sh\n");
  Hash32 hello = crypto::sha256(as_view("hello\n"));
  Hash32 script = crypto::sha256(as_view("#!/bin/sh\n"));
  node_.tree_result = {{"version", std::string(64, 'c')},
                       {"entries",
                        {{{"path", "bin/run"}, {"blob_hash", to_hex(script)}, {"mode", 0755}, {"size", 10}},
                         {{"path", "docs/hello.txt"}, {"blob_hash", to_hex(hello)}, {"mode", 0644}, {"size", 6}}}}};
  // The tree hash the node records, computed by hand from the two entries
  // as RFC 6962 leaves of serialized TreeEntry messages.
  auto entry = [](const std::string& path, const Hash32& hash, uint32_t mode) {
    v1::TreeEntry e;
    e.set_path(path);
    e.set_blob_hash(std::string(hash.begin(), hash.end()));
    e.set_mode(mode);
    return std::string(1, '\0') + e.SerializeAsString();
  };
  Hash32 leaf_a = crypto::sha256(as_view(entry("bin/run", script, 0755)));
  Hash32 leaf_b = crypto::sha256(as_view(entry("docs/hello.txt", hello, 0644)));
  std::string node_bytes = std::string(1, '\1') + to_string(leaf_a) + to_string(leaf_b);
  std::string tree_hash = to_hex(crypto::sha256(as_view(node_bytes)));
  node_.log_result = {{"versions", {{{"id", std::string(64, 'c')}, {"tree_hash", tree_hash}}}}};

  std::string out = temp_.path() + "/out";
  RunResult result = run({"code", "checkout", std::string(64, 'a'), "--out", out});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::ifstream in(out + "/docs/hello.txt", std::ios::binary);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(contents, "hello\n");
  auto perms = std::filesystem::status(out + "/bin/run").permissions();
  EXPECT_NE(perms & std::filesystem::perms::owner_exec, std::filesystem::perms::none);

  RunResult again = run({"code", "checkout", std::string(64, 'a'), "--out", out});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;

  // A tree that does not match the recorded hash is not written.
  node_.log_result["versions"][0]["tree_hash"] = std::string(64, '0');
  RunResult mismatch = run({"code", "checkout", std::string(64, 'a'), "--out", temp_.path() + "/out2"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("hashes to"), std::string::npos) << mismatch.err;
  EXPECT_FALSE(std::filesystem::exists(temp_.path() + "/out2/docs/hello.txt"));
}

// Sets path (a file, or every file under a directory) an hour back and
// waits until the coarse clock that stamps files passes their ctime, so
// that the stat cache trusts them. Aging a file changes its ctime, so a
// cached file passed here is read again.
void age_tree(const std::string& path) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  } else {
    files.push_back(path);
  }
  int64_t newest_ctime = 0;
  for (const auto& file : files) {
    std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
    struct stat st{};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    newest_ctime = std::max(newest_ctime, static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec);
  }
  for (int i = 0; i < 1000; ++i) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec > newest_ctime) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL() << "the coarse clock did not pass the files' ctime within a second";
}

// The serialized tree of the last commit op the node received.
std::string last_commit_tree(const std::vector<v1::TxBody>& bodies) {
  std::string tree;
  for (const auto& op : bodies.back().ops()) {
    if (!op.has_code_commit()) continue;
    for (const auto& entry : op.code_commit().tree()) tree += entry.SerializeAsString();
  }
  return tree;
}

TEST_F(CodeCommandsTest, CommitWithCacheSendsSameTree) {
  std::string dir = write_tree("tree", {{"a.txt", "a\n"}, {"b/c.txt", "c\n"}, {"run.sh", "#!/bin/sh\n"}});
  std::filesystem::permissions(dir + "/run.sh", std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
  age_tree(dir);
  std::string asset(64, 'a');
  RunResult cold = run({"code", "commit", asset, dir, "-m", "one", "--from", "dev", "--wait"});
  ASSERT_EQ(cold.exit_code, 0) << cold.out << cold.err;
  EXPECT_EQ(cold.err.find("unchanged since the stat cache"), std::string::npos) << cold.err;
  std::string cold_tree = last_commit_tree(node_.bodies());
  ASSERT_FALSE(cold_tree.empty());

  RunResult warm = run({"code", "commit", asset, dir, "-m", "two", "--from", "dev", "--wait"});
  ASSERT_EQ(warm.exit_code, 0) << warm.out << warm.err;
  EXPECT_NE(warm.err.find("scanned 3 files: 0 read, 3 unchanged since the stat cache"), std::string::npos)
      << warm.err;
  EXPECT_EQ(last_commit_tree(node_.bodies()), cold_tree);
  EXPECT_FALSE(std::filesystem::exists(dir + "/.automata")) << "the cache stays out of DIR";
}

TEST_F(CodeCommandsTest, CommitAsksOnlyHashesOutsideParent) {
  std::string dir = write_tree("tree", {{"a.txt", "a\n"}, {"b.txt", "b\n"}});
  age_tree(dir);
  std::string asset(64, 'a');
  std::string first_version(64, 'd');
  node_.created_version = first_version;
  RunResult first = run({"code", "commit", asset, dir, "-m", "one", "--from", "dev", "--wait"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_EQ(node_.missing_queries().size(), 1u);
  EXPECT_EQ(node_.missing_queries()[0].size(), 2u) << "no cache yet: every hash";

  // The branch now points at the version the first commit created.
  node_.asset_result["branches"]["main"] = first_version;
  write_tree("tree", {{"b.txt", "b changed\n"}});
  age_tree(dir + "/b.txt");
  RunResult second = run({"code", "commit", asset, dir, "-m", "two", "--from", "dev", "--wait"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  ASSERT_EQ(node_.missing_queries().size(), 2u);
  std::vector<std::string> expected = {to_hex(crypto::sha256(as_view("b changed\n")))};
  EXPECT_EQ(node_.missing_queries()[1], expected) << "a.txt is in the parent's tree";
  EXPECT_NE(second.err.find("1 read, 1 unchanged"), std::string::npos) << second.err;

  // A cache of another version than the head gives no such shortcut.
  node_.asset_result["branches"]["main"] = std::string(64, 'e');
  write_tree("tree", {{"b.txt", "b changed again\n"}});
  age_tree(dir + "/b.txt");
  RunResult third = run({"code", "commit", asset, dir, "-m", "three", "--from", "dev", "--wait"});
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  ASSERT_EQ(node_.missing_queries().size(), 3u);
  EXPECT_EQ(node_.missing_queries()[2].size(), 2u);
}

TEST_F(CodeCommandsTest, CorruptCacheWarnsAndHashesAll) {
  std::string dir = write_tree("tree", {{"a.txt", "a\n"}, {"b.txt", "b\n"}});
  age_tree(dir);
  std::string asset(64, 'a');
  RunResult first = run({"code", "commit", asset, dir, "-m", "one", "--from", "dev", "--wait"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  std::string cold_tree = last_commit_tree(node_.bodies());

  std::filesystem::path cache_file = code_cache_path(cache_dir(), asset, dir);
  ASSERT_TRUE(std::filesystem::exists(cache_file));
  // Swap the two hashes: a well-formed cache that would give a wrong tree.
  std::string text;
  ASSERT_TRUE(read_file_bytes(cache_file, &text).is_ok());
  std::string hash_a = to_hex(crypto::sha256(as_view("a\n")));
  std::string hash_b = to_hex(crypto::sha256(as_view("b\n")));
  size_t at_a = text.find(hash_a);
  size_t at_b = text.find(hash_b);
  ASSERT_NE(at_a, std::string::npos);
  ASSERT_NE(at_b, std::string::npos);
  text.replace(at_a, 64, hash_b);
  text.replace(at_b, 64, hash_a);
  std::ofstream(cache_file, std::ios::binary | std::ios::trunc) << text;

  RunResult second = run({"code", "commit", asset, dir, "-m", "two", "--from", "dev", "--wait"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_NE(second.err.find("warning: ignored the stat cache"), std::string::npos) << second.err;
  EXPECT_EQ(last_commit_tree(node_.bodies()), cold_tree);
}

}  // namespace
}  // namespace automata::cli
