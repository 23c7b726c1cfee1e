// FragmentStore on a real RocksDB in a temp directory.
#include "automata/node/fragment_store.h"
#include "node/node_test_util.h"

#include <gtest/gtest.h>

namespace automata::node {
namespace {

Hash32 id_of(uint8_t fill) {
  Hash32 id{};
  id.fill(fill);
  return id;
}

StoredFragment fragment_of(uint8_t fill, size_t size, size_t proof_hashes) {
  StoredFragment fragment;
  fragment.data.assign(size, fill);
  for (size_t i = 0; i < proof_hashes; ++i) {
    Hash32 hash{};
    hash.fill(static_cast<uint8_t>(fill + i + 1));
    fragment.proof.push_back(hash);
  }
  return fragment;
}

TEST(FragmentStore, PutGetRoundTrip) {
  testing::TempDir dir;
  std::unique_ptr<FragmentStore> store;
  ASSERT_TRUE(FragmentStore::open(dir.str() + "/fragments", &store).is_ok());
  const Hash32 model = id_of(0xAB);
  const StoredFragment written = fragment_of(0x11, 70'000, 3);

  bool stored = false;
  ASSERT_TRUE(store->put(model, 7, written, &stored).is_ok());
  EXPECT_TRUE(stored);
  EXPECT_TRUE(store->has(model, 7));
  EXPECT_FALSE(store->has(model, 6));

  StoredFragment read;
  ASSERT_TRUE(store->get(model, 7, &read).is_ok());
  EXPECT_EQ(read.data, written.data);
  EXPECT_EQ(read.proof, written.proof);
}

TEST(FragmentStore, PutIsIdempotent) {
  testing::TempDir dir;
  std::unique_ptr<FragmentStore> store;
  ASSERT_TRUE(FragmentStore::open(dir.str(), &store).is_ok());
  const Hash32 model = id_of(1);
  bool stored = false;
  ASSERT_TRUE(store->put(model, 0, fragment_of(1, 100, 0), &stored).is_ok());
  EXPECT_TRUE(stored);
  ASSERT_TRUE(store->put(model, 0, fragment_of(2, 100, 0), &stored).is_ok());
  EXPECT_FALSE(stored);

  StoredFragment read;
  ASSERT_TRUE(store->get(model, 0, &read).is_ok());
  EXPECT_EQ(read.data, Bytes(100, 1)) << "the first copy is kept";
}

TEST(FragmentStore, MissingFragmentNamesModelAndIndex) {
  testing::TempDir dir;
  std::unique_ptr<FragmentStore> store;
  ASSERT_TRUE(FragmentStore::open(dir.str(), &store).is_ok());
  StoredFragment read;
  Status status = store->get(id_of(0xCD), 42, &read);
  EXPECT_TRUE(status.is_not_found());
  EXPECT_NE(status.message().find("fragment 42"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(to_hex(id_of(0xCD))), std::string::npos) << status.message();
}

TEST(FragmentStore, HeldListsOneModelInOrder) {
  testing::TempDir dir;
  std::unique_ptr<FragmentStore> store;
  ASSERT_TRUE(FragmentStore::open(dir.str(), &store).is_ok());
  const Hash32 first = id_of(1);
  const Hash32 second = id_of(2);
  bool stored = false;
  for (uint32_t index : {300u, 2u, 70000u, 0u}) ASSERT_TRUE(store->put(first, index, fragment_of(1, 10, 1), &stored).is_ok());
  ASSERT_TRUE(store->put(second, 5, fragment_of(2, 10, 1), &stored).is_ok());

  std::vector<uint32_t> held;
  ASSERT_TRUE(store->held(first, &held).is_ok());
  EXPECT_EQ(held, (std::vector<uint32_t>{0, 2, 300, 70000}));
  ASSERT_TRUE(store->held(second, &held).is_ok());
  EXPECT_EQ(held, (std::vector<uint32_t>{5}));
  ASSERT_TRUE(store->held(id_of(3), &held).is_ok());
  EXPECT_TRUE(held.empty());

  std::vector<Hash32> models;
  ASSERT_TRUE(store->models(&models).is_ok());
  EXPECT_EQ(models, (std::vector<Hash32>{first, second}));
}

TEST(FragmentStore, EraseOneAndEraseModel) {
  testing::TempDir dir;
  std::unique_ptr<FragmentStore> store;
  ASSERT_TRUE(FragmentStore::open(dir.str(), &store).is_ok());
  const Hash32 kept = id_of(1);
  const Hash32 dropped = id_of(2);
  bool stored = false;
  for (uint32_t index = 0; index < 4; ++index) {
    ASSERT_TRUE(store->put(kept, index, fragment_of(1, 10, 0), &stored).is_ok());
    ASSERT_TRUE(store->put(dropped, index, fragment_of(2, 10, 0), &stored).is_ok());
  }

  ASSERT_TRUE(store->erase(kept, 1).is_ok());
  ASSERT_TRUE(store->erase(kept, 99).is_ok()) << "erasing a fragment that is not held is ok";
  size_t erased = 0;
  ASSERT_TRUE(store->erase_model(dropped, &erased).is_ok());
  EXPECT_EQ(erased, 4u);

  std::vector<uint32_t> held;
  ASSERT_TRUE(store->held(kept, &held).is_ok());
  EXPECT_EQ(held, (std::vector<uint32_t>{0, 2, 3}));
  ASSERT_TRUE(store->held(dropped, &held).is_ok());
  EXPECT_TRUE(held.empty());
}

TEST(FragmentStore, SurvivesReopen) {
  testing::TempDir dir;
  const Hash32 model = id_of(9);
  {
    std::unique_ptr<FragmentStore> store;
    ASSERT_TRUE(FragmentStore::open(dir.str(), &store).is_ok());
    bool stored = false;
    ASSERT_TRUE(store->put(model, 3, fragment_of(9, 1000, 2), &stored).is_ok());
  }
  std::unique_ptr<FragmentStore> store;
  ASSERT_TRUE(FragmentStore::open(dir.str(), &store).is_ok());
  StoredFragment read;
  ASSERT_TRUE(store->get(model, 3, &read).is_ok());
  EXPECT_EQ(read.data, Bytes(1000, 9));
  EXPECT_EQ(read.proof.size(), 2u);
}

}  // namespace
}  // namespace automata::node
