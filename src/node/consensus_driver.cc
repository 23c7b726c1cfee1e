#include "automata/node/consensus_driver.h"

#include "automata/consensus/codec.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/application.h"
#include "automata/execution/chain_query.h"
#include "automata/mempool/mempool.h"
#include "automata/node/consensus_store.h"
#include "automata/node/evidence_pool.h"
#include "automata/node/sign_state_file.h"
#include "automata/node/wal.h"
#include "automata/p2p/network.h"
#include "automata/types/logging.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/consensus.pb.h"
#include "automata/v1/tx.pb.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

namespace automata::node {

namespace {

namespace fs = std::filesystem;

// First byte of a WAL record: who signed the message it holds.
constexpr uint8_t kWalOwn = 0;
constexpr uint8_t kWalReceived = 1;

uint64_t wall_clock_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The block hash consensus agrees on: SHA-256 of the header bytes. Bytes
// that are not a Block hash to SHA-256 of themselves, which no proposal's
// block_hash matches by accident.
Hash32 block_hash_of(ByteView bytes) {
  v1::Block block;
  if (!block.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return crypto::sha256(bytes);
  return crypto::sha256(as_view(block.header_bytes()));
}

std::vector<consensus::DuplicateVoteEvidence> evidence_of(const v1::Block& block, Status* status) {
  std::vector<consensus::DuplicateVoteEvidence> out;
  for (const auto& item : block.evidence()) {
    std::string bytes = item.SerializeAsString();
    consensus::DuplicateVoteEvidence evidence;
    *status = consensus::decode_evidence(as_view(bytes), &evidence);
    if (!status->is_ok()) return {};
    out.push_back(std::move(evidence));
  }
  *status = Status::ok();
  return out;
}

// Reads TxBody.signer (field 2) from body bytes without parsing the ops.
// False when the bytes are not a well-formed body with a 32-byte signer.
bool signer_of(const std::string& body, crypto::PublicKey* key) {
  namespace wire = google::protobuf::internal;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data()),
                                            static_cast<int>(body.size()));
  bool found = false;
  while (uint32_t tag = in.ReadTag()) {
    if (wire::WireFormatLite::GetTagFieldNumber(tag) == 2 &&
        wire::WireFormatLite::GetTagWireType(tag) == wire::WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      std::string signer;
      if (!in.ReadVarint32(&length) || length != key->size() || !in.ReadString(&signer, static_cast<int>(length))) {
        return false;
      }
      std::copy(signer.begin(), signer.end(), key->begin());
      found = true;
    } else if (!wire::WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return found && in.ConsumedEntireMessage();
}

std::string_view step_name(const consensus::Engine& engine) {
  if (engine.decided()) return "decided";
  return consensus::to_string(engine.step());
}

}  // namespace

ConsensusDriver::ConsensusDriver(DriverConfig config, execution::Application* app, const execution::ChainQuery* query,
                                 mempool::Mempool* mempool, p2p::Network* network, crypto::PrivateKey validator_key,
                                 consensus::ValidatorSet genesis_validators)
    : config_(std::move(config)),
      app_(app),
      query_(query),
      mempool_(mempool),
      network_(network),
      key_(std::move(validator_key)),
      proposer_address_(crypto::address_of(key_.public_key())),
      validators_(std::move(genesis_validators)) {}

ConsensusDriver::~ConsensusDriver() { stop(); }

void ConsensusDriver::set_on_commit(std::function<void(uint64_t, size_t)> callback) {
  on_commit_ = std::move(callback);
}

void ConsensusDriver::set_on_fatal(std::function<void(const Status&)> callback) { on_fatal_ = std::move(callback); }

ConsensusStatus ConsensusDriver::status() const {
  std::lock_guard<std::mutex> lock(status_mutex_);
  return status_;
}

Status ConsensusDriver::open() {
  auto log = logger("consensus");
  std::error_code ec;
  fs::create_directories(config_.state_dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot create {}: {}", config_.state_dir, ec.message()));

  Status status = ConsensusStore::open((fs::path(config_.state_dir) / "db").string(), &store_);
  if (!status.is_ok()) return status;
  evidence_ = std::make_unique<EvidencePool>(store_.get(), config_.chain_id, validators_);
  status = evidence_->load();
  if (!status.is_ok()) return status;

  std::string sign_path = (fs::path(config_.state_dir) / "sign_state.pb").string();
  consensus::LastSignState last;
  status = FileSignStateStore::load(sign_path, &last);
  if (!status.is_ok()) return status;
  sign_store_ = std::make_unique<FileSignStateStore>(sign_path);
  signer_ = std::make_unique<consensus::KeySigner>(key_, last, sign_store_.get());
  if (last.height > 0) {
    log->info("loaded signer state: last signed {} at height {} round {}", consensus::to_string(last.step),
              last.height, last.round);
  }

  consensus::EngineConfig engine_config;
  engine_config.chain_id = config_.chain_id;
  engine_config.timeouts = config_.timeouts;
  engine_config.block_hash = [](ByteView bytes) { return block_hash_of(bytes); };
  engine_ = std::make_unique<consensus::Engine>(std::move(engine_config), signer_.get());

  // A block stored as decided but not applied: the node stopped between
  // the two writes, so it applies the stored block now.
  uint64_t decided = store_->last_decided_height();
  for (uint64_t height = app_->last_height() + 1; height <= decided; ++height) {
    Bytes block;
    consensus::Commit commit;
    status = store_->load_decided(height, &block, &commit);
    if (!status.is_ok()) return status;
    log->warn("replaying stored decided block {} that was not applied before the last stop", height);
    status = apply_decided(height, commit.round, block, commit);
    if (!status.is_ok()) return status;
  }

  if (network_ != nullptr) {
    mempool_->enable_relay_queue();
    auto handler = [this](EventKind kind) {
      return [this, kind](const std::string& peer, Bytes payload) {
        push_event(Event{kind, peer, std::move(payload)});
      };
    };
    network_->set_handler(p2p::Channel::kConsensus, handler(EventKind::kConsensus));
    network_->set_handler(p2p::Channel::kBlocks, handler(EventKind::kBlocks));
    network_->set_handler(p2p::Channel::kTransactions, [this](const std::string& peer, Bytes payload) {
      push_tx_batch(peer, std::move(payload));
    });
    network_->set_handler(p2p::Channel::kEvidence, handler(EventKind::kEvidence));
    network_->set_on_peer_up([this](const p2p::PeerInfo& peer) {
      logger("consensus")->info("peer up: {} at {} ({})", peer.id.substr(0, 12), peer.remote_address,
                                peer.outbound ? "outbound" : "inbound");
      push_event(Event{EventKind::kPeerUp, peer.id, {}});
    });
    network_->set_on_peer_down([this](const std::string& peer, const std::string& reason) {
      logger("consensus")->info("peer down: {}: {}", peer.substr(0, 12), reason);
      push_event(Event{EventKind::kPeerDown, peer, {}});
    });
  }
  return Status::ok();
}

void ConsensusDriver::start() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = false;
  }
  {
    std::lock_guard<std::mutex> lock(tx_queue_mutex_);
    tx_stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
  if (network_ != nullptr) tx_thread_ = std::thread([this] { run_tx_admission(); });
}

void ConsensusDriver::stop() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  {
    std::lock_guard<std::mutex> lock(tx_queue_mutex_);
    tx_stopping_ = true;
  }
  tx_wake_.notify_one();
  if (tx_thread_.joinable()) tx_thread_.join();
  if (thread_.joinable()) {
    thread_.join();
    logger("consensus")->info("consensus stopped at height {}", app_->last_height());
  }
}

void ConsensusDriver::notify_new_txs() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    txs_available_ = true;
  }
  wake_.notify_one();
}

void ConsensusDriver::push_event(Event event) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    events_.push_back(std::move(event));
  }
  wake_.notify_one();
}

void ConsensusDriver::schedule(uint64_t delay_ms, Timer timer) {
  timers_.emplace(Clock::now() + std::chrono::milliseconds(delay_ms), timer);
}

void ConsensusDriver::run() {
  boot();
  schedule(config_.gossip_interval_ms, Timer{TimerKind::kGossip});
  while (!failed_) {
    std::deque<Event> events;
    bool txs = false;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      auto ready = [this] { return stopping_ || !events_.empty() || txs_available_; };
      if (timers_.empty()) {
        wake_.wait(lock, ready);
      } else {
        wake_.wait_until(lock, timers_.begin()->first, ready);
      }
      if (stopping_) return;
      events.swap(events_);
      txs = txs_available_;
      txs_available_ = false;
    }

    for (auto& event : events) {
      if (failed_) return;
      switch (event.kind) {
        case EventKind::kConsensus: on_consensus_message(event.peer, event.payload); break;
        case EventKind::kBlocks: on_blocks_message(event.peer, event.payload); break;
        case EventKind::kEvidence: on_evidence_message(event.peer, event.payload); break;
        case EventKind::kPeerUp:
          send_status(event.peer);
          resend_height_messages(event.peer);
          break;
        case EventKind::kPeerDown:
          peer_heights_.erase(event.peer);
          update_catching_up();
          break;
      }
    }
    if (txs) {
      relay_txs();
      maybe_begin_next_height(false);
    }
    while (!failed_ && !timers_.empty() && timers_.begin()->first <= Clock::now()) {
      Timer timer = timers_.begin()->second;
      timers_.erase(timers_.begin());
      on_timer(timer);
    }
    publish_status();
  }
}

void ConsensusDriver::boot() {
  auto log = logger("consensus");
  uint64_t height = app_->last_height() + 1;
  last_commit_at_ = Clock::now();

  WalReplay replay;
  Status status = Wal::open((fs::path(config_.state_dir) / "wal").string(), height, &wal_, &replay);
  if (!status.is_ok()) return fail(status);

  std::optional<consensus::RecoveryState> recovery;
  status = store_->load_recovery_state(&recovery);
  if (!status.is_ok()) return fail(status);
  if (recovery && recovery->height == height) {
    log->info("recovering height {} at round {} (locked round {}, valid round {})", height, recovery->round,
              recovery->locked_round, recovery->valid_round);
    handle(engine_->recover(*recovery, validators_for(height)));
  } else {
    handle(engine_->start_height(height, validators_for(height)));
  }

  // Replays the messages of this height: own ones are signed again with the
  // same signature (the signer state allows an exact repeat) and resent by
  // the gossip tick; received ones restore the vote counts.
  replaying_ = true;
  size_t replayed = 0;
  for (const auto& record : replay.records) {
    if (record.empty() || failed_) continue;
    consensus::ConsensusMessage message;
    if (!consensus::decode_message(ByteView(record).subspan(1), &message).is_ok()) continue;
    if (const auto* proposal = std::get_if<consensus::Proposal>(&message)) {
      handle(engine_->on_proposal(*proposal));
    } else if (const auto* vote = std::get_if<consensus::Vote>(&message)) {
      handle(engine_->on_vote(*vote));
    }
    ++replayed;
  }
  replaying_ = false;
  if (replayed > 0) log->info("replayed {} WAL records of height {}", replayed, height);
  log->info("consensus started at height {} with {} validators as {}", height, validators_for(height).size(),
            to_hex(key_.public_key()).substr(0, 12));
  publish_status();
}

const consensus::ValidatorSet& ConsensusDriver::validators_for(uint64_t height) {
  // Heights only move forward, so the set is advanced in place.
  while (validators_height_ < height) {
    validators_ = validators_.for_next_height();
    ++validators_height_;
  }
  return validators_;
}

void ConsensusDriver::fail(const Status& status) {
  if (failed_) return;
  failed_ = true;
  logger("consensus")->error("stopping consensus at height {}: {}", engine_ ? engine_->height() : 0,
                             status.to_string());
  if (on_fatal_) on_fatal_(status);
}

void ConsensusDriver::publish_status() {
  ConsensusStatus snapshot;
  snapshot.height = engine_->height();
  snapshot.round = engine_->round();
  snapshot.step = std::string(step_name(*engine_));
  snapshot.catching_up = catching_up_;
  for (const auto& [peer, height] : peer_heights_) snapshot.max_peer_height = std::max(snapshot.max_peer_height, height);
  std::lock_guard<std::mutex> lock(status_mutex_);
  status_ = std::move(snapshot);
}

void ConsensusDriver::handle(consensus::Effects effects) {
  std::deque<consensus::Effect> pending(std::make_move_iterator(effects.begin()),
                                        std::make_move_iterator(effects.end()));
  while (!pending.empty() && !failed_) {
    consensus::Effect effect = std::move(pending.front());
    pending.pop_front();
    handle_effect(effect, pending);
  }
}

void ConsensusDriver::handle_effect(consensus::Effect& effect, std::deque<consensus::Effect>& pending) {
  auto append = [&pending](consensus::Effects more) {
    for (auto& e : more) pending.push_back(std::move(e));
  };
  if (auto* persist = std::get_if<consensus::PersistState>(&effect)) {
    // A height's fresh state (round 0, nothing locked or valid) is what
    // boot() starts from when no state of that height is stored, so
    // writing it would sync nothing new. The engine emits it once, before
    // any other state of the height.
    const consensus::RecoveryState& state = persist->state;
    if (state.round == 0 && state.locked_round < 0 && state.valid_round < 0 && !state.locked_hash &&
        !state.valid_hash) {
      return;
    }
    Status status = store_->save_recovery_state(persist->state);
    if (!status.is_ok()) fail(status);
  } else if (auto* proposal = std::get_if<consensus::BroadcastProposal>(&effect)) {
    Bytes message = consensus::encode_message(proposal->proposal);
    log_wal(true, message);
    logger("consensus")->debug("sending {}", consensus::describe(proposal->proposal));
    if (network_ != nullptr && !failed_) network_->broadcast(p2p::Channel::kConsensus, std::move(message));
  } else if (auto* vote = std::get_if<consensus::BroadcastVote>(&effect)) {
    Bytes message = consensus::encode_message(vote->vote);
    log_wal(true, message);
    logger("consensus")->debug("sending {}", consensus::describe(vote->vote));
    if (network_ != nullptr && !failed_) network_->broadcast(p2p::Channel::kConsensus, std::move(message));
  } else if (auto* timeout = std::get_if<consensus::ScheduleTimeout>(&effect)) {
    schedule(timeout->duration_ms, Timer{TimerKind::kEngine, timeout->height, timeout->round, timeout->step});
  } else if (auto* request = std::get_if<consensus::RequestBlock>(&effect)) {
    build_block(request->height, request->round, pending);
  } else if (auto* validate = std::get_if<consensus::ValidateBlock>(&effect)) {
    bool valid = validate_block(validate->height, validate->block);
    append(engine_->on_block_validity(validate->height, validate->block_hash, valid));
  } else if (auto* evidence = std::get_if<consensus::ReportEvidence>(&effect)) {
    add_evidence(evidence->evidence, std::nullopt);
  } else if (auto* decide = std::get_if<consensus::Decide>(&effect)) {
    on_decide(*decide);
  }
}

void ConsensusDriver::log_wal(bool own, const Bytes& message) {
  if (replaying_ && !own) return;
  Bytes record;
  record.reserve(message.size() + 1);
  record.push_back(own ? kWalOwn : kWalReceived);
  record.insert(record.end(), message.begin(), message.end());
  // Own messages are synced: after a crash the node must be able to resend
  // them. Received ones can be fetched again from peers.
  Status status = wal_->append(record, own);
  if (!status.is_ok()) fail(status);
}

void ConsensusDriver::build_block(uint64_t height, int64_t round, std::deque<consensus::Effect>& pending) {
  auto log = logger("consensus");
  if (app_->last_height() + 1 != height) {
    log->warn("not proposing at height {} round {}: the application is at height {}", height, round,
              app_->last_height());
    return;
  }
  execution::BlockContext context;
  context.height = height;
  context.time_ms = std::max(wall_clock_ms(), query_->status().block_time_ms + 1);
  context.proposer = proposer_address_;
  for (const auto& evidence : evidence_->pending(config_.max_block_evidence)) {
    context.evidence.push_back(consensus::encode_evidence(evidence));
  }

  std::vector<Bytes> candidates = mempool_->reap(config_.max_block_txs, config_.max_block_bytes);
  v1::Block block;
  Status status = app_->prepare_block(context, candidates, &block);
  if (!status.is_ok()) {
    // Without a block the engine's propose timeout moves the round on.
    log->error("prepare_block failed at height {} round {}: {}", height, round, status.to_string());
    return;
  }
  Hash32 hash = crypto::sha256(as_view(block.header_bytes()));
  auto signature = key_.sign(hash);
  block.set_proposer_signature(signature.data(), signature.size());
  std::string serialized = block.SerializeAsString();
  log->debug("proposing block {} at height {} round {} with {} txs", to_hex(hash).substr(0, 12), height, round,
             block.txs_size());
  for (auto& e : engine_->on_block_to_propose(height, round, Bytes(serialized.begin(), serialized.end()))) {
    pending.push_back(std::move(e));
  }
}

bool ConsensusDriver::validate_block(uint64_t height, const Bytes& block_bytes) {
  auto log = logger("consensus");
  v1::Block block;
  if (!block.ParseFromArray(block_bytes.data(), static_cast<int>(block_bytes.size()))) {
    log->warn("proposed block at height {} does not parse as a Block", height);
    return false;
  }
  if (app_->last_height() + 1 != height) {
    log->warn("cannot validate the block at height {}: the application is at height {}", height, app_->last_height());
    return false;
  }
  Status status = app_->process_block(block);
  if (!status.is_ok()) {
    log->warn("proposed block {} at height {} is invalid: {}",
              to_hex(crypto::sha256(as_view(block.header_bytes()))).substr(0, 12), height, status.to_string());
    return false;
  }
  auto evidence = evidence_of(block, &status);
  if (!status.is_ok()) {
    log->warn("proposed block at height {} has undecodable evidence: {}", height, status.to_string());
    return false;
  }
  if (evidence.size() > config_.max_block_evidence) {
    log->warn("proposed block at height {} has {} evidence items, over the limit of {}", height, evidence.size(),
              config_.max_block_evidence);
    return false;
  }
  for (const auto& item : evidence) {
    status = verify_evidence(config_.chain_id, validators_for(height), item);
    if (!status.is_ok()) {
      log->warn("proposed block at height {} has invalid evidence: {}", height, status.to_string());
      return false;
    }
    std::optional<uint64_t> included = evidence_->included_height(item);
    if (included && *included < height) {
      log->warn("proposed block at height {} repeats evidence against validator {} already included at height {}",
                height, to_hex(item.vote_a.validator), *included);
      return false;
    }
  }
  return true;
}

void ConsensusDriver::on_decide(const consensus::Decide& decide) {
  Status status = apply_decided(decide.height, decide.round, decide.block, decide.commit);
  if (!status.is_ok()) return fail(status);
  // The next height's WAL file is created and its directory synced now,
  // while the node may wait for txs, rather than when that height starts.
  if (wal_->height() <= decide.height) {
    status = wal_->rotate(decide.height + 1);
    if (!status.is_ok()) return fail(status);
  }
  waiting_next_height_ = true;
  maybe_begin_next_height(false);
  send_status(std::nullopt);
}

Status ConsensusDriver::apply_decided(uint64_t height, int64_t round, const Bytes& block_bytes,
                                      const consensus::Commit& commit) {
  auto started = Clock::now();
  v1::Block block;
  if (!block.ParseFromArray(block_bytes.data(), static_cast<int>(block_bytes.size()))) {
    return Status::corruption(fmt::format("decided block at height {} does not parse", height));
  }
  // Stored before apply: a crash during apply re-applies it at start.
  Status status = store_->save_decided(height, block_bytes, commit);
  if (!status.is_ok()) return status;
  status = app_->finalize_block(block);
  if (!status.is_ok()) return status;
  status = app_->commit();
  if (!status.is_ok()) return status;

  // The signers let the mempool recheck only their txs. A tx whose body
  // does not parse names no signer, so the mempool rechecks every tx then.
  std::vector<Hash32> committed;
  std::vector<Address> senders;
  committed.reserve(static_cast<size_t>(block.txs_size()));
  senders.reserve(static_cast<size_t>(block.txs_size()));
  bool all_senders = true;
  for (const auto& raw : block.txs()) {
    v1::Tx tx;
    if (!tx.ParseFromString(raw)) {
      all_senders = false;
      continue;
    }
    committed.push_back(crypto::sha256(as_view(tx.body_bytes())));
    crypto::PublicKey key{};
    if (signer_of(tx.body_bytes(), &key)) {
      senders.push_back(crypto::address_of(key));
    } else {
      all_senders = false;
    }
  }
  if (all_senders) {
    mempool_->update(height, committed, senders);
  } else {
    mempool_->update(height, committed);
  }

  auto evidence = evidence_of(block, &status);
  if (status.is_ok() && !evidence.empty()) status = evidence_->mark_included(evidence, height);
  if (!status.is_ok()) logger("consensus")->error("cannot record the evidence of block {}: {}", height, status.to_string());

  last_commit_at_ = Clock::now();
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(last_commit_at_ - started).count();
  logger("consensus")->info("block committed: height {}, {} txs, round {}, hash {}, {} signatures, apply {} ms",
                            height, block.txs_size(), round, to_hex(commit.block_hash).substr(0, 12),
                            commit.signatures.size(), elapsed);
  if (on_commit_) on_commit_(height, static_cast<size_t>(block.txs_size()));
  return Status::ok();
}

void ConsensusDriver::begin_height(uint64_t height) {
  if (engine_->height() >= height || failed_) return;
  waiting_next_height_ = false;
  if (wal_->height() < height) {
    Status status = wal_->rotate(height);
    if (!status.is_ok()) return fail(status);
  }
  handle(engine_->start_height(height, validators_for(height)));
}

void ConsensusDriver::maybe_begin_next_height(bool message_for_next) {
  if (!waiting_next_height_ || catching_up_) return;
  auto now = Clock::now();
  auto since_commit = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_commit_at_).count();
  auto elapsed = static_cast<uint64_t>(std::max<int64_t>(0, since_commit));
  bool has_txs = mempool_->has_executable();
  bool due = message_for_next || elapsed >= config_.empty_block_interval_ms ||
             (has_txs && elapsed >= config_.block_interval_ms);
  if (due) {
    begin_height(app_->last_height() + 1);
    return;
  }
  uint64_t wait = has_txs ? config_.block_interval_ms - elapsed : config_.empty_block_interval_ms - elapsed;
  schedule(wait, Timer{TimerKind::kNextHeight, app_->last_height() + 1});
}

void ConsensusDriver::on_timer(const Timer& timer) {
  switch (timer.kind) {
    case TimerKind::kEngine:
      if (catching_up_) {
        // Kept for later: catching up can end without a block applied
        // (the peers that were ahead went away), and then the engine still
        // needs this timeout.
        schedule(config_.gossip_interval_ms, timer);
      } else {
        handle(engine_->on_timeout(timer.height, timer.round, timer.step));
      }
      break;
    case TimerKind::kNextHeight:
      if (timer.height == app_->last_height() + 1) maybe_begin_next_height(false);
      break;
    case TimerKind::kGossip:
      on_gossip_tick();
      schedule(config_.gossip_interval_ms, Timer{TimerKind::kGossip});
      break;
  }
}

void ConsensusDriver::on_consensus_message(const std::string& peer, const Bytes& payload) {
  consensus::ConsensusMessage message;
  Status status = consensus::decode_message(payload, &message);
  if (!status.is_ok()) {
    logger("consensus")->warn("undecodable consensus message from peer {}: {}", peer.substr(0, 12), status.to_string());
    return;
  }
  if (catching_up_) return;
  uint64_t height = 0;
  if (const auto* proposal = std::get_if<consensus::Proposal>(&message)) height = proposal->height;
  if (const auto* vote = std::get_if<consensus::Vote>(&message)) height = vote->height;
  if (height == 0) return;  // commits travel on the blocks channel
  if (height == app_->last_height() + 1 && waiting_next_height_) maybe_begin_next_height(true);
  if (height == engine_->height()) log_wal(false, payload);
  if (const auto* proposal = std::get_if<consensus::Proposal>(&message)) {
    handle(engine_->on_proposal(*proposal));
  } else if (const auto* vote = std::get_if<consensus::Vote>(&message)) {
    handle(engine_->on_vote(*vote));
  }
}

}  // namespace automata::node
