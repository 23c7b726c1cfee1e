// The node's consensus records, in their own RocksDB database beside the
// chain's: decided blocks with their commits, the engine's recovery state
// and the evidence pool. Decided blocks are written (synced) before the
// application applies them, so a node that crashes in between re-applies
// the stored block, and they serve block sync for peers that are behind.
#pragma once

#include "automata/consensus/engine.h"
#include "automata/consensus/messages.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace automata::storage {
class Database;
}  // namespace automata::storage

namespace automata::node {

// One piece of double-sign evidence and the block that included it.
struct EvidenceEntry {
  consensus::DuplicateVoteEvidence evidence;
  uint64_t included_height = 0;  // 0 while pending

  bool operator==(const EvidenceEntry&) const = default;
};

// Thread-safe: RocksDB allows concurrent reads and writes.
class ConsensusStore {
 public:
  // Opens (creating when missing) the database at path. Returns io_error
  // naming the path on failure.
  static Status open(const std::string& path, std::unique_ptr<ConsensusStore>* out);
  ~ConsensusStore();
  ConsensusStore(const ConsensusStore&) = delete;
  ConsensusStore& operator=(const ConsensusStore&) = delete;

  // Stores the serialized v1::Block decided at height and its commit, and
  // raises the last decided height, in one synced write.
  Status save_decided(uint64_t height, ByteView block, const consensus::Commit& commit);
  // not_found when nothing was decided at height.
  Status load_decided(uint64_t height, Bytes* block, consensus::Commit* commit) const;
  // Highest height passed to save_decided; 0 when none.
  uint64_t last_decided_height() const;

  // The latest PersistState of the engine, synced.
  Status save_recovery_state(const consensus::RecoveryState& state);
  // nullopt when none was saved.
  Status load_recovery_state(std::optional<consensus::RecoveryState>* state) const;

  // Inserts or replaces an evidence entry, synced. Entries are keyed by the
  // accused (height, round, vote type, validator).
  Status save_evidence(const EvidenceEntry& entry);
  // Every stored entry, ordered by (height, round, vote type, validator).
  Status load_evidence(std::vector<EvidenceEntry>* entries) const;

 private:
  explicit ConsensusStore(std::unique_ptr<storage::Database> db);

  std::unique_ptr<storage::Database> db_;
};

}  // namespace automata::node
