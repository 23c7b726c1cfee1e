#include "e2e/node_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace automata::e2e {

namespace fs = std::filesystem;

std::string automatad_path() { return std::string(AUTOMATA_BINARY_DIR) + "/apps/automatad"; }
std::string automata_path() { return std::string(AUTOMATA_BINARY_DIR) + "/apps/automata"; }

namespace {

std::vector<char*> to_cstrings(std::vector<std::string>& items) {
  std::vector<char*> out;
  out.reserve(items.size() + 1);
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The current environment plus extra entries; an extra entry replaces an
// inherited one of the same name.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& x : extra) {
      if (x.substr(0, x.find('=')) == name) replaced = true;
    }
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  CommandResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return result;

  std::vector<std::string> args = argv;
  std::vector<std::string> envs = merged_environment(env);
  auto cargs = to_cstrings(args);
  auto cenv = to_cstrings(envs);

  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    close(out_pipe[0]);
    close(err_pipe[0]);
    execve(cargs[0], cargs.data(), cenv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  // Read both pipes without letting either fill up and block the child.
  std::string out;
  std::string err;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (auto& f : fds) {
      if (f.fd < 0 || (f.revents & (POLLIN | POLLHUP)) == 0) continue;
      ssize_t n = read(f.fd, buf, sizeof buf);
      if (n <= 0) {
        close(f.fd);
        f.fd = -1;
        --open_fds;
        continue;
      }
      (f.fd == out_pipe[0] ? out : err).append(buf, static_cast<size_t>(n));
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = std::move(out);
  result.err = std::move(err);
  return result;
}

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
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
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  std::ostringstream request;
  request << method << " " << target << " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          << "Content-Type: application/json\r\nConnection: close\r\n"
          << "Content-Length: " << body.size() << "\r\n\r\n"
          << body;
  std::string data = request.str();
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early, e.g. on an oversized body
    sent += static_cast<size_t>(n);
  }
  std::string raw = read_all(fd);
  close(fd);

  // Status line, then headers, then the body (Content-Length or to EOF).
  if (raw.rfind("HTTP/1.1 ", 0) != 0 && raw.rfind("HTTP/1.0 ", 0) != 0) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) return reply;
  std::string headers = raw.substr(0, header_end);
  std::string rest = raw.substr(header_end + 4);
  bool chunked = headers.find("chunked") != std::string::npos;
  if (!chunked) {
    reply.body = rest;
    return reply;
  }
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t line_end = rest.find("\r\n", pos);
    if (line_end == std::string::npos) break;
    size_t chunk = std::strtoul(rest.substr(pos, line_end - pos).c_str(), nullptr, 16);
    if (chunk == 0) break;
    reply.body += rest.substr(line_end + 2, chunk);
    pos = line_end + 2 + chunk + 2;
  }
  return reply;
}

DevNode::DevNode() {
  std::random_device rd;
  root_ = fs::temp_directory_path() / ("automata-e2e-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(root_);
}

DevNode::~DevNode() {
  if (pid_ > 0) kill9();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

bool DevNode::start(std::string* log, std::chrono::seconds timeout) {
  if (port_ == 0) port_ = free_loopback_port();
  std::vector<std::string> args = {automatad_path(), "dev", "--home", home().string(), "--rpc-laddr",
                                   "127.0.0.1:" + std::to_string(port_)};
  std::vector<std::string> extra = extra_env_;
  extra.push_back("AUTOMATA_KEYRING_DIR=" + keyring_dir().string());
  std::vector<std::string> envs = merged_environment(extra);
  auto cargs = to_cstrings(args);
  auto cenv = to_cstrings(envs);
  std::string log_file = log_path().string();

  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execve(cargs[0], cargs.data(), cenv.data());
    _exit(127);
  }

  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (log) *log = "automatad exited during start-up:\n" + read_log();
      return false;
    }
    if (http_request(port_, "GET", "/health", "").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (log) *log = "automatad did not answer /health in time:\n" + read_log();
  return false;
}

int DevNode::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill9();
  return -1;
}

void DevNode::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int DevNode::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

nlohmann::json DevNode::rpc(const std::string& method, const nlohmann::json& params) {
  nlohmann::json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
  auto reply = http_request(port_, "POST", "/", request.dump());
  if (reply.status == 0) return {{"error", {{"code", 0}, {"message", "connection failed"}}}};
  auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  if (parsed.is_discarded()) return {{"error", {{"code", 0}, {"message", "unparsable reply: " + reply.body}}}};
  return parsed;
}

CommandResult DevNode::cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {automata_path(), "--node", url(), "--keyring-dir", keyring_dir().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

std::string DevNode::read_log() const {
  std::ifstream in(log_path());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace automata::e2e
