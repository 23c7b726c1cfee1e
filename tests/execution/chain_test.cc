#include "automata/crypto/merkle.h"
#include "automata/execution/fee_collector.h"
#include "automata/state/state_tree.h"
#include "automata/types/state_keys.h"
#include "test_chain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace automata::execution::testing {
namespace {

using ::testing::HasSubstr;

v1::BlockHeader header_of(const v1::Block& block) {
  v1::BlockHeader header;
  EXPECT_TRUE(header.ParseFromString(block.header_bytes()));
  return header;
}

uint32_t code_of(ResultCode code) { return static_cast<uint32_t>(code); }

TEST(Chain, TransferMovesCoinsAndChargesFee) {
  TestChain t;
  const TestKey& alice = t.key(0);
  const TestKey& bob = t.key(1);
  TxSpec spec;
  spec.ops = {transfer_op(bob.address, {coin("atm", 250), coin("gold", 7)})};
  Bytes tx = t.make_tx(alice, spec);
  TxCheck check = t.submit(tx);
  ASSERT_EQ(check.code, ResultCode::kOk) << check.log;
  ASSERT_TRUE(t.close_block().is_ok());

  v1::TxResult result = t.result_of(tx);
  EXPECT_EQ(result.code(), code_of(ResultCode::kOk)) << result.log();
  const Amount fee = Amount{spec.gas_limit} * t.genesis().params.min_gas_price;
  EXPECT_EQ(t.balance(alice.address, "atm"), TestChain::kInitialAtm - 250 - fee);
  EXPECT_EQ(t.balance(alice.address, "gold"), TestChain::kInitialGold - 7);
  EXPECT_EQ(t.balance(bob.address, "atm"), TestChain::kInitialAtm + 250);
  EXPECT_EQ(t.balance(bob.address, "gold"), TestChain::kInitialGold + 7);
  EXPECT_EQ(t.balance(fee_collector_address(), "atm"), fee);

  v1::Account account = t.account(alice.address);
  EXPECT_EQ(account.nonce(), 1u);
  EXPECT_EQ(account.pubkey(), std::string(alice.pubkey.begin(), alice.pubkey.end()));
}

TEST(Chain, GasUsedFollowsTheSchedule) {
  TestChain t;
  TxSpec spec;
  spec.ops = {transfer_op(t.key(1).address, {coin("atm", 1), coin("gold", 1)})};
  Bytes tx = t.make_tx(t.key(0), spec);
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());
  // Signer read+write, recipient read+write, two coins.
  uint64_t expected = gas::intrinsic(tx.size(), 1) + 2 * (gas::kPerAccountRead + gas::kPerAccountWrite) +
                      2 * gas::kPerCoinMoved;
  EXPECT_EQ(t.result_of(tx).gas_used(), expected);
}

TEST(Chain, TransferToSelfKeepsBalance) {
  TestChain t;
  TxSpec spec;
  spec.ops = {transfer_op(t.key(0).address, {coin("gold", 100)})};
  Bytes tx = t.make_tx(t.key(0), spec);
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());
  EXPECT_EQ(t.result_of(tx).code(), code_of(ResultCode::kOk));
  EXPECT_EQ(t.balance(t.key(0).address, "gold"), TestChain::kInitialGold);
}

TEST(Chain, MultiSendPaysEveryOutput) {
  TestChain t;
  const Address fresh = crypto::address_of(make_key().pubkey);
  TxSpec spec;
  spec.ops = {multi_send_op({{t.key(1).address, {coin("gold", 10)}},
                             {t.key(2).address, {coin("gold", 20), coin("atm", 5)}},
                             {fresh, {coin("gold", 30)}}})};
  Bytes tx = t.make_tx(t.key(0), spec);
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());
  ASSERT_EQ(t.result_of(tx).code(), code_of(ResultCode::kOk)) << t.result_of(tx).log();
  EXPECT_EQ(t.balance(t.key(0).address, "gold"), TestChain::kInitialGold - 60);
  EXPECT_EQ(t.balance(t.key(1).address, "gold"), TestChain::kInitialGold + 10);
  EXPECT_EQ(t.balance(t.key(2).address, "gold"), TestChain::kInitialGold + 20);
  EXPECT_EQ(t.balance(t.key(2).address, "atm"), TestChain::kInitialAtm + 5);
  EXPECT_EQ(t.balance(fresh, "gold"), 30u);
  v1::Account created = t.account(fresh);
  EXPECT_EQ(created.nonce(), 0u);
  ASSERT_EQ(created.balances_size(), 1);
}

TEST(Chain, FailedOpUndoesEarlierOps) {
  TestChain t;
  const TestKey& alice = t.key(0);
  TxSpec spec;
  spec.ops = {transfer_op(t.key(1).address, {coin("gold", 100)}),
              transfer_op(t.key(2).address, {coin("gold", TestChain::kInitialGold)})};
  Bytes tx = t.make_tx(alice, spec);
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());

  v1::TxResult result = t.result_of(tx);
  EXPECT_EQ(result.code(), code_of(ResultCode::kInsufficientFunds));
  EXPECT_THAT(result.log(), HasSubstr("ops[1]"));
  EXPECT_THAT(result.log(), HasSubstr("balance 4900gold"));
  EXPECT_EQ(t.balance(alice.address, "gold"), TestChain::kInitialGold);
  EXPECT_EQ(t.balance(t.key(1).address, "gold"), TestChain::kInitialGold);
  EXPECT_EQ(t.account(alice.address).nonce(), 1u);
  const Amount fee = Amount{spec.gas_limit} * t.genesis().params.min_gas_price;
  EXPECT_EQ(t.balance(alice.address, "atm"), TestChain::kInitialAtm - fee);
  EXPECT_EQ(t.balance(fee_collector_address(), "atm"), fee);
}

TEST(Chain, InsufficientFundsFailsTheTx) {
  TestChain t;
  TxSpec spec;
  spec.ops = {transfer_op(t.key(1).address, {coin("silver", 1)})};
  Bytes tx = t.make_tx(t.key(0), spec);
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());
  v1::TxResult result = t.result_of(tx);
  EXPECT_EQ(result.code(), code_of(ResultCode::kInsufficientFunds));
  EXPECT_THAT(result.log(), HasSubstr("balance 0silver"));
  EXPECT_EQ(t.balance(t.key(1).address, "silver"), 0u);
}

TEST(Chain, OutOfGasDiscardsOps) {
  TestChain t;
  TxSpec spec;
  spec.ops = {multi_send_op({{t.key(1).address, {coin("gold", 1)}}, {t.key(2).address, {coin("gold", 1)}}})};
  // The limit covers the intrinsic gas but not the op's reads and writes.
  Bytes probe = t.make_tx(t.key(0), spec);
  spec.gas_limit = gas::intrinsic(probe.size(), 1) + gas::kPerAccountRead;
  Bytes tx = t.make_tx(t.key(0), spec);
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());
  v1::TxResult result = t.result_of(tx);
  EXPECT_EQ(result.code(), code_of(ResultCode::kOutOfGas));
  EXPECT_EQ(result.gas_used(), spec.gas_limit);
  EXPECT_EQ(t.balance(t.key(1).address, "gold"), TestChain::kInitialGold);
  EXPECT_EQ(t.account(t.key(0).address).nonce(), 1u);
}

TEST(Chain, SupplyConservedAfterManyTxs) {
  TestChain t(6);
  std::vector<uint64_t> nonces(6, 0);
  std::vector<Bytes> txs;
  for (int block = 0; block < 4; ++block) {
    for (size_t from = 0; from < 6; ++from) {
      TxSpec spec;
      size_t to = (from + 1 + static_cast<size_t>(block)) % 6;
      spec.nonce = nonces[from]++;
      // Every fourth tx sends more gold than exists, so it fails.
      Amount gold = (from + static_cast<size_t>(block)) % 4 == 0 ? TestChain::kInitialGold * 10 : 37 + from;
      spec.ops = {transfer_op(t.key(to).address, {coin("gold", gold), coin("atm", 1000 + from)}),
                  multi_send_op({{t.key((to + 1) % 6).address, {coin("atm", 3)}}})};
      Bytes tx = t.make_tx(t.key(from), spec);
      ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
      txs.push_back(tx);
    }
    ASSERT_TRUE(t.close_block().is_ok());
  }
  Amount atm = t.balance(fee_collector_address(), "atm");
  Amount gold = 0;
  for (size_t i = 0; i < 6; ++i) {
    atm += t.balance(t.key(i).address, "atm");
    gold += t.balance(t.key(i).address, "gold");
  }
  EXPECT_EQ(atm, TestChain::kInitialAtm * 6);
  EXPECT_EQ(gold, TestChain::kInitialGold * 6);
  int failed = 0;
  for (const Bytes& tx : txs) failed += t.result_of(tx).code() != 0 ? 1 : 0;
  EXPECT_EQ(failed, 6);
}

TEST(Chain, BlockHeaderFields) {
  TestChain t;
  v1::Block first;
  ASSERT_TRUE(t.close_block(&first).is_ok());
  Bytes tx1 = t.make_tx(t.key(0), TxSpec{.ops = {transfer_op(t.key(1).address, {coin("atm", 5)})}});
  Bytes tx2 = t.make_tx(t.key(1), TxSpec{.ops = {transfer_op(t.key(2).address, {coin("atm", 6)})}});
  ASSERT_EQ(t.submit(tx1).code, ResultCode::kOk);
  ASSERT_EQ(t.submit(tx2).code, ResultCode::kOk);
  v1::Block second;
  ASSERT_TRUE(t.close_block(&second).is_ok());

  v1::BlockHeader h1 = header_of(first);
  v1::BlockHeader h2 = header_of(second);
  EXPECT_EQ(h1.chain_id(), "test-chain");
  EXPECT_EQ(h1.height(), 1u);
  EXPECT_EQ(h2.height(), 2u);
  EXPECT_EQ(h1.prev_hash(), std::string(32, '\0'));
  Hash32 first_hash = crypto::sha256(as_view(first.header_bytes()));
  EXPECT_EQ(h2.prev_hash(), std::string(first_hash.begin(), first_hash.end()));
  EXPECT_EQ(h2.time_ms(), t.genesis().genesis_time_ms + 2'000);
  EXPECT_EQ(h2.proposer(), std::string(t.validator().address.begin(), t.validator().address.end()));
  EXPECT_EQ(h2.tx_count(), 2u);
  ASSERT_EQ(second.txs_size(), 2);

  Hash32 tx_root = crypto::merkle_root({tx1, tx2});
  EXPECT_EQ(h2.tx_root(), std::string(tx_root.begin(), tx_root.end()));
  Hash32 empty_root = crypto::merkle_root({});
  EXPECT_EQ(h1.tx_root(), std::string(empty_root.begin(), empty_root.end()));

  v1::ValidatorSet set;
  v1::Validator* validator = set.add_validators();
  validator->set_pubkey(std::string(t.validator().pubkey.begin(), t.validator().pubkey.end()));
  validator->set_power(10);
  validator->set_name("validator-0");
  Hash32 set_hash = crypto::sha256(as_view(set.SerializeAsString()));
  EXPECT_EQ(h2.validator_set_hash(), std::string(set_hash.begin(), set_hash.end()));

  v1::BlockResults results;
  ASSERT_TRUE(t.chain().block_results(2, &results).is_ok());
  ASSERT_EQ(results.results_size(), 2);
  Hash32 results_root =
      crypto::merkle_root({to_bytes(results.results(0).SerializeAsString()), to_bytes(results.results(1).SerializeAsString())});
  EXPECT_EQ(h2.results_root(), std::string(results_root.begin(), results_root.end()));

  ChainStatus status = t.chain().status();
  EXPECT_EQ(h2.state_root(), std::string(status.state_root.begin(), status.state_root.end()));
  EXPECT_EQ(status.height, 2u);
  EXPECT_EQ(t.chain().last_block_hash(), crypto::sha256(as_view(second.header_bytes())));

  // The state root is the tree's root: a proof of bob's account checks
  // against the header's state root.
  std::optional<Bytes> value;
  state::StateProof proof;
  uint64_t at = 0;
  ASSERT_TRUE(t.chain().state_proof(keys::account(t.key(1).address), std::nullopt, &value, &proof, &at).is_ok());
  EXPECT_EQ(at, 2u);
  ASSERT_TRUE(value.has_value());
  Hash32 header_root{};
  std::copy(h2.state_root().begin(), h2.state_root().end(), header_root.begin());
  EXPECT_TRUE(state::verify_state_proof(header_root, keys::account(t.key(1).address), value, proof));
}

TEST(Chain, ReopenResumesAtSameHeightAndHash) {
  TestChain t;
  Bytes tx = t.make_tx(t.key(0), TxSpec{.ops = {transfer_op(t.key(1).address, {coin("gold", 9)})}});
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());
  ASSERT_TRUE(t.close_block().is_ok());
  ChainStatus before = t.chain().status();

  Status status = t.reopen();
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  ChainStatus after = t.chain().status();
  EXPECT_EQ(after.height, 2u);
  EXPECT_EQ(after.block_hash, before.block_hash);
  EXPECT_EQ(after.state_root, before.state_root);
  EXPECT_EQ(after.block_time_ms, before.block_time_ms);
  EXPECT_EQ(t.balance(t.key(1).address, "gold"), TestChain::kInitialGold + 9);

  // The chain keeps going after the restart.
  Bytes next = t.make_tx(t.key(0), TxSpec{.ops = {transfer_op(t.key(1).address, {coin("gold", 1)})}, .nonce = 1});
  ASSERT_EQ(t.submit(next).code, ResultCode::kOk);
  ASSERT_TRUE(t.close_block().is_ok());
  EXPECT_EQ(t.chain().last_height(), 3u);
  EXPECT_EQ(t.result_of(next).code(), 0u);
}

TEST(Chain, ReopenWithOtherGenesisFails) {
  TestChain t;
  ASSERT_TRUE(t.close_block().is_ok());
  t.mutable_genesis().accounts.pop_back();
  Status status = t.reopen();
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("was created from genesis"));
}

TEST(Chain, QueriesAtOlderHeights) {
  TestChain t;
  const Address bob = t.key(1).address;
  ASSERT_TRUE(t.close_block().is_ok());
  Bytes tx = t.make_tx(t.key(0), TxSpec{.ops = {transfer_op(bob, {coin("gold", 11)})}});
  ASSERT_EQ(t.submit(tx).code, ResultCode::kOk);
  v1::Block block;
  ASSERT_TRUE(t.close_block(&block).is_ok());

  EXPECT_EQ(t.balance(bob, "gold", 0), TestChain::kInitialGold);
  EXPECT_EQ(t.balance(bob, "gold", 1), TestChain::kInitialGold);
  EXPECT_EQ(t.balance(bob, "gold", 2), TestChain::kInitialGold + 11);

  v1::Account account;
  uint64_t at = 0;
  Status above = t.chain().account(bob, 3, &account, &at);
  EXPECT_TRUE(above.is_not_found());
  EXPECT_THAT(above.message(), HasSubstr("height 3 is above the last committed height 2"));

  v1::Tx parsed;
  ASSERT_TRUE(parsed.ParseFromArray(tx.data(), static_cast<int>(tx.size())));
  v1::TxLocation location;
  ASSERT_TRUE(t.chain().tx_location(crypto::sha256(as_view(parsed.body_bytes())), &location).is_ok());
  EXPECT_EQ(location.height(), 2u);
  EXPECT_EQ(location.index(), 0u);
  EXPECT_TRUE(t.chain().tx_location(Hash32{}, &location).is_not_found());

  v1::Block by_hash;
  ASSERT_TRUE(t.chain().block_by_hash(crypto::sha256(as_view(block.header_bytes())), &by_hash).is_ok());
  EXPECT_EQ(by_hash.header_bytes(), block.header_bytes());
  EXPECT_EQ(by_hash.proposer_signature(), block.proposer_signature());
  EXPECT_TRUE(t.chain().block_by_hash(Hash32{}, &by_hash).is_not_found());
  EXPECT_TRUE(t.chain().block_by_height(3, &by_hash).is_not_found());
}

TEST(Chain, PrepareDropsRejectedCandidates) {
  TestChain t;
  Bytes good = t.make_tx(t.key(0), TxSpec{.ops = {transfer_op(t.key(1).address, {coin("gold", 1)})}});
  Bytes future = t.make_tx(t.key(1), TxSpec{.ops = {transfer_op(t.key(0).address, {coin("gold", 1)})}, .nonce = 5});
  Bytes garbage = {1, 2, 3};
  t.add_unchecked(good);
  t.add_unchecked(future);
  t.add_unchecked(garbage);
  t.add_unchecked(good);  // a replay in the same block fails its nonce
  v1::Block block;
  ASSERT_TRUE(t.close_block(&block).is_ok());
  ASSERT_EQ(block.txs_size(), 1);
  EXPECT_EQ(to_bytes(block.txs(0)), good);
}

TEST(Chain, ProcessBlockRejectsTampering) {
  TestChain producer;
  Bytes tx = producer.make_tx(producer.key(0), TxSpec{.ops = {transfer_op(producer.key(1).address, {coin("gold", 3)})}});
  producer.add_unchecked(tx);
  BlockContext context{1, producer.genesis().genesis_time_ms + 1'000, producer.validator().address, {}};
  v1::Block block;
  ASSERT_TRUE(producer.chain().prepare_block(context, {tx}, &block).is_ok());
  producer.sign_block(&block);
  EXPECT_TRUE(producer.chain().process_block(block).is_ok());

  v1::Block bad_signature = block;
  bad_signature.mutable_proposer_signature()->at(0) ^= 1;
  Status status = producer.chain().process_block(bad_signature);
  EXPECT_THAT(status.message(), HasSubstr("proposer signature does not verify"));

  v1::BlockHeader header = header_of(block);
  header.mutable_state_root()->at(0) ^= 1;
  v1::Block wrong_root = block;
  header.SerializeToString(wrong_root.mutable_header_bytes());
  producer.sign_block(&wrong_root);
  status = producer.chain().process_block(wrong_root);
  EXPECT_THAT(status.message(), HasSubstr("claims state root"));

  v1::Block extra_tx = block;
  extra_tx.add_txs(std::string(tx.begin(), tx.end()));
  status = producer.chain().process_block(extra_tx);
  EXPECT_THAT(status.message(), HasSubstr("tx_count"));

  // After those executions the original block still finalizes and commits.
  ASSERT_TRUE(producer.chain().finalize_block(block).is_ok());
  ASSERT_TRUE(producer.chain().commit().is_ok());
  EXPECT_EQ(producer.balance(producer.key(1).address, "gold"), TestChain::kInitialGold + 3);
}

// A DuplicateVoteEvidence record with distinct field values; the chain
// only commits to the bytes, and consensus checks the signatures.
Bytes evidence_bytes(uint64_t height, uint8_t marker) {
  v1::DuplicateVoteEvidence evidence;
  for (v1::Vote* vote : {evidence.mutable_vote_a(), evidence.mutable_vote_b()}) {
    vote->set_height(height);
    vote->set_validator(std::string(32, static_cast<char>(marker)));
    vote->set_signature(std::string(64, static_cast<char>(marker)));
  }
  evidence.mutable_vote_b()->set_block_hash(std::string(32, 'b'));
  std::string bytes = evidence.SerializeAsString();
  return Bytes(bytes.begin(), bytes.end());
}

TEST(Chain, HeaderCommitsToEvidence) {
  TestChain producer;
  BlockContext context{1, producer.genesis().genesis_time_ms + 1'000, producer.validator().address,
                       {evidence_bytes(1, 7), evidence_bytes(1, 9)}};
  v1::Block block;
  ASSERT_TRUE(producer.chain().prepare_block(context, {}, &block).is_ok());
  producer.sign_block(&block);
  ASSERT_EQ(block.evidence_size(), 2);
  Hash32 expected = crypto::merkle_root_from_leaves(
      {crypto::merkle_leaf_hash(context.evidence[0]), crypto::merkle_leaf_hash(context.evidence[1])});
  EXPECT_EQ(header_of(block).evidence_root(), std::string(expected.begin(), expected.end()));
  EXPECT_TRUE(producer.chain().process_block(block).is_ok());

  v1::Block dropped = block;
  dropped.mutable_evidence()->RemoveLast();
  Status status = producer.chain().process_block(dropped);
  EXPECT_THAT(status.message(), HasSubstr("evidence_root"));

  v1::Block added = block;
  Bytes extra = evidence_bytes(1, 11);
  added.add_evidence()->ParseFromArray(extra.data(), static_cast<int>(extra.size()));
  status = producer.chain().process_block(added);
  EXPECT_THAT(status.message(), HasSubstr("evidence_root"));

  ASSERT_TRUE(producer.chain().finalize_block(block).is_ok());
  ASSERT_TRUE(producer.chain().commit().is_ok());
}

TEST(Chain, HeaderWithoutEvidenceHasNoRoot) {
  TestChain t;
  v1::Block block;
  ASSERT_TRUE(t.close_block(&block).is_ok());
  EXPECT_TRUE(header_of(block).evidence_root().empty());
}

}  // namespace
}  // namespace automata::execution::testing
