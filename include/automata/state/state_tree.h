// The authenticated state: a versioned binary sparse Merkle tree over
// SHA-256 key hashes, persisted in RocksDB. Version N is the state after
// block N; version 0 is genesis.
//
// Hashing (stable, part of consensus):
//   key_hash   = SHA-256(key)
//   leaf       = SHA-256(0x00 || key_hash || SHA-256(value))
//   internal   = SHA-256(0x01 || left || right)
//   empty      = 32 zero bytes
// A subtree that holds a single leaf is represented by that leaf, placed at
// the shallowest depth where its key hash is unique, so a proof for N keys
// carries about log2(N) siblings instead of 256.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace automata::storage {
class Database;
class WriteBatch;
}  // namespace automata::storage

namespace automata::state {

// State key -> new value, or nullopt to delete. Ordered, so applying a change
// set is deterministic.
using ChangeSet = std::map<Bytes, std::optional<Bytes>>;

// Proof that a key has a value (inclusion) or has none (exclusion) under a
// root. siblings run from the root downward, one per level of the path.
struct StateProof {
  Hash32 key_hash{};
  // The leaf met at the end of the path: for inclusion it is the key's own
  // leaf; for exclusion it is another key's leaf (a different key_hash with
  // the same prefix) or absent when the path ends at an empty subtree.
  std::optional<Hash32> leaf_key_hash;
  std::optional<Hash32> leaf_value_hash;
  std::vector<Hash32> siblings;
};

// Returns true when proof shows that key holds value (or, for nullopt, is
// absent) under root.
bool verify_state_proof(const Hash32& root, ByteView key, const std::optional<Bytes>& value,
                        const StateProof& proof);

struct StateTreeOptions {
  // Versions newer than latest - keep_versions stay readable after prune().
  uint64_t keep_versions = 100;
  // Bound on decoded internal nodes kept in memory (about 150 bytes each).
  size_t node_cache_entries = size_t{1} << 20;
  // Threads that apply() uses to update the root's subtrees: 1 or 2 (larger
  // values act as 2). The root and the batch do not depend on it.
  // NOTE: on a 2-core machine shared with other builds (load average 5 to
  // 7), 2 threads did not lower apply's wall time in state_tree_bench and
  // cost about 2 to 3 us of extra CPU per changed key, so the default stays
  // 1 until it is measured on an otherwise idle node.
  int apply_threads = 1;
};

// Thread-safety: reads (get, get_latest, prove, root_at) may run
// concurrently with each other and with one writer; apply and prune must be
// called from one thread at a time.
class StateTree {
 public:
  // Loads the latest version from db, or starts empty at version 0.
  // Keeps versions newer than latest - keep_versions readable.
  // db must outlive the tree. Returns corruption when the stored latest
  // version has no root record.
  static Status open(storage::Database* db, uint64_t keep_versions, std::unique_ptr<StateTree>* out);
  static Status open(storage::Database* db, const StateTreeOptions& options, std::unique_ptr<StateTree>* out);
  virtual ~StateTree() = default;

  // Latest committed version and its root.
  virtual uint64_t latest_version() const = 0;
  virtual Hash32 latest_root() const = 0;

  // Root at a version. not_found, naming the readable range, when the
  // version was pruned or never made.
  virtual Status root_at(uint64_t version, Hash32* root) const = 0;

  // The latest value of key, read from the flat value index.
  virtual Status get_latest(ByteView key, std::optional<Bytes>* value) const = 0;

  // The value of key at a retained version, read through the tree.
  virtual Status get_at(uint64_t version, ByteView key, std::optional<Bytes>* value) const = 0;

  // Builds version latest+1 from the latest version plus changes: writes
  // the new nodes, the flat values, the root record and the stale-node
  // index into batch and returns the new root. The caller writes batch
  // (with the block, in one atomic write) and then calls commit_applied().
  // Returns invalid_argument unless new_version == latest_version() + 1.
  // A second apply() before commit_applied() discards the first one's
  // result, so a caller whose write failed can retry.
  virtual Status apply(uint64_t new_version, const ChangeSet& changes, storage::WriteBatch& batch,
                       Hash32* new_root) = 0;

  // Marks the version built by the last apply() as committed, after its
  // batch was written.
  virtual void commit_applied() = 0;

  // Proves key's presence or absence at a retained version.
  virtual Status prove(uint64_t version, ByteView key, StateProof* proof,
                       std::optional<Bytes>* value) const = 0;

  // Adds deletes for the root records of versions up to latest -
  // keep_versions and for the nodes only those versions use. Reads of the pruned
  // versions return not_found from this call on, even before the caller
  // writes batch. Call it between commit_applied() and the next apply().
  virtual Status prune(storage::WriteBatch& batch) = 0;

  // Oldest version that root_at, get_at and prove can still read.
  virtual uint64_t oldest_version() const = 0;
};

}  // namespace automata::state
