// End-to-end: a dev node killed at each persistence point (see
// include/automata/types/crash_point.h) restarts, keeps every block and tx
// it had committed, and goes on committing. The node kills itself with
// SIGKILL at the point, so the crash lands between two specific writes
// instead of wherever a kill from outside happens to arrive.
#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "automata/types/crash_point.h"
#include "e2e/node_process.h"
#include "e2e/tx_builder.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <thread>

namespace automata::e2e {
namespace {

using nlohmann::json;

struct CrashCase {
  const char* point;
  int after;  // hit that crashes: past the first few blocks
};

class CrashPointTest : public ::testing::TestWithParam<CrashCase> {};

uint64_t height_of(DevNode& node) {
  auto status = node.rpc("node_status");
  return status.contains("result") ? status["result"].value("height", uint64_t{0}) : 0;
}

TEST_P(CrashPointTest, RestartKeepsCommittedBlocksAndContinues) {
  const CrashCase& c = GetParam();
  DevNode node;
  node.set_extra_env({std::string("AUTOMATA_CRASH_AT=") + c.point, "AUTOMATA_CRASH_AFTER=" + std::to_string(c.after)});
  std::string log;
  ASSERT_TRUE(node.start(&log)) << log;
  std::string chain_id = node.rpc("node_status")["result"]["chain_id"];

  crypto::Keyring keyring(node.keyring_dir().string());
  std::optional<crypto::PrivateKey> dev;
  ASSERT_TRUE(keyring.load("dev", "", &dev).is_ok());
  Address recipient = crypto::address_of(crypto::PrivateKey::generate().public_key());
  std::string recipient_address = crypto::encode_address(recipient);

  // One transfer at a time until the node dies, recording what it reported
  // committed: block hashes by height and the height of each tx.
  std::map<uint64_t, std::string> block_hashes;
  std::map<std::string, uint64_t> committed_txs;
  uint64_t nonce = 0;
  int signal = -1;
  for (int round = 0; round < 400 && signal < 0; ++round) {
    auto reply = node.rpc("tx_submit", {{"tx", to_hex(build_transfer(*dev, make_spec(chain_id, nonce, recipient)))}});
    std::string hash = reply.contains("result") ? reply["result"].value("hash", "") : "";
    if (!hash.empty()) {
      for (int i = 0; i < 100; ++i) {
        auto tx = node.rpc("tx_get", {{"hash", hash}});
        if (tx.contains("result") && tx["result"].value("status", "") == "committed") {
          uint64_t height = tx["result"].value("height", uint64_t{0});
          auto block = node.rpc("block_get", {{"height", height}});
          if (!block.contains("result")) break;  // died in between
          committed_txs[hash] = height;
          block_hashes[height] = block["result"].value("hash", "");
          ++nonce;
          break;
        }
        if ((signal = node.wait_exit(std::chrono::milliseconds(20))) >= 0) break;
      }
    }
    if (signal < 0) signal = node.wait_exit(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(signal, SIGKILL) << "the node did not die at crash point " << c.point << ":\n" << node.read_log();
  EXPECT_NE(node.read_log().find(std::string("crash point '") + c.point + "' reached"), std::string::npos);
  ASSERT_FALSE(committed_txs.empty()) << "nothing committed before the crash at " << c.point;

  node.set_extra_env({});
  ASSERT_TRUE(node.start(&log)) << log;
  uint64_t last_seen = block_hashes.rbegin()->first;
  for (int i = 0; i < 100 && height_of(node) < last_seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(height_of(node), last_seen);
  for (const auto& [height, hash] : block_hashes) {
    EXPECT_EQ(node.rpc("block_get", {{"height", height}})["result"].value("hash", ""), hash) << "height " << height;
  }
  for (const auto& [hash, height] : committed_txs) {
    auto tx = node.rpc("tx_get", {{"hash", hash}});
    EXPECT_EQ(tx["result"].value("height", uint64_t{0}), height) << tx.dump();
  }

  // Every committed transfer moved 1 atm once, no more.
  auto account = node.rpc("account_get", {{"address", recipient_address}});
  uint64_t received = 0;
  for (const auto& coin : account["result"]["balances"]) {
    if (coin.value("denom", "") == "atm") received = std::stoull(coin.value("amount", "0"));
  }
  auto dev_account = node.rpc("account_get", {{"address", crypto::encode_address(crypto::address_of(dev->public_key()))}});
  uint64_t dev_nonce = dev_account["result"].value("nonce", uint64_t{0});
  EXPECT_GE(dev_nonce, committed_txs.size());
  EXPECT_EQ(received, dev_nonce) << "each committed transfer sends 1 atm";

  // The chain goes on: a new transfer with the next nonce commits.
  auto reply = node.rpc("tx_submit", {{"tx", to_hex(build_transfer(*dev, make_spec(chain_id, dev_nonce, recipient)))}});
  ASSERT_TRUE(reply.contains("result")) << reply.dump();
  std::string hash = reply["result"]["hash"];
  bool committed = false;
  for (int i = 0; i < 200 && !committed; ++i) {
    auto tx = node.rpc("tx_get", {{"hash", hash}});
    committed = tx.contains("result") && tx["result"].value("status", "") == "committed";
    if (!committed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(committed) << node.read_log();
  EXPECT_GT(height_of(node), last_seen);
}

// One validator signs a proposal, a prevote and a precommit per height, and
// syncs each to the WAL, so 3 hits are about one height.
INSTANTIATE_TEST_SUITE_P(AllPoints, CrashPointTest,
                         ::testing::Values(CrashCase{kCrashAfterSignState, 16}, CrashCase{kCrashAfterWalSync, 17},
                                           CrashCase{kCrashAfterDecidedSaved, 6},
                                           CrashCase{kCrashBeforeBlockWrite, 6}, CrashCase{kCrashAfterBlockWrite, 7}),
                         [](const ::testing::TestParamInfo<CrashCase>& info) { return std::string(info.param.point); });

}  // namespace
}  // namespace automata::e2e
