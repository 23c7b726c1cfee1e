#include "automata/node/sign_state_file.h"

#include "automata/consensus/codec.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace automata::node {

namespace {

Status errno_status(const std::string& what, const std::string& path) {
  return Status::io_error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

}  // namespace

Status FileSignStateStore::load(const std::string& path, consensus::LastSignState* state) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    *state = {};
    return Status::ok();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(fmt::format("cannot read signer state {}", path));
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::io_error(fmt::format("cannot read signer state {}", path));
  Status status = consensus::decode_last_sign_state(data, state);
  if (!status.is_ok()) {
    return Status::invalid_argument(fmt::format(
        "signer state {} is corrupt ({}); restore it from a backup, because signing without it may double sign",
        path, status.message()));
  }
  return Status::ok();
}

Status FileSignStateStore::save(const consensus::LastSignState& state) {
  Bytes data = consensus::encode_last_sign_state(state);
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("cannot write signer state", temp);
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status status = errno_status("cannot write signer state", temp);
      ::close(fd);
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status status = errno_status("cannot sync signer state", temp);
    ::close(fd);
    return status;
  }
  ::close(fd);
  if (std::rename(temp.c_str(), path_.c_str()) != 0) return errno_status("cannot rename signer state to", path_);

  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return errno_status("cannot open directory", dir);
  int rc = ::fsync(dir_fd);
  Status status = rc == 0 ? Status::ok() : errno_status("cannot sync directory", dir);
  ::close(dir_fd);
  return status;
}

}  // namespace automata::node
