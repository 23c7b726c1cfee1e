#include "automata/crypto/merkle.h"

#include "vector_file.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace automata::crypto {
namespace {

using testing::read_vector_lines;
using testing::split_fields;

struct InclusionVector {
  size_t index = 0;
  size_t tree_size = 0;
  std::vector<Hash32> proof;
};

// The contents of rfc6962_merkle_vectors.txt (transparency-dev/merkle data).
struct MerkleVectors {
  std::vector<Bytes> leaves;
  std::map<size_t, Hash32> leaf_hashes;
  std::map<size_t, Hash32> roots;  // by tree size
  std::vector<InclusionVector> inclusions;
};

Hash32 hash_from_hex(const std::string& text) {
  std::optional<Bytes> bytes = from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  std::optional<Hash32> hash = to_array<32>(bytes.value_or(Bytes{}));
  EXPECT_TRUE(hash.has_value()) << text;
  return hash.value_or(Hash32{});
}

MerkleVectors read_vectors() {
  MerkleVectors vectors;
  for (const std::string& line : read_vector_lines("rfc6962_merkle_vectors.txt")) {
    std::vector<std::string> fields = split_fields(line);
    if (fields[0] == "leaf" && fields.size() == 2) {
      vectors.leaves.push_back(fields[1] == "-" ? Bytes{} : from_hex(fields[1]).value_or(Bytes{}));
    } else if (fields[0] == "leafhash" && fields.size() == 3) {
      vectors.leaf_hashes[std::stoul(fields[1])] = hash_from_hex(fields[2]);
    } else if (fields[0] == "root" && fields.size() == 3) {
      vectors.roots[std::stoul(fields[1])] = hash_from_hex(fields[2]);
    } else if (fields[0] == "inclusion" && fields.size() >= 3) {
      InclusionVector inclusion;
      inclusion.index = std::stoul(fields[1]);
      inclusion.tree_size = std::stoul(fields[2]);
      for (size_t i = 3; i < fields.size(); ++i) inclusion.proof.push_back(hash_from_hex(fields[i]));
      vectors.inclusions.push_back(inclusion);
    } else {
      ADD_FAILURE() << "malformed Merkle vector line: " << line;
    }
  }
  return vectors;
}

std::vector<Hash32> leaf_hashes_of(const std::vector<Bytes>& items) {
  std::vector<Hash32> hashes;
  for (const Bytes& item : items) hashes.push_back(merkle_leaf_hash(item));
  return hashes;
}

TEST(MerkleVectors, FileIsComplete) {
  MerkleVectors vectors = read_vectors();
  EXPECT_EQ(vectors.leaves.size(), 8u);
  EXPECT_EQ(vectors.leaf_hashes.size(), 8u);
  EXPECT_EQ(vectors.roots.size(), 9u);
  EXPECT_EQ(vectors.inclusions.size(), 5u);
}

TEST(MerkleVectors, LeafHashes) {
  MerkleVectors vectors = read_vectors();
  for (const auto& [index, expected] : vectors.leaf_hashes) {
    ASSERT_LT(index, vectors.leaves.size());
    EXPECT_EQ(to_hex(merkle_leaf_hash(vectors.leaves[index])), to_hex(expected)) << "leaf " << index;
  }
}

TEST(MerkleVectors, RootsForEveryPrefix) {
  MerkleVectors vectors = read_vectors();
  for (const auto& [size, expected] : vectors.roots) {
    ASSERT_LE(size, vectors.leaves.size());
    std::vector<Bytes> items(vectors.leaves.begin(), vectors.leaves.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_EQ(to_hex(merkle_root(items)), to_hex(expected)) << "tree size " << size;
    EXPECT_EQ(to_hex(merkle_root_from_leaves(leaf_hashes_of(items))), to_hex(expected)) << "tree size " << size;
  }
}

TEST(MerkleVectors, InclusionProofsMatch) {
  MerkleVectors vectors = read_vectors();
  const std::vector<Hash32> all_leaf_hashes = leaf_hashes_of(vectors.leaves);
  for (const InclusionVector& inclusion : vectors.inclusions) {
    SCOPED_TRACE("leaf " + std::to_string(inclusion.index) + " of " + std::to_string(inclusion.tree_size));
    std::vector<Hash32> leaf_hashes(all_leaf_hashes.begin(),
                                    all_leaf_hashes.begin() + static_cast<std::ptrdiff_t>(inclusion.tree_size));

    std::vector<Hash32> proof = merkle_inclusion_proof(leaf_hashes, inclusion.index);
    ASSERT_EQ(proof.size(), inclusion.proof.size());
    for (size_t i = 0; i < proof.size(); ++i) EXPECT_EQ(to_hex(proof[i]), to_hex(inclusion.proof[i])) << "step " << i;

    EXPECT_TRUE(merkle_verify_inclusion(leaf_hashes[inclusion.index], inclusion.index, inclusion.tree_size,
                                        inclusion.proof, vectors.roots.at(inclusion.tree_size)));
  }
}

// Checks that damaged versions of a valid proof fail: each element with one
// bit flipped, every other index, sizes that change the path, a missing,
// extra or swapped element, and the wrong leaf or root.
void expect_only_exact_proof_verifies(const std::vector<Hash32>& leaf_hashes, size_t index, const Hash32& root) {
  const size_t size = leaf_hashes.size();
  const Hash32& leaf = leaf_hashes[index];
  const std::vector<Hash32> proof = merkle_inclusion_proof(leaf_hashes, index);
  SCOPED_TRACE("leaf " + std::to_string(index) + " of " + std::to_string(size));

  ASSERT_TRUE(merkle_verify_inclusion(leaf, index, size, proof, root));

  for (size_t i = 0; i < proof.size(); ++i) {
    for (size_t byte : {size_t{0}, size_t{17}, size_t{31}}) {
      std::vector<Hash32> tampered = proof;
      tampered[i][byte] ^= 0x08;
      EXPECT_FALSE(merkle_verify_inclusion(leaf, index, size, tampered, root)) << "element " << i << " byte " << byte;
    }
  }

  for (size_t other_index = 0; other_index <= size + 1; ++other_index) {
    if (other_index == index) continue;
    EXPECT_FALSE(merkle_verify_inclusion(leaf, other_index, size, proof, root)) << "index " << other_index;
  }
  // A proof does not bind every other size: leaf 0 of 5 leaves has the same
  // path shape as leaf 0 of 6, 7 or 8. Sizes that change the path depth or
  // the leaf's range must fail.
  for (size_t other_size : {size_t{0}, size / 2, size * 2, size * 4}) {
    if (other_size == size) continue;
    EXPECT_FALSE(merkle_verify_inclusion(leaf, index, other_size, proof, root)) << "size " << other_size;
  }

  if (!proof.empty()) {
    std::vector<Hash32> shorter(proof.begin(), proof.end() - 1);
    EXPECT_FALSE(merkle_verify_inclusion(leaf, index, size, shorter, root)) << "last element removed";
    std::vector<Hash32> without_first(proof.begin() + 1, proof.end());
    EXPECT_FALSE(merkle_verify_inclusion(leaf, index, size, without_first, root)) << "first element removed";
  }
  std::vector<Hash32> longer = proof;
  longer.push_back(root);
  EXPECT_FALSE(merkle_verify_inclusion(leaf, index, size, longer, root)) << "root appended";
  std::vector<Hash32> prefixed = proof;
  prefixed.insert(prefixed.begin(), leaf);
  EXPECT_FALSE(merkle_verify_inclusion(leaf, index, size, prefixed, root)) << "leaf prepended";
  if (proof.size() >= 2) {
    std::vector<Hash32> swapped = proof;
    std::swap(swapped[0], swapped[1]);
    EXPECT_FALSE(merkle_verify_inclusion(leaf, index, size, swapped, root)) << "first two elements swapped";
  }

  Hash32 wrong_leaf = leaf;
  wrong_leaf[0] ^= 1;
  EXPECT_FALSE(merkle_verify_inclusion(wrong_leaf, index, size, proof, root)) << "wrong leaf";
  Hash32 wrong_root = root;
  wrong_root[31] ^= 1;
  EXPECT_FALSE(merkle_verify_inclusion(leaf, index, size, proof, wrong_root)) << "wrong root";
}

TEST(MerkleVectors, TamperedProofsRejected) {
  MerkleVectors vectors = read_vectors();
  const std::vector<Hash32> all_leaf_hashes = leaf_hashes_of(vectors.leaves);
  for (size_t size = 1; size <= all_leaf_hashes.size(); ++size) {
    std::vector<Hash32> leaf_hashes(all_leaf_hashes.begin(), all_leaf_hashes.begin() + static_cast<std::ptrdiff_t>(size));
    for (size_t index = 0; index < size; ++index) {
      expect_only_exact_proof_verifies(leaf_hashes, index, vectors.roots.at(size));
    }
  }
}

// Beyond the published vectors: every leaf of trees up to 40 leaves has a
// proof that verifies against the root and only at its own position.
TEST(Merkle, LargerTreesProveEveryLeaf) {
  for (size_t size = 1; size <= 40; ++size) {
    std::vector<Bytes> items;
    for (size_t i = 0; i < size; ++i) items.push_back(to_bytes("item " + std::to_string(i)));
    const std::vector<Hash32> leaf_hashes = leaf_hashes_of(items);
    const Hash32 root = merkle_root(items);
    for (size_t index = 0; index < size; ++index) {
      expect_only_exact_proof_verifies(leaf_hashes, index, root);
    }
  }
}

TEST(Merkle, EmptyAndOutOfRange) {
  EXPECT_EQ(to_hex(merkle_root({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::vector<Hash32> leaf_hashes = {merkle_leaf_hash(to_bytes("a")), merkle_leaf_hash(to_bytes("b"))};
  EXPECT_TRUE(merkle_inclusion_proof(leaf_hashes, 2).empty());
  EXPECT_TRUE(merkle_inclusion_proof({}, 0).empty());
  const Hash32 empty_root = merkle_root({});
  EXPECT_FALSE(merkle_verify_inclusion(empty_root, 0, 0, {}, empty_root));
}

TEST(Merkle, LeafAndNodeDomainsDiffer) {
  // A 64-byte item must not hash like the node made of its two halves.
  const Hash32 left = merkle_leaf_hash(to_bytes("left"));
  const Hash32 right = merkle_leaf_hash(to_bytes("right"));
  Bytes concatenated(left.begin(), left.end());
  concatenated.insert(concatenated.end(), right.begin(), right.end());
  EXPECT_NE(to_hex(merkle_leaf_hash(concatenated)), to_hex(merkle_node_hash(left, right)));
}

}  // namespace
}  // namespace automata::crypto
