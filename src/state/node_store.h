// Reads tree nodes from RocksDB through the node cache. Private to src/state.
#pragma once

#include "node_cache.h"
#include "tree_node.h"

#include <memory>

namespace automata::storage {
class Database;
}  // namespace automata::storage

namespace automata::state {

// The hash of the binary subtree that node stores (its 4 levels combined).
Hash32 node_hash(const InternalNode& node);

// Thread-safe, because NodeCache and Database are.
class NodeStore {
 public:
  NodeStore(storage::Database* db, size_t cache_entries) : db_(db), cache_(cache_entries) {}

  storage::Database* db() const { return db_; }
  NodeCache& cache() { return cache_; }

  // Loads the internal node that ref points at, at depth on the path of
  // key_hash. Returns not_found (with the node key) when it is not stored.
  Status load_internal(const ChildRef& ref, int depth, const Hash32& key_hash,
                       std::shared_ptr<const InternalNode>* node);

  // Loads the leaf that ref points at.
  Status load_leaf(const ChildRef& ref, LeafNode* leaf) const;

 private:
  storage::Database* db_;
  NodeCache cache_;
};

}  // namespace automata::state
