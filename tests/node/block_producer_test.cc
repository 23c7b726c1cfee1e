// The block producer over a real Chain and Mempool.
#include "automata/execution/chain.h"
#include "automata/execution/chain_query.h"
#include "automata/mempool/mempool.h"
#include "automata/node/block_producer.h"
#include "automata/v1/state.pb.h"
#include "node_test_util.h"
#include "rpc/rpc_fixture.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace automata::node {
namespace {

class ProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    genesis_.chain_id = "producer-test";
    genesis_.genesis_time_ms = 1'000;
    execution::GenesisValidator validator;
    validator.pubkey = validator_key_.public_key();
    genesis_.validators.push_back(validator);
    execution::GenesisAccount account;
    account.address = crypto::address_of(user_key_.public_key());
    account.balances.emplace_back("atm", 1'000'000'000);
    genesis_.accounts.push_back(account);

    execution::ChainOptions options;
    options.db_path = (dir_.path() / "data").string();
    options.verify_threads = 1;
    Status status = execution::Chain::open(options, genesis_, &chain_);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    mempool_ = std::make_unique<mempool::Mempool>(chain_.get(), mempool::MempoolConfig{});
  }

  std::unique_ptr<BlockProducer> make_producer(ProducerConfig config = {}) {
    return std::make_unique<BlockProducer>(chain_.get(), chain_.get(), mempool_.get(), validator_key_, config);
  }

  v1::BlockHeader header_at(uint64_t height, v1::Block* block_out = nullptr) {
    v1::Block block;
    Status status = chain_->block_by_height(height, &block);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    v1::BlockHeader header;
    EXPECT_TRUE(header.ParseFromString(block.header_bytes()));
    if (block_out != nullptr) *block_out = block;
    return header;
  }

  testing::TempDir dir_;
  crypto::PrivateKey validator_key_ = crypto::PrivateKey::generate();
  crypto::PrivateKey user_key_ = crypto::PrivateKey::generate();
  execution::Genesis genesis_;
  std::unique_ptr<execution::Chain> chain_;
  std::unique_ptr<mempool::Mempool> mempool_;
};

TEST_F(ProducerTest, BlocksChainHeightsAndHashes) {
  auto producer = make_producer();
  // The same clock reading three times: times must still increase.
  for (int i = 0; i < 3; ++i) {
    Status status = producer->produce_block(5'000);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }
  EXPECT_EQ(chain_->last_height(), 3u);

  Hash32 previous{};
  uint64_t previous_time = 0;
  for (uint64_t height = 1; height <= 3; ++height) {
    v1::Block block;
    v1::BlockHeader header = header_at(height, &block);
    EXPECT_EQ(header.height(), height);
    EXPECT_EQ(header.prev_hash(), to_string(previous)) << "height " << height;
    EXPECT_GT(header.time_ms(), previous_time);
    EXPECT_GE(header.time_ms(), 5'000u);
    Address proposer = crypto::address_of(validator_key_.public_key());
    EXPECT_EQ(header.proposer(), to_string(proposer));

    Hash32 hash = crypto::sha256(as_view(block.header_bytes()));
    EXPECT_TRUE(crypto::verify(validator_key_.public_key(), hash, *to_array<64>(as_view(block.proposer_signature()))));
    previous = hash;
    previous_time = header.time_ms();
  }
  EXPECT_EQ(chain_->last_block_hash(), previous);
}

TEST_F(ProducerTest, IncludesPooledTxsAndClearsPool) {
  Address to = crypto::address_of(crypto::PrivateKey::generate().public_key());
  for (uint64_t nonce = 0; nonce < 3; ++nonce) {
    auto tx = rpc::testing::make_transfer(user_key_, "producer-test", nonce, to, "10");
    ASSERT_EQ(mempool_->add(tx.bytes).code, execution::ResultCode::kOk);
  }
  auto producer = make_producer();
  size_t committed_txs = 0;
  producer->set_on_commit([&](uint64_t, size_t count) { committed_txs += count; });
  ASSERT_TRUE(producer->produce_block(10'000).is_ok());

  EXPECT_EQ(header_at(1).tx_count(), 3u);
  EXPECT_EQ(committed_txs, 3u);
  EXPECT_EQ(mempool_->size(), 0u);
  v1::Account account;
  uint64_t at = 0;
  ASSERT_TRUE(chain_->account(to, std::nullopt, &account, &at).is_ok());
  ASSERT_EQ(account.balances_size(), 1);
  EXPECT_EQ(account.balances(0).amount(), "30");
}

TEST_F(ProducerTest, ThreadCommitsSubmittedTx) {
  ProducerConfig config;
  config.block_interval_ms = 1;
  config.empty_block_interval_ms = 60'000;
  auto producer = make_producer(config);

  std::mutex mutex;
  std::condition_variable committed;
  uint64_t txs_seen = 0;  // guarded by mutex
  producer->set_on_commit([&](uint64_t, size_t count) {
    std::lock_guard<std::mutex> lock(mutex);
    txs_seen += count;
    committed.notify_all();
  });
  mempool_->set_on_new_tx([&] { producer->notify_new_txs(); });
  producer->start();

  auto tx = rpc::testing::make_transfer(user_key_, "producer-test", 0, Address{}, "1");
  ASSERT_EQ(mempool_->add(tx.bytes).code, execution::ResultCode::kOk);
  {
    std::unique_lock<std::mutex> lock(mutex);
    // Generous bound so that a hung producer fails the test instead of
    // hanging it; the block normally lands within milliseconds.
    committed.wait_for(lock, std::chrono::seconds(60), [&] { return txs_seen >= 1; });
    EXPECT_EQ(txs_seen, 1u);
  }
  producer->stop();
  mempool_->set_on_new_tx([] {});

  v1::TxLocation location;
  ASSERT_TRUE(chain_->tx_location(tx.hash, &location).is_ok());
  EXPECT_EQ(location.height(), chain_->last_height());
}

TEST_F(ProducerTest, ThreadMakesEmptyBlocksWhenQuiet) {
  ProducerConfig config;
  config.block_interval_ms = 1;
  config.empty_block_interval_ms = 5;
  auto producer = make_producer(config);
  std::mutex mutex;
  std::condition_variable committed;
  uint64_t last_height = 0;  // guarded by mutex
  producer->set_on_commit([&](uint64_t height, size_t) {
    std::lock_guard<std::mutex> lock(mutex);
    last_height = height;
    committed.notify_all();
  });
  producer->start();
  {
    std::unique_lock<std::mutex> lock(mutex);
    committed.wait_for(lock, std::chrono::seconds(60), [&] { return last_height >= 3; });
    EXPECT_GE(last_height, 3u);
  }
  producer->stop();
  uint64_t height = chain_->last_height();
  EXPECT_GE(height, 3u);
  v1::Block previous;
  ASSERT_TRUE(chain_->block_by_height(height - 1, &previous).is_ok());
  EXPECT_EQ(header_at(height).prev_hash(), to_string(crypto::sha256(as_view(previous.header_bytes()))));
}

}  // namespace
}  // namespace automata::node
