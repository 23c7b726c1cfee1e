// Merkle trees over lists as RFC 6962 defines them:
// leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), the
// split point of n items is the largest power of two below n, and the root
// of an empty list is SHA-256 of the empty string.
#pragma once

#include "automata/types/bytes.h"

#include <vector>

namespace automata::crypto {

Hash32 merkle_leaf_hash(ByteView data);
Hash32 merkle_node_hash(const Hash32& left, const Hash32& right);

// Root over the items' data (each item hashed as a leaf).
Hash32 merkle_root(const std::vector<Bytes>& items);
// Root over precomputed leaf hashes.
Hash32 merkle_root_from_leaves(const std::vector<Hash32>& leaf_hashes);

// Audit path for leaf `index` of `leaf_hashes` (RFC 6962 section 2.1.1),
// ordered from the leaf upward. Hashes O(n) nodes per call. Returns an empty
// path when index >= leaf_hashes.size().
std::vector<Hash32> merkle_inclusion_proof(const std::vector<Hash32>& leaf_hashes, size_t index);

// Checks that leaf_hash sits at index in a tree of tree_size leaves with the
// given root. Returns false on any mismatch, including index >= tree_size
// and a proof of the wrong length.
bool merkle_verify_inclusion(const Hash32& leaf_hash, size_t index, size_t tree_size,
                             const std::vector<Hash32>& proof, const Hash32& root);

}  // namespace automata::crypto
