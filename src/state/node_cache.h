// A bounded cache of decoded internal nodes, shared by readers and the
// writer. Private to src/state.
#pragma once

#include "tree_node.h"

#include <memory>
#include <mutex>
#include <unordered_map>

namespace automata::state {

// Keeps about the capacity most recently used nodes in two generations: hits
// move a node into the young generation, and when the young generation fills
// up the old one is dropped whole. Eviction thus costs no per-entry
// bookkeeping, and hot nodes (the upper levels) always survive it.
// Thread-safe. Nodes are immutable and their ids are never reused, so a
// cached node never goes out of date.
// NOTE: every entry is a separately allocated node behind a shared_ptr in an
// unordered_map, so a full cache (1M entries by default) is freed one
// allocation at a time when a generation drops or the tree closes. A flat,
// preallocated table would avoid that cost but is not written yet.
class NodeCache {
 public:
  explicit NodeCache(size_t capacity) : generation_limit_(capacity / 2 + 1) {}

  std::shared_ptr<const InternalNode> find(const NodeId& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = young_.find(id);
    if (it != young_.end()) return it->second;
    auto old = old_.find(id);
    if (old == old_.end()) return nullptr;
    std::shared_ptr<const InternalNode> node = old->second;
    insert_locked(id, node);
    return node;
  }

  void insert(const NodeId& id, std::shared_ptr<const InternalNode> node) {
    std::lock_guard<std::mutex> lock(mutex_);
    insert_locked(id, std::move(node));
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return young_.size() + old_.size();
  }

 private:
  using Map = std::unordered_map<NodeId, std::shared_ptr<const InternalNode>, NodeIdHasher>;

  void insert_locked(const NodeId& id, std::shared_ptr<const InternalNode> node) {
    if (young_.size() >= generation_limit_) {
      old_ = std::move(young_);
      young_ = Map();
      young_.reserve(generation_limit_);
    }
    young_.insert_or_assign(id, std::move(node));
  }

  const size_t generation_limit_;
  mutable std::mutex mutex_;
  Map young_;  // guarded by mutex_
  Map old_;    // guarded by mutex_
};

}  // namespace automata::state
