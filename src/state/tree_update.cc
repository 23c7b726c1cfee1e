#include "tree_update.h"

#include "automata/crypto/sha256.h"
#include "automata/storage/database.h"

#include <algorithm>

namespace automata::state {
namespace {

// Index of the first change whose key hash has bit depth set. Changes are
// sorted, so those with the bit clear come first.
size_t split_point(std::span<const KeyChange> changes, int depth) {
  auto it = std::partition_point(changes.begin(), changes.end(),
                                 [depth](const KeyChange& c) { return hash_bit(c.key_hash, depth) == 0; });
  return static_cast<size_t>(it - changes.begin());
}

}  // namespace

Status TreeUpdate::run(const ChildRef& old_root, std::span<const KeyChange> changes, ChildRef* new_root) {
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
  size_t mid = split_point(changes, depth);
  ChildRef left = update(node->left, depth + 1, changes.first(mid));
  ChildRef right = update(node->right, depth + 1, changes.subspan(mid));
  if (left == node->left && right == node->right) return ref;

  mark_stale(NodeId{ref.version, static_cast<uint16_t>(depth), hash_prefix(changes.front().key_hash, depth)});
  return make_internal(depth, changes.front().key_hash, left, right);
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

  // Two distinct 256-bit hashes differ at some bit below 256, so the
  // recursion ends before depth reaches 256.
  size_t mid = split_point(changes, depth);
  std::optional<ChildRef> existing_left;
  std::optional<ChildRef> existing_right;
  if (existing) (hash_bit(existing->key_hash, depth) == 0 ? existing_left : existing_right) = existing;
  ChildRef left = build(depth + 1, changes.first(mid), existing_left);
  ChildRef right = build(depth + 1, changes.subspan(mid), existing_right);
  const Hash32& path_key = existing ? existing->key_hash : single->key_hash;
  return make_internal(depth, path_key, left, right);
}

ChildRef TreeUpdate::make_internal(int depth, const Hash32& path_key, const ChildRef& left, const ChildRef& right) {
  // A subtree holding a single leaf is that leaf, one level up.
  if (left.empty() && right.empty()) return ChildRef{};
  if (left.empty() && right.is_leaf()) return right;
  if (right.empty() && left.is_leaf()) return left;

  auto node = std::make_shared<InternalNode>(InternalNode{left, right});
  NodeId id{version_, static_cast<uint16_t>(depth), hash_prefix(path_key, depth)};
  batch_->put(storage::Column::kStateNodes, encode_node_key(id), encode_internal(*node));

  ChildRef ref;
  ref.kind = ChildRef::Kind::kInternal;
  ref.version = version_;
  ref.hash = internal_hash(left.hash, right.hash);
  new_nodes_.emplace_back(id, std::move(node));
  return ref;
}

ChildRef TreeUpdate::write_leaf(const KeyChange& change) {
  Hash32 value_hash = crypto::sha256(*change.value);
  NodeId id{version_, kLeafDepth, change.key_hash};
  batch_->put(storage::Column::kStateNodes, encode_node_key(id), encode_leaf(value_hash, *change.value));

  ChildRef ref;
  ref.kind = ChildRef::Kind::kLeaf;
  ref.version = version_;
  ref.hash = leaf_hash(change.key_hash, value_hash);
  ref.key_hash = change.key_hash;
  return ref;
}

void TreeUpdate::mark_stale(const NodeId& id) {
  batch_->put(storage::Column::kStateMeta, stale_key(version_, id), {});
  ++stale_count_;
}

}  // namespace automata::state
