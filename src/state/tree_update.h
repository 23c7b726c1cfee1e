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
// once. New nodes and stale index records go into batch; new internal nodes
// are also kept in new_nodes so the caller can cache them once the batch is
// committed.
class TreeUpdate {
 public:
  TreeUpdate(NodeStore* store, uint64_t version, storage::WriteBatch* batch)
      : store_(store), version_(version), batch_(batch) {}

  // REQUIRES: changes sorted by key_hash with no duplicates.
  Status run(const ChildRef& old_root, std::span<const KeyChange> changes, ChildRef* new_root);

  std::vector<std::pair<NodeId, std::shared_ptr<const InternalNode>>>& new_nodes() { return new_nodes_; }
  size_t stale_count() const { return stale_count_; }

 private:
  // depth is a multiple of 4: the depth of the node that ref points at, or
  // of the slot that holds ref.
  ChildRef update(const ChildRef& ref, int depth, std::span<const KeyChange> changes);
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
  Bytes value_buffer_;  // encoding scratch, reused so most puts allocate nothing
};

}  // namespace automata::state
