// Load generator for a running node: funds sender accounts from the dev
// key, pre-signs transfers, submits them as JSON-RPC batches over several
// keep-alive connections, and reports committed transfers per second and
// the time from first submission to inclusion.
//
//   loadgen --node http://127.0.0.1:7701 --keyring-dir DIR [--txs 60000]
//           [--senders 1200] [--connections 4] [--batch 250]
//           [--submit-node URL]...
//
// With --submit-node (repeatable), submission connection c goes to the
// (c mod K)-th of those K nodes, so a multi-validator localnet gets load on
// every node. Funding and inclusion tracking stay on --node.
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
  Connection(const std::string& host, const std::string& port) : stream_(ioc_) {
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(host, port));
    host_ = host;
  }

  json post(const json& body) {
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
    return json::parse(parser.get().body());
  }

 private:
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  std::string host_;
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
  app.add_option("--node", node, "RPC URL of a node on loopback");
  app.add_option("--keyring-dir", keyring_dir, "Keyring holding the funded 'dev' key");
  app.add_option("--txs", total_txs, "Transfers to submit");
  app.add_option("--senders", senders, "Distinct sender accounts");
  app.add_option("--connections", connections, "Parallel keep-alive HTTP connections");
  app.add_option("--batch", batch, "tx_submit requests per JSON-RPC batch");
  app.add_option("--gas", gas, "Gas limit of each transfer");
  std::vector<std::string> submit_nodes;
  app.add_option("--submit-node", submit_nodes,
                 "RPC URL of a loopback node that receives submissions (repeatable; default: --node)");
  CLI11_PARSE(app, argc, argv);

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

    // Pre-sign every transfer; sender i's txs go to connection i % C in
    // nonce order.
    std::mt19937_64 rng(42);
    std::vector<std::vector<std::pair<std::string, std::string>>> per_conn(connections);  // (hash, hex)
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
        auto hash = automata::crypto::sha256(automata::as_view(body_bytes));
        Bytes tx = sign_body(keys[s], body);
        per_conn[s % connections].emplace_back(automata::to_hex(hash), automata::to_hex(tx));
      }
    }
    double sign_s = std::chrono::duration<double>(Clock::now() - t_sign).count();
    std::fprintf(stderr, "loadgen: signed %zu transfers in %.2f s\n", made, sign_s);

    uint64_t start_height = call(control, "node_status", json::object())["height"];

    // Submit. Each submitted hash records its submission time.
    std::atomic<size_t> rejected{0};
    std::vector<std::map<std::string, Clock::time_point>> submitted(connections);
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (size_t c = 0; c < connections; ++c) {
      threads.emplace_back([&, c] {
        const auto& target = submit_targets[c % submit_targets.size()];
        Connection conn(target.first, target.second);
        auto& txs = per_conn[c];
        for (size_t i = 0; i < txs.size(); i += batch) {
          json requests = json::array();
          for (size_t j = i; j < std::min(txs.size(), i + batch); ++j) {
            requests.push_back({{"jsonrpc", "2.0"}, {"id", j}, {"method", "tx_submit"}, {"params", {{"tx", txs[j].second}}}});
          }
          auto now = Clock::now();
          json replies = conn.post(requests);
          for (const auto& r : replies) {
            if (r.contains("error")) {
              if (rejected.fetch_add(1) < 5) std::fprintf(stderr, "loadgen: rejected: %s\n", r["error"].dump().c_str());
              continue;
            }
            submitted[c][r["result"]["hash"].get<std::string>()] = now;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    double submit_s = std::chrono::duration<double>(Clock::now() - t0).count();
    size_t accepted = made - rejected.load();
    std::fprintf(stderr, "loadgen: submitted %zu (%zu rejected) in %.2f s\n", made, rejected.load(), submit_s);

    // Follow new blocks until every accepted tx is included.
    std::map<std::string, Clock::time_point> sent_at;
    for (auto& m : submitted) sent_at.insert(m.begin(), m.end());
    std::vector<uint64_t> latencies_ms;
    size_t included = 0;
    uint64_t next_height = start_height + 1;
    auto last_commit = t0;
    auto deadline = Clock::now() + std::chrono::seconds(120);
    while (included < accepted && Clock::now() < deadline) {
      uint64_t height = call(control, "node_status", json::object())["height"];
      if (height < next_height) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      for (; next_height <= height; ++next_height) {
        json block = call(control, "block_get", {{"height", next_height}});
        auto seen = Clock::now();
        for (const auto& hash : block["txs"]) {
          auto it = sent_at.find(hash.get<std::string>());
          if (it == sent_at.end()) continue;
          ++included;
          latencies_ms.push_back(static_cast<uint64_t>(
              std::chrono::duration_cast<std::chrono::milliseconds>(seen - it->second).count()));
          last_commit = seen;
        }
      }
    }
    double total_s = std::chrono::duration<double>(last_commit - t0).count();
    std::printf("transfers submitted:   %zu (%zu rejected)\n", made, rejected.load());
    std::printf("transfers committed:   %zu in %.2f s\n", included, total_s);
    std::printf("committed per second:  %.0f\n", total_s > 0 ? included / total_s : 0.0);
    std::printf("latency ms p50/p99:    %llu / %llu (submission to observed inclusion)\n",
                static_cast<unsigned long long>(percentile(latencies_ms, 50)),
                static_cast<unsigned long long>(percentile(latencies_ms, 99)));
    return included == accepted ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    return 1;
  }
}
