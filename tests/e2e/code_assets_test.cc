// End-to-end: code assets on a real automatad dev node, driven by the real
// automata CLI. Publishes this repository's own src/ and include/, versions
// them, reviews changes to a protected branch, composes and sells assets.
#include "automata/crypto/bech32.h"
#include "e2e/node_process.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

namespace automata::e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The repository root: AUTOMATA_TESTDATA_DIR is <repo>/tests/testdata.
fs::path repo_root() { return fs::path(AUTOMATA_TESTDATA_DIR).parent_path().parent_path(); }

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const fs::path& path, const std::string& contents) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

// Every regular file under dir: relative path to (contents, executable).
std::map<std::string, std::pair<std::string, bool>> snapshot(const fs::path& dir) {
  std::map<std::string, std::pair<std::string, bool>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    bool executable = (entry.status().permissions() & fs::perms::owner_exec) != fs::perms::none;
    files[entry.path().lexically_relative(dir).generic_string()] = {read_all(entry.path()), executable};
  }
  return files;
}

// Asserts that two directories hold the same paths, bytes and exec bits.
void expect_same_tree(const fs::path& expected_dir, const fs::path& actual_dir) {
  auto expected = snapshot(expected_dir);
  auto actual = snapshot(actual_dir);
  ASSERT_EQ(actual.size(), expected.size()) << expected_dir << " vs " << actual_dir;
  for (const auto& [path, file] : expected) {
    auto it = actual.find(path);
    ASSERT_NE(it, actual.end()) << path << " missing from " << actual_dir;
    EXPECT_TRUE(it->second.first == file.first) << path << " differs in " << actual_dir;
    EXPECT_EQ(it->second.second, file.second) << path << " has another exec bit in " << actual_dir;
  }
}

// The id printed on a "<label> <64 hex>" line of the CLI output.
std::string printed_id(const std::string& output, const std::string& label) {
  std::smatch m;
  std::regex pattern("(^|\n)" + label + " ([0-9a-f]{64})");
  return std::regex_search(output, m, pattern) ? m[2].str() : "";
}

// The lane drawing of a `code log` line: everything before the short id.
std::string graph_shape(const std::string& line) {
  size_t end = line.find_first_of("0123456789abcdef");
  std::string shape = line.substr(0, end);
  shape.erase(shape.find_last_not_of(' ') + 1);
  return shape;
}

class CodeAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    ASSERT_TRUE(node_.start(&log)) << log;
    work_ = node_.root() / "work";
    fs::create_directories(work_);
    // The CLI processes inherit this, so their stat cache stays in the
    // node's temp root.
    ::setenv("AUTOMATA_CODE_CACHE_DIR", (node_.root() / "code-cache").c_str(), 1);
  }

  void TearDown() override { ::unsetenv("AUTOMATA_CODE_CACHE_DIR"); }

  // Runs the CLI and asserts exit code 0.
  CommandResult ok(const std::vector<std::string>& args) {
    CommandResult result = node_.cli(args);
    EXPECT_EQ(result.exit_code, 0) << "automata " << join(args) << "\n" << result.out << result.err;
    return result;
  }

  static std::string join(const std::vector<std::string>& args) {
    std::string text;
    for (const auto& arg : args) text += arg + " ";
    return text;
  }

  // Creates a key with the empty passphrase, funds it from dev and returns
  // its address.
  std::string funded_key(const std::string& name) {
    ok({"keys", "add", name, "--no-passphrase"});
    auto shown = ok({"--output", "json", "keys", "show", name});
    std::string address = json::parse(shown.out, nullptr, false).value("address", std::string());
    EXPECT_FALSE(address.empty()) << shown.out;
    ok({"tx", "send", "dev", address, "100000000000atm", "--wait"});
    return address;
  }

  std::string balance(const std::string& address) {
    json reply = node_.rpc("account_get", {{"address", address}});
    for (const auto& coin : reply["result"].value("balances", json::array())) {
      if (coin.value("denom", "") == "atm") return coin.value("amount", "0");
    }
    return "0";
  }

  json code_get(const std::string& id) {
    json reply = node_.rpc("code_get", {{"id", id}});
    EXPECT_TRUE(reply.contains("result")) << reply.dump();
    return reply.value("result", json::object());
  }

  // Publishes dir and returns the asset id the CLI printed.
  std::string publish(const fs::path& dir, const std::string& from, const std::string& name,
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"code", "publish", dir.string(), "--from", from, "--name", name, "--wait"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto result = ok(args);
    std::string id = printed_id(result.out, "asset");
    EXPECT_EQ(id.size(), 64u) << result.out << result.err;
    return id;
  }

  // A small tree with the given files.
  fs::path small_tree(const std::string& name, const std::map<std::string, std::string>& files) {
    fs::path dir = work_ / name;
    for (const auto& [path, contents] : files) write_all(dir / path, contents);
    return dir;
  }

  DevNode node_;
  fs::path work_;
};

TEST_F(CodeAssetsTest, RepositoryVersionsRoundTrip) {
  // v1: a snapshot of this repository's src/ and include/.
  fs::path v1 = work_ / "v1";
  fs::create_directories(v1);
  fs::copy(repo_root() / "src", v1 / "src", fs::copy_options::recursive);
  fs::copy(repo_root() / "include", v1 / "include", fs::copy_options::recursive);
  write_all(v1 / "tools/run.sh", "#!/bin/sh\necho run\n");
  fs::permissions(v1 / "tools/run.sh", fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  std::string asset = publish(v1, "dev", "automata", {"--license", "Apache-2.0", "--lang", "cpp"});
  ASSERT_FALSE(asset.empty());

  // v2 on main: two files changed, one removed, one added.
  fs::path v2 = work_ / "v2";
  fs::copy(v1, v2, fs::copy_options::recursive);
  write_all(v2 / "src/cli/app.cc", read_all(v2 / "src/cli/app.cc") + "// changed in v2\n");
  write_all(v2 / "include/automata/cli/app.h", "// replaced in v2\n");
  fs::remove(v2 / "src/cli/coins.cc");
  write_all(v2 / "NOTES.md", "notes\n");
  ok({"code", "commit", asset, v2.string(), "-m", "second version", "--from", "dev", "--wait"});

  // A feature branch from v2 gets v3, while main gets v4.
  ok({"code", "branch", asset, "create", "feature", "--from", "dev", "--wait"});
  fs::path v3 = work_ / "v3";
  fs::copy(v2, v3, fs::copy_options::recursive);
  write_all(v3 / "src/cli/rpc_client.cc", read_all(v3 / "src/cli/rpc_client.cc") + "// feature\n");
  ok({"code", "commit", asset, v3.string(), "-m", "feature work", "--branch", "feature", "--from", "dev", "--wait"});

  fs::path v4 = work_ / "v4";
  fs::copy(v2, v4, fs::copy_options::recursive);
  write_all(v4 / "NOTES.md", "notes\nmore notes\n");
  ok({"code", "commit", asset, v4.string(), "-m", "main work", "--from", "dev", "--wait"});

  // v5 merges feature into main with both changes.
  fs::path v5 = work_ / "v5";
  fs::copy(v4, v5, fs::copy_options::recursive);
  fs::copy_file(v3 / "src/cli/rpc_client.cc", v5 / "src/cli/rpc_client.cc", fs::copy_options::overwrite_existing);
  ok({"code", "merge", asset, "feature", v5.string(), "-m", "merge feature", "--from", "dev", "--wait"});

  // The log of main draws the branch and the merge.
  auto log = ok({"code", "log", asset});
  std::vector<std::string> lines;
  std::stringstream stream(log.out);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  std::vector<std::string> shapes;
  for (const auto& line : lines) shapes.push_back(graph_shape(line));
  std::vector<std::string> expected_shapes = {"*", "|\\", "* |", "| *", "|/", "*", "*"};
  ASSERT_EQ(shapes, expected_shapes) << log.out;
  EXPECT_NE(lines[0].find("merge feature"), std::string::npos) << log.out;
  EXPECT_NE(lines[2].find("main work"), std::string::npos) << log.out;
  EXPECT_NE(lines[3].find("feature work"), std::string::npos) << log.out;
  EXPECT_NE(lines[5].find("second version"), std::string::npos) << log.out;
  EXPECT_NE(lines[6].find("initial version"), std::string::npos) << log.out;

  // Every version checks out byte for byte, modes included.
  json history = node_.rpc("code_log", {{"id", asset}, {"branch", "main"}, {"limit", 10}});
  ASSERT_TRUE(history.contains("result")) << history.dump();
  std::map<std::string, fs::path> source_of = {{"initial version", v1},
                                               {"second version", v2},
                                               {"feature work", v3},
                                               {"main work", v4},
                                               {"merge feature", v5}};
  const json versions = history["result"]["versions"];
  ASSERT_EQ(versions.size(), 5u) << history.dump();
  EXPECT_EQ(versions[0]["parents"].size(), 2u) << "the merge has two parents";
  for (const auto& version : versions) {
    std::string message = version.value("message", "");
    ASSERT_EQ(source_of.count(message), 1u) << message;
    fs::path out = work_ / ("checkout-" + version.value("id", std::string()).substr(0, 8));
    ok({"code", "checkout", asset, version.value("id", ""), "--out", out.string()});
    expect_same_tree(source_of[message], out);
  }

  // A non-empty directory needs --force.
  auto refused = node_.cli({"code", "checkout", asset, "--out", v1.string()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("not empty"), std::string::npos) << refused.err;

  // diff lists what changed between v1 and main, with a unified diff.
  auto diff = ok({"code", "diff", versions[4].value("id", ""), asset + ":main"});
  EXPECT_NE(diff.out.find("changed: src/cli/app.cc"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("removed: src/cli/coins.cc"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("added: NOTES.md"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("+// changed in v2\n"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("changed: src/cli/tx_builder.cc"), std::string::npos) << "unchanged file listed";
}

TEST_F(CodeAssetsTest, ProtectedBranchLandsAfterTwoApprovals) {
  std::vector<std::string> reviewers;
  for (const char* name : {"r1", "r2", "r3"}) reviewers.push_back(funded_key(name));
  fs::path v1 = small_tree("p1", {{"lib.cc", "int f() { return 1; }\n"}});
  std::string asset = publish(v1, "dev", "reviewed", {"--license", "MIT"});
  ASSERT_FALSE(asset.empty());
  ok({"code", "rules", asset, "main", "--reviewer", "r1", "--reviewer", "r2", "--reviewer", "r3", "--approvals",
      "2", "--license", "MIT", "--from", "dev", "--wait"});

  fs::path v2 = small_tree("p2", {{"lib.cc", "int f() { return 2; }\n"}, {"lib.h", "int f();\n"}});
  auto direct = node_.cli({"code", "commit", asset, v2.string(), "-m", "direct", "--from", "dev", "--wait"});
  EXPECT_NE(direct.exit_code, 0) << direct.out;
  EXPECT_NE((direct.out + direct.err).find("branch_protected"), std::string::npos) << direct.out << direct.err;

  auto proposed = ok({"code", "propose", asset, v2.string(), "-m", "return 2", "--from", "dev", "--wait"});
  std::string proposal = printed_id(proposed.out, "proposal");
  ASSERT_EQ(proposal.size(), 64u) << proposed.out;

  auto status_of = [&] {
    json reply = node_.rpc("code_proposals", {{"id", asset}});
    for (const auto& p : reply["result"].value("proposals", json::array())) {
      if (p.value("id", "") == proposal) return p;
    }
    return json();
  };
  ok({"code", "review", proposal, "--approve", "--from", "r1", "--wait"});
  EXPECT_EQ(status_of().value("status", ""), "open");
  ok({"code", "review", proposal, "--reject", "-m", "prefer 3", "--from", "r3", "--wait"});
  EXPECT_EQ(status_of().value("status", ""), "open") << "one rejection does not block";
  ok({"code", "review", proposal, "--approve", "--from", "r2", "--wait"});
  json landed = status_of();
  ASSERT_EQ(landed.value("status", ""), "landed") << landed.dump();

  json asset_json = code_get(asset);
  EXPECT_EQ(asset_json["branches"]["main"], landed["landed_version"]);
  fs::path out = work_ / "landed";
  ok({"code", "checkout", asset, "main", "--out", out.string()});
  expect_same_tree(v2, out);
  auto listed = ok({"code", "proposals", asset});
  EXPECT_NE(listed.out.find("landed"), std::string::npos) << listed.out;
}

TEST_F(CodeAssetsTest, CompositesWrapStripAndPayRoyalties) {
  std::string alice = funded_key("alice");
  std::string bob = funded_key("bob");
  std::string carol = funded_key("carol");
  std::string buyer = funded_key("buyer");
  auto shown = ok({"--output", "json", "keys", "show", "dev"});
  std::string dev = json::parse(shown.out).value("address", "");

  // Three parts by three authors, each with its own royalty, all moved to
  // dev, who composes and sells them.
  std::string part_a = publish(small_tree("a", {{"a.txt", "A\n"}}), "alice", "part-a", {"--royalty-bps", "500"});
  std::string part_b = publish(small_tree("b", {{"b.txt", "B\n"}}), "bob", "part-b", {"--royalty-bps", "250"});
  std::string part_c = publish(small_tree("c", {{"c.txt", "C\n"}}), "carol", "part-c", {"--royalty-bps", "125"});
  ok({"code", "transfer", part_a, "dev", "--from", "alice", "--wait"});
  ok({"code", "transfer", part_b, "dev", "--from", "bob", "--wait"});
  ok({"code", "transfer", part_c, "dev", "--from", "carol", "--wait"});

  auto composed = ok({"code", "compose", "bundle", part_a, part_b, part_c, "--from", "dev", "--wait"});
  std::string bundle = printed_id(composed.out, "composite");
  ASSERT_EQ(bundle.size(), 64u) << composed.out;
  EXPECT_EQ(code_get(part_a).value("wrapped_by", json()), bundle);

  // A wrapped child cannot move on its own. The CLI reads the asset first
  // and refuses before sending a tx that the chain would reject with
  // object_wrapped (the executor's tests cover that rejection).
  auto moved = node_.cli({"code", "transfer", part_a, buyer, "--from", "dev", "--wait"});
  EXPECT_NE(moved.exit_code, 0) << moved.out;
  EXPECT_NE(moved.err.find("is wrapped in composite " + bundle), std::string::npos) << moved.out << moved.err;
  EXPECT_NE(moved.err.find("no one can transfer it on its own"), std::string::npos) << moved.err;

  // A composite that would contain a child twice over (bundle already
  // contains part_a) is a cycle.
  auto cycle = node_.cli({"code", "compose", "loop", bundle, part_a, "--from", "dev", "--wait"});
  EXPECT_NE(cycle.exit_code, 0) << cycle.out;
  EXPECT_NE((cycle.out + cycle.err).find("composition_cycle"), std::string::npos) << cycle.out << cycle.err;

  // An offer on the composite fails once the composite is stripped.
  auto offered = ok({"code", "offer", bundle, "1000atm", "--from", "dev", "--wait"});
  std::string stale_offer = printed_id(offered.out, "offer");
  ASSERT_EQ(stale_offer.size(), 64u) << offered.out;
  ok({"code", "decompose", bundle, "--from", "dev", "--wait"});
  auto stale = node_.cli({"code", "accept", stale_offer, "--from", "buyer", "--wait"});
  EXPECT_NE(stale.exit_code, 0) << stale.out;
  EXPECT_EQ(code_get(part_a).value("owner", ""), dev) << "decompose returns children to the owner";

  // A fresh composite sells; royalties and the seller's share add up to
  // the price.
  composed = ok({"code", "compose", "bundle2", part_a, part_b, part_c, "--from", "dev", "--wait"});
  std::string bundle2 = printed_id(composed.out, "composite");
  ASSERT_EQ(bundle2.size(), 64u) << composed.out;
  const uint64_t price = 1'000'003;
  offered = ok({"code", "offer", bundle2, std::to_string(price) + "atm", "--buyer", "buyer", "--from", "dev", "--wait"});
  std::string offer = printed_id(offered.out, "offer");
  ASSERT_EQ(offer.size(), 64u) << offered.out;

  std::map<std::string, uint64_t> before;
  for (const auto& address : {alice, bob, carol, dev}) before[address] = std::stoull(balance(address));
  ok({"code", "accept", offer, "--from", "buyer", "--wait"});
  std::map<std::string, uint64_t> gained;
  for (const auto& address : {alice, bob, carol, dev}) gained[address] = std::stoull(balance(address)) - before[address];

  EXPECT_EQ(gained[alice], price * 500 / 10000);
  EXPECT_EQ(gained[bob], price * 250 / 10000);
  EXPECT_EQ(gained[carol], price * 125 / 10000);
  EXPECT_EQ(gained[alice] + gained[bob] + gained[carol] + gained[dev], price);
  EXPECT_EQ(code_get(bundle2).value("owner", ""), buyer);
}

// Sets the mtime of each file an hour back and waits until the coarse
// clock that stamps files has passed their ctime, so that the stat cache
// trusts them.
void age_files(const std::vector<fs::path>& files) {
  int64_t newest_ctime = 0;
  for (const auto& file : files) {
    fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::hours(1));
    struct stat st{};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
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

TEST_F(CodeAssetsTest, CommitsReuseStatCache) {
  fs::path dir = small_tree("cached", {{"a.txt", "A\n"}, {"b.txt", "B\n"}, {"sub/c.txt", "C\n"}});
  age_files({dir / "a.txt", dir / "b.txt", dir / "sub/c.txt"});
  std::string asset = publish(dir, "dev", "cached");
  ASSERT_FALSE(asset.empty());

  // Same size, and the mtime set back as `touch -d` would, so only the
  // ctime reveals the change.
  auto mtime = fs::last_write_time(dir / "b.txt");
  write_all(dir / "b.txt", "X\n");
  fs::last_write_time(dir / "b.txt", mtime);
  age_files({});
  auto committed = ok({"code", "commit", asset, dir.string(), "-m", "change b", "--from", "dev", "--wait"});
  EXPECT_NE(committed.err.find("scanned 3 files: 1 read, 2 unchanged"), std::string::npos) << committed.err;
  EXPECT_NE(committed.err.find("1 blob missing on chain"), std::string::npos)
      << "the new contents of b.txt are uploaded: " << committed.err;

  fs::path out = work_ / "cached-out";
  ok({"code", "checkout", asset, "main", "--out", out.string()});
  expect_same_tree(dir, out);

  // The checkout wrote its own cache: a commit from it reads only what
  // changed there.
  write_all(out / "a.txt", "AA\n");
  age_files({out / "a.txt"});
  committed = ok({"code", "commit", asset, out.string(), "-m", "change a", "--from", "dev", "--wait"});
  EXPECT_NE(committed.err.find("1 read"), std::string::npos) << committed.err;
  fs::path again = work_ / "cached-again";
  ok({"code", "checkout", asset, "main", "--out", again.string()});
  expect_same_tree(out, again);
}

}  // namespace
}  // namespace automata::e2e
