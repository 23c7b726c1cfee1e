#include "tree_update.h"

#include "automata/crypto/sha256.h"
#include "automata/storage/database.h"

#include <algorithm>

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

Status TreeUpdate::run(const ChildRef& old_root, std::span<const KeyChange> changes, ChildRef* new_root) {
  // About one new node per 16 changes near the top plus one or two per
  // change below, as a starting size.
  new_nodes_.reserve(changes.size() * 2 + 16);
  ChildRef root = update(old_root, 0, changes);
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
  // kStalePrefix, the replacing version, then the node key.
  uint8_t key[1 + 8 + kMaxNodeKeySize];
  key[0] = kStalePrefix;
  for (int i = 0; i < 8; ++i) key[1 + i] = static_cast<uint8_t>(version_ >> (56 - 8 * i));
  size_t key_size = 9 + encode_node_key(id, key + 9);
  batch_->put(storage::Column::kStateMeta, ByteView(key, key_size), {});
  ++stale_count_;
}

}  // namespace automata::state
