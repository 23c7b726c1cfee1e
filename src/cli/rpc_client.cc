#include "automata/cli/rpc_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace automata::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

// Blocks and tx lists can be large; anything past this is not a response
// this client can use.
constexpr uint64_t kMaxResponseBytes = 64ull * 1024 * 1024;
constexpr int kHttpVersion = 11;

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Errors that mean a kept-alive connection was closed by the node while idle.
bool is_stale_connection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::eof || ec == asio::error::connection_aborted;
}

}  // namespace

Status parse_http_url(const std::string& url, HttpUrl* out) {
  auto invalid = [&](const std::string& rule) {
    return Status::invalid_argument("invalid node URL '" + url + "': " + rule);
  };
  constexpr std::string_view kScheme = "http://";
  if (url.rfind("https://", 0) == 0) return invalid("https is not supported; use http://HOST:PORT");
  if (url.size() <= kScheme.size() || lowercase(url.substr(0, kScheme.size())) != kScheme) {
    return invalid("expected http://HOST:PORT");
  }
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out->target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) return invalid("user information is not supported");

  std::string port = "80";
  std::string host;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return invalid("unterminated '[' in IPv6 host");
    host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return invalid("expected ':' after the IPv6 host");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (host.empty()) return invalid("missing host");
  if (!all_digits(port) || port.size() > 5 || std::stoul(port) == 0 || std::stoul(port) > 65535) {
    return invalid("port must be a number from 1 to 65535");
  }
  out->host = host;
  out->port = port;
  return Status::ok();
}

json make_rpc_request(uint64_t id, const std::string& method, const json& params) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

namespace {

// decode_rpc_response(), where a null expected_id expects a null id.
Status decode_response(const std::string& method, const std::string& body, std::optional<uint64_t> expected_id,
                       json* result, RpcError* error) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto not_rpc = [&](const std::string& why) {
    std::string excerpt = body.substr(0, 200);
    return Status::io_error(method + ": the node's response is not a JSON-RPC 2.0 response (" + why + "): " +
                            excerpt);
  };
  if (doc.is_discarded()) return not_rpc("not JSON");
  if (!doc.is_object()) return not_rpc("not an object");
  auto jsonrpc = doc.find("jsonrpc");
  if (jsonrpc == doc.end() || *jsonrpc != "2.0") return not_rpc("missing \"jsonrpc\":\"2.0\"");

  auto err = doc.find("error");
  if (err != doc.end() && !err->is_null()) {
    if (!err->is_object()) return not_rpc("\"error\" is not an object");
    RpcError decoded;
    auto code = err->find("code");
    if (code == err->end() || !code->is_number_integer()) return not_rpc("error.code is not an integer");
    decoded.code = code->get<int>();
    auto message = err->find("message");
    if (message != err->end() && message->is_string()) decoded.message = message->get<std::string>();
    auto data = err->find("data");
    if (data != err->end() && !data->is_null()) decoded.data = data->dump();
    if (error != nullptr) *error = decoded;

    std::string text = method + " failed: error " + std::to_string(decoded.code) + ": " + decoded.message;
    if (!decoded.data.empty()) text += " (data: " + decoded.data + ")";
    if (decoded.code == -32001) return Status::not_found(text);
    return Status::invalid_argument(text);
  }

  // Error responses may carry a null id (a parse error has no request id),
  // so the id is checked only on success.
  auto id = doc.find("id");
  if (!expected_id) {
    if (id == doc.end() || !id->is_null()) return not_rpc("id is not null");
  } else if (id == doc.end() || !id->is_number_unsigned() || id->get<uint64_t>() != *expected_id) {
    return not_rpc("id does not match request id " + std::to_string(*expected_id));
  }
  auto res = doc.find("result");
  if (res == doc.end()) return not_rpc("neither \"result\" nor \"error\"");
  *result = std::move(*res);
  return Status::ok();
}

}  // namespace

Status decode_rpc_response(const std::string& method, const std::string& body, uint64_t expected_id, json* result,
                           RpcError* error) {
  return decode_response(method, body, expected_id, result, error);
}

struct RpcClient::Impl {
  std::string url;
  HttpUrl parsed;
  RpcClientOptions options;
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
  uint64_t next_id = 1;
  bool fragment_bytes = false;

  std::string host_header() const {
    bool ipv6 = parsed.host.find(':') != std::string::npos;
    std::string host = ipv6 ? "[" + parsed.host + "]" : parsed.host;
    return parsed.port == "80" ? host : host + ":" + parsed.port;
  }

  // Runs the io_context until the pending operation completes. The
  // tcp_stream's expiry timer cancels it with error::timeout.
  void run() {
    ioc.restart();
    ioc.run();
  }

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    connected = false;
  }

  Status unreachable(const std::string& reason) const {
    return Status::unavailable("cannot reach node at " + url + ": " + reason + "; is automatad running?");
  }

  Status connect() {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(parsed.host, parsed.port, ec);
    if (ec) return unreachable("cannot resolve host '" + parsed.host + "': " + lowercase(ec.message()));
    stream.expires_after(options.connect_timeout);
    stream.async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec == beast::error::timeout) {
      close();
      return unreachable("connect timed out after " + std::to_string(options.connect_timeout.count()) + " ms");
    }
    if (ec) {
      close();
      return unreachable(lowercase(ec.message()));
    }
    connected = true;
    return Status::ok();
  }

  // One request and response on the current connection. stale is set when
  // the failure shows the node had closed a reused connection.
  Status exchange(const std::string& what, const http::request<http::string_body>& request,
                  http::response<http::string_body>* response, bool* stale) {
    *stale = false;
    beast::error_code ec;
    stream.expires_after(options.read_timeout);
    http::async_write(stream, request, [&ec](beast::error_code e, size_t) { ec = e; });
    run();
    if (!ec) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBytes);
      stream.expires_after(options.read_timeout);
      http::async_read(stream, buffer, parser, [&ec](beast::error_code e, size_t) { ec = e; });
      run();
      if (!ec) *response = parser.release();
    }
    if (!ec) {
      fragment_bytes = response->find(beast::string_view(kFragmentPathHeader.data(), kFragmentPathHeader.size())) !=
                       response->end();
      stream.expires_never();
      if (!response->keep_alive()) close();
      return Status::ok();
    }
    close();
    if (ec == beast::error::timeout) {
      return Status::unavailable("node at " + url + " did not respond to " + what + " within " +
                                 std::to_string(options.read_timeout.count()) + " ms (read timeout)");
    }
    *stale = is_stale_connection(ec);
    return Status::unavailable("lost the connection to node at " + url + " during " + what + ": " +
                               lowercase(ec.message()));
  }

  Status send(const std::string& what, const http::request<http::string_body>& request,
              http::response<http::string_body>* response) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connected;
      if (!connected) {
        Status s = connect();
        if (!s.is_ok()) return s;
      }
      bool stale = false;
      Status s = exchange(what, request, response, &stale);
      // Retry once only when a kept-alive connection turned out to be closed:
      // the node never read the request, so sending it again is safe.
      if (s.is_ok() || !(reused && stale)) return s;
    }
    return Status::unavailable("cannot reach node at " + url + ": the connection closed twice");
  }
};

RpcClient::RpcClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RpcClient::~RpcClient() {
  if (impl_ && impl_->connected) impl_->close();
}

Status RpcClient::create(const std::string& url, const RpcClientOptions& options, std::unique_ptr<RpcClient>* out) {
  auto impl = std::make_unique<Impl>();
  Status s = parse_http_url(url, &impl->parsed);
  if (!s.is_ok()) return s;
  impl->url = url;
  impl->options = options;
  out->reset(new RpcClient(std::move(impl)));
  return Status::ok();
}

const std::string& RpcClient::url() const { return impl_->url; }

Status RpcClient::call(const std::string& method, const json& params, json* result, RpcError* error) {
  return call_serialized(method, params.dump(), result, error);
}

Status RpcClient::call_serialized(const std::string& method, std::string_view params_json, json* result,
                                  RpcError* error) {
  uint64_t id = impl_->next_id++;
  http::request<http::string_body> request{http::verb::post, impl_->parsed.target, kHttpVersion};
  request.set(http::field::host, impl_->host_header());
  request.set(http::field::content_type, "application/json");
  request.set(http::field::user_agent, "automata-cli");
  request.keep_alive(true);
  // The same members as make_rpc_request(), written around params_json so
  // that its text is copied once and never escaped again.
  std::string& body = request.body();
  std::string method_json = json(method).dump();
  body.reserve(params_json.size() + method_json.size() + 64);
  body += R"({"jsonrpc":"2.0","id":)";
  body += std::to_string(id);
  body += R"(,"method":)";
  body += method_json;
  body += R"(,"params":)";
  body += params_json;
  body += '}';
  request.prepare_payload();

  http::response<http::string_body> response;
  Status s = impl_->send(method, request, &response);
  if (!s.is_ok()) return s;

  // The node sends errors such as 413 with a JSON-RPC error body, so the
  // body is decoded whatever the status; only a non-JSON body cites it.
  Status decoded = decode_rpc_response(method, response.body(), id, result, error);
  if (decoded.kind() == Status::Kind::kIoError && response.result_int() != 200) {
    return Status::io_error(method + ": node at " + impl_->url + " returned HTTP " +
                            std::to_string(response.result_int()) + ": " + response.body().substr(0, 200));
  }
  return decoded;
}

Status RpcClient::submit_tx_bytes(const Bytes& tx, json* result, RpcError* error) {
  http::request<http::string_body> request{http::verb::post, "/v1/txs", kHttpVersion};
  request.set(http::field::host, impl_->host_header());
  request.set(http::field::content_type, "application/octet-stream");
  request.set(http::field::user_agent, "automata-cli");
  request.keep_alive(true);
  request.body().assign(tx.begin(), tx.end());
  request.prepare_payload();

  http::response<http::string_body> response;
  Status s = impl_->send("tx_submit", request, &response);
  if (!s.is_ok()) return s;
  if (response.result() == http::status::not_found || response.result() == http::status::method_not_allowed) {
    return call_serialized("tx_submit", R"({"tx":")" + to_hex(tx) + R"("})", result, error);
  }
  // The route returns a JSON-RPC 2.0 response whose id is null.
  Status decoded = decode_response("tx_submit", response.body(), std::nullopt, result, error);
  if (decoded.kind() == Status::Kind::kIoError && response.result_int() != 200) {
    return Status::io_error("tx_submit: node at " + impl_->url + " returned HTTP " +
                            std::to_string(response.result_int()) + ": " + response.body().substr(0, 200));
  }
  return decoded;
}

const std::string* HttpResponse::header(std::string_view name) const {
  std::string wanted = lowercase(std::string(name));
  for (const auto& [key, value] : headers) {
    if (lowercase(key) == wanted) return &value;
  }
  return nullptr;
}

Status RpcClient::request(const HttpRequest& request, HttpResponse* response) {
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    return Status::invalid_argument("unknown HTTP method '" + request.method + "'");
  }
  http::request<http::string_body> message{verb, request.target, kHttpVersion};
  message.set(http::field::host, impl_->host_header());
  message.set(http::field::user_agent, "automata-cli");
  for (const auto& [name, value] : request.headers) message.set(name, value);
  message.keep_alive(true);
  message.body() = request.body;
  message.prepare_payload();
  http::response<http::string_body> reply;
  Status s = impl_->send(request.method + " " + request.target, message, &reply);
  if (!s.is_ok()) return s;
  response->status = static_cast<int>(reply.result_int());
  response->headers.clear();
  for (const auto& field : reply) {
    response->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response->body = std::move(reply.body());
  return Status::ok();
}

bool RpcClient::serves_fragment_bytes() const { return impl_->fragment_bytes; }

Status RpcClient::get(const std::string& target, int* http_status, std::string* body) {
  http::request<http::string_body> request{http::verb::get, target, kHttpVersion};
  request.set(http::field::host, impl_->host_header());
  request.set(http::field::user_agent, "automata-cli");
  request.keep_alive(true);
  http::response<http::string_body> response;
  Status s = impl_->send("GET " + target, request, &response);
  if (!s.is_ok()) return s;
  *http_status = static_cast<int>(response.result_int());
  *body = std::move(response.body());
  return Status::ok();
}

}  // namespace automata::cli
