#include "automata/crypto/sha256.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace automata::crypto {
namespace {

// Known answers from FIPS 180-2, appendix B (SHA-256 examples), plus the
// empty string.
struct KnownAnswer {
  std::string message;
  std::string digest_hex;
};

const std::vector<KnownAnswer>& known_answers() {
  static const std::vector<KnownAnswer> answers = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  return answers;
}

const std::string kMillionADigest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256, KnownAnswers) {
  for (const KnownAnswer& answer : known_answers()) {
    EXPECT_EQ(to_hex(sha256(as_view(answer.message))), answer.digest_hex) << "message \"" << answer.message << "\"";
  }
}

TEST(Sha256, MillionLetterA) {
  const std::string message(1000000, 'a');
  EXPECT_EQ(to_hex(sha256(as_view(message))), kMillionADigest);
}

TEST(Sha256, MillionLetterAIncremental) {
  // The same input fed as 1000 updates of 1000 bytes each.
  const std::string chunk(1000, 'a');
  Sha256 hasher;
  for (int i = 0; i < 1000; ++i) hasher.update(as_view(chunk));
  EXPECT_EQ(to_hex(hasher.finish()), kMillionADigest);
}

TEST(Sha256, IncrementalEqualsOneShotAtEverySplit) {
  const std::string& message = known_answers()[2].message;
  const std::string& expected = known_answers()[2].digest_hex;
  Sha256 hasher;
  for (size_t split = 0; split <= message.size(); ++split) {
    hasher.update(as_view(message.substr(0, split)));
    hasher.update(as_view(message.substr(split)));
    EXPECT_EQ(to_hex(hasher.finish()), expected) << "split at " << split;
  }
}

TEST(Sha256, ConcatEqualsOneShotAtEverySplit) {
  const std::string& message = known_answers()[2].message;
  const std::string& expected = known_answers()[2].digest_hex;
  for (size_t split = 0; split <= message.size(); ++split) {
    const std::string head = message.substr(0, split);
    const std::string tail = message.substr(split);
    EXPECT_EQ(to_hex(sha256_concat({as_view(head), as_view(tail)})), expected) << "split at " << split;
  }
  EXPECT_EQ(to_hex(sha256_concat({})), known_answers()[0].digest_hex);
}

TEST(Sha256, FinishResetsHasher) {
  Sha256 hasher;
  hasher.update(as_view(std::string("garbage before reset")));
  hasher.finish();
  hasher.update(as_view(std::string("abc")));
  EXPECT_EQ(to_hex(hasher.finish()), known_answers()[1].digest_hex);
  EXPECT_EQ(to_hex(hasher.finish()), known_answers()[0].digest_hex);
}

TEST(Sha256, ConcurrentThreadsAgree) {
  // Each thread uses its own reused context, so interleaved hashing on many
  // threads must still produce the known answers.
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&mismatches] {
      Sha256 hasher;
      for (int round = 0; round < kRounds; ++round) {
        const KnownAnswer& answer = known_answers()[static_cast<size_t>(round) % known_answers().size()];
        if (to_hex(sha256(as_view(answer.message))) != answer.digest_hex) ++mismatches;
        hasher.update(as_view(answer.message));
        if (to_hex(hasher.finish()) != answer.digest_hex) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace automata::crypto
