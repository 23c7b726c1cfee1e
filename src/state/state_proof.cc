// Proof checking: a pure function of the root, the key, the claimed value
// and the proof, so clients can run it without a database.
#include "automata/state/state_tree.h"

#include "automata/crypto/sha256.h"
#include "tree_node.h"

namespace automata::state {

bool verify_state_proof(const Hash32& root, ByteView key, const std::optional<Bytes>& value,
                        const StateProof& proof) {
  const Hash32 key_hash = crypto::sha256(key);
  if (proof.key_hash != key_hash) return false;
  if (proof.siblings.size() > 256) return false;
  if (proof.leaf_key_hash.has_value() != proof.leaf_value_hash.has_value()) return false;

  Hash32 node{};
  if (value.has_value()) {
    if (!proof.leaf_key_hash || *proof.leaf_key_hash != key_hash) return false;
    if (*proof.leaf_value_hash != crypto::sha256(*value)) return false;
    node = leaf_hash(key_hash, *proof.leaf_value_hash);
  } else if (proof.leaf_key_hash) {
    // Exclusion by another key's leaf: that leaf must sit on this key's path,
    // so both hashes share the prefix the siblings walk down.
    const Hash32& other = *proof.leaf_key_hash;
    if (other == key_hash) return false;
    int depth = static_cast<int>(proof.siblings.size());
    if (hash_prefix(other, depth) != hash_prefix(key_hash, depth)) return false;
    node = leaf_hash(other, *proof.leaf_value_hash);
  }
  // Otherwise the path ends at an empty subtree, whose hash is all zero.

  for (size_t i = proof.siblings.size(); i-- > 0;) {
    const Hash32& sibling = proof.siblings[i];
    if (hash_bit(key_hash, static_cast<int>(i)) == 0) {
      node = internal_hash(node, sibling);
    } else {
      node = internal_hash(sibling, node);
    }
  }
  return node == root;
}

}  // namespace automata::state
