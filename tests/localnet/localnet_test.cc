// Multi-process localnet: four `automatad start` validators on 127.0.0.1
// that reach consensus over P2P. Each TEST runs its own localnet, because
// gtest_discover_tests runs every TEST in a separate process.
#include "automata/crypto/bech32.h"
#include "automata/consensus/codec.h"
#include "automata/crypto/keys.h"
#include "automata/node/sign_state_file.h"
#include "automata/v1/consensus.pb.h"
#include "localnet/localnet.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <tuple>

namespace automata::localnet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string new_address() {
  return crypto::encode_address(crypto::address_of(crypto::PrivateKey::generate().public_key()));
}

std::string random_pubkey_hex() { return to_hex(crypto::PrivateKey::generate().public_key()); }

// Imports the testnet's funded key from DIR/dev.json into the test keyring
// as "dev" with the empty passphrase.
void import_dev_key(const Localnet& net) {
  auto key = json::parse(read_file(net.dev_key_path()), nullptr, false);
  ASSERT_TRUE(key.is_object()) << net.dev_key_path();
  const CommandResult imported =
      net.cli(0, {"--no-passphrase", "keys", "import", "dev", key.value("secret_key", "")});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
}

// Sends `amount` from the dev key to `to` through node i with the CLI and
// waits for the commit.
void send_with_cli(const Localnet& net, size_t i, const std::string& to, const std::string& amount) {
  const CommandResult sent = net.cli(i, {"tx", "send", "dev", to, amount, "--wait", "--timeout", "90"});
  ASSERT_EQ(sent.exit_code, 0) << "node" << i << ": " << sent.out << sent.err;
  EXPECT_NE(sent.out.find("committed: height"), std::string::npos) << sent.out;
  EXPECT_NE(sent.out.find("code 0"), std::string::npos) << sent.out;
}

std::string atm_balance(const Localnet& net, size_t i, const std::string& address) {
  const json account = net.rpc(i, "account_get", {{"address", address}});
  if (!account.contains("result")) return "error: " + account.dump();
  for (const auto& coin : account["result"]["balances"]) {
    if (coin.value("denom", "") == "atm") return coin.value("amount", "");
  }
  return "0";
}

bool all_reach(const Localnet& net, const std::vector<size_t>& nodes, uint64_t height, seconds timeout) {
  return wait_until(
      [&] {
        return std::all_of(nodes.begin(), nodes.end(), [&](size_t i) { return net.height(i) >= height; });
      },
      timeout);
}

uint64_t max_height(const Localnet& net, const std::vector<size_t>& nodes) {
  uint64_t top = 0;
  for (size_t i : nodes) top = std::max(top, net.height(i));
  return top;
}

uint64_t min_height(const Localnet& net, const std::vector<size_t>& nodes) {
  uint64_t bottom = UINT64_MAX;
  for (size_t i : nodes) bottom = std::min(bottom, net.height(i));
  return bottom;
}

size_t peer_count(const Localnet& net, size_t i) {
  const json status = net.rpc(i, "node_status");
  if (!status.contains("result")) return 0;
  return status["result"]["peers"].size();
}

// Checks that every node in `nodes` stores the same block hash and state
// root as the first one at every height from 1 to up_to.
void expect_same_chain(const Localnet& net, const std::vector<size_t>& nodes, uint64_t up_to) {
  ASSERT_GE(up_to, 1u);
  for (uint64_t h = 1; h <= up_to; ++h) {
    const json reference = net.rpc(nodes[0], "block_get", {{"height", h}});
    ASSERT_TRUE(reference.contains("result")) << "node" << nodes[0] << " height " << h << ": " << reference.dump();
    const std::string hash = reference["result"].value("hash", "");
    const std::string state_root = reference["result"]["header"].value("state_root", "");
    ASSERT_EQ(hash.size(), 64u) << "height " << h;
    for (size_t k = 1; k < nodes.size(); ++k) {
      const json block = net.rpc(nodes[k], "block_get", {{"height", h}});
      ASSERT_TRUE(block.contains("result")) << "node" << nodes[k] << " height " << h << ": " << block.dump();
      EXPECT_EQ(block["result"].value("hash", ""), hash) << "node" << nodes[k] << " height " << h;
      EXPECT_EQ(block["result"]["header"].value("state_root", ""), state_root) << "node" << nodes[k] << " height " << h;
    }
  }
}

void expect_no_evidence(const Localnet& net, const std::vector<size_t>& nodes) {
  for (size_t i : nodes) {
    const json evidence = net.rpc(i, "evidence_list");
    ASSERT_TRUE(evidence.contains("result")) << "node" << i << ": " << evidence.dump();
    EXPECT_TRUE(evidence["result"]["evidence"].empty()) << "node" << i << ": " << evidence.dump();
  }
}

// The signer state file of a home, or nullopt when it is missing or does
// not parse.
std::optional<v1::LastSignState> read_sign_state(const fs::path& home) {
  const fs::path path = home / "consensus" / "sign_state.pb";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  consensus::LastSignState loaded;
  if (!node::FileSignStateStore::load(path.string(), &loaded).is_ok()) return std::nullopt;
  const Bytes bytes = consensus::encode_last_sign_state(loaded);
  v1::LastSignState state;
  if (!state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  return state;
}

// The WAL files wal-H.log under HOME/consensus/wal (H zero-padded), by
// height.
std::map<uint64_t, fs::path> wal_files(const fs::path& home) {
  std::map<uint64_t, fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(home / "consensus" / "wal", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("wal-", 0) != 0 || name.size() <= 8 || name.substr(name.size() - 4) != ".log") continue;
    files[std::stoull(name.substr(4, name.size() - 8))] = entry.path();
  }
  return files;
}

// Kills node i with SIGKILL right after it writes a new signer state, so
// the vote it just signed may or may not have left. Returns the signer
// state found after the kill.
std::optional<v1::LastSignState> kill_right_after_signing(Localnet& net, size_t i) {
  const fs::path file = net.home(i) / "consensus" / "sign_state.pb";
  const std::string initial = read_file(file);
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string current = read_file(file);
    if (!current.empty() && current != initial) {
      net.kill9(i);
      return read_sign_state(net.home(i));
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
  net.kill9(i);
  return std::nullopt;
}

std::tuple<uint64_t, int64_t, uint32_t> position_of(const v1::LastSignState& state) {
  return {state.height(), state.round(), state.step()};
}

class LocalnetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(net_.start_all(&error)) << error;
    const std::vector<size_t> all = {0, 1, 2, 3};
    ASSERT_TRUE(all_reach(net_, all, 2, seconds(60))) << "the localnet did not commit height 2\n" << net_.read_log(0);
    ASSERT_TRUE(wait_until(
        [&] { return std::all_of(all.begin(), all.end(), [&](size_t i) { return peer_count(net_, i) == 3; }); },
        seconds(30)))
        << "not every node has 3 peers\n"
        << net_.read_log(0);
  }

  Localnet net_{4};
};

// Transactions sent through every node commit. A validator killed with
// SIGKILL right after signing does not stop the other three. It restarts,
// catches up and signs nothing that conflicts with its earlier votes.
TEST_F(LocalnetTest, CommitsSurvivesKillAndCatchesUp) {
  ASSERT_NO_FATAL_FAILURE(import_dev_key(net_));
  const std::vector<size_t> all = {0, 1, 2, 3};
  const std::vector<size_t> survivors = {0, 1, 2};

  // One CLI transfer through each node, each to its own recipient.
  std::vector<std::string> recipients;
  for (size_t i = 0; i < 4; ++i) {
    recipients.push_back(new_address());
    ASSERT_NO_FATAL_FAILURE(send_with_cli(net_, i, recipients[i], std::to_string(1000 + i) + "atm"));
  }
  const uint64_t after_sends = max_height(net_, all);
  ASSERT_TRUE(all_reach(net_, all, after_sends, seconds(30)));
  for (size_t node : all) {
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(atm_balance(net_, node, recipients[i]), std::to_string(1000 + i)) << "node" << node << " recipient " << i;
    }
  }
  ASSERT_NO_FATAL_FAILURE(expect_same_chain(net_, all, after_sends));

  // SIGKILL node 3 right after a signature, then inspect what it left.
  const auto signed_before = kill_right_after_signing(net_, 3);
  ASSERT_TRUE(signed_before.has_value()) << "node3 wrote no readable signer state within 30 s";
  EXPECT_GE(signed_before->height(), after_sends);
  EXPECT_FALSE(signed_before->signature().empty());
  EXPECT_FALSE(signed_before->sign_bytes().empty());
  // The WAL rotates when a height starts, so it contains the signed height or
  // the next one if that height was decided before the kill.
  const auto wal = wal_files(net_.home(3));
  ASSERT_FALSE(wal.empty()) << "node3 has no WAL file";
  EXPECT_GE(wal.rbegin()->first, signed_before->height());
  const auto signed_height_wal = wal.find(signed_before->height());
  if (signed_height_wal != wal.end()) {
    EXPECT_GT(fs::file_size(signed_height_wal->second), 0u) << "the WAL of the signed height is empty";
  }

  // The other three keep committing, including a transfer.
  const uint64_t at_kill = max_height(net_, survivors);
  ASSERT_TRUE(all_reach(net_, survivors, at_kill + 3, seconds(60)))
      << "three of four validators stopped committing\n" << net_.read_log(0);
  const std::string late_recipient = new_address();
  ASSERT_NO_FATAL_FAILURE(send_with_cli(net_, 1, late_recipient, "777atm"));

  // Node 3 restarts from its WAL and signer state and catches up.
  std::string error;
  ASSERT_TRUE(net_.start(3, &error)) << error;
  const uint64_t target = max_height(net_, survivors) + 2;
  ASSERT_TRUE(all_reach(net_, all, target, seconds(90))) << "node3 did not catch up\n" << net_.read_log(3);
  ASSERT_TRUE(wait_until(
      [&] {
        const json status = net_.rpc(3, "node_status");
        return status.contains("result") && !status["result"].value("catching_up", true);
      },
      seconds(30)))
      << "node3 still reports catching_up";
  EXPECT_EQ(atm_balance(net_, 3, late_recipient), "777");

  const auto signed_after = read_sign_state(net_.home(3));
  ASSERT_TRUE(signed_after.has_value());
  EXPECT_GE(position_of(*signed_after), position_of(*signed_before));
  if (position_of(*signed_after) == position_of(*signed_before)) {
    EXPECT_EQ(signed_after->sign_bytes(), signed_before->sign_bytes());
  }
  ASSERT_NO_FATAL_FAILURE(expect_no_evidence(net_, all));
  ASSERT_NO_FATAL_FAILURE(expect_same_chain(net_, all, min_height(net_, all)));
}

// With two of four validators down nothing commits and nothing forks; one
// returning brings back a quorum. A node whose persistent peer entry names
// the wrong key for a real peer never connects to it.
TEST_F(LocalnetTest, HaltsWithoutQuorumAndRejectsWrongKey) {
  const std::vector<size_t> all = {0, 1, 2, 3};
  const std::vector<size_t> pair = {0, 1};

  EXPECT_EQ(net_.stop(2), 0) << net_.read_log(2);
  net_.kill9(3);

  // A block already at +2/3 precommits may still commit; then the height
  // must stay put.
  std::this_thread::sleep_for(seconds(2));
  const uint64_t halted = max_height(net_, pair);
  std::this_thread::sleep_for(seconds(6));
  EXPECT_EQ(net_.height(0), halted) << "node0 committed without a quorum";
  EXPECT_EQ(net_.height(1), halted) << "node1 committed without a quorum";
  ASSERT_NO_FATAL_FAILURE(expect_same_chain(net_, pair, halted));

  // One validator back gives three of four: the chain resumes.
  std::string error;
  ASSERT_TRUE(net_.start(2, &error)) << error;
  ASSERT_TRUE(all_reach(net_, {0, 1, 2}, halted + 2, seconds(90))) << "the chain did not resume\n" << net_.read_log(2);
  ASSERT_TRUE(net_.start(3, &error)) << error;
  ASSERT_TRUE(all_reach(net_, all, max_height(net_, {0, 1, 2}) + 1, seconds(90))) << net_.read_log(3);
  ASSERT_NO_FATAL_FAILURE(expect_no_evidence(net_, all));
  ASSERT_NO_FATAL_FAILURE(expect_same_chain(net_, all, min_height(net_, all)));

  // A fifth node, not a validator, built from node 3's genesis with its own
  // keys. Its entry for node 0 names a random key; its entry for node 1 is
  // correct.
  const fs::path follower = net_.root() / "follower";
  fs::create_directories(follower / "data");
  fs::copy_file(net_.home(3) / "genesis.json", follower / "genesis.json");
  for (const char* name : {"validator_key.json", "node_key.json"}) {
    const auto key = crypto::PrivateKey::generate();
    const json file = {{"secret_key", to_hex(key.bytes())}, {"pubkey", to_hex(key.public_key())}};
    std::ofstream(follower / name) << file.dump(2);
  }
  const int follower_base = free_port_range(2);
  ASSERT_NE(follower_base, 0);
  const std::string wrong_key = random_pubkey_hex();
  std::string config = read_file(net_.home(3) / "config.toml");
  const auto replace = [&config](const std::string& from, const std::string& to) {
    const size_t at = config.find(from);
    ASSERT_NE(at, std::string::npos) << "config.toml has no " << from;
    config.replace(at, from.size(), to);
  };
  ASSERT_NO_FATAL_FAILURE(replace("\"127.0.0.1:" + std::to_string(net_.rpc_port(3)) + "\"",
                                  "\"127.0.0.1:" + std::to_string(follower_base) + "\""));
  ASSERT_NO_FATAL_FAILURE(replace("\"127.0.0.1:" + std::to_string(net_.p2p_port(3)) + "\"",
                                  "\"127.0.0.1:" + std::to_string(follower_base + 1) + "\""));
  const size_t peers_at = config.find("persistent_peers = ");
  ASSERT_NE(peers_at, std::string::npos);
  const size_t peers_end = config.find('\n', peers_at);
  config.replace(peers_at, peers_end - peers_at,
                 "persistent_peers = \"" + wrong_key + "@127.0.0.1:" + std::to_string(net_.p2p_port(0)) + "," +
                     net_.node_id(1) + "@127.0.0.1:" + std::to_string(net_.p2p_port(1)) + "\"");
  std::ofstream(follower / "config.toml") << config;

  const fs::path follower_log = net_.root() / "follower.log";
  const pid_t follower_pid = spawn_node(follower, follower_log);
  ASSERT_GT(follower_pid, 0);
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reaper{follower_pid};

  const std::string follower_id = json::parse(read_file(follower / "node_key.json")).value("pubkey", "");
  const auto follower_peers = [&] {
    std::set<std::string> ids;
    const auto reply = http_request(follower_base, "POST", "/",
                                    json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "node_status"}}.dump());
    const auto status = json::parse(reply.body, nullptr, false);
    if (status.is_object() && status.contains("result")) {
      for (const auto& peer : status["result"]["peers"]) ids.insert(peer.value("id", ""));
    }
    return ids;
  };
  const auto node0_has_follower = [&] {
    for (const auto& peer : net_.rpc(0, "node_status")["result"]["peers"]) {
      if (peer.value("id", "") == follower_id) return true;
    }
    return false;
  };

  bool connected_to_node0 = false;
  const auto watch = [&](const std::function<bool()>& done) {
    return wait_until(
        [&] {
          connected_to_node0 = connected_to_node0 || follower_peers().count(net_.node_id(0)) != 0 || node0_has_follower();
          return done();
        },
        seconds(60));
  };
  EXPECT_TRUE(watch([&] { return follower_peers().count(net_.node_id(1)) != 0; }))
      << "the follower never connected to node1\n" << read_file(follower_log);
  EXPECT_TRUE(watch([&] { return read_file(follower_log).find("but the expected key is " + wrong_key) != std::string::npos; }))
      << read_file(follower_log);
  // Let a few redials to node 0 fail while the follower syncs from node 1.
  const uint64_t chain_height = max_height(net_, all);
  EXPECT_TRUE(watch([&] {
    const auto reply = http_request(follower_base, "POST", "/",
                                    json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "node_status"}}.dump());
    const auto status = json::parse(reply.body, nullptr, false);
    return status.is_object() && status.contains("result") && status["result"].value("height", uint64_t{0}) >= chain_height;
  })) << "the follower did not sync from node1\n" << read_file(follower_log);
  EXPECT_FALSE(connected_to_node0) << "the follower connected to node0 despite the wrong key";
  EXPECT_NE(read_file(follower_log).find("but the expected key is " + wrong_key), std::string::npos);
}

}  // namespace
}  // namespace automata::localnet
