#include "tree_node.h"

#include "automata/crypto/sha256.h"
#include "automata/storage/database.h"

#include <bit>
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

size_t encode_node_key(const NodeId& id, uint8_t* out) {
  size_t n = path_bytes(id.depth);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(id.version >> (56 - 8 * i));
  out[8] = static_cast<uint8_t>(id.depth >> 8);
  out[9] = static_cast<uint8_t>(id.depth & 0xff);
  std::memcpy(out + 10, id.path.data(), n);
  return 10 + n;
}

Bytes encode_node_key(const NodeId& id) {
  uint8_t buffer[kMaxNodeKeySize];
  size_t n = encode_node_key(id, buffer);
  return Bytes(buffer, buffer + n);
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

ChildRef InternalNode::child(int slot) const {
  auto bit = static_cast<uint16_t>(1u << slot);
  if ((slot_mask & bit) == 0) return ChildRef{};
  auto below = static_cast<uint16_t>(slot_mask & (bit - 1));
  return children[static_cast<size_t>(std::popcount(below))];
}

std::array<ChildRef, kNodeSlots> InternalNode::slots() const {
  std::array<ChildRef, kNodeSlots> out{};
  size_t next = 0;
  for (size_t slot = 0; slot < out.size(); ++slot) {
    if ((slot_mask >> slot) & 1) out[slot] = children[next++];
  }
  return out;
}

ChildRef combine(const ChildRef& left, const ChildRef& right) {
  if (left.empty() && (right.empty() || right.is_leaf())) return right;
  if (right.empty() && left.is_leaf()) return left;
  ChildRef out;
  out.kind = ChildRef::Kind::kInternal;
  out.hash = internal_hash(left.hash, right.hash);
  return out;
}

void NodeHashes::compute(const std::array<ChildRef, kNodeSlots>& slots) {
  for (size_t i = 0; i < slots.size(); ++i) entries[kNodeSlots + i] = slots[i];
  for (size_t i = kNodeSlots; i-- > 1;) entries[i] = combine(entries[2 * i], entries[2 * i + 1]);
}

void encode_internal(const InternalNode& node, Bytes* out) {
  out->push_back(static_cast<uint8_t>(node.slot_mask >> 8));
  out->push_back(static_cast<uint8_t>(node.slot_mask & 0xff));
  for (const ChildRef& child : node.children) append_child_ref(child, out);
}

Bytes encode_internal(const InternalNode& node) {
  Bytes out;
  out.reserve(2 + node.children.size() * 73);
  encode_internal(node, &out);
  return out;
}

Status decode_internal(ByteView bytes, InternalNode* node) {
  if (bytes.size() < 2) {
    return Status::corruption("internal state node of " + std::to_string(bytes.size()) +
                              " bytes is shorter than its 2-byte slot mask");
  }
  node->slot_mask = static_cast<uint16_t>((bytes[0] << 8) | bytes[1]);
  size_t count = static_cast<size_t>(std::popcount(node->slot_mask));
  node->children.clear();
  node->children.reserve(count);
  size_t offset = 2;
  for (size_t i = 0; i < count; ++i) {
    std::optional<ChildRef> child = read_child_ref(bytes, &offset);
    if (!child || child->empty()) {
      return Status::corruption("internal state node of " + std::to_string(bytes.size()) + " bytes has a malformed child " +
                                std::to_string(i) + " of " + std::to_string(count));
    }
    node->children.push_back(*child);
  }
  if (offset != bytes.size()) {
    return Status::corruption("internal state node of " + std::to_string(bytes.size()) + " bytes has " +
                              std::to_string(bytes.size() - offset) + " trailing bytes after its " +
                              std::to_string(count) + " children");
  }
  // A node holds at least two leaves, so a lone child must be internal.
  if (count == 0 || (count == 1 && !node->children[0].is_internal())) {
    return Status::corruption("internal state node of " + std::to_string(bytes.size()) + " bytes has " +
                              std::to_string(count) + " children but holds fewer than 2 leaves");
  }
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

Bytes stale_list_key(uint64_t stale_since) {
  Bytes out{kStalePrefix};
  append_u64(&out, stale_since);
  return out;
}

Status for_each_stale_key(ByteView list, const std::function<void(ByteView)>& visit) {
  size_t offset = 0;
  while (offset < list.size()) {
    size_t size = list[offset];
    if (size > list.size() - offset - 1 || !decode_node_key(list.subspan(offset + 1, size))) {
      return Status::corruption("stale list of " + std::to_string(list.size()) + " bytes has a malformed node key at byte " +
                                std::to_string(offset));
    }
    visit(list.subspan(offset + 1, size));
    offset += 1 + size;
  }
  return Status::ok();
}

Bytes stale_key(uint64_t stale_since, const NodeId& id) {
  Bytes out{kStalePrefix};
  append_u64(&out, stale_since);
  append(&out, encode_node_key(id));
  return out;
}

Bytes node_format_key() { return to_bytes("node_format"); }

}  // namespace automata::state
