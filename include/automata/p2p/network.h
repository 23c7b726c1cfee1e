// The authenticated peer-to-peer layer: TLS 1.3 connections between nodes,
// each bound to a node's secp256k1 key, carrying opaque byte messages on a
// few channels.
//
// Identity. TLS runs with a throwaway self-signed certificate made at
// start(), so certificates prove nothing. Right after the TLS handshake each
// side sends a Handshake frame (proto/automata/v1/p2p.proto) with its x-only
// node public key, chain id, protocol version and listen address, and a
// BIP-340 signature over SHA-256(domain tag || TLS exported keying material).
// The keying material is unique to the TLS session, so a captured signature
// is useless on any other connection. A peer's id is its node public key.
//
// Frames. Every frame is a u32 big-endian length (type byte plus payload), a
// u8 message type and a payload. The length is checked against the cap of
// the type before the payload is read. The payload of a channel message is
// whatever bytes the upper layer passed to send(); this layer does not parse
// it. docs/p2p.md lists the types, caps, limits and bans.
//
// Threads. The network runs one I/O thread, started by start() and joined by
// stop(). Handlers and peer callbacks run on that thread, one at a time, so
// they must return quickly and must not call stop(). Every other public
// method is thread-safe and may be called from any thread, including from a
// handler.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace automata::p2p {

// Version sent in the handshake. A peer with another version is rejected.
inline constexpr uint32_t kProtocolVersion = 1;

// A peer's id: the lowercase hex of its 32-byte x-only node public key
// (64 characters). Stable across restarts and addresses.
using PeerId = std::string;

// The peer id of a node public key.
PeerId peer_id_of(const crypto::PublicKey& pubkey);

// Channels of upper-layer messages. The value is the frame's message type
// byte on the wire. Types below 0x10 belong to this layer (handshake, ping).
enum class Channel : uint8_t {
  kConsensus = 0x10,     // proposals and votes
  kBlocks = 0x11,        // block sync requests and responses
  kTransactions = 0x12,  // transaction gossip
  kEvidence = 0x13,      // double-sign evidence
  kPeerExchange = 0x14,  // addresses of other peers
  kFragments = 0x15,     // encrypted model fragments between storage nodes
};

// Every channel, in wire-type order.
inline constexpr Channel kAllChannels[] = {Channel::kConsensus, Channel::kBlocks, Channel::kTransactions,
                                           Channel::kEvidence, Channel::kPeerExchange, Channel::kFragments};

// "consensus", "blocks", "transactions", "evidence", "peer_exchange" or
// "fragments".
std::string_view channel_name(Channel channel);

// A peer to dial: the node key it must present and where it listens.
struct PeerAddress {
  crypto::PublicKey pubkey{};
  std::string host;
  uint16_t port = 0;

  // "<pubkey hex>@host:port".
  std::string to_string() const;
};

// Parses "<64 hex chars of x-only pubkey>@host:port". Host may be a name,
// an IPv4 address or a bracketed IPv6 address. Returns invalid_argument
// naming the entry and the rule it breaks.
Status parse_peer_address(std::string_view text, PeerAddress* out);

// Maximum payload bytes of one frame, per channel. A frame over its cap gets
// the sender disconnected and banned before its payload is read.
struct FrameCaps {
  uint32_t consensus = 8u << 20;      // a proposal carries a whole block
  uint32_t blocks = 16u << 20;        // a sync response carries a block and its commit
  uint32_t transactions = 1u << 20;
  uint32_t evidence = 64u << 10;
  uint32_t peer_exchange = 64u << 10;
  // One fragment of at most 2 MiB plus its nonce, tag and audit path.
  uint32_t fragments = 3u << 20;

  uint32_t for_channel(Channel channel) const;
};

struct NetworkConfig {
  // Address to listen on. Port 0 picks a free port, which port() returns.
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;
  // Address sent to peers in the handshake so they can dial back. Empty
  // means "listen_host:bound port".
  std::string advertised_address;

  // Peers must present the same chain id in the handshake.
  std::string chain_id;
  // The node's identity. The default is a fresh random key, which suits
  // tests only: a node passes its stored key.
  crypto::PrivateKey node_key = crypto::PrivateKey::generate();

  // Peers dialed at start() and redialed after every disconnect, as
  // "<pubkey hex>@host:port".
  std::vector<std::string> persistent_peers;
  // Delay before the first redial. It doubles per failed attempt up to the
  // maximum, and resets after a handshake succeeds.
  std::chrono::milliseconds redial_initial{500};
  std::chrono::milliseconds redial_max{30'000};

  // Connected peers, inbound plus outbound. An inbound connection over the
  // limit is closed right after accept. Persistent peers count too.
  size_t max_peers = 50;
  // Connections (handshaken or not) from or to one remote IP address.
  // NOTE: a localnet with every node on 127.0.0.1 needs this raised to at
  // least the number of nodes.
  size_t max_per_ip = 4;

  // Token bucket on the bytes read from each peer: refill rate and bucket
  // size. A peer over the rate has its reads paused until the bucket
  // refills. A peer that stays throttled for throttle_disconnect_after
  // without a break is disconnected (not banned).
  uint64_t recv_bytes_per_sec = 10u << 20;
  uint64_t recv_burst_bytes = 32u << 20;
  std::chrono::milliseconds throttle_disconnect_after{30'000};

  // How long a misbehaving peer's id and IP are refused.
  std::chrono::milliseconds ban_duration{10 * 60 * 1000};

  FrameCaps frame_caps;
  // Frames queued for one peer and not yet written. send() to a full queue
  // drops the message and logs it.
  size_t send_queue_max = 1024;

  // Time allowed for TCP connect plus TLS and node handshakes.
  std::chrono::milliseconds handshake_timeout{10'000};
  // A ping goes out after this much send silence; a peer silent for three
  // intervals is disconnected.
  std::chrono::milliseconds ping_interval{10'000};
};

// A connected, handshaken peer.
struct PeerInfo {
  PeerId id;
  std::string remote_address;     // ip:port of the TCP connection
  std::string listen_address;     // address the peer advertised
  bool outbound = false;          // true when this node dialed
  bool persistent = false;        // listed in persistent_peers
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
};

// Counters since start(), for metrics and tests.
struct NetworkStats {
  uint64_t inbound_rejected = 0;    // rejected at accept (IP ban, max_peers, max_per_ip) or at the handshake (id ban)
  uint64_t handshake_failures = 0;  // TLS or node handshake failed or was rejected
  uint64_t bans = 0;                // bans imposed, by this layer or report_misbehavior
  uint64_t dropped_sends = 0;       // messages dropped by send() or broadcast()
  uint64_t throttle_pauses = 0;     // reads paused by the receive rate limit
};

// Receives one message: the sending peer and the payload bytes.
using MessageHandler = std::function<void(const PeerId& peer, Bytes payload)>;
// Called when a peer finishes the handshake.
using PeerUpHandler = std::function<void(const PeerInfo& peer)>;
// Called when a handshaken peer disconnects, with the reason.
using PeerDownHandler = std::function<void(const PeerId& peer, const std::string& reason)>;

class Network {
 public:
  explicit Network(NetworkConfig config);
  // Stops the network if it is running.
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Parses the persistent peers, makes the TLS context and certificate,
  // binds the listener, starts the I/O thread and dials persistent peers.
  // Returns invalid_argument for a bad config value (naming it), io_error
  // when the address cannot be bound, and ok otherwise. A second call
  // returns invalid_argument: a stopped network cannot restart.
  Status start();
  // Closes every connection, stops the I/O thread and joins it. Idempotent.
  // Must not be called from a handler.
  void stop();

  // The bound listen port; 0 before start().
  uint16_t port() const;
  // This node's peer id.
  const PeerId& id() const;

  // Sets the handler for a channel, replacing any earlier one. Messages on a
  // channel without a handler are dropped. Set handlers before start() to
  // miss nothing.
  void set_handler(Channel channel, MessageHandler handler);
  void set_on_peer_up(PeerUpHandler handler);
  void set_on_peer_down(PeerDownHandler handler);

  // Queues a message for one peer. Returns false, and logs, when the peer is
  // not connected, the payload is over the channel's cap, or the peer's send
  // queue is full.
  bool send(const PeerId& peer, Channel channel, Bytes payload);
  // Queues a message for every connected peer except `except`. Returns the
  // number of peers it was queued for.
  size_t broadcast(Channel channel, Bytes payload, const std::optional<PeerId>& except = std::nullopt);

  // Disconnects the peer and bans its id (not its IP) for ban_duration, logging
  // the peer and reason once. For provable misbehaviour only (invalid
  // signature, height going backwards, unrequested data). A peer that is not
  // connected is still banned by id.
  void report_misbehavior(const PeerId& peer, std::string reason);
  // True while the peer id is banned.
  bool is_banned(const PeerId& peer) const;

  // Dials a peer once, without redialing on failure (for addresses learned
  // from peer exchange). Ignored when already connected or banned.
  void dial(const PeerAddress& address);

  // The connected, handshaken peers, ordered by id.
  std::vector<PeerInfo> peers() const;
  NetworkStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace automata::p2p
