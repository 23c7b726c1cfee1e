// A synchronous JSON-RPC 2.0 client over HTTP/1.1 (Boost.Beast) for
// http://HOST[:PORT] node URLs. One connection is kept alive across calls
// and reopened once when the node closed it while idle.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace automata::cli {

// The error object of a JSON-RPC response.
struct RpcError {
  int code = 0;
  std::string message;
  // The "data" member serialized as JSON, or empty when absent.
  std::string data;
};

// Host, port and target of an http:// URL.
struct HttpUrl {
  std::string host;
  std::string port;
  std::string target;  // "/" when the URL has no path
};

// Parses "http://HOST[:PORT][/PATH]". HOST may be a name, an IPv4 address or
// a bracketed IPv6 address; PORT defaults to 80. Returns invalid_argument
// naming the URL and the rule (https and other schemes are rejected).
Status parse_http_url(const std::string& url, HttpUrl* out);

struct RpcClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{30000};
};

// Response header by which a node advertises its fragment bytes routes
// (docs/rpc.md, "Fragment bytes over HTTP").
inline constexpr std::string_view kFragmentPathHeader = "X-Automata-Fragment-Path";

// One plain HTTP request for RpcClient::request().
struct HttpRequest {
  std::string method;  // "GET", "PUT", "POST", ...
  std::string target;  // "/v1/..."
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as received

  // The first header named name (compared case-insensitively), or null.
  const std::string* header(std::string_view name) const;
};

// Not thread-safe: one caller at a time.
class RpcClient {
 public:
  // Returns invalid_argument when url is not a valid http:// URL. Does not
  // connect; the first call does.
  static Status create(const std::string& url, const RpcClientOptions& options, std::unique_ptr<RpcClient>* out);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  const std::string& url() const;

  // Sends {"jsonrpc":"2.0","id":N,"method":method,"params":params} and stores
  // the "result" member in *result. Failures:
  //   unavailable: the node cannot be reached, or a timeout expired.
  //   io_error: the response is not a JSON-RPC 2.0 response.
  //   not_found (code -32001) or invalid_argument (other codes): the node
  //   returned an error object. It is copied into *error when error is
  //   non-null, and the message names the method, code, message and data.
  Status call(const std::string& method, const nlohmann::json& params, nlohmann::json* result,
              RpcError* error = nullptr);

  // call() with params already serialized as a JSON object, which must be
  // valid JSON. A large value such as the hex of a tx is then written into
  // the request once instead of passing through the JSON serializer.
  Status call_serialized(const std::string& method, std::string_view params_json, nlohmann::json* result,
                         RpcError* error = nullptr);

  // Submits signed tx bytes with POST /v1/txs, which returns what tx_submit
  // returns without the hex and JSON around the tx, and stores the result as
  // call() does. A node without that route (HTTP 404 or 405) gets the same
  // tx through tx_submit instead.
  Status submit_tx_bytes(const Bytes& tx, nlohmann::json* result, RpcError* error = nullptr);

  // GET target; stores the HTTP status and body. Same transport failures as
  // call().
  Status get(const std::string& target, int* http_status, std::string* body);

  // Sends request on the kept-alive connection and stores the response,
  // whatever its HTTP status. Same transport failures as call(), and
  // invalid_argument for an unknown method name.
  Status request(const HttpRequest& request, HttpResponse* response);

  // True when the node's latest response carried kFragmentPathHeader, so
  // it serves fragment bytes at GET and PUT /v1/models/<id>/fragments/<i>.
  bool serves_fragment_bytes() const;

 private:
  struct Impl;
  explicit RpcClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Builds the request object call() sends.
nlohmann::json make_rpc_request(uint64_t id, const std::string& method, const nlohmann::json& params);

// Decodes a JSON-RPC response body: on success stores "result" in *result;
// on an error object fills *error and returns a Status as call() does.
Status decode_rpc_response(const std::string& method, const std::string& body, uint64_t expected_id,
                           nlohmann::json* result, RpcError* error);

}  // namespace automata::cli
