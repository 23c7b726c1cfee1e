#include "automata/crypto/sha256.h"
#include "automata/state/state_tree.h"
#include "automata/storage/database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace automata::state {
namespace {

class ProofPruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/automata_state_proof_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    tree_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  StateTree* open(uint64_t keep_versions) {
    tree_.reset();
    db_.reset();
    Status s = storage::Database::open(dir_ + "/db", &db_);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    s = StateTree::open(db_.get(), keep_versions, &tree_);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return tree_.get();
  }

  Hash32 commit(const ChangeSet& changes) {
    storage::WriteBatch batch;
    Hash32 root{};
    Status s = tree_->apply(tree_->latest_version() + 1, changes, batch, &root);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_TRUE(db_->write(batch, false).is_ok());
    tree_->commit_applied();
    return root;
  }

  void prune() {
    storage::WriteBatch batch;
    Status s = tree_->prune(batch);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_TRUE(db_->write(batch, false).is_ok());
  }

  size_t count_records(storage::Column column) {
    size_t n = 0;
    auto it = db_->new_iterator(column);
    for (it->seek_to_first(); it->valid(); it->next()) ++n;
    return n;
  }

  std::string dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<StateTree> tree_;
};

Bytes key_bytes(int i) { return to_bytes("balance/" + std::to_string(i)); }

// Number of leading bits that a and b share.
int common_prefix_bits(const Hash32& a, const Hash32& b) {
  for (int i = 0; i < 256; ++i) {
    int bit_a = (a[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1;
    int bit_b = (b[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1;
    if (bit_a != bit_b) return i;
  }
  return 256;
}

// Checks that proof verifies for (key, value) and that every single
// corruption of it is rejected.
void expect_proof_sound(const Hash32& root, const Bytes& key, const std::optional<Bytes>& value,
                        const StateProof& proof) {
  ASSERT_TRUE(verify_state_proof(root, key, value, proof)) << "key " << to_string(key);

  for (size_t i = 0; i < proof.siblings.size(); ++i) {
    for (size_t byte : {size_t{0}, size_t{31}}) {
      StateProof bad = proof;
      bad.siblings[i][byte] ^= 0x01;
      EXPECT_FALSE(verify_state_proof(root, key, value, bad)) << "sibling " << i << " byte " << byte;
    }
  }

  Hash32 bad_root = root;
  bad_root[5] ^= 0x80;
  EXPECT_FALSE(verify_state_proof(bad_root, key, value, proof)) << "flipped root";

  Bytes other_key = key;
  other_key.back() ^= 0x01;
  EXPECT_FALSE(verify_state_proof(root, other_key, value, proof)) << "other key";

  if (value) {
    Bytes other_value = *value;
    other_value.push_back('!');
    EXPECT_FALSE(verify_state_proof(root, key, other_value, proof)) << "other value";
    EXPECT_FALSE(verify_state_proof(root, key, std::nullopt, proof)) << "claimed absent";
  } else {
    EXPECT_FALSE(verify_state_proof(root, key, to_bytes("invented"), proof)) << "claimed present";
  }

  if (proof.leaf_key_hash) {
    StateProof bad = proof;
    (*bad.leaf_key_hash)[31] ^= 0x01;
    EXPECT_FALSE(verify_state_proof(root, key, value, bad)) << "flipped leaf key hash";
    bad = proof;
    (*bad.leaf_value_hash)[0] ^= 0x01;
    EXPECT_FALSE(verify_state_proof(root, key, value, bad)) << "flipped leaf value hash";
    bad = proof;
    bad.leaf_key_hash.reset();
    bad.leaf_value_hash.reset();
    EXPECT_FALSE(verify_state_proof(root, key, value, bad)) << "dropped leaf";
  }
  if (!proof.siblings.empty()) {
    StateProof bad = proof;
    bad.siblings.pop_back();
    EXPECT_FALSE(verify_state_proof(root, key, value, bad)) << "dropped last sibling";
  }
}

TEST_F(ProofPruneTest, EmptyTreeProvesAbsence) {
  StateTree* tree = open(100);
  StateProof proof;
  std::optional<Bytes> value;
  ASSERT_TRUE(tree->prove(0, key_bytes(1), &proof, &value).is_ok());
  EXPECT_FALSE(value.has_value());
  EXPECT_TRUE(proof.siblings.empty());
  EXPECT_FALSE(proof.leaf_key_hash.has_value());
  expect_proof_sound(Hash32{}, key_bytes(1), std::nullopt, proof);
}

TEST_F(ProofPruneTest, SingleLeafTreeProvesBoth) {
  StateTree* tree = open(100);
  Hash32 root = commit({{key_bytes(1), to_bytes("one")}});

  StateProof present;
  std::optional<Bytes> value;
  ASSERT_TRUE(tree->prove(1, key_bytes(1), &present, &value).is_ok());
  EXPECT_EQ(value, to_bytes("one"));
  EXPECT_TRUE(present.siblings.empty());
  expect_proof_sound(root, key_bytes(1), value, present);

  StateProof absent;
  ASSERT_TRUE(tree->prove(1, key_bytes(2), &absent, &value).is_ok());
  EXPECT_FALSE(value.has_value());
  ASSERT_TRUE(absent.leaf_key_hash.has_value());
  EXPECT_EQ(*absent.leaf_key_hash, crypto::sha256(key_bytes(1)));
  expect_proof_sound(root, key_bytes(2), std::nullopt, absent);
}

TEST_F(ProofPruneTest, InclusionProofsVerify) {
  StateTree* tree = open(100);
  ChangeSet changes;
  for (int i = 0; i < 200; ++i) changes[key_bytes(i)] = to_bytes("amount " + std::to_string(i * 3));
  Hash32 root = commit(changes);

  for (int i = 0; i < 200; i += 7) {
    StateProof proof;
    std::optional<Bytes> value;
    ASSERT_TRUE(tree->prove(1, key_bytes(i), &proof, &value).is_ok());
    ASSERT_EQ(value, to_bytes("amount " + std::to_string(i * 3)));
    EXPECT_EQ(proof.key_hash, crypto::sha256(key_bytes(i)));
    // 200 random hashes need about 8 levels to separate, far fewer than 256.
    EXPECT_LT(proof.siblings.size(), 40u);
    expect_proof_sound(root, key_bytes(i), value, proof);
  }
}

TEST_F(ProofPruneTest, ExclusionProofsVerify) {
  StateTree* tree = open(100);
  ChangeSet changes;
  std::vector<Hash32> present;
  for (int i = 0; i < 200; ++i) {
    changes[key_bytes(i)] = to_bytes("v");
    present.push_back(crypto::sha256(key_bytes(i)));
  }
  Hash32 root = commit(changes);

  // Absent keys whose hashes share at least 10 leading bits with a present
  // key, so their paths run deep into the tree.
  std::vector<Bytes> deep_absent;
  for (int i = 0; deep_absent.size() < 12 && i < 200000; ++i) {
    Bytes candidate = to_bytes("absent/" + std::to_string(i));
    Hash32 h = crypto::sha256(candidate);
    for (const Hash32& p : present) {
      if (common_prefix_bits(h, p) >= 10) {
        deep_absent.push_back(candidate);
        break;
      }
    }
  }
  ASSERT_EQ(deep_absent.size(), 12u);

  int ended_at_leaf = 0;
  int ended_at_empty = 0;
  std::vector<Bytes> absent = deep_absent;
  for (int i = 0; i < 30; ++i) absent.push_back(to_bytes("missing/" + std::to_string(i)));
  for (const Bytes& key : absent) {
    StateProof proof;
    std::optional<Bytes> value;
    ASSERT_TRUE(tree->prove(1, key, &proof, &value).is_ok());
    EXPECT_FALSE(value.has_value());
    if (proof.leaf_key_hash) {
      EXPECT_NE(*proof.leaf_key_hash, proof.key_hash);
      ++ended_at_leaf;
    } else {
      ++ended_at_empty;
    }
    expect_proof_sound(root, key, std::nullopt, proof);
  }
  EXPECT_GT(ended_at_leaf, 0);
  EXPECT_GT(ended_at_empty, 0);

  for (const Bytes& key : deep_absent) {
    StateProof proof;
    std::optional<Bytes> value;
    ASSERT_TRUE(tree->prove(1, key, &proof, &value).is_ok());
    // The path shares 10 bits with a present key, so it cannot reach an
    // empty subtree within those 10 levels: it ends at a leaf or deeper.
    EXPECT_TRUE(proof.leaf_key_hash.has_value() || proof.siblings.size() > 10) << to_string(key);
  }
}

TEST_F(ProofPruneTest, ProofAtOldVersionUsesOldRoot) {
  StateTree* tree = open(100);
  Hash32 first = commit({{key_bytes(1), to_bytes("before")}, {key_bytes(2), to_bytes("x")}});
  Hash32 second = commit({{key_bytes(1), to_bytes("after")}});

  StateProof proof;
  std::optional<Bytes> value;
  ASSERT_TRUE(tree->prove(1, key_bytes(1), &proof, &value).is_ok());
  EXPECT_EQ(value, to_bytes("before"));
  EXPECT_TRUE(verify_state_proof(first, key_bytes(1), value, proof));
  EXPECT_FALSE(verify_state_proof(second, key_bytes(1), value, proof));
}

TEST_F(ProofPruneTest, ForgedProofShapesAreRejected) {
  StateTree* tree = open(100);
  ChangeSet changes;
  for (int i = 0; i < 20; ++i) changes[key_bytes(i)] = to_bytes("v");
  Hash32 root = commit(changes);
  StateProof proof;
  std::optional<Bytes> value;
  ASSERT_TRUE(tree->prove(1, key_bytes(3), &proof, &value).is_ok());

  StateProof too_long = proof;
  too_long.siblings.resize(257);
  EXPECT_FALSE(verify_state_proof(root, key_bytes(3), value, too_long));

  StateProof half_leaf = proof;
  half_leaf.leaf_value_hash.reset();
  EXPECT_FALSE(verify_state_proof(root, key_bytes(3), value, half_leaf));

  StateProof wrong_key_hash = proof;
  wrong_key_hash.key_hash[0] ^= 0x01;
  EXPECT_FALSE(verify_state_proof(root, key_bytes(3), value, wrong_key_hash));
}

TEST_F(ProofPruneTest, PruneDropsOldVersionsKeepsRecent) {
  constexpr uint64_t kKeep = 3;
  StateTree* tree = open(kKeep);
  std::vector<std::map<int, std::string>> history(1);
  for (int version = 1; version <= 12; ++version) {
    ChangeSet changes;
    std::map<int, std::string> next = history.back();
    for (int i = 0; i < 60; ++i) {
      std::string value = "v" + std::to_string(version) + "/" + std::to_string(i);
      changes[key_bytes(i)] = to_bytes(value);
      next[i] = value;
    }
    commit(changes);
    history.push_back(next);
  }
  size_t nodes_before = count_records(storage::Column::kStateNodes);
  size_t meta_before = count_records(storage::Column::kStateMeta);
  prune();

  EXPECT_EQ(tree->oldest_version(), 12 - kKeep + 1);
  for (uint64_t version = 0; version <= 12 - kKeep; ++version) {
    Hash32 root{};
    Status s = tree->root_at(version, &root);
    EXPECT_TRUE(s.is_not_found()) << "version " << version << ": " << s.to_string();
    EXPECT_NE(s.message().find("10 to 12"), std::string::npos) << s.message();
    std::optional<Bytes> value;
    EXPECT_TRUE(tree->get_at(version, key_bytes(0), &value).is_not_found());
    StateProof proof;
    EXPECT_TRUE(tree->prove(version, key_bytes(0), &proof, &value).is_not_found());
  }
  for (uint64_t version = 12 - kKeep + 1; version <= 12; ++version) {
    Hash32 root{};
    ASSERT_TRUE(tree->root_at(version, &root).is_ok()) << version;
    for (int i = 0; i < 60; ++i) {
      std::optional<Bytes> value;
      Status s = tree->get_at(version, key_bytes(i), &value);
      ASSERT_TRUE(s.is_ok()) << s.to_string();
      EXPECT_EQ(value, to_bytes(history[version][i]));
      StateProof proof;
      ASSERT_TRUE(tree->prove(version, key_bytes(i), &proof, &value).is_ok());
      EXPECT_TRUE(verify_state_proof(root, key_bytes(i), value, proof));
    }
  }

  // Every version rewrote all 60 leaves, so the 12 stored versions had about
  // 12 full copies of the tree and only 3 remain after pruning.
  size_t nodes_after = count_records(storage::Column::kStateNodes);
  EXPECT_LT(nodes_after * 3, nodes_before) << nodes_before << " -> " << nodes_after;
  EXPECT_LT(count_records(storage::Column::kStateMeta), meta_before);

  // The stale index holds only entries for versions after the pruned ones.
  auto it = db_->new_iterator(storage::Column::kStateMeta);
  for (it->seek(to_bytes("s")); it->valid() && it->key()[0] == 's'; it->next()) {
    EXPECT_GT(storage::decode_height(it->key().subspan(1)), 12 - kKeep + 1);
  }

  // Pruning again without new versions changes nothing.
  prune();
  EXPECT_EQ(count_records(storage::Column::kStateNodes), nodes_after);
}

TEST_F(ProofPruneTest, PruneShrinksDatabaseOnDisk) {
  open(2);
  Bytes big(512, 0x5a);
  for (int version = 1; version <= 20; ++version) {
    ChangeSet changes;
    for (int i = 0; i < 200; ++i) {
      big[0] = static_cast<uint8_t>(version);
      changes[key_bytes(i)] = big;
    }
    commit(changes);
  }
  ASSERT_TRUE(db_->flush().is_ok());
  ASSERT_TRUE(db_->compact(storage::Column::kStateNodes).is_ok());
  uint64_t before = db_->estimate_size_bytes(storage::Column::kStateNodes);
  prune();
  ASSERT_TRUE(db_->flush().is_ok());
  ASSERT_TRUE(db_->compact(storage::Column::kStateNodes).is_ok());
  uint64_t after = db_->estimate_size_bytes(storage::Column::kStateNodes);
  EXPECT_LT(after * 4, before) << before << " -> " << after;
}

TEST_F(ProofPruneTest, PrunedRangeSurvivesReopen) {
  open(2);
  for (int version = 1; version <= 6; ++version) commit({{key_bytes(version), to_bytes("x")}});
  prune();
  StateTree* tree = open(2);
  EXPECT_EQ(tree->latest_version(), 6u);
  EXPECT_EQ(tree->oldest_version(), 5u);
  Hash32 root{};
  EXPECT_TRUE(tree->root_at(4, &root).is_not_found());
  EXPECT_TRUE(tree->root_at(5, &root).is_ok());
}

}  // namespace
}  // namespace automata::state
