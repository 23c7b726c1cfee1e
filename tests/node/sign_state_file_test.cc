// The two-slot signer state file: the newest valid slot wins, a torn slot
// falls back to the other, and files in the earlier format still load.
#include "automata/consensus/codec.h"
#include "automata/consensus/signer.h"
#include "automata/node/sign_state_file.h"
#include "node_test_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace automata::node {
namespace {

consensus::LastSignState state_at(uint64_t height, int64_t round, consensus::Step step) {
  consensus::LastSignState state;
  state.height = height;
  state.round = round;
  state.step = step;
  state.sign_bytes = Bytes(40, static_cast<uint8_t>(height));
  state.signature[0] = static_cast<uint8_t>(round);
  return state;
}

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_all(const std::string& path, const Bytes& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

TEST(SignStateSlots, LoadReturnsNewestOfManySaves) {
  testing::TempDir dir;
  auto path = (dir.path() / "sign_state.pb").string();
  FileSignStateStore store(path);
  for (uint64_t height = 1; height <= 7; ++height) {
    ASSERT_TRUE(store.save(state_at(height, 0, consensus::Step::kPrecommit)).is_ok());
    consensus::LastSignState loaded;
    ASSERT_TRUE(FileSignStateStore::load(path, &loaded).is_ok());
    EXPECT_EQ(loaded.height, height);
    EXPECT_EQ(loaded.sign_bytes, state_at(height, 0, consensus::Step::kPrecommit).sign_bytes);
  }
  EXPECT_EQ(std::filesystem::file_size(path), 2 * FileSignStateStore::kSlotBytes);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(SignStateSlots, TornNewestSlotFallsBackToOlder) {
  testing::TempDir dir;
  auto path = (dir.path() / "sign_state.pb").string();
  {
    FileSignStateStore store(path);
    ASSERT_TRUE(store.save(state_at(5, 0, consensus::Step::kPrevote)).is_ok());   // slot 0
    ASSERT_TRUE(store.save(state_at(5, 0, consensus::Step::kPrecommit)).is_ok()); // slot 1
  }
  // A crash in the middle of writing slot 1 leaves part of it changed.
  Bytes data = read_all(path);
  data[FileSignStateStore::kSlotBytes + 30] ^= 0xFF;
  write_all(path, data);

  consensus::LastSignState loaded;
  ASSERT_TRUE(FileSignStateStore::load(path, &loaded).is_ok());
  EXPECT_EQ(loaded.height, 5u);
  EXPECT_EQ(loaded.step, consensus::Step::kPrevote);

  // A store reopened on the damaged file writes over the torn slot, not
  // over the one that load() relies on.
  FileSignStateStore reopened(path);
  ASSERT_TRUE(reopened.save(state_at(6, 0, consensus::Step::kPropose)).is_ok());
  ASSERT_TRUE(FileSignStateStore::load(path, &loaded).is_ok());
  EXPECT_EQ(loaded.height, 6u);
  data = read_all(path);
  data[30] ^= 0xFF;  // damage slot 0, which now contains height 5
  write_all(path, data);
  ASSERT_TRUE(FileSignStateStore::load(path, &loaded).is_ok());
  EXPECT_EQ(loaded.height, 6u);
}

TEST(SignStateSlots, BothSlotsDamagedIsAnError) {
  testing::TempDir dir;
  auto path = (dir.path() / "sign_state.pb").string();
  {
    FileSignStateStore store(path);
    ASSERT_TRUE(store.save(state_at(3, 0, consensus::Step::kPrevote)).is_ok());
    ASSERT_TRUE(store.save(state_at(3, 0, consensus::Step::kPrecommit)).is_ok());
  }
  Bytes data = read_all(path);
  data[30] ^= 0xFF;
  data[FileSignStateStore::kSlotBytes + 30] ^= 0xFF;
  write_all(path, data);
  consensus::LastSignState loaded;
  Status status = FileSignStateStore::load(path, &loaded);
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("both slots"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
}

TEST(SignStateSlots, EarlierFormatLoadsAndIsReplaced) {
  testing::TempDir dir;
  auto path = (dir.path() / "sign_state.pb").string();
  write_all(path, consensus::encode_last_sign_state(state_at(9, 2, consensus::Step::kPrevote)));

  consensus::LastSignState loaded;
  ASSERT_TRUE(FileSignStateStore::load(path, &loaded).is_ok());
  EXPECT_EQ(loaded.height, 9u);
  EXPECT_EQ(loaded.round, 2);

  // A signer started from it refuses a regression, then saves in slots.
  FileSignStateStore store(path);
  consensus::KeySigner signer(crypto::PrivateKey::generate(), loaded, &store);
  crypto::Signature signature{};
  EXPECT_FALSE(signer.sign(9, 1, consensus::Step::kPrecommit, Bytes(8, 1), &signature).is_ok());
  ASSERT_TRUE(signer.sign(9, 2, consensus::Step::kPrecommit, Bytes(8, 2), &signature).is_ok());
  EXPECT_EQ(std::filesystem::file_size(path), 2 * FileSignStateStore::kSlotBytes);
  ASSERT_TRUE(FileSignStateStore::load(path, &loaded).is_ok());
  EXPECT_EQ(loaded.step, consensus::Step::kPrecommit);
  EXPECT_EQ(loaded.sign_bytes, Bytes(8, 2));
}

TEST(SignStateSlots, OversizedStateIsRejected) {
  testing::TempDir dir;
  auto path = (dir.path() / "sign_state.pb").string();
  FileSignStateStore store(path);
  consensus::LastSignState state = state_at(1, 0, consensus::Step::kPropose);
  state.sign_bytes = Bytes(FileSignStateStore::kSlotBytes, 7);
  Status status = store.save(state);
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("does not fit"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace automata::node
