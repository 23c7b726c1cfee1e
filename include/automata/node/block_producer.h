// The single-validator block producer of the dev chain. It drives
// execution::Application through the same calls consensus will make:
// reap -> prepare_block -> sign the block hash -> finalize_block -> commit
// -> Mempool::update.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/status.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace automata::execution {
class Application;
class ChainQuery;
}  // namespace automata::execution

namespace automata::mempool {
class Mempool;
}  // namespace automata::mempool

namespace automata::node {

struct ProducerConfig {
  uint64_t block_interval_ms = 100;         // at most one block per interval
  uint64_t empty_block_interval_ms = 5000;  // an empty block after this much quiet
  size_t max_block_txs = 20000;
  size_t max_block_bytes = 16 << 20;
};

// Thread-safe: notify_new_txs() may be called from any thread. app, query
// and mempool must outlive the producer.
class BlockProducer {
 public:
  BlockProducer(execution::Application* app, const execution::ChainQuery* query, mempool::Mempool* mempool,
                crypto::PrivateKey validator_key, ProducerConfig config);
  ~BlockProducer();  // calls stop()
  BlockProducer(const BlockProducer&) = delete;
  BlockProducer& operator=(const BlockProducer&) = delete;

  // Called after each commit with the height and the number of txs.
  void set_on_commit(std::function<void(uint64_t height, size_t tx_count)> callback);
  // Called once, from the producer thread, when a block cannot be produced
  // or committed; the producer thread has stopped by then.
  void set_on_fatal(std::function<void(const Status&)> callback);

  // Starts the producer thread.
  void start();
  // Wakes the producer because the mempool has new txs. Cheap.
  void notify_new_txs();
  // Finishes the block in progress, if any, and joins the thread.
  // Idempotent.
  void stop();

  // Produces and commits one block with time max(now_ms, last time + 1).
  // Returns the first failing step's status; after a failure the chain
  // state is unknown and the caller must stop. Used by the thread and by
  // tests; never call it while the thread runs.
  Status produce_block(uint64_t now_ms);

 private:
  void run();

  execution::Application* app_;
  const execution::ChainQuery* query_;
  mempool::Mempool* mempool_;
  crypto::PrivateKey key_;
  Address proposer_{};
  ProducerConfig config_;
  std::function<void(uint64_t, size_t)> on_commit_;
  std::function<void(const Status&)> on_fatal_;
  size_t last_tx_count_ = 0;  // used by the producer thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_txs_ = false;  // guarded by mutex_
  bool stopping_ = false;     // guarded by mutex_
  std::thread thread_;
};

}  // namespace automata::node
