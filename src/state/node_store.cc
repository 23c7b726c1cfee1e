#include "node_store.h"

#include "automata/storage/database.h"

namespace automata::state {

Hash32 node_hash(const InternalNode& node) {
  NodeHashes hashes;
  hashes.compute(node.slots());
  return hashes.root().hash;
}

Status NodeStore::load_internal(const ChildRef& ref, int depth, const Hash32& key_hash,
                                std::shared_ptr<const InternalNode>* node) {
  NodeId id{ref.version, static_cast<uint16_t>(depth), hash_prefix(key_hash, depth)};
  if (auto cached = cache_.find(id)) {
    *node = std::move(cached);
    return Status::ok();
  }
  uint8_t key_buffer[kMaxNodeKeySize];
  ByteView key(key_buffer, encode_node_key(id, key_buffer));
  Bytes value;
  Status s = db_->get(storage::Column::kStateNodes, key, &value);
  if (!s.is_ok()) {
    if (s.is_not_found()) return Status::not_found("state node " + to_hex(key) + " (version " +
                                                   std::to_string(ref.version) + ", depth " +
                                                   std::to_string(depth) + ") is missing");
    return s;
  }
  auto decoded = std::make_shared<InternalNode>();
  s = decode_internal(value, decoded.get());
  if (!s.is_ok()) return Status::corruption("state node " + to_hex(key) + ": " + s.message());
  if (node_hash(*decoded) != ref.hash) {
    return Status::corruption("state node " + to_hex(key) + " does not match the hash its parent records");
  }
  cache_.insert(id, decoded);
  *node = std::move(decoded);
  return Status::ok();
}

Status NodeStore::load_leaf(const ChildRef& ref, LeafNode* leaf) const {
  NodeId id{ref.version, kLeafDepth, ref.key_hash};
  Bytes key = encode_node_key(id);
  Bytes value;
  Status s = db_->get(storage::Column::kStateNodes, key, &value);
  if (!s.is_ok()) {
    if (s.is_not_found()) return Status::not_found("state leaf " + to_hex(key) + " is missing");
    return s;
  }
  s = decode_leaf(value, leaf);
  if (!s.is_ok()) return Status::corruption("state leaf " + to_hex(key) + ": " + s.message());
  return Status::ok();
}

}  // namespace automata::state
