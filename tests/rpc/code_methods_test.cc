// The code and object JSON-RPC methods, through Handler::handle against a
// real chain.
#include "../execution/code_fixture.h"
#include "automata/crypto/bech32.h"
#include "automata/mempool/mempool.h"
#include "automata/rpc/handler.h"
#include "automata/rpc/metrics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace automata::rpc {
namespace {

using execution::ResultCode;
using execution::testing::CodeChain;
using execution::testing::Files;
using execution::testing::Outcome;
using nlohmann::json;
namespace t = execution::testing;

std::string hex(const std::string& raw) { return to_hex(as_view(raw)); }

class CodeMethodsTest : public ::testing::Test {
 protected:
  CodeMethodsTest()
      : mempool_(&chain_.base().chain(), mempool::MempoolConfig{}),
        handler_(&chain_.base().chain(), &mempool_, node_info(), &metrics_) {}

  static NodeInfo node_info() {
    NodeInfo info;
    info.version = "test";
    info.min_gas_price = 1;
    return info;
  }

  json call(const std::string& method, const json& params) {
    json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
    return json::parse(handler_.handle(request.dump()));
  }

  json result(const std::string& method, const json& params) {
    json reply = call(method, params);
    EXPECT_TRUE(reply.contains("result")) << method << ": " << reply.dump();
    return reply.value("result", json());
  }

  void expect_error(const std::string& method, const json& params, int code, const std::string& part) {
    json reply = call(method, params);
    ASSERT_TRUE(reply.contains("error")) << method << ": " << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    EXPECT_NE(reply["error"]["message"].get<std::string>().find(part), std::string::npos) << reply.dump();
  }

  std::string address(size_t i) { return crypto::encode_address(chain_.address(i)); }

  CodeChain chain_;
  mempool::Mempool mempool_;
  Metrics metrics_;
  Handler handler_;
};

const Files kFiles = {{"src/a.cc", "alpha\n"}, {"README", "readme\n"}};

TEST_F(CodeMethodsTest, CodeGetReturnsAsset) {
  std::string id = chain_.publish(0, "demo", kFiles, 120);
  json asset = result("code_get", {{"id", hex(id)}});
  EXPECT_EQ(asset["id"], hex(id));
  EXPECT_EQ(asset["kind"], "repository");
  EXPECT_EQ(asset["name"], "demo");
  EXPECT_EQ(asset["owner"], address(0));
  EXPECT_EQ(asset["author"], address(0));
  EXPECT_EQ(asset["license"], "Apache-2.0");
  EXPECT_EQ(asset["language_tags"], json::array({"cpp"}));
  EXPECT_EQ(asset["royalty_bps"], 120);
  EXPECT_EQ(asset["branches"]["main"], hex(chain_.head(id)));
  EXPECT_TRUE(asset["wrapped_by"].is_null());
  EXPECT_EQ(asset["children"], json::array());
  EXPECT_EQ(asset["created_height"], chain_.height());

  ASSERT_EQ(chain_.run(0, {t::rules_op(id, "main", {chain_.address(1)}, 1, 99, {"MIT"})}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {t::grant_op(id, chain_.address(2), chain_.height() + 50)}).code, ResultCode::kOk);
  asset = result("code_get", {{"id", hex(id)}});
  EXPECT_EQ(asset["rules"]["main"]["reviewers"], json::array({address(1)}));
  EXPECT_EQ(asset["rules"]["main"]["required_approvals"], 1);
  EXPECT_EQ(asset["rules"]["main"]["max_change_bytes"], 99);
  EXPECT_EQ(asset["rules"]["main"]["license_allow_list"], json::array({"MIT"}));
  ASSERT_EQ(asset["rules_history"].size(), 1u);
  EXPECT_EQ(asset["rules_history"][0]["branch"], "main");
  ASSERT_EQ(asset["grants"].size(), 1u);
  EXPECT_EQ(asset["grants"][0]["grantee"], address(2));

  expect_error("code_get", {{"id", std::string(64, 'a')}}, kNotFound, "not found");
  expect_error("code_get", {{"id", "xyz"}}, kInvalidParams, "params.id");
}

TEST_F(CodeMethodsTest, CodeGetShowsCompositeAndExpiredGrantsHidden) {
  std::string a = chain_.publish(0, "a", kFiles);
  std::string version = chain_.head(a);
  Outcome compose = chain_.run(0, {t::compose_op("bundle", {{a, version}})});
  ASSERT_EQ(compose.code, ResultCode::kOk) << compose.log;
  std::string c = compose.created("composite");
  json composite = result("code_get", {{"id", hex(c)}});
  EXPECT_EQ(composite["kind"], "composite");
  ASSERT_EQ(composite["children"].size(), 1u);
  EXPECT_EQ(composite["children"][0]["asset_id"], hex(a));
  EXPECT_EQ(composite["children"][0]["version"], hex(version));
  EXPECT_EQ(result("code_get", {{"id", hex(a)}})["wrapped_by"], hex(c));
  EXPECT_TRUE(result("code_get", {{"id", hex(a)}})["owner"].is_null());
  // code_list names the wrapping composite too, for the CLI's owner column.
  bool listed = false;
  const json list = result("code_list", json::object());
  for (const json& asset : list["assets"]) {
    if (asset["id"] != hex(a)) continue;
    listed = true;
    EXPECT_TRUE(asset["owner"].is_null());
    EXPECT_EQ(asset["wrapped_by"], hex(c));
  }
  EXPECT_TRUE(listed);

  ASSERT_EQ(chain_.run(0, {t::grant_op(c, chain_.address(3), chain_.height() + 1)}).code, ResultCode::kOk);
  EXPECT_EQ(result("code_get", {{"id", hex(c)}})["grants"].size(), 1u);
  chain_.skip_block();
  chain_.skip_block();
  EXPECT_EQ(result("code_get", {{"id", hex(c)}})["grants"].size(), 0u) << "an expired grant is not listed";
}

TEST_F(CodeMethodsTest, CodeListPagesWithCursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(chain_.publish(i % 2, "asset" + std::to_string(i), kFiles));
  std::sort(ids.begin(), ids.end());

  std::vector<std::string> seen;
  json params = {{"limit", 2}};
  for (int page = 0; page < 5; ++page) {
    json list = result("code_list", params);
    for (const json& entry : list["assets"]) seen.push_back(entry["id"]);
    if (list["next_cursor"].is_null()) break;
    EXPECT_EQ(list["assets"].size(), 2u);
    params["cursor"] = list["next_cursor"];
  }
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(seen[i], hex(ids[i]));

  json by_owner = result("code_list", {{"owner", address(1)}});
  EXPECT_EQ(by_owner["assets"].size(), 2u);
  for (const json& entry : by_owner["assets"]) EXPECT_EQ(entry["owner"], address(1));
  EXPECT_TRUE(by_owner["next_cursor"].is_null());
  json by_author = result("code_list", {{"author", address(0)}});
  EXPECT_EQ(by_author["assets"].size(), 3u);

  expect_error("code_list", {{"limit", 201}}, kInvalidParams, "params.limit");
  expect_error("code_list", {{"limit", 0}}, kInvalidParams, "params.limit");
  expect_error("code_list", {{"cursor", "zz"}}, kInvalidParams, "params.cursor");
  expect_error("code_list", {{"owner", address(0)}, {"author", address(0)}}, kInvalidParams, "owner or author");
}

// Pages of a longer history with two merges: each version is listed once,
// after every version that names it as a parent, whatever the page size.
TEST_F(CodeMethodsTest, CodeLogPagesCoverLongHistory) {
  std::string id = chain_.publish(0, "a", kFiles);
  std::string root = chain_.head(id);
  ASSERT_EQ(chain_.run(0, {t::branch_op(id, "dev", v1::CodeBranch::ACTION_CREATE, root)}).code, ResultCode::kOk);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(chain_.run(0, {t::commit_op(id, "dev", {kFiles[i % 2]}, "dev")}).code, ResultCode::kOk);
      ASSERT_EQ(chain_.run(0, {t::commit_op(id, "main", {kFiles[(i + 1) % 2]}, "main")}).code, ResultCode::kOk);
    }
    Outcome merge = chain_.run(0, {t::merge_op(id, "main", chain_.head(id, "dev"), kFiles)});
    ASSERT_EQ(merge.code, ResultCode::kOk) << merge.log;
  }
  const size_t total = 1 + 2 * (6 + 1);

  for (uint64_t limit : {1u, 2u, 5u, 200u}) {
    std::vector<std::string> ids;
    std::map<std::string, std::vector<std::string>> parents;
    json params = {{"id", hex(id)}, {"limit", limit}};
    for (size_t page = 0; page <= total; ++page) {
      json log = result("code_log", params);
      EXPECT_LE(log["versions"].size(), limit);
      for (const json& version : log["versions"]) {
        ids.push_back(version["id"]);
        for (const json& parent : version["parents"]) parents[version["id"]].push_back(parent);
      }
      if (log["next_cursor"].is_null()) break;
      params["cursor"] = log["next_cursor"];
    }
    ASSERT_EQ(ids.size(), total) << "limit " << limit;
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), total) << "limit " << limit;
    EXPECT_EQ(ids.front(), hex(chain_.head(id)));
    EXPECT_EQ(ids.back(), hex(root));
    for (size_t i = 0; i < ids.size(); ++i) {
      for (const std::string& parent : parents[ids[i]]) {
        auto at = std::find(ids.begin(), ids.end(), parent);
        EXPECT_GT(at - ids.begin(), static_cast<std::ptrdiff_t>(i)) << "limit " << limit;
      }
    }
  }
}

TEST_F(CodeMethodsTest, CursorOfOtherMethodIsRejected) {
  std::string id = chain_.publish(0, "a", kFiles);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(chain_.run(0, {t::commit_op(id, "main", {kFiles[i % 2]})}).code, ResultCode::kOk);
  }
  json log = result("code_log", {{"id", hex(id)}, {"limit", 1}});
  ASSERT_TRUE(log["next_cursor"].is_string());
  expect_error("code_list", {{"cursor", log["next_cursor"]}}, kInvalidParams,
               "params.cursor: cursor belongs to code_log");
  expect_error("code_proposals", {{"id", hex(id)}, {"cursor", log["next_cursor"]}}, kInvalidParams,
               "cursor belongs to code_log");
}

TEST_F(CodeMethodsTest, CodeLogIsTopologicalAndPaged) {
  std::string id = chain_.publish(0, "a", kFiles);
  std::string root = chain_.head(id);
  ASSERT_EQ(chain_.run(0, {t::branch_op(id, "dev", v1::CodeBranch::ACTION_CREATE, root)}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {t::commit_op(id, "dev", {kFiles[0]}, "dev work")}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {t::commit_op(id, "main", {kFiles[1]}, "main work")}).code, ResultCode::kOk);
  std::string dev = chain_.head(id, "dev");
  Outcome merge = chain_.run(0, {t::merge_op(id, "main", dev, kFiles)});
  ASSERT_EQ(merge.code, ResultCode::kOk) << merge.log;

  std::vector<json> versions;
  json params = {{"id", hex(id)}, {"limit", 3}};
  for (int page = 0; page < 4; ++page) {
    json log = result("code_log", params);
    for (const json& version : log["versions"]) versions.push_back(version);
    if (log["next_cursor"].is_null()) break;
    params["cursor"] = log["next_cursor"];
  }
  ASSERT_EQ(versions.size(), 4u);
  EXPECT_EQ(versions.front()["id"], hex(chain_.head(id)));
  EXPECT_EQ(versions.front()["parents"].size(), 2u);
  EXPECT_EQ(versions.back()["id"], hex(root));
  // Every version comes before each of its parents.
  for (size_t i = 0; i < versions.size(); ++i) {
    for (const json& parent : versions[i]["parents"]) {
      bool later = false;
      for (size_t j = i + 1; j < versions.size(); ++j) later = later || versions[j]["id"] == parent;
      EXPECT_TRUE(later) << "parent " << parent << " of " << versions[i]["id"] << " is not listed after it";
    }
  }
  EXPECT_EQ(versions.back()["file_count"], 2);
  EXPECT_EQ(versions.back()["author"], address(0));
  EXPECT_EQ(versions.back()["message"], "first version");

  json dev_log = result("code_log", {{"id", hex(id)}, {"branch", "dev"}});
  EXPECT_EQ(dev_log["versions"].size(), 2u);
  json from_root = result("code_log", {{"id", hex(id)}, {"version", hex(root)}});
  EXPECT_EQ(from_root["versions"].size(), 1u);
  expect_error("code_log", {{"id", hex(id)}, {"branch", "nope"}}, kNotFound, "no branch 'nope'");
}

TEST_F(CodeMethodsTest, CodeTreeAndBlob) {
  std::string id = chain_.publish(0, "a", kFiles);
  std::string version = chain_.head(id);
  json tree = result("code_tree", {{"version", hex(version)}});
  EXPECT_EQ(tree["asset_id"], hex(id));
  ASSERT_EQ(tree["entries"].size(), 2u);
  EXPECT_EQ(tree["entries"][0]["path"], "README");
  EXPECT_EQ(tree["entries"][1]["path"], "src/a.cc");
  EXPECT_EQ(tree["entries"][1]["size"], kFiles[0].second.size());
  EXPECT_EQ(tree["entries"][1]["mode"], 0644);
  EXPECT_EQ(tree["entries"][1]["blob_hash"], hex(t::hash_of(kFiles[0].second)));

  json blob = result("code_blob", {{"hash", hex(t::hash_of("alpha\n"))}});
  EXPECT_EQ(blob["size"], 6);
  EXPECT_EQ(blob["data_base64"], "YWxwaGEK");  // base64 of "alpha\n"
  expect_error("code_blob", {{"hash", std::string(64, '0')}}, kNotFound, "not found");
  expect_error("code_tree", {{"version", std::string(64, '0')}}, kNotFound, "not found");
}

TEST_F(CodeMethodsTest, BlobsMissingListsUnknownHashes) {
  ASSERT_EQ(chain_.run(0, {t::upload_op({"stored"})}).code, ResultCode::kOk);
  std::string stored = hex(t::hash_of("stored"));
  std::string absent = hex(t::hash_of("absent"));
  json missing = result("blobs_missing", {{"hashes", {stored, absent}}});
  EXPECT_EQ(missing["missing"], json::array({absent}));
  expect_error("blobs_missing", {{"hashes", "nope"}}, kInvalidParams, "params.hashes");
  expect_error("blobs_missing", {{"hashes", {"12"}}}, kInvalidParams, "params.hashes[0]");
  expect_error("blobs_missing", json::object(), kInvalidParams, "params.hashes");
}

TEST_F(CodeMethodsTest, ProposalsFilterAndPage) {
  std::string id = chain_.publish(0, "a", kFiles);
  ASSERT_EQ(chain_.run(0, {t::rules_op(id, "main", {chain_.address(1)}, 1)}).code, ResultCode::kOk);
  std::vector<std::string> proposals;
  for (int i = 0; i < 3; ++i) {
    Outcome outcome = chain_.run(2, {t::propose_op(id, "main", {kFiles[0]}, "p" + std::to_string(i))});
    ASSERT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
    proposals.push_back(outcome.created("proposal"));
  }
  ASSERT_EQ(chain_.run(1, {t::review_op(proposals[1], true)}).code, ResultCode::kOk);

  json landed = result("code_proposals", {{"id", hex(id)}, {"status", "landed"}});
  ASSERT_EQ(landed["proposals"].size(), 1u);
  EXPECT_EQ(landed["proposals"][0]["id"], hex(proposals[1]));
  EXPECT_EQ(landed["proposals"][0]["approvals"], json::array({address(1)}));
  EXPECT_EQ(landed["proposals"][0]["landed_version"], hex(chain_.head(id)));
  EXPECT_EQ(landed["proposals"][0]["author"], address(2));

  std::set<std::string> open;
  json params = {{"id", hex(id)}, {"status", "open"}, {"limit", 1}};
  for (int page = 0; page < 3; ++page) {
    json list = result("code_proposals", params);
    for (const json& entry : list["proposals"]) {
      EXPECT_EQ(entry["status"], "open");
      open.insert(entry["id"]);
    }
    if (list["next_cursor"].is_null()) break;
    params["cursor"] = list["next_cursor"];
  }
  EXPECT_EQ(open, (std::set<std::string>{hex(proposals[0]), hex(proposals[2])}));
  expect_error("code_proposals", {{"id", hex(id)}, {"status", "merged"}}, kInvalidParams, "params.status");
}

TEST_F(CodeMethodsTest, OfferGetAndCreatedIds) {
  std::string id = chain_.publish(0, "a", kFiles);
  Outcome offer = chain_.run(0, {t::offer_op(id, "gold", 77, chain_.address(3), 500)});
  ASSERT_EQ(offer.code, ResultCode::kOk) << offer.log;
  std::string offer_id = offer.created("offer");
  json got = result("offer_get", {{"id", hex(offer_id)}});
  EXPECT_EQ(got["object_id"], hex(id));
  EXPECT_EQ(got["seller"], address(0));
  EXPECT_EQ(got["price"], (json{{"denom", "gold"}, {"amount", "77"}}));
  EXPECT_EQ(got["buyer"], address(3));
  EXPECT_EQ(got["expiry_height"], 500);
  EXPECT_EQ(got["commitment"].get<std::string>().size(), 64u);

  json tx = result("tx_get", {{"hash", hex(offer.result.tx_hash())}});
  ASSERT_EQ(tx["created"].size(), 1u);
  EXPECT_EQ(tx["created"][0]["kind"], "offer");
  EXPECT_EQ(tx["created"][0]["op_index"], 0);
  EXPECT_EQ(tx["created"][0]["id"], hex(offer_id));

  Outcome publish = chain_.run(1, {t::upload_files_op(kFiles), t::publish_op("b", kFiles)});
  json publish_tx = result("tx_get", {{"hash", hex(publish.result.tx_hash())}});
  ASSERT_EQ(publish_tx["created"].size(), 2u);
  EXPECT_EQ(publish_tx["created"][0]["kind"], "asset");
  EXPECT_EQ(publish_tx["created"][0]["op_index"], 1);
  EXPECT_EQ(publish_tx["created"][1]["kind"], "version");

  ASSERT_EQ(chain_.run(0, {t::cancel_op(offer_id)}).code, ResultCode::kOk);
  expect_error("offer_get", {{"id", hex(offer_id)}}, kNotFound, "not found");
}

TEST_F(CodeMethodsTest, TxResultsMatchTxGetWithoutBodies) {
  Outcome publish = chain_.run(1, {t::upload_files_op(kFiles), t::publish_op("b", kFiles)});
  ASSERT_EQ(publish.code, ResultCode::kOk) << publish.log;
  Outcome failed = chain_.run(0, {t::cancel_op(std::string(32, '\x05'))});
  ASSERT_TRUE(failed.included);
  ASSERT_NE(failed.code, ResultCode::kOk);
  std::string absent(64, 'e');
  std::vector<std::string> hashes = {hex(publish.result.tx_hash()), absent, hex(failed.result.tx_hash())};

  json results = result("tx_results", {{"hashes", hashes}})["results"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1], (json{{"hash", absent}, {"status", "not_committed"}}));
  for (size_t i : {size_t{0}, size_t{2}}) {
    json full = result("tx_get", {{"hash", hashes[i]}});
    const json& entry = results[i];
    EXPECT_EQ(entry["hash"], hashes[i]);
    EXPECT_EQ(entry["status"], "committed");
    EXPECT_FALSE(entry.contains("tx")) << "no tx body, so no blob bytes";
    for (const char* field : {"code", "name", "log", "gas_used", "height", "index", "created"}) {
      EXPECT_EQ(entry[field], full[field]) << field << " of result " << i;
    }
  }
  EXPECT_EQ(results[0]["created"].size(), 2u);
  EXPECT_NE(results[2]["code"], 0);

  expect_error("tx_results", {{"hashes", "nope"}}, kInvalidParams, "params.hashes");
  expect_error("tx_results", {{"hashes", {"12"}}}, kInvalidParams, "params.hashes[0]");
  expect_error("tx_results", json::object(), kInvalidParams, "params.hashes");
  expect_error("tx_results", {{"hashes", json::array()}, {"extra", 1}}, kInvalidParams, "extra");
  expect_error("tx_results", {{"hashes", std::vector<std::string>(1001, absent)}}, kInvalidParams, "maximum is 1000");
}

}  // namespace
}  // namespace automata::rpc
