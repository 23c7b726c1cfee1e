#include "automata/storage/database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace automata::storage {
namespace {

// A fresh directory under /tmp for each test, removed afterwards.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/automata_storage_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Database> open_db() {
    std::unique_ptr<Database> db;
    Status s = Database::open(path_, &db);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return db;
  }

  std::string dir_;
  std::string path_;
};

std::string get_string(Database& db, Column column, std::string_view key) {
  Bytes value;
  Status s = db.get(column, as_view(key), &value);
  if (!s.is_ok()) return "<" + s.to_string() + ">";
  return to_string(value);
}

TEST(Height, EncodesBigEndian) {
  Bytes bytes = encode_height(0x0102030405060708ULL);
  EXPECT_EQ(to_hex(bytes), "0102030405060708");
  EXPECT_EQ(decode_height(bytes), 0x0102030405060708ULL);
  EXPECT_EQ(decode_height(encode_height(0)), 0u);
  EXPECT_EQ(decode_height(encode_height(UINT64_MAX)), UINT64_MAX);
}

TEST(Height, ShortInputDecodesToZero) {
  Bytes short_bytes{1, 2, 3};
  EXPECT_EQ(decode_height(short_bytes), 0u);
}

TEST(ColumnNames, AreStable) {
  // These names are on disk in every existing database.
  EXPECT_EQ(column_name(Column::kDefault), "default");
  EXPECT_EQ(column_name(Column::kMeta), "meta");
  EXPECT_EQ(column_name(Column::kBlocks), "blocks");
  EXPECT_EQ(column_name(Column::kBlockHashes), "block_hashes");
  EXPECT_EQ(column_name(Column::kResults), "results");
  EXPECT_EQ(column_name(Column::kTxIndex), "tx_index");
  EXPECT_EQ(column_name(Column::kStateNodes), "state_nodes");
  EXPECT_EQ(column_name(Column::kStateValues), "state_values");
  EXPECT_EQ(column_name(Column::kStateMeta), "state_meta");
}

TEST_F(DatabaseTest, MissingKeyIsNotFound) {
  auto db = open_db();
  Bytes value;
  Status s = db->get(Column::kMeta, as_view("absent"), &value);
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find("meta"), std::string::npos) << s.message();
}

TEST_F(DatabaseTest, ColumnFamiliesAreIsolated) {
  auto db = open_db();
  for (int i = 0; i < kColumnCount; ++i) {
    WriteBatch batch;
    batch.put(static_cast<Column>(i), as_view("key"), as_view("value-" + std::to_string(i)));
    ASSERT_TRUE(db->write(batch, false).is_ok());
  }
  for (int i = 0; i < kColumnCount; ++i) {
    EXPECT_EQ(get_string(*db, static_cast<Column>(i), "key"), "value-" + std::to_string(i));
  }

  WriteBatch erase;
  erase.erase(Column::kBlocks, as_view("key"));
  ASSERT_TRUE(db->write(erase, false).is_ok());
  Bytes value;
  EXPECT_TRUE(db->get(Column::kBlocks, as_view("key"), &value).is_not_found());
  EXPECT_EQ(get_string(*db, Column::kResults, "key"), "value-4");
}

TEST_F(DatabaseTest, BatchIsInvisibleUntilWritten) {
  auto db = open_db();
  WriteBatch batch;
  batch.put(Column::kMeta, as_view("a"), as_view("1"));
  batch.put(Column::kBlocks, as_view("b"), as_view("2"));
  EXPECT_EQ(batch.count(), 2u);
  EXPECT_GT(batch.size_bytes(), 0u);

  Bytes value;
  EXPECT_TRUE(db->get(Column::kMeta, as_view("a"), &value).is_not_found());
  ASSERT_TRUE(db->write(batch, true).is_ok());
  EXPECT_EQ(get_string(*db, Column::kMeta, "a"), "1");
  EXPECT_EQ(get_string(*db, Column::kBlocks, "b"), "2");

  batch.clear();
  EXPECT_EQ(batch.count(), 0u);
}

TEST_F(DatabaseTest, BatchAppliesPutsAndDeletesTogether) {
  auto db = open_db();
  WriteBatch first;
  first.put(Column::kStateValues, as_view("old"), as_view("x"));
  ASSERT_TRUE(db->write(first, false).is_ok());

  // An iterator opened before the write sees neither half of the batch.
  auto before = db->new_iterator(Column::kStateValues);
  WriteBatch second;
  second.erase(Column::kStateValues, as_view("old"));
  second.put(Column::kStateValues, as_view("new"), as_view("y"));
  ASSERT_TRUE(db->write(second, false).is_ok());

  std::vector<std::string> seen_before;
  for (before->seek_to_first(); before->valid(); before->next()) seen_before.push_back(to_string(before->key()));
  EXPECT_EQ(seen_before, std::vector<std::string>{"old"});

  auto after = db->new_iterator(Column::kStateValues);
  std::vector<std::string> seen_after;
  for (after->seek_to_first(); after->valid(); after->next()) seen_after.push_back(to_string(after->key()));
  EXPECT_EQ(seen_after, std::vector<std::string>{"new"});
}

TEST_F(DatabaseTest, ReopenKeepsSyncedWrites) {
  {
    auto db = open_db();
    WriteBatch batch;
    for (int i = 0; i < 100; ++i) {
      batch.put(Column::kBlocks, encode_height(static_cast<uint64_t>(i)), as_view("block-" + std::to_string(i)));
    }
    ASSERT_TRUE(db->write(batch, true).is_ok());
  }
  auto db = open_db();
  for (int i = 0; i < 100; ++i) {
    Bytes value;
    ASSERT_TRUE(db->get(Column::kBlocks, encode_height(static_cast<uint64_t>(i)), &value).is_ok()) << i;
    EXPECT_EQ(to_string(value), "block-" + std::to_string(i));
  }
}

TEST_F(DatabaseTest, ReopenAfterFlushKeepsWrites) {
  {
    auto db = open_db();
    WriteBatch batch;
    batch.put(Column::kTxIndex, as_view("tx"), as_view("location"));
    ASSERT_TRUE(db->write(batch, false).is_ok());
    ASSERT_TRUE(db->flush().is_ok());
  }
  auto db = open_db();
  EXPECT_EQ(get_string(*db, Column::kTxIndex, "tx"), "location");
}

TEST_F(DatabaseTest, IteratorVisitsHeightsInOrder) {
  auto db = open_db();
  WriteBatch batch;
  // Inserted out of order, and with heights whose little-endian bytes would
  // sort differently.
  std::vector<uint64_t> heights = {300, 1, 256, 2, 65536, 255, 0};
  for (uint64_t h : heights) batch.put(Column::kBlocks, encode_height(h), as_view(std::to_string(h)));
  ASSERT_TRUE(db->write(batch, false).is_ok());

  std::vector<uint64_t> seen;
  auto it = db->new_iterator(Column::kBlocks);
  for (it->seek_to_first(); it->valid(); it->next()) {
    seen.push_back(decode_height(it->key()));
    EXPECT_EQ(to_string(it->value()), std::to_string(seen.back()));
  }
  EXPECT_TRUE(it->status().is_ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 255, 256, 300, 65536}));

  it->seek(encode_height(257));
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(decode_height(it->key()), 300u);
}

TEST_F(DatabaseTest, IteratorStaysInItsColumn) {
  auto db = open_db();
  WriteBatch batch;
  batch.put(Column::kMeta, as_view("m"), as_view("1"));
  batch.put(Column::kResults, as_view("r"), as_view("2"));
  ASSERT_TRUE(db->write(batch, false).is_ok());

  auto it = db->new_iterator(Column::kResults);
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(to_string(it->key()), "r");
  it->next();
  EXPECT_FALSE(it->valid());
}

TEST_F(DatabaseTest, CompactDropsDeletedData) {
  auto db = open_db();
  WriteBatch batch;
  Bytes big(4096, 0xab);
  for (int i = 0; i < 500; ++i) batch.put(Column::kStateNodes, encode_height(static_cast<uint64_t>(i)), big);
  ASSERT_TRUE(db->write(batch, false).is_ok());
  ASSERT_TRUE(db->flush().is_ok());
  uint64_t full = db->estimate_size_bytes(Column::kStateNodes);
  EXPECT_GT(full, 500u * 4096u / 2);

  WriteBatch erase;
  for (int i = 0; i < 500; ++i) erase.erase(Column::kStateNodes, encode_height(static_cast<uint64_t>(i)));
  ASSERT_TRUE(db->write(erase, false).is_ok());
  ASSERT_TRUE(db->flush().is_ok());
  ASSERT_TRUE(db->compact(Column::kStateNodes).is_ok());
  EXPECT_LT(db->estimate_size_bytes(Column::kStateNodes), full / 10);
}

TEST_F(DatabaseTest, OpenOnAFileNamesThePath) {
  std::string file = dir_ + "/not_a_directory";
  std::ofstream(file) << "x";
  std::unique_ptr<Database> db;
  Status s = Database::open(file + "/db", &db);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(file), std::string::npos) << s.message();
  EXPECT_EQ(db, nullptr);
}

}  // namespace
}  // namespace automata::storage
