// Builds one new tree version from a sorted batch of changes. Private to
// src/state.
#pragma once

#include "node_store.h"
#include "tree_node.h"

#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace automata::storage {
class WriteBatch;
}  // namespace automata::storage

namespace automata::state {

// One change, addressed by its key hash. value is nullptr for a delete.
struct KeyChange {
  Hash32 key_hash{};
  const Bytes* value = nullptr;
};

// Rewrites the paths of the changed keys in one recursive pass over the
// 16-slot internal nodes, so each touched node is read once and rehashed
// once. New nodes go into batch, and the keys of the nodes they replace into
// stale_list (encoded as the value of stale_list_key()). New internal nodes
// are also kept in new_nodes so the caller can cache them once the batch is
// committed.
class TreeUpdate {
 public:
  TreeUpdate(NodeStore* store, uint64_t version, storage::WriteBatch* batch)
      : store_(store), version_(version), batch_(batch) {}

  // REQUIRES: changes sorted by key_hash with no duplicates.
  // With threads > 1 and enough changes below an internal root, the root's
  // 16 subtrees are split into two runs of slots and the second run is
  // updated on another thread. Each subtree's result does not depend on the
  // others, and both halves are merged in slot order, so the root and the
  // batch contents match a single-threaded run.
  Status run(const ChildRef& old_root, std::span<const KeyChange> changes, ChildRef* new_root,
             int threads = 1);

  std::vector<std::pair<NodeId, std::shared_ptr<const InternalNode>>>& new_nodes() { return new_nodes_; }
  size_t stale_count() const { return stale_count_; }
  const Bytes& stale_list() const { return stale_list_; }

 private:
  // depth is a multiple of 4: the depth of the node that ref points at, or
  // of the slot that holds ref.
  ChildRef update(const ChildRef& ref, int depth, std::span<const KeyChange> changes);
  // Runs update() on an internal root, with its slots split across two threads.
  ChildRef update_root_parallel(const ChildRef& ref, std::span<const KeyChange> changes);
  // Appends other's batch records, new nodes and stale list to this one's.
  void append(TreeUpdate& other);
  // Builds the subtree holding the inserts among changes plus, if present,
  // one existing leaf that no change touches.
  ChildRef build(int depth, std::span<const KeyChange> changes, const std::optional<ChildRef>& existing);
  // Stores the node at depth on path_key's path with the given slots, unless
  // they hold at most one leaf, which then stands for the whole subtree.
  ChildRef make_node(int depth, const Hash32& path_key, const std::array<ChildRef, kNodeSlots>& slots);
  ChildRef write_leaf(const KeyChange& change);
  void mark_stale(const NodeId& id);

  NodeStore* store_;
  uint64_t version_;
  storage::WriteBatch* batch_;
  Status error_;  // first failure; once set, the result is discarded
  std::vector<std::pair<NodeId, std::shared_ptr<const InternalNode>>> new_nodes_;
  size_t stale_count_ = 0;
  Bytes stale_list_;
  Bytes value_buffer_;  // encoding scratch, reused so most puts allocate nothing
};

}  // namespace automata::state
