// The validator's last signed message in one file, written so that a crash
// at any point leaves either the old or the new state on disk, never a mix.
#pragma once

#include "automata/consensus/signer.h"
#include "automata/types/status.h"

#include <cstdint>
#include <string>

namespace automata::node {

// A SignStateStore over one file of two fixed-size slots. Each slot contains
// a sequence number, the encode_last_sign_state bytes and a CRC-32C over
// both. save() overwrites the slot that does not hold the newest state and
// calls fdatasync before it returns ok, so a torn write can only damage
// the slot being written, and load() then takes the other one. One sync
// per signature keeps a one-validator chain's blocks cheap; the earlier
// format (a temp file, fsync, rename, fsync of the directory) cost four.
//
// A file in the earlier format (the bare encoded state) is still read, and
// the first save() replaces it with a slot file through a synced rename.
// Not thread-safe: the KeySigner calls it from the consensus thread.
class FileSignStateStore final : public consensus::SignStateStore {
 public:
  // Size of one slot; the file is two slots.
  static constexpr size_t kSlotBytes = 4096;

  explicit FileSignStateStore(std::string path) : path_(std::move(path)) {}
  ~FileSignStateStore() override;
  FileSignStateStore(const FileSignStateStore&) = delete;
  FileSignStateStore& operator=(const FileSignStateStore&) = delete;

  // Reads the state saved at path. A missing file yields the empty state
  // (height 0) and ok. An unreadable file, or one whose slots are both
  // damaged, returns io_error or invalid_argument naming the path, because
  // starting without it could double sign.
  static Status load(const std::string& path, consensus::LastSignState* state);

  // Writes state into the older slot and syncs it. invalid_argument when
  // the encoded state does not fit in a slot; io_error naming the path
  // when a write or sync fails.
  Status save(const consensus::LastSignState& state) override;

  const std::string& path() const { return path_; }

 private:
  // Opens the slot file for writing, creating it (or converting a file in
  // the earlier format) through a synced rename when needed.
  Status open_slots(const Bytes& first_payload, bool* wrote_first);

  std::string path_;
  int fd_ = -1;
  uint64_t sequence_ = 0;  // of the newest slot on disk
  int newest_slot_ = -1;   // 0 or 1; -1 before the file is open
};

}  // namespace automata::node
