// Validators in one process, each with its own Chain, mempool, P2P network
// on a loopback port and consensus driver: agreement, progress with one
// validator stopped, tx gossip and block sync of a late joiner.
#include "automata/consensus/validator_set.h"
#include "automata/execution/chain.h"
#include "automata/mempool/mempool.h"
#include "automata/node/consensus_driver.h"
#include "automata/p2p/network.h"
#include "automata/v1/block.pb.h"
#include "node_test_util.h"
#include "rpc/rpc_fixture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace automata::node {
namespace {

constexpr const char* kChainId = "bft-test";

struct TestNode {
  std::unique_ptr<testing::TempDir> dir = std::make_unique<testing::TempDir>();
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  crypto::PrivateKey node_key = crypto::PrivateKey::generate();
  std::unique_ptr<execution::Chain> chain;
  std::unique_ptr<mempool::Mempool> mempool;
  std::unique_ptr<p2p::Network> network;
  std::unique_ptr<ConsensusDriver> driver;
  bool running = false;
};

class ConsensusNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_.resize(4);
    genesis_.chain_id = kChainId;
    genesis_.genesis_time_ms = 1'000;
    std::vector<consensus::ValidatorInfo> infos;
    for (auto& node : nodes_) {
      execution::GenesisValidator validator;
      validator.pubkey = node.key.public_key();
      genesis_.validators.push_back(validator);
      infos.push_back({validator.pubkey, 1, 0});
    }
    execution::GenesisAccount account;
    account.address = crypto::address_of(user_key_.public_key());
    account.balances.emplace_back("atm", 1'000'000'000);
    genesis_.accounts.push_back(account);
    ASSERT_TRUE(consensus::ValidatorSet::create(infos, &validators_).is_ok());
  }

  void TearDown() override {
    for (auto& node : nodes_) stop(node);
  }

  void start(size_t index) {
    TestNode& node = nodes_[index];
    execution::ChainOptions options;
    options.db_path = (node.dir->path() / "data").string();
    options.verify_threads = 1;
    Status status = execution::Chain::open(options, genesis_, &node.chain);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    node.mempool = std::make_unique<mempool::Mempool>(node.chain.get(), mempool::MempoolConfig{});

    p2p::NetworkConfig network_config;
    network_config.chain_id = kChainId;
    network_config.node_key = node.node_key;
    network_config.max_per_ip = 32;
    network_config.redial_initial = std::chrono::milliseconds(100);
    node.network = std::make_unique<p2p::Network>(network_config);

    DriverConfig config;
    config.chain_id = kChainId;
    config.state_dir = (node.dir->path() / "consensus").string();
    config.timeouts = {500, 100, 200, 100, 200, 100};
    config.block_interval_ms = 10;
    config.empty_block_interval_ms = 150;
    config.gossip_interval_ms = 200;
    node.driver = std::make_unique<ConsensusDriver>(config, node.chain.get(), node.chain.get(), node.mempool.get(),
                                                    node.network.get(), node.key, validators_);
    status = node.driver->open();
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    ConsensusDriver* driver = node.driver.get();
    node.mempool->set_on_new_tx([driver] { driver->notify_new_txs(); });
    status = node.network->start();
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    node.driver->start();
    node.running = true;

    for (size_t other = 0; other < nodes_.size(); ++other) {
      if (other == index || !nodes_[other].running) continue;
      p2p::PeerAddress address;
      address.pubkey = nodes_[other].node_key.public_key();
      address.host = "127.0.0.1";
      address.port = nodes_[other].network->port();
      node.network->dial(address);
    }
  }

  void stop(TestNode& node) {
    if (!node.running) return;
    node.network->stop();
    node.driver->stop();
    node.running = false;
  }

  // Waits until every listed node has applied height; false after 30 s.
  bool wait_for_height(const std::vector<size_t>& indexes, uint64_t height) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      bool reached = true;
      for (size_t index : indexes) reached = reached && nodes_[index].chain->last_height() >= height;
      if (reached) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::string block_hash(size_t index, uint64_t height) {
    v1::Block block;
    Status status = nodes_[index].chain->block_by_height(height, &block);
    EXPECT_TRUE(status.is_ok()) << "node " << index << " height " << height << ": " << status.to_string();
    return to_hex(crypto::sha256(as_view(block.header_bytes())));
  }

  void expect_same_blocks(const std::vector<size_t>& indexes, uint64_t up_to) {
    for (uint64_t height = 1; height <= up_to; ++height) {
      std::string first = block_hash(indexes[0], height);
      for (size_t index : indexes) EXPECT_EQ(block_hash(index, height), first) << "node " << index << " height " << height;
    }
  }

  crypto::PrivateKey user_key_ = crypto::PrivateKey::generate();
  execution::Genesis genesis_;
  consensus::ValidatorSet validators_;
  std::vector<TestNode> nodes_;
};

TEST_F(ConsensusNetworkTest, FourValidatorsAgreeAndSurviveOneStopped) {
  for (size_t i = 0; i < 4; ++i) start(i);
  ASSERT_TRUE(wait_for_height({0, 1, 2, 3}, 3)) << "the 4 validators did not reach height 3";
  expect_same_blocks({0, 1, 2, 3}, 3);

  // A tx submitted to one node is gossiped and included by whichever
  // validator proposes.
  auto tx = rpc::testing::make_transfer(user_key_, kChainId, 0, Address{}, "10");
  auto added = nodes_[2].mempool->add(tx.bytes);
  ASSERT_EQ(added.code, execution::ResultCode::kOk) << added.log;

  stop(nodes_[3]);
  uint64_t height = nodes_[0].chain->last_height();
  ASSERT_TRUE(wait_for_height({0, 1, 2}, height + 3)) << "3 of 4 validators stopped making progress";
  expect_same_blocks({0, 1, 2}, height + 3);

  v1::TxLocation location;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!nodes_[0].chain->tx_location(tx.hash, &location).is_ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Status found = nodes_[0].chain->tx_location(tx.hash, &location);
  EXPECT_TRUE(found.is_ok()) << "the gossiped tx was never included: " << found.to_string();
}

TEST_F(ConsensusNetworkTest, LateJoinerSyncsThenVotes) {
  for (size_t i = 0; i < 3; ++i) start(i);
  ASSERT_TRUE(wait_for_height({0, 1, 2}, 5)) << "3 of 4 validators did not reach height 5";

  start(3);
  uint64_t target = nodes_[0].chain->last_height() + 2;
  ASSERT_TRUE(wait_for_height({0, 1, 2, 3}, target)) << "the late node did not catch up to height " << target;
  expect_same_blocks({0, 1, 2, 3}, target);

  // Once caught up, it leaves sync mode and votes: with node 0 stopped the
  // other three, the late joiner included, still reach +2/3.
  EXPECT_FALSE(nodes_[3].driver->status().catching_up);
  stop(nodes_[0]);
  uint64_t height = nodes_[1].chain->last_height();
  ASSERT_TRUE(wait_for_height({1, 2, 3}, height + 2)) << "progress stopped without node 0";
  expect_same_blocks({1, 2, 3}, height + 2);
}

}  // namespace
}  // namespace automata::node
