#include "automata/cli/rpc_client.h"

#include "fake_http_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace automata::cli {
namespace {

using nlohmann::json;
using testing::FakeHttpServer;
using testing::FakeResponse;

// Replies to every JSON-RPC request with body_for(request).
FakeHttpServer::Handler rpc_handler(std::function<json(const json&)> body_for) {
  return [body_for](const std::string&, const std::string&, const std::string& body) {
    return FakeResponse{200, body_for(json::parse(body)).dump()};
  };
}

json ok_reply(const json& request, json result) {
  return {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", std::move(result)}};
}

std::unique_ptr<RpcClient> make_client(const std::string& url, RpcClientOptions options = {}) {
  std::unique_ptr<RpcClient> client;
  Status s = RpcClient::create(url, options, &client);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return client;
}

// A loopback port with nothing listening: bound by the kernel, then freed.
unsigned short closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  unsigned short port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

TEST(RpcClient, SendsJsonRpcRequest) {
  json seen;
  FakeHttpServer server(rpc_handler([&seen](const json& request) {
    seen = request;
    return ok_reply(request, {{"height", 12}});
  }));
  auto client = make_client(server.url());
  json result;
  Status s = client->call("block_get", {{"height", 12}}, &result);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(result["height"], 12);
  EXPECT_EQ(seen["jsonrpc"], "2.0");
  EXPECT_EQ(seen["method"], "block_get");
  EXPECT_EQ(seen["params"], (json{{"height", 12}}));
  EXPECT_TRUE(seen["id"].is_number_unsigned());
}

TEST(RpcClient, SerializedParamsSentVerbatim) {
  std::string seen_body;
  FakeHttpServer server([&seen_body](const std::string&, const std::string&, const std::string& body) {
    seen_body = body;
    json request = json::parse(body);
    return FakeResponse{200, ok_reply(request, {{"status", "pending"}}).dump()};
  });
  auto client = make_client(server.url());
  std::string params = R"({"tx":"00ff10"})";
  json result;
  Status s = client->call_serialized("tx_submit", params, &result);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(result["status"], "pending");

  json seen = json::parse(seen_body);
  EXPECT_EQ(seen, make_rpc_request(seen["id"].get<uint64_t>(), "tx_submit", json{{"tx", "00ff10"}}));
  EXPECT_NE(seen_body.find(params), std::string::npos) << seen_body;
  json second;
  ASSERT_TRUE(client->call_serialized("tx_submit", params, &second).is_ok());
  EXPECT_GT(json::parse(seen_body)["id"].get<uint64_t>(), seen["id"].get<uint64_t>()) << "each call has a new id";
}

TEST(RpcClient, ErrorObjectDecoded) {
  FakeHttpServer server(rpc_handler([](const json& request) {
    return json{{"jsonrpc", "2.0"},
                {"id", request["id"]},
                {"error",
                 {{"code", -32002},
                  {"message", "tx rejected"},
                  {"data", {{"code", 201}, {"name", "nonce_too_low"}, {"log", "nonce 3 < 5"}}}}}};
  }));
  auto client = make_client(server.url());
  json result;
  RpcError error;
  Status s = client->call("tx_submit", {{"tx", "00"}}, &result, &error);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("tx_submit"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("-32002"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("tx rejected"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("nonce_too_low"), std::string::npos) << s.message();
  EXPECT_EQ(error.code, -32002);
  EXPECT_EQ(error.message, "tx rejected");
  EXPECT_EQ(json::parse(error.data)["code"], 201);
}

TEST(RpcClient, NotFoundCodeMapsToNotFound) {
  FakeHttpServer server(rpc_handler([](const json& request) {
    return json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"error", {{"code", -32001}, {"message", "tx abc not found"}}}};
  }));
  auto client = make_client(server.url());
  json result;
  Status s = client->call("tx_get", {{"hash", "abc"}}, &result);
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find("tx abc not found"), std::string::npos) << s.message();
}

TEST(RpcClient, ErrorBodyOnHttp413Decoded) {
  FakeHttpServer server([](const std::string&, const std::string&, const std::string&) {
    json body = {{"jsonrpc", "2.0"},
                 {"id", nullptr},
                 {"error", {{"code", -32600}, {"message", "body of 2000000 bytes exceeds the limit of 1048576"}}}};
    return FakeResponse{413, body.dump(), /*close=*/true};
  });
  auto client = make_client(server.url());
  json result;
  RpcError error;
  Status s = client->call("tx_submit", {{"tx", "00"}}, &result, &error);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(error.code, -32600);
  EXPECT_NE(s.message().find("1048576"), std::string::npos) << s.message();
}

TEST(RpcClient, NonJsonBodyNamesHttpStatus) {
  FakeHttpServer server([](const std::string&, const std::string&, const std::string&) {
    return FakeResponse{502, "<html>bad gateway</html>"};
  });
  auto client = make_client(server.url());
  json result;
  Status s = client->call("node_status", json::object(), &result);
  EXPECT_EQ(s.kind(), Status::Kind::kIoError);
  EXPECT_NE(s.message().find("HTTP 502"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("bad gateway"), std::string::npos) << s.message();
}

TEST(RpcClient, MismatchedIdRejected) {
  FakeHttpServer server(rpc_handler([](const json& request) {
    return json{{"jsonrpc", "2.0"}, {"id", request["id"].get<uint64_t>() + 100}, {"result", 1}};
  }));
  auto client = make_client(server.url());
  json result;
  Status s = client->call("node_status", json::object(), &result);
  EXPECT_EQ(s.kind(), Status::Kind::kIoError);
  EXPECT_NE(s.message().find("id does not match"), std::string::npos) << s.message();
}

TEST(RpcClient, ConnectionRefusedMessage) {
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
  auto client = make_client(url);
  json result;
  Status s = client->call("node_status", json::object(), &result);
  EXPECT_EQ(s.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(s.message(), "cannot reach node at " + url + ": connection refused; is automatad running?");
}

TEST(RpcClient, ReadTimeoutReported) {
  FakeHttpServer server([](const std::string&, const std::string&, const std::string&) {
    FakeResponse reply;
    reply.hang = true;
    return reply;
  });
  RpcClientOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  auto client = make_client(server.url(), options);
  json result;
  Status s = client->call("node_status", json::object(), &result);
  EXPECT_EQ(s.kind(), Status::Kind::kUnavailable);
  EXPECT_NE(s.message().find("did not respond to node_status within 200 ms"), std::string::npos) << s.message();
}

TEST(RpcClient, KeepAliveReusesConnection) {
  FakeHttpServer server(rpc_handler([](const json& request) { return ok_reply(request, "ok"); }));
  auto client = make_client(server.url());
  for (int i = 0; i < 3; ++i) {
    json result;
    ASSERT_TRUE(client->call("node_status", json::object(), &result).is_ok());
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(RpcClient, ReconnectsAfterConnectionClose) {
  FakeHttpServer server([](const std::string&, const std::string&, const std::string& body) {
    json request = json::parse(body);
    FakeResponse reply{200, ok_reply(request, "ok").dump()};
    reply.close = true;
    return reply;
  });
  auto client = make_client(server.url());
  for (int i = 0; i < 2; ++i) {
    json result;
    Status s = client->call("node_status", json::object(), &result);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
  EXPECT_EQ(server.connections(), 2);
}

TEST(RpcClient, RetriesWhenIdleConnectionDropped) {
  FakeHttpServer server([](const std::string&, const std::string&, const std::string& body) {
    json request = json::parse(body);
    FakeResponse reply{200, ok_reply(request, "ok").dump()};
    reply.drop_after = true;
    return reply;
  });
  auto client = make_client(server.url());
  for (int i = 0; i < 3; ++i) {
    json result;
    Status s = client->call("node_status", json::object(), &result);
    ASSERT_TRUE(s.is_ok()) << "call " << i << ": " << s.to_string();
  }
  EXPECT_EQ(server.connections(), 3);
}

TEST(RpcClient, GetReturnsStatusAndBody) {
  FakeHttpServer server([](const std::string& method, const std::string& target, const std::string&) {
    if (method == "GET" && target == "/health") return FakeResponse{200, R"({"status":"ok","height":3})"};
    return FakeResponse{404, "{}"};
  });
  auto client = make_client(server.url());
  int status = 0;
  std::string body;
  ASSERT_TRUE(client->get("/health", &status, &body).is_ok());
  EXPECT_EQ(status, 200);
  EXPECT_EQ(json::parse(body)["height"], 3);
}

TEST(RpcClient, RequestSendsMethodTargetAndBody) {
  std::string seen_method, seen_target, seen_body;
  FakeHttpServer server([&](const std::string& method, const std::string& target, const std::string& body) {
    seen_method = method;
    seen_target = target;
    seen_body = body;
    return FakeResponse{404, R"({"error":{"code":-32001,"message":"fragment 3 is not held"}})"};
  });
  auto client = make_client(server.url());
  HttpRequest request;
  request.method = "PUT";
  request.target = "/v1/models/ab/fragments/3";
  request.headers.emplace_back("X-Automata-Proof", "");
  // Split literals, so the hex escape \x01 does not swallow the 'b'.
  request.body = std::string("\x00\x01" "binary" "\xff", 9);
  HttpResponse response;
  Status s = client->request(request, &response);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(seen_method, "PUT");
  EXPECT_EQ(seen_target, "/v1/models/ab/fragments/3");
  EXPECT_EQ(seen_body, request.body);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body)["error"]["code"], -32001);
  ASSERT_NE(response.header("content-type"), nullptr);
  EXPECT_EQ(*response.header("CONTENT-TYPE"), "application/json");
  // The fake node does not advertise the fragment bytes routes.
  EXPECT_FALSE(client->serves_fragment_bytes());
}

TEST(RpcClient, RequestUnknownMethodRejected) {
  auto client = make_client("http://127.0.0.1:" + std::to_string(closed_port()));
  HttpRequest request;
  request.method = "FROB";
  request.target = "/";
  HttpResponse response;
  Status s = client->request(request, &response);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("'FROB'"), std::string::npos) << s.message();
}

TEST(HttpResponse, HeaderLookupIgnoresCase) {
  HttpResponse response;
  response.headers = {{"X-Automata-Proof", "aa,bb"}, {"x-automata-proof", "second"}};
  ASSERT_NE(response.header("x-AUTOMATA-proof"), nullptr);
  EXPECT_EQ(*response.header("x-AUTOMATA-proof"), "aa,bb");
  EXPECT_EQ(response.header("X-Automata-Root"), nullptr);
}

TEST(ParseHttpUrl, AcceptsTable) {
  struct Case {
    std::string url, host, port, target;
  };
  const std::vector<Case> cases = {
      {"http://127.0.0.1:7701", "127.0.0.1", "7701", "/"},
      {"http://localhost", "localhost", "80", "/"},
      {"http://localhost:8080/rpc", "localhost", "8080", "/rpc"},
      {"http://[::1]:7701", "::1", "7701", "/"},
      {"HTTP://127.0.0.1:1/", "127.0.0.1", "1", "/"},
  };
  for (const auto& c : cases) {
    HttpUrl url;
    Status s = parse_http_url(c.url, &url);
    ASSERT_TRUE(s.is_ok()) << c.url << ": " << s.message();
    EXPECT_EQ(url.host, c.host) << c.url;
    EXPECT_EQ(url.port, c.port) << c.url;
    EXPECT_EQ(url.target, c.target) << c.url;
  }
}

TEST(ParseHttpUrl, RejectsTable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://127.0.0.1:7701", "https is not supported"},
      {"127.0.0.1:7701", "expected http://HOST:PORT"},
      {"ws://127.0.0.1:7701", "expected http://HOST:PORT"},
      {"http://", "expected http://HOST:PORT"},
      {"http://:7701", "missing host"},
      {"http://127.0.0.1:0", "port must be a number from 1 to 65535"},
      {"http://127.0.0.1:65536", "port must be a number from 1 to 65535"},
      {"http://127.0.0.1:abc", "port must be a number from 1 to 65535"},
      {"http://[::1", "unterminated"},
      {"http://user@127.0.0.1:7701", "user information"},
  };
  for (const auto& [text, rule] : cases) {
    HttpUrl url;
    Status s = parse_http_url(text, &url);
    EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument) << text;
    EXPECT_NE(s.message().find("'" + text + "'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(rule), std::string::npos) << text << ": " << s.message();
  }
}

}  // namespace
}  // namespace automata::cli
