// The mempool in front of a real Chain: RocksDB in a temp directory, signed
// transfers, and a committed block followed by update().
#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/chain.h"
#include "automata/mempool/mempool.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/tx.pb.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace automata::mempool {
namespace {

using execution::ResultCode;

constexpr uint64_t kGasLimit = 50000;
constexpr uint64_t kEveBalance = 4 * kGasLimit;

struct SignedTx {
  Bytes bytes;
  Hash32 hash{};  // SHA-256 of body_bytes, as check_tx computes it
};

SignedTx sign_transfer(const crypto::PrivateKey& key, const std::string& chain_id, uint64_t nonce, uint64_t fee,
                       const Address& to, const std::string& amount) {
  v1::TxBody body;
  body.set_chain_id(chain_id);
  crypto::PublicKey signer = key.public_key();
  body.set_signer(std::string(signer.begin(), signer.end()));
  body.set_nonce(nonce);
  body.set_gas_limit(kGasLimit);
  body.mutable_fee()->set_denom("atm");
  body.mutable_fee()->set_amount(std::to_string(fee));
  v1::Transfer* transfer = body.add_ops()->mutable_transfer();
  transfer->set_to(std::string(to.begin(), to.end()));
  v1::Coin* coin = transfer->add_amount();
  coin->set_denom("atm");
  coin->set_amount(amount);

  std::string body_bytes = body.SerializeAsString();
  SignedTx out;
  out.hash = crypto::sha256(as_view(body_bytes));
  crypto::Signature signature = key.sign(out.hash);
  v1::Tx tx;
  tx.set_body_bytes(body_bytes);
  tx.set_signature(std::string(signature.begin(), signature.end()));
  out.bytes = to_bytes(tx.SerializeAsString());
  return out;
}

class ChainMempoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "automata-mempool-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp failed for " << pattern;
    dir_ = pattern;

    genesis_.chain_id = "mempool-test";
    genesis_.genesis_time_ms = 1'700'000'000'000;
    genesis_.validators.push_back({validator_.public_key(), 1, "validator-0"});
    for (const crypto::PrivateKey* key : {&alice_, &bob_, &dave_}) {
      genesis_.accounts.push_back({crypto::address_of(key->public_key()), {{"atm", Amount{1'000'000'000'000}}}});
    }
    genesis_.accounts.push_back({crypto::address_of(eve_.public_key()), {{"atm", Amount{kEveBalance}}}});
    ASSERT_EQ(execution::validate_genesis(genesis_), "");

    execution::ChainOptions options;
    options.db_path = (dir_ / "db").string();
    options.verify_threads = 1;
    Status status = execution::Chain::open(options, genesis_, &chain_);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  }

  void TearDown() override {
    chain_.reset();
    std::filesystem::remove_all(dir_);
  }

  SignedTx transfer(const crypto::PrivateKey& from, uint64_t nonce, uint64_t fee, const std::string& amount = "1") {
    return sign_transfer(from, genesis_.chain_id, nonce, fee, crypto::address_of(carol_.public_key()), amount);
  }

  // Builds, finalizes and commits the next block from candidate txs, and
  // returns the hashes of the txs it included.
  std::vector<Hash32> commit_block(const std::vector<Bytes>& candidates) {
    execution::BlockContext context;
    context.height = chain_->last_height() + 1;
    context.time_ms = genesis_.genesis_time_ms + 1000 * context.height;
    context.proposer = crypto::address_of(validator_.public_key());
    v1::Block block;
    Status status = chain_->prepare_block(context, candidates, &block);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    // The proposer signs SHA-256 of the header bytes.
    crypto::Signature signature = validator_.sign(crypto::sha256(as_view(block.header_bytes())));
    block.set_proposer_signature(std::string(signature.begin(), signature.end()));
    status = chain_->finalize_block(block);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    status = chain_->commit();
    EXPECT_TRUE(status.is_ok()) << status.to_string();

    std::vector<Hash32> included;
    for (const std::string& tx_bytes : block.txs()) {
      v1::Tx tx;
      EXPECT_TRUE(tx.ParseFromString(tx_bytes));
      included.push_back(crypto::sha256(as_view(tx.body_bytes())));
    }
    return included;
  }

  std::filesystem::path dir_;
  crypto::PrivateKey validator_ = crypto::PrivateKey::generate();
  crypto::PrivateKey alice_ = crypto::PrivateKey::generate();
  crypto::PrivateKey bob_ = crypto::PrivateKey::generate();
  crypto::PrivateKey carol_ = crypto::PrivateKey::generate();  // unfunded receiver
  crypto::PrivateKey dave_ = crypto::PrivateKey::generate();
  crypto::PrivateKey eve_ = crypto::PrivateKey::generate();  // funded with kEveBalance only
  execution::Genesis genesis_;
  std::unique_ptr<execution::Chain> chain_;
};

TEST_F(ChainMempoolTest, SignedTransfersThroughBlock) {
  Mempool pool(chain_.get(), MempoolConfig{});
  SignedTx alice0 = transfer(alice_, 0, kGasLimit);
  SignedTx alice1 = transfer(alice_, 1, kGasLimit);
  SignedTx alice2 = transfer(alice_, 2, kGasLimit);
  SignedTx bob0 = transfer(bob_, 0, 2 * kGasLimit);
  SignedTx dave0 = transfer(dave_, 0, kGasLimit);

  AddResult held = pool.add(alice2.bytes);
  EXPECT_EQ(held.code, ResultCode::kOk) << held.log;
  EXPECT_TRUE(held.queued);
  EXPECT_EQ(held.hash, alice2.hash);
  std::vector<AddResult> results = pool.add_batch({alice0.bytes, alice1.bytes, bob0.bytes, dave0.bytes});
  for (const AddResult& result : results) EXPECT_EQ(result.code, ResultCode::kOk) << result.log;

  // A signature over another body is rejected with check_tx's code.
  SignedTx forged = transfer(alice_, 3, kGasLimit);
  v1::Tx tampered;
  ASSERT_TRUE(tampered.ParseFromString(to_string(forged.bytes)));
  crypto::Signature other = alice_.sign(transfer(alice_, 3, kGasLimit + 1).hash);
  tampered.set_signature(std::string(other.begin(), other.end()));
  AddResult bad = pool.add(to_bytes(tampered.SerializeAsString()));
  EXPECT_EQ(bad.code, ResultCode::kBadSignature) << bad.log;
  EXPECT_EQ(pool.size(), 5u);

  // bob pays twice the fee per gas; alice's nonces stay in order.
  std::vector<Bytes> expected = {bob0.bytes, alice0.bytes, alice1.bytes, alice2.bytes, dave0.bytes};
  EXPECT_EQ(pool.reap(100, 1 << 20), expected);

  // Block 1 takes bob0 and alice0 from the pool, plus a nonce-0 tx of dave
  // that never entered this pool.
  SignedTx dave_elsewhere = transfer(dave_, 0, kGasLimit, "2");
  std::vector<Hash32> included = commit_block({bob0.bytes, alice0.bytes, dave_elsewhere.bytes});
  ASSERT_EQ(included, (std::vector<Hash32>{bob0.hash, alice0.hash, dave_elsewhere.hash}));
  pool.update(1, included);

  EXPECT_FALSE(pool.contains(bob0.hash));
  EXPECT_FALSE(pool.contains(alice0.hash));
  EXPECT_FALSE(pool.contains(dave0.hash));  // nonce 0 of dave is used now
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool.reap(100, 1 << 20), (std::vector<Bytes>{alice1.bytes, alice2.bytes}));
  EXPECT_EQ(pool.pending_nonce(crypto::address_of(alice_.public_key())), 3u);

  AddResult stale = pool.add(transfer(alice_, 0, 3 * kGasLimit).bytes);
  EXPECT_EQ(stale.code, ResultCode::kNonceTooLow) << stale.log;

  // Block 2 empties the pool.
  included = commit_block(pool.reap(100, 1 << 20));
  ASSERT_EQ(included.size(), 2u);
  pool.update(2, included);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.size_bytes(), 0u);
}

TEST_F(ChainMempoolTest, UpdateDropsTxWhoseFeeBlockSpent) {
  Mempool pool(chain_.get(), MempoolConfig{});
  // eve's balance is 4 gas limits' worth of atm. eve0 sends 2 of them and pays 1
  // in fee, which leaves less than eve1's fee.
  SignedTx eve0 = transfer(eve_, 0, kGasLimit, std::to_string(2 * kGasLimit));
  SignedTx eve1 = transfer(eve_, 1, kGasLimit + 1);
  SignedTx alice0 = transfer(alice_, 0, kGasLimit);
  for (const SignedTx* tx : {&eve0, &eve1, &alice0}) {
    AddResult result = pool.add(tx->bytes);
    ASSERT_EQ(result.code, ResultCode::kOk) << result.log;
  }

  std::vector<Hash32> included = commit_block({eve0.bytes});
  ASSERT_EQ(included, std::vector<Hash32>{eve0.hash});
  pool.update(1, included);

  EXPECT_FALSE(pool.contains(eve0.hash));
  EXPECT_FALSE(pool.contains(eve1.hash)) << "eve1 can no longer pay its fee but stayed in the pool";
  EXPECT_TRUE(pool.contains(alice0.hash));
  EXPECT_EQ(pool.reap(100, 1 << 20), std::vector<Bytes>{alice0.bytes});
}

}  // namespace
}  // namespace automata::mempool
