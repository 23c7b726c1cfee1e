#include "automata/p2p/network.h"

#include "automata/types/logging.h"
#include "p2p/ban_list.h"
#include "p2p/connection.h"
#include "p2p/frame.h"
#include "p2p/tls.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace automata::p2p {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> log() { return automata::logger("p2p"); }

int64_t millis_until(Clock::time_point until) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
}

}  // namespace

struct PersistentPeer {
  PeerAddress address;
  PeerId id;
  std::chrono::milliseconds backoff{0};
  uint64_t attempts = 0;
  bool dialing = false;        // an outbound connection for it is open
  bool redial_pending = false;  // the timer is armed
  std::unique_ptr<asio::steady_timer> timer;
};

struct Network::Impl : ConnectionOwner {
  explicit Impl(NetworkConfig network_config)
      : config(std::move(network_config)), id(peer_id_of(config.node_key.public_key())) {}

  // ConnectionOwner, all on the network thread.
  std::string on_connected(const std::shared_ptr<Connection>& connection) override;
  std::string on_handshake(const std::shared_ptr<Connection>& connection) override;
  void on_message(const std::shared_ptr<Connection>& connection, Channel channel, Bytes payload) override;
  void on_misbehavior(const std::shared_ptr<Connection>& connection, const std::string& reason) override;
  void on_throttled(const std::shared_ptr<Connection>& connection) override;
  void on_closed(const std::shared_ptr<Connection>& connection, const std::string& reason,
                 bool handshake_failed) override;

  void accept_next();
  void on_accept(const boost::system::error_code& error, tcp::socket socket);
  void dial_now(const PeerAddress& address, bool persistent);
  void dial_persistent(PersistentPeer& peer);
  void schedule_redial(PersistentPeer& peer);
  void ban(const PeerId& peer, const std::string& ip, const std::string& reason);
  void close_all();
  bool queue(const std::shared_ptr<Connection>& connection, Channel channel, ByteView payload);

  // Set before the network thread starts, then read-only.
  NetworkConfig config;
  const PeerId id;
  std::string listen_address;

  // Declared before everything that owns its sockets and timers, so it is
  // destroyed last.
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::atomic<uint16_t> port{0};
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};

  // Network-thread state.
  std::set<std::shared_ptr<Connection>> connections;  // every open connection
  std::map<const Connection*, std::string> counted_ips;  // connections counted in ip_counts
  std::map<std::string, size_t> ip_counts;
  std::map<PeerId, PersistentPeer> persistent;

  mutable std::mutex mutex;
  std::map<PeerId, std::shared_ptr<Connection>> peers;  // guarded by mutex; handshaken peers
  BanList bans;                                         // guarded by mutex
  std::map<Channel, MessageHandler> handlers;           // guarded by mutex
  PeerUpHandler on_up;                                  // guarded by mutex
  PeerDownHandler on_down;                              // guarded by mutex
  NetworkStats counters;                                // guarded by mutex
};

// ---- Accepting and dialing -------------------------------------------------

void Network::Impl::accept_next() {
  acceptor->async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
    on_accept(error, std::move(socket));
  });
}

void Network::Impl::on_accept(const boost::system::error_code& error, tcp::socket socket) {
  if (stopping) return;
  if (error) {
    log()->warn("accept failed on port {}: {}", port.load(), error.message());
    accept_next();
    return;
  }
  boost::system::error_code endpoint_error;
  const auto endpoint = socket.remote_endpoint(endpoint_error);
  if (endpoint_error) {
    accept_next();
    return;
  }
  const std::string ip = endpoint.address().to_string();

  std::string rejection;
  {
    std::lock_guard lock(mutex);
    if (const auto until = bans.ip_banned_until(ip, Clock::now())) {
      rejection = "IP " + ip + " is banned for " + std::to_string(millis_until(*until)) + " ms more";
    } else if (connections.size() >= config.max_peers) {
      rejection = "max_peers (" + std::to_string(config.max_peers) + ") reached";
    } else if (ip_counts[ip] >= config.max_per_ip) {
      rejection = "max_per_ip (" + std::to_string(config.max_per_ip) + ") reached for " + ip;
    }
    if (!rejection.empty()) ++counters.inbound_rejected;
  }
  if (!rejection.empty()) {
    log()->info("rejected inbound connection from {}:{}: {}", ip, endpoint.port(), rejection);
    boost::system::error_code ignored;
    socket.close(ignored);
    accept_next();
    return;
  }

  auto connection = std::make_shared<Connection>(*this, config, listen_address, *tls, std::move(socket));
  connections.insert(connection);
  ++ip_counts[ip];
  counted_ips[connection.get()] = ip;
  connection->start();
  accept_next();
}

void Network::Impl::dial_now(const PeerAddress& address, bool persistent_peer) {
  const PeerId peer = peer_id_of(address.pubkey);
  {
    std::lock_guard lock(mutex);
    if (peers.count(peer) != 0) return;
    if (bans.id_banned_until(peer, Clock::now())) {
      log()->info("not dialing {}: the peer id is banned", address.to_string());
      return;
    }
  }
  auto connection = std::make_shared<Connection>(*this, config, listen_address, *tls, io, address, persistent_peer);
  connections.insert(connection);
  connection->start();
}

void Network::Impl::dial_persistent(PersistentPeer& peer) {
  peer.redial_pending = false;
  if (stopping) return;
  {
    std::lock_guard lock(mutex);
    if (peers.count(peer.id) != 0) return;  // connected inbound; its close schedules the next dial
    if (bans.id_banned_until(peer.id, Clock::now())) {
      schedule_redial(peer);
      return;
    }
  }
  ++peer.attempts;
  peer.dialing = true;
  auto connection =
      std::make_shared<Connection>(*this, config, listen_address, *tls, io, peer.address, /*persistent=*/true);
  connections.insert(connection);
  connection->start();
}

void Network::Impl::schedule_redial(PersistentPeer& peer) {
  if (stopping || peer.redial_pending || peer.dialing) return;
  auto delay = std::max(peer.backoff, config.redial_initial);
  {
    std::lock_guard lock(mutex);
    if (const auto until = bans.id_banned_until(peer.id, Clock::now())) {
      delay = std::max(delay, std::chrono::milliseconds(millis_until(*until) + 1));
    }
  }
  peer.backoff = std::min(delay * 2, std::max(config.redial_max, config.redial_initial));
  peer.redial_pending = true;
  log()->info("redialing persistent peer {} in {} ms (attempt {})", peer.address.to_string(), delay.count(),
              peer.attempts + 1);
  peer.timer->expires_after(delay);
  peer.timer->async_wait([this, &peer](const boost::system::error_code& error) {
    if (error) return;
    dial_persistent(peer);
  });
}

// ---- Connection events -----------------------------------------------------

std::string Network::Impl::on_connected(const std::shared_ptr<Connection>& connection) {
  const std::string& ip = connection->remote_ip();
  {
    std::lock_guard lock(mutex);
    if (const auto until = bans.ip_banned_until(ip, Clock::now())) {
      return "IP " + ip + " is banned for " + std::to_string(millis_until(*until)) + " ms more";
    }
  }
  if (ip_counts[ip] >= config.max_per_ip) {
    return "max_per_ip (" + std::to_string(config.max_per_ip) + ") reached for " + ip;
  }
  ++ip_counts[ip];
  counted_ips[connection.get()] = ip;
  return "";
}

std::string Network::Impl::on_handshake(const std::shared_ptr<Connection>& connection) {
  const PeerId& peer = connection->peer_id();
  std::shared_ptr<Connection> replaced;
  {
    std::lock_guard lock(mutex);
    if (const auto until = bans.id_banned_until(peer, Clock::now())) {
      // Bans after a handshake cover only the id, so an inbound connection
      // from a banned peer passes accept and is rejected here.
      if (!connection->outbound()) ++counters.inbound_rejected;
      return "peer " + peer + " is banned for " + std::to_string(millis_until(*until)) + " ms more";
    }
    const auto existing = peers.find(peer);
    if (existing != peers.end()) {
      // Both ends apply the same rule to the same pair of connections: keep
      // the one dialed by the lower peer id. Two connections dialed by the
      // same side mean the older one is stale, so the newer one stays.
      const PeerId& new_dialer = connection->outbound() ? id : peer;
      const PeerId& old_dialer = existing->second->outbound() ? id : peer;
      if (new_dialer != old_dialer && old_dialer < new_dialer) {
        return "duplicate connection to peer " + peer + ", keeping the one dialed by " + old_dialer;
      }
      replaced = existing->second;
    } else if (peers.size() >= config.max_peers) {
      return "max_peers (" + std::to_string(config.max_peers) + ") reached";
    }
  }
  if (replaced) replaced->close("replaced by a newer connection to the same peer");

  const PeerInfo info = connection->info();
  PeerUpHandler up;
  {
    std::lock_guard lock(mutex);
    peers[peer] = connection;
    up = on_up;
  }
  const auto it = persistent.find(peer);
  if (it != persistent.end()) {
    it->second.backoff = std::chrono::milliseconds(0);
    it->second.attempts = 0;
  }
  log()->info("peer {} up ({} {}, listens on {})", peer, connection->outbound() ? "outbound to" : "inbound from",
              connection->remote_address(), info.listen_address);
  if (up) up(info);
  return "";
}

void Network::Impl::on_message(const std::shared_ptr<Connection>& connection, Channel channel, Bytes payload) {
  MessageHandler handler;
  {
    std::lock_guard lock(mutex);
    const auto it = handlers.find(channel);
    if (it != handlers.end()) handler = it->second;
  }
  if (!handler) {
    log()->debug("dropped a {} message from {}: no handler", channel_name(channel), connection->peer_id());
    return;
  }
  handler(connection->peer_id(), std::move(payload));
}

void Network::Impl::on_misbehavior(const std::shared_ptr<Connection>& connection, const std::string& reason) {
  ban(connection->peer_id(), connection->remote_ip(), reason);
  connection->close("banned: " + reason);
}

void Network::Impl::on_throttled(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex);
  if (counters.throttle_pauses++ == 0) {
    log()->info("receive rate limit of {} bytes/s reached: pausing reads from {}", config.recv_bytes_per_sec,
                connection->remote_address());
  }
}

void Network::Impl::on_closed(const std::shared_ptr<Connection>& connection, const std::string& reason,
                              bool handshake_failed) {
  connections.erase(connection);
  const auto counted = counted_ips.find(connection.get());
  if (counted != counted_ips.end()) {
    if (--ip_counts[counted->second] == 0) ip_counts.erase(counted->second);
    counted_ips.erase(counted);
  }

  bool was_registered = false;
  PeerDownHandler down;
  {
    std::lock_guard lock(mutex);
    const auto it = peers.find(connection->peer_id());
    if (it != peers.end() && it->second == connection) {
      peers.erase(it);
      was_registered = true;
      down = on_down;
    }
    if (handshake_failed) ++counters.handshake_failures;
  }

  if (was_registered) {
    log()->info("peer {} down ({}): {}", connection->peer_id(), connection->remote_address(), reason);
    if (down) down(connection->peer_id(), reason);
  } else if (handshake_failed) {
    log()->warn("handshake with {} failed: {}", connection->remote_address(), reason);
  } else {
    log()->info("closed connection to {}: {}", connection->remote_address(), reason);
  }

  if (stopping) return;
  const PeerId peer = connection->expected() ? peer_id_of(connection->expected()->pubkey) : connection->peer_id();
  const auto it = persistent.find(peer);
  if (it == persistent.end()) return;
  if (connection->outbound() && connection->persistent()) it->second.dialing = false;
  if (was_registered || (connection->outbound() && connection->persistent())) schedule_redial(it->second);
}

void Network::Impl::ban(const PeerId& peer, const std::string& ip, const std::string& reason) {
  // A known peer is banned by id only: nodes often share an IP (every node
  // of a localnet is on 127.0.0.1), and an IP ban would cut them all off.
  // The IP is banned only when the failure came before the handshake
  // named the peer.
  const std::string banned_ip = peer.empty() ? ip : std::string();
  std::lock_guard lock(mutex);
  bans.ban(peer, banned_ip, Clock::now() + config.ban_duration);
  ++counters.bans;
  if (peer.empty()) {
    log()->warn("banned IP {} for {} ms (misbehaved before the handshake): {}", ip.empty() ? "(unknown)" : ip,
                config.ban_duration.count(), reason);
  } else {
    log()->warn("banned peer {} at {} for {} ms (the IP stays allowed): {}", peer, ip.empty() ? "(no IP)" : ip,
                config.ban_duration.count(), reason);
  }
}

void Network::Impl::close_all() {
  boost::system::error_code ignored;
  if (acceptor) acceptor->close(ignored);
  for (auto& [peer_id, peer] : persistent) peer.timer->cancel();
  const auto open = connections;
  for (const auto& connection : open) connection->close("network stopping");
}

bool Network::Impl::queue(const std::shared_ptr<Connection>& connection, Channel channel, ByteView payload) {
  const uint32_t cap = config.frame_caps.for_channel(channel);
  std::string failure;
  if (payload.size() > cap) {
    failure = "payload of " + std::to_string(payload.size()) + " bytes is over the " +
              std::string(channel_name(channel)) + " cap of " + std::to_string(cap);
  } else if (!connection->enqueue(static_cast<uint8_t>(channel), payload)) {
    failure = "send queue full (" + std::to_string(config.send_queue_max) + " frames) or connection closed";
  }
  if (failure.empty()) return true;
  uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex);
    dropped = ++counters.dropped_sends;
  }
  // Logs the 1st, 2nd, 4th, 8th... drop so a stalled peer cannot flood the log.
  if ((dropped & (dropped - 1)) == 0) {
    log()->warn("dropped a {} message to {}: {} ({} dropped in total)", channel_name(channel),
                connection->peer_id(), failure, dropped);
  }
  return false;
}

// ---- Public API --------------------------------------------------------------

Network::Network(NetworkConfig config) : impl_(std::make_shared<Impl>(std::move(config))) {}

Network::~Network() { stop(); }

Status Network::start() {
  Impl& impl = *impl_;
  if (impl.started.exchange(true)) {
    return Status::invalid_argument("network already started: a network starts once and cannot restart");
  }
  const NetworkConfig& config = impl.config;
  if (config.chain_id.empty()) return Status::invalid_argument("chain_id is empty: set the chain id of the network");
  if (config.max_peers == 0) return Status::invalid_argument("max_peers is 0: it must be at least 1");
  if (config.max_per_ip == 0) return Status::invalid_argument("max_per_ip is 0: it must be at least 1");
  if (config.recv_bytes_per_sec == 0) {
    return Status::invalid_argument("recv_bytes_per_sec is 0: it must be at least 1");
  }
  if (config.send_queue_max == 0) return Status::invalid_argument("send_queue_max is 0: it must be at least 1");

  for (const std::string& entry : config.persistent_peers) {
    PeerAddress address;
    if (Status status = parse_peer_address(entry, &address); !status.is_ok()) return status;
    const PeerId peer = peer_id_of(address.pubkey);
    if (peer == impl.id) {
      return Status::invalid_argument("persistent peer '" + entry + "' has this node's own key");
    }
    PersistentPeer& persistent = impl.persistent[peer];
    persistent.address = address;
    persistent.id = peer;
    persistent.timer = std::make_unique<asio::steady_timer>(impl.io);
  }

  Status tls_error;
  impl.tls = make_tls_context(&tls_error);
  if (!impl.tls) return tls_error;

  boost::system::error_code error;
  const auto address = asio::ip::make_address(config.listen_host, error);
  if (error) {
    return Status::invalid_argument("listen host '" + config.listen_host + "' is not an IP address: " +
                                    error.message());
  }
  const tcp::endpoint endpoint(address, config.listen_port);
  impl.acceptor = std::make_unique<tcp::acceptor>(impl.io);
  impl.acceptor->open(endpoint.protocol(), error);
  if (!error) impl.acceptor->set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) impl.acceptor->bind(endpoint, error);
  if (!error) impl.acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Status::io_error("failed to listen on " + config.listen_host + ":" + std::to_string(config.listen_port) +
                            ": " + error.message());
  }
  impl.port = impl.acceptor->local_endpoint().port();
  impl.listen_address = config.advertised_address.empty()
                            ? config.listen_host + ":" + std::to_string(impl.port.load())
                            : config.advertised_address;

  impl.accept_next();
  for (auto& [peer_id, peer] : impl.persistent) {
    asio::post(impl.io, [&impl, &peer = peer] { impl.dial_persistent(peer); });
  }
  impl.thread = std::thread([&impl] { impl.io.run(); });
  log()->info("network started: node {} on chain '{}' listening on {} with {} persistent peers", impl.id,
              config.chain_id, impl.listen_address, impl.persistent.size());
  return Status::ok();
}

void Network::stop() {
  Impl& impl = *impl_;
  if (!impl.thread.joinable()) return;
  asio::post(impl.io, [&impl] {
    impl.stopping = true;
    impl.close_all();
    impl.io.stop();
  });
  impl.thread.join();
  impl.connections.clear();
  impl.counted_ips.clear();
  impl.ip_counts.clear();
  {
    std::lock_guard lock(impl.mutex);
    impl.peers.clear();
  }
  log()->info("network stopped: node {}", impl.id);
}

uint16_t Network::port() const { return impl_->port; }

const PeerId& Network::id() const { return impl_->id; }

void Network::set_handler(Channel channel, MessageHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->handlers[channel] = std::move(handler);
}

void Network::set_on_peer_up(PeerUpHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->on_up = std::move(handler);
}

void Network::set_on_peer_down(PeerDownHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->on_down = std::move(handler);
}

bool Network::send(const PeerId& peer, Channel channel, Bytes payload) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(impl_->mutex);
    const auto it = impl_->peers.find(peer);
    if (it != impl_->peers.end()) connection = it->second;
  }
  if (!connection) {
    log()->debug("not sending a {} message to {}: peer not connected", channel_name(channel), peer);
    return false;
  }
  return impl_->queue(connection, channel, payload);
}

size_t Network::broadcast(Channel channel, Bytes payload, const std::optional<PeerId>& except) {
  std::vector<std::shared_ptr<Connection>> targets;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [peer, connection] : impl_->peers) {
      if (except && *except == peer) continue;
      targets.push_back(connection);
    }
  }
  size_t queued = 0;
  for (const auto& connection : targets) {
    if (impl_->queue(connection, channel, payload)) ++queued;
  }
  return queued;
}

void Network::report_misbehavior(const PeerId& peer, std::string reason) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(impl_->mutex);
    const auto it = impl_->peers.find(peer);
    if (it != impl_->peers.end()) connection = it->second;
  }
  impl_->ban(peer, connection ? connection->remote_ip() : std::string(), reason);
  if (connection) {
    asio::post(impl_->io, [connection, reason] { connection->close("banned: " + reason); });
  }
}

bool Network::is_banned(const PeerId& peer) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->bans.id_banned_until(peer, Clock::now()).has_value();
}

void Network::dial(const PeerAddress& address) {
  auto impl = impl_;
  asio::post(impl->io, [impl, address] {
    if (!impl->stopping) impl->dial_now(address, /*persistent=*/false);
  });
}

std::vector<PeerInfo> Network::peers() const {
  std::vector<PeerInfo> out;
  std::lock_guard lock(impl_->mutex);
  for (const auto& [peer, connection] : impl_->peers) out.push_back(connection->info());
  return out;
}

NetworkStats Network::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

}  // namespace automata::p2p
