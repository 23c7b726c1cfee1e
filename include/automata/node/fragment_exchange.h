// Pulls encrypted model fragments from peers over the P2P fragments
// channel, and serves this node's fragments to peers that ask.
//
// A pull sends one FragmentRequest per batch to every connected peer. Each
// peer answers every index with the fragment or "missing". A fragment is
// checked against the manifest the requester read from committed state
// before it is stored; a response nobody asked that peer for, or one that
// does not verify, is reported as misbehaviour, which bans the peer.
// Inbound messages are decoded, verified and served on this class's own
// thread, never on the network's I/O thread.
#pragma once

#include "automata/node/fragment_models.h"
#include "automata/types/bytes.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace automata::p2p {
class Network;
}  // namespace automata::p2p

namespace automata::node {

class FragmentStore;

// Indices per FragmentRequest. With 1 MiB fragments a batch is about 8 MiB
// per peer, under the default 32 MiB receive burst of one peer.
inline constexpr size_t kFragmentRequestBatch = 8;
// Indices a peer serves from one request; the rest are ignored.
inline constexpr size_t kMaxServedPerRequest = 64;

class FragmentExchange {
 public:
  // network may be null (a node without P2P): then fetch() returns at once
  // and nothing is served. Does not own network or store, which must
  // outlive it.
  FragmentExchange(p2p::Network* network, FragmentStore* store);
  // Calls stop().
  ~FragmentExchange();
  FragmentExchange(const FragmentExchange&) = delete;
  FragmentExchange& operator=(const FragmentExchange&) = delete;

  // Installs the fragments channel handler and starts the thread. Call
  // before the network starts, to miss no message.
  void start();
  // Stops the thread and wakes every waiting fetch(). Idempotent.
  void stop();

  // Asks every connected peer for the indices of model that this node does
  // not hold, kFragmentRequestBatch per request, and waits up to wait per
  // batch until each index is stored or every asked peer answered it
  // missing. Returns the number of requested indices held afterwards.
  // Thread-safe; blocks the caller.
  size_t fetch(const ModelContent& model, const std::vector<uint32_t>& indices, std::chrono::milliseconds wait);

  // False for a node without P2P (the dev chain), where fetch() never asks
  // anyone.
  bool has_network() const { return network_ != nullptr; }

  // Called with the model id after a pulled fragment is stored, on this
  // class's thread. Set before start().
  void set_on_stored(std::function<void(const Hash32& model)> on_stored) { on_stored_ = std::move(on_stored); }

  // Fragments stored from peers and responses rejected, since start().
  uint64_t pulled() const;
  uint64_t rejected() const;

 private:
  using FragmentId = std::pair<Hash32, uint32_t>;
  struct Pending {
    ModelContent model;
    // Peers asked and not yet answered, with the count of open requests.
    std::map<std::string, uint32_t> asked;
    bool stored = false;
    std::chrono::steady_clock::time_point expires;
  };
  struct Inbound {
    std::string peer;
    Bytes payload;
  };

  void run();
  void handle(const Inbound& message);
  void serve(const std::string& peer, const Hash32& model, const std::vector<uint32_t>& indices);
  void accept_response(const std::string& peer, const Hash32& model, uint32_t index, bool missing, Bytes data,
                       std::vector<Hash32> proof);
  void reject(const std::string& peer, const std::string& reason);
  // REQUIRES: mutex_ held.
  void expire_pending_locked();

  p2p::Network* network_;
  FragmentStore* store_;
  std::function<void(const Hash32&)> on_stored_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // signals inbound_ or stopping_ changes to the thread
  std::condition_variable arrived_;  // signals answers to fetch() callers
  // Guarded by mutex_: inbound messages not yet handled, the outstanding
  // requests, the stop flag and the counters.
  std::deque<Inbound> inbound_;
  std::map<FragmentId, Pending> pending_;
  bool stopping_ = false;
  bool started_ = false;
  uint64_t pulled_ = 0;
  uint64_t rejected_ = 0;
  uint64_t dropped_inbound_ = 0;
  size_t inbound_bytes_ = 0;

  std::thread thread_;
};

}  // namespace automata::node
