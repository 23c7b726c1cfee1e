#include "localnet/localnet.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace automata::localnet {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string automatad_path() { return std::string(AUTOMATA_BINARY_DIR) + "/apps/automatad"; }
std::string automata_path() { return std::string(AUTOMATA_BINARY_DIR) + "/apps/automata"; }

namespace {

std::vector<char*> argv_pointers(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& arg : args) out.push_back(arg.data());
  out.push_back(nullptr);
  return out;
}

// Binds a TCP socket to 127.0.0.1:port and returns it, or -1 when the
// port is taken.
int bind_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool is_bind_failure(const std::string& log) {
  return log.find("Address already in use") != std::string::npos ||
         log.find("address already in use") != std::string::npos || log.find("failed to listen") != std::string::npos;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv) {
  CommandResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(out_pipe) != 0) return result;
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  std::vector<std::string> args = argv;
  auto cargs = argv_pointers(args);

  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    close(out_pipe[0]);
    close(err_pipe[0]);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  // Drain both pipes together so that neither fills up and blocks the child.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buffer[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || (fds[k].revents & (POLLIN | POLLHUP)) == 0) continue;
      ssize_t n = read(fds[k].fd, buffer, sizeof buffer);
      if (n <= 0) {
        close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
        continue;
      }
      sinks[k]->append(buffer, static_cast<size_t>(n));
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

int free_port_range(int count) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 60000 - count);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = pick(rng);
    std::vector<int> bound;
    for (int port = base; port < base + count; ++port) {
      int fd = bind_loopback(port);
      if (fd < 0) break;
      bound.push_back(fd);
    }
    const bool all_free = static_cast<int>(bound.size()) == count;
    for (int fd : bound) close(fd);
    if (all_free) return base;
  }
  return 0;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

HttpReply http_request(int port, const std::string& method, const std::string& target, const std::string& body) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  timeval read_timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof read_timeout);

  std::ostringstream request;
  request << method << " " << target << " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          << "Content-Type: application/json\r\nConnection: close\r\n"
          << "Content-Length: " << body.size() << "\r\n\r\n"
          << body;
  const std::string data = request.str();
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) raw.append(buffer, static_cast<size_t>(n));
  close(fd);

  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  const size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) return reply;
  const std::string headers = raw.substr(0, header_end);
  const std::string rest = raw.substr(header_end + 4);
  if (headers.find("chunked") == std::string::npos) {
    reply.body = rest;
    return reply;
  }
  size_t pos = 0;
  while (pos < rest.size()) {
    const size_t line_end = rest.find("\r\n", pos);
    if (line_end == std::string::npos) break;
    const size_t chunk = std::strtoul(rest.substr(pos, line_end - pos).c_str(), nullptr, 16);
    if (chunk == 0) break;
    reply.body += rest.substr(line_end + 2, chunk);
    pos = line_end + 2 + chunk + 2;
  }
  return reply;
}

pid_t spawn_node(const fs::path& home, const fs::path& log_path) {
  std::vector<std::string> args = {automatad_path(), "start", "--home", home.string()};
  auto cargs = argv_pointers(args);
  const std::string log_file = log_path.string();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  return pid;
}

Localnet::Localnet(size_t validators) : pids_(validators, -1) {
  std::random_device random;
  root_ = fs::temp_directory_path() /
          ("automata-localnet-" + std::to_string(getpid()) + "-" + std::to_string(random()));
  fs::create_directories(root_);
}

Localnet::~Localnet() {
  for (size_t i = 0; i < pids_.size(); ++i) kill9(i);
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

bool Localnet::write_homes(std::string* error) {
  base_port_ = free_port_range(2 * static_cast<int>(pids_.size()));
  if (base_port_ == 0) {
    *error = "no range of free loopback ports found";
    return false;
  }
  CommandResult result = run_command({automatad_path(), "testnet", "--validators", std::to_string(pids_.size()),
                                      "--out", net_dir().string(), "--base-port", std::to_string(base_port_)});
  if (result.exit_code != 0) {
    *error = "automatad testnet failed (exit " + std::to_string(result.exit_code) + "): " + result.err;
    return false;
  }
  return true;
}

bool Localnet::start_all(std::string* error) {
  for (int attempt = 1; attempt <= 3; ++attempt) {
    if (!write_homes(error)) return false;
    bool bind_failed = false;
    bool started = true;
    for (size_t i = 0; i < pids_.size() && started; ++i) {
      started = start(i, error);
      bind_failed = !started && is_bind_failure(*error);
    }
    if (started) return true;
    for (size_t i = 0; i < pids_.size(); ++i) kill9(i);
    if (!bind_failed) return false;
    std::error_code ignored;
    fs::remove_all(net_dir(), ignored);
    for (size_t i = 0; i < pids_.size(); ++i) fs::remove(log_path(i), ignored);
  }
  *error = "every node range tried had a port taken: " + *error;
  return false;
}

bool Localnet::start(size_t i, std::string* error) {
  pids_[i] = spawn_node(home(i), log_path(i));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
      pids_[i] = -1;
      *error = "node" + std::to_string(i) + " exited during start-up:\n" + read_log(i);
      return false;
    }
    if (http_request(rpc_port(i), "GET", "/health", "").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error = "node" + std::to_string(i) + " did not answer /health within 60 s:\n" + read_log(i);
  return false;
}

int Localnet::stop(size_t i) {
  if (pids_[i] <= 0) return -1;
  ::kill(pids_[i], SIGTERM);
  for (int k = 0; k < 300; ++k) {
    int status = 0;
    if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
      pids_[i] = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill9(i);
  return -1;
}

void Localnet::kill9(size_t i) {
  if (pids_[i] <= 0) return;
  ::kill(pids_[i], SIGKILL);
  int status = 0;
  waitpid(pids_[i], &status, 0);
  pids_[i] = -1;
}

nlohmann::json Localnet::rpc(size_t i, const std::string& method, const nlohmann::json& params) const {
  const nlohmann::json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
  const HttpReply reply = http_request(rpc_port(i), "POST", "/", request.dump());
  if (reply.status == 0) return {{"error", {{"code", 0}, {"message", "connection failed"}}}};
  auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  if (parsed.is_discarded()) return {{"error", {{"code", 0}, {"message", "unparsable reply: " + reply.body}}}};
  return parsed;
}

uint64_t Localnet::height(size_t i) const {
  const auto status = rpc(i, "node_status");
  if (!status.contains("result")) return 0;
  return status["result"].value("height", uint64_t{0});
}

CommandResult Localnet::cli(size_t i, const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {automata_path(), "--node", rpc_url(i), "--keyring-dir", keyring_dir().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

std::string Localnet::read_log(size_t i) const { return read_file(log_path(i)); }

std::string Localnet::node_id(size_t i) const {
  auto key = nlohmann::json::parse(read_file(home(i) / "node_key.json"), nullptr, false);
  if (!key.is_object()) return "";
  return key.value("pubkey", "");
}

}  // namespace automata::localnet
