#include "automata/node/wal.h"

#include "automata/types/crash_point.h"
#include "automata/types/logging.h"

#include <fcntl.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace automata::node {

namespace fs = std::filesystem;

namespace {

constexpr size_t kHeaderBytes = 8;

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}

void put_u32(uint8_t* out, uint32_t value) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

uint32_t get_u32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

Status errno_status(const std::string& what, const std::string& path) {
  return Status::io_error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

Status read_all(const std::string& path, Bytes* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::ok();
    return errno_status("cannot read WAL file", path);
  }
  uint8_t buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status status = errno_status("cannot read WAL file", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    out->insert(out->end(), buffer, buffer + n);
  }
  ::close(fd);
  return Status::ok();
}

// Splits data into intact records; returns the byte length of the intact
// prefix and sets *reason when a tail is dropped.
size_t parse_records(const Bytes& data, std::vector<Bytes>* records, std::string* reason) {
  size_t offset = 0;
  while (offset < data.size()) {
    if (data.size() - offset < kHeaderBytes) {
      *reason = fmt::format("torn record header at offset {}", offset);
      break;
    }
    uint32_t length = get_u32(data.data() + offset);
    uint32_t crc = get_u32(data.data() + offset + 4);
    if (length > kMaxWalRecordBytes) {
      *reason = fmt::format("record length {} at offset {} is over the {} byte limit", length, offset,
                            kMaxWalRecordBytes);
      break;
    }
    if (data.size() - offset - kHeaderBytes < length) {
      *reason = fmt::format("torn record at offset {}: {} payload bytes of {}", offset,
                            data.size() - offset - kHeaderBytes, length);
      break;
    }
    ByteView payload(data.data() + offset + kHeaderBytes, length);
    if (crc32c(payload) != crc) {
      *reason = fmt::format("CRC mismatch in the record at offset {}", offset);
      break;
    }
    records->emplace_back(payload.begin(), payload.end());
    offset += kHeaderBytes + length;
  }
  return offset;
}

Status sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open directory", dir);
  int rc = ::fsync(fd);
  Status status = rc == 0 ? Status::ok() : errno_status("cannot sync directory", dir);
  ::close(fd);
  return status;
}

Status open_for_append(const std::string& path, int* fd) {
  *fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (*fd < 0) return errno_status("cannot open WAL file", path);
  return Status::ok();
}

}  // namespace

uint32_t crc32c_portable(ByteView data) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t byte : data) crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

#if defined(__x86_64__)
namespace {

// The SSE4.2 crc32 instruction computes the same CRC-32C eight bytes at a
// time, which matters because a WAL record with a proposed block can be
// hundreds of KB.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(ByteView data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t crc = 0xFFFFFFFFu;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, sizeof(word));
    crc = _mm_crc32_u64(crc, word);
  }
  auto crc32 = static_cast<uint32_t>(crc);
  for (; n > 0; ++p, --n) crc32 = _mm_crc32_u8(crc32, *p);
  return crc32 ^ 0xFFFFFFFFu;
}

}  // namespace
#endif

uint32_t crc32c(ByteView data) {
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return crc32c_sse42(data);
#endif
  return crc32c_portable(data);
}

std::string wal_file_name(uint64_t height) { return fmt::format("wal-{:020}.log", height); }

Wal::Wal(std::string dir, uint64_t height, std::string path, int fd)
    : dir_(std::move(dir)), height_(height), path_(std::move(path)), fd_(fd) {}

Wal::~Wal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Wal::open(const std::string& dir, uint64_t height, std::unique_ptr<Wal>* out, WalReplay* replay) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot create WAL directory {}: {}", dir, ec.message()));
  std::string path = (fs::path(dir) / wal_file_name(height)).string();

  Bytes data;
  Status status = read_all(path, &data);
  if (!status.is_ok()) return status;
  std::string reason;
  replay->records.clear();
  size_t intact = parse_records(data, &replay->records, &reason);
  replay->truncated_bytes = data.size() - intact;
  if (intact < data.size()) {
    logger("wal")->warn("truncating {} bytes of {} after {} intact records: {}", data.size() - intact, path,
                        replay->records.size(), reason);
    if (::truncate(path.c_str(), static_cast<off_t>(intact)) != 0) return errno_status("cannot truncate", path);
  }

  int fd = -1;
  status = open_for_append(path, &fd);
  if (!status.is_ok()) return status;
  out->reset(new Wal(dir, height, path, fd));
  return sync_dir(dir);
}

Status Wal::append(ByteView payload, bool sync) {
  if (payload.size() > kMaxWalRecordBytes) {
    return Status::invalid_argument(
        fmt::format("WAL record of {} bytes is over the {} byte limit", payload.size(), kMaxWalRecordBytes));
  }
  Bytes record(kHeaderBytes + payload.size());
  put_u32(record.data(), static_cast<uint32_t>(payload.size()));
  put_u32(record.data() + 4, crc32c(payload));
  // An empty payload may have a null data pointer, which memcpy must not get.
  if (!payload.empty()) std::memcpy(record.data() + kHeaderBytes, payload.data(), payload.size());
  size_t written = 0;
  while (written < record.size()) {
    ssize_t n = ::write(fd_, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_status("cannot append to WAL file", path_);
    written += static_cast<size_t>(n);
  }
  if (sync && ::fdatasync(fd_) != 0) return errno_status("cannot sync WAL file", path_);
  if (sync) crash_point(kCrashAfterWalSync);
  return Status::ok();
}

Status Wal::rotate(uint64_t height) {
  if (height <= height_) {
    return Status::invalid_argument(fmt::format("WAL rotate to height {} is not above the current height {}", height,
                                                height_));
  }
  std::string path = (fs::path(dir_) / wal_file_name(height)).string();
  int fd = -1;
  // A leftover file of that height belongs to an earlier run that never
  // reached it, so it is replaced.
  if (::truncate(path.c_str(), 0) != 0 && errno != ENOENT) return errno_status("cannot truncate", path);
  Status status = open_for_append(path, &fd);
  if (!status.is_ok()) return status;
  ::close(fd_);
  fd_ = fd;
  path_ = path;
  height_ = height;

  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("wal-") && name.ends_with(".log") && name < wal_file_name(height)) {
      fs::remove(entry.path(), ec);
      if (ec) logger("wal")->warn("cannot delete old WAL file {}: {}", entry.path().string(), ec.message());
    }
  }
  return sync_dir(dir_);
}

}  // namespace automata::node
