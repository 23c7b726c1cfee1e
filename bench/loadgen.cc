// Load generator for a running node: funds sender accounts from the dev
// key, pre-signs transfers, submits them as JSON-RPC batches over several
// keep-alive connections, and reports committed transfers per second and
// the time from submission to inclusion.
//
//   loadgen --node http://127.0.0.1:7701 --keyring-dir DIR [--txs 60000]
//           [--senders 1200] [--connections 4] [--batch 250]
//           [--submit-node URL]... [--rate TX_PER_SECOND [--duration S]
//           [--interval-ms 20] [--warmup S]]
//
// With --submit-node (repeatable), submission connection c goes to the
// (c mod K)-th of those K nodes, so a multi-validator localnet gets load on
// every node. Funding and inclusion tracking stay on --node.
//
// Without --rate (or with --rate 0) every connection submits its share as
// fast as the node accepts it, in batches of --batch. With --rate R the load
// is open loop: the transfers fall due at evenly spaced times, R per second
// over all connections. Every --interval-ms each connection sends the ones
// that are due, so the offered load stays at R whether or not the chain
// keeps up. --duration S sets --txs to R * S. The run then also reports
// the steady window, from --warmup seconds after the first submission to the
// last submission: committed transfers per second in it, the latency of the
// transfers submitted in it, and the block interval and size from the block
// headers.
//
// Latency runs from the moment a transfer's batch is sent to the moment the
// block follower, which polls --node during the whole run, sees the block
// that includes it.
//
// Only loopback URLs are accepted: this tool exists to load a local node.
#include "automata/crypto/bech32.h"
#include "automata/crypto/keyring.h"
#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"
#include "automata/types/bytes.h"
#include "automata/v1/tx.pb.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <thread>
#include <unordered_map>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using automata::Address;
using automata::Bytes;

// One keep-alive HTTP connection to the node.
class Connection {
 public:
  Connection(const std::string& host, const std::string& port) : stream_(ioc_), host_(host), port_(port) {
    connect();
  }

  json post(const json& body) {
    // The node closes connections idle for its read timeout (30 s by
    // default), which signing a large load can outlast, so a connection
    // idle that long is opened again before use.
    if (Clock::now() - last_use_ > kMaxIdle) {
      beast::error_code ignored;
      stream_.socket().close(ignored);
      connect();
    }
    last_use_ = Clock::now();
    http::request<http::string_body> req{http::verb::post, "/", 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = body.dump();
    req.prepare_payload();
    http::write(stream_, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(stream_, buffer, parser);
    last_use_ = Clock::now();
    return json::parse(parser.get().body());
  }

 private:
  static constexpr std::chrono::seconds kMaxIdle{20};

  void connect() {
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(host_, port_));
    last_use_ = Clock::now();
  }

  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  std::string host_;
  std::string port_;
  Clock::time_point last_use_;
};

json call(Connection& conn, const std::string& method, const json& params) {
  json reply = conn.post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}});
  if (reply.contains("error")) throw std::runtime_error(method + " failed: " + reply["error"].dump());
  return reply["result"];
}

Bytes sign_body(const automata::crypto::PrivateKey& key, automata::v1::TxBody& body) {
  std::string body_bytes = body.SerializeAsString();
  auto hash = automata::crypto::sha256(automata::as_view(body_bytes));
  auto signature = key.sign(hash);
  automata::v1::Tx tx;
  tx.set_body_bytes(body_bytes);
  tx.set_signature(std::string(signature.begin(), signature.end()));
  std::string out = tx.SerializeAsString();
  return Bytes(out.begin(), out.end());
}

automata::v1::TxBody new_body(const std::string& chain_id, const automata::crypto::PrivateKey& key, uint64_t nonce,
                              uint64_t gas, uint64_t gas_price) {
  automata::v1::TxBody body;
  body.set_chain_id(chain_id);
  auto pub = key.public_key();
  body.set_signer(std::string(pub.begin(), pub.end()));
  body.set_nonce(nonce);
  body.set_gas_limit(gas);
  body.mutable_fee()->set_denom("atm");
  body.mutable_fee()->set_amount(std::to_string(gas * gas_price));
  return body;
}

void wait_for_tx(Connection& conn, const std::string& hash) {
  for (int i = 0; i < 600; ++i) {
    json reply = conn.post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tx_get"}, {"params", {{"hash", hash}}}});
    if (reply.contains("result") && reply["result"].value("status", "") == "committed") {
      if (reply["result"].value("code", 0) != 0) throw std::runtime_error("funding tx failed: " + reply.dump());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("funding tx " + hash + " was not committed within 30 s");
}

uint64_t percentile(std::vector<uint64_t> values, unsigned pct) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = (values.size() - 1) * pct / 100;
  return values[index];
}

// Splits an http://HOST:PORT URL. Returns false with a message on stderr
// when the URL is malformed or the host is not loopback.
bool parse_loopback_url(const std::string& url, std::string* host, std::string* port) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) {
    std::fprintf(stderr, "loadgen: a node URL must start with http://, got '%s'\n", url.c_str());
    return false;
  }
  const std::string hostport = url.substr(prefix.size());
  const size_t colon = hostport.find(':');
  *host = hostport.substr(0, colon);
  *port = colon == std::string::npos ? "7701" : hostport.substr(colon + 1);
  if (*host != "127.0.0.1" && *host != "localhost") {
    std::fprintf(stderr, "loadgen: only loopback nodes may be loaded, got host '%s'\n", host->c_str());
    return false;
  }
  return true;
}

int64_t nanos_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
}

// A pre-signed transfer. index is its position in SubmissionLog.
struct SignedTransfer {
  size_t index = 0;
  std::string hash_hex;
  std::string tx_hex;
};

// Submission state of every transfer, indexed by SignedTransfer::index and
// shared between the submitting threads and the block follower.
struct SubmissionLog {
  explicit SubmissionLog(size_t count) : sent_ns(count) {}

  // Nanoseconds from the start to the send of the transfer's batch, plus 1
  // so that 0 means "not sent yet". Written before the batch goes out.
  std::vector<std::atomic<int64_t>> sent_ns;
  std::atomic<size_t> rejected_count{0};
  // Largest delay from a transfer's due time to its send, over all paced
  // batches: how far the submitters fell behind the schedule.
  std::atomic<int64_t> max_lag_ns{0};
  // Set when the block follower fails, so the submitters stop early.
  std::atomic<bool> stop{false};
};

struct PacingOptions {
  uint64_t rate = 0;  // transfers per second over all connections; 0 = burst
  std::chrono::milliseconds interval{20};
  size_t connections = 1;
};

// Under --rate R the j-th transfer of connection c out of C takes schedule
// slot j * C + c. Slot k is due k / R seconds after the start, so the
// connections together offer R transfers per second.
uint64_t slot_of(size_t position, size_t connection, size_t connections) {
  return static_cast<uint64_t>(position) * connections + connection;
}

int64_t due_ns(uint64_t slot, uint64_t rate) { return static_cast<int64_t>(slot * 1'000'000'000u / rate); }

// The number of transfers of one connection whose slot is below slots.
size_t due_count(uint64_t slots, size_t connection, size_t connections) {
  if (slots <= connection) return 0;
  return static_cast<size_t>((slots - connection + connections - 1) / connections);
}

// Sends one connection's transfers in order and records each send in log.
// Under pacing it wakes every interval and sends what is due, in chunks of
// at most batch. Without pacing it sends the chunks back to back.
void submit_transfers(Connection& conn, const std::vector<SignedTransfer>& txs, size_t connection, size_t batch,
                      const PacingOptions& pacing, Clock::time_point t0, SubmissionLog& log) {
  size_t next = 0;
  while (next < txs.size() && !log.stop.load()) {
    size_t due = txs.size();
    if (pacing.rate > 0) {
      const int64_t elapsed_ns = nanos_between(t0, Clock::now());
      // Slots due by now: k * 1e9 / rate <= elapsed_ns.
      const uint64_t slots = static_cast<uint64_t>(elapsed_ns) * pacing.rate / 1'000'000'000u + 1;
      due = std::min(txs.size(), due_count(slots, connection, pacing.connections));
      if (due <= next) {
        const auto interval_ns = std::chrono::nanoseconds(pacing.interval).count();
        std::this_thread::sleep_until(t0 + std::chrono::nanoseconds((elapsed_ns / interval_ns + 1) * interval_ns));
        continue;
      }
    }

    const size_t end = std::min(due, next + batch);
    json requests = json::array();
    for (size_t j = next; j < end; ++j) {
      requests.push_back(
          {{"jsonrpc", "2.0"}, {"id", j}, {"method", "tx_submit"}, {"params", {{"tx", txs[j].tx_hex}}}});
    }
    const int64_t sent = nanos_between(t0, Clock::now());
    if (pacing.rate > 0) {
      const int64_t lag = sent - due_ns(slot_of(next, connection, pacing.connections), pacing.rate);
      int64_t previous = log.max_lag_ns.load();
      while (lag > previous && !log.max_lag_ns.compare_exchange_weak(previous, lag)) {
      }
    }
    for (size_t j = next; j < end; ++j) log.sent_ns[txs[j].index].store(sent + 1, std::memory_order_release);

    json replies = conn.post(requests);
    for (const auto& reply : replies) {
      if (!reply.contains("error")) continue;
      if (log.rejected_count.fetch_add(1) < 5) {
        std::fprintf(stderr, "loadgen: rejected: %s\n", reply["error"].dump().c_str());
      }
    }
    next = end;
  }
}

// One committed block as the follower saw it.
struct ObservedBlock {
  uint64_t height = 0;
  uint64_t time_ms = 0;   // header time chosen by the proposer
  uint64_t tx_count = 0;  // all txs in the block, ours or not
  int64_t seen_ns = 0;    // from the start to the follower's block_get reply
};

// One of our transfers found in a block.
struct Inclusion {
  int64_t sent_ns = 0;
  int64_t seen_ns = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Automata load generator: committed transfers per second against a local node"};
  std::string node = "http://127.0.0.1:7701";
  std::string keyring_dir = automata::crypto::Keyring::default_dir();
  size_t total_txs = 60000;
  size_t senders = 1200;
  size_t connections = 4;
  size_t batch = 250;
  uint64_t gas = 20000;
  uint64_t rate = 0;
  uint64_t duration_s = 0;
  uint64_t interval_ms = 20;
  uint64_t warmup_s = 5;
  app.add_option("--node", node, "RPC URL of a node on loopback");
  app.add_option("--keyring-dir", keyring_dir, "Keyring holding the funded 'dev' key");
  app.add_option("--txs", total_txs, "Transfers to submit");
  app.add_option("--senders", senders, "Distinct sender accounts")->check(CLI::PositiveNumber);
  app.add_option("--connections", connections, "Parallel keep-alive HTTP connections")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "Maximum tx_submit requests per JSON-RPC batch")->check(CLI::PositiveNumber);
  app.add_option("--gas", gas, "Gas limit of each transfer");
  std::vector<std::string> submit_nodes;
  app.add_option("--submit-node", submit_nodes,
                 "RPC URL of a loopback node that receives submissions (repeatable; default: --node)");
  app.add_option("--rate", rate, "Offered load in transfers per second over all connections (0: as fast as possible)");
  app.add_option("--duration", duration_s, "Seconds of load under --rate; sets --txs to rate times duration");
  app.add_option("--interval-ms", interval_ms, "Milliseconds between paced submissions of one connection")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup_s, "Seconds after the first submission that the steady window leaves out");
  CLI11_PARSE(app, argc, argv);

  if (duration_s > 0) {
    if (rate == 0) {
      std::fprintf(stderr, "loadgen: --duration %llu needs --rate above 0 to size the load\n",
                   static_cast<unsigned long long>(duration_s));
      return 2;
    }
    total_txs = static_cast<size_t>(rate * duration_s);
  }
  if (total_txs == 0) {
    std::fprintf(stderr, "loadgen: --txs must be at least 1\n");
    return 2;
  }

  std::string host;
  std::string port;
  if (!parse_loopback_url(node, &host, &port)) return 2;
  if (submit_nodes.empty()) submit_nodes.push_back(node);
  std::vector<std::pair<std::string, std::string>> submit_targets;  // (host, port)
  for (const auto& url : submit_nodes) {
    std::string submit_host;
    std::string submit_port;
    if (!parse_loopback_url(url, &submit_host, &submit_port)) return 2;
    submit_targets.emplace_back(submit_host, submit_port);
  }

  try {
    Connection control(host, port);
    json status = call(control, "node_status", json::object());
    std::string chain_id = status["chain_id"];
    uint64_t gas_price = status.value("min_gas_price", uint64_t{1});

    automata::crypto::Keyring keyring(keyring_dir);
    std::optional<automata::crypto::PrivateKey> dev;
    auto st = keyring.load("dev", "", &dev);
    if (!st.is_ok()) throw std::runtime_error("cannot load the dev key: " + st.to_string());
    auto dev_address = automata::crypto::encode_address(automata::crypto::address_of(dev->public_key()));
    uint64_t dev_nonce = call(control, "account_get", {{"address", dev_address}})["nonce"];

    // Fund the senders with multi-send txs of up to 200 outputs each.
    std::vector<automata::crypto::PrivateKey> keys;
    keys.reserve(senders);
    for (size_t i = 0; i < senders; ++i) keys.push_back(automata::crypto::PrivateKey::generate());
    size_t per_sender = (total_txs + senders - 1) / senders;
    std::string funding = std::to_string((per_sender + 1) * (gas * gas_price + 10));
    std::string last_funding_hash;
    for (size_t start = 0; start < senders; start += 200) {
      auto body = new_body(chain_id, *dev, dev_nonce++, 2'000'000, gas_price);
      auto* multi = body.add_ops()->mutable_multi_send();
      for (size_t i = start; i < std::min(senders, start + 200); ++i) {
        auto address = automata::crypto::address_of(keys[i].public_key());
        auto* out = multi->add_outputs();
        out->set_to(std::string(address.begin(), address.end()));
        auto* coin = out->add_amount();
        coin->set_denom("atm");
        coin->set_amount(funding);
      }
      json r = call(control, "tx_submit", {{"tx", automata::to_hex(sign_body(*dev, body))}});
      last_funding_hash = r["hash"];
    }
    wait_for_tx(control, last_funding_hash);
    std::fprintf(stderr, "loadgen: funded %zu senders\n", senders);

    // Pre-sign every transfer. Sender s's txs go to connection s % C in
    // nonce order, so each sender's nonces reach one node in order.
    std::mt19937_64 rng(42);
    std::vector<std::vector<SignedTransfer>> per_conn(connections);
    std::unordered_map<std::string, size_t> index_of_hash;
    index_of_hash.reserve(total_txs);
    auto t_sign = Clock::now();
    size_t made = 0;
    for (size_t round = 0; round < per_sender && made < total_txs; ++round) {
      for (size_t s = 0; s < senders && made < total_txs; ++s, ++made) {
        auto body = new_body(chain_id, keys[s], round, gas, gas_price);
        auto to = automata::crypto::address_of(keys[rng() % senders].public_key());
        auto* transfer = body.add_ops()->mutable_transfer();
        transfer->set_to(std::string(to.begin(), to.end()));
        auto* coin = transfer->add_amount();
        coin->set_denom("atm");
        coin->set_amount("1");
        std::string body_bytes = body.SerializeAsString();
        std::string hash_hex = automata::to_hex(automata::crypto::sha256(automata::as_view(body_bytes)));
        Bytes tx = sign_body(keys[s], body);
        index_of_hash.emplace(hash_hex, made);
        per_conn[s % connections].push_back({made, std::move(hash_hex), automata::to_hex(tx)});
      }
    }
    double sign_s = std::chrono::duration<double>(Clock::now() - t_sign).count();
    std::fprintf(stderr, "loadgen: signed %zu transfers in %.2f s\n", made, sign_s);

    uint64_t start_height = call(control, "node_status", json::object())["height"];

    SubmissionLog log(made);
    PacingOptions pacing{rate, std::chrono::milliseconds(interval_ms), connections};
    std::atomic<size_t> submitters_left{connections};
    std::atomic<int64_t> submit_end_ns{0};
    std::atomic<bool> submit_failed{false};
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (size_t c = 0; c < connections; ++c) {
      threads.emplace_back([&, c] {
        const auto& target = submit_targets[c % submit_targets.size()];
        try {
          Connection conn(target.first, target.second);
          submit_transfers(conn, per_conn[c], c, batch, pacing, t0, log);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "loadgen: submission connection %zu to %s:%s failed: %s\n", c, target.first.c_str(),
                       target.second.c_str(), e.what());
          submit_failed.store(true);
        }
        if (submitters_left.fetch_sub(1) == 1) submit_end_ns.store(nanos_between(t0, Clock::now()));
      });
    }

    // Follow new blocks on --node while the submitters run, until every
    // accepted transfer is included or 120 s after the last submission.
    std::vector<ObservedBlock> blocks;
    std::vector<Inclusion> inclusions;
    inclusions.reserve(made);
    uint64_t next_height = start_height + 1;
    auto give_up_after = std::chrono::seconds(120);
    auto follow_blocks = [&] {
      for (;;) {
        const bool submitted_all = submitters_left.load() == 0;
        if (submitted_all) {
          const size_t accepted = made - log.rejected_count.load();
          if (inclusions.size() >= accepted || submit_failed.load()) break;
          if (Clock::now() - t0 > std::chrono::nanoseconds(submit_end_ns.load()) + give_up_after) break;
        }
        uint64_t height = call(control, "node_status", json::object())["height"];
        if (height < next_height) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        for (; next_height <= height; ++next_height) {
          json block = call(control, "block_get", {{"height", next_height}});
          const int64_t seen = nanos_between(t0, Clock::now());
          const json& header = block["header"];
          blocks.push_back(
              {next_height, header.value("time_ms", uint64_t{0}), header.value("tx_count", uint64_t{0}), seen});
          for (const auto& hash : block["txs"]) {
            auto it = index_of_hash.find(hash.get<std::string>());
            if (it == index_of_hash.end()) continue;
            // sent_ns is stored before its batch is posted, so an included
            // transfer has one; the check only guards the subtraction.
            const int64_t sent = log.sent_ns[it->second].load(std::memory_order_acquire) - 1;
            if (sent < 0) continue;
            inclusions.push_back({sent, seen});
          }
        }
      }
    };
    try {
      follow_blocks();
    } catch (...) {
      log.stop.store(true);
      for (auto& t : threads) t.join();
      throw;
    }
    for (auto& t : threads) t.join();
    if (submit_failed.load()) throw std::runtime_error("a submission connection failed; see the messages above");

    const size_t rejected = log.rejected_count.load();
    const size_t accepted = made - rejected;
    const int64_t submit_end = submit_end_ns.load();
    std::fprintf(stderr, "loadgen: submitted %zu (%zu rejected) in %.2f s\n", made, rejected, submit_end / 1e9);

    std::vector<uint64_t> latencies_ms;
    int64_t last_commit_ns = 0;
    for (const auto& inclusion : inclusions) {
      latencies_ms.push_back(static_cast<uint64_t>((inclusion.seen_ns - inclusion.sent_ns) / 1'000'000));
      last_commit_ns = std::max(last_commit_ns, inclusion.seen_ns);
    }
    const double total_s = last_commit_ns / 1e9;
    const double submit_s = submit_end / 1e9;
    std::printf("transfers submitted:   %zu (%zu rejected)\n", made, rejected);
    std::printf("transfers committed:   %zu in %.2f s\n", inclusions.size(), total_s);
    std::printf("committed per second:  %.0f\n", total_s > 0 ? inclusions.size() / total_s : 0.0);
    std::printf("latency ms p50/p99:    %llu / %llu (submission to observed inclusion)\n",
                static_cast<unsigned long long>(percentile(latencies_ms, 50)),
                static_cast<unsigned long long>(percentile(latencies_ms, 99)));
    std::printf("offered per second:    %.0f (%zu in %.2f s; target %s)\n", submit_s > 0 ? made / submit_s : 0.0,
                made, submit_s, rate > 0 ? std::to_string(rate).c_str() : "as fast as possible");

    if (rate > 0) {
      // Steady window: from warmup after the start to the last submission.
      // A load shorter than 4 * warmup keeps its last three quarters.
      const int64_t warmup_ns = std::min<int64_t>(static_cast<int64_t>(warmup_s) * 1'000'000'000, submit_end / 4);
      const int64_t window_start = warmup_ns;
      const int64_t window_end = submit_end;
      const double window_s = (window_end - window_start) / 1e9;
      size_t committed_in_window = 0;
      std::vector<uint64_t> window_latencies_ms;
      for (const auto& inclusion : inclusions) {
        if (inclusion.seen_ns > window_start && inclusion.seen_ns <= window_end) ++committed_in_window;
        if (inclusion.sent_ns >= window_start && inclusion.sent_ns < window_end) {
          window_latencies_ms.push_back(static_cast<uint64_t>((inclusion.seen_ns - inclusion.sent_ns) / 1'000'000));
        }
      }
      std::vector<uint64_t> intervals_ms;
      std::vector<uint64_t> block_sizes;
      for (size_t i = 0; i < blocks.size(); ++i) {
        if (blocks[i].seen_ns <= window_start || blocks[i].seen_ns > window_end) continue;
        block_sizes.push_back(blocks[i].tx_count);
        if (i > 0 && blocks[i].time_ms >= blocks[i - 1].time_ms) {
          intervals_ms.push_back(blocks[i].time_ms - blocks[i - 1].time_ms);
        }
      }
      std::printf("steady window:         %.1f s to %.1f s after the start\n", window_start / 1e9, window_end / 1e9);
      std::printf("steady committed/s:    %.0f\n", window_s > 0 ? committed_in_window / window_s : 0.0);
      std::printf("steady latency ms p50/p99: %llu / %llu (%zu transfers submitted in the window)\n",
                  static_cast<unsigned long long>(percentile(window_latencies_ms, 50)),
                  static_cast<unsigned long long>(percentile(window_latencies_ms, 99)),
                  window_latencies_ms.size());
      std::printf("steady blocks:         %zu, interval ms p50/max %llu / %llu, txs per block p50/max %llu / %llu\n",
                  block_sizes.size(), static_cast<unsigned long long>(percentile(intervals_ms, 50)),
                  static_cast<unsigned long long>(percentile(intervals_ms, 100)),
                  static_cast<unsigned long long>(percentile(block_sizes, 50)),
                  static_cast<unsigned long long>(percentile(block_sizes, 100)));
      std::printf("max submission lag:   %lld ms behind the schedule\n",
                  static_cast<long long>(log.max_lag_ns.load() / 1'000'000));
    }
    return inclusions.size() == accepted ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    return 1;
  }
}
