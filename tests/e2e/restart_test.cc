// End-to-end: a dev node keeps every committed block and balance across a
// clean stop and across kill -9.
#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "e2e/node_process.h"
#include "e2e/tx_builder.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace automata::e2e {
namespace {

using nlohmann::json;

struct Snapshot {
  uint64_t height = 0;
  std::map<uint64_t, std::string> block_hashes;
  std::map<std::string, json> accounts;
};

Snapshot take_snapshot(DevNode& node, uint64_t up_to, const std::vector<std::string>& addresses) {
  Snapshot snap;
  snap.height = up_to;
  for (uint64_t h = 1; h <= up_to; ++h) {
    auto block = node.rpc("block_get", {{"height", h}});
    snap.block_hashes[h] = block["result"].value("hash", "missing");
  }
  for (const auto& a : addresses) {
    auto acct = node.rpc("account_get", {{"address", a}, {"height", up_to}});
    snap.accounts[a] = acct.value("result", json::object());
  }
  return snap;
}

uint64_t height_of(DevNode& node) {
  auto status = node.rpc("node_status");
  return status["result"].value("height", uint64_t{0});
}

// Sends `count` transfers from the dev key and waits until all are committed.
void send_transfers(DevNode& node, const crypto::PrivateKey& dev, const std::string& chain_id,
                    const std::vector<Address>& recipients, int count) {
  auto dev_address = crypto::encode_address(crypto::address_of(dev.public_key()));
  uint64_t nonce = node.rpc("account_get", {{"address", dev_address}})["result"].value("nonce", uint64_t{0});
  std::string last_hash;
  for (int i = 0; i < count; ++i) {
    TransferSpec spec = make_spec(chain_id, nonce + static_cast<uint64_t>(i),
                                  recipients[static_cast<size_t>(i) % recipients.size()], std::to_string(100 + i));
    auto reply = node.rpc("tx_submit", {{"tx", to_hex(build_transfer(dev, spec))}});
    ASSERT_TRUE(reply.contains("result")) << reply.dump();
    last_hash = reply["result"]["hash"];
  }
  for (int i = 0; i < 200; ++i) {
    auto tx = node.rpc("tx_get", {{"hash", last_hash}});
    if (tx.contains("result") && tx["result"].value("status", "") == "committed") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "transfers were not committed";
}

void restart_and_compare(bool hard_kill) {
  DevNode node;
  std::string log;
  ASSERT_TRUE(node.start(&log)) << log;
  std::string chain_id = node.rpc("node_status")["result"]["chain_id"];

  crypto::Keyring keyring(node.keyring_dir().string());
  std::optional<crypto::PrivateKey> dev;
  ASSERT_TRUE(keyring.load("dev", "", &dev).is_ok());
  std::vector<Address> recipients;
  std::vector<std::string> addresses = {crypto::encode_address(crypto::address_of(dev->public_key()))};
  for (int i = 0; i < 3; ++i) {
    recipients.push_back(crypto::address_of(crypto::PrivateKey::generate().public_key()));
    addresses.push_back(crypto::encode_address(recipients.back()));
  }

  send_transfers(node, *dev, chain_id, recipients, 30);
  uint64_t height = height_of(node);
  ASSERT_GT(height, 0u);
  Snapshot before = take_snapshot(node, height, addresses);

  if (hard_kill) {
    node.kill9();
  } else {
    EXPECT_EQ(node.stop(), 0) << node.read_log();
  }

  ASSERT_TRUE(node.start(&log)) << log;
  EXPECT_GE(height_of(node), height);
  Snapshot after = take_snapshot(node, height, addresses);
  EXPECT_EQ(before.block_hashes, after.block_hashes);
  for (const auto& a : addresses) EXPECT_EQ(before.accounts[a], after.accounts[a]) << a;

  // The chain goes on from where it stopped.
  send_transfers(node, *dev, chain_id, recipients, 5);
  EXPECT_GT(height_of(node), height);
  auto next = node.rpc("block_get", {{"height", height + 1}});
  EXPECT_EQ(next["result"]["header"]["prev_hash"], before.block_hashes[height]);
}

TEST(Restart, AfterKill9KeepsBlocksAndBalances) { restart_and_compare(true); }

TEST(Restart, AfterSigtermKeepsBlocksAndBalances) { restart_and_compare(false); }

}  // namespace
}  // namespace automata::e2e
