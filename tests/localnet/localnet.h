// Test harness for multi-process localnet tests: writes an N-validator
// chain with `automatad testnet` in a temporary directory and runs each
// validator as its own `automatad start` process on 127.0.0.1.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace automata::localnet {

// Output and exit status of a finished child process.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] with the given arguments, waits for it, and captures stdout
// and stderr.
CommandResult run_command(const std::vector<std::string>& argv);

// A base port B such that B .. B+count-1 could all be bound on 127.0.0.1 a
// moment ago, or 0 when no such range was found. Another process may take
// one of them before use; Localnet::start_all retries on a bind failure.
int free_port_range(int count);

// Polls `done` every 100 ms until it returns true or `timeout` passes.
// Returns the last result of `done`.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

std::string automatad_path();
std::string automata_path();

// N validators on loopback. Node i serves RPC on base+2i and P2P on
// base+2i+1. The destructor kills every node still running and removes
// the temporary directory.
class Localnet {
 public:
  explicit Localnet(size_t validators);
  ~Localnet();
  Localnet(const Localnet&) = delete;
  Localnet& operator=(const Localnet&) = delete;

  // Writes the homes and starts every node, waiting for each /health.
  // When a node fails to bind its ports, stops the others, deletes the
  // homes and tries again with another free base port (3 attempts).
  // Returns false with the reason and the failing node's log in *error.
  bool start_all(std::string* error);

  // Starts node i from its existing home and waits for /health. Returns
  // false with the node's log in *error when it exits or does not answer
  // within 60 s.
  bool start(size_t i, std::string* error);
  // Sends SIGTERM and waits up to 30 s, then SIGKILL. Returns the exit
  // code, or -1 when it had to be killed or was not running.
  int stop(size_t i);
  // Sends SIGKILL and reaps the process.
  void kill9(size_t i);
  bool running(size_t i) const { return pids_[i] > 0; }

  // JSON-RPC call to node i; returns the whole response object, or an
  // object with "error" when the connection fails.
  nlohmann::json rpc(size_t i, const std::string& method,
                     const nlohmann::json& params = nlohmann::json::object()) const;
  // The node's committed height, or 0 when it does not respond.
  uint64_t height(size_t i) const;
  // Runs the automata CLI against node i with the test keyring.
  CommandResult cli(size_t i, const std::vector<std::string>& args) const;

  size_t size() const { return pids_.size(); }
  int base_port() const { return base_port_; }
  int rpc_port(size_t i) const { return base_port_ + 2 * static_cast<int>(i); }
  int p2p_port(size_t i) const { return base_port_ + 2 * static_cast<int>(i) + 1; }
  std::string rpc_url(size_t i) const { return "http://127.0.0.1:" + std::to_string(rpc_port(i)); }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path net_dir() const { return root_ / "net"; }
  std::filesystem::path home(size_t i) const { return net_dir() / ("node" + std::to_string(i)); }
  std::filesystem::path keyring_dir() const { return root_ / "keyring"; }
  std::filesystem::path dev_key_path() const { return net_dir() / "dev.json"; }
  std::filesystem::path log_path(size_t i) const { return root_ / ("node" + std::to_string(i) + ".log"); }
  std::string read_log(size_t i) const;
  // The node's P2P id: the pubkey field of HOME/node_key.json.
  std::string node_id(size_t i) const;

 private:
  bool write_homes(std::string* error);

  std::filesystem::path root_;
  int base_port_ = 0;
  std::vector<pid_t> pids_;
};

// Reads a text file whole; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Sends one HTTP request to 127.0.0.1:port and returns the status code and
// body. Status 0 means the connection failed.
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply http_request(int port, const std::string& method, const std::string& target, const std::string& body);

// Starts `automatad start --home home` with output appended to log_path.
// Returns the child's pid.
pid_t spawn_node(const std::filesystem::path& home, const std::filesystem::path& log_path);

}  // namespace automata::localnet
