#include "automata/state/state_tree.h"

#include "automata/crypto/sha256.h"
#include "automata/storage/database.h"
#include "automata/types/logging.h"
#include "node_store.h"
#include "tree_update.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

namespace automata::state {
namespace {

using storage::Column;

Bytes encode_u64(uint64_t value) { return storage::encode_height(value); }

Status read_u64(storage::Database* db, const Bytes& key, std::optional<uint64_t>* out) {
  Bytes value;
  Status s = db->get(Column::kStateMeta, key, &value);
  if (s.is_not_found()) {
    out->reset();
    return Status::ok();
  }
  if (!s.is_ok()) return s;
  if (value.size() != 8) {
    return Status::corruption("state meta record " + to_string(key) + " has " + std::to_string(value.size()) +
                              " bytes, expected 8");
  }
  *out = storage::decode_height(value);
  return Status::ok();
}

class StateTreeImpl final : public StateTree {
 public:
  StateTreeImpl(storage::Database* db, const StateTreeOptions& options)
      : store_(db, options.node_cache_entries),
        keep_versions_(options.keep_versions),
        apply_threads_(options.apply_threads) {}

  Status load() {
    storage::Database* db = store_.db();
    std::optional<uint64_t> latest;
    Status s = read_u64(db, latest_version_key(), &latest);
    if (!s.is_ok()) return s;
    std::optional<uint64_t> oldest;
    s = read_u64(db, oldest_version_key(), &oldest);
    if (!s.is_ok()) return s;

    if (latest) {
      Bytes format;
      s = db->get(Column::kStateMeta, node_format_key(), &format);
      if (!s.is_ok() && !s.is_not_found()) return s;
      uint8_t found = format.size() == 1 ? format[0] : 1;
      if (found != kNodeFormat) {
        return Status::corruption("state nodes use layout " + std::to_string(found) + " but this build reads layout " +
                                  std::to_string(kNodeFormat) + "; rebuild the database by syncing again");
      }
    }

    std::lock_guard<std::mutex> lock(mutex_);
    oldest_ = oldest.value_or(0);
    if (!latest) return Status::ok();  // a new database: empty tree at version 0
    s = read_root(*latest, &latest_root_);
    if (!s.is_ok()) {
      return Status::corruption("latest state version " + std::to_string(*latest) + " has no usable root: " +
                                s.message());
    }
    latest_ = *latest;
    return Status::ok();
  }

  uint64_t latest_version() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return latest_;
  }

  Hash32 latest_root() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return latest_root_.hash;
  }

  uint64_t oldest_version() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return oldest_;
  }

  Status root_at(uint64_t version, Hash32* root) const override {
    ChildRef ref;
    Status s = root_ref(version, &ref);
    if (s.is_ok()) *root = ref.hash;
    return s;
  }

  Status get_latest(ByteView key, std::optional<Bytes>* value) const override {
    Bytes out;
    Status s = store_.db()->get(Column::kStateValues, key, &out);
    if (s.is_not_found()) {
      value->reset();
      return Status::ok();
    }
    if (!s.is_ok()) return s;
    *value = std::move(out);
    return Status::ok();
  }

  Status get_at(uint64_t version, ByteView key, std::optional<Bytes>* value) const override {
    StateProof proof;
    return walk(version, key, nullptr, value, &proof);
  }

  Status prove(uint64_t version, ByteView key, StateProof* proof, std::optional<Bytes>* value) const override {
    std::vector<Hash32> siblings;
    Status s = walk(version, key, &siblings, value, proof);
    if (s.is_ok()) proof->siblings = std::move(siblings);
    return s;
  }

  Status apply(uint64_t new_version, const ChangeSet& changes, storage::WriteBatch& batch,
               Hash32* new_root) override {
    ChildRef old_root;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (new_version != latest_ + 1) {
        return Status::invalid_argument("state version " + std::to_string(new_version) +
                                        " cannot follow latest version " + std::to_string(latest_) +
                                        "; expected " + std::to_string(latest_ + 1));
      }
      old_root = latest_root_;
    }
    pending_.reset();

    std::vector<KeyChange> sorted;
    sorted.reserve(changes.size());
    for (const auto& [key, value] : changes) {
      sorted.push_back(KeyChange{crypto::sha256(key), value ? &*value : nullptr});
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const KeyChange& a, const KeyChange& b) { return a.key_hash < b.key_hash; });

    TreeUpdate update(&store_, new_version, &batch);
    ChildRef root;
    Status s = update.run(old_root, sorted, &root, apply_threads_);
    if (!s.is_ok()) {
      logger("state")->error("building state version {} failed: {}", new_version, s.to_string());
      return s;
    }

    for (const auto& [key, value] : changes) {
      if (value) {
        batch.put(Column::kStateValues, key, *value);
      } else {
        batch.erase(Column::kStateValues, key);
      }
    }
    if (!update.stale_list().empty()) {
      batch.put(Column::kStateMeta, stale_list_key(new_version), update.stale_list());
    }
    Bytes root_record;
    append_child_ref(root, &root_record);
    batch.put(Column::kStateMeta, root_key(new_version), root_record);
    batch.put(Column::kStateMeta, latest_version_key(), encode_u64(new_version));
    const uint8_t format = kNodeFormat;
    batch.put(Column::kStateMeta, node_format_key(), ByteView(&format, 1));

    pending_ = Pending{new_version, root, std::move(update.new_nodes())};
    *new_root = root.hash;
    return Status::ok();
  }

  void commit_applied() override {
    if (!pending_) return;
    for (auto& [id, node] : pending_->nodes) store_.cache().insert(id, std::move(node));
    std::lock_guard<std::mutex> lock(mutex_);
    latest_ = pending_->version;
    latest_root_ = pending_->root;
    pending_.reset();
  }

  Status prune(storage::WriteBatch& batch) override {
    uint64_t latest = 0;
    uint64_t oldest = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      latest = latest_;
      oldest = oldest_;
    }
    if (latest <= keep_versions_) return Status::ok();
    const uint64_t prune_through = latest - keep_versions_;
    if (prune_through < oldest) return Status::ok();

    // Readers check oldest_ first, so they stop reading these versions
    // before their nodes go away.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      oldest_ = prune_through + 1;
    }

    storage::Database* db = store_.db();
    size_t nodes = 0;
    Status s;
    std::unique_ptr<storage::Iterator> it = db->new_iterator(Column::kStateMeta);
    for (it->seek(Bytes{kStalePrefix}); it->valid(); it->next()) {
      ByteView key = it->key();
      if (key.empty() || key[0] != kStalePrefix || key.size() < 9) break;
      // A node replaced at version S belongs to versions before S only, so
      // nodes replaced at or before the oldest readable version are unused.
      if (storage::decode_height(key.subspan(1)) > prune_through + 1) break;
      if (key.size() == 9) {
        s = for_each_stale_key(it->value(), [&](ByteView node_key) {
          batch.erase(Column::kStateNodes, node_key);
          ++nodes;
        });
        if (!s.is_ok()) return Status::corruption("state meta record " + to_hex(key) + ": " + s.message());
      } else {
        // One node per record, as written before stale lists.
        batch.erase(Column::kStateNodes, key.subspan(9));
        ++nodes;
      }
      batch.erase(Column::kStateMeta, key);
    }
    s = it->status();
    if (!s.is_ok()) return s;

    size_t roots = 0;
    it = db->new_iterator(Column::kStateMeta);
    for (it->seek(root_key(0)); it->valid(); it->next()) {
      ByteView key = it->key();
      if (key.size() != 9 || key[0] != kRootPrefix) break;
      if (storage::decode_height(key.subspan(1)) > prune_through) break;
      batch.erase(Column::kStateMeta, key);
      ++roots;
    }
    s = it->status();
    if (!s.is_ok()) return s;

    batch.put(Column::kStateMeta, oldest_version_key(), encode_u64(prune_through + 1));
    logger("state")->debug("pruning state versions through {}: {} stale nodes, {} roots", prune_through, nodes,
                           roots);
    return Status::ok();
  }

 private:
  struct Pending {
    uint64_t version;
    ChildRef root;
    std::vector<std::pair<NodeId, std::shared_ptr<const InternalNode>>> nodes;
  };

  Status read_root(uint64_t version, ChildRef* ref) const {
    Bytes value;
    Status s = store_.db()->get(Column::kStateMeta, root_key(version), &value);
    if (!s.is_ok()) return s;
    size_t offset = 0;
    std::optional<ChildRef> decoded = read_child_ref(value, &offset);
    if (!decoded || offset != value.size()) {
      return Status::corruption("root record of state version " + std::to_string(version) + " is malformed");
    }
    *ref = *decoded;
    return Status::ok();
  }

  Status root_ref(uint64_t version, ChildRef* ref) const {
    uint64_t latest = 0;
    uint64_t oldest = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      latest = latest_;
      oldest = oldest_;
      if (version == latest_ && version >= oldest_) {
        *ref = latest_root_;
        return Status::ok();
      }
    }
    if (version > latest || version < oldest) {
      return Status::not_found("state version " + std::to_string(version) + " is not readable; readable versions are " +
                               std::to_string(oldest) + " to " + std::to_string(latest));
    }
    Status s = read_root(version, ref);
    if (s.is_not_found() && version == 0) {
      *ref = ChildRef{};  // version 0 before any apply(): the empty tree
      return Status::ok();
    }
    if (s.is_not_found()) {
      return Status::not_found("state version " + std::to_string(version) + " has no root record; readable versions are " +
                               std::to_string(oldest) + " to " + std::to_string(latest));
    }
    return s;
  }

  // Walks from the root of version along key's path. Collects the sibling
  // hashes when siblings is non-null and fills the leaf fields of proof.
  Status walk(uint64_t version, ByteView key, std::vector<Hash32>* siblings, std::optional<Bytes>* value,
              StateProof* proof) const {
    ChildRef ref;
    Status s = root_ref(version, &ref);
    if (!s.is_ok()) return s;

    const Hash32 key_hash = crypto::sha256(key);
    *proof = StateProof{};
    proof->key_hash = key_hash;
    value->reset();
    int depth = 0;
    while (ref.is_internal()) {
      std::shared_ptr<const InternalNode> node;
      s = store_.load_internal(ref, depth, key_hash, &node);
      if (!s.is_ok()) return s;
      if (siblings == nullptr) {
        // A read needs no hashes: the key can only be in its own slot.
        ref = node->child(hash_slot(key_hash, depth));
        depth += kNodeLevels;
        continue;
      }
      // A proof needs the binary siblings, so rebuild the node's 4 levels
      // and walk them until the path leaves the node or ends inside it.
      NodeHashes hashes;
      hashes.compute(node->slots());
      size_t index = 1;
      for (int level = 0; level < kNodeLevels; ++level) {
        size_t bit = static_cast<size_t>(hash_bit(key_hash, depth + level));
        siblings->push_back(hashes.entries[2 * index + (1 - bit)].hash);
        index = 2 * index + bit;
        if (!hashes.entries[index].is_internal()) break;
      }
      ref = hashes.entries[index];
      depth += kNodeLevels;
    }
    if (ref.empty()) return Status::ok();

    // A leaf: the key's own, or another key's leaf that ends the path.
    if (ref.key_hash != key_hash && siblings == nullptr) return Status::ok();
    LeafNode leaf;
    s = store_.load_leaf(ref, &leaf);
    if (!s.is_ok()) return s;
    proof->leaf_key_hash = ref.key_hash;
    proof->leaf_value_hash = leaf.value_hash;
    if (ref.key_hash == key_hash) *value = std::move(leaf.value);
    return Status::ok();
  }

  mutable NodeStore store_;
  const uint64_t keep_versions_;
  const int apply_threads_;

  mutable std::mutex mutex_;
  uint64_t latest_ = 0;     // guarded by mutex_
  ChildRef latest_root_;    // guarded by mutex_
  uint64_t oldest_ = 0;     // guarded by mutex_

  // Result of the last apply(), waiting for commit_applied(). Touched only
  // by the single writer thread.
  std::optional<Pending> pending_;
};

}  // namespace

Status StateTree::open(storage::Database* db, uint64_t keep_versions, std::unique_ptr<StateTree>* out) {
  StateTreeOptions options;
  options.keep_versions = keep_versions;
  return open(db, options, out);
}

Status StateTree::open(storage::Database* db, const StateTreeOptions& options, std::unique_ptr<StateTree>* out) {
  auto tree = std::make_unique<StateTreeImpl>(db, options);
  Status s = tree->load();
  if (!s.is_ok()) {
    logger("state")->error("opening the state tree failed: {}", s.to_string());
    return s;
  }
  logger("state")->info("opened the state tree at version {} (readable from {})", tree->latest_version(),
                        tree->oldest_version());
  *out = std::move(tree);
  return Status::ok();
}

}  // namespace automata::state
