// Every kind of JSON-RPC and HTTP error the server returns.
#include "rpc_fixture.h"

namespace automata::rpc::testing {
namespace {

json error_of(const json& reply) {
  EXPECT_TRUE(reply.contains("error")) << reply.dump();
  EXPECT_FALSE(reply.contains("result")) << reply.dump();
  return reply.value("error", json::object());
}

TEST_F(RpcServerTest, MalformedJsonIsParseError) {
  HttpReply reply = client_->post("{\"jsonrpc\": \"2.0\", \"method\": ");
  EXPECT_EQ(reply.status, 200u);
  json error = error_of(reply.parsed());
  EXPECT_EQ(error["code"], kParseError);
  EXPECT_TRUE(reply.parsed()["id"].is_null());
}

TEST_F(RpcServerTest, UnknownMethodIsNamed) {
  json error = error_of(call(*client_, "chain_explode"));
  EXPECT_EQ(error["code"], kMethodNotFound);
  EXPECT_NE(error["message"].get<std::string>().find("chain_explode"), std::string::npos);
}

TEST_F(RpcServerTest, WrongParameterTypeNamesRule) {
  json error = error_of(call(*client_, "block_get", {{"height", "7"}}));
  EXPECT_EQ(error["code"], kInvalidParams);
  EXPECT_EQ(error["message"], "params.height: expected a non-negative integer, got string");

  json negative = error_of(call(*client_, "block_get", {{"height", -1}}));
  EXPECT_EQ(negative["code"], kInvalidParams);
  EXPECT_NE(negative["message"].get<std::string>().find("params.height"), std::string::npos);

  json bad_hex = error_of(call(*client_, "tx_get", {{"hash", "zz"}}));
  EXPECT_EQ(bad_hex["code"], kInvalidParams);
  EXPECT_NE(bad_hex["message"].get<std::string>().find("params.hash"), std::string::npos);

  json short_hash = error_of(call(*client_, "tx_get", {{"hash", "abcd"}}));
  EXPECT_EQ(short_hash["code"], kInvalidParams);
  EXPECT_NE(short_hash["message"].get<std::string>().find("32 bytes"), std::string::npos);

  json bad_address = error_of(call(*client_, "account_get", {{"address", "cosmos1xyz"}}));
  EXPECT_EQ(bad_address["code"], kInvalidParams);
  EXPECT_NE(bad_address["message"].get<std::string>().find("params.address"), std::string::npos);

  json positional = error_of(call(*client_, "node_status", json::array({1})));
  EXPECT_EQ(positional["code"], kInvalidParams);
  EXPECT_NE(positional["message"].get<std::string>().find("named parameters"), std::string::npos);
}

TEST_F(RpcServerTest, MissingAndUnknownParameters) {
  json missing = error_of(call(*client_, "tx_get"));
  EXPECT_EQ(missing["code"], kInvalidParams);
  EXPECT_EQ(missing["message"], "params.hash: missing required parameter");

  json unknown = error_of(call(*client_, "tx_get", {{"hash", std::string(64, 'a')}, {"hieght", 1}}));
  EXPECT_EQ(unknown["code"], kInvalidParams);
  EXPECT_NE(unknown["message"].get<std::string>().find("params.hieght"), std::string::npos);

  json both = error_of(call(*client_, "block_get", {{"height", 1}, {"hash", std::string(64, 'a')}}));
  EXPECT_EQ(both["code"], kInvalidParams);

  json neither = error_of(call(*client_, "state_proof"));
  EXPECT_EQ(neither["code"], kInvalidParams);
}

TEST_F(RpcServerTest, InvalidEnvelopeIsInvalidRequest) {
  json no_version = error_of(client_->post(R"({"id":1,"method":"node_status"})").parsed());
  EXPECT_EQ(no_version["code"], kInvalidRequest);
  EXPECT_NE(no_version["message"].get<std::string>().find("jsonrpc"), std::string::npos);

  json no_method = error_of(client_->post(R"({"jsonrpc":"2.0","id":1})").parsed());
  EXPECT_EQ(no_method["code"], kInvalidRequest);

  json bad_id = error_of(client_->post(R"({"jsonrpc":"2.0","id":{"a":1},"method":"node_status"})").parsed());
  EXPECT_EQ(bad_id["code"], kInvalidRequest);

  json scalar = error_of(client_->post("42").parsed());
  EXPECT_EQ(scalar["code"], kInvalidRequest);
}

TEST_F(RpcServerTest, NotFoundNamesTheLookup) {
  std::string hash(64, 'b');
  json tx = error_of(call(*client_, "tx_get", {{"hash", hash}}));
  EXPECT_EQ(tx["code"], kNotFound);
  EXPECT_NE(tx["message"].get<std::string>().find(hash), std::string::npos);

  json block = error_of(call(*client_, "block_get", {{"height", 99}}));
  EXPECT_EQ(block["code"], kNotFound);

  json by_hash = error_of(call(*client_, "block_get", {{"hash", hash}}));
  EXPECT_EQ(by_hash["code"], kNotFound);

  json latest = error_of(call(*client_, "block_get"));
  EXPECT_EQ(latest["code"], kNotFound);
}

TEST_F(RpcServerTest, RejectedTxCarriesResultCode) {
  auto wrong_chain = make_transfer(user_key_, "other-chain", 0, Address{}, "1");
  json error = error_of(call(*client_, "tx_submit", {{"tx", to_hex(wrong_chain.bytes)}}));
  EXPECT_EQ(error["code"], kTxRejected);
  EXPECT_EQ(error["data"]["code"], static_cast<uint32_t>(execution::ResultCode::kWrongChainId));
  EXPECT_EQ(error["data"]["name"], "wrong_chain_id");
  EXPECT_EQ(error["data"]["hash"], to_hex(wrong_chain.hash));
  EXPECT_FALSE(error["data"]["log"].get<std::string>().empty());
  EXPECT_EQ(metrics_.rejected_txs(execution::ResultCode::kWrongChainId), 1u);

  json garbage = error_of(call(*client_, "tx_submit", {{"tx", "ffff"}}));
  EXPECT_EQ(garbage["code"], kTxRejected);
  EXPECT_EQ(garbage["data"]["code"], static_cast<uint32_t>(execution::ResultCode::kTxMalformed));
}

TEST_F(RpcServerTest, OversizedBodyGets413) {
  std::string body = R"({"jsonrpc":"2.0","id":1,"method":"node_status","params":{"pad":")" +
                     std::string(kMaxBody, 'x') + "\"}}";
  HttpReply reply = client_->post(body);
  EXPECT_EQ(reply.status, 413u);
  json error = error_of(reply.parsed());
  EXPECT_EQ(error["code"], kInvalidRequest);
  std::string message = error["message"];
  EXPECT_NE(message.find(std::to_string(body.size())), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(kMaxBody)), std::string::npos) << message;

  // The server closed that connection; a new one still works.
  HttpClient fresh(server_->port());
  EXPECT_TRUE(call(fresh, "node_status").contains("result"));
}

TEST_F(RpcServerTest, BatchAnswersEachEntryInOrder) {
  json batch = json::array({
      {{"jsonrpc", "2.0"}, {"id", "a"}, {"method", "node_status"}},
      {{"jsonrpc", "2.0"}, {"id", "b"}, {"method", "nope"}},
      {{"jsonrpc", "2.0"}, {"method", "node_status"}},  // notification: no response
      7,
      {{"jsonrpc", "2.0"}, {"id", "c"}, {"method", "block_get"}, {"params", {{"height", true}}}},
  });
  json replies = client_->post(batch.dump()).parsed();
  ASSERT_TRUE(replies.is_array()) << replies.dump();
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0]["id"], "a");
  EXPECT_TRUE(replies[0].contains("result"));
  EXPECT_EQ(replies[1]["id"], "b");
  EXPECT_EQ(replies[1]["error"]["code"], kMethodNotFound);
  EXPECT_TRUE(replies[2]["id"].is_null());
  EXPECT_EQ(replies[2]["error"]["code"], kInvalidRequest);
  EXPECT_EQ(replies[3]["id"], "c");
  EXPECT_EQ(replies[3]["error"]["code"], kInvalidParams);
}

TEST_F(RpcServerTest, BatchLimits) {
  json empty = error_of(client_->post("[]").parsed());
  EXPECT_EQ(empty["code"], kInvalidRequest);

  json big = json::array();
  for (size_t i = 0; i <= kMaxBatchSize; ++i) big.push_back({{"jsonrpc", "2.0"}, {"id", i}, {"method", "x"}});
  // This batch is larger than the test server's body limit, so ask the
  // handler directly.
  json reply = json::parse(handler_->handle(big.dump()));
  json error = error_of(reply);
  EXPECT_EQ(error["code"], kInvalidRequest);
  EXPECT_NE(error["message"].get<std::string>().find("1001"), std::string::npos);
}

TEST_F(RpcServerTest, NotificationGetsNoContent) {
  HttpReply reply = client_->post(R"({"jsonrpc":"2.0","method":"node_status"})");
  EXPECT_EQ(reply.status, 204u);
  EXPECT_TRUE(reply.body.empty());
}

TEST_F(RpcServerTest, UnknownPathGets404) {
  HttpReply reply = client_->get("/nowhere");
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(error_of(reply.parsed())["code"], kInvalidRequest);

  HttpReply wrong_verb = client_->get("/");
  EXPECT_EQ(wrong_verb.status, 405u);
}

TEST(RpcListenAddress, ParsesAndRejects) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(parse_listen_address("127.0.0.1:7701", &host, &port).is_ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 7701);
  ASSERT_TRUE(parse_listen_address("[::1]:0", &host, &port).is_ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);

  Status no_port = parse_listen_address("127.0.0.1", &host, &port);
  EXPECT_FALSE(no_port.is_ok());
  EXPECT_NE(no_port.message().find("127.0.0.1"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("127.0.0.1:70000", &host, &port).is_ok());
  EXPECT_FALSE(parse_listen_address("127.0.0.1:http", &host, &port).is_ok());
}

TEST(RpcServer, PortInUseIsNamed) {
  Metrics metrics;
  // The handler is never reached: both servers fail or stop before serving.
  ServerConfig config;
  config.port = 0;
  Server first(config, nullptr);
  ASSERT_TRUE(first.start().is_ok());
  config.port = first.port();
  Server second(config, nullptr);
  Status status = second.start();
  EXPECT_EQ(status.kind(), Status::Kind::kUnavailable);
  EXPECT_NE(status.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("in use"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace automata::rpc::testing
