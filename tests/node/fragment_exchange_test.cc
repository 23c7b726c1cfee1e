// FragmentExchange between two in-process nodes over real P2P networks on
// 127.0.0.1: a pull of verified fragments, and a ban for an unrequested
// response.
#include "automata/crypto/merkle.h"
#include "automata/node/fragment_exchange.h"
#include "automata/node/fragment_store.h"
#include "automata/p2p/network.h"
#include "automata/v1/p2p.pb.h"
#include "node/node_test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace automata::node {
namespace {

using namespace std::chrono_literals;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

p2p::NetworkConfig network_config() {
  p2p::NetworkConfig config;
  config.chain_id = "fragment-test";
  config.max_per_ip = 16;
  config.redial_initial = 100ms;
  config.redial_max = 1s;
  return config;
}

struct Peer {
  explicit Peer(p2p::NetworkConfig config) : key(config.node_key), network(std::move(config)) {
    EXPECT_TRUE(FragmentStore::open(dir.str(), &store).is_ok());
    exchange = std::make_unique<FragmentExchange>(&network, store.get());
  }
  ~Peer() {
    exchange->stop();
    network.stop();
  }

  testing::TempDir dir;
  crypto::PrivateKey key;
  p2p::Network network;
  std::unique_ptr<FragmentStore> store;
  std::unique_ptr<FragmentExchange> exchange;
};

class FragmentExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Eight fragments of 70,000 sealed bytes: 69,972 bytes of plaintext each.
    model_.id.fill(0x3C);
    model_.fragment_size = 64 * 1024 + 4372;
    model_.fragment_count = 8;
    model_.total_size = model_.fragment_size * model_.fragment_count;
    std::vector<Hash32> leaves;
    for (uint64_t index = 0; index < model_.fragment_count; ++index) {
      fragments_.push_back(Bytes(model_.sealed_size(index), static_cast<uint8_t>(index * 7 + 1)));
      leaves.push_back(crypto::merkle_leaf_hash(fragments_.back()));
    }
    model_.fragments_root = crypto::merkle_root_from_leaves(leaves);
    for (uint64_t index = 0; index < model_.fragment_count; ++index) {
      proofs_.push_back(crypto::merkle_inclusion_proof(leaves, index));
    }

    holder_ = std::make_unique<Peer>(network_config());
    holder_->exchange->start();
    ASSERT_TRUE(holder_->network.start().is_ok());
    p2p::NetworkConfig config = network_config();
    config.persistent_peers = {to_hex(holder_->key.public_key()) + "@127.0.0.1:" +
                               std::to_string(holder_->network.port())};
    puller_ = std::make_unique<Peer>(config);
    puller_->exchange->start();
    ASSERT_TRUE(puller_->network.start().is_ok());
    ASSERT_TRUE(wait_until([&] { return !puller_->network.peers().empty() && !holder_->network.peers().empty(); }));
  }

  void TearDown() override {
    puller_.reset();
    holder_.reset();
  }

  ModelContent model_;
  std::vector<Bytes> fragments_;
  std::vector<std::vector<Hash32>> proofs_;
  std::unique_ptr<Peer> holder_;
  std::unique_ptr<Peer> puller_;
};

TEST_F(FragmentExchangeTest, PullsVerifiedFragments) {
  bool stored = false;
  for (uint32_t index = 0; index < 6; ++index) {
    ASSERT_TRUE(holder_->store->put(model_.id, index, {fragments_[index], proofs_[index]}, &stored).is_ok());
  }
  // Index 7 is held by nobody, so the pull ends when the holder answers
  // "missing" for it.
  size_t held = puller_->exchange->fetch(model_, {0, 2, 5, 7}, 10s);
  EXPECT_EQ(held, 3u);

  for (uint32_t index : {0u, 2u, 5u}) {
    StoredFragment fragment;
    ASSERT_TRUE(puller_->store->get(model_.id, index, &fragment).is_ok()) << "fragment " << index;
    EXPECT_EQ(fragment.data, fragments_[index]);
    EXPECT_EQ(fragment.proof, proofs_[index]);
  }
  EXPECT_FALSE(puller_->store->has(model_.id, 1)) << "only requested fragments are pulled";
  EXPECT_FALSE(puller_->store->has(model_.id, 7));
  EXPECT_EQ(puller_->exchange->pulled(), 3u);
  EXPECT_EQ(puller_->exchange->rejected(), 0u);
}

TEST_F(FragmentExchangeTest, UnrequestedResponseBansSender) {
  v1::FragmentMessage message;
  auto* response = message.mutable_response();
  response->set_model_id(model_.id.data(), model_.id.size());
  response->set_index(4);
  response->set_data(fragments_[4].data(), fragments_[4].size());
  std::string payload = message.SerializeAsString();
  const p2p::PeerId puller_id = puller_->network.id();
  ASSERT_TRUE(holder_->network.send(puller_id, p2p::Channel::kFragments, Bytes(payload.begin(), payload.end())));

  EXPECT_TRUE(wait_until([&] { return puller_->network.is_banned(holder_->network.id()); }));
  EXPECT_EQ(puller_->exchange->rejected(), 1u);
  EXPECT_FALSE(puller_->store->has(model_.id, 4));
}

}  // namespace
}  // namespace automata::node
