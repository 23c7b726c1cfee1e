#include "automata/node/fragment_exchange.h"

#include "automata/node/fragment_store.h"
#include "automata/p2p/network.h"
#include "automata/types/logging.h"
#include "automata/v1/p2p.pb.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace automata::node {

namespace {

// How long a request stays open for answers. An answer after that counts
// as unrequested.
constexpr std::chrono::minutes kPendingLifetime{5};
// Inbound bytes queued for the exchange thread; messages past it are
// dropped (a requester then times out and asks again).
constexpr size_t kMaxInboundBytes = size_t{64} << 20;

std::string short_id(const Hash32& id) { return to_hex(id).substr(0, 16); }
std::string short_peer(const std::string& peer) { return peer.substr(0, 12); }

Bytes serialize(const v1::FragmentMessage& message) {
  std::string text = message.SerializeAsString();
  return Bytes(text.begin(), text.end());
}

bool read_hash(const std::string& raw, Hash32* out) {
  if (raw.size() != out->size()) return false;
  std::copy(raw.begin(), raw.end(), out->begin());
  return true;
}

}  // namespace

FragmentExchange::FragmentExchange(p2p::Network* network, FragmentStore* store) : network_(network), store_(store) {}

FragmentExchange::~FragmentExchange() { stop(); }

void FragmentExchange::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
  }
  if (network_ == nullptr) {
    logger("fragments")->info("fragment exchange idle: P2P is off");
    return;
  }
  network_->set_handler(p2p::Channel::kFragments, [this](const std::string& peer, Bytes payload) {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (inbound_bytes_ + payload.size() > kMaxInboundBytes) {
      if (dropped_inbound_++ % 100 == 0) {
        logger("fragments")->warn("inbound fragment queue full: dropped a message from peer {} ({} dropped in total)",
                                  short_peer(peer), dropped_inbound_);
      }
      return;
    }
    inbound_bytes_ += payload.size();
    inbound_.push_back({peer, std::move(payload)});
    wake_.notify_one();
  });
  thread_ = std::thread([this] { run(); });
  logger("fragments")->info("fragment exchange started");
}

void FragmentExchange::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  arrived_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    logger("fragments")->info("fragment exchange stopped: {} fragments pulled, {} responses rejected", pulled(),
                              rejected());
  }
}

uint64_t FragmentExchange::pulled() const {
  std::lock_guard lock(mutex_);
  return pulled_;
}

uint64_t FragmentExchange::rejected() const {
  std::lock_guard lock(mutex_);
  return rejected_;
}

size_t FragmentExchange::fetch(const ModelContent& model, const std::vector<uint32_t>& indices,
                               std::chrono::milliseconds wait) {
  std::vector<uint32_t> missing;
  for (uint32_t index : indices) {
    if (!store_->has(model.id, index)) missing.push_back(index);
  }
  size_t held = indices.size() - missing.size();
  if (missing.empty() || network_ == nullptr) return held;

  for (size_t start = 0; start < missing.size(); start += kFragmentRequestBatch) {
    const size_t end = std::min(missing.size(), start + kFragmentRequestBatch);
    std::vector<uint32_t> batch(missing.begin() + static_cast<std::ptrdiff_t>(start),
                                missing.begin() + static_cast<std::ptrdiff_t>(end));
    std::vector<p2p::PeerInfo> peers = network_->peers();
    if (peers.empty()) break;

    v1::FragmentMessage message;
    auto* request = message.mutable_request();
    request->set_model_id(model.id.data(), model.id.size());
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      expire_pending_locked();
      const auto expires = std::chrono::steady_clock::now() + kPendingLifetime;
      for (uint32_t index : batch) {
        auto& pending = pending_[{model.id, index}];
        pending.model = model;
        pending.stored = false;
        pending.expires = expires;
        for (const auto& peer : peers) ++pending.asked[peer.id];
        request->add_indices(index);
      }
    }
    Bytes payload = serialize(message);
    for (const auto& peer : peers) network_->send(peer.id, p2p::Channel::kFragments, payload);

    // Waits until every index of the batch is stored or answered missing by
    // every peer asked.
    std::unique_lock lock(mutex_);
    auto settled = [&] {
      if (stopping_) return true;
      for (uint32_t index : batch) {
        auto it = pending_.find({model.id, index});
        if (it != pending_.end() && !it->second.stored && !it->second.asked.empty()) return false;
      }
      return true;
    };
    arrived_.wait_for(lock, wait, settled);
    lock.unlock();
    for (uint32_t index : batch) held += store_->has(model.id, index) ? 1 : 0;
  }
  return held;
}

void FragmentExchange::expire_pending_locked() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->second.expires < now ? pending_.erase(it) : std::next(it);
  }
}

void FragmentExchange::run() {
  while (true) {
    Inbound message;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !inbound_.empty(); });
      if (stopping_) return;
      message = std::move(inbound_.front());
      inbound_.pop_front();
      inbound_bytes_ -= message.payload.size();
    }
    handle(message);
  }
}

void FragmentExchange::handle(const Inbound& message) {
  v1::FragmentMessage decoded;
  if (!decoded.ParseFromArray(message.payload.data(), static_cast<int>(message.payload.size()))) {
    reject(message.peer, "undecodable fragment message");
    return;
  }
  if (decoded.has_request()) {
    Hash32 model{};
    if (!read_hash(decoded.request().model_id(), &model)) {
      reject(message.peer, fmt::format("fragment request with a model id of {} bytes, not 32",
                                       decoded.request().model_id().size()));
      return;
    }
    std::vector<uint32_t> indices(decoded.request().indices().begin(), decoded.request().indices().end());
    if (indices.size() > kMaxServedPerRequest) indices.resize(kMaxServedPerRequest);
    serve(message.peer, model, indices);
    return;
  }
  if (decoded.has_response()) {
    const auto& response = decoded.response();
    Hash32 model{};
    if (!read_hash(response.model_id(), &model)) {
      reject(message.peer, "fragment response with a model id that is not 32 bytes");
      return;
    }
    std::vector<Hash32> proof;
    for (const auto& raw : response.proof()) {
      Hash32 hash{};
      if (!read_hash(raw, &hash)) {
        reject(message.peer, fmt::format("fragment {} of model {}: proof hash is not 32 bytes", response.index(),
                                         short_id(model)));
        return;
      }
      proof.push_back(hash);
    }
    Bytes data(response.data().begin(), response.data().end());
    accept_response(message.peer, model, response.index(), response.missing(), std::move(data), std::move(proof));
    return;
  }
  reject(message.peer, "fragment message with neither a request nor a response");
}

void FragmentExchange::serve(const std::string& peer, const Hash32& model, const std::vector<uint32_t>& indices) {
  size_t served = 0;
  for (uint32_t index : indices) {
    v1::FragmentMessage message;
    auto* response = message.mutable_response();
    response->set_model_id(model.data(), model.size());
    response->set_index(index);
    StoredFragment fragment;
    Status status = store_->get(model, index, &fragment);
    if (status.is_ok()) {
      response->set_data(fragment.data.data(), fragment.data.size());
      for (const auto& hash : fragment.proof) response->add_proof(hash.data(), hash.size());
      ++served;
    } else {
      response->set_missing(true);
    }
    if (!network_->send(peer, p2p::Channel::kFragments, serialize(message))) {
      logger("fragments")->warn("could not send fragment {} of model {} to peer {}", index, short_id(model),
                                short_peer(peer));
    }
  }
  logger("fragments")->debug("peer {} asked for {} fragments of model {}: served {}", short_peer(peer), indices.size(),
                             short_id(model), served);
}

void FragmentExchange::accept_response(const std::string& peer, const Hash32& model, uint32_t index, bool missing,
                                       Bytes data, std::vector<Hash32> proof) {
  ModelContent content;
  bool requested = false;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find({model, index});
    if (it != pending_.end()) {
      auto asked = it->second.asked.find(peer);
      if (asked != it->second.asked.end()) {
        requested = true;
        if (--asked->second == 0) it->second.asked.erase(asked);
        content = it->second.model;
        if (missing || it->second.stored) {
          arrived_.notify_all();
          return;
        }
      }
    }
  }
  if (!requested) {
    reject(peer, fmt::format("unrequested fragment {} of model {}", index, to_hex(model)));
    return;
  }

  Status valid = check_fragment(content, index, data, proof);
  if (!valid.is_ok()) {
    reject(peer, valid.message());
    return;
  }
  bool stored = false;
  Status status = store_->put(model, index, StoredFragment{std::move(data), std::move(proof)}, &stored);
  if (!status.is_ok()) {
    logger("fragments")->error("storing fragment {} of model {} from peer {} failed: {}", index, short_id(model),
                               short_peer(peer), status.to_string());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find({model, index});
    if (it != pending_.end()) it->second.stored = true;
    if (stored) ++pulled_;
  }
  arrived_.notify_all();
  if (stored) {
    logger("fragments")->debug("stored fragment {} of model {} from peer {}", index, short_id(model), short_peer(peer));
    if (on_stored_) on_stored_(model);
  }
}

void FragmentExchange::reject(const std::string& peer, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    ++rejected_;
  }
  arrived_.notify_all();
  network_->report_misbehavior(peer, reason);
}

}  // namespace automata::node
