// Node layout of the state tree: tree hashing, the child references stored
// in internal nodes, and the RocksDB keys and values of nodes and metadata.
// Private to src/state.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <optional>

namespace automata::state {

// Depth value that marks a leaf in a NodeId. Internal nodes sit at depths
// 0..255; a leaf is stored under its full key hash, so it keeps its storage
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

// Identity of a stored node: the version that created it and its bit path.
struct NodeId {
  uint64_t version = 0;
  uint16_t depth = 0;  // 0..255 for internal nodes, kLeafDepth for leaves
  Hash32 path{};       // bits at index >= depth are zero (whole hash for leaves)

  bool operator==(const NodeId&) const = default;
};

struct NodeIdHasher {
  size_t operator()(const NodeId& id) const;
};

struct InternalNode {
  ChildRef left;
  ChildRef right;
};

struct LeafNode {
  Hash32 value_hash{};
  Bytes value;
};

// Storage key in kStateNodes: version (8 bytes, big-endian), depth (2 bytes,
// big-endian), then the path: ceil(depth / 8) bytes, or 32 for a leaf.
Bytes encode_node_key(const NodeId& id);
std::optional<NodeId> decode_node_key(ByteView key);

void append_child_ref(const ChildRef& ref, Bytes* out);
// Decodes one reference at *offset and advances it. Returns nullopt on
// malformed input.
std::optional<ChildRef> read_child_ref(ByteView bytes, size_t* offset);

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
// 's' + version that replaced the node + node key -> empty.
Bytes stale_key(uint64_t stale_since, const NodeId& id);
inline constexpr uint8_t kStalePrefix = 's';

}  // namespace automata::state
