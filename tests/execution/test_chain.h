// TestChain: an in-process chain for tests. It creates real keys, funds
// them in genesis, builds and signs txs, submits them through check_tx and
// closes blocks (prepare -> proposer signature -> finalize -> commit) in a
// RocksDB under a fresh temp directory, removed on destruction.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/chain.h"
#include "automata/execution/gas.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/state.pb.h"
#include "automata/v1/tx.pb.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace automata::execution::testing {

struct TestKey {
  crypto::PrivateKey secret;
  crypto::PublicKey pubkey;
  Address address;
};

inline TestKey make_key() {
  crypto::PrivateKey secret = crypto::PrivateKey::generate();
  crypto::PublicKey pubkey = secret.public_key();
  return TestKey{secret, pubkey, crypto::address_of(pubkey)};
}

inline v1::Coin coin(const std::string& denom, Amount amount) {
  v1::Coin out;
  out.set_denom(denom);
  out.set_amount(amount_to_string(amount));
  return out;
}

inline v1::Op transfer_op(const Address& to, const std::vector<v1::Coin>& coins) {
  v1::Op op;
  v1::Transfer* transfer = op.mutable_transfer();
  transfer->set_to(to.data(), to.size());
  for (const v1::Coin& c : coins) *transfer->add_amount() = c;
  return op;
}

inline v1::Op multi_send_op(const std::vector<std::pair<Address, std::vector<v1::Coin>>>& outputs) {
  v1::Op op;
  for (const auto& [to, coins] : outputs) {
    v1::Output* output = op.mutable_multi_send()->add_outputs();
    output->set_to(to.data(), to.size());
    for (const v1::Coin& c : coins) *output->add_amount() = c;
  }
  return op;
}

// The body fields a test sets; every other field gets a valid default.
struct TxSpec {
  std::vector<v1::Op> ops;
  uint64_t nonce = 0;
  uint64_t gas_limit = 100'000;
  std::optional<Amount> fee = std::nullopt;  // default: gas_limit * min_gas_price
  std::string fee_denom = "atm";
  uint64_t expiry_height = 0;
  std::string memo = {};
  std::optional<std::string> chain_id = std::nullopt;  // default: the test chain's id
};

// Serializes body and signs it with key. Tests that need a malformed tx
// edit the returned Tx before serializing it.
inline v1::Tx sign_body(const v1::TxBody& body, const TestKey& key) {
  v1::Tx tx;
  tx.set_body_bytes(body.SerializeAsString());
  Hash32 hash = crypto::sha256(as_view(tx.body_bytes()));
  crypto::Signature signature = key.secret.sign(hash);
  tx.set_signature(signature.data(), signature.size());
  return tx;
}

inline Bytes to_tx_bytes(const v1::Tx& tx) { return to_bytes(tx.SerializeAsString()); }

class TestChain {
 public:
  static constexpr Amount kInitialAtm = 1'000'000'000'000;
  static constexpr Amount kInitialGold = 5'000;

  // Funds `accounts` fresh keys with kInitialAtm atm and kInitialGold "gold".
  explicit TestChain(size_t accounts = 4, ChainParameters params = {}) : validator_(make_key()) {
    char pattern[] = "/tmp/automata_exec_test_XXXXXX";
    char* dir = mkdtemp(pattern);
    EXPECT_NE(dir, nullptr) << "mkdtemp failed";
    dir_ = dir != nullptr ? dir : "/tmp/automata_exec_test_fallback";
    genesis_.chain_id = "test-chain";
    genesis_.genesis_time_ms = 1'000;
    genesis_.params = params;
    genesis_.validators.push_back(GenesisValidator{validator_.pubkey, 10, "validator-0"});
    for (size_t i = 0; i < accounts; ++i) {
      keys_.push_back(make_key());
      genesis_.accounts.push_back(GenesisAccount{keys_.back().address, {{"atm", kInitialAtm}, {"gold", kInitialGold}}});
    }
    Status status = open();
    EXPECT_TRUE(status.is_ok()) << status.to_string();
  }

  ~TestChain() {
    chain_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Status open() {
    ChainOptions options;
    options.db_path = dir_ + "/db";
    options.verify_threads = 2;
    return Chain::open(options, genesis_, &chain_);
  }

  // Closes and reopens the database, as after a restart.
  Status reopen() {
    chain_.reset();
    return open();
  }

  Chain& chain() { return *chain_; }
  const Genesis& genesis() const { return genesis_; }
  Genesis& mutable_genesis() { return genesis_; }
  const TestKey& key(size_t i) const { return keys_.at(i); }
  const TestKey& validator() const { return validator_; }
  const std::string& dir() const { return dir_; }

  v1::TxBody body(const TestKey& signer, const TxSpec& spec) const {
    v1::TxBody body;
    body.set_chain_id(spec.chain_id.value_or(genesis_.chain_id));
    body.set_signer(signer.pubkey.data(), signer.pubkey.size());
    body.set_nonce(spec.nonce);
    body.set_gas_limit(spec.gas_limit);
    Amount fee = spec.fee.value_or(Amount{spec.gas_limit} * genesis_.params.min_gas_price);
    *body.mutable_fee() = coin(spec.fee_denom, fee);
    if (spec.fee_denom.empty()) body.mutable_fee()->clear_denom();
    body.set_expiry_height(spec.expiry_height);
    body.set_memo(spec.memo);
    for (const v1::Op& op : spec.ops) *body.add_ops() = op;
    return body;
  }

  Bytes make_tx(const TestKey& signer, const TxSpec& spec) const { return to_tx_bytes(sign_body(body(signer, spec), signer)); }

  // Runs check_tx; a tx it accepts joins the next block.
  TxCheck submit(const Bytes& tx) {
    TxCheck check = chain_->check_tx(tx);
    if (check.code == ResultCode::kOk) pending_.push_back(tx);
    return check;
  }

  // Adds a tx to the next block without check_tx, as a peer's tx would be.
  void add_unchecked(const Bytes& tx) { pending_.push_back(tx); }

  // Prepares a block from the pending txs, signs it as the validator,
  // finalizes and commits it. block (optional) receives the signed block.
  Status close_block(v1::Block* out = nullptr) {
    BlockContext context;
    context.height = chain_->last_height() + 1;
    context.time_ms = genesis_.genesis_time_ms + 1'000 * context.height;
    context.proposer = validator_.address;
    v1::Block block;
    Status status = chain_->prepare_block(context, pending_, &block);
    if (!status.is_ok()) return status;
    pending_.clear();
    sign_block(&block);
    status = chain_->finalize_block(block);
    if (!status.is_ok()) return status;
    status = chain_->commit();
    if (out != nullptr) *out = block;
    return status;
  }

  void sign_block(v1::Block* block) const {
    Hash32 hash = crypto::sha256(as_view(block->header_bytes()));
    crypto::Signature signature = validator_.secret.sign(hash);
    block->set_proposer_signature(signature.data(), signature.size());
  }

  // Result of the committed tx with this serialized form.
  v1::TxResult result_of(const Bytes& tx) {
    v1::Tx parsed;
    EXPECT_TRUE(parsed.ParseFromArray(tx.data(), static_cast<int>(tx.size())));
    Hash32 hash = crypto::sha256(as_view(parsed.body_bytes()));
    v1::TxLocation location;
    Status status = chain_->tx_location(hash, &location);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    v1::BlockResults results;
    status = chain_->block_results(location.height(), &results);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    if (static_cast<int>(location.index()) >= results.results_size()) return {};
    return results.results(static_cast<int>(location.index()));
  }

  v1::Account account(const Address& address, std::optional<uint64_t> height = std::nullopt) {
    v1::Account out;
    uint64_t at = 0;
    Status status = chain_->account(address, height, &out, &at);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return out;
  }

  Amount balance(const Address& address, const std::string& denom, std::optional<uint64_t> height = std::nullopt) {
    v1::Account acc = account(address, height);
    for (const v1::Coin& c : acc.balances()) {
      if (c.denom() == denom) return *parse_amount(c.amount());
    }
    return 0;
  }

 private:
  TestKey validator_;
  std::string dir_;
  Genesis genesis_;
  std::vector<TestKey> keys_;
  std::vector<Bytes> pending_;
  std::unique_ptr<Chain> chain_;
};

}  // namespace automata::execution::testing
