#include "tree_node.h"

#include "automata/crypto/sha256.h"
#include "automata/storage/database.h"

#include <cstring>

namespace automata::state {
namespace {

constexpr uint8_t kLeafTag = 0x00;
constexpr uint8_t kInternalTag = 0x01;

void append(Bytes* out, ByteView bytes) { out->insert(out->end(), bytes.begin(), bytes.end()); }

void append_u64(Bytes* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<uint8_t>(value >> shift));
}

Hash32 read_hash(ByteView bytes, size_t offset) {
  Hash32 out{};
  std::memcpy(out.data(), bytes.data() + offset, out.size());
  return out;
}

size_t path_bytes(uint16_t depth) { return depth == kLeafDepth ? 32 : (depth + 7u) / 8u; }

}  // namespace

Hash32 hash_prefix(const Hash32& key_hash, int depth) {
  Hash32 out{};
  int full = depth / 8;
  for (int i = 0; i < full; ++i) out[static_cast<size_t>(i)] = key_hash[static_cast<size_t>(i)];
  int rest = depth % 8;
  if (rest != 0) {
    auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    out[static_cast<size_t>(full)] = key_hash[static_cast<size_t>(full)] & mask;
  }
  return out;
}

Hash32 leaf_hash(const Hash32& key_hash, const Hash32& value_hash) {
  const uint8_t tag = kLeafTag;
  return crypto::sha256_concat({ByteView(&tag, 1), key_hash, value_hash});
}

Hash32 internal_hash(const Hash32& left, const Hash32& right) {
  const uint8_t tag = kInternalTag;
  return crypto::sha256_concat({ByteView(&tag, 1), left, right});
}

size_t NodeIdHasher::operator()(const NodeId& id) const {
  uint64_t path_word = 0;
  std::memcpy(&path_word, id.path.data(), sizeof(path_word));
  uint64_t h = id.version * 0x9e3779b97f4a7c15ULL;
  h ^= (path_word + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2));
  h ^= (static_cast<uint64_t>(id.depth) << 48) + (h >> 17);
  return static_cast<size_t>(h);
}

Bytes encode_node_key(const NodeId& id) {
  Bytes out;
  size_t n = path_bytes(id.depth);
  out.reserve(10 + n);
  append_u64(&out, id.version);
  out.push_back(static_cast<uint8_t>(id.depth >> 8));
  out.push_back(static_cast<uint8_t>(id.depth & 0xff));
  out.insert(out.end(), id.path.begin(), id.path.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

std::optional<NodeId> decode_node_key(ByteView key) {
  if (key.size() < 10) return std::nullopt;
  NodeId id;
  id.version = storage::decode_height(key);
  id.depth = static_cast<uint16_t>((key[8] << 8) | key[9]);
  if (id.depth > kLeafDepth) return std::nullopt;
  size_t n = path_bytes(id.depth);
  if (key.size() != 10 + n) return std::nullopt;
  std::memcpy(id.path.data(), key.data() + 10, n);
  return id;
}

void append_child_ref(const ChildRef& ref, Bytes* out) {
  out->push_back(static_cast<uint8_t>(ref.kind));
  if (ref.empty()) return;
  append_u64(out, ref.version);
  append(out, ref.hash);
  if (ref.is_leaf()) append(out, ref.key_hash);
}

std::optional<ChildRef> read_child_ref(ByteView bytes, size_t* offset) {
  if (*offset >= bytes.size()) return std::nullopt;
  ChildRef ref;
  uint8_t kind = bytes[*offset];
  *offset += 1;
  if (kind == static_cast<uint8_t>(ChildRef::Kind::kEmpty)) return ref;
  if (kind != static_cast<uint8_t>(ChildRef::Kind::kLeaf) && kind != static_cast<uint8_t>(ChildRef::Kind::kInternal)) {
    return std::nullopt;
  }
  ref.kind = static_cast<ChildRef::Kind>(kind);
  size_t need = 8 + 32 + (ref.is_leaf() ? 32 : 0);
  if (bytes.size() - *offset < need) return std::nullopt;
  ref.version = storage::decode_height(bytes.subspan(*offset));
  ref.hash = read_hash(bytes, *offset + 8);
  if (ref.is_leaf()) ref.key_hash = read_hash(bytes, *offset + 40);
  *offset += need;
  return ref;
}

Bytes encode_internal(const InternalNode& node) {
  Bytes out;
  out.reserve(2 * 73);
  append_child_ref(node.left, &out);
  append_child_ref(node.right, &out);
  return out;
}

Status decode_internal(ByteView bytes, InternalNode* node) {
  size_t offset = 0;
  std::optional<ChildRef> left = read_child_ref(bytes, &offset);
  std::optional<ChildRef> right = left ? read_child_ref(bytes, &offset) : std::nullopt;
  if (!left || !right || offset != bytes.size()) {
    return Status::corruption("internal state node of " + std::to_string(bytes.size()) +
                              " bytes does not hold two child references");
  }
  node->left = *left;
  node->right = *right;
  return Status::ok();
}

Bytes encode_leaf(const Hash32& value_hash, ByteView value) {
  Bytes out;
  out.reserve(32 + value.size());
  append(&out, value_hash);
  append(&out, value);
  return out;
}

Status decode_leaf(ByteView bytes, LeafNode* leaf) {
  if (bytes.size() < 32) {
    return Status::corruption("state leaf of " + std::to_string(bytes.size()) + " bytes is shorter than its 32-byte value hash");
  }
  leaf->value_hash = read_hash(bytes, 0);
  leaf->value.assign(bytes.begin() + 32, bytes.end());
  return Status::ok();
}

Bytes latest_version_key() { return to_bytes("latest"); }
Bytes oldest_version_key() { return to_bytes("oldest"); }

Bytes root_key(uint64_t version) {
  Bytes out{kRootPrefix};
  append_u64(&out, version);
  return out;
}

Bytes stale_key(uint64_t stale_since, const NodeId& id) {
  Bytes out{kStalePrefix};
  append_u64(&out, stale_since);
  append(&out, encode_node_key(id));
  return out;
}

}  // namespace automata::state
