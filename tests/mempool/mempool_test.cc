// Mempool behaviour against a fake Application whose check_tx results the
// tests control. A fake tx is the text "<sender> <nonce> <fee> <gas_limit>"
// padded with spaces to a chosen size. The sender is one character, and its
// address is that character repeated 20 times.
#include "automata/mempool/mempool.h"

#include "automata/crypto/sha256.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace automata::mempool {
namespace {

using execution::ResultCode;
using execution::TxCheck;

Address address_of(char sender) {
  Address address{};
  address.fill(static_cast<uint8_t>(sender));
  return address;
}

Bytes make_tx(char sender, uint64_t nonce, uint64_t fee, uint64_t gas_limit = 1, size_t size = 0) {
  std::string text = std::string(1, sender) + " " + std::to_string(nonce) + " " + std::to_string(fee) + " " +
                     std::to_string(gas_limit);
  if (text.size() < size) text.append(size - text.size(), ' ');
  return to_bytes(text);
}

Hash32 hash_of(const Bytes& tx) { return crypto::sha256(tx); }

// Checks fake txs against a per-sender next nonce, like the real precheck:
// nonce below it is kNonceTooLow, above it kNonceTooHigh.
class FakeApplication : public execution::Application {
 public:
  TxCheck check_tx(ByteView tx_bytes) override {
    check_calls_.fetch_add(1);
    TxCheck check;
    check.hash = crypto::sha256(tx_bytes);
    check.size_bytes = tx_bytes.size();
    std::istringstream in(to_string(tx_bytes));
    char sender = 0;
    if (!(in >> sender >> check.nonce >> check.fee >> check.gas_limit)) {
      check.code = ResultCode::kTxMalformed;
      check.log = "fake tx is not '<sender> <nonce> <fee> <gas_limit>'";
      return check;
    }
    check.sender = address_of(sender);
    uint64_t expiry = 0;
    if (in >> expiry) check.expiry_height = expiry;

    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      check.expected_nonce = next_nonce_[sender];
      auto forced = forced_codes_.find(check.hash);
      if (forced != forced_codes_.end()) {
        check.code = forced->second;
        check.log = "forced by the test";
      } else if (check.nonce < check.expected_nonce) {
        check.code = ResultCode::kNonceTooLow;
      } else if (check.nonce > check.expected_nonce) {
        check.code = ResultCode::kNonceTooHigh;
      }
      std::swap(hook, after_next_check_);
    }
    // Runs after the result is computed, so the result reflects the state
    // from before whatever the hook changes.
    if (hook) hook();
    return check;
  }

  void set_next_nonce(char sender, uint64_t nonce) {
    std::lock_guard<std::mutex> lock(mutex_);
    next_nonce_[sender] = nonce;
  }
  void force_code(const Hash32& hash, ResultCode code) {
    std::lock_guard<std::mutex> lock(mutex_);
    forced_codes_[hash] = code;
  }
  void run_after_next_check(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mutex_);
    after_next_check_ = std::move(hook);
  }
  int check_calls() const { return check_calls_.load(); }

  Status prepare_block(const execution::BlockContext&, const std::vector<Bytes>&, v1::Block*) override {
    return Status::unavailable("fake application builds no blocks");
  }
  Status process_block(const v1::Block&) override { return Status::unavailable("fake application"); }
  Status finalize_block(const v1::Block&) override { return Status::unavailable("fake application"); }
  Status commit() override { return Status::unavailable("fake application"); }
  uint64_t last_height() const override { return 0; }
  Hash32 last_block_hash() const override { return {}; }

 private:
  std::mutex mutex_;
  std::map<char, uint64_t> next_nonce_;         // guarded by mutex_
  std::map<Hash32, ResultCode> forced_codes_;  // guarded by mutex_
  std::function<void()> after_next_check_;     // guarded by mutex_
  std::atomic<int> check_calls_{0};
};

class MempoolTest : public ::testing::Test {
 protected:
  Mempool& pool(MempoolConfig config = {}) {
    pool_ = std::make_unique<Mempool>(&app_, config);
    return *pool_;
  }
  AddResult add(const Bytes& tx) { return pool_->add(tx); }

  FakeApplication app_;
  std::unique_ptr<Mempool> pool_;
};

TEST_F(MempoolTest, ReapsAccountNoncesInOrder) {
  pool();
  Bytes tx0 = make_tx('a', 0, 1);
  Bytes tx1 = make_tx('a', 1, 1);
  Bytes tx2 = make_tx('a', 2, 1);

  AddResult r2 = add(tx2);
  EXPECT_EQ(r2.code, ResultCode::kOk) << r2.log;
  EXPECT_TRUE(r2.queued);
  EXPECT_EQ(r2.hash, hash_of(tx2));
  AddResult r0 = add(tx0);
  EXPECT_EQ(r0.code, ResultCode::kOk) << r0.log;
  EXPECT_FALSE(r0.queued);
  AddResult r1 = add(tx1);
  EXPECT_EQ(r1.code, ResultCode::kOk) << r1.log;
  EXPECT_FALSE(r1.queued);

  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{tx0, tx1, tx2}));
  EXPECT_EQ(pool_->pending_nonce(address_of('a')), 3u);
  EXPECT_EQ(pool_->pending_nonce(address_of('z')), std::nullopt);
}

TEST_F(MempoolTest, ReapsByFeePerGasAcrossAccounts) {
  pool();
  Bytes low = make_tx('a', 0, 10, 1);
  Bytes high = make_tx('b', 0, 30, 1);
  Bytes middle = make_tx('c', 0, 20, 1);
  Bytes big_fee_low_rate = make_tx('d', 0, 100, 10);    // 10 per gas
  Bytes small_fee_high_rate = make_tx('e', 0, 25, 1);   // 25 per gas
  Bytes tie_first = make_tx('f', 0, 5, 1);
  Bytes tie_second = make_tx('g', 0, 10, 2);  // also 5 per gas, arrives later
  for (const Bytes& tx : {low, high, middle, big_fee_low_rate, small_fee_high_rate, tie_first, tie_second}) {
    ASSERT_EQ(add(tx).code, ResultCode::kOk);
  }

  std::vector<Bytes> expected = {high, small_fee_high_rate, middle, low, big_fee_low_rate, tie_first, tie_second};
  EXPECT_EQ(pool_->reap(100, 1 << 20), expected);
}

TEST_F(MempoolTest, ReapKeepsNoncesContiguousOverFee) {
  pool();
  Bytes a0 = make_tx('a', 0, 1);
  Bytes a1 = make_tx('a', 1, 100);
  Bytes b0 = make_tx('b', 0, 50);
  for (const Bytes& tx : {a0, a1, b0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  // a1 pays the most but cannot precede a0.
  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{b0, a0, a1}));
}

TEST_F(MempoolTest, HoldsFutureNonceUntilGapCloses) {
  pool();
  Bytes a1 = make_tx('a', 1, 5);
  Bytes a2 = make_tx('a', 2, 5);
  ASSERT_TRUE(add(a2).queued);
  ASSERT_TRUE(add(a1).queued);
  EXPECT_EQ(pool_->size(), 2u);
  EXPECT_TRUE(pool_->reap(100, 1 << 20).empty());

  // Another node's tx with nonce 0 commits, so the held txs become executable.
  app_.set_next_nonce('a', 1);
  pool_->update(1, {});
  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{a1, a2}));
}

TEST_F(MempoolTest, RejectsNonceBeyondMaxGap) {
  pool({.max_txs = 100, .max_bytes = 1 << 20, .max_nonce_gap = 4});
  AddResult too_far = add(make_tx('a', 5, 1));
  EXPECT_EQ(too_far.code, ResultCode::kNonceTooHigh);
  EXPECT_NE(too_far.log.find("max_nonce_gap 4"), std::string::npos) << too_far.log;
  EXPECT_NE(too_far.log.find("nonce 5"), std::string::npos) << too_far.log;

  AddResult at_gap = add(make_tx('a', 4, 1));
  EXPECT_EQ(at_gap.code, ResultCode::kOk) << at_gap.log;
  EXPECT_TRUE(at_gap.queued);
  EXPECT_EQ(pool_->size(), 1u);
}

TEST_F(MempoolTest, RejectsNonceBelowNext) {
  pool();
  app_.set_next_nonce('a', 3);
  AddResult result = add(make_tx('a', 2, 1));
  EXPECT_EQ(result.code, ResultCode::kNonceTooLow);
  EXPECT_EQ(pool_->size(), 0u);
}

TEST_F(MempoolTest, ReplacesOnlyWithHigherFee) {
  pool();
  Bytes original = make_tx('a', 0, 20);
  Bytes cheaper = make_tx('a', 0, 15);
  Bytes equal = make_tx('a', 0, 20, 1, 30);  // same fee, different bytes
  Bytes better = make_tx('a', 0, 21);
  ASSERT_EQ(add(original).code, ResultCode::kOk);

  AddResult low = add(cheaper);
  EXPECT_EQ(low.code, ResultCode::kInsufficientFee);
  EXPECT_NE(low.log.find("fee 15"), std::string::npos) << low.log;
  EXPECT_NE(low.log.find("fee 20"), std::string::npos) << low.log;
  EXPECT_NE(low.log.find("Wait for that tx to commit"), std::string::npos) << low.log;

  AddResult same = add(equal);
  EXPECT_EQ(same.code, ResultCode::kInsufficientFee) << same.log;
  EXPECT_TRUE(pool_->contains(hash_of(original)));

  AddResult replaced = add(better);
  EXPECT_EQ(replaced.code, ResultCode::kOk) << replaced.log;
  EXPECT_FALSE(pool_->contains(hash_of(original)));
  EXPECT_TRUE(pool_->contains(hash_of(better)));
  EXPECT_EQ(pool_->size(), 1u);
  EXPECT_EQ(pool_->size_bytes(), better.size());
  EXPECT_EQ(pool_->reap(100, 1 << 20), std::vector<Bytes>{better});
}

TEST_F(MempoolTest, RejectsDuplicateHash) {
  pool();
  Bytes tx = make_tx('a', 0, 1);
  ASSERT_EQ(add(tx).code, ResultCode::kOk);
  AddResult again = add(tx);
  EXPECT_EQ(again.code, ResultCode::kAlreadyInMempool);
  EXPECT_EQ(again.hash, hash_of(tx));
  EXPECT_EQ(pool_->size(), 1u);
  EXPECT_EQ(pool_->get(hash_of(tx)), tx);
  EXPECT_EQ(pool_->get(hash_of(make_tx('a', 1, 1))), std::nullopt);
}

TEST_F(MempoolTest, DuplicateBytesSkipCheckTx) {
  pool();
  Bytes tx = make_tx('a', 0, 1);
  ASSERT_EQ(add(tx).code, ResultCode::kOk);
  int calls_before = app_.check_calls();

  AddResult again = add(tx);
  EXPECT_EQ(again.code, ResultCode::kAlreadyInMempool);
  EXPECT_EQ(again.hash, hash_of(tx));
  std::vector<AddResult> batch = pool_->add_batch({make_tx('b', 0, 1), tx});
  EXPECT_EQ(batch[0].code, ResultCode::kOk) << batch[0].log;
  EXPECT_EQ(batch[1].code, ResultCode::kAlreadyInMempool);
  // Only the new tx of the batch was checked.
  EXPECT_EQ(app_.check_calls() - calls_before, 1);
  EXPECT_EQ(pool_->size(), 2u);

  // Once the tx leaves the pool, the same bytes are checked again.
  app_.set_next_nonce('a', 1);
  pool_->update(1, {hash_of(tx)});
  calls_before = app_.check_calls();
  EXPECT_EQ(add(tx).code, ResultCode::kNonceTooLow);
  EXPECT_EQ(app_.check_calls() - calls_before, 1);
}

TEST_F(MempoolTest, RelayQueueReturnsEachAddedTxOnce) {
  pool();
  Bytes before = make_tx('a', 0, 1);
  ASSERT_EQ(add(before).code, ResultCode::kOk);
  pool_->enable_relay_queue();
  EXPECT_TRUE(pool_->take_relay_txs(100).empty()) << "a tx added before enable_relay_queue was queued";

  Bytes a1 = make_tx('a', 1, 1);
  Bytes b0 = make_tx('b', 0, 1);
  Bytes c5 = make_tx('c', 5, 1);  // held for the missing nonces, still relayed
  ASSERT_EQ(pool_->add_batch({a1, b0}, "peer-1")[0].code, ResultCode::kOk);
  ASSERT_TRUE(add(c5).queued);
  // A duplicate or rejected tx is not queued again.
  ASSERT_EQ(pool_->add_batch({a1}, "peer-2")[0].code, ResultCode::kAlreadyInMempool);
  ASSERT_EQ(add(make_tx('a', 1, 1, 1, 40)).code, ResultCode::kInsufficientFee);

  std::vector<RelayTx> first = pool_->take_relay_txs(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(*first[0].bytes, a1);
  EXPECT_EQ(first[0].hash, hash_of(a1));
  ASSERT_NE(first[0].source, nullptr);
  EXPECT_EQ(*first[0].source, "peer-1");
  EXPECT_EQ(*first[1].bytes, b0);
  EXPECT_EQ(first[1].source, first[0].source) << "one batch shares one source string";

  std::vector<RelayTx> second = pool_->take_relay_txs(100);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(*second[0].bytes, c5);
  EXPECT_EQ(second[0].source, nullptr);
  EXPECT_TRUE(pool_->take_relay_txs(100).empty());
}

TEST_F(MempoolTest, RelayQueueSkipsTxsThatLeftThePool) {
  pool();
  pool_->enable_relay_queue();
  Bytes a0 = make_tx('a', 0, 1);
  Bytes b0 = make_tx('b', 0, 1);
  Bytes b0_better = make_tx('b', 0, 2);
  Bytes c0 = make_tx('c', 0, 1);
  for (const Bytes& tx : {a0, b0, b0_better, c0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  // a0 commits and b0 was replaced, so neither is sent.
  app_.set_next_nonce('a', 1);
  pool_->update(1, {hash_of(a0)});
  std::vector<RelayTx> txs = pool_->take_relay_txs(100);
  ASSERT_EQ(txs.size(), 2u);
  EXPECT_EQ(*txs[0].bytes, b0_better);
  EXPECT_EQ(*txs[1].bytes, c0);
}

TEST_F(MempoolTest, RelayQueueKeepsAtMostMaxTxs) {
  pool({.max_txs = 2, .max_bytes = 1 << 20, .max_nonce_gap = 64});
  pool_->enable_relay_queue();
  Bytes a0 = make_tx('a', 0, 1);
  Bytes b0 = make_tx('b', 0, 1);
  Bytes c0 = make_tx('c', 0, 5);  // evicts b0, the later of the two cheapest
  for (const Bytes& tx : {a0, b0, c0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);
  ASSERT_TRUE(pool_->contains(hash_of(a0)));
  ASSERT_FALSE(pool_->contains(hash_of(b0)));

  // Queueing c0 dropped the oldest entry, a0, although a0 is still pooled.
  std::vector<RelayTx> txs = pool_->take_relay_txs(100);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(*txs[0].bytes, c0);
}

TEST_F(MempoolTest, PassesCheckTxRejectionThrough) {
  pool();
  Bytes tx = make_tx('a', 0, 1);
  app_.force_code(hash_of(tx), ResultCode::kBadSignature);
  AddResult result = add(tx);
  EXPECT_EQ(result.code, ResultCode::kBadSignature);
  EXPECT_EQ(result.log, "forced by the test");

  AddResult malformed = add(to_bytes("not a tx"));
  EXPECT_EQ(malformed.code, ResultCode::kTxMalformed);
  EXPECT_EQ(pool_->size(), 0u);
}

TEST_F(MempoolTest, CountCapEvictsLowestTail) {
  pool({.max_txs = 3, .max_bytes = 1 << 20, .max_nonce_gap = 64});
  Bytes a0 = make_tx('a', 0, 5);
  Bytes a1 = make_tx('a', 1, 1);
  Bytes b0 = make_tx('b', 0, 3);
  for (const Bytes& tx : {a0, a1, b0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  Bytes c0 = make_tx('c', 0, 4);
  AddResult admitted = add(c0);
  EXPECT_EQ(admitted.code, ResultCode::kOk) << admitted.log;
  EXPECT_FALSE(pool_->contains(hash_of(a1)));
  EXPECT_TRUE(pool_->contains(hash_of(a0)));
  EXPECT_TRUE(pool_->contains(hash_of(b0)));
  EXPECT_EQ(pool_->size(), 3u);

  // The lowest tail is now b0 at 3 per gas, which 2 per gas cannot beat.
  AddResult rejected = add(make_tx('d', 0, 2));
  EXPECT_EQ(rejected.code, ResultCode::kMempoolFull);
  EXPECT_NE(rejected.log.find("max_txs 3"), std::string::npos) << rejected.log;
  EXPECT_EQ(pool_->size(), 3u);
}

TEST_F(MempoolTest, EvictionNeverBreaksNonceChain) {
  pool({.max_txs = 3, .max_bytes = 1 << 20, .max_nonce_gap = 64});
  Bytes a0 = make_tx('a', 0, 1);  // lowest fee, but in the middle of a's chain
  Bytes a1 = make_tx('a', 1, 100);
  Bytes b0 = make_tx('b', 0, 50);
  for (const Bytes& tx : {a0, a1, b0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  ASSERT_EQ(add(make_tx('c', 0, 60)).code, ResultCode::kOk);
  EXPECT_TRUE(pool_->contains(hash_of(a0)));
  EXPECT_TRUE(pool_->contains(hash_of(a1)));
  EXPECT_FALSE(pool_->contains(hash_of(b0)));
}

TEST_F(MempoolTest, EvictionSkipsSenderTxsBelowNewNonce) {
  pool({.max_txs = 2, .max_bytes = 1 << 20, .max_nonce_gap = 64});
  Bytes a0 = make_tx('a', 0, 1);
  Bytes b0 = make_tx('b', 0, 10);
  for (const Bytes& tx : {a0, b0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  // Evicting a0 would strand a1 behind a gap, so b0 goes instead.
  Bytes a1 = make_tx('a', 1, 20);
  ASSERT_EQ(add(a1).code, ResultCode::kOk);
  EXPECT_TRUE(pool_->contains(hash_of(a0)));
  EXPECT_FALSE(pool_->contains(hash_of(b0)));
  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{a0, a1}));
}

TEST_F(MempoolTest, ByteCapEvictsSeveralTxs) {
  pool({.max_txs = 100, .max_bytes = 300, .max_nonce_gap = 64});
  Bytes a0 = make_tx('a', 0, 1, 1, 100);
  Bytes b0 = make_tx('b', 0, 1, 1, 100);
  Bytes c0 = make_tx('c', 0, 1, 1, 100);
  for (const Bytes& tx : {a0, b0, c0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);
  EXPECT_EQ(pool_->size_bytes(), 300u);

  // Equal fee per gas: the latest arrivals are evicted first.
  Bytes big = make_tx('d', 0, 5, 1, 200);
  AddResult result = add(big);
  EXPECT_EQ(result.code, ResultCode::kOk) << result.log;
  EXPECT_TRUE(pool_->contains(hash_of(a0)));
  EXPECT_FALSE(pool_->contains(hash_of(b0)));
  EXPECT_FALSE(pool_->contains(hash_of(c0)));
  EXPECT_EQ(pool_->size_bytes(), 300u);
}

TEST_F(MempoolTest, ByteCapRejectsWithoutEvicting) {
  pool({.max_txs = 100, .max_bytes = 300, .max_nonce_gap = 64});
  Bytes a0 = make_tx('a', 0, 1, 1, 100);
  Bytes b0 = make_tx('b', 0, 9, 1, 100);
  Bytes c0 = make_tx('c', 0, 9, 1, 100);
  for (const Bytes& tx : {a0, b0, c0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  // Room for 200 bytes needs two victims, and only a0 pays less than 5.
  AddResult result = add(make_tx('d', 0, 5, 1, 200));
  EXPECT_EQ(result.code, ResultCode::kMempoolFull);
  EXPECT_NE(result.log.find("max_bytes 300"), std::string::npos) << result.log;
  EXPECT_TRUE(pool_->contains(hash_of(a0)));
  EXPECT_EQ(pool_->size(), 3u);

  AddResult oversized = add(make_tx('e', 0, 1000, 1, 301));
  EXPECT_EQ(oversized.code, ResultCode::kMempoolFull);
  EXPECT_NE(oversized.log.find("301 bytes"), std::string::npos) << oversized.log;
}

TEST_F(MempoolTest, UpdateRemovesCommittedAndRechecks) {
  pool();
  Bytes a0 = make_tx('a', 0, 1);
  Bytes a1 = make_tx('a', 1, 1);
  Bytes b0 = make_tx('b', 0, 1);
  Bytes c0 = make_tx('c', 0, 1);
  for (const Bytes& tx : {a0, a1, b0, c0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  // Block 1 commits a0, and b0 can no longer pay its fee. Nonce 0 of c was
  // used by a tx this pool never saw.
  app_.set_next_nonce('a', 1);
  app_.force_code(hash_of(b0), ResultCode::kFeeUnpayable);
  app_.set_next_nonce('c', 1);
  int calls_before = app_.check_calls();
  pool_->update(1, {hash_of(a0)});

  EXPECT_EQ(app_.check_calls() - calls_before, 3);  // a1, b0 and c0
  EXPECT_FALSE(pool_->contains(hash_of(a0)));
  EXPECT_FALSE(pool_->contains(hash_of(b0)));
  EXPECT_FALSE(pool_->contains(hash_of(c0)));
  EXPECT_EQ(pool_->size(), 1u);
  EXPECT_EQ(pool_->size_bytes(), a1.size());
  EXPECT_EQ(pool_->reap(100, 1 << 20), std::vector<Bytes>{a1});

  // The committed account nonce now rejects a second nonce-0 tx.
  EXPECT_EQ(add(make_tx('a', 0, 50)).code, ResultCode::kNonceTooLow);
}

TEST_F(MempoolTest, UpdateWithSendersRechecksOnlyThose) {
  pool();
  Bytes a0 = make_tx('a', 0, 1);
  Bytes a1 = make_tx('a', 1, 1);
  Bytes b0 = make_tx('b', 0, 1);
  Bytes c0 = to_bytes("c 0 1 1 1");  // expires after height 1
  Bytes d0 = make_tx('d', 0, 1);
  Bytes e0 = to_bytes("e 0 1 1 9");  // expires after height 9
  for (const Bytes& tx : {a0, a1, b0, c0, d0, e0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  // Block 1 commits a0 and a tx of d that this pool never saw. b0 would
  // now fail, but b signed nothing in the block, so it is not rechecked.
  app_.set_next_nonce('a', 1);
  app_.set_next_nonce('d', 1);
  app_.force_code(hash_of(b0), ResultCode::kFeeUnpayable);
  app_.force_code(hash_of(c0), ResultCode::kExpired);
  int calls_before = app_.check_calls();
  pool_->update(1, {hash_of(a0), Hash32{}}, {address_of('a'), address_of('d')});

  EXPECT_EQ(app_.check_calls() - calls_before, 3) << "a1, d0 and the expiring c0";
  EXPECT_FALSE(pool_->contains(hash_of(a0)));
  EXPECT_TRUE(pool_->contains(hash_of(a1)));
  EXPECT_TRUE(pool_->contains(hash_of(b0))) << "b is not a block signer";
  EXPECT_FALSE(pool_->contains(hash_of(c0))) << "c0 expired";
  EXPECT_FALSE(pool_->contains(hash_of(d0))) << "d's nonce 0 was used";
  EXPECT_TRUE(pool_->contains(hash_of(e0)));

  // The full update still rechecks every tx.
  calls_before = app_.check_calls();
  pool_->update(2, {});
  EXPECT_EQ(app_.check_calls() - calls_before, 3) << "a1, b0 and e0";
  EXPECT_FALSE(pool_->contains(hash_of(b0)));
}

TEST_F(MempoolTest, UpdateDropMakesLaterNoncesWait) {
  pool();
  Bytes a0 = make_tx('a', 0, 1);
  Bytes a1 = make_tx('a', 1, 1);
  for (const Bytes& tx : {a0, a1}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  app_.force_code(hash_of(a0), ResultCode::kFeeUnpayable);
  pool_->update(1, {});
  EXPECT_TRUE(pool_->contains(hash_of(a1)));
  EXPECT_TRUE(pool_->reap(100, 1 << 20).empty());

  Bytes a0_again = make_tx('a', 0, 2);
  AddResult refill = add(a0_again);
  EXPECT_EQ(refill.code, ResultCode::kOk) << refill.log;
  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{a0_again, a1}));
}

TEST_F(MempoolTest, ReapSkipsTxsBelowNextNonce) {
  pool();
  Bytes a0 = make_tx('a', 0, 1);
  Bytes a1 = make_tx('a', 1, 1);
  for (const Bytes& tx : {a0, a1}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  // a0 commits, and a2 is checked against the new state before update()
  // runs, which raises the account's next nonce to 1.
  app_.set_next_nonce('a', 1);
  Bytes a2 = make_tx('a', 2, 1);
  AddResult result = add(a2);
  EXPECT_EQ(result.code, ResultCode::kOk) << result.log;
  EXPECT_FALSE(result.queued);
  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{a1, a2}));
  EXPECT_EQ(pool_->pending_nonce(address_of('a')), 3u);

  pool_->update(1, {hash_of(a0)});
  EXPECT_EQ(pool_->size(), 2u);
  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{a1, a2}));
}

TEST_F(MempoolTest, HasExecutableIgnoresHeldTxs) {
  pool();
  EXPECT_FALSE(pool_->has_executable());
  ASSERT_TRUE(add(make_tx('a', 1, 1)).queued);
  EXPECT_FALSE(pool_->has_executable());
  ASSERT_FALSE(add(make_tx('a', 0, 1)).queued);
  EXPECT_TRUE(pool_->has_executable());
}

TEST_F(MempoolTest, ReapLimitsCountAndBytes) {
  pool();
  Bytes a0 = make_tx('a', 0, 50, 1, 100);
  Bytes a1 = make_tx('a', 1, 50, 1, 100);
  Bytes b0 = make_tx('b', 0, 40, 1, 20);
  Bytes c0 = make_tx('c', 0, 30, 1, 20);
  for (const Bytes& tx : {a0, a1, b0, c0}) ASSERT_EQ(add(tx).code, ResultCode::kOk);

  EXPECT_EQ(pool_->reap(2, 1 << 20), (std::vector<Bytes>{a0, a1}));
  EXPECT_EQ(pool_->reap(0, 1 << 20), std::vector<Bytes>{});
  EXPECT_EQ(pool_->reap(100, 140), (std::vector<Bytes>{a0, b0, c0}));
  // a0 does not fit in 50 bytes, so a1 cannot follow, but b0 and c0 can.
  EXPECT_EQ(pool_->reap(100, 50), (std::vector<Bytes>{b0, c0}));
  EXPECT_EQ(pool_->size(), 4u);
}

TEST_F(MempoolTest, AddBatchReturnsResultsInOrder) {
  pool({.max_txs = 100, .max_bytes = 1 << 20, .max_nonce_gap = 4});
  int callbacks = 0;
  pool_->set_on_new_tx([&callbacks] { ++callbacks; });

  Bytes a0 = make_tx('a', 0, 1);
  Bytes a1 = make_tx('a', 1, 1);
  Bytes bad = make_tx('b', 0, 1);
  app_.force_code(hash_of(bad), ResultCode::kBadSignature);
  std::vector<AddResult> results = pool_->add_batch({a1, a0, a0, bad, make_tx('c', 9, 1)});

  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].code, ResultCode::kOk);
  EXPECT_TRUE(results[0].queued);
  EXPECT_EQ(results[0].hash, hash_of(a1));
  EXPECT_EQ(results[1].code, ResultCode::kOk);
  EXPECT_FALSE(results[1].queued);
  EXPECT_EQ(results[2].code, ResultCode::kAlreadyInMempool);
  EXPECT_EQ(results[3].code, ResultCode::kBadSignature);
  EXPECT_EQ(results[4].code, ResultCode::kNonceTooHigh);
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(pool_->reap(100, 1 << 20), (std::vector<Bytes>{a0, a1}));

  std::vector<AddResult> rejected = pool_->add_batch({a0, bad});
  EXPECT_EQ(rejected[0].code, ResultCode::kAlreadyInMempool);
  EXPECT_EQ(callbacks, 1);  // nothing added, no call
  EXPECT_TRUE(pool_->add_batch({}).empty());
}

TEST_F(MempoolTest, AddBatchRechecksAfterConcurrentUpdate) {
  pool();
  Bytes stale = make_tx('a', 0, 1);
  // While the batch is being checked, a block commits nonce 0 of a and the
  // pool is updated, so the first check result is stale.
  app_.run_after_next_check([this] {
    app_.set_next_nonce('a', 1);
    pool_->update(1, {});
  });
  AddResult result = add(stale);
  EXPECT_EQ(result.code, ResultCode::kNonceTooLow) << result.log;
  EXPECT_EQ(pool_->size(), 0u);
}

TEST_F(MempoolTest, ConcurrentAddsKeepEveryTx) {
  // No block commits here, so every nonce counts against the gap limit.
  pool({.max_txs = 50000, .max_bytes = 1 << 20, .max_nonce_gap = 1000});
  constexpr int kThreads = 4;
  constexpr uint64_t kTxsPerThread = 300;
  std::atomic<int> rejections{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &rejections] {
      char sender = static_cast<char>('a' + t);
      // Even threads add one tx at a time, odd ones in batches of 30.
      std::vector<Bytes> batch;
      for (uint64_t nonce = 0; nonce < kTxsPerThread; ++nonce) {
        Bytes tx = make_tx(sender, nonce, 1 + nonce % 7);
        if (t % 2 == 0) {
          if (pool_->add(tx).code != ResultCode::kOk) rejections.fetch_add(1);
          continue;
        }
        batch.push_back(tx);
        if (batch.size() == 30) {
          for (const AddResult& r : pool_->add_batch(std::move(batch))) {
            if (r.code != ResultCode::kOk) rejections.fetch_add(1);
          }
          batch.clear();
        }
      }
    });
  }
  // A reader reaps while the writers run; every reap must be a valid order.
  std::thread reader([this] {
    for (int i = 0; i < 50; ++i) (void)pool_->reap(1000, 1 << 20);
  });
  for (auto& thread : threads) thread.join();
  reader.join();

  EXPECT_EQ(rejections.load(), 0);
  EXPECT_EQ(pool_->size(), kThreads * kTxsPerThread);
  std::vector<Bytes> reaped = pool_->reap(100000, 1 << 30);
  ASSERT_EQ(reaped.size(), kThreads * kTxsPerThread);
  std::map<char, uint64_t> next_nonce;
  for (const Bytes& tx : reaped) {
    std::istringstream in(to_string(tx));
    char sender = 0;
    uint64_t nonce = 0;
    in >> sender >> nonce;
    EXPECT_EQ(nonce, next_nonce[sender]) << "sender " << sender;
    next_nonce[sender] = nonce + 1;
  }
}

TEST_F(MempoolTest, BlocksCommitWhileTxsArrive) {
  pool({.max_txs = 50000, .max_bytes = 1 << 20, .max_nonce_gap = 1000});
  constexpr int kSenders = 3;
  constexpr uint64_t kTxsPerSender = 200;
  std::atomic<int> rejections{0};
  std::atomic<int> senders_done{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([this, t, &rejections, &senders_done] {
      char sender = static_cast<char>('a' + t);
      for (uint64_t nonce = 0; nonce < kTxsPerSender; nonce += 4) {
        std::vector<Bytes> batch;
        for (uint64_t n = nonce; n < nonce + 4; ++n) batch.push_back(make_tx(sender, n, 1 + n % 5));
        for (const AddResult& r : pool_->add_batch(std::move(batch))) {
          if (r.code != ResultCode::kOk) rejections.fetch_add(1);
        }
      }
      senders_done.fetch_add(1);
    });
  }

  // The block producer reaps up to 25 txs, "commits" them by advancing the
  // fake state, and updates the pool, until every tx is committed or the
  // senders are done and a reap finds nothing.
  std::map<char, uint64_t> committed_next;
  uint64_t committed = 0;
  uint64_t height = 0;
  while (committed < kSenders * kTxsPerSender) {
    bool all_sent = senders_done.load() == kSenders;
    std::vector<Bytes> block = pool_->reap(25, 1 << 20);
    if (block.empty() && all_sent) break;
    std::vector<Hash32> hashes;
    for (const Bytes& tx : block) {
      std::istringstream in(to_string(tx));
      char sender = 0;
      uint64_t nonce = 0;
      in >> sender >> nonce;
      EXPECT_EQ(nonce, committed_next[sender]) << "sender " << sender << " at height " << height + 1;
      committed_next[sender] = nonce + 1;
      app_.set_next_nonce(sender, nonce + 1);
      hashes.push_back(hash_of(tx));
    }
    committed += block.size();
    pool_->update(++height, hashes);
    if (block.empty()) std::this_thread::yield();
  }
  for (auto& thread : senders) thread.join();

  EXPECT_EQ(rejections.load(), 0);
  EXPECT_EQ(committed, kSenders * kTxsPerSender);
  EXPECT_EQ(pool_->size(), 0u);
  EXPECT_EQ(pool_->size_bytes(), 0u);
}

}  // namespace
}  // namespace automata::mempool
