#include "tree_update.h"

#include "automata/crypto/sha256.h"
#include "automata/storage/database.h"

#include <algorithm>
#include <thread>

namespace automata::state {
namespace {

// Calls visit(slot, group) for each run of changes that share the slot at
// depth. Changes are sorted and share the bits above depth, so the slots
// rise along the span.
template <typename Visit>
void for_each_slot(std::span<const KeyChange> changes, int depth, Visit&& visit) {
  size_t begin = 0;
  while (begin < changes.size()) {
    int slot = hash_slot(changes[begin].key_hash, depth);
    size_t end = begin + 1;
    while (end < changes.size() && hash_slot(changes[end].key_hash, depth) == slot) ++end;
    visit(slot, changes.subspan(begin, end - begin));
    begin = end;
  }
}

}  // namespace

Status TreeUpdate::run(const ChildRef& old_root, std::span<const KeyChange> changes, ChildRef* new_root,
                       int threads) {
  // About one new node per 16 changes near the top plus one or two per
  // change below, as a starting size.
  new_nodes_.reserve(changes.size() * 2 + 16);
  stale_list_.reserve(changes.size() * 3 * (1 + kMaxNodeKeySize));
  // Below this many changes a second thread costs more than it saves.
  constexpr size_t kParallelMinChanges = 256;
  ChildRef root;
  if (threads > 1 && old_root.is_internal() && changes.size() >= kParallelMinChanges) {
    root = update_root_parallel(old_root, changes);
  } else {
    root = update(old_root, 0, changes);
  }
  if (!error_.is_ok()) return error_;
  *new_root = root;
  return Status::ok();
}

ChildRef TreeUpdate::update(const ChildRef& ref, int depth, std::span<const KeyChange> changes) {
  if (changes.empty() || !error_.is_ok()) return ref;

  if (ref.empty()) return build(depth, changes, std::nullopt);

  if (ref.is_leaf()) {
    // A change to the leaf's own key replaces it; otherwise it stays as is
    // and is placed next to the inserted keys.
    auto same = std::lower_bound(changes.begin(), changes.end(), ref.key_hash,
                                 [](const KeyChange& c, const Hash32& h) { return c.key_hash < h; });
    if (same != changes.end() && same->key_hash == ref.key_hash) {
      mark_stale(NodeId{ref.version, kLeafDepth, ref.key_hash});
      return build(depth, changes, std::nullopt);
    }
    return build(depth, changes, ref);
  }

  std::shared_ptr<const InternalNode> node;
  Status s = store_->load_internal(ref, depth, changes.front().key_hash, &node);
  if (!s.is_ok()) {
    error_ = s;
    return ref;
  }
  std::array<ChildRef, kNodeSlots> slots = node->slots();
  bool changed = false;
  for_each_slot(changes, depth, [&](int slot, std::span<const KeyChange> group) {
    ChildRef& child = slots[static_cast<size_t>(slot)];
    ChildRef updated = update(child, depth + kNodeLevels, group);
    if (updated == child) return;
    child = updated;
    changed = true;
  });
  if (!changed || !error_.is_ok()) return ref;

  mark_stale(NodeId{ref.version, static_cast<uint16_t>(depth), hash_prefix(changes.front().key_hash, depth)});
  return make_node(depth, changes.front().key_hash, slots);
}

ChildRef TreeUpdate::update_root_parallel(const ChildRef& ref, std::span<const KeyChange> changes) {
  std::shared_ptr<const InternalNode> node;
  Status s = store_->load_internal(ref, 0, changes.front().key_hash, &node);
  if (!s.is_ok()) {
    error_ = s;
    return ref;
  }
  std::array<ChildRef, kNodeSlots> slots = node->slots();

  // The slot of the middle change begins the second thread's run, so both
  // threads get about half of the changes.
  const int split = hash_slot(changes[changes.size() / 2].key_hash, 0);
  auto second_begin = std::lower_bound(changes.begin(), changes.end(), split, [](const KeyChange& c, int slot) {
    return hash_slot(c.key_hash, 0) < slot;
  });
  std::span<const KeyChange> first_changes(changes.begin(), second_begin);
  std::span<const KeyChange> second_changes(second_begin, changes.end());

  storage::WriteBatch second_batch;
  TreeUpdate second(store_, version_, &second_batch);
  second.new_nodes_.reserve(second_changes.size() * 2);
  second.stale_list_.reserve(second_changes.size() * 3 * (1 + kMaxNodeKeySize));
  std::array<ChildRef, kNodeSlots> second_slots = slots;
  std::thread worker([&second, &second_slots, second_changes] {
    for_each_slot(second_changes, 0, [&](int slot, std::span<const KeyChange> group) {
      ChildRef& child = second_slots[static_cast<size_t>(slot)];
      child = second.update(child, kNodeLevels, group);
    });
  });
  for_each_slot(first_changes, 0, [&](int slot, std::span<const KeyChange> group) {
    ChildRef& child = slots[static_cast<size_t>(slot)];
    child = update(child, kNodeLevels, group);
  });
  worker.join();

  if (error_.is_ok() && !second.error_.is_ok()) error_ = second.error_;
  if (!error_.is_ok()) return ref;
  for (size_t slot = static_cast<size_t>(split); slot < slots.size(); ++slot) slots[slot] = second_slots[slot];
  if (slots == node->slots()) return ref;
  append(second);

  mark_stale(NodeId{ref.version, 0, Hash32{}});
  return make_node(0, changes.front().key_hash, slots);
}

void TreeUpdate::append(TreeUpdate& other) {
  batch_->append(*other.batch_);
  for (auto& entry : other.new_nodes_) new_nodes_.push_back(std::move(entry));
  other.new_nodes_.clear();
  stale_list_.insert(stale_list_.end(), other.stale_list_.begin(), other.stale_list_.end());
  stale_count_ += other.stale_count_;
}

ChildRef TreeUpdate::build(int depth, std::span<const KeyChange> changes, const std::optional<ChildRef>& existing) {
  size_t inserts = 0;
  const KeyChange* single = nullptr;
  for (const KeyChange& c : changes) {
    if (c.value != nullptr) {
      ++inserts;
      single = &c;
    }
  }
  size_t entries = inserts + (existing ? 1 : 0);
  if (entries == 0) return ChildRef{};
  if (entries == 1) return existing ? *existing : write_leaf(*single);

  // Two distinct 256-bit hashes differ at some bit below 256, so with two
  // or more entries depth stays below 256.
  std::array<ChildRef, kNodeSlots> slots{};
  int existing_slot = -1;
  if (existing) {
    existing_slot = hash_slot(existing->key_hash, depth);
    slots[static_cast<size_t>(existing_slot)] = *existing;
  }
  for_each_slot(changes, depth, [&](int slot, std::span<const KeyChange> group) {
    std::optional<ChildRef> existing_here = slot == existing_slot ? existing : std::nullopt;
    slots[static_cast<size_t>(slot)] = build(depth + kNodeLevels, group, existing_here);
  });
  return make_node(depth, single->key_hash, slots);
}

ChildRef TreeUpdate::make_node(int depth, const Hash32& path_key, const std::array<ChildRef, kNodeSlots>& slots) {
  NodeHashes hashes;
  hashes.compute(slots);
  // An empty subtree or a single leaf is stored as its parent's reference.
  if (!hashes.root().is_internal()) return hashes.root();

  auto node = std::make_shared<InternalNode>();
  node->children.reserve(kNodeSlots);
  for (size_t slot = 0; slot < slots.size(); ++slot) {
    if (slots[slot].empty()) continue;
    node->slot_mask = static_cast<uint16_t>(node->slot_mask | (1u << slot));
    node->children.push_back(slots[slot]);
  }
  node->children.shrink_to_fit();

  NodeId id{version_, static_cast<uint16_t>(depth), hash_prefix(path_key, depth)};
  uint8_t key[kMaxNodeKeySize];
  size_t key_size = encode_node_key(id, key);
  value_buffer_.clear();
  encode_internal(*node, &value_buffer_);
  batch_->put(storage::Column::kStateNodes, ByteView(key, key_size), value_buffer_);

  ChildRef ref;
  ref.kind = ChildRef::Kind::kInternal;
  ref.version = version_;
  ref.hash = hashes.root().hash;
  new_nodes_.emplace_back(id, std::move(node));
  return ref;
}

ChildRef TreeUpdate::write_leaf(const KeyChange& change) {
  Hash32 value_hash = crypto::sha256(*change.value);
  NodeId id{version_, kLeafDepth, change.key_hash};
  uint8_t key[kMaxNodeKeySize];
  size_t key_size = encode_node_key(id, key);
  value_buffer_.assign(value_hash.begin(), value_hash.end());
  value_buffer_.insert(value_buffer_.end(), change.value->begin(), change.value->end());
  batch_->put(storage::Column::kStateNodes, ByteView(key, key_size), value_buffer_);

  ChildRef ref;
  ref.kind = ChildRef::Kind::kLeaf;
  ref.version = version_;
  ref.hash = leaf_hash(change.key_hash, value_hash);
  ref.key_hash = change.key_hash;
  return ref;
}

void TreeUpdate::mark_stale(const NodeId& id) {
  // One length byte, then the node key; see stale_list_key().
  uint8_t key[kMaxNodeKeySize];
  size_t key_size = encode_node_key(id, key);
  stale_list_.push_back(static_cast<uint8_t>(key_size));
  stale_list_.insert(stale_list_.end(), key, key + key_size);
  ++stale_count_;
}

}  // namespace automata::state
