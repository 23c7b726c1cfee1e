// Test harness for end-to-end tests: runs the real automatad and automata
// binaries as child processes on a free loopback port, with a temporary
// home directory and keyring.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace automata::e2e {

// Output and exit status of a finished child process.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] with the given arguments and extra environment entries
// ("NAME=value"), waits for it, and captures stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then
// closed). Another process may take it before use, which tests accept.
int free_loopback_port();

// Sends one HTTP request to 127.0.0.1:port and returns the status code and
// body. Returns status 0 when the connection fails.
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply http_request(int port, const std::string& method, const std::string& target, const std::string& body);

// An automatad dev node in its own temporary directory.
class DevNode {
 public:
  // Creates a fresh temporary root holding home/ and keyring/.
  DevNode();
  // Stops the node (SIGKILL if still running) and removes the directory.
  ~DevNode();
  DevNode(const DevNode&) = delete;
  DevNode& operator=(const DevNode&) = delete;

  // Starts `automatad dev` and waits until /health answers 200. Returns
  // false (with the node's stderr in *log) when it does not come up within
  // the timeout.
  bool start(std::string* log, std::chrono::seconds timeout = std::chrono::seconds(30));
  // Sends SIGTERM and waits; returns the exit code (or -1 on timeout).
  int stop();
  // Sends SIGKILL and reaps the process.
  void kill9();
  // Environment entries ("NAME=value") added for every later start().
  void set_extra_env(std::vector<std::string> env) { extra_env_ = std::move(env); }
  // Waits up to timeout for the node to exit by itself. Returns the
  // signal that ended it (SIGKILL for a crash point), 0 for a normal exit,
  // or -1 when it still runs at the deadline.
  int wait_exit(std::chrono::milliseconds timeout);

  // JSON-RPC call; returns the whole response object.
  nlohmann::json rpc(const std::string& method, const nlohmann::json& params = nlohmann::json::object());
  // Runs the automata CLI against this node with its keyring.
  CommandResult cli(const std::vector<std::string>& args);

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path home() const { return root_ / "home"; }
  std::filesystem::path keyring_dir() const { return root_ / "keyring"; }
  std::filesystem::path log_path() const { return root_ / "node.log"; }
  std::string read_log() const;

 private:
  std::filesystem::path root_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::vector<std::string> extra_env_;
};

// Paths of the built binaries.
std::string automatad_path();
std::string automata_path();

}  // namespace automata::e2e
