// The consensus write-ahead log and the file-backed signer state.
#include "automata/consensus/signer.h"
#include "automata/node/sign_state_file.h"
#include "automata/node/wal.h"
#include "node_test_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace automata::node {
namespace {

Bytes bytes_of(const std::string& text) { return Bytes(text.begin(), text.end()); }

std::string wal_path(const testing::TempDir& dir, uint64_t height) {
  return (dir.path() / wal_file_name(height)).string();
}

TEST(Crc32c, MatchesKnownCheckValue) {
  // The standard CRC-32C check value: the CRC of the ASCII digits 1-9.
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(bytes_of("123456789")), 0xE3069283u);
}

TEST(Crc32c, MatchesRfc3720Vectors) {
  // RFC 3720, appendix B.4: 32 bytes of zeros, of 0xFF, ascending and
  // descending.
  Bytes zeros(32, 0x00);
  Bytes ones(32, 0xFF);
  Bytes ascending(32);
  Bytes descending(32);
  for (size_t i = 0; i < 32; ++i) {
    ascending[i] = static_cast<uint8_t>(i);
    descending[i] = static_cast<uint8_t>(31 - i);
  }
  for (auto* crc : {&crc32c, &crc32c_portable}) {
    EXPECT_EQ(crc(zeros), 0x8A9136AAu);
    EXPECT_EQ(crc(ones), 0x62A8AB43u);
    EXPECT_EQ(crc(ascending), 0x46DD794Eu);
    EXPECT_EQ(crc(descending), 0x113FDB5Cu);
  }
}

TEST(Crc32c, HardwareMatchesTable) {
  // The word-at-a-time path has a tail of 0 to 7 bytes and may start at any
  // alignment. A block-sized input covers the long loop.
  Bytes data(300 * 1024);
  uint32_t state = 12345;
  for (auto& byte : data) {
    state = state * 1103515245u + 12345u;
    byte = static_cast<uint8_t>(state >> 24);
  }
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t length = 0; length < 40; ++length) {
      ByteView view(data.data() + offset, length);
      ASSERT_EQ(crc32c(view), crc32c_portable(view)) << "offset " << offset << " length " << length;
    }
  }
  EXPECT_EQ(crc32c(data), crc32c_portable(data));
}

TEST(Wal, RoundTripsRecords) {
  testing::TempDir dir;
  {
    std::unique_ptr<Wal> wal;
    WalReplay replay;
    ASSERT_TRUE(Wal::open(dir.str(), 7, &wal, &replay).is_ok());
    EXPECT_TRUE(replay.records.empty());
    ASSERT_TRUE(wal->append(bytes_of("first"), true).is_ok());
    ASSERT_TRUE(wal->append(Bytes{}, false).is_ok());
    ASSERT_TRUE(wal->append(bytes_of("third"), false).is_ok());
  }
  std::unique_ptr<Wal> wal;
  WalReplay replay;
  ASSERT_TRUE(Wal::open(dir.str(), 7, &wal, &replay).is_ok());
  ASSERT_EQ(replay.records.size(), 3u);
  EXPECT_EQ(replay.records[0], bytes_of("first"));
  EXPECT_TRUE(replay.records[1].empty());
  EXPECT_EQ(replay.records[2], bytes_of("third"));
  EXPECT_EQ(replay.truncated_bytes, 0u);
}

TEST(Wal, TruncatesTornTail) {
  testing::TempDir dir;
  {
    std::unique_ptr<Wal> wal;
    WalReplay replay;
    ASSERT_TRUE(Wal::open(dir.str(), 3, &wal, &replay).is_ok());
    ASSERT_TRUE(wal->append(bytes_of("kept"), true).is_ok());
    ASSERT_TRUE(wal->append(bytes_of("torn record"), true).is_ok());
  }
  auto path = wal_path(dir, 3);
  auto full_size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full_size - 4);

  std::unique_ptr<Wal> wal;
  WalReplay replay;
  ASSERT_TRUE(Wal::open(dir.str(), 3, &wal, &replay).is_ok());
  ASSERT_EQ(replay.records.size(), 1u);
  EXPECT_EQ(replay.records[0], bytes_of("kept"));
  EXPECT_EQ(replay.truncated_bytes, 8u + 11u - 4u);
  EXPECT_EQ(std::filesystem::file_size(path), 8u + 4u);

  // New records go after the intact prefix and read back.
  ASSERT_TRUE(wal->append(bytes_of("after"), true).is_ok());
  wal.reset();
  ASSERT_TRUE(Wal::open(dir.str(), 3, &wal, &replay).is_ok());
  ASSERT_EQ(replay.records.size(), 2u);
  EXPECT_EQ(replay.records[1], bytes_of("after"));
}

TEST(Wal, TruncatesCorruptCrc) {
  testing::TempDir dir;
  {
    std::unique_ptr<Wal> wal;
    WalReplay replay;
    ASSERT_TRUE(Wal::open(dir.str(), 5, &wal, &replay).is_ok());
    ASSERT_TRUE(wal->append(bytes_of("good"), true).is_ok());
    ASSERT_TRUE(wal->append(bytes_of("flipped"), true).is_ok());
    ASSERT_TRUE(wal->append(bytes_of("lost"), true).is_ok());
  }
  auto path = wal_path(dir, 5);
  {
    // Flip one payload byte of the second record.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(8 + 4 + 8 + 2);
    file.put('X');
  }
  std::unique_ptr<Wal> wal;
  WalReplay replay;
  ASSERT_TRUE(Wal::open(dir.str(), 5, &wal, &replay).is_ok());
  ASSERT_EQ(replay.records.size(), 1u);
  EXPECT_EQ(replay.records[0], bytes_of("good"));
  EXPECT_EQ(replay.truncated_bytes, 8u + 7u + 8u + 4u);
}

TEST(Wal, RotateStartsEmptyAndDeletesOlderHeights) {
  testing::TempDir dir;
  std::unique_ptr<Wal> wal;
  WalReplay replay;
  ASSERT_TRUE(Wal::open(dir.str(), 1, &wal, &replay).is_ok());
  ASSERT_TRUE(wal->append(bytes_of("height one"), true).is_ok());
  ASSERT_TRUE(wal->rotate(2).is_ok());
  EXPECT_FALSE(std::filesystem::exists(wal_path(dir, 1)));
  EXPECT_TRUE(std::filesystem::exists(wal_path(dir, 2)));
  EXPECT_FALSE(wal->rotate(2).is_ok());
  wal.reset();
  ASSERT_TRUE(Wal::open(dir.str(), 2, &wal, &replay).is_ok());
  EXPECT_TRUE(replay.records.empty());
}

TEST(SignStateFile, MissingFileIsEmptyState) {
  testing::TempDir dir;
  consensus::LastSignState state;
  state.height = 9;
  ASSERT_TRUE(FileSignStateStore::load((dir.path() / "none.pb").string(), &state).is_ok());
  EXPECT_EQ(state.height, 0u);
}

TEST(SignStateFile, CorruptFileIsRejected) {
  testing::TempDir dir;
  auto path = (dir.path() / "sign_state.pb").string();
  std::ofstream(path) << "\xff\xff\xff not protobuf";
  consensus::LastSignState state;
  Status status = FileSignStateStore::load(path, &state);
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
}

TEST(SignStateFile, RestartedSignerRejectsConflictingVote) {
  testing::TempDir dir;
  auto path = (dir.path() / "sign_state.pb").string();
  auto key = crypto::PrivateKey::generate();
  Hash32 block_a{};
  block_a[0] = 0xA;
  Hash32 block_b{};
  block_b[0] = 0xB;
  Bytes vote_a = consensus::vote_sign_bytes("wal-test", consensus::VoteType::kPrevote, 4, 1, block_a);
  Bytes vote_b = consensus::vote_sign_bytes("wal-test", consensus::VoteType::kPrevote, 4, 1, block_b);

  crypto::Signature first{};
  {
    FileSignStateStore store(path);
    consensus::KeySigner signer(key, {}, &store);
    ASSERT_TRUE(signer.sign(4, 1, consensus::Step::kPrevote, vote_a, &first).is_ok());
  }

  // A new process: the state comes back from disk only.
  consensus::LastSignState loaded;
  ASSERT_TRUE(FileSignStateStore::load(path, &loaded).is_ok());
  EXPECT_EQ(loaded.height, 4u);
  EXPECT_EQ(loaded.round, 1);
  EXPECT_EQ(loaded.step, consensus::Step::kPrevote);
  EXPECT_EQ(loaded.sign_bytes, vote_a);
  EXPECT_EQ(loaded.signature, first);

  FileSignStateStore store(path);
  consensus::KeySigner signer(key, loaded, &store);
  crypto::Signature conflicting{};
  EXPECT_FALSE(signer.sign(4, 1, consensus::Step::kPrevote, vote_b, &conflicting).is_ok());
  Bytes earlier = consensus::vote_sign_bytes("wal-test", consensus::VoteType::kPrevote, 4, 0, block_b);
  EXPECT_FALSE(signer.sign(4, 0, consensus::Step::kPrevote, earlier, &conflicting).is_ok());
  crypto::Signature repeated{};
  ASSERT_TRUE(signer.sign(4, 1, consensus::Step::kPrevote, vote_a, &repeated).is_ok());
  EXPECT_EQ(repeated, first);
}

}  // namespace
}  // namespace automata::node
