// Pins the state root, results root and per-tx results of two small
// blocks built from fixed keys. The expected values were printed by the
// executor as it was before the performance work on the block path
// (commit bc11aff), so any change to execution output fails here.
#include "test_chain.h"

#include "automata/crypto/merkle.h"

#include <gtest/gtest.h>

namespace automata::execution::testing {
namespace {

TestKey fixed_key(const std::string& seed) {
  std::string input = "state_root_pin/" + seed;
  std::optional<crypto::PrivateKey> secret = crypto::PrivateKey::from_bytes(crypto::sha256(as_view(input)));
  EXPECT_TRUE(secret.has_value()) << "seed " << seed << " gives no valid secret key";
  crypto::PublicKey pubkey = secret->public_key();
  return TestKey{*secret, pubkey, crypto::address_of(pubkey)};
}

Address fixed_address(uint8_t fill) {
  Address out{};
  out.fill(fill);
  return out;
}

// A chain in a temp directory whose genesis and keys depend only on the
// seeds above.
class PinnedChain {
 public:
  static constexpr size_t kKeys = 6;

  PinnedChain() : validator_(fixed_key("validator")) {
    char pattern[] = "/tmp/automata_pin_test_XXXXXX";
    char* dir = mkdtemp(pattern);
    EXPECT_NE(dir, nullptr) << "mkdtemp failed";
    dir_ = dir != nullptr ? dir : "/tmp/automata_pin_test_fallback";
    genesis_.chain_id = "pin-chain";
    genesis_.genesis_time_ms = 1'000;
    // The pinned roots were computed with the 32 KiB tx limit of the first
    // release; the limit is part of the genesis state, so it is pinned too.
    genesis_.params.max_tx_bytes = 32 * 1024;
    genesis_.validators.push_back(GenesisValidator{validator_.pubkey, 10, "validator-0"});
    for (size_t i = 0; i < kKeys; ++i) {
      keys_.push_back(fixed_key("account/" + std::to_string(i)));
      genesis_.accounts.push_back(
          GenesisAccount{keys_.back().address, {{"atm", Amount{1'000'000'000}}, {"gold", Amount{5'000}}}});
    }
    ChainOptions options;
    options.db_path = dir_ + "/db";
    options.verify_threads = 2;
    Status status = Chain::open(options, genesis_, &chain_);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
  }

  ~PinnedChain() {
    chain_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Chain& chain() { return *chain_; }
  const TestKey& key(size_t i) const { return keys_.at(i); }

  Bytes tx(size_t signer, uint64_t nonce, const std::vector<v1::Op>& ops, uint64_t gas_limit = 100'000) const {
    const TestKey& key = keys_.at(signer);
    v1::TxBody body;
    body.set_chain_id(genesis_.chain_id);
    body.set_signer(key.pubkey.data(), key.pubkey.size());
    body.set_nonce(nonce);
    body.set_gas_limit(gas_limit);
    *body.mutable_fee() = coin("atm", Amount{gas_limit});
    for (const v1::Op& op : ops) *body.add_ops() = op;
    return to_tx_bytes(sign_body(body, key));
  }

  Status prepare(const std::vector<Bytes>& candidates, v1::Block* block) {
    BlockContext context;
    context.height = chain_->last_height() + 1;
    context.time_ms = genesis_.genesis_time_ms + 1'000 * context.height;
    context.proposer = validator_.address;
    Status status = chain_->prepare_block(context, candidates, block);
    if (!status.is_ok()) return status;
    Hash32 hash = crypto::sha256(as_view(block->header_bytes()));
    crypto::Signature signature = validator_.secret.sign(hash);
    block->set_proposer_signature(signature.data(), signature.size());
    return Status::ok();
  }

  Status finalize_and_commit(const v1::Block& block) {
    Status status = chain_->finalize_block(block);
    if (!status.is_ok()) return status;
    return chain_->commit();
  }

 private:
  TestKey validator_;
  std::string dir_;
  Genesis genesis_;
  std::vector<TestKey> keys_;
  std::unique_ptr<Chain> chain_;
};

struct ExpectedResult {
  ResultCode code;
  uint64_t gas_used;
};

// Block 1: plain, multi-denom, multi-send and self transfers, a transfer
// that empties a denom, a failed op that still pays its fee, an op out of
// gas and a second tx from one sender. Prepare drops three more candidates
// (nonce too high, bad signature, duplicate nonce).
std::vector<Bytes> block_one_candidates(const PinnedChain& pin) {
  const Address stranger = fixed_address(0x51);
  const Address other = fixed_address(0x52);
  std::vector<Bytes> txs;
  txs.push_back(pin.tx(0, 0, {transfer_op(pin.key(1).address, {coin("atm", 100)})}));
  txs.push_back(pin.tx(1, 0, {transfer_op(stranger, {coin("atm", 3), coin("gold", 5'000)})}));
  txs.push_back(pin.tx(2, 0,
                       {multi_send_op({{pin.key(3).address, {coin("atm", 10), coin("gold", 1)}},
                                       {other, {coin("atm", 20)}}})}));
  txs.push_back(pin.tx(3, 0, {transfer_op(pin.key(3).address, {coin("atm", 7)})}));
  txs.push_back(pin.tx(4, 0, {transfer_op(pin.key(0).address, {coin("atm", 2'000'000'000)})}));
  txs.push_back(pin.tx(5, 0, {transfer_op(pin.key(0).address, {coin("gold", 1)})}, 9'000));
  txs.push_back(pin.tx(0, 1,
                       {transfer_op(stranger, {coin("gold", 2)}), transfer_op(other, {coin("atm", 1)})}));
  txs.push_back(pin.tx(0, 5, {transfer_op(stranger, {coin("atm", 1)})}));
  Bytes forged = pin.tx(2, 1, {transfer_op(stranger, {coin("atm", 1)})});
  forged[forged.size() - 1] ^= 0x01;
  txs.push_back(forged);
  txs.push_back(pin.tx(3, 0, {transfer_op(stranger, {coin("atm", 1)})}));
  return txs;
}

// Block 2: the sender whose op failed sends again, and the account that
// sent all its gold fails for lack of it.
std::vector<Bytes> block_two_candidates(const PinnedChain& pin) {
  std::vector<Bytes> txs;
  txs.push_back(pin.tx(4, 1, {transfer_op(pin.key(5).address, {coin("atm", 11)})}));
  txs.push_back(pin.tx(1, 1, {transfer_op(pin.key(0).address, {coin("gold", 1)})}));
  txs.push_back(pin.tx(2, 1, {transfer_op(pin.key(2).address, {coin("gold", 4'999)})}));
  return txs;
}

// Root of one committed block's results, as the header's results_root.
Hash32 committed_results_root(Chain& chain, uint64_t height) {
  v1::BlockResults results;
  Status status = chain.block_results(height, &results);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  std::vector<Hash32> leaves;
  for (const v1::TxResult& result : results.results()) {
    leaves.push_back(crypto::merkle_leaf_hash(as_view(result.SerializeAsString())));
  }
  return crypto::merkle_root_from_leaves(leaves);
}

void expect_results(Chain& chain, uint64_t height, const std::vector<ExpectedResult>& expected) {
  v1::BlockResults results;
  Status status = chain.block_results(height, &results);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  ASSERT_EQ(results.results_size(), static_cast<int>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    const v1::TxResult& result = results.results(static_cast<int>(i));
    EXPECT_EQ(result.code(), static_cast<uint32_t>(expected[i].code)) << "tx " << i << ": " << result.log();
    EXPECT_EQ(result.gas_used(), expected[i].gas_used) << "tx " << i;
  }
}

v1::BlockHeader header_of(const v1::Block& block) {
  v1::BlockHeader header;
  EXPECT_TRUE(header.ParseFromString(block.header_bytes()));
  return header;
}

// Values printed by the executor before the performance work.
constexpr std::string_view kBlockOneStateRoot = "ef6074095869029d32855e4e67c160e5048b68c9951c47a9a8a25197da6e1091";
constexpr std::string_view kBlockOneResultsRoot = "1ada2d34e84660fbc2f1027cf87445ace1a4a165208043115c98461585d6403b";
constexpr std::string_view kBlockTwoStateRoot = "91c6f15987799cb11cd2e913c51a34d8d6b31e944366d114e4050822d027699b";
constexpr std::string_view kBlockTwoResultsRoot = "aabe68e3ae15350e4a6e08b6aa443d7df1139a6c7aae8e12aaad54da1c8f8a14";

TEST(StateRootPin, TwoBlocksMatchPinnedRoots) {
  PinnedChain pin;

  v1::Block block;
  ASSERT_TRUE(pin.prepare(block_one_candidates(pin), &block).is_ok());
  ASSERT_EQ(block.txs_size(), 7);
  v1::BlockHeader header = header_of(block);
  EXPECT_EQ(to_hex(as_view(header.state_root())), kBlockOneStateRoot);
  EXPECT_EQ(to_hex(as_view(header.results_root())), kBlockOneResultsRoot);
  ASSERT_TRUE(pin.finalize_and_commit(block).is_ok());
  EXPECT_EQ(to_hex(committed_results_root(pin.chain(), 1)), kBlockOneResultsRoot);
  expect_results(pin.chain(), 1,
                 {{ResultCode::kOk, 10'600},
                  {ResultCode::kOk, 11'220},
                  {ResultCode::kOk, 13'280},
                  {ResultCode::kOk, 9'380},
                  {ResultCode::kInsufficientFunds, 9'470},
                  {ResultCode::kOutOfGas, 9'000},
                  {ResultCode::kOk, 14'880}});

  ASSERT_TRUE(pin.prepare(block_two_candidates(pin), &block).is_ok());
  ASSERT_EQ(block.txs_size(), 3);
  header = header_of(block);
  EXPECT_EQ(to_hex(as_view(header.state_root())), kBlockTwoStateRoot);
  EXPECT_EQ(to_hex(as_view(header.results_root())), kBlockTwoResultsRoot);
  ASSERT_TRUE(pin.finalize_and_commit(block).is_ok());
  expect_results(pin.chain(), 2, {{ResultCode::kOk, 10'610}, {ResultCode::kInsufficientFunds, 9'410}, {ResultCode::kOk, 9'440}});
}

// A peer that did not build the blocks validates them through
// process_block and finalize_block (the kValidate path) and must reach the
// same pinned roots.
TEST(StateRootPin, ValidatingPeerMatchesPinnedRoots) {
  PinnedChain proposer;
  PinnedChain peer;

  v1::Block block;
  ASSERT_TRUE(proposer.prepare(block_one_candidates(proposer), &block).is_ok());
  ASSERT_TRUE(proposer.finalize_and_commit(block).is_ok());
  Status status = peer.chain().process_block(block);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  status = peer.finalize_and_commit(block);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(to_hex(peer.chain().status().state_root), kBlockOneStateRoot);
  EXPECT_EQ(to_hex(committed_results_root(peer.chain(), 1)), kBlockOneResultsRoot);

  ASSERT_TRUE(proposer.prepare(block_two_candidates(proposer), &block).is_ok());
  ASSERT_TRUE(proposer.finalize_and_commit(block).is_ok());
  status = peer.finalize_and_commit(block);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(to_hex(peer.chain().status().state_root), kBlockTwoStateRoot);
  EXPECT_EQ(to_hex(committed_results_root(peer.chain(), 2)), kBlockTwoResultsRoot);
}

}  // namespace
}  // namespace automata::execution::testing
