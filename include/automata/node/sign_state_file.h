// The validator's last signed message in one file, written so that a crash
// at any point leaves either the old or the new state on disk, never a mix.
#pragma once

#include "automata/consensus/signer.h"
#include "automata/types/status.h"

#include <string>

namespace automata::node {

// A SignStateStore over one file (encode_last_sign_state bytes). save()
// writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the
// directory, so the state is durable before save() returns ok. Not
// thread-safe: the KeySigner calls it from the consensus thread.
class FileSignStateStore final : public consensus::SignStateStore {
 public:
  explicit FileSignStateStore(std::string path) : path_(std::move(path)) {}

  // Reads the state saved at path. A missing file yields the empty state
  // (height 0) and ok; an unreadable or undecodable one returns io_error or
  // invalid_argument naming the path, because starting without it could
  // double sign.
  static Status load(const std::string& path, consensus::LastSignState* state);

  Status save(const consensus::LastSignState& state) override;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace automata::node
