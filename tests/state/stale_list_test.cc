// The per-version stale list, its pruning (including the older one record
// per node form), and the two-thread apply path.
#include "automata/state/state_tree.h"
#include "automata/storage/database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace automata::state {
namespace {

Bytes key_bytes(int i) { return to_bytes("account/" + std::to_string(i)); }

Bytes big_endian(uint64_t value) {
  Bytes out(8);
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (56 - 8 * i));
  return out;
}

// Splits a stale list (length byte, then node key, repeated) into node keys.
// Written here from the format comment rather than through the tree code.
std::vector<Bytes> split_stale_list(ByteView list) {
  std::vector<Bytes> keys;
  size_t offset = 0;
  while (offset < list.size()) {
    size_t size = list[offset];
    EXPECT_LE(offset + 1 + size, list.size()) << "length byte at " << offset << " runs past the end";
    if (offset + 1 + size > list.size()) break;
    keys.emplace_back(list.begin() + static_cast<std::ptrdiff_t>(offset + 1),
                      list.begin() + static_cast<std::ptrdiff_t>(offset + 1 + size));
    offset += 1 + size;
  }
  return keys;
}

// A change set of count keys out of a pool of 3000: mostly updates and
// inserts, with every fifth key of some rounds deleted.
ChangeSet round_changes(int round, int count) {
  ChangeSet changes;
  for (int i = 0; i < count; ++i) {
    int index = (round * 797 + i * 7) % 3000;
    if (round > 1 && i % 5 == 0) {
      changes[key_bytes(index)] = std::nullopt;
    } else {
      changes[key_bytes(index)] = to_bytes("value " + std::to_string(index) + " round " + std::to_string(round));
    }
  }
  return changes;
}

class StaleListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/automata_state_stale_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    trees_.clear();
    dbs_.clear();
    std::filesystem::remove_all(dir_);
  }

  // Opens database number index (under dir_) and a tree over it.
  StateTree* open(size_t index, uint64_t keep_versions, int apply_threads) {
    if (dbs_.size() <= index) {
      dbs_.resize(index + 1);
      trees_.resize(index + 1);
    }
    trees_[index].reset();
    dbs_[index].reset();
    Status s = storage::Database::open(dir_ + "/db" + std::to_string(index), &dbs_[index]);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    StateTreeOptions options;
    options.keep_versions = keep_versions;
    options.apply_threads = apply_threads;
    s = StateTree::open(dbs_[index].get(), options, &trees_[index]);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return trees_[index].get();
  }

  Hash32 commit(size_t index, const ChangeSet& changes, size_t* records = nullptr, size_t* bytes = nullptr) {
    storage::WriteBatch batch;
    Hash32 root{};
    StateTree* tree = trees_[index].get();
    Status s = tree->apply(tree->latest_version() + 1, changes, batch, &root);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    if (records != nullptr) *records = batch.count();
    if (bytes != nullptr) *bytes = batch.size_bytes();
    EXPECT_TRUE(dbs_[index]->write(batch, false).is_ok());
    tree->commit_applied();
    return root;
  }

  Status prune(size_t index) {
    storage::WriteBatch batch;
    Status s = trees_[index]->prune(batch);
    if (!s.is_ok()) return s;
    return dbs_[index]->write(batch, false);
  }

  std::vector<std::pair<Bytes, Bytes>> records(size_t index, storage::Column column) {
    std::vector<std::pair<Bytes, Bytes>> out;
    auto it = dbs_[index]->new_iterator(column);
    for (it->seek_to_first(); it->valid(); it->next()) {
      out.emplace_back(Bytes(it->key().begin(), it->key().end()), Bytes(it->value().begin(), it->value().end()));
    }
    EXPECT_TRUE(it->status().is_ok());
    return out;
  }

  // The stale-list records of database index, by the version they name.
  std::map<uint64_t, Bytes> stale_lists(size_t index) {
    std::map<uint64_t, Bytes> out;
    for (auto& [key, value] : records(index, storage::Column::kStateMeta)) {
      if (key.empty() || key[0] != 's') continue;
      EXPECT_EQ(key.size(), 9u) << "stale record " << to_hex(key) << " is not a per-version list";
      out[storage::decode_height(ByteView(key).subspan(1))] = value;
    }
    return out;
  }

  bool has_node(size_t index, ByteView node_key) {
    Bytes value;
    Status s = dbs_[index]->get(storage::Column::kStateNodes, node_key, &value);
    EXPECT_TRUE(s.is_ok() || s.is_not_found()) << s.to_string();
    return s.is_ok();
  }

  std::string dir_;
  std::vector<std::unique_ptr<storage::Database>> dbs_;
  std::vector<std::unique_ptr<StateTree>> trees_;
};

TEST_F(StaleListTest, OneStaleRecordPerVersion) {
  open(0, 100, 1);
  for (int round = 1; round <= 4; ++round) commit(0, round_changes(round, 400));

  std::map<uint64_t, Bytes> lists = stale_lists(0);
  // Version 1 built the tree from nothing, so it replaced no node.
  ASSERT_EQ(lists.size(), 3u);
  for (uint64_t version = 2; version <= 4; ++version) {
    ASSERT_EQ(lists.count(version), 1u) << "version " << version;
    std::vector<Bytes> keys = split_stale_list(lists[version]);
    EXPECT_GT(keys.size(), 100u) << "version " << version;
    for (const Bytes& node_key : keys) {
      // Node keys start with the version that created the node, which is
      // older than the version that replaced it, and the node still exists.
      uint64_t created = storage::decode_height(node_key);
      EXPECT_LT(created, version) << to_hex(node_key);
      EXPECT_TRUE(has_node(0, node_key)) << to_hex(node_key);
    }
  }
}

TEST_F(StaleListTest, PruneDeletesListedNodes) {
  open(0, 2, 1);
  for (int round = 1; round <= 3; ++round) commit(0, round_changes(round, 400));
  std::map<uint64_t, Bytes> lists = stale_lists(0);
  ASSERT_EQ(lists.count(2), 1u);
  std::vector<Bytes> replaced_by_2 = split_stale_list(lists[2]);
  std::vector<Bytes> replaced_by_3 = split_stale_list(lists[3]);

  // Latest 3, keep 2: version 1 goes, so nodes replaced at version 2 are
  // unused and the nodes replaced at version 3 still serve version 2.
  ASSERT_TRUE(prune(0).is_ok());
  for (const Bytes& node_key : replaced_by_2) EXPECT_FALSE(has_node(0, node_key)) << to_hex(node_key);
  for (const Bytes& node_key : replaced_by_3) EXPECT_TRUE(has_node(0, node_key)) << to_hex(node_key);
  lists = stale_lists(0);
  EXPECT_EQ(lists.count(2), 0u);
  EXPECT_EQ(lists.count(3), 1u);

  // Version 2 stays readable through the nodes listed for version 3.
  StateTree* tree = trees_[0].get();
  Hash32 root{};
  ASSERT_TRUE(tree->root_at(2, &root).is_ok());
  ChangeSet round2 = round_changes(2, 400);
  for (const auto& [key, value] : round2) {
    std::optional<Bytes> read;
    ASSERT_TRUE(tree->get_at(2, key, &read).is_ok());
    EXPECT_EQ(read, value) << to_string(key);
    StateProof proof;
    ASSERT_TRUE(tree->prove(2, key, &proof, &read).is_ok());
    EXPECT_TRUE(verify_state_proof(root, key, read, proof)) << to_string(key);
  }
}

TEST_F(StaleListTest, PruneReadsPerNodeRecords) {
  open(0, 1, 1);
  for (int round = 1; round <= 4; ++round) commit(0, round_changes(round, 300));

  // Rewrite the lists of versions 2 and 3 in the older form, one record
  // per node ('s' + version + node key -> empty), as older builds wrote.
  std::map<uint64_t, Bytes> lists = stale_lists(0);
  std::vector<Bytes> listed;
  storage::WriteBatch rewrite;
  for (uint64_t version : {2u, 3u}) {
    Bytes list_key{'s'};
    Bytes height = big_endian(version);
    list_key.insert(list_key.end(), height.begin(), height.end());
    rewrite.erase(storage::Column::kStateMeta, list_key);
    for (const Bytes& node_key : split_stale_list(lists[version])) {
      Bytes record = list_key;
      record.insert(record.end(), node_key.begin(), node_key.end());
      rewrite.put(storage::Column::kStateMeta, record, {});
      listed.push_back(node_key);
    }
  }
  ASSERT_TRUE(dbs_[0]->write(rewrite, false).is_ok());

  // Reopen so nothing cached hides a missing node, then prune through
  // version 3: nodes replaced at versions 2, 3 and 4 all go.
  StateTree* tree = open(0, 1, 1);
  ASSERT_TRUE(prune(0).is_ok());
  EXPECT_EQ(tree->oldest_version(), 4u);
  for (const Bytes& node_key : listed) EXPECT_FALSE(has_node(0, node_key)) << to_hex(node_key);
  for (const Bytes& node_key : split_stale_list(lists[4])) EXPECT_FALSE(has_node(0, node_key)) << to_hex(node_key);
  for (auto& [key, value] : records(0, storage::Column::kStateMeta)) {
    EXPECT_NE(key[0], 's') << "stale record " << to_hex(key) << " survived the prune";
  }

  ChangeSet round4 = round_changes(4, 300);
  for (const auto& [key, value] : round4) {
    std::optional<Bytes> read;
    ASSERT_TRUE(tree->get_at(4, key, &read).is_ok());
    EXPECT_EQ(read, value) << to_string(key);
  }
}

TEST_F(StaleListTest, MalformedStaleListIsCorruption) {
  open(0, 1, 1);
  for (int round = 1; round <= 3; ++round) commit(0, round_changes(round, 50));
  Bytes list_key{'s'};
  Bytes height = big_endian(2);
  list_key.insert(list_key.end(), height.begin(), height.end());
  // A length byte of 80 with only 2 bytes after it.
  storage::WriteBatch batch;
  batch.put(storage::Column::kStateMeta, list_key, Bytes{80, 1, 2});
  ASSERT_TRUE(dbs_[0]->write(batch, false).is_ok());

  Status s = prune(0);
  EXPECT_EQ(s.kind(), Status::Kind::kCorruption) << s.to_string();
  EXPECT_NE(s.message().find("stale list"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(to_hex(list_key)), std::string::npos) << s.message();
}

TEST_F(StaleListTest, TwoThreadApplyMatchesOneThread) {
  open(0, 3, 1);
  open(1, 3, 2);
  for (int round = 1; round <= 8; ++round) {
    // Round 1 starts from an empty root, which always runs on one thread;
    // later rounds take the two-thread path (256 or more changes).
    ChangeSet changes = round_changes(round, round == 5 ? 40 : 900);
    size_t records_one = 0;
    size_t bytes_one = 0;
    size_t records_two = 0;
    size_t bytes_two = 0;
    Hash32 root_one = commit(0, changes, &records_one, &bytes_one);
    Hash32 root_two = commit(1, changes, &records_two, &bytes_two);
    EXPECT_EQ(root_one, root_two) << "round " << round;
    EXPECT_EQ(records_one, records_two) << "round " << round;
    EXPECT_EQ(bytes_one, bytes_two) << "round " << round;
    ASSERT_TRUE(prune(0).is_ok());
    ASSERT_TRUE(prune(1).is_ok());
  }
  for (storage::Column column :
       {storage::Column::kStateNodes, storage::Column::kStateValues, storage::Column::kStateMeta}) {
    auto one = records(0, column);
    auto two = records(1, column);
    ASSERT_EQ(one.size(), two.size()) << storage::column_name(column);
    for (size_t i = 0; i < one.size(); ++i) {
      ASSERT_EQ(one[i].first, two[i].first) << storage::column_name(column) << " record " << i;
      ASSERT_EQ(one[i].second, two[i].second) << storage::column_name(column) << " " << to_hex(one[i].first);
    }
  }

  // The two-thread tree reads and proves its retained versions after a reopen.
  StateTree* tree = open(1, 3, 2);
  Hash32 root{};
  ASSERT_TRUE(tree->root_at(7, &root).is_ok());
  ChangeSet round7 = round_changes(7, 900);
  for (const auto& [key, value] : round7) {
    std::optional<Bytes> read;
    StateProof proof;
    ASSERT_TRUE(tree->prove(7, key, &proof, &read).is_ok());
    // Round 8 may have rewritten the key, but version 7 still shows round 7.
    EXPECT_EQ(read, value) << to_string(key);
    EXPECT_TRUE(verify_state_proof(root, key, read, proof)) << to_string(key);
  }
}

}  // namespace
}  // namespace automata::state
