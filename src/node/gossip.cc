// Gossip: transactions relayed in batches (each tx hash sent once), evidence
// flooded once per fault, and the current height's proposals and votes
// resent while the height makes no progress, so lost messages are
// recovered.
#include "automata/node/consensus_driver.h"

#include "automata/consensus/codec.h"
#include "automata/crypto/sha256.h"
#include "automata/mempool/mempool.h"
#include "automata/node/evidence_pool.h"
#include "automata/p2p/network.h"
#include "automata/types/logging.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/tx.pb.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace automata::node {

namespace {

// Txs taken from the mempool per relay pass, and the payload size of one
// batch (under the transactions channel's 1 MiB frame cap).
constexpr size_t kRelayScanTxs = 5000;
constexpr size_t kRelayBatchBytes = 900u << 10;
// Remembered relayed hashes; the set is cleared past this size, which at
// worst sends some txs a second time.
constexpr size_t kMaxRelayedHashes = 200000;

void send_batch(p2p::Network* network, v1::TxBatch& batch) {
  if (batch.txs_size() == 0) return;
  std::string text = batch.SerializeAsString();
  network->broadcast(p2p::Channel::kTransactions, Bytes(text.begin(), text.end()));
  batch.Clear();
}

}  // namespace

void ConsensusDriver::relay_txs() {
  if (network_ == nullptr || network_->peers().empty()) return;
  if (relayed_txs_.size() > kMaxRelayedHashes) relayed_txs_.clear();
  // NOTE: reap() returns executable txs only, so txs held for a missing
  // lower nonce are relayed once they become executable.
  std::vector<Bytes> txs = mempool_->reap(kRelayScanTxs, config_.max_block_bytes);
  v1::TxBatch batch;
  size_t batch_bytes = 0;
  size_t sent = 0;
  for (const auto& raw : txs) {
    v1::Tx tx;
    if (!tx.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) continue;
    if (!relayed_txs_.insert(crypto::sha256(as_view(tx.body_bytes()))).second) continue;
    if (batch_bytes + raw.size() > kRelayBatchBytes) {
      send_batch(network_, batch);
      batch_bytes = 0;
    }
    batch.add_txs(raw.data(), raw.size());
    batch_bytes += raw.size() + 8;
    ++sent;
  }
  send_batch(network_, batch);
  if (sent > 0) logger("gossip")->debug("relayed {} txs", sent);
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
  // relayed tx may have been included or replaced meanwhile.
  auto results = mempool_->add_batch(std::move(txs));
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
  send_status(std::nullopt);
  request_sync(true);
  auto position = std::make_tuple(engine_->height(), engine_->round(), engine_->step());
  if (position == last_tick_position_) resend_height_messages(std::nullopt);
  last_tick_position_ = position;
}

}  // namespace automata::node
