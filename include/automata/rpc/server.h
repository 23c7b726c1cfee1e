// The HTTP/1.1 server in front of the JSON-RPC handler (Boost.Beast,
// asynchronous, keep-alive). Routes: POST / (JSON-RPC), GET /health,
// GET /metrics, and GET and PUT /v1/models/<id hex>/fragments/<index> for
// raw fragment bytes (described in docs/rpc.md, "Fragment bytes over
// HTTP").
#pragma once

#include "automata/types/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace automata::rpc {

class FragmentService;
class Handler;

struct ServerConfig {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal, or "localhost"
  uint16_t port = 7701;            // 0 picks a free port; see Server::port()
  size_t max_body_bytes = 1 << 20;
  unsigned threads = 2;
  // A connection that sends no complete request for this long is closed.
  uint32_t read_timeout_ms = 30'000;
  // Serves the fragment bytes routes; not owned, must outlive the server.
  // When null, those routes return 501.
  FragmentService* fragments = nullptr;
};

// Splits "HOST:PORT" (IPv6 as "[::1]:PORT"). Returns invalid_argument naming
// the text when it has no port or the port is not in 0-65535.
Status parse_listen_address(std::string_view text, std::string* host, uint16_t* port);

class Server {
 public:
  // handler must outlive the server.
  Server(ServerConfig config, Handler* handler);
  ~Server();  // calls stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads. Returns invalid_argument for
  // a host that is not an IP address, and unavailable naming the address
  // when it is already in use or cannot be bound.
  Status start();

  // The bound port, valid after start() succeeded.
  uint16_t port() const;

  // Stops accepting, closes open connections and joins the I/O threads.
  // Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace automata::rpc
