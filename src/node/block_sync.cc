// Block sync. Peers exchange their decided heights on the blocks channel,
// and a node behind them requests each missing block with its commit,
// checks both and applies the block. A node missing two or more blocks is
// catching up, so it ignores consensus messages and defers timeouts until
// it reaches its peers, and then starts the next height.
#include "automata/node/consensus_driver.h"

#include "automata/consensus/codec.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/application.h"
#include "automata/node/consensus_store.h"
#include "automata/node/wal.h"
#include "automata/p2p/network.h"
#include "automata/types/logging.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/consensus.pb.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace automata::node {

namespace {

Bytes serialize(const v1::SyncMessage& message) {
  std::string text = message.SerializeAsString();
  return Bytes(text.begin(), text.end());
}

}  // namespace

void ConsensusDriver::send_status(const std::optional<std::string>& peer) {
  if (network_ == nullptr) return;
  v1::SyncMessage message;
  message.mutable_status()->set_height(app_->last_height());
  if (peer) {
    network_->send(*peer, p2p::Channel::kBlocks, serialize(message));
  } else {
    network_->broadcast(p2p::Channel::kBlocks, serialize(message));
  }
}

void ConsensusDriver::on_blocks_message(const std::string& peer, const Bytes& payload) {
  auto log = logger("sync");
  v1::SyncMessage message;
  if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    log->warn("undecodable blocks message from peer {}", peer.substr(0, 12));
    return;
  }
  if (message.has_status()) {
    peer_heights_[peer] = message.status().height();
    update_catching_up();
    request_sync(false);
    return;
  }
  if (message.has_request()) {
    uint64_t height = message.request().height();
    Bytes block;
    consensus::Commit commit;
    Status status = store_->load_decided(height, &block, &commit);
    if (!status.is_ok()) {
      log->debug("peer {} requested block {}, which is not stored: {}", peer.substr(0, 12), height, status.to_string());
      return;
    }
    v1::SyncMessage response;
    response.mutable_response()->set_height(height);
    response.mutable_response()->set_block(block.data(), block.size());
    Bytes commit_bytes = consensus::encode_commit(commit);
    response.mutable_response()->mutable_commit()->ParseFromArray(commit_bytes.data(),
                                                                  static_cast<int>(commit_bytes.size()));
    network_->send(peer, p2p::Channel::kBlocks, serialize(response));
    return;
  }
  if (message.has_response()) {
    const auto& response = message.response();
    std::string commit_text = response.commit().SerializeAsString();
    consensus::Commit commit;
    Status status = consensus::decode_commit(as_view(commit_text), &commit);
    if (!status.is_ok()) {
      network_->report_misbehavior(peer, fmt::format("block sync response with an invalid commit: {}", status.message()));
      return;
    }
    Bytes block(response.block().begin(), response.block().end());
    on_sync_response(peer, response.height(), block, commit);
  }
}

void ConsensusDriver::on_sync_response(const std::string& peer, uint64_t height, const Bytes& block_bytes,
                                       const consensus::Commit& commit) {
  auto log = logger("sync");
  uint64_t next = app_->last_height() + 1;
  if (height != next) {
    // A late response to a request that another peer already served.
    log->debug("ignoring block {} from peer {}: the node needs block {}", height, peer.substr(0, 12), next);
    return;
  }
  if (sync_requested_height_ == height) sync_requested_height_.reset();

  v1::Block block;
  if (!block.ParseFromArray(block_bytes.data(), static_cast<int>(block_bytes.size()))) {
    network_->report_misbehavior(peer, fmt::format("block sync response for height {} is not a Block", height));
    return;
  }
  Hash32 hash = crypto::sha256(as_view(block.header_bytes()));
  if (commit.height != height || commit.block_hash != hash) {
    network_->report_misbehavior(
        peer, fmt::format("block sync response for height {}: the commit signs height {} block {}, the block is {}",
                          height, commit.height, to_hex(commit.block_hash).substr(0, 12), to_hex(hash).substr(0, 12)));
    return;
  }
  Status status = consensus::verify_commit(config_.chain_id, validators_for(height), commit);
  if (!status.is_ok()) {
    network_->report_misbehavior(peer, fmt::format("block sync response for height {}: {}", height, status.message()));
    return;
  }

  if (!catching_up_ && engine_->height() == height && !engine_->decided()) {
    // The engine decides through its own commit path, as if it had seen the
    // precommits, so its state stays consistent.
    handle(engine_->on_commit(commit, block_bytes));
  } else {
    status = apply_decided(height, commit.round, block_bytes, commit);
    if (!status.is_ok()) return fail(status);
    if (wal_->height() <= height) {
      status = wal_->rotate(height + 1);
      if (!status.is_ok()) return fail(status);
    }
    waiting_next_height_ = true;
  }
  update_catching_up();
  request_sync(false);
  if (!catching_up_) maybe_begin_next_height(true);
}

void ConsensusDriver::update_catching_up() {
  uint64_t max_peer = 0;
  for (const auto& [peer, height] : peer_heights_) max_peer = std::max(max_peer, height);
  uint64_t last = app_->last_height();
  bool behind = max_peer > last + 1;
  if (behind && !catching_up_) {
    logger("sync")->info("catching up: at height {}, peers at height {}", last, max_peer);
  } else if (!behind && catching_up_) {
    logger("sync")->info("caught up at height {}; joining consensus", last);
    waiting_next_height_ = true;
    catching_up_ = false;
    maybe_begin_next_height(true);
  }
  catching_up_ = behind;
}

void ConsensusDriver::request_sync(bool allow_one_behind) {
  if (network_ == nullptr) return;
  uint64_t next = app_->last_height() + 1;
  auto now = Clock::now();
  if (sync_requested_height_ == next &&
      now - sync_requested_at_ < std::chrono::milliseconds(3 * config_.gossip_interval_ms)) {
    return;
  }
  // Being one block behind is normal for a moment after peers decide, so
  // that case waits for the gossip tick (allow_one_behind) before asking.
  uint64_t needed = catching_up_ || allow_one_behind ? next : next + 1;
  std::vector<std::string> candidates;
  for (const auto& [peer, height] : peer_heights_) {
    if (height >= needed) candidates.push_back(peer);
  }
  if (candidates.empty()) return;
  // Rotate through the peers that have the block, so one slow or faulty
  // peer cannot stall sync.
  std::string peer = candidates[next % candidates.size()];
  if (sync_requested_height_ == next && candidates.size() > 1 && peer == sync_requested_peer_) {
    peer = candidates[(next + 1) % candidates.size()];
  }
  v1::SyncMessage message;
  message.mutable_request()->set_height(next);
  if (network_->send(peer, p2p::Channel::kBlocks, serialize(message))) {
    sync_requested_height_ = next;
    sync_requested_peer_ = peer;
    sync_requested_at_ = now;
    logger("sync")->debug("requested block {} from peer {}", next, peer.substr(0, 12));
  }
}

}  // namespace automata::node
