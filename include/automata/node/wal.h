// The consensus write-ahead log: the proposals and votes a validator sent
// and received at its current height, so that a restarted validator can
// replay them into the engine and resend its own messages.
//
// One file per height, DIR/wal-<height, 20 digits>.log. Each record is
//   u32 big-endian payload length, u32 big-endian CRC-32C of the payload,
//   payload bytes.
// The payload is opaque here; the consensus driver stores a flag byte and a
// codec-encoded ConsensusMessage. On open, a record that is cut short (a
// torn write) or whose CRC does not match, and everything after it, is
// truncated with a warning instead of failing the start.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace automata::node {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of data, with the
// SSE4.2 crc32 instruction when the CPU has it.
uint32_t crc32c(ByteView data);
// The same CRC from a lookup table, one byte at a time, on any CPU.
uint32_t crc32c_portable(ByteView data);

// Largest payload accepted by append() and by the reader. A longer length
// field on disk is treated as corruption.
inline constexpr uint32_t kMaxWalRecordBytes = 32u << 20;

// What open() found in the existing file of the height.
struct WalReplay {
  std::vector<Bytes> records;   // intact records, in write order
  uint64_t truncated_bytes = 0;  // bytes cut from a torn or corrupt tail
};

// Not thread-safe: the consensus driver thread owns it.
class Wal {
 public:
  // Creates dir when missing and opens (creating when missing) the file of
  // height for appending. Intact records of an existing file go to
  // *replay; a torn or corrupt tail is cut off and logged. Returns io_error
  // naming the path when a file cannot be read, truncated or opened.
  static Status open(const std::string& dir, uint64_t height, std::unique_ptr<Wal>* out, WalReplay* replay);

  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends one record. With sync, the file is fdatasynced before this
  // returns. Returns invalid_argument for a payload over
  // kMaxWalRecordBytes and io_error naming the file when the write fails.
  Status append(ByteView payload, bool sync);

  // Switches to a new, empty file for height and deletes the files of
  // lower heights. height must be above the current one.
  Status rotate(uint64_t height);

  uint64_t height() const { return height_; }
  const std::string& path() const { return path_; }

 private:
  Wal(std::string dir, uint64_t height, std::string path, int fd);

  std::string dir_;
  uint64_t height_;
  std::string path_;
  int fd_;
};

// The file name of height inside the WAL directory.
std::string wal_file_name(uint64_t height);

}  // namespace automata::node
