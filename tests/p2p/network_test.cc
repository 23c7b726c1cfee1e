// Networks on 127.0.0.1 with real TLS, port 0 and fresh keys per test.
#include "automata/p2p/network.h"

#include "automata/types/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <algorithm>
#include <thread>
#include <vector>

namespace automata::p2p {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kEventTimeout = 30s;

// Polls until the condition is true or the generous timeout passes.
bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout = kEventTimeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

NetworkConfig test_config(const std::string& chain_id = "test-chain") {
  NetworkConfig config;
  config.chain_id = chain_id;
  config.max_per_ip = 16;  // every test node shares 127.0.0.1
  config.redial_initial = 100ms;
  config.redial_max = 1s;
  return config;
}

std::string address_of(const Network& network, const crypto::PublicKey& key) {
  return to_hex(key) + "@127.0.0.1:" + std::to_string(network.port());
}

bool has_peer(const Network& network, const PeerId& peer) {
  for (const PeerInfo& info : network.peers()) {
    if (info.id == peer) return true;
  }
  return false;
}

// Records every message a network receives, per channel.
struct Inbox {
  struct Message {
    PeerId from;
    Bytes payload;
  };

  void attach(Network& network) {
    for (Channel channel : kAllChannels) {
      network.set_handler(channel, [this, channel](const PeerId& from, Bytes payload) {
        std::lock_guard lock(mutex);
        messages[channel].push_back({from, std::move(payload)});
      });
    }
  }
  size_t count(Channel channel) {
    std::lock_guard lock(mutex);
    return messages[channel].size();
  }
  std::vector<Message> on(Channel channel) {
    std::lock_guard lock(mutex);
    return messages[channel];
  }

  std::mutex mutex;
  std::map<Channel, std::vector<Message>> messages;  // guarded by mutex
};

// Copies the "p2p" log into a string for checks on logged reasons.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<Sink>()) { logger("p2p")->sinks().push_back(sink_); }
  ~LogCapture() {
    auto& sinks = logger("p2p")->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  bool contains(const std::string& text) { return sink_->contains(text); }

 private:
  class Sink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    bool contains(const std::string& text) {
      std::lock_guard lock(mutex_);
      return text_.find(text) != std::string::npos;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
      text_.append(message.payload.data(), message.payload.size());
      text_.push_back('\n');
    }
    void flush_() override {}

   private:
    std::string text_;  // guarded by mutex_
  };

  std::shared_ptr<Sink> sink_;
};

Bytes payload_for(Channel channel, const std::string& from) {
  return to_bytes(std::string(channel_name(channel)) + " from " + from);
}

TEST(PeerAddressTest, ParsesAndRejects) {
  const std::string key(64, 'a');
  PeerAddress address;
  ASSERT_TRUE(parse_peer_address(key + "@127.0.0.1:26656", &address).is_ok());
  EXPECT_EQ(address.host, "127.0.0.1");
  EXPECT_EQ(address.port, 26656);
  EXPECT_EQ(to_hex(address.pubkey), key);
  ASSERT_TRUE(parse_peer_address(key + "@[::1]:9", &address).is_ok());
  EXPECT_EQ(address.host, "::1");

  const Status no_at = parse_peer_address("127.0.0.1:1", &address);
  EXPECT_FALSE(no_at.is_ok());
  EXPECT_NE(no_at.message().find("'127.0.0.1:1'"), std::string::npos) << no_at.message();
  EXPECT_FALSE(parse_peer_address(std::string(62, 'a') + "@127.0.0.1:1", &address).is_ok());
  EXPECT_FALSE(parse_peer_address(key + "@127.0.0.1", &address).is_ok());
  EXPECT_FALSE(parse_peer_address(key + "@127.0.0.1:0", &address).is_ok());
  EXPECT_FALSE(parse_peer_address(key + "@127.0.0.1:70000", &address).is_ok());
}

TEST(NetworkTest, StartRejectsBadPersistentPeer) {
  NetworkConfig config = test_config();
  config.persistent_peers = {"not-a-peer"};
  Network network(config);
  const Status status = network.start();
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(status.message().find("not-a-peer"), std::string::npos) << status.message();
}

TEST(NetworkTest, TwoNodesExchangeOnEveryChannel) {
  NetworkConfig config_a = test_config();
  Network a(config_a);
  Inbox inbox_a;
  inbox_a.attach(a);
  ASSERT_TRUE(a.start().is_ok());

  NetworkConfig config_b = test_config();
  config_b.persistent_peers = {address_of(a, config_a.node_key.public_key())};
  Network b(config_b);
  Inbox inbox_b;
  inbox_b.attach(b);
  ASSERT_TRUE(b.start().is_ok());

  ASSERT_TRUE(wait_for([&] { return has_peer(a, b.id()); }));
  ASSERT_TRUE(wait_for([&] { return has_peer(b, a.id()); }));
  for (Channel channel : kAllChannels) {
    EXPECT_TRUE(a.send(b.id(), channel, payload_for(channel, "a")));
    EXPECT_TRUE(b.send(a.id(), channel, payload_for(channel, "b")));
  }
  for (Channel channel : kAllChannels) {
    ASSERT_TRUE(wait_for([&] { return inbox_a.count(channel) == 1; })) << channel_name(channel);
    ASSERT_TRUE(wait_for([&] { return inbox_b.count(channel) == 1; })) << channel_name(channel);
    EXPECT_EQ(inbox_a.on(channel)[0].from, b.id());
    EXPECT_EQ(inbox_a.on(channel)[0].payload, payload_for(channel, "b"));
    EXPECT_EQ(inbox_b.on(channel)[0].from, a.id());
    EXPECT_EQ(inbox_b.on(channel)[0].payload, payload_for(channel, "a"));
  }
  EXPECT_FALSE(a.peers()[0].outbound);
  EXPECT_TRUE(b.peers()[0].outbound);
  EXPECT_TRUE(b.peers()[0].persistent);
}

TEST(NetworkTest, ThreeNodesBroadcastOnEveryChannel) {
  NetworkConfig config_a = test_config();
  Network a(config_a);
  ASSERT_TRUE(a.start().is_ok());
  NetworkConfig config_b = test_config();
  config_b.persistent_peers = {address_of(a, config_a.node_key.public_key())};
  Network b(config_b);
  ASSERT_TRUE(b.start().is_ok());
  NetworkConfig config_c = test_config();
  config_c.persistent_peers = {address_of(a, config_a.node_key.public_key()),
                               address_of(b, config_b.node_key.public_key())};
  Network c(config_c);

  Inbox inbox_a, inbox_b, inbox_c;
  inbox_a.attach(a);
  inbox_b.attach(b);
  inbox_c.attach(c);
  ASSERT_TRUE(c.start().is_ok());
  ASSERT_TRUE(wait_for([&] { return a.peers().size() == 2; }));
  ASSERT_TRUE(wait_for([&] { return b.peers().size() == 2; }));
  ASSERT_TRUE(wait_for([&] { return c.peers().size() == 2; }));

  for (Channel channel : kAllChannels) {
    EXPECT_EQ(a.broadcast(channel, payload_for(channel, "a")), 2u);
    EXPECT_EQ(b.broadcast(channel, payload_for(channel, "b")), 2u);
    EXPECT_EQ(c.broadcast(channel, payload_for(channel, "c"), a.id()), 1u);  // only b
  }
  for (Channel channel : kAllChannels) {
    ASSERT_TRUE(wait_for([&] {
      return inbox_a.count(channel) == 1 && inbox_b.count(channel) == 2 && inbox_c.count(channel) == 2;
    })) << channel_name(channel);
    EXPECT_EQ(inbox_a.on(channel)[0].from, b.id());
    std::map<PeerId, Bytes> at_b;
    for (const auto& message : inbox_b.on(channel)) at_b[message.from] = message.payload;
    EXPECT_EQ(at_b[a.id()], payload_for(channel, "a"));
    EXPECT_EQ(at_b[c.id()], payload_for(channel, "c"));
    std::map<PeerId, Bytes> at_c;
    for (const auto& message : inbox_c.on(channel)) at_c[message.from] = message.payload;
    EXPECT_EQ(at_c[a.id()], payload_for(channel, "a"));
    EXPECT_EQ(at_c[b.id()], payload_for(channel, "b"));
  }
}

TEST(NetworkTest, DialedPeerWithWrongKeyRejected) {
  LogCapture log;
  Network b(test_config());
  ASSERT_TRUE(b.start().is_ok());

  const crypto::PublicKey expected = crypto::PrivateKey::generate().public_key();
  NetworkConfig config_a = test_config();
  config_a.persistent_peers = {address_of(b, expected)};
  Network a(config_a);
  ASSERT_TRUE(a.start().is_ok());

  ASSERT_TRUE(wait_for([&] { return a.stats().handshake_failures >= 1; }));
  EXPECT_TRUE(a.peers().empty());
  EXPECT_TRUE(wait_for([&] { return log.contains("but the expected key is " + to_hex(expected)); }));
  EXPECT_FALSE(a.is_banned(b.id()));  // a configuration mismatch is not misbehaviour
}

TEST(NetworkTest, OtherChainIdRejected) {
  LogCapture log;
  NetworkConfig config_b = test_config("other-chain");
  Network b(config_b);
  ASSERT_TRUE(b.start().is_ok());

  NetworkConfig config_a = test_config("test-chain");
  config_a.persistent_peers = {address_of(b, config_b.node_key.public_key())};
  Network a(config_a);
  ASSERT_TRUE(a.start().is_ok());

  ASSERT_TRUE(wait_for([&] { return a.stats().handshake_failures >= 1; }));
  ASSERT_TRUE(wait_for([&] { return b.stats().handshake_failures >= 1; }));
  EXPECT_TRUE(a.peers().empty());
  EXPECT_TRUE(b.peers().empty());
  EXPECT_TRUE(wait_for([&] { return log.contains("chain id 'other-chain' differs from ours ('test-chain')"); }));
}

TEST(NetworkTest, OversizedFrameBansUntilExpiry) {
  LogCapture log;
  NetworkConfig config_a = test_config();
  config_a.frame_caps.transactions = 1024;
  config_a.ban_duration = 2s;
  Network a(config_a);
  std::mutex mutex;
  std::vector<Clock::time_point> up_times;  // guarded by mutex
  a.set_on_peer_up([&](const PeerInfo&) {
    std::lock_guard lock(mutex);
    up_times.push_back(Clock::now());
  });
  ASSERT_TRUE(a.start().is_ok());

  NetworkConfig config_b = test_config();  // default caps: b sends what a rejects
  config_b.persistent_peers = {address_of(a, config_a.node_key.public_key())};
  Network b(config_b);
  ASSERT_TRUE(b.start().is_ok());
  ASSERT_TRUE(wait_for([&] { return has_peer(a, b.id()); }));

  ASSERT_TRUE(b.send(a.id(), Channel::kTransactions, Bytes(4096, 0x5a)));
  ASSERT_TRUE(wait_for([&] { return a.is_banned(b.id()); }));
  const auto banned_at = Clock::now();
  EXPECT_TRUE(wait_for([&] { return !has_peer(a, b.id()); }));
  EXPECT_TRUE(log.contains("oversized frame: type 18 with 4096 bytes, cap 1024"));

  // b keeps redialing; a refuses it at accept until the ban ends.
  ASSERT_TRUE(wait_for([&] { return a.stats().inbound_rejected >= 1; }));
  ASSERT_TRUE(wait_for([&] { return has_peer(a, b.id()); }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(up_times.size(), 2u);
  EXPECT_GE(up_times[1], banned_at + config_a.ban_duration - 100ms);
}

TEST(NetworkTest, ReportMisbehaviorDisconnectsAndBans) {
  Network a(test_config());
  std::mutex mutex;
  std::string down_reason;  // guarded by mutex
  a.set_on_peer_down([&](const PeerId&, const std::string& reason) {
    std::lock_guard lock(mutex);
    down_reason = reason;
  });
  ASSERT_TRUE(a.start().is_ok());
  Network b(test_config());
  ASSERT_TRUE(b.start().is_ok());
  PeerAddress a_address;
  ASSERT_TRUE(parse_peer_address(a.id() + "@127.0.0.1:" + std::to_string(a.port()), &a_address).is_ok());
  b.dial(a_address);
  ASSERT_TRUE(wait_for([&] { return has_peer(a, b.id()); }));

  a.report_misbehavior(b.id(), "invalid vote signature");
  ASSERT_TRUE(wait_for([&] { return !has_peer(a, b.id()); }));
  // The peer leaves peers() before the peer-down callback runs on the
  // network thread, so wait for the callback too.
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(mutex);
    return !down_reason.empty();
  }));
  EXPECT_TRUE(a.is_banned(b.id()));
  EXPECT_EQ(a.stats().bans, 1u);
  std::lock_guard lock(mutex);
  EXPECT_EQ(down_reason, "banned: invalid vote signature");
}

TEST(NetworkTest, PersistentPeerRedialedAfterRestart) {
  NetworkConfig config_b = test_config();
  auto b = std::make_unique<Network>(config_b);
  ASSERT_TRUE(b->start().is_ok());
  const uint16_t port = b->port();

  NetworkConfig config_a = test_config();
  config_a.persistent_peers = {address_of(*b, config_b.node_key.public_key())};
  Network a(config_a);
  ASSERT_TRUE(a.start().is_ok());
  ASSERT_TRUE(wait_for([&] { return has_peer(a, b->id()); }));

  const PeerId b_id = b->id();
  b.reset();
  ASSERT_TRUE(wait_for([&] { return a.peers().empty(); }));

  config_b.listen_port = port;
  b = std::make_unique<Network>(config_b);
  ASSERT_TRUE(b->start().is_ok());
  EXPECT_TRUE(wait_for([&] { return has_peer(a, b_id); }));
}

// Starts a hub and two nodes that dial it, for the connection limit tests.
void expect_one_of_two_rejected(NetworkConfig hub_config) {
  Network hub(hub_config);
  ASSERT_TRUE(hub.start().is_ok());
  const std::string hub_address = address_of(hub, hub_config.node_key.public_key());
  std::vector<std::unique_ptr<Network>> dialers;
  for (int i = 0; i < 2; ++i) {
    NetworkConfig config = test_config();
    config.persistent_peers = {hub_address};
    dialers.push_back(std::make_unique<Network>(config));
    ASSERT_TRUE(dialers.back()->start().is_ok());
  }
  ASSERT_TRUE(wait_for([&] { return hub.stats().inbound_rejected >= 1; }));
  ASSERT_TRUE(wait_for([&] { return hub.peers().size() == 1; }));
  EXPECT_EQ(hub.peers().size(), 1u);
}

TEST(NetworkTest, MaxPeersEnforced) {
  NetworkConfig config = test_config();
  config.max_peers = 1;
  expect_one_of_two_rejected(config);
}

TEST(NetworkTest, MaxPerIpEnforced) {
  NetworkConfig config = test_config();
  config.max_per_ip = 1;
  expect_one_of_two_rejected(config);
}

TEST(NetworkTest, RateLimitSlowsFloodingPeer) {
  NetworkConfig config_a = test_config();
  config_a.recv_bytes_per_sec = 256 * 1024;
  config_a.recv_burst_bytes = 32 * 1024;
  Network a(config_a);
  Inbox inbox;
  inbox.attach(a);
  ASSERT_TRUE(a.start().is_ok());

  NetworkConfig config_b = test_config();
  config_b.persistent_peers = {address_of(a, config_a.node_key.public_key())};
  Network b(config_b);
  ASSERT_TRUE(b.start().is_ok());
  ASSERT_TRUE(wait_for([&] { return has_peer(b, a.id()); }));

  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(b.send(a.id(), Channel::kBlocks, Bytes(16 * 1024, static_cast<uint8_t>(i))));
  }
  ASSERT_TRUE(wait_for([&] { return inbox.count(Channel::kBlocks) == kMessages; }));
  EXPECT_GE(a.stats().throttle_pauses, 1u);
  const auto messages = inbox.on(Channel::kBlocks);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(messages[i].payload[0], static_cast<uint8_t>(i));
  EXPECT_TRUE(has_peer(a, b.id()));  // throttled, not disconnected
}

TEST(NetworkTest, RateLimitDisconnectsPersistentFlood) {
  NetworkConfig config_a = test_config();
  config_a.recv_bytes_per_sec = 16 * 1024;
  config_a.recv_burst_bytes = 16 * 1024;
  config_a.throttle_disconnect_after = 200ms;
  Network a(config_a);
  std::mutex mutex;
  std::string down_reason;  // guarded by mutex
  a.set_on_peer_down([&](const PeerId&, const std::string& reason) {
    std::lock_guard lock(mutex);
    down_reason = reason;
  });
  ASSERT_TRUE(a.start().is_ok());

  Network b(test_config());
  ASSERT_TRUE(b.start().is_ok());
  PeerAddress a_address;
  ASSERT_TRUE(parse_peer_address(address_of(a, config_a.node_key.public_key()), &a_address).is_ok());
  b.dial(a_address);
  ASSERT_TRUE(wait_for([&] { return has_peer(b, a.id()); }));

  for (int i = 0; i < 100; ++i) b.send(a.id(), Channel::kBlocks, Bytes(16 * 1024, 1));
  ASSERT_TRUE(wait_for([&] { return !has_peer(a, b.id()); }));
  // The peer-down callback may run after the peer has left the list.
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(mutex);
    return !down_reason.empty();
  }));
  std::lock_guard lock(mutex);
  EXPECT_NE(down_reason.find("receive rate stayed over 16384 bytes/s"), std::string::npos) << down_reason;
  EXPECT_FALSE(a.is_banned(b.id()));
}

}  // namespace
}  // namespace automata::p2p
