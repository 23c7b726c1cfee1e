// A real Chain in a temp dir, a real Mempool and the real RPC server on a
// free loopback port, plus a small HTTP client and a tx builder.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/chain.h"
#include "automata/mempool/mempool.h"
#include "automata/rpc/handler.h"
#include "automata/rpc/metrics.h"
#include "automata/rpc/server.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/tx.pb.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

namespace automata::rpc::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

struct HttpReply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  json parsed() const { return json::parse(body); }
};

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : stream_(io_) {
    stream_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  HttpReply request(http::verb verb, const std::string& target, const std::string& body = "") {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(true);
    if (verb == http::verb::post) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
      request.prepare_payload();
    }
    http::write(stream_, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(stream_, buffer, parser);
    auto response = parser.release();
    HttpReply reply;
    reply.status = response.result_int();
    reply.content_type = std::string(response[http::field::content_type]);
    reply.body = response.body();
    return reply;
  }

  HttpReply post(const std::string& body) { return request(http::verb::post, "/", body); }
  HttpReply get(const std::string& target) { return request(http::verb::get, target); }

 private:
  boost::asio::io_context io_;
  beast::tcp_stream stream_;
};

inline json call(HttpClient& client, const std::string& method, json params = json::object(), int id = 1) {
  json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  return client.post(request.dump()).parsed();
}

struct TransferTx {
  Bytes bytes;
  Hash32 hash{};
};

// A signed tx with one transfer of `amount` atm to `to`.
inline TransferTx make_transfer(const crypto::PrivateKey& key, const std::string& chain_id, uint64_t nonce,
                                const Address& to, const std::string& amount) {
  v1::TxBody body;
  body.set_chain_id(chain_id);
  auto pubkey = key.public_key();
  body.set_signer(pubkey.data(), pubkey.size());
  body.set_nonce(nonce);
  body.set_gas_limit(50'000);
  body.mutable_fee()->set_denom("atm");
  body.mutable_fee()->set_amount("50000");
  body.set_memo("rpc test");
  auto* transfer = body.add_ops()->mutable_transfer();
  transfer->set_to(to.data(), to.size());
  auto* coin = transfer->add_amount();
  coin->set_denom("atm");
  coin->set_amount(amount);

  v1::Tx tx;
  tx.set_body_bytes(body.SerializeAsString());
  TransferTx out;
  out.hash = crypto::sha256(as_view(tx.body_bytes()));
  auto signature = key.sign(out.hash);
  tx.set_signature(signature.data(), signature.size());
  auto serialized = tx.SerializeAsString();
  out.bytes.assign(serialized.begin(), serialized.end());
  return out;
}

class RpcServerTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kFunds = 1'000'000'000;

  void SetUp() override {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() / ("automata-rpc-test-" + std::to_string(random()));
    std::filesystem::create_directories(dir_);

    genesis_.chain_id = "rpc-test";
    genesis_.genesis_time_ms = 1'700'000'000'000;
    execution::GenesisValidator validator;
    validator.pubkey = validator_key_.public_key();
    validator.name = "validator";
    genesis_.validators.push_back(validator);
    execution::GenesisAccount account;
    account.address = crypto::address_of(user_key_.public_key());
    account.balances.emplace_back("atm", kFunds);
    genesis_.accounts.push_back(account);

    execution::ChainOptions options;
    options.db_path = (dir_ / "data").string();
    options.verify_threads = 1;
    Status opened = execution::Chain::open(options, genesis_, &chain_);
    ASSERT_TRUE(opened.is_ok()) << opened.to_string();
    mempool_ = std::make_unique<mempool::Mempool>(chain_.get(), mempool::MempoolConfig{});

    NodeInfo info;
    info.version = "test-version";
    info.validator_address = crypto::address_of(validator_key_.public_key());
    info.min_gas_price = genesis_.params.min_gas_price;
    info.limits = {genesis_.params.max_tx_bytes, genesis_.params.max_blob_bytes, genesis_.params.max_files_per_version,
                   genesis_.params.max_path_bytes};
    handler_ = std::make_unique<Handler>(chain_.get(), mempool_.get(), info, &metrics_);

    ServerConfig config;
    config.port = 0;
    config.max_body_bytes = kMaxBody;
    config.threads = 2;
    server_ = std::make_unique<Server>(config, handler_.get());
    Status started = server_->start();
    ASSERT_TRUE(started.is_ok()) << started.to_string();
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->stop();
    server_.reset();
    handler_.reset();
    mempool_.reset();
    chain_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Commits one block with the pooled txs, as the node's producer does.
  v1::Block commit_block() {
    execution::BlockContext context;
    context.height = chain_->last_height() + 1;
    context.time_ms = genesis_.genesis_time_ms + 1000 * context.height;
    context.proposer = crypto::address_of(validator_key_.public_key());
    v1::Block block;
    Status status = chain_->prepare_block(context, mempool_->reap(1000, 1 << 20), &block);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    auto signature = validator_key_.sign(crypto::sha256(as_view(block.header_bytes())));
    block.set_proposer_signature(signature.data(), signature.size());
    status = chain_->finalize_block(block);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    status = chain_->commit();
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    std::vector<Hash32> committed;
    for (const auto& raw : block.txs()) {
      v1::Tx tx;
      tx.ParseFromString(raw);
      committed.push_back(crypto::sha256(as_view(tx.body_bytes())));
    }
    mempool_->update(context.height, committed);
    return block;
  }

  Address user_address() const { return crypto::address_of(user_key_.public_key()); }

  static constexpr size_t kMaxBody = 64 * 1024;

  std::filesystem::path dir_;
  crypto::PrivateKey validator_key_ = crypto::PrivateKey::generate();
  crypto::PrivateKey user_key_ = crypto::PrivateKey::generate();
  execution::Genesis genesis_;
  std::unique_ptr<execution::Chain> chain_;
  std::unique_ptr<mempool::Mempool> mempool_;
  Metrics metrics_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace automata::rpc::testing
