// Node layout of the state tree: tree hashing, the child references stored
// in internal nodes, and the RocksDB keys and values of nodes and metadata.
// Private to src/state.
//
// The hashes are those of the binary tree in state_tree.h, but storage packs
// 4 binary levels into one node: an internal node at depth d (a multiple of
// 4) holds up to 16 child references, one per 4-bit slot of the key hash at
// bits d..d+3. The 15 binary hashes inside a node are recomputed from its
// children when needed (see NodeHashes), so a path of about 20 binary levels
// costs about 5 stored nodes.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <array>
#include <functional>
#include <optional>
#include <vector>

namespace automata::state {

// Depth value that marks a leaf in a NodeId. Internal nodes sit at depths
// 0, 4, ..., 252; a leaf is stored under its full key hash, so it keeps its storage
// key when a split or a delete moves it to another depth.
inline constexpr uint16_t kLeafDepth = 256;

// Bit depth of key_hash, counting from the most significant bit of byte 0.
inline int hash_bit(const Hash32& key_hash, int depth) {
  return (key_hash[static_cast<size_t>(depth / 8)] >> (7 - depth % 8)) & 1;
}

// key_hash with every bit at index >= depth cleared.
Hash32 hash_prefix(const Hash32& key_hash, int depth);

Hash32 leaf_hash(const Hash32& key_hash, const Hash32& value_hash);
Hash32 internal_hash(const Hash32& left, const Hash32& right);

// A reference from a parent (or a root record) to a child subtree.
struct ChildRef {
  enum class Kind : uint8_t { kEmpty = 0, kLeaf = 1, kInternal = 2 };
  Kind kind = Kind::kEmpty;
  // Version that created the child node; with the path it forms the NodeId.
  uint64_t version = 0;
  // Subtree hash; all zero for an empty subtree.
  Hash32 hash{};
  // The leaf's key hash, so updates can place and split leaves without
  // reading them. Zero unless kind is kLeaf.
  Hash32 key_hash{};

  bool empty() const { return kind == Kind::kEmpty; }
  bool is_leaf() const { return kind == Kind::kLeaf; }
  bool is_internal() const { return kind == Kind::kInternal; }
  bool operator==(const ChildRef&) const = default;
};

// Binary levels per stored internal node, and its number of child slots.
inline constexpr int kNodeLevels = 4;
inline constexpr int kNodeSlots = 1 << kNodeLevels;

// The 4-bit slot of key_hash in the internal node at depth (a multiple of 4).
inline int hash_slot(const Hash32& key_hash, int depth) {
  uint8_t byte = key_hash[static_cast<size_t>(depth / 8)];
  return depth % 8 == 0 ? byte >> 4 : byte & 0x0f;
}

// Identity of a stored node: the version that created it and its bit path.
struct NodeId {
  uint64_t version = 0;
  uint16_t depth = 0;  // 0, 4, ..., 252 for internal nodes, kLeafDepth for leaves
  Hash32 path{};       // bits at index >= depth are zero (whole hash for leaves)

  bool operator==(const NodeId&) const = default;
};

struct NodeIdHasher {
  size_t operator()(const NodeId& id) const;
};

// A stored internal node: the non-empty child slots, in slot order. Each
// child sits 4 binary levels below the node. A leaf may be placed higher
// (see state_tree.h), but it still sits in its key's slot.
struct InternalNode {
  uint16_t slot_mask = 0;          // bit i set when slot i is non-empty
  std::vector<ChildRef> children;  // one per set bit, in slot order

  ChildRef child(int slot) const;
  // All 16 slots, empty ones included.
  std::array<ChildRef, kNodeSlots> slots() const;
};

// Combines two sibling subtrees into their parent, applying the rule that a
// subtree holding a single leaf is that leaf. The result of two non-empty
// subtrees is an internal reference with version 0 (not a stored node).
ChildRef combine(const ChildRef& left, const ChildRef& right);

// The binary subtrees inside one internal node, as a heap: entry 1 is the
// node itself (depth d), entries 2i and 2i+1 are the children of entry i,
// and entries 16..31 are the slots (depth d+4).
struct NodeHashes {
  std::array<ChildRef, 2 * kNodeSlots> entries;

  // Fills the slots from slots[0..15] and combines them upward.
  void compute(const std::array<ChildRef, kNodeSlots>& slots);
  const ChildRef& root() const { return entries[1]; }
};

struct LeafNode {
  Hash32 value_hash{};
  Bytes value;
};

// Storage key in kStateNodes: version (8 bytes, big-endian), depth (2 bytes,
// big-endian), then the path: ceil(depth / 8) bytes, or 32 for a leaf.
Bytes encode_node_key(const NodeId& id);
// The same key in a caller-owned buffer, to skip a heap allocation. Returns
// the number of bytes written (at most kMaxNodeKeySize).
inline constexpr size_t kMaxNodeKeySize = 42;
size_t encode_node_key(const NodeId& id, uint8_t* out);
std::optional<NodeId> decode_node_key(ByteView key);

void append_child_ref(const ChildRef& ref, Bytes* out);
// Decodes one reference at *offset and advances it. Returns nullopt on
// malformed input.
std::optional<ChildRef> read_child_ref(ByteView bytes, size_t* offset);

// slot_mask (2 bytes, big-endian), then one child reference per set bit.
void encode_internal(const InternalNode& node, Bytes* out);
Bytes encode_internal(const InternalNode& node);
Status decode_internal(ByteView bytes, InternalNode* node);

// value_hash (32 bytes) followed by the value.
Bytes encode_leaf(const Hash32& value_hash, ByteView value);
Status decode_leaf(ByteView bytes, LeafNode* leaf);

// Keys in kStateMeta.
Bytes latest_version_key();   // -> 8-byte big-endian latest committed version
Bytes oldest_version_key();   // -> 8-byte big-endian oldest readable version
Bytes root_key(uint64_t version);  // 'r' + version -> encoded ChildRef of the root
inline constexpr uint8_t kRootPrefix = 'r';
// 's' + version that replaced the nodes -> the stale list: for each node
// replaced by that version, one byte with its key's length, then the node
// key. Databases written before the list existed hold one record per node
// instead, 's' + version + node key -> empty, and prune() reads both.
Bytes stale_list_key(uint64_t stale_since);
Bytes stale_key(uint64_t stale_since, const NodeId& id);
inline constexpr uint8_t kStalePrefix = 's';
// Calls visit(node_key) for each node key in a stale list. Returns
// corruption when a length byte runs past the end or a key is malformed.
Status for_each_stale_key(ByteView list, const std::function<void(ByteView)>& visit);
// -> one byte, kNodeFormat: the node layout that wrote this database.
Bytes node_format_key();
// 2: 16-slot internal nodes. Databases written with binary internal nodes
// (format 1, no format record) must be rebuilt.
inline constexpr uint8_t kNodeFormat = 2;

}  // namespace automata::state
