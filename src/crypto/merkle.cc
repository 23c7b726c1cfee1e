#include "automata/crypto/merkle.h"

#include "automata/crypto/sha256.h"

#include <span>

namespace automata::crypto {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// The largest power of two strictly below n. REQUIRES: n >= 2.
size_t split_point(size_t n) {
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[n]) for a non-empty range of leaf hashes.
Hash32 subtree_root(std::span<const Hash32> leaves) {
  if (leaves.size() == 1) return leaves[0];
  size_t k = split_point(leaves.size());
  return merkle_node_hash(subtree_root(leaves.first(k)), subtree_root(leaves.subspan(k)));
}

// PATH(m, D[n]): siblings from the leaf up, appended to proof.
void append_path(std::span<const Hash32> leaves, size_t m, std::vector<Hash32>& proof) {
  if (leaves.size() <= 1) return;
  size_t k = split_point(leaves.size());
  if (m < k) {
    append_path(leaves.first(k), m, proof);
    proof.push_back(subtree_root(leaves.subspan(k)));
  } else {
    append_path(leaves.subspan(k), m - k, proof);
    proof.push_back(subtree_root(leaves.first(k)));
  }
}

}  // namespace

Hash32 merkle_leaf_hash(ByteView data) {
  const uint8_t prefix = kLeafPrefix;
  return sha256_concat({ByteView(&prefix, 1), data});
}

Hash32 merkle_node_hash(const Hash32& left, const Hash32& right) {
  const uint8_t prefix = kNodePrefix;
  return sha256_concat({ByteView(&prefix, 1), left, right});
}

Hash32 merkle_root(const std::vector<Bytes>& items) {
  std::vector<Hash32> leaves;
  leaves.reserve(items.size());
  for (const Bytes& item : items) leaves.push_back(merkle_leaf_hash(item));
  return merkle_root_from_leaves(leaves);
}

Hash32 merkle_root_from_leaves(const std::vector<Hash32>& leaf_hashes) {
  if (leaf_hashes.empty()) return sha256(ByteView());
  return subtree_root(leaf_hashes);
}

std::vector<Hash32> merkle_inclusion_proof(const std::vector<Hash32>& leaf_hashes, size_t index) {
  std::vector<Hash32> proof;
  if (index >= leaf_hashes.size()) return proof;
  append_path(leaf_hashes, index, proof);
  return proof;
}

// Follows the verification algorithm of RFC 9162 section 2.1.3.2, which
// walks the path with the leaf index and the last index of the tree.
bool merkle_verify_inclusion(const Hash32& leaf_hash, size_t index, size_t tree_size,
                             const std::vector<Hash32>& proof, const Hash32& root) {
  if (index >= tree_size) return false;

  size_t node = index;
  size_t last = tree_size - 1;
  Hash32 hash = leaf_hash;
  for (const Hash32& sibling : proof) {
    // A path longer than the tree is deep.
    if (last == 0) return false;
    if ((node & 1) != 0 || node == last) {
      hash = merkle_node_hash(sibling, hash);
      // The right edge of an unbalanced tree skips levels with no sibling.
      while ((node & 1) == 0 && node != 0) {
        node >>= 1;
        last >>= 1;
      }
    } else {
      hash = merkle_node_hash(hash, sibling);
    }
    node >>= 1;
    last >>= 1;
  }
  return last == 0 && hash == root;
}

}  // namespace automata::crypto
