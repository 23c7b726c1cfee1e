// Tx relay of one validator's consensus driver, watched by two bare P2P
// networks on loopback that stand in for peers. The validator set has a
// second validator that never runs, so no block commits and every relayed
// tx stays in the pool.
#include "automata/consensus/validator_set.h"
#include "automata/execution/chain.h"
#include "automata/mempool/mempool.h"
#include "automata/node/consensus_driver.h"
#include "automata/p2p/network.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/tx.pb.h"
#include "node_test_util.h"
#include "rpc/rpc_fixture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

namespace automata::node {
namespace {

constexpr const char* kChainId = "gossip-test";
constexpr uint64_t kGossipIntervalMs = 100;

// A peer that records every tx it receives on the transactions channel.
class WatchingPeer {
 public:
  WatchingPeer() {
    p2p::NetworkConfig config;
    config.chain_id = kChainId;
    config.max_per_ip = 8;
    network_ = std::make_unique<p2p::Network>(config);
    network_->set_handler(p2p::Channel::kTransactions, [this](const p2p::PeerId&, Bytes payload) {
      v1::TxBatch batch;
      if (!batch.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return;
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& raw : batch.txs()) {
        v1::Tx tx;
        if (tx.ParseFromString(raw)) ++received_[crypto::sha256(as_view(tx.body_bytes()))];
      }
    });
  }

  p2p::Network& network() { return *network_; }

  int copies_of(const Hash32& hash) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = received_.find(hash);
    return found == received_.end() ? 0 : found->second;
  }

  // Sends txs to peer as one TxBatch, as a node's relay does.
  bool send_txs(const p2p::PeerId& peer, const std::vector<Bytes>& txs) {
    v1::TxBatch batch;
    for (const Bytes& tx : txs) batch.add_txs(tx.data(), tx.size());
    std::string payload = batch.SerializeAsString();
    return network_->send(peer, p2p::Channel::kTransactions, to_bytes(payload));
  }

 private:
  std::unique_ptr<p2p::Network> network_;
  std::mutex mutex_;
  std::map<Hash32, int> received_;  // guarded by mutex_: copies per tx hash
};

class TxGossipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::PrivateKey absent_validator = crypto::PrivateKey::generate();
    execution::Genesis genesis;
    genesis.chain_id = kChainId;
    genesis.genesis_time_ms = 1'000;
    std::vector<consensus::ValidatorInfo> infos;
    for (const crypto::PrivateKey* key : {&validator_key_, &absent_validator}) {
      execution::GenesisValidator validator;
      validator.pubkey = key->public_key();
      genesis.validators.push_back(validator);
      infos.push_back({validator.pubkey, 1, 0});
    }
    execution::GenesisAccount account;
    account.address = crypto::address_of(user_key_.public_key());
    account.balances.emplace_back("atm", 1'000'000'000);
    genesis.accounts.push_back(account);
    consensus::ValidatorSet validators;
    ASSERT_TRUE(consensus::ValidatorSet::create(infos, &validators).is_ok());

    execution::ChainOptions options;
    options.db_path = (dir_.path() / "data").string();
    options.verify_threads = 1;
    Status status = execution::Chain::open(options, genesis, &chain_);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    mempool_ = std::make_unique<mempool::Mempool>(chain_.get(), mempool::MempoolConfig{});

    p2p::NetworkConfig network_config;
    network_config.chain_id = kChainId;
    network_config.node_key = node_key_;
    network_config.max_per_ip = 8;
    network_ = std::make_unique<p2p::Network>(network_config);

    DriverConfig config;
    config.chain_id = kChainId;
    config.state_dir = (dir_.path() / "consensus").string();
    config.gossip_interval_ms = kGossipIntervalMs;
    driver_ = std::make_unique<ConsensusDriver>(config, chain_.get(), chain_.get(), mempool_.get(), network_.get(),
                                                validator_key_, validators);
    status = driver_->open();
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    ConsensusDriver* driver = driver_.get();
    mempool_->set_on_new_tx([driver] { driver->notify_new_txs(); });
    status = network_->start();
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    driver_->start();

    for (WatchingPeer* peer : {&peer_a_, &peer_b_}) {
      status = peer->network().start();
      ASSERT_TRUE(status.is_ok()) << status.to_string();
      p2p::PeerAddress address;
      address.pubkey = node_key_.public_key();
      address.host = "127.0.0.1";
      address.port = network_->port();
      peer->network().dial(address);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (network_->peers().size() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(network_->peers().size(), 2u) << "the watching peers did not connect";
  }

  void TearDown() override {
    peer_a_.network().stop();
    peer_b_.network().stop();
    if (network_) network_->stop();
    if (driver_) driver_->stop();
  }

  // Waits until peer has received hash at least once. Returns false after 10 s.
  static bool wait_for_tx(WatchingPeer& peer, const Hash32& hash) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (peer.copies_of(hash) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return peer.copies_of(hash) > 0;
  }

  // Gives the driver several gossip ticks to send anything more.
  static void wait_gossip_ticks() { std::this_thread::sleep_for(std::chrono::milliseconds(4 * kGossipIntervalMs)); }

  testing::TempDir dir_;
  crypto::PrivateKey validator_key_ = crypto::PrivateKey::generate();
  crypto::PrivateKey node_key_ = crypto::PrivateKey::generate();
  crypto::PrivateKey user_key_ = crypto::PrivateKey::generate();
  std::unique_ptr<execution::Chain> chain_;
  std::unique_ptr<mempool::Mempool> mempool_;
  std::unique_ptr<p2p::Network> network_;
  std::unique_ptr<ConsensusDriver> driver_;
  WatchingPeer peer_a_;
  WatchingPeer peer_b_;
};

TEST_F(TxGossipTest, LocalTxRelayedOncePerPeer) {
  auto first = rpc::testing::make_transfer(user_key_, kChainId, 0, Address{}, "10");
  auto second = rpc::testing::make_transfer(user_key_, kChainId, 1, Address{}, "10");
  ASSERT_EQ(mempool_->add(first.bytes).code, execution::ResultCode::kOk);
  ASSERT_EQ(mempool_->add(second.bytes).code, execution::ResultCode::kOk);

  ASSERT_TRUE(wait_for_tx(peer_a_, second.hash)) << "peer a never received the tx";
  ASSERT_TRUE(wait_for_tx(peer_b_, second.hash)) << "peer b never received the tx";
  wait_gossip_ticks();
  EXPECT_EQ(peer_a_.copies_of(first.hash), 1);
  EXPECT_EQ(peer_b_.copies_of(first.hash), 1);
  EXPECT_EQ(peer_a_.copies_of(second.hash), 1);
  EXPECT_EQ(peer_b_.copies_of(second.hash), 1);
}

TEST_F(TxGossipTest, RelayedTxNotSentBackToItsSource) {
  auto tx = rpc::testing::make_transfer(user_key_, kChainId, 0, Address{}, "10");
  ASSERT_TRUE(peer_a_.send_txs(network_->id(), {tx.bytes}));

  ASSERT_TRUE(wait_for_tx(peer_b_, tx.hash)) << "the node did not relay peer a's tx to peer b";
  EXPECT_TRUE(mempool_->contains(tx.hash));

  // Both peers send it again. The node drops the duplicates before
  // check_tx and relays nothing more.
  ASSERT_TRUE(peer_a_.send_txs(network_->id(), {tx.bytes}));
  ASSERT_TRUE(peer_b_.send_txs(network_->id(), {tx.bytes}));
  wait_gossip_ticks();
  EXPECT_EQ(peer_a_.copies_of(tx.hash), 0) << "the tx went back to the peer it came from";
  EXPECT_EQ(peer_b_.copies_of(tx.hash), 1);
  EXPECT_EQ(mempool_->size(), 1u);
}

}  // namespace
}  // namespace automata::node
