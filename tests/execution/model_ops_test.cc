// Model NFT ops on a real chain: register, transfer, lease, key delivery,
// burn, sale with royalties and attestation.
#include "automata/crypto/ecies.h"
#include "automata/crypto/model_content.h"
#include "automata/modules/model/model.h"
#include "automata/modules/model/placement.h"
#include "automata/v1/model.pb.h"
#include "code_fixture.h"

#include <gtest/gtest.h>

#include <functional>

namespace automata::execution::testing {
namespace {

const Bytes kContentKey(32, 0x42);

v1::KeyEnvelope envelope_for(const TestKey& key, const Hash32& model_id) {
  crypto::SealedKey sealed = crypto::ecies_seal(key.pubkey, kContentKey, model_id);
  v1::KeyEnvelope out;
  out.set_recipient(raw(key.address));
  out.set_ephemeral_pubkey(std::string(sealed.ephemeral_pubkey.begin(), sealed.ephemeral_pubkey.end()));
  out.set_sealed_key(to_string(sealed.sealed));
  return out;
}

v1::ModelManifest manifest(uint64_t total_size = 3 * 1024 * 1024, const std::string& plaintext = "weights") {
  v1::ModelManifest out;
  out.set_fragment_size(1024 * 1024);
  out.set_total_size(total_size);
  out.set_fragment_count((total_size + 1024 * 1024 - 1) / (1024 * 1024));
  out.set_fragments_root(std::string(32, 'r'));
  out.set_plaintext_sha256(raw(crypto::sha256(as_view(plaintext))));
  out.set_cipher_suite(std::string(crypto::kModelCipherSuite));
  return out;
}

struct ModelSpec {
  ModelSpec& with_name(std::string value) { name = std::move(value); return *this; }
  ModelSpec& with_royalty(uint32_t value) { royalty_bps = value; return *this; }
  ModelSpec& with_bases(std::vector<std::string> value) { base_models = std::move(value); return *this; }
  ModelSpec& with_flags(bool can_transfer, bool can_burn, bool can_update) {
    transferable = can_transfer;
    burnable = can_burn;
    is_mutable = can_update;
    return *this;
  }

  std::string name = "tiny-llm";
  uint32_t royalty_bps = 0;
  std::vector<std::string> base_models;
  bool transferable = true;
  bool burnable = true;
  bool is_mutable = false;
};

class ModelOps : public ::testing::Test {
 protected:
  // Next model id of key i when its next tx carries the register at op 0.
  Hash32 next_id(size_t i) { return crypto::derive_model_id(chain_.address(i), chain_.base().account(chain_.address(i)).nonce(), 0); }

  v1::Op register_op(size_t i, const ModelSpec& spec) {
    v1::Op op;
    v1::ModelRegister* reg = op.mutable_model_register();
    reg->set_name(spec.name);
    reg->set_format("gguf");
    reg->set_license("apache-2.0");
    for (const std::string& base : spec.base_models) reg->add_base_models(base);
    reg->set_royalty_bps(spec.royalty_bps);
    reg->mutable_flags()->set_transferable(spec.transferable);
    reg->mutable_flags()->set_burnable(spec.burnable);
    reg->mutable_flags()->set_mutable_(spec.is_mutable);
    *reg->mutable_manifest() = manifest();
    *reg->mutable_owner_envelope() = envelope_for(chain_.key(i), next_id(i));
    return op;
  }

  std::string register_model(size_t i, const ModelSpec& spec = {}) {
    Outcome outcome = chain_.run(i, {register_op(i, spec)});
    EXPECT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
    return outcome.created("model");
  }

  v1::ModelNft body(const std::string& id) {
    v1::ModelNft out;
    EXPECT_TRUE(out.ParseFromString(chain_.object(id).body()));
    return out;
  }

  static Hash32 hash_of_id(const std::string& id) { return *to_array<32>(as_view(id)); }

  v1::Op model_transfer_op(const std::string& id, size_t to) {
    v1::Op op;
    op.mutable_model_transfer()->set_model_id(id);
    op.mutable_model_transfer()->set_to(raw(chain_.address(to)));
    *op.mutable_model_transfer()->mutable_new_owner_envelope() = envelope_for(chain_.key(to), hash_of_id(id));
    return op;
  }

  v1::Op lease_op(const std::string& id, size_t grantee, uint64_t expiry) {
    v1::Op op;
    op.mutable_model_lease()->set_model_id(id);
    op.mutable_model_lease()->set_grantee(raw(chain_.address(grantee)));
    op.mutable_model_lease()->set_expiry_height(expiry);
    *op.mutable_model_lease()->mutable_envelope() = envelope_for(chain_.key(grantee), hash_of_id(id));
    return op;
  }

  std::vector<std::string> recipients(const std::string& id) {
    std::vector<std::string> out;
    v1::ModelNft nft = body(id);
    for (const v1::KeyEnvelope& envelope : nft.envelopes()) out.push_back(envelope.recipient());
    return out;
  }

  CodeChain chain_;
};

TEST_F(ModelOps, RegisterStoresModelAndIndexes) {
  Hash32 expected = next_id(0);
  std::string id = register_model(0, ModelSpec().with_royalty(250));
  EXPECT_EQ(id, raw(expected));
  v1::ObjectEnvelope object = chain_.object(id);
  EXPECT_EQ(object.type(), "model.nft");
  EXPECT_EQ(object.owner(), raw(chain_.address(0)));
  v1::ModelNft nft = body(id);
  EXPECT_EQ(nft.creator(), raw(chain_.address(0)));
  EXPECT_EQ(nft.royalty_bps(), 250u);
  EXPECT_EQ(nft.epoch(), 0u);
  EXPECT_FALSE(nft.available());
  EXPECT_TRUE(chain_.raw_state(keys::owner_index(chain_.address(0), as_view(id))).has_value());
  EXPECT_TRUE(chain_.raw_state(keys::model_index(as_view(id))).has_value());
  EXPECT_TRUE(chain_.raw_state(keys::creator_index(chain_.address(0), as_view(id))).has_value());

  // The owner's envelope opens to the content key.
  ASSERT_EQ(nft.envelopes_size(), 1);
  auto opened = crypto::ecies_open(chain_.key(0).secret, as_view(nft.envelopes(0).ephemeral_pubkey()),
                                   as_view(nft.envelopes(0).sealed_key()), as_view(id));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, kContentKey);
}

TEST_F(ModelOps, RegisterRejectsBadShapes) {
  struct Case {
    std::string field;
    std::function<void(v1::ModelRegister*)> edit;
  };
  std::vector<Case> cases = {
      {"model_register.name", [](v1::ModelRegister* r) { r->set_name(""); }},
      {"model_register.name", [](v1::ModelRegister* r) { r->set_name(std::string(129, 'n')); }},
      {"model_register.format", [](v1::ModelRegister* r) { r->set_format("pickle"); }},
      {"model_register.license", [](v1::ModelRegister* r) { r->set_license(std::string(65, 'l')); }},
      {"model_register.royalty_bps", [](v1::ModelRegister* r) { r->set_royalty_bps(10'001); }},
      {"model_register.base_models[0]", [](v1::ModelRegister* r) { r->add_base_models("short"); }},
      {"model_register.base_models[1]",
       [](v1::ModelRegister* r) {
         r->add_base_models(std::string(32, 'a'));
         r->add_base_models(std::string(32, 'a'));
       }},
      {"model_register.manifest.fragment_size",
       [](v1::ModelRegister* r) { r->mutable_manifest()->set_fragment_size(1024); }},
      {"model_register.manifest.fragment_count",
       [](v1::ModelRegister* r) { r->mutable_manifest()->set_fragment_count(4); }},
      {"model_register.manifest.fragments_root",
       [](v1::ModelRegister* r) { r->mutable_manifest()->set_fragments_root("x"); }},
      {"model_register.manifest.plaintext_sha256",
       [](v1::ModelRegister* r) { r->mutable_manifest()->set_plaintext_sha256(""); }},
      {"model_register.manifest.cipher_suite",
       [](v1::ModelRegister* r) { r->mutable_manifest()->set_cipher_suite("rot13"); }},
      {"model_register.owner_envelope.ephemeral_pubkey",
       [](v1::ModelRegister* r) { r->mutable_owner_envelope()->set_ephemeral_pubkey(std::string(32, 'e')); }},
      {"model_register.owner_envelope.sealed_key",
       [](v1::ModelRegister* r) { r->mutable_owner_envelope()->set_sealed_key(std::string(47, 's')); }},
      {"model_register.metadata.dtypes[0]",
       [](v1::ModelRegister* r) { r->mutable_metadata()->add_dtypes(std::string(257, 'd')); }},
  };
  for (const Case& c : cases) {
    v1::Op op = register_op(0, {});
    c.edit(op.mutable_model_register());
    Outcome outcome = chain_.run(0, {op});
    EXPECT_FALSE(outcome.included) << c.field;
    EXPECT_NE(outcome.code, ResultCode::kOk) << c.field;
    EXPECT_NE(outcome.log.find(c.field), std::string::npos) << c.field << ": " << outcome.log;
  }
}

TEST_F(ModelOps, RegisterRejectsMissingBaseAndWrongRecipient) {
  Outcome missing = chain_.run(0, {register_op(0, ModelSpec().with_bases({std::string(32, 'z')}))});
  EXPECT_EQ(missing.code, ResultCode::kObjectNotFound);
  EXPECT_NE(missing.log.find("model_register.base_models[0]"), std::string::npos) << missing.log;

  v1::Op op = register_op(0, {});
  *op.mutable_model_register()->mutable_owner_envelope() = envelope_for(chain_.key(1), next_id(0));
  Outcome wrong = chain_.run(0, {op});
  EXPECT_EQ(wrong.code, ResultCode::kWrongRecipient);
  EXPECT_NE(wrong.log.find("model_register.owner_envelope.recipient"), std::string::npos) << wrong.log;
}

TEST_F(ModelOps, TransferSwapsEnvelopesAndBumpsEpoch) {
  std::string id = register_model(0);
  Outcome outcome = chain_.run(0, {model_transfer_op(id, 1)});
  ASSERT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
  EXPECT_EQ(chain_.object(id).owner(), raw(chain_.address(1)));
  EXPECT_EQ(recipients(id), std::vector<std::string>{raw(chain_.address(1))});
  EXPECT_EQ(body(id).epoch(), 1u);
  EXPECT_FALSE(chain_.raw_state(keys::owner_index(chain_.address(0), as_view(id))).has_value());
  EXPECT_TRUE(chain_.raw_state(keys::owner_index(chain_.address(1), as_view(id))).has_value());

  // The old owner no longer owns it.
  EXPECT_EQ(chain_.run(0, {model_transfer_op(id, 2)}).code, ResultCode::kNotOwner);
}

TEST_F(ModelOps, TransferRejectsNonTransferableAndWrongEnvelope) {
  std::string locked = register_model(0, ModelSpec().with_flags(false, true, false));
  EXPECT_EQ(chain_.run(0, {model_transfer_op(locked, 1)}).code, ResultCode::kNotTransferable);

  std::string id = register_model(0);
  v1::Op op = model_transfer_op(id, 1);
  *op.mutable_model_transfer()->mutable_new_owner_envelope() = envelope_for(chain_.key(2), hash_of_id(id));
  EXPECT_EQ(chain_.run(0, {op}).code, ResultCode::kWrongRecipient);
}

TEST_F(ModelOps, GenericTransferAndGrantRejected) {
  std::string id = register_model(0);
  Outcome transfer = chain_.run(0, {transfer_object_op(id, chain_.address(1))});
  EXPECT_EQ(transfer.code, ResultCode::kWrongObjectKind);
  EXPECT_NE(transfer.log.find("model_transfer"), std::string::npos) << transfer.log;
  Outcome grant = chain_.run(0, {grant_op(id, chain_.address(1), chain_.height() + 10)});
  EXPECT_EQ(grant.code, ResultCode::kWrongObjectKind);
  EXPECT_NE(grant.log.find("model_lease"), std::string::npos) << grant.log;
}

TEST_F(ModelOps, LeaseSurvivesTransferUntilExpiry) {
  std::string id = register_model(0);
  uint64_t expiry = chain_.height() + 3;
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, expiry)}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {model_transfer_op(id, 1)}).code, ResultCode::kOk);
  std::vector<std::string> expected = {raw(chain_.address(1)), raw(chain_.address(2))};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(recipients(id), expected);
  ASSERT_EQ(chain_.object(id).grants_size(), 1);

  // Past expiry, the next transfer prunes the lease and its envelope.
  while (chain_.height() <= expiry) chain_.skip_block();
  ASSERT_EQ(chain_.run(1, {model_transfer_op(id, 3)}).code, ResultCode::kOk);
  EXPECT_EQ(recipients(id), std::vector<std::string>{raw(chain_.address(3))});
  EXPECT_EQ(chain_.object(id).grants_size(), 0);
}

TEST_F(ModelOps, LeaseRejectsPastExpiryAndNonOwner) {
  std::string id = register_model(0);
  EXPECT_EQ(chain_.run(0, {lease_op(id, 2, 1)}).code, ResultCode::kExpiryInPast);
  EXPECT_EQ(chain_.run(1, {lease_op(id, 2, 100)}).code, ResultCode::kNotOwner);
}

TEST_F(ModelOps, SaleLeavesKeyPendingAndKeepsLease) {
  std::string id = register_model(0);
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, chain_.height() + 100)}).code, ResultCode::kOk);
  Outcome offer = chain_.run(0, {offer_op(id, "gold", 1'000)});
  ASSERT_EQ(offer.code, ResultCode::kOk) << offer.log;
  Outcome accept = chain_.run(1, {accept_op(offer.created("offer"))});
  ASSERT_EQ(accept.code, ResultCode::kOk) << accept.log;

  v1::ModelNft nft = body(id);
  EXPECT_EQ(chain_.object(id).owner(), raw(chain_.address(1)));
  EXPECT_EQ(nft.key_pending_from(), raw(chain_.address(0)));
  EXPECT_EQ(nft.epoch(), 1u);
  EXPECT_EQ(recipients(id), std::vector<std::string>{raw(chain_.address(2))});
  EXPECT_EQ(chain_.object(id).grants_size(), 1);

  // Only the seller delivers, and only to the buyer.
  v1::Op deliver;
  deliver.mutable_model_deliver_key()->set_model_id(id);
  *deliver.mutable_model_deliver_key()->mutable_envelope() = envelope_for(chain_.key(1), hash_of_id(id));
  EXPECT_EQ(chain_.run(3, {deliver}).code, ResultCode::kNotOwner);
  v1::Op wrong = deliver;
  *wrong.mutable_model_deliver_key()->mutable_envelope() = envelope_for(chain_.key(3), hash_of_id(id));
  EXPECT_EQ(chain_.run(0, {wrong}).code, ResultCode::kWrongRecipient);
  ASSERT_EQ(chain_.run(0, {deliver}).code, ResultCode::kOk);
  EXPECT_TRUE(body(id).key_pending_from().empty());
  EXPECT_EQ(recipients(id).size(), 2u);
  EXPECT_EQ(chain_.run(0, {deliver}).code, ResultCode::kNoPendingKey);
}

TEST_F(ModelOps, SalePaysLineageRoyalties) {
  std::string grand = register_model(2, ModelSpec().with_name("base").with_royalty(500));
  std::string parent = register_model(3, ModelSpec().with_name("tuned").with_royalty(300).with_bases({grand}));
  std::string child = register_model(0, ModelSpec().with_name("merged").with_royalty(200).with_bases({parent}));

  const Amount price = 4'321;
  Amount before_seller = chain_.balance(0, "gold");
  Amount before_grand = chain_.balance(2, "gold");
  Amount before_parent = chain_.balance(3, "gold");
  Amount before_buyer = chain_.balance(1, "gold");
  Outcome offer = chain_.run(0, {offer_op(child, "gold", price)});
  ASSERT_EQ(offer.code, ResultCode::kOk) << offer.log;
  Outcome accept = chain_.run(1, {accept_op(offer.created("offer"))});
  ASSERT_EQ(accept.code, ResultCode::kOk) << accept.log;

  // floor(4321 * bps / 10000): 200 -> 86, 300 -> 129, 500 -> 216.
  // The seller is the child's creator, so it also receives the 86.
  EXPECT_EQ(chain_.balance(2, "gold"), before_grand + 216);
  EXPECT_EQ(chain_.balance(3, "gold"), before_parent + 129);
  EXPECT_EQ(chain_.balance(0, "gold"), before_seller + (price - 216 - 129));
  EXPECT_EQ(chain_.balance(1, "gold"), before_buyer - price);
}

TEST_F(ModelOps, RoyaltyAboveUnitRejected) {
  std::string base = register_model(2, ModelSpec().with_royalty(6'000));
  std::string child = register_model(0, ModelSpec().with_royalty(5'000).with_bases({base}));
  Outcome offer = chain_.run(0, {offer_op(child, "gold", 1'000)});
  ASSERT_EQ(offer.code, ResultCode::kOk) << offer.log;
  Outcome accept = chain_.run(1, {accept_op(offer.created("offer"))});
  EXPECT_EQ(accept.code, ResultCode::kRoyaltyExceedsPrice);
  EXPECT_NE(accept.log.find("11000 bps"), std::string::npos) << accept.log;
  EXPECT_EQ(chain_.object(child).owner(), raw(chain_.address(0)));
}

TEST_F(ModelOps, BurnHonoursFlag) {
  std::string keep = register_model(0, ModelSpec().with_flags(true, false, false));
  EXPECT_EQ(chain_.run(0, {[&] {
                         v1::Op op;
                         op.mutable_model_burn()->set_model_id(keep);
                         return op;
                       }()})
                .code,
            ResultCode::kNotBurnable);

  std::string id = register_model(0);
  v1::Op burn;
  burn.mutable_model_burn()->set_model_id(id);
  EXPECT_EQ(chain_.run(1, {burn}).code, ResultCode::kNotOwner);
  ASSERT_EQ(chain_.run(0, {burn}).code, ResultCode::kOk);
  EXPECT_FALSE(chain_.raw_state(keys::object(as_view(id))).has_value());
  EXPECT_FALSE(chain_.raw_state(keys::model_index(as_view(id))).has_value());
  EXPECT_FALSE(chain_.raw_state(keys::owner_index(chain_.address(0), as_view(id))).has_value());
  EXPECT_FALSE(chain_.raw_state(keys::creator_index(chain_.address(0), as_view(id))).has_value());
}

TEST_F(ModelOps, UpdateNeedsMutable) {
  std::string fixed = register_model(0);
  v1::Op op;
  v1::ModelUpdate* update = op.mutable_model_update();
  update->set_model_id(fixed);
  update->set_format("onnx");
  *update->mutable_content()->mutable_manifest() = manifest(5 * 1024 * 1024, "new weights");
  *update->mutable_content()->mutable_owner_envelope() = envelope_for(chain_.key(0), hash_of_id(fixed));
  EXPECT_EQ(chain_.run(0, {op}).code, ResultCode::kNotMutable);

  std::string id = register_model(0, ModelSpec().with_flags(true, true, true));
  update->set_model_id(id);
  ASSERT_EQ(chain_.run(0, {op}).code, ResultCode::kOk);
  v1::ModelNft nft = body(id);
  EXPECT_EQ(nft.format(), "onnx");
  EXPECT_EQ(nft.manifest().total_size(), 5u * 1024 * 1024);
  EXPECT_EQ(nft.epoch(), 1u);
}

TEST_F(ModelOps, AttestMakesSingleNodeModelAvailable) {
  // Fund the only validator so it can sign attestations.
  const TestKey& validator = chain_.base().validator();
  ASSERT_EQ(chain_.run(0, {transfer_op(validator.address, {coin("atm", 1'000'000'000)})}).code, ResultCode::kOk);
  std::string id = register_model(0);  // 3 fragments, all placed on the one node
  uint64_t nonce = 0;
  auto attest = [&](uint64_t epoch, std::vector<uint32_t> indices, const TestKey& signer) {
    v1::Op op;
    op.mutable_model_attest()->set_model_id(id);
    op.mutable_model_attest()->set_epoch(epoch);
    for (uint32_t index : indices) op.mutable_model_attest()->add_indices(index);
    TxSpec spec;
    spec.ops = {op};
    spec.gas_limit = 20'000'000;
    spec.nonce = &signer == &validator ? nonce : chain_.base().account(signer.address).nonce();
    Bytes tx = chain_.base().make_tx(signer, spec);
    TxCheck check = chain_.base().submit(tx);
    EXPECT_EQ(check.code, ResultCode::kOk) << check.log;
    if (&signer == &validator) ++nonce;
    EXPECT_TRUE(chain_.base().close_block().is_ok());
    return chain_.base().result_of(tx);
  };

  EXPECT_EQ(static_cast<ResultCode>(attest(0, {0}, chain_.key(1)).code()), ResultCode::kNotStorageNode);
  EXPECT_EQ(static_cast<ResultCode>(attest(1, {0}, validator).code()), ResultCode::kWrongEpoch);
  EXPECT_EQ(static_cast<ResultCode>(attest(0, {3}, validator).code()), ResultCode::kInvalidOp);
  ASSERT_EQ(static_cast<ResultCode>(attest(0, {0, 2}, validator).code()), ResultCode::kOk);
  EXPECT_FALSE(body(id).available());
  ASSERT_EQ(static_cast<ResultCode>(attest(0, {1}, validator).code()), ResultCode::kOk);
  EXPECT_TRUE(body(id).available());

  v1::ModelHolding holding;
  ASSERT_TRUE(chain_.read(keys::holding(as_view(id), validator.address), &holding));
  EXPECT_EQ(holding.epoch(), 0u);
  EXPECT_EQ(holding.held(), std::string(1, static_cast<char>(0b111)));
}

}  // namespace
}  // namespace automata::execution::testing
