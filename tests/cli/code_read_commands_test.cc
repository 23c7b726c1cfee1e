// The read commands of `automata code` (list, log, checkout, offer-show)
// run in-process against a fake node on 127.0.0.1, writing checkouts into
// real temp directories.
#include "automata/cli/app.h"

#include "automata/cli/code_cache.h"
#include "automata/cli/code_tree.h"
#include "automata/crypto/keyring.h"
#include "automata/crypto/sha256.h"
#include "fake_http_server.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace automata::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeHttpServer;
using testing::FakeResponse;
using testing::TempDir;

const std::string kAsset(64, 'a');
const std::string kComposite(64, 'b');
const std::string kVersion(64, 'c');
const std::string kOffer(64, 'f');

std::string base64(const std::string& data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < data.size(); i += 3) {
    uint32_t group = uint32_t(uint8_t(data[i])) << 16;
    if (i + 1 < data.size()) group |= uint32_t(uint8_t(data[i + 1])) << 8;
    if (i + 2 < data.size()) group |= uint8_t(data[i + 2]);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(group >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kAlphabet[group & 63] : '=';
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A node that serves the read methods from the fields below. code_list
// pages through `assets` with cursors of its own format. code_get, code_log
// and offer_get return "not found" (-32001) while their field is null, as
// the real node does for a missing object.
class FakeReadNode {
 public:
  FakeReadNode() : server_([this](const std::string&, const std::string&, const std::string& body) {
    return handle(body);
  }) {}

  std::string url() const { return server_.url(); }

  // Serves files as the tree of kVersion, the main head of kAsset.
  void serve_version(const std::map<std::string, std::string>& files) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<CodeFile> tree;
    json entries = json::array();
    for (const auto& [path, contents] : files) {
      CodeFile file;
      file.path = path;
      file.blob_hash = crypto::sha256(as_view(contents));
      file.mode = kModeRegular;
      file.size = contents.size();
      tree.push_back(file);
      blobs_[to_hex(file.blob_hash)] = contents;
      entries.push_back(
          {{"path", path}, {"blob_hash", to_hex(file.blob_hash)}, {"mode", kModeRegular}, {"size", contents.size()}});
    }
    tree_result_ = {{"version", kVersion}, {"entries", entries}};
    log_result_ = {{"versions", {{{"id", kVersion}, {"tree_hash", to_hex(code_tree_hash(tree))}}}},
                   {"next_cursor", nullptr}};
    asset_result_ = {{"id", kAsset}, {"kind", "repository"}, {"branches", {{"main", kVersion}}}};
  }

  void set_assets(json assets) {
    std::lock_guard<std::mutex> lock(mutex_);
    assets_ = std::move(assets);
  }
  void set_asset_result(json result) {
    std::lock_guard<std::mutex> lock(mutex_);
    asset_result_ = std::move(result);
  }
  void set_log_result(json result) {
    std::lock_guard<std::mutex> lock(mutex_);
    log_result_ = std::move(result);
  }
  void set_offer_result(json result) {
    std::lock_guard<std::mutex> lock(mutex_);
    offer_result_ = std::move(result);
  }
  void set_proposals_result(json result) {
    std::lock_guard<std::mutex> lock(mutex_);
    proposals_result_ = std::move(result);
  }

  // The params of every code_list request, in order.
  std::vector<json> list_params() {
    std::lock_guard<std::mutex> lock(mutex_);
    return list_params_;
  }

 private:
  static json not_found(const std::string& message) { return {{"code", -32001}, {"message", message}}; }

  FakeResponse handle(const std::string& body) {
    json request = json::parse(body);
    const std::string method = request["method"];
    const json& params = request["params"];
    json reply = {{"jsonrpc", "2.0"}, {"id", request["id"]}};
    std::lock_guard<std::mutex> lock(mutex_);
    if (method == "code_list") {
      list_params_.push_back(params);
      // The cursor names the index of the next asset to send.
      size_t start = 0;
      if (params.contains("cursor")) start = std::stoul(params["cursor"].get<std::string>().substr(4));
      size_t limit = params.value("limit", size_t{100});
      json page = json::array();
      for (size_t i = start; i < assets_.size() && page.size() < limit; ++i) page.push_back(assets_[i]);
      size_t next = start + page.size();
      reply["result"] = {{"assets", page},
                         {"next_cursor", next < assets_.size() ? json("pos-" + std::to_string(next)) : json(nullptr)}};
    } else if (method == "code_get") {
      if (asset_result_.is_null()) {
        reply["error"] = not_found("code asset " + params["id"].get<std::string>() + " not found");
      } else {
        reply["result"] = asset_result_;
      }
    } else if (method == "code_log") {
      if (log_result_.is_null()) {
        reply["error"] = not_found("asset " + params["id"].get<std::string>() + " has no branch 'main'");
      } else {
        reply["result"] = log_result_;
      }
    } else if (method == "code_tree") {
      reply["result"] = tree_result_;
    } else if (method == "code_blob") {
      auto it = blobs_.find(params["hash"].get<std::string>());
      if (it == blobs_.end()) {
        reply["error"] = not_found("blob not found");
      } else {
        reply["result"] = {{"hash", it->first}, {"size", it->second.size()}, {"data_base64", base64(it->second)}};
      }
    } else if (method == "offer_get") {
      if (offer_result_.is_null()) {
        reply["error"] = not_found("offer " + params["id"].get<std::string>() + " not found");
      } else {
        reply["result"] = offer_result_;
      }
    } else if (method == "code_proposals") {
      reply["result"] = proposals_result_;
    } else {
      reply["error"] = {{"code", -32601}, {"message", "method not found: " + method}};
    }
    return FakeResponse{200, reply.dump()};
  }

  std::mutex mutex_;
  json assets_ = json::array();              // guarded by mutex_
  json asset_result_;                        // guarded by mutex_
  json log_result_;                          // guarded by mutex_
  json tree_result_;                         // guarded by mutex_
  json offer_result_;                        // guarded by mutex_
  json proposals_result_;                    // guarded by mutex_
  std::map<std::string, std::string> blobs_;  // guarded by mutex_
  std::vector<json> list_params_;            // guarded by mutex_
  FakeHttpServer server_;
};

struct RunResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class CodeReadCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The stat cache of a checkout goes to the temp dir, not the user's home.
    ::setenv(kCodeCacheDirEnv, (temp_.path() + "/code-cache").c_str(), 1);
    crypto::Keyring keyring(keyring_dir(), crypto::ScryptParams{1024, 8, 1});
    ASSERT_TRUE(keyring.add("dev", crypto::PrivateKey::generate(), "", false).is_ok());
  }

  void TearDown() override { ::unsetenv(kCodeCacheDirEnv); }

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

  std::string keyring_dir() const { return temp_.path() + "/keyring"; }

  TempDir temp_;
  FakeReadNode node_;
};

TEST_F(CodeReadCommandsTest, ListShowsWrappedOwner) {
  node_.set_assets(json::array({
      {{"id", std::string(64, '1')}, {"kind", "repository"}, {"name", "free"}, {"owner", "atm1owner"},
       {"author", "atm1author"}},
      {{"id", std::string(64, '2')}, {"kind", "repository"}, {"name", "wrapped"}, {"owner", nullptr},
       {"author", "atm1author"}},
      {{"id", std::string(64, '3')}, {"kind", "repository"}, {"name", nullptr}, {"owner", nullptr},
       {"author", nullptr}, {"wrapped_by", kComposite}},
  }));
  RunResult result = run({"code", "list"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find(std::string(64, '1') + " repository free owner atm1owner\n"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(std::string(64, '2') + " repository wrapped owner none (wrapped)\n"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("owner (wrapped in " + kComposite + ")"), std::string::npos) << result.out;

  // The author filter takes a key name and reads the same null fields.
  RunResult by_author = run({"code", "list", "--author", "dev"});
  ASSERT_EQ(by_author.exit_code, 0) << by_author.out << by_author.err;
  EXPECT_NE(by_author.out.find("owner none (wrapped)"), std::string::npos) << by_author.out;
  ASSERT_FALSE(node_.list_params().empty());
  EXPECT_TRUE(node_.list_params().back().contains("author")) << node_.list_params().back().dump();

  RunResult as_json = run({"--output", "json", "code", "list"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.out << as_json.err;
  json printed = json::parse(as_json.out);
  EXPECT_TRUE(printed["assets"][1]["owner"].is_null()) << as_json.out;
}

TEST_F(CodeReadCommandsTest, NullFieldsDoNotAbort) {
  node_.set_offer_result({{"id", kOffer}, {"object_id", kAsset}, {"seller", nullptr}, {"price", nullptr},
                          {"buyer", nullptr}, {"expiry_height", nullptr}, {"commitment", nullptr}});
  RunResult offer = run({"code", "offer-show", kOffer});
  ASSERT_EQ(offer.exit_code, 0) << offer.out << offer.err;
  EXPECT_NE(offer.out.find("buyer: anyone"), std::string::npos) << offer.out;

  node_.set_proposals_result(
      {{"proposals", {{{"id", std::string(64, '9')}, {"status", "open"}, {"branch", nullptr}, {"message", nullptr},
                       {"approvals", nullptr}, {"landed_version", nullptr}}}}});
  RunResult proposals = run({"code", "proposals", kAsset});
  ASSERT_EQ(proposals.exit_code, 0) << proposals.out << proposals.err;
  EXPECT_NE(proposals.out.find("open branch , 0 approvals"), std::string::npos) << proposals.out;

  node_.set_asset_result({{"id", kAsset},
                          {"kind", "repository"},
                          {"owner", nullptr},
                          {"branches", {{"main", kVersion}}},
                          {"children", {{{"asset_id", nullptr}, {"version", nullptr}}}},
                          {"rules", {{"main", nullptr}}}});
  node_.set_log_result({{"versions", {{{"id", kVersion}, {"parents", {nullptr}}, {"message", nullptr}}}}});
  RunResult log = run({"code", "log", kAsset});
  ASSERT_EQ(log.exit_code, 0) << log.out << log.err;
  EXPECT_NE(log.out.find(kVersion.substr(0, 12)), std::string::npos) << log.out;
  RunResult show = run({"code", "show", kAsset});
  ASSERT_EQ(show.exit_code, 0) << show.out << show.err;
  EXPECT_NE(show.out.find("owner: null"), std::string::npos) << show.out;
}

TEST_F(CodeReadCommandsTest, ListCursorReachesNextPage) {
  json assets = json::array();
  for (char c : std::string("12345")) {
    assets.push_back({{"id", std::string(64, c)}, {"kind", "repository"}, {"name", std::string("n") + c},
                      {"owner", "atm1owner"}, {"author", "atm1author"}});
  }
  node_.set_assets(assets);

  RunResult first = run({"code", "list", "--limit", "2"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find(" n2 "), std::string::npos) << first.out;
  EXPECT_EQ(first.out.find(" n3 "), std::string::npos) << first.out;
  const std::string marker = "(more assets: add --cursor ";
  size_t at = first.out.find(marker);
  ASSERT_NE(at, std::string::npos) << first.out;
  std::string cursor = first.out.substr(at + marker.size(), first.out.find(')', at) - at - marker.size());
  EXPECT_EQ(cursor, "pos-2");

  RunResult second = run({"code", "list", "--limit", "2", "--cursor", cursor});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(node_.list_params().back().value("cursor", std::string()), cursor);
  EXPECT_EQ(second.out.find(" n2 "), std::string::npos) << second.out;
  EXPECT_NE(second.out.find(" n3 "), std::string::npos) << second.out;
  EXPECT_NE(second.out.find(" n4 "), std::string::npos) << second.out;

  // JSON keeps the node's next_cursor, null on the last page.
  RunResult as_json = run({"--output", "json", "code", "list", "--limit", "2", "--cursor", "pos-2"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.out << as_json.err;
  json page = json::parse(as_json.out);
  EXPECT_EQ(page["next_cursor"], "pos-4") << as_json.out;
  ASSERT_EQ(page["assets"].size(), 2u);
  EXPECT_EQ(page["assets"][0]["name"], "n3");

  RunResult last = run({"--output", "json", "code", "list", "--limit", "2", "--cursor", "pos-4"});
  ASSERT_EQ(last.exit_code, 0) << last.out << last.err;
  json last_page = json::parse(last.out);
  EXPECT_TRUE(last_page["next_cursor"].is_null()) << last.out;
  EXPECT_EQ(last_page["assets"].size(), 1u);
  RunResult last_text = run({"code", "list", "--limit", "2", "--cursor", "pos-4"});
  EXPECT_EQ(last_text.out.find("--cursor"), std::string::npos) << last_text.out;
}

TEST_F(CodeReadCommandsTest, CheckoutReplacesFileSymlink) {
  node_.serve_version({{"a.txt", "from the version\n"}, {"b.txt", "second\n"}});
  const std::string out = temp_.path() + "/out";
  const std::string victim = temp_.path() + "/victim.txt";
  const std::string linked = temp_.path() + "/linked.txt";
  fs::create_directories(out);
  std::ofstream(victim) << "precious\n";
  std::ofstream(linked) << "hard linked\n";
  fs::create_symlink("../victim.txt", out + "/a.txt");
  fs::create_hard_link(linked, out + "/b.txt");

  RunResult without_force = run({"code", "checkout", kAsset, "--out", out});
  EXPECT_EQ(without_force.exit_code, 1);
  EXPECT_NE(without_force.err.find("not empty"), std::string::npos) << without_force.err;

  RunResult result = run({"code", "checkout", kAsset, "--out", out, "--force"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(read_text(victim), "precious\n");
  EXPECT_EQ(read_text(linked), "hard linked\n");
  EXPECT_FALSE(fs::is_symlink(out + "/a.txt"));
  EXPECT_EQ(read_text(out + "/a.txt"), "from the version\n");
  EXPECT_EQ(read_text(out + "/b.txt"), "second\n");
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_EQ(entry.path().filename().string().rfind(".automata-checkout-", 0), std::string::npos)
        << "temporary file left behind: " << entry.path();
  }
}

TEST_F(CodeReadCommandsTest, CheckoutReplacesDirectorySymlink) {
  node_.serve_version({{"sub/deep/c.txt", "deep\n"}, {"sub/x.txt", "x\n"}});
  const std::string out = temp_.path() + "/out";
  const std::string elsewhere = temp_.path() + "/elsewhere";
  fs::create_directories(out);
  fs::create_directories(elsewhere);
  std::ofstream(elsewhere + "/x.txt") << "outside\n";
  fs::create_symlink("../elsewhere", out + "/sub");

  RunResult result = run({"code", "checkout", kAsset, "--out", out, "--force"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(read_text(elsewhere + "/x.txt"), "outside\n");
  EXPECT_FALSE(fs::exists(elsewhere + "/deep"));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(out + "/sub")));
  EXPECT_EQ(read_text(out + "/sub/x.txt"), "x\n");
  EXPECT_EQ(read_text(out + "/sub/deep/c.txt"), "deep\n");
}

TEST_F(CodeReadCommandsTest, CheckoutRejectsDirectoryInWay) {
  node_.serve_version({{"x", "file\n"}});
  const std::string out = temp_.path() + "/out";
  fs::create_directories(out + "/x");
  RunResult result = run({"code", "checkout", kAsset, "--out", out, "--force"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("cannot write " + out + "/x: it is a directory"), std::string::npos) << result.err;
  EXPECT_TRUE(fs::is_directory(out + "/x"));
}

TEST_F(CodeReadCommandsTest, CompositeLogAndCheckoutExplained) {
  node_.set_asset_result({{"id", kComposite},
                          {"kind", "composite"},
                          {"branches", json::object()},
                          {"children", {{{"asset_id", kAsset}, {"version", kVersion}}}}});
  RunResult log = run({"code", "log", kComposite});
  EXPECT_EQ(log.exit_code, 1);
  EXPECT_NE(log.err.find("is a composite, which has no versions to log"), std::string::npos) << log.err;
  EXPECT_NE(log.err.find("automata code show " + kComposite), std::string::npos) << log.err;
  EXPECT_EQ(log.err.find("has no branch"), std::string::npos) << log.err;

  const std::string out = temp_.path() + "/out";
  RunResult checkout = run({"code", "checkout", kComposite, "--out", out});
  EXPECT_EQ(checkout.exit_code, 1);
  EXPECT_NE(checkout.err.find("is a composite, which has no versions to check out"), std::string::npos)
      << checkout.err;
  EXPECT_NE(checkout.err.find("automata code show " + kComposite), std::string::npos) << checkout.err;

  // A repository without the branch keeps the node's message.
  node_.set_asset_result({{"id", kAsset}, {"kind", "repository"}, {"branches", json::object()}});
  RunResult plain = run({"code", "log", kAsset});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.err.find("has no branch 'main'"), std::string::npos) << plain.err;
}

TEST_F(CodeReadCommandsTest, OfferShowClosedOffer) {
  RunResult result = run({"code", "offer-show", kOffer});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no open offer has id " + kOffer), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("accepted or cancelled, or never existed"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace automata::cli
