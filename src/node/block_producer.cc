#include "automata/node/block_producer.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/application.h"
#include "automata/execution/chain_query.h"
#include "automata/mempool/mempool.h"
#include "automata/types/logging.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/tx.pb.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace automata::node {

namespace {

uint64_t wall_clock_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

BlockProducer::BlockProducer(execution::Application* app, const execution::ChainQuery* query,
                             mempool::Mempool* mempool, crypto::PrivateKey validator_key, ProducerConfig config)
    : app_(app),
      query_(query),
      mempool_(mempool),
      key_(std::move(validator_key)),
      proposer_(crypto::address_of(key_.public_key())),
      config_(config) {}

BlockProducer::~BlockProducer() { stop(); }

void BlockProducer::set_on_commit(std::function<void(uint64_t, size_t)> callback) { on_commit_ = std::move(callback); }

void BlockProducer::set_on_fatal(std::function<void(const Status&)> callback) { on_fatal_ = std::move(callback); }

void BlockProducer::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
  logger("producer")->info("block producer started: proposer {}, block interval {} ms, empty block interval {} ms",
                           crypto::encode_address(proposer_), config_.block_interval_ms,
                           config_.empty_block_interval_ms);
}

void BlockProducer::notify_new_txs() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_txs_ = true;
  }
  wake_.notify_one();
}

void BlockProducer::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
    logger("producer")->info("block producer stopped at height {}", app_->last_height());
  }
}

void BlockProducer::run() {
  using Clock = std::chrono::steady_clock;
  const auto block_interval = std::chrono::milliseconds(config_.block_interval_ms);
  const auto empty_interval = std::chrono::milliseconds(config_.empty_block_interval_ms);
  auto last_block_at = Clock::now();

  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    auto now = Clock::now();
    bool due = (pending_txs_ && now >= last_block_at + block_interval) || now >= last_block_at + empty_interval;
    if (!due) {
      wake_.wait_until(lock, pending_txs_ ? last_block_at + block_interval : last_block_at + empty_interval);
      continue;
    }
    pending_txs_ = false;
    lock.unlock();

    last_block_at = Clock::now();
    Status status = produce_block(wall_clock_ms());
    lock.lock();
    if (!status.is_ok()) {
      logger("producer")->error("stopping the node: block {} failed: {}", app_->last_height() + 1, status.to_string());
      lock.unlock();
      if (on_fatal_) on_fatal_(status);
      return;
    }
    // A block that took txs may have left executable ones behind. A block
    // without any means the pool contains only txs waiting for lower nonces.
    if (last_tx_count_ > 0 && mempool_->size() > 0) pending_txs_ = true;
  }
}

Status BlockProducer::produce_block(uint64_t now_ms) {
  auto started = std::chrono::steady_clock::now();
  auto chain_status = query_->status();
  uint64_t height = app_->last_height() + 1;

  execution::BlockContext context;
  context.height = height;
  context.time_ms = std::max(now_ms, chain_status.block_time_ms + 1);
  context.proposer = proposer_;

  std::vector<Bytes> candidates = mempool_->reap(config_.max_block_txs, config_.max_block_bytes);
  v1::Block block;
  Status status = app_->prepare_block(context, candidates, &block);
  if (!status.is_ok()) return status;

  Hash32 hash = crypto::sha256(as_view(block.header_bytes()));
  auto signature = key_.sign(hash);
  block.set_proposer_signature(signature.data(), signature.size());

  status = app_->finalize_block(block);
  if (!status.is_ok()) return status;
  status = app_->commit();
  if (!status.is_ok()) return status;

  std::vector<Hash32> committed;
  committed.reserve(static_cast<size_t>(block.txs_size()));
  for (const auto& raw : block.txs()) {
    v1::Tx tx;
    if (tx.ParseFromString(raw)) committed.push_back(crypto::sha256(as_view(tx.body_bytes())));
  }
  // NOTE: txs that prepare_block dropped stay pooled until update()'s
  // recheck rejects them; the producer does not remove them itself.
  mempool_->update(height, committed);
  last_tx_count_ = committed.size();

  auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  logger("producer")->info("block committed: height {}, {} txs, hash {}, {} ms", height, block.txs_size(),
                           to_hex(hash).substr(0, 12), elapsed);
  if (on_commit_) on_commit_(height, static_cast<size_t>(block.txs_size()));
  return Status::ok();
}

}  // namespace automata::node
