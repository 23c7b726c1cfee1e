// The consensus driver: one thread per node that owns the Tendermint engine
// and carries out its effects against the application, the mempool, the
// P2P network and the node's crash-safe stores.
//
// Inputs, all funneled into the driver thread: consensus messages, block
// sync messages and evidence from peers; timeouts from a timer queue; "new
// transactions" from the mempool. Tx batches from peers go to a second
// thread, which admits them into the mempool, so their signature checks do
// not delay consensus messages. Effects run in the
// order the engine returns them: the recovery state is stored before the
// messages that follow it leave, the signer state is synced (by the
// KeySigner's FileSignStateStore) before a signature is returned, and a
// decided block and its commit are stored before the application applies
// them.
//
// Files under DriverConfig::state_dir:
//   sign_state.pb   the last signed message (FileSignStateStore)
//   wal/            the write-ahead log of the current height (Wal)
//   db/             decided blocks, commits, recovery state, evidence
//                   (ConsensusStore)
#pragma once

#include "automata/consensus/engine.h"
#include "automata/consensus/validator_set.h"
#include "automata/crypto/keys.h"
#include "automata/types/status.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace automata::execution {
class Application;
class ChainQuery;
}  // namespace automata::execution

namespace automata::mempool {
class Mempool;
}  // namespace automata::mempool

namespace automata::p2p {
class Network;
}  // namespace automata::p2p

namespace automata::node {

class ConsensusStore;
class EvidencePool;
class FileSignStateStore;
class Wal;

struct DriverConfig {
  std::string chain_id;
  std::string state_dir;
  consensus::TimeoutConfig timeouts;
  // After a block, the next height starts once the mempool holds an
  // executable tx and block_interval_ms has passed, or once
  // empty_block_interval_ms has passed, or as soon as a peer's message for
  // that height arrives (CometBFT's create_empty_blocks_interval).
  uint64_t block_interval_ms = 100;
  uint64_t empty_block_interval_ms = 5000;
  size_t max_block_txs = 20000;
  size_t max_block_bytes = 16u << 20;
  size_t max_block_evidence = 16;
  // Period of the status broadcast, of resending the current height's
  // proposals and votes when the height makes no progress, and of retrying
  // a block sync request.
  uint64_t gossip_interval_ms = 1000;
};

// A snapshot for node_status.
struct ConsensusStatus {
  uint64_t height = 0;  // height the engine works on
  int64_t round = 0;
  std::string step;     // "propose", "prevote", "precommit" or "decided"
  bool catching_up = false;
  uint64_t max_peer_height = 0;  // highest decided height a peer reported
};

class ConsensusDriver {
 public:
  // app, query and mempool must outlive the driver. network may be null (a
  // chain with no peers, such as the dev chain). genesis_validators is the
  // validator set of height 1.
  ConsensusDriver(DriverConfig config, execution::Application* app, const execution::ChainQuery* query,
                  mempool::Mempool* mempool, p2p::Network* network, crypto::PrivateKey validator_key,
                  consensus::ValidatorSet genesis_validators);
  ~ConsensusDriver();  // calls stop()
  ConsensusDriver(const ConsensusDriver&) = delete;
  ConsensusDriver& operator=(const ConsensusDriver&) = delete;

  // Opens the stores under state_dir, loads the signer state and evidence,
  // and applies decided blocks that were stored but not yet applied (a
  // crash between the two). Registers the P2P handlers, so call it before
  // Network::start(). Returns the first store or application error.
  Status open();

  // Starts the driver thread: it recovers the engine from the stored
  // recovery state and the WAL, or starts the next height. Requires open().
  void start();
  // Joins the driver thread. Stop the network first so no handler runs
  // afterwards. Idempotent.
  void stop();

  // Wakes the driver because the mempool has new txs. Thread-safe, cheap.
  void notify_new_txs();

  // Called on the driver thread after each applied block.
  void set_on_commit(std::function<void(uint64_t height, size_t tx_count)> callback);
  // Called once, on the driver thread, when storing or applying a block
  // fails; the driver thread stops right after.
  void set_on_fatal(std::function<void(const Status&)> callback);

  // Thread-safe.
  ConsensusStatus status() const;
  // The evidence pool; valid after open(). Thread-safe.
  EvidencePool* evidence() const { return evidence_.get(); }
  crypto::PublicKey validator_public_key() const { return key_.public_key(); }

 private:
  enum class EventKind { kConsensus, kBlocks, kEvidence, kPeerUp, kPeerDown };
  struct Event {
    EventKind kind;
    std::string peer;
    Bytes payload;
  };
  struct TxBatchMessage {
    std::string peer;
    Bytes payload;  // a serialized v1.TxBatch
  };
  enum class TimerKind { kEngine, kGossip, kNextHeight };
  struct Timer {
    TimerKind kind;
    uint64_t height = 0;
    int64_t round = 0;
    consensus::Step step = consensus::Step::kPropose;
  };
  using Clock = std::chrono::steady_clock;

  // consensus_driver.cc: the thread, the engine and its effects.
  void run();
  void boot();
  void push_event(Event event);
  void handle(consensus::Effects effects);
  void handle_effect(consensus::Effect& effect, std::deque<consensus::Effect>& pending);
  void build_block(uint64_t height, int64_t round, std::deque<consensus::Effect>& pending);
  bool validate_block(uint64_t height, const Bytes& block_bytes);
  void on_decide(const consensus::Decide& decide);
  Status apply_decided(uint64_t height, int64_t round, const Bytes& block_bytes, const consensus::Commit& commit);
  void begin_height(uint64_t height);
  void maybe_begin_next_height(bool message_for_next);
  void on_timer(const Timer& timer);
  void on_consensus_message(const std::string& peer, const Bytes& payload);
  void log_wal(bool own, const Bytes& message);
  const consensus::ValidatorSet& validators_for(uint64_t height);
  void fail(const Status& status);
  void publish_status();
  void schedule(uint64_t delay_ms, Timer timer);

  // block_sync.cc: status exchange and catching up.
  void send_status(const std::optional<std::string>& peer);
  void on_blocks_message(const std::string& peer, const Bytes& payload);
  void on_sync_response(const std::string& peer, uint64_t height, const Bytes& block, const consensus::Commit& commit);
  void request_sync(bool allow_one_behind);
  void update_catching_up();

  // gossip.cc: transactions, evidence, resends.
  void relay_txs();
  void push_tx_batch(const std::string& peer, Bytes payload);
  void run_tx_admission();
  void on_transactions(const std::string& peer, const Bytes& payload);
  void on_evidence_message(const std::string& peer, const Bytes& payload);
  void add_evidence(const consensus::DuplicateVoteEvidence& evidence, const std::optional<std::string>& from);
  void resend_height_messages(const std::optional<std::string>& peer);
  void on_gossip_tick();

  DriverConfig config_;
  execution::Application* app_;
  const execution::ChainQuery* query_;
  mempool::Mempool* mempool_;
  p2p::Network* network_;  // may be null
  crypto::PrivateKey key_;
  Address proposer_address_{};

  std::unique_ptr<ConsensusStore> store_;
  std::unique_ptr<EvidencePool> evidence_;
  std::unique_ptr<FileSignStateStore> sign_store_;
  std::unique_ptr<consensus::KeySigner> signer_;
  std::unique_ptr<consensus::Engine> engine_;
  std::unique_ptr<Wal> wal_;

  // Used by the driver thread only.
  consensus::ValidatorSet validators_;  // set of validators_height_
  uint64_t validators_height_ = 1;
  std::multimap<Clock::time_point, Timer> timers_;
  Clock::time_point last_commit_at_;
  bool waiting_next_height_ = false;  // decided; the next height waits for txs or a timer
  bool replaying_ = false;            // feeding the WAL into the engine
  bool failed_ = false;
  std::map<std::string, uint64_t> peer_heights_;
  std::optional<uint64_t> sync_requested_height_;
  std::string sync_requested_peer_;
  Clock::time_point sync_requested_at_;
  bool catching_up_ = false;
  std::tuple<uint64_t, int64_t, consensus::Step> last_tick_position_{0, 0, consensus::Step::kPropose};
  std::function<void(uint64_t, size_t)> on_commit_;
  std::function<void(const Status&)> on_fatal_;

  std::mutex queue_mutex_;
  std::condition_variable wake_;
  std::deque<Event> events_;   // guarded by queue_mutex_
  bool txs_available_ = false;  // guarded by queue_mutex_
  bool stopping_ = false;       // guarded by queue_mutex_
  std::thread thread_;

  // Tx batches received from peers, admitted by tx_thread_ in arrival order.
  std::mutex tx_queue_mutex_;
  std::condition_variable tx_wake_;
  std::deque<TxBatchMessage> tx_batches_;  // guarded by tx_queue_mutex_
  size_t tx_batch_bytes_ = 0;              // guarded by tx_queue_mutex_: payload bytes in tx_batches_
  bool tx_stopping_ = false;               // guarded by tx_queue_mutex_
  uint64_t tx_batches_dropped_ = 0;        // guarded by tx_queue_mutex_, counted since the last warning
  std::thread tx_thread_;

  mutable std::mutex status_mutex_;
  ConsensusStatus status_;  // guarded by status_mutex_
};

}  // namespace automata::node
