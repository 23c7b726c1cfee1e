// A small HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) that the
// CLI tests point the RPC client at. Each request goes to a handler that
// returns the response; connections are served one at a time with
// keep-alive.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace automata::cli::testing {

struct FakeResponse {
  unsigned status = 200;
  std::string body;
  // Sends "Connection: close" and closes after the response.
  bool close = false;
  // Closes the socket after the response without saying so, as a server
  // does when it drops an idle keep-alive connection.
  bool drop_after = false;
  // Sends no response; the connection stays open until the server stops.
  bool hang = false;
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const std::string& method, const std::string& target,
                                             const std::string& body)>;

  explicit FakeHttpServer(Handler handler)
      : handler_(std::move(handler)),
        acceptor_(ioc_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeHttpServer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    stopped_.notify_all();
    // Wake the blocking accept() with one last loopback connection.
    boost::system::error_code ignored;
    boost::asio::io_context wake_ioc;
    boost::asio::ip::tcp::socket wake(wake_ioc);
    wake.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }

  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }

 private:
  void serve() {
    namespace http = boost::beast::http;
    while (true) {
      boost::asio::ip::tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
      }
      if (ec) continue;
      ++connections_;
      boost::beast::flat_buffer buffer;
      while (true) {
        http::request<http::string_body> request;
        http::read(socket, buffer, request, ec);
        if (ec) break;
        FakeResponse reply = handler_(std::string(request.method_string()), std::string(request.target()),
                                      request.body());
        if (reply.hang) {
          std::unique_lock<std::mutex> lock(mutex_);
          stopped_.wait(lock, [this] { return stopping_; });
          return;
        }
        http::response<http::string_body> response{static_cast<http::status>(reply.status), request.version()};
        response.set(http::field::content_type, "application/json");
        response.keep_alive(!reply.close);
        response.body() = reply.body;
        response.prepare_payload();
        http::write(socket, response, ec);
        if (ec || reply.close || reply.drop_after) break;
      }
      socket.close(ec);
    }
  }

  Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace automata::cli::testing
