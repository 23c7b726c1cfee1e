#include "automata/node/sign_state_file.h"

#include "automata/consensus/codec.h"
#include "automata/node/wal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

namespace automata::node {

namespace {

// Slot layout, little-endian: magic, sequence (u64), payload length (u32),
// CRC-32C of sequence, length and payload (u32), payload, zero padding.
constexpr uint8_t kSlotMagic[4] = {'A', 'S', 'G', '1'};
constexpr size_t kSlotHeaderBytes = 4 + 8 + 4 + 4;

Status errno_status(const std::string& what, const std::string& path) {
  return Status::io_error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

void put_le(uint8_t* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint64_t get_le(const uint8_t* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<uint64_t>(in[i]) << (8 * i);
  return value;
}

Bytes encode_slot(uint64_t sequence, const Bytes& payload) {
  Bytes slot(FileSignStateStore::kSlotBytes, 0);
  std::memcpy(slot.data(), kSlotMagic, 4);
  put_le(slot.data() + 4, sequence, 8);
  put_le(slot.data() + 12, payload.size(), 4);
  std::memcpy(slot.data() + kSlotHeaderBytes, payload.data(), payload.size());
  Bytes checked(slot.begin() + 4, slot.begin() + 16);
  checked.insert(checked.end(), payload.begin(), payload.end());
  put_le(slot.data() + 16, crc32c(checked), 4);
  return slot;
}

struct DecodedSlot {
  uint64_t sequence = 0;
  Bytes payload;
};

// The slot's content, or nullopt when it is empty or damaged.
std::optional<DecodedSlot> decode_slot(const uint8_t* slot) {
  if (std::memcmp(slot, kSlotMagic, 4) != 0) return std::nullopt;
  uint64_t length = get_le(slot + 12, 4);
  if (length > FileSignStateStore::kSlotBytes - kSlotHeaderBytes) return std::nullopt;
  Bytes checked(slot + 4, slot + 16);
  checked.insert(checked.end(), slot + kSlotHeaderBytes, slot + kSlotHeaderBytes + length);
  if (crc32c(checked) != get_le(slot + 16, 4)) return std::nullopt;
  return DecodedSlot{get_le(slot + 4, 8), Bytes(slot + kSlotHeaderBytes, slot + kSlotHeaderBytes + length)};
}

bool is_slot_file(const Bytes& data) {
  return data.size() == 2 * FileSignStateStore::kSlotBytes &&
         (std::memcmp(data.data(), kSlotMagic, 4) == 0 ||
          std::memcmp(data.data() + FileSignStateStore::kSlotBytes, kSlotMagic, 4) == 0);
}

// The newest valid slot of a slot file: its index, or -1 when both are
// damaged.
int newest_slot(const Bytes& data, DecodedSlot* newest) {
  int index = -1;
  for (int i = 0; i < 2; ++i) {
    auto slot = decode_slot(data.data() + i * FileSignStateStore::kSlotBytes);
    if (slot && (index < 0 || slot->sequence > newest->sequence)) {
      *newest = std::move(*slot);
      index = i;
    }
  }
  return index;
}

Status read_file(const std::string& path, Bytes* data) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(fmt::format("cannot read signer state {}", path));
  data->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::io_error(fmt::format("cannot read signer state {}", path));
  return Status::ok();
}

Status write_all(int fd, const Bytes& data, off_t offset, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + written, data.size() - written, offset + static_cast<off_t>(written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_status("cannot write signer state", path);
    written += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status corrupt(const std::string& path, const std::string& reason) {
  return Status::invalid_argument(fmt::format(
      "signer state {} is corrupt ({}); restore it from a backup, because signing without it may double sign", path,
      reason));
}

}  // namespace

FileSignStateStore::~FileSignStateStore() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileSignStateStore::load(const std::string& path, consensus::LastSignState* state) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    *state = {};
    return Status::ok();
  }
  Bytes data;
  Status status = read_file(path, &data);
  if (!status.is_ok()) return status;
  Bytes payload;
  if (is_slot_file(data)) {
    DecodedSlot newest;
    if (newest_slot(data, &newest) < 0) return corrupt(path, "both slots fail their checksum");
    payload = std::move(newest.payload);
  } else {
    payload = std::move(data);  // the earlier format: the bare encoded state
  }
  status = consensus::decode_last_sign_state(payload, state);
  if (!status.is_ok()) return corrupt(path, status.message());
  return Status::ok();
}

Status FileSignStateStore::open_slots(const Bytes& first_payload, bool* wrote_first) {
  *wrote_first = false;
  std::error_code ec;
  if (std::filesystem::exists(path_, ec)) {
    Bytes data;
    Status status = read_file(path_, &data);
    if (!status.is_ok()) return status;
    DecodedSlot newest;
    int index = is_slot_file(data) ? newest_slot(data, &newest) : -1;
    if (index >= 0) {
      fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
      if (fd_ < 0) return errno_status("cannot open signer state", path_);
      sequence_ = newest.sequence;
      newest_slot_ = index;
      return Status::ok();
    }
  }

  // A new file, or one in the earlier format: the first state goes into
  // slot 0 of a temp file that replaces it through a synced rename.
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("cannot write signer state", temp);
  Bytes file = encode_slot(1, first_payload);
  file.resize(2 * kSlotBytes, 0);
  Status status = write_all(fd, file, 0, temp);
  if (status.is_ok() && ::fsync(fd) != 0) status = errno_status("cannot sync signer state", temp);
  if (status.is_ok() && std::rename(temp.c_str(), path_.c_str()) != 0) {
    status = errno_status("cannot rename signer state to", path_);
  }
  if (!status.is_ok()) {
    ::close(fd);
    return status;
  }
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) status = errno_status("cannot sync directory", dir);
  if (dir_fd >= 0) ::close(dir_fd);
  if (!status.is_ok()) {
    ::close(fd);
    return status;
  }
  fd_ = fd;
  sequence_ = 1;
  newest_slot_ = 0;
  *wrote_first = true;
  return Status::ok();
}

Status FileSignStateStore::save(const consensus::LastSignState& state) {
  Bytes payload = consensus::encode_last_sign_state(state);
  if (payload.size() > kSlotBytes - kSlotHeaderBytes) {
    return Status::invalid_argument(fmt::format("signer state of {} bytes does not fit a {}-byte slot of {}",
                                                payload.size(), kSlotBytes - kSlotHeaderBytes, path_));
  }
  if (fd_ < 0) {
    bool wrote_first = false;
    Status status = open_slots(payload, &wrote_first);
    if (!status.is_ok() || wrote_first) return status;
  }
  const int slot = 1 - newest_slot_;
  Status status = write_all(fd_, encode_slot(sequence_ + 1, payload), static_cast<off_t>(slot) * kSlotBytes, path_);
  if (!status.is_ok()) return status;
  if (::fdatasync(fd_) != 0) return errno_status("cannot sync signer state", path_);
  ++sequence_;
  newest_slot_ = slot;
  return Status::ok();
}

}  // namespace automata::node
