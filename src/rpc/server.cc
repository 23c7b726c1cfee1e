#include "automata/rpc/server.h"

#include "automata/rpc/handler.h"
#include "rpc/fragment_http.h"
#include "automata/types/logging.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace automata::rpc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Status parse_listen_address(std::string_view text, std::string* host, uint16_t* port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::invalid_argument(fmt::format("listen address \"{}\": expected HOST:PORT, e.g. 127.0.0.1:7701", text));
  }
  std::string_view host_part = text.substr(0, colon);
  std::string_view port_part = text.substr(colon + 1);
  if (host_part.size() >= 2 && host_part.front() == '[' && host_part.back() == ']') {
    host_part = host_part.substr(1, host_part.size() - 2);
  }
  unsigned value = 0;
  auto [end, error] = std::from_chars(port_part.data(), port_part.data() + port_part.size(), value);
  if (error != std::errc() || end != port_part.data() + port_part.size() || value > 65535) {
    return Status::invalid_argument(
        fmt::format("listen address \"{}\": port \"{}\" is not a number in 0-65535", text, port_part));
  }
  *host = std::string(host_part);
  *port = static_cast<uint16_t>(value);
  return Status::ok();
}

namespace {


constexpr char kFragmentPathTemplate[] = "/v1/models/{id}/fragments/{index}";

// POST target whose body is one signed tx's bytes (see Handler::submit_tx_bytes).
constexpr std::string_view kTxBytesTarget = "/v1/txs";

// Requests above this header size are rejected by the parser.
constexpr uint32_t kMaxHeaderBytes = 16 * 1024;

struct Shared {
  ServerConfig config;
  Handler* handler;
  std::shared_ptr<spdlog::logger> log;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Shared& shared) : stream_(std::move(socket)), shared_(shared) {
    beast::error_code ignored;
    auto endpoint = stream_.socket().remote_endpoint(ignored);
    peer_ = fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  }

  void start() { read_header(); }

 private:
  void read_header() {
    parser_.emplace();
    parser_->body_limit(shared_.config.max_body_bytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(std::chrono::milliseconds(shared_.config.read_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    // Beast compares Content-Length with the body limit as soon as the
    // header is complete, so an oversized request fails here.
    if (ec == http::error::body_limit) {
      auto length = parser_->get()[http::field::content_length];
      return reject_oversized(fmt::format("invalid request: body of {} bytes exceeds the limit of {} bytes",
                                          std::string_view(length.data(), length.size()),
                                          shared_.config.max_body_bytes));
    }
    if (ec) return on_read_error(ec);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code read_ec, size_t) { self->on_body(read_ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return reject_oversized(
          fmt::format("invalid request: body exceeds the limit of {} bytes", shared_.config.max_body_bytes));
    }
    if (ec) return on_read_error(ec);
    respond(parser_->release());
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof) {
      return close();
    }
    if (ec == beast::error::timeout) {
      shared_.log->debug("closing idle connection from {}: read timed out", peer_);
      return close();
    }
    if (ec == asio::error::operation_aborted) return;
    shared_.log->warn("closing connection from {}: read failed: {}", peer_, ec.message());
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      http::response<http::string_body> response{http::status::bad_request, 11};
      response.set(http::field::content_type, "application/json");
      response.body() = Handler::error_body(kInvalidRequest, "invalid request: malformed HTTP: " + ec.message());
      return send(std::move(response), true);
    }
    close();
  }

  void reject_oversized(const std::string& message) {
    shared_.log->warn("rejected request from {}: {}", peer_, message);
    http::response<http::string_body> response{http::status::payload_too_large, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = Handler::error_body(kInvalidRequest, message);
    // The unread body is still on the wire, so the connection cannot be reused.
    send(std::move(response), true);
  }

  void respond(http::request<http::string_body> request) {
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.keep_alive(request.keep_alive());
    std::string_view target(request.target().data(), request.target().size());

    if (request.method() == http::verb::post && target == "/") {
      response.body() = shared_.handler->handle(request.body());
      if (response.body().empty()) {
        response.result(http::status::no_content);
      } else {
        response.set(http::field::content_type, "application/json");
      }
    } else if (request.method() == http::verb::post && target == kTxBytesTarget) {
      response.set(http::field::content_type, "application/json");
      response.body() = shared_.handler->submit_tx_bytes(request.body());
    } else if (is_fragment_target(target)) {
      return respond_fragment(request, std::move(response), target);
    } else if (request.method() == http::verb::get && target == "/health") {
      response.set(http::field::content_type, "application/json");
      response.body() = shared_.handler->health();
    } else if (request.method() == http::verb::get && target == "/metrics") {
      response.set(http::field::content_type, "text/plain; version=0.0.4");
      response.body() = shared_.handler->metrics_text();
    } else {
      bool known = target == "/" || target == "/health" || target == "/metrics" || target == kTxBytesTarget;
      response.result(known ? http::status::method_not_allowed : http::status::not_found);
      response.set(http::field::content_type, "application/json");
      response.body() = Handler::error_body(
          kInvalidRequest, fmt::format("invalid request: {} {} is not served; use POST / for JSON-RPC, POST /v1/txs "
                                       "for tx bytes, GET /health, GET /metrics, or GET or PUT "
                                       "/v1/models/<id>/fragments/<index>",
                                       std::string_view(request.method_string().data(), request.method_string().size()),
                                       target));
    }
    bool close_after = !response.keep_alive();
    send(std::move(response), close_after);
  }

  void respond_fragment(const http::request<http::string_body>& request, http::response<http::string_body> response,
                        std::string_view target) {
    FragmentHttpReply reply;
    if (request.method() == http::verb::get) {
      reply = get_fragment_http(shared_.config.fragments, target);
    } else if (request.method() == http::verb::put) {
      auto proof = request[beast::string_view(kProofHeader.data(), kProofHeader.size())];
      reply = put_fragment_http(shared_.config.fragments, target, std::string_view(proof.data(), proof.size()),
                                request.body());
    } else {
      reply.status = 405;
      reply.content_type = "application/json";
      reply.body = Handler::error_body(
          kInvalidRequest,
          fmt::format("invalid request: {} {} is not served; use GET or PUT",
                      std::string_view(request.method_string().data(), request.method_string().size()), target));
    }
    if (reply.status >= 400) shared_.log->debug("fragment request {} from {} failed: {}", target, peer_, reply.body);
    response.result(reply.status);
    response.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response.set(beast::string_view(name.data(), name.size()), value);
    response.body() = std::move(reply.body);
    bool close_after = !response.keep_alive();
    send(std::move(response), close_after);
  }

  void send(http::response<http::string_body> response, bool close_after) {
    if (close_after) response.keep_alive(false);
    // Clients look for this header to switch fragment transfers from
    // JSON-RPC to the byte routes.
    if (shared_.config.fragments != nullptr) response.set("X-Automata-Fragment-Path", kFragmentPathTemplate);
    response.prepare_payload();
    response_ = std::make_shared<http::response<http::string_body>>(std::move(response));
    stream_.expires_after(std::chrono::milliseconds(shared_.config.read_timeout_ms));
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
                        self->on_write(ec, close_after);
                      });
  }

  void on_write(beast::error_code ec, bool close_after) {
    response_.reset();
    if (ec) {
      if (ec != asio::error::operation_aborted) shared_.log->debug("write to {} failed: {}", peer_, ec.message());
      return close();
    }
    if (close_after) return close();
    read_header();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const Shared& shared_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
};

}  // namespace

struct Server::Impl {
  Shared shared;
  asio::io_context io{};
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool running = false;

  void accept() {
    acceptor->async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        shared.log->warn("accept failed: {}", ec.message());
      } else {
        std::make_shared<Session>(std::move(socket), shared)->start();
      }
      if (acceptor->is_open()) accept();
    });
  }
};

Server::Server(ServerConfig config, Handler* handler) : impl_(std::make_unique<Impl>()) {
  impl_->shared = Shared{std::move(config), handler, logger("rpc")};
}

Server::~Server() { stop(); }

Status Server::start() {
  auto& config = impl_->shared.config;
  std::string host = config.host == "localhost" ? "127.0.0.1" : config.host;
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return Status::invalid_argument(
        fmt::format("rpc listen host \"{}\" is not an IP address (use 127.0.0.1, ::1 or localhost)", config.host));
  }
  std::string where = fmt::format("{}:{}", config.host, config.port);
  tcp::endpoint endpoint(address, config.port);

  auto& acceptor = impl_->acceptor.emplace(impl_->io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->acceptor.reset();
    if (ec == asio::error::address_in_use) {
      return Status::unavailable(fmt::format("cannot listen on {}: address already in use", where));
    }
    return Status::unavailable(fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept();

  unsigned threads = config.threads == 0 ? 1 : config.threads;
  for (unsigned i = 0; i < threads; ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
  impl_->running = true;
  impl_->shared.log->info("rpc server started on {}:{} with {} threads", host, impl_->port, threads);
  return Status::ok();
}

uint16_t Server::port() const { return impl_->port; }

void Server::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  // Stopping the io_context ends every pending accept, read and write; the
  // sessions and their sockets are destroyed with the io_context.
  impl_->io.stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  beast::error_code ignored;
  impl_->acceptor->close(ignored);
  impl_->shared.log->info("rpc server stopped");
}

}  // namespace automata::rpc
