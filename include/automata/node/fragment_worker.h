// The placement worker: a thread owned by the node that keeps this node's
// fragment store in line with placement in committed state. Each pass,
// for every model it:
//   - pulls from peers the fragments placed on this node at the model's
//     epoch that the store lacks (at most pull_per_pass per pass);
//   - once every placed fragment is held and this node's ModelHolding does
//     not show them at that epoch, submits ModelAttest txs signed by the
//     validator key into the local mempool;
//   - when the model is available, deletes the fragments not placed on this
//     node (upload staging copies, and copies from an earlier epoch).
// Fragments of models no longer in state (burned) are deleted. A pass runs
// after each notify() (a committed block, an upload) or every tick.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace automata::execution {
class ChainQuery;
}  // namespace automata::execution

namespace automata::mempool {
class Mempool;
}  // namespace automata::mempool

namespace automata::node {

class FragmentExchange;
class FragmentStore;
struct ModelContent;

struct FragmentWorkerConfig {
  std::string chain_id;
  uint64_t min_gas_price = 1;  // atm per gas unit, for attest fees
  std::chrono::milliseconds tick{2000};
  // Wait for peers per request batch while pulling.
  std::chrono::milliseconds peer_wait{10'000};
  // Fragments pulled per pass, over all models; more work starts the next
  // pass at once.
  size_t pull_per_pass = 64;
  // Blocks to wait for an attest to show in state before sending it again.
  uint64_t attest_retry_blocks = 10;
  // Time a fragment not placed on this node is kept after a pass first
  // finds it. A copy pulled to serve model_fragment, or an upload's staging
  // copy, then outlives the reader that needs it.
  std::chrono::milliseconds drop_grace{10'000};
};

// Counts of the work one pass did, for logs and tests.
struct FragmentPassStats {
  size_t models = 0;
  size_t pulled = 0;     // fragments newly held after pulling
  size_t attest_txs = 0;  // ModelAttest txs added to the mempool
  size_t dropped = 0;    // fragments deleted
  bool more_work = false;  // the pull budget ran out
};

class FragmentWorker {
 public:
  // exchange may be null (no peers). Does not own chain, mempool, store or
  // exchange, which must outlive the worker. key is the validator key.
  FragmentWorker(FragmentWorkerConfig config, const execution::ChainQuery* chain, mempool::Mempool* mempool,
                 FragmentStore* store, FragmentExchange* exchange, const crypto::PrivateKey& key);
  // Calls stop().
  ~FragmentWorker();
  FragmentWorker(const FragmentWorker&) = delete;
  FragmentWorker& operator=(const FragmentWorker&) = delete;

  void start();
  // Stops and joins the thread, after the pass in progress. Idempotent.
  void stop();
  // Asks for a pass soon. Cheap and thread-safe.
  void notify();

  // Runs one pass on the calling thread. Returns the first error that
  // stopped it (a failed state read); errors about one model are logged
  // and the pass goes on with the next.
  Status run_pass(FragmentPassStats* stats);

 private:
  void run();
  Status pass_model(const ModelContent& model, const std::vector<crypto::PublicKey>& nodes, size_t* pull_budget,
                    FragmentPassStats* stats);
  Status submit_attest(const ModelContent& model, const std::vector<uint32_t>& placed, FragmentPassStats* stats);
  // Deletes the held fragments in extra (sorted; not placed on this node)
  // that earlier passes already found extra at least drop_grace ago.
  void drop_extra(const ModelContent& model, const std::vector<uint32_t>& extra, FragmentPassStats* stats);

  FragmentWorkerConfig config_;
  const execution::ChainQuery* chain_;
  mempool::Mempool* mempool_;
  FragmentStore* store_;
  FragmentExchange* exchange_;
  crypto::PrivateKey key_;
  crypto::PublicKey pubkey_{};
  Address address_{};

  // Model id -> (epoch, chain height) of the last attest submitted. Only
  // the worker's pass touches it, and passes never overlap (pass_mutex_).
  std::map<Hash32, std::pair<uint64_t, uint64_t>> submitted_;
  std::mutex pass_mutex_;  // serializes run_pass callers
  // When a pass first found each held fragment (model id, index) that is
  // not placed on this node. Guarded by pass_mutex_.
  std::map<std::pair<Hash32, uint32_t>, std::chrono::steady_clock::time_point> extra_since_;

  std::mutex mutex_;
  std::condition_variable wake_;  // signals notified_ or stopping_
  bool notified_ = false;         // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  std::thread thread_;
};

}  // namespace automata::node
