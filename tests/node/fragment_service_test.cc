// NodeFragmentService and FragmentWorker against a real chain: a model is
// registered by a real ModelRegister tx whose fragments are sealed with
// AES-256-GCM and committed to by an RFC 6962 root computed here.
#include "automata/crypto/ecies.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/model_content.h"
#include "automata/mempool/mempool.h"
#include "automata/node/fragment_rpc.h"
#include "automata/node/fragment_store.h"
#include "automata/node/fragment_worker.h"
#include "automata/v1/code_state.pb.h"
#include "automata/v1/model.pb.h"
#include "execution/test_chain.h"
#include "node/node_test_util.h"

#include <gtest/gtest.h>

namespace automata::node {
namespace {

using execution::testing::TestChain;
using execution::testing::TxSpec;

constexpr uint64_t kFragmentSize = 64 * 1024;
// Three whole fragments and a short last one of 1000 bytes.
constexpr uint64_t kTotalSize = 3 * kFragmentSize + 1000;
constexpr uint64_t kFragmentCount = 4;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class FragmentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(FragmentStore::open(dir_.str() + "/fragments", &store_).is_ok());
    service_ = std::make_unique<NodeFragmentService>(&chain_.chain(), store_.get(), nullptr);
    register_model();
  }

  void register_model() {
    const auto& owner = chain_.key(0);
    const uint64_t nonce = chain_.account(owner.address).nonce();
    model_ = crypto::derive_model_id(owner.address, nonce, 0);
    Bytes content_key(32, 0x5A);
    std::vector<Hash32> leaves;
    for (uint64_t index = 0; index < kFragmentCount; ++index) {
      uint64_t size = index + 1 < kFragmentCount ? kFragmentSize : kTotalSize - 3 * kFragmentSize;
      Bytes plaintext(size, static_cast<uint8_t>(index + 1));
      sealed_.push_back(crypto::seal_fragment(content_key, model_, index, plaintext));
      leaves.push_back(crypto::merkle_leaf_hash(sealed_.back()));
    }
    for (uint64_t index = 0; index < kFragmentCount; ++index) {
      proofs_.push_back(crypto::merkle_inclusion_proof(leaves, index));
    }
    root_ = crypto::merkle_root_from_leaves(leaves);

    v1::Op op;
    auto* reg = op.mutable_model_register();
    reg->set_name("tiny");
    reg->set_format("other");
    reg->mutable_flags()->set_transferable(true);
    reg->mutable_flags()->set_burnable(true);
    auto* manifest = reg->mutable_manifest();
    manifest->set_fragment_size(kFragmentSize);
    manifest->set_fragment_count(kFragmentCount);
    manifest->set_total_size(kTotalSize);
    manifest->set_fragments_root(root_.data(), root_.size());
    manifest->set_plaintext_sha256(std::string(32, 'p'));
    manifest->set_cipher_suite(std::string(crypto::kModelCipherSuite));
    crypto::SealedKey wrapped = crypto::ecies_seal(owner.pubkey, content_key, model_);
    auto* envelope = reg->mutable_owner_envelope();
    envelope->set_recipient(owner.address.data(), owner.address.size());
    envelope->set_ephemeral_pubkey(wrapped.ephemeral_pubkey.data(), wrapped.ephemeral_pubkey.size());
    envelope->set_sealed_key(wrapped.sealed.data(), wrapped.sealed.size());

    TxSpec spec;
    spec.ops = {op};
    spec.nonce = nonce;
    spec.gas_limit = 2'000'000;
    Bytes tx = chain_.make_tx(owner, spec);
    auto check = chain_.submit(tx);
    ASSERT_EQ(check.code, execution::ResultCode::kOk) << check.log;
    ASSERT_TRUE(chain_.close_block().is_ok());
    ASSERT_EQ(chain_.result_of(tx).code(), 0u) << chain_.result_of(tx).log();
  }

  Status put(uint64_t index, bool* stored) { return service_->put_fragment(model_, index, sealed_[index], proofs_[index], stored); }

  TestChain chain_{2};
  testing::TempDir dir_;
  std::unique_ptr<FragmentStore> store_;
  std::unique_ptr<NodeFragmentService> service_;
  Hash32 model_{};
  Hash32 root_{};
  std::vector<Bytes> sealed_;
  std::vector<std::vector<Hash32>> proofs_;
};

TEST_F(FragmentServiceTest, PutThenFetchVerifies) {
  bool stored = false;
  ASSERT_TRUE(put(3, &stored).is_ok());
  EXPECT_TRUE(stored);

  rpc::FragmentReply reply;
  Status status = service_->fragment(model_, 3, &reply);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(reply.data, sealed_[3]);
  EXPECT_EQ(reply.root, root_);
  EXPECT_EQ(reply.count, kFragmentCount);
  EXPECT_TRUE(crypto::merkle_verify_inclusion(crypto::merkle_leaf_hash(reply.data), 3, kFragmentCount, reply.proof,
                                              root_));
}

TEST_F(FragmentServiceTest, PutIsIdempotent) {
  bool stored = false;
  ASSERT_TRUE(put(1, &stored).is_ok());
  EXPECT_TRUE(stored);
  ASSERT_TRUE(put(1, &stored).is_ok());
  EXPECT_FALSE(stored);
}

TEST_F(FragmentServiceTest, HeldListsStoredIndices) {
  bool stored = false;
  ASSERT_TRUE(put(2, &stored).is_ok());
  ASSERT_TRUE(put(0, &stored).is_ok());
  uint64_t count = 0;
  std::vector<uint32_t> held;
  ASSERT_TRUE(service_->held(model_, &count, &held).is_ok());
  EXPECT_EQ(count, kFragmentCount);
  EXPECT_EQ(held, (std::vector<uint32_t>{0, 2}));
}

TEST_F(FragmentServiceTest, RejectsBadProof) {
  std::vector<Hash32> proof = proofs_[1];
  proof[0][0] ^= 1;
  bool stored = false;
  Status status = service_->put_fragment(model_, 1, sealed_[1], proof, &stored);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_TRUE(contains(status.message(), "fragment 1 of model " + to_hex(model_))) << status.message();
  EXPECT_TRUE(contains(status.message(), "proof does not lead to the manifest root")) << status.message();
  EXPECT_FALSE(store_->has(model_, 1));
}

TEST_F(FragmentServiceTest, RejectsAnotherFragmentsData) {
  bool stored = false;
  Status status = service_->put_fragment(model_, 0, sealed_[1], proofs_[0], &stored);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_TRUE(contains(status.message(), "proof does not lead to the manifest root")) << status.message();
}

TEST_F(FragmentServiceTest, RejectsWrongSize) {
  Bytes data = sealed_[3];
  data.push_back(0);
  bool stored = false;
  Status status = service_->put_fragment(model_, 3, data, proofs_[3], &stored);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  const std::string expected = std::to_string(1000 + crypto::kFragmentOverhead);
  EXPECT_TRUE(contains(status.message(), "data is " + std::to_string(data.size()) + " bytes, expected " + expected))
      << status.message();
}

TEST_F(FragmentServiceTest, RejectsIndexPastEnd) {
  bool stored = false;
  Status status = service_->put_fragment(model_, kFragmentCount, sealed_[0], proofs_[0], &stored);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
  EXPECT_TRUE(contains(status.message(), "fragment 4 of model")) << status.message();
  EXPECT_TRUE(contains(status.message(), "below the fragment count 4")) << status.message();

  rpc::FragmentReply reply;
  status = service_->fragment(model_, 4, &reply);
  EXPECT_EQ(status.kind(), Status::Kind::kInvalidArgument);
}

TEST_F(FragmentServiceTest, RejectsUnknownModel) {
  Hash32 unknown = model_;
  unknown[0] ^= 0xFF;
  bool stored = false;
  Status status = service_->put_fragment(unknown, 0, sealed_[0], proofs_[0], &stored);
  EXPECT_TRUE(status.is_not_found());
  EXPECT_TRUE(contains(status.message(), "model " + to_hex(unknown) + " not found")) << status.message();
  uint64_t count = 0;
  std::vector<uint32_t> held;
  EXPECT_TRUE(service_->held(unknown, &count, &held).is_not_found());
}

TEST_F(FragmentServiceTest, FetchOfMissingFragmentIsNotFound) {
  rpc::FragmentReply reply;
  Status status = service_->fragment(model_, 2, &reply);
  EXPECT_TRUE(status.is_not_found());
  EXPECT_TRUE(contains(status.message(), "fragment 2 of model")) << status.message();
}

TEST_F(FragmentServiceTest, PlacementPutsEveryFragmentOnTheValidator) {
  rpc::PlacementReport report;
  ASSERT_TRUE(service_->placement(model_, &report).is_ok());
  EXPECT_EQ(report.epoch, 0u);
  EXPECT_EQ(report.replication, 1u) << "one validator gives replication 1";
  EXPECT_FALSE(report.available);
  ASSERT_EQ(report.fragments.size(), kFragmentCount);
  for (const auto& fragment : report.fragments) {
    ASSERT_EQ(fragment.holders.size(), 1u);
    EXPECT_EQ(fragment.holders[0], chain_.validator().address);
    EXPECT_TRUE(fragment.attested.empty());
  }
}

// The worker attests once the single validator holds every fragment, and
// the model becomes available when the attest tx commits.
TEST_F(FragmentServiceTest, WorkerAttestsAndModelBecomesAvailable) {
  // The validator pays for its attest tx.
  TxSpec funding;
  funding.ops = {execution::testing::transfer_op(chain_.validator().address,
                                                 {execution::testing::coin("atm", 10'000'000)})};
  funding.nonce = chain_.account(chain_.key(1).address).nonce();
  ASSERT_EQ(chain_.submit(chain_.make_tx(chain_.key(1), funding)).code, execution::ResultCode::kOk);
  ASSERT_TRUE(chain_.close_block().is_ok());

  mempool::Mempool mempool(&chain_.chain(), mempool::MempoolConfig{});
  FragmentWorkerConfig config;
  config.chain_id = chain_.genesis().chain_id;
  config.min_gas_price = chain_.genesis().params.min_gas_price;
  FragmentWorker worker(config, &chain_.chain(), &mempool, store_.get(), nullptr, chain_.validator().secret);

  bool stored = false;
  for (uint64_t index = 0; index + 1 < kFragmentCount; ++index) ASSERT_TRUE(put(index, &stored).is_ok());
  FragmentPassStats stats;
  ASSERT_TRUE(worker.run_pass(&stats).is_ok());
  EXPECT_EQ(stats.attest_txs, 0u) << "one placed fragment is still missing";
  EXPECT_EQ(mempool.size(), 0u);

  ASSERT_TRUE(put(kFragmentCount - 1, &stored).is_ok());
  ASSERT_TRUE(worker.run_pass(&stats).is_ok());
  EXPECT_EQ(stats.attest_txs, 1u);
  ASSERT_EQ(mempool.size(), 1u);

  std::vector<Bytes> txs = mempool.reap(10, 1 << 20);
  for (const auto& tx : txs) chain_.add_unchecked(tx);
  ASSERT_TRUE(chain_.close_block().is_ok());
  for (const auto& tx : txs) EXPECT_EQ(chain_.result_of(tx).code(), 0u) << chain_.result_of(tx).log();

  rpc::PlacementReport report;
  ASSERT_TRUE(service_->placement(model_, &report).is_ok());
  EXPECT_TRUE(report.available);
  for (const auto& fragment : report.fragments) {
    ASSERT_EQ(fragment.attested.size(), 1u) << "fragment " << fragment.index;
    EXPECT_EQ(fragment.attested[0], chain_.validator().address);
  }

  mempool.update(chain_.chain().last_height(), {});
  ASSERT_TRUE(worker.run_pass(&stats).is_ok());
  EXPECT_EQ(stats.attest_txs, 0u) << "the holding already shows every placed fragment";
  EXPECT_EQ(stats.dropped, 0u) << "every fragment is placed on the only validator";
}

}  // namespace
}  // namespace automata::node
