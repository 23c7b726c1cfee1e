// Gossip. Transactions are relayed in batches, each tx once, right after the
// mempool adds it, and not back to the peer it came from. Evidence is
// flooded once per fault. The current height's proposals and votes are
// resent while the height makes no progress, so lost messages are recovered.
#include "automata/node/consensus_driver.h"

#include "automata/consensus/codec.h"
#include "automata/mempool/mempool.h"
#include "automata/node/evidence_pool.h"
#include "automata/p2p/network.h"
#include "automata/types/logging.h"
#include "automata/v1/block.pb.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>

namespace automata::node {

namespace {

// Txs taken from the mempool's relay queue per step, and the payload size
// of one batch (under the transactions channel's 1 MiB frame cap).
constexpr size_t kRelayTakeTxs = 5000;
constexpr size_t kRelayBatchBytes = 900u << 10;
// Payload bytes of the tx batches from peers waiting for admission. Past
// this, new batches are dropped, which bounds the memory a node that falls
// behind spends on them. By estimate, a node of a 4-validator localnet at
// 3,000 transfers/s receives about 2 MB/s of batches, so this is 30 s.
constexpr size_t kMaxQueuedTxBatchBytes = 64u << 20;

// One TxBatch under construction, for the txs of one source.
struct PendingBatch {
  v1::TxBatch batch;
  size_t bytes = 0;
};

// Sends the batch to every peer except source (when it has one).
void send_batch(p2p::Network* network, const std::string* source, PendingBatch& pending) {
  if (pending.batch.txs_size() == 0) return;
  Bytes payload(pending.batch.ByteSizeLong());
  pending.batch.SerializeToArray(payload.data(), static_cast<int>(payload.size()));
  std::optional<p2p::PeerId> except;
  if (source != nullptr) except = *source;
  network->broadcast(p2p::Channel::kTransactions, std::move(payload), except);
  pending.batch.Clear();
  pending.bytes = 0;
}

}  // namespace

void ConsensusDriver::relay_txs() {
  // Without peers the queue is kept, so its txs go out once a peer connects.
  if (network_ == nullptr || network_->peers().empty()) return;
  size_t sent = 0;
  for (;;) {
    std::vector<mempool::RelayTx> txs = mempool_->take_relay_txs(kRelayTakeTxs);
    if (txs.empty()) break;
    // Grouped by source so that each batch can skip the peer it came from.
    // The map is keyed by the address of the shared source string, which
    // add_batch allocates once per call.
    std::map<const std::string*, PendingBatch> batches;
    for (const auto& tx : txs) {
      const std::string* source = tx.source.get();
      PendingBatch& pending = batches[source];
      if (pending.bytes + tx.bytes->size() > kRelayBatchBytes) send_batch(network_, source, pending);
      pending.batch.add_txs(tx.bytes->data(), tx.bytes->size());
      pending.bytes += tx.bytes->size() + 8;  // 8 bounds the field tag and length prefix
      ++sent;
    }
    for (auto& [source, pending] : batches) send_batch(network_, source, pending);
    if (txs.size() < kRelayTakeTxs) break;
  }
  if (sent > 0) logger("gossip")->debug("relayed {} txs", sent);
}

void ConsensusDriver::push_tx_batch(const std::string& peer, Bytes payload) {
  {
    std::lock_guard<std::mutex> lock(tx_queue_mutex_);
    if (tx_batch_bytes_ + payload.size() > kMaxQueuedTxBatchBytes) {
      ++tx_batches_dropped_;
      return;
    }
    tx_batch_bytes_ += payload.size();
    tx_batches_.push_back(TxBatchMessage{peer, std::move(payload)});
  }
  tx_wake_.notify_one();
}

void ConsensusDriver::run_tx_admission() {
  for (;;) {
    std::deque<TxBatchMessage> batches;
    uint64_t dropped = 0;
    {
      std::unique_lock<std::mutex> lock(tx_queue_mutex_);
      tx_wake_.wait(lock, [this] { return tx_stopping_ || !tx_batches_.empty(); });
      if (tx_stopping_) return;
      batches.swap(tx_batches_);
      tx_batch_bytes_ = 0;
      std::swap(dropped, tx_batches_dropped_);
    }
    if (dropped > 0) {
      logger("gossip")->warn("dropped {} tx batches from peers because {} MiB were already waiting for admission",
                             dropped, kMaxQueuedTxBatchBytes >> 20);
    }
    for (const auto& batch : batches) on_transactions(batch.peer, batch.payload);
  }
}

void ConsensusDriver::on_transactions(const std::string& peer, const Bytes& payload) {
  v1::TxBatch batch;
  if (!batch.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    logger("gossip")->warn("undecodable tx batch from peer {}", peer.substr(0, 12));
    return;
  }
  std::vector<Bytes> txs;
  txs.reserve(static_cast<size_t>(batch.txs_size()));
  for (const auto& raw : batch.txs()) txs.emplace_back(raw.begin(), raw.end());
  // Txs the pool rejects (duplicates included) are dropped silently: a
  // relayed tx may have been included or replaced meanwhile. The peer is
  // the source, so the relay skips it when passing the added txs on.
  auto results = mempool_->add_batch(std::move(txs), peer);
  size_t added = 0;
  for (const auto& result : results) added += result.code == execution::ResultCode::kOk ? 1 : 0;
  if (added > 0) logger("gossip")->debug("added {} of {} txs relayed by peer {}", added, results.size(), peer.substr(0, 12));
}

void ConsensusDriver::add_evidence(const consensus::DuplicateVoteEvidence& evidence,
                                   const std::optional<std::string>& from) {
  bool added = false;
  Status status = evidence_->add(evidence, &added);
  if (!status.is_ok()) {
    if (from && network_ != nullptr) {
      network_->report_misbehavior(*from, fmt::format("invalid evidence: {}", status.message()));
    } else {
      logger("evidence")->error("cannot keep reported evidence: {}", status.to_string());
    }
    return;
  }
  if (added && network_ != nullptr) {
    network_->broadcast(p2p::Channel::kEvidence, consensus::encode_evidence(evidence), from);
  }
}

void ConsensusDriver::on_evidence_message(const std::string& peer, const Bytes& payload) {
  consensus::DuplicateVoteEvidence evidence;
  Status status = consensus::decode_evidence(payload, &evidence);
  if (!status.is_ok()) {
    network_->report_misbehavior(peer, fmt::format("undecodable evidence: {}", status.message()));
    return;
  }
  add_evidence(evidence, peer);
}

void ConsensusDriver::resend_height_messages(const std::optional<std::string>& peer) {
  if (network_ == nullptr || catching_up_ || engine_->decided()) return;
  auto send = [&](Bytes message) {
    if (peer) {
      network_->send(*peer, p2p::Channel::kConsensus, std::move(message));
    } else {
      network_->broadcast(p2p::Channel::kConsensus, std::move(message));
    }
  };
  for (const auto& proposal : engine_->proposals()) send(consensus::encode_message(proposal));
  for (const auto& vote : engine_->votes()) send(consensus::encode_message(vote));
}

void ConsensusDriver::on_gossip_tick() {
  relay_txs();  // sends what was queued while the node had no peers
  send_status(std::nullopt);
  request_sync(true);
  auto position = std::make_tuple(engine_->height(), engine_->round(), engine_->step());
  if (position == last_tick_position_) resend_height_messages(std::nullopt);
  last_tick_position_ = position;
}

}  // namespace automata::node
