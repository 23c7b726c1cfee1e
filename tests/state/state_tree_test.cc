#include "automata/state/state_tree.h"

#include "automata/crypto/sha256.h"
#include "automata/storage/database.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace automata::state {
namespace {

using Contents = std::map<Bytes, Bytes>;

// The root that the header's hashing rules give for contents, computed
// without the tree: split the sorted key hashes bit by bit until each group
// holds at most one leaf.
Hash32 reference_root(const std::vector<std::pair<Hash32, Hash32>>& leaves, size_t begin, size_t end, int depth) {
  if (begin == end) return Hash32{};
  if (end - begin == 1) {
    uint8_t tag = 0x00;
    return crypto::sha256_concat({ByteView(&tag, 1), leaves[begin].first, leaves[begin].second});
  }
  size_t mid = begin;
  while (mid < end && ((leaves[mid].first[static_cast<size_t>(depth / 8)] >> (7 - depth % 8)) & 1) == 0) ++mid;
  Hash32 left = reference_root(leaves, begin, mid, depth + 1);
  Hash32 right = reference_root(leaves, mid, end, depth + 1);
  uint8_t tag = 0x01;
  return crypto::sha256_concat({ByteView(&tag, 1), left, right});
}

Hash32 reference_root(const Contents& contents) {
  std::vector<std::pair<Hash32, Hash32>> leaves;
  for (const auto& [key, value] : contents) leaves.emplace_back(crypto::sha256(key), crypto::sha256(value));
  std::sort(leaves.begin(), leaves.end());
  return reference_root(leaves, 0, leaves.size(), 0);
}

class StateTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/automata_state_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    trees_.clear();
    dbs_.clear();
    std::filesystem::remove_all(dir_);
  }

  // Opens database number index (a subdirectory) and a tree over it,
  // replacing any open pair with that index.
  StateTree* open(int index, uint64_t keep_versions = 1000) {
    trees_[index].reset();
    dbs_[index].reset();
    Status s = storage::Database::open(dir_ + "/db" + std::to_string(index), &dbs_[index]);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    s = StateTree::open(dbs_[index].get(), keep_versions, &trees_[index]);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return trees_[index].get();
  }

  storage::Database* db(int index) { return dbs_[index].get(); }

  // Applies changes as the next version, writes the batch and commits.
  Hash32 commit(int index, const ChangeSet& changes) {
    StateTree* tree = trees_[index].get();
    storage::WriteBatch batch;
    Hash32 root{};
    Status s = tree->apply(tree->latest_version() + 1, changes, batch, &root);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    s = db(index)->write(batch, false);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    tree->commit_applied();
    return root;
  }

  void prune(int index) {
    storage::WriteBatch batch;
    Status s = trees_[index]->prune(batch);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_TRUE(db(index)->write(batch, false).is_ok());
  }

  size_t count_records(int index, storage::Column column) {
    size_t n = 0;
    auto it = db(index)->new_iterator(column);
    for (it->seek_to_first(); it->valid(); it->next()) ++n;
    return n;
  }

  std::string dir_;
  std::map<int, std::unique_ptr<storage::Database>> dbs_;
  std::map<int, std::unique_ptr<StateTree>> trees_;
};

Bytes key_bytes(int i) { return to_bytes("account/" + std::to_string(i)); }

std::optional<Bytes> lookup(const Contents& contents, const Bytes& key) {
  auto it = contents.find(key);
  if (it == contents.end()) return std::nullopt;
  return it->second;
}

void apply_to(Contents* contents, const ChangeSet& changes) {
  for (const auto& [key, value] : changes) {
    if (value) {
      (*contents)[key] = *value;
    } else {
      contents->erase(key);
    }
  }
}

TEST_F(StateTreeTest, EmptyTreeHasZeroRoot) {
  StateTree* tree = open(0);
  EXPECT_EQ(tree->latest_version(), 0u);
  EXPECT_EQ(tree->latest_root(), Hash32{});
  Hash32 root{};
  ASSERT_TRUE(tree->root_at(0, &root).is_ok());
  EXPECT_EQ(root, Hash32{});
  std::optional<Bytes> value;
  ASSERT_TRUE(tree->get_at(0, key_bytes(1), &value).is_ok());
  EXPECT_FALSE(value.has_value());
}

TEST_F(StateTreeTest, SingleKeyRootIsItsLeaf) {
  open(0);
  Hash32 root = commit(0, {{to_bytes("k"), to_bytes("v")}});
  EXPECT_EQ(root, reference_root(Contents{{to_bytes("k"), to_bytes("v")}}));
}

TEST_F(StateTreeTest, RandomHistoryMatchesModel) {
  StateTree* tree = open(0);
  std::mt19937_64 rng(7);
  constexpr int kKeySpace = 300;
  constexpr int kVersions = 40;
  std::vector<Contents> history{Contents{}};

  for (int version = 1; version <= kVersions; ++version) {
    ChangeSet changes;
    int count = static_cast<int>(rng() % 40) + 1;
    for (int i = 0; i < count; ++i) {
      Bytes key = key_bytes(static_cast<int>(rng() % kKeySpace));
      if (rng() % 4 == 0) {
        changes[key] = std::nullopt;
      } else {
        changes[key] = to_bytes("value-" + std::to_string(rng()));
      }
    }
    // Some versions delete a large share of the keys, so subtrees collapse.
    if (version % 10 == 0) {
      for (const auto& [key, value] : history.back()) {
        if (rng() % 3 != 0) changes[key] = std::nullopt;
      }
    }
    Contents next = history.back();
    apply_to(&next, changes);
    history.push_back(next);

    Hash32 root = commit(0, changes);
    ASSERT_EQ(root, reference_root(next)) << "version " << version;
    ASSERT_EQ(tree->latest_version(), static_cast<uint64_t>(version));

    for (int k = 0; k < kKeySpace; ++k) {
      std::optional<Bytes> value;
      ASSERT_TRUE(tree->get_latest(key_bytes(k), &value).is_ok());
      ASSERT_EQ(value, lookup(next, key_bytes(k))) << "key " << k << " at version " << version;
    }
  }

  for (int version = 0; version <= kVersions; ++version) {
    Hash32 root{};
    ASSERT_TRUE(tree->root_at(static_cast<uint64_t>(version), &root).is_ok());
    EXPECT_EQ(root, reference_root(history[static_cast<size_t>(version)])) << "version " << version;
    for (int k = 0; k < kKeySpace; ++k) {
      std::optional<Bytes> value;
      Status s = tree->get_at(static_cast<uint64_t>(version), key_bytes(k), &value);
      ASSERT_TRUE(s.is_ok()) << s.to_string();
      ASSERT_EQ(value, lookup(history[static_cast<size_t>(version)], key_bytes(k)))
          << "key " << k << " at version " << version;
    }
  }
}

TEST_F(StateTreeTest, RootIgnoresOrderAndBatchSplit) {
  Contents contents;
  for (int i = 0; i < 500; ++i) contents[key_bytes(i)] = to_bytes("v" + std::to_string(i * 7));

  open(0);
  ChangeSet all;
  for (const auto& [key, value] : contents) all[key] = value;
  Hash32 one_batch = commit(0, all);

  // Reverse order, in batches of 37, with keys first written with another
  // value and some extra keys that are deleted again.
  open(1);
  std::vector<Bytes> keys;
  for (const auto& [key, value] : contents) keys.push_back(key);
  std::reverse(keys.begin(), keys.end());
  ChangeSet batch;
  for (const Bytes& key : keys) {
    batch[key] = to_bytes("temporary");
    batch[to_bytes("extra/" + to_string(key))] = to_bytes("gone soon");
    if (batch.size() >= 37) {
      commit(1, batch);
      batch.clear();
    }
  }
  commit(1, batch);
  ChangeSet fix;
  for (const Bytes& key : keys) {
    fix[key] = contents[key];
    fix[to_bytes("extra/" + to_string(key))] = std::nullopt;
  }
  Hash32 many_batches = commit(1, fix);

  EXPECT_EQ(one_batch, many_batches);
  EXPECT_EQ(one_batch, reference_root(contents));
}

TEST_F(StateTreeTest, DeletingEverythingGivesEmptyRoot) {
  open(0);
  ChangeSet insert;
  ChangeSet erase;
  for (int i = 0; i < 50; ++i) {
    insert[key_bytes(i)] = to_bytes("x");
    erase[key_bytes(i)] = std::nullopt;
  }
  EXPECT_NE(commit(0, insert), Hash32{});
  EXPECT_EQ(commit(0, erase), Hash32{});
}

TEST_F(StateTreeTest, ApplyRejectsWrongVersion) {
  StateTree* tree = open(0);
  storage::WriteBatch batch;
  Hash32 root{};
  Status s = tree->apply(5, {{to_bytes("k"), to_bytes("v")}}, batch, &root);
  EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("5"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("expected 1"), std::string::npos) << s.message();
  EXPECT_EQ(batch.count(), 0u);
}

TEST_F(StateTreeTest, FutureVersionIsNotFound) {
  StateTree* tree = open(0);
  commit(0, {{to_bytes("k"), to_bytes("v")}});
  std::optional<Bytes> value;
  Status s = tree->get_at(2, to_bytes("k"), &value);
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find("0 to 1"), std::string::npos) << s.message();
}

TEST_F(StateTreeTest, ReopenKeepsRootAndValues) {
  Contents contents;
  Hash32 root{};
  {
    open(0);
    for (int version = 1; version <= 5; ++version) {
      ChangeSet changes;
      for (int i = 0; i < 20; ++i) changes[key_bytes(version * 10 + i)] = to_bytes(std::to_string(version));
      apply_to(&contents, changes);
      root = commit(0, changes);
    }
  }
  StateTree* tree = open(0);
  EXPECT_EQ(tree->latest_version(), 5u);
  EXPECT_EQ(tree->latest_root(), root);
  for (const auto& [key, value] : contents) {
    std::optional<Bytes> latest;
    ASSERT_TRUE(tree->get_latest(key, &latest).is_ok());
    EXPECT_EQ(latest, value);
    std::optional<Bytes> at;
    ASSERT_TRUE(tree->get_at(5, key, &at).is_ok());
    EXPECT_EQ(at, value);
  }
  // The reopened tree keeps building on the stored version.
  ChangeSet more{{to_bytes("after reopen"), to_bytes("1")}};
  apply_to(&contents, more);
  EXPECT_EQ(commit(0, more), reference_root(contents));
}

TEST_F(StateTreeTest, UnwrittenApplyIsInvisibleAfterReopen) {
  Hash32 committed_root{};
  {
    StateTree* tree = open(0);
    committed_root = commit(0, {{to_bytes("a"), to_bytes("1")}, {to_bytes("b"), to_bytes("2")}});
    storage::WriteBatch batch;
    Hash32 lost_root{};
    ChangeSet lost{{to_bytes("a"), std::nullopt}, {to_bytes("c"), to_bytes("3")}};
    ASSERT_TRUE(tree->apply(2, lost, batch, &lost_root).is_ok());
    EXPECT_NE(lost_root, committed_root);
    // The process stops here: the batch is never written.
  }
  StateTree* tree = open(0);
  EXPECT_EQ(tree->latest_version(), 1u);
  EXPECT_EQ(tree->latest_root(), committed_root);
  std::optional<Bytes> value;
  ASSERT_TRUE(tree->get_latest(to_bytes("a"), &value).is_ok());
  EXPECT_EQ(value, to_bytes("1"));
  ASSERT_TRUE(tree->get_latest(to_bytes("c"), &value).is_ok());
  EXPECT_FALSE(value.has_value());
  Hash32 root{};
  EXPECT_TRUE(tree->root_at(2, &root).is_not_found());
}

TEST_F(StateTreeTest, ApplyCanBeRetriedBeforeCommit) {
  StateTree* tree = open(0);
  commit(0, {{to_bytes("a"), to_bytes("1")}});
  storage::WriteBatch discarded;
  Hash32 root{};
  ASSERT_TRUE(tree->apply(2, {{to_bytes("x"), to_bytes("first try")}}, discarded, &root).is_ok());

  ChangeSet second{{to_bytes("y"), to_bytes("second try")}};
  Hash32 second_root = commit(0, second);
  EXPECT_EQ(second_root, reference_root(Contents{{to_bytes("a"), to_bytes("1")}, {to_bytes("y"), to_bytes("second try")}}));
  std::optional<Bytes> value;
  ASSERT_TRUE(tree->get_at(2, to_bytes("x"), &value).is_ok());
  EXPECT_FALSE(value.has_value());
}

// Two keys whose hashes share their first bits, found by search. Every
// stored node above the bit where they differ then has a single child.
std::pair<Bytes, Bytes> keys_sharing_prefix(int bits) {
  std::map<uint32_t, int> seen;
  for (int i = 0;; ++i) {
    Hash32 hash = crypto::sha256(key_bytes(i));
    uint32_t top = (uint32_t{hash[0]} << 24) | (uint32_t{hash[1]} << 16) | (uint32_t{hash[2]} << 8) | hash[3];
    uint32_t prefix = top >> (32 - bits);
    auto [it, inserted] = seen.emplace(prefix, i);
    if (!inserted) return {key_bytes(it->second), key_bytes(i)};
  }
}

TEST_F(StateTreeTest, SingleChildNodesReadAfterReopen) {
  auto [first, second] = keys_sharing_prefix(18);
  Contents contents{{first, to_bytes("one")}, {second, to_bytes("two")}};
  open(0);
  ChangeSet changes(contents.begin(), contents.end());
  ASSERT_EQ(commit(0, changes), reference_root(contents));

  // A fresh tree has an empty node cache, so every node comes from disk.
  StateTree* tree = open(0);
  for (const auto& [key, value] : contents) {
    std::optional<Bytes> read;
    Status s = tree->get_at(1, key, &read);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_EQ(read, value);

    StateProof proof;
    s = tree->prove(1, key, &proof, &read);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_EQ(read, value);
    EXPECT_GE(proof.siblings.size(), 18u);
    EXPECT_TRUE(verify_state_proof(reference_root(contents), key, value, proof));
  }

  contents[first] = to_bytes("changed");
  ASSERT_EQ(commit(0, ChangeSet{{first, to_bytes("changed")}}), reference_root(contents));

  // Deleting one key collapses the whole path into the other key's leaf.
  tree = open(0);
  contents.erase(second);
  ASSERT_EQ(commit(0, ChangeSet{{second, std::nullopt}}), reference_root(contents));
}

TEST_F(StateTreeTest, ManyKeysMatchModelAcrossReopens) {
  std::mt19937_64 rng(11);
  constexpr int kKeySpace = 5000;
  Contents contents;
  open(0);
  for (int version = 1; version <= 8; ++version) {
    ChangeSet changes;
    for (int i = 0; i < 1500; ++i) {
      Bytes key = key_bytes(static_cast<int>(rng() % kKeySpace));
      // Late versions mostly delete, so nodes shrink and collapse.
      if (rng() % 8 < static_cast<uint64_t>(version)) {
        changes[key] = std::nullopt;
      } else {
        changes[key] = to_bytes("v" + std::to_string(rng()));
      }
    }
    apply_to(&contents, changes);
    ASSERT_EQ(commit(0, changes), reference_root(contents)) << "version " << version;

    StateTree* tree = open(0);
    Hash32 root = reference_root(contents);
    for (int k = 0; k < kKeySpace; k += 37) {
      Bytes key = key_bytes(k);
      std::optional<Bytes> read;
      StateProof proof;
      Status s = tree->prove(static_cast<uint64_t>(version), key, &proof, &read);
      ASSERT_TRUE(s.is_ok()) << s.to_string();
      ASSERT_EQ(read, lookup(contents, key)) << "key " << k << " at version " << version;
      ASSERT_TRUE(verify_state_proof(root, key, read, proof)) << "key " << k << " at version " << version;
    }
  }
}

TEST_F(StateTreeTest, OpenRejectsOlderNodeLayout) {
  open(0);
  commit(0, ChangeSet{{key_bytes(1), to_bytes("v")}});
  storage::WriteBatch batch;
  batch.erase(storage::Column::kStateMeta, to_bytes("node_format"));
  ASSERT_TRUE(db(0)->write(batch, false).is_ok());

  std::unique_ptr<StateTree> reopened;
  Status s = StateTree::open(db(0), 100, &reopened);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.to_string().find("corruption"), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("layout 1"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace automata::state
