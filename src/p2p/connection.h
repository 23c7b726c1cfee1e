// One TLS connection to a peer: connect or accept, TLS and node handshakes,
// the frame read loop with caps and the receive rate limit, the bounded send
// queue, and keep-alive pings. Everything runs on the network thread except
// enqueue() and the counters, which are thread-safe.
#pragma once

#include "automata/p2p/network.h"
#include "p2p/token_bucket.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

namespace automata::p2p {

class Connection;

// The network's side of a connection. Every call comes on the network thread.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // An outbound TCP connection is up. Returns a reason to close it (limits,
  // bans), or an empty string to go on with the TLS handshake.
  virtual std::string on_connected(const std::shared_ptr<Connection>& connection) = 0;
  // The peer's handshake checked out. Returns a reason to close (duplicate,
  // banned, over max_peers), or an empty string to register the peer.
  virtual std::string on_handshake(const std::shared_ptr<Connection>& connection) = 0;
  virtual void on_message(const std::shared_ptr<Connection>& connection, Channel channel, Bytes payload) = 0;
  // The peer broke a rule this layer checks: ban it, then the connection closes.
  virtual void on_misbehavior(const std::shared_ptr<Connection>& connection, const std::string& reason) = 0;
  // The read loop paused for the receive rate limit.
  virtual void on_throttled(const std::shared_ptr<Connection>& connection) = 0;
  // Called once per connection, after which it does nothing more.
  virtual void on_closed(const std::shared_ptr<Connection>& connection, const std::string& reason,
                         bool handshake_failed) = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using tcp = boost::asio::ip::tcp;

  // An inbound connection on an accepted socket.
  Connection(ConnectionOwner& owner, const NetworkConfig& config, const std::string& own_listen_address,
             boost::asio::ssl::context& tls, tcp::socket socket);
  // An outbound connection to `expected`, not yet connected.
  Connection(ConnectionOwner& owner, const NetworkConfig& config, const std::string& own_listen_address,
             boost::asio::ssl::context& tls, boost::asio::io_context& io, PeerAddress expected, bool persistent);

  // Starts connecting (outbound) or the TLS handshake (inbound), under the
  // handshake timeout.
  void start();
  // Closes the socket and reports on_closed once. Later calls do nothing.
  void close(const std::string& reason);

  // Queues a frame. Thread-safe. Returns false when the queue is full or the
  // connection is closed.
  bool enqueue(uint8_t type, ByteView payload);

  bool outbound() const { return outbound_; }
  bool persistent() const { return persistent_; }
  bool closed() const { return closed_; }
  bool established() const { return established_; }
  // The expected key of an outbound connection.
  const std::optional<PeerAddress>& expected() const { return expected_; }
  // Set once the node handshake checks out.
  const PeerId& peer_id() const { return peer_id_; }
  const std::string& remote_ip() const { return remote_ip_; }
  // Where this connection goes or comes from, for logs: ip:port, or the
  // dialed host:port before the TCP connect.
  const std::string& remote_address() const { return remote_address_; }
  PeerInfo info() const;

 private:
  void on_resolved(const boost::system::error_code& error, const tcp::resolver::results_type& endpoints);
  void start_tls();
  void send_handshake();
  void read_header();
  void on_header(const boost::system::error_code& error);
  void on_payload(const boost::system::error_code& error, uint8_t type);
  void handle_frame(uint8_t type, Bytes payload);
  void handle_handshake(const Bytes& payload);
  void continue_reading(uint64_t frame_bytes);
  void write_next();
  void schedule_ping();
  void fail_handshake(const std::string& reason);
  void shut(const std::string& reason, bool handshake_failed);
  void set_remote(const tcp::endpoint& endpoint);

  ConnectionOwner& owner_;
  const NetworkConfig& config_;
  const std::string own_listen_address_;
  boost::asio::ssl::stream<tcp::socket> stream_;
  tcp::resolver resolver_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer throttle_timer_;

  const bool outbound_;
  const bool persistent_;
  const std::optional<PeerAddress> expected_;

  // Network-thread state.
  bool closed_ = false;
  bool established_ = false;
  bool handshake_sent_ = false;
  std::optional<Hash32> keying_material_;
  PeerId peer_id_;
  std::string remote_ip_;
  std::string remote_address_;
  std::string peer_listen_address_;
  std::array<uint8_t, 5> header_{};
  Bytes payload_;
  TokenBucket bucket_;
  std::optional<TokenBucket::Clock::time_point> throttled_since_;
  TokenBucket::Clock::time_point last_received_;
  TokenBucket::Clock::time_point last_sent_;
  uint64_t ping_nonce_ = 0;

  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> bytes_sent_{0};

  mutable std::mutex send_mutex_;
  Bytes current_write_;  // network thread; the frame being written
  std::deque<Bytes> send_queue_;  // guarded by send_mutex_; frames not yet written
  bool writing_ = false;          // guarded by send_mutex_; a write is in flight
  bool send_closed_ = false;      // guarded by send_mutex_; set by close()
};

}  // namespace automata::p2p
