// Model NFT ops on a real chain: register, transfer, lease, key delivery,
// burn, sale with royalties, attestation and rekey.
#include "automata/crypto/ecies.h"
#include "automata/crypto/model_content.h"
#include "automata/modules/model/model.h"
#include "automata/modules/model/placement.h"
#include "automata/v1/model.pb.h"
#include "code_fixture.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

namespace automata::execution::testing {
namespace {

const Bytes kContentKey(32, 0x42);
// The content key after a rekey.
const Bytes kFreshKey(32, 0x77);

v1::KeyEnvelope envelope_for(const TestKey& key, const Hash32& model_id, const Bytes& content_key = kContentKey) {
  crypto::SealedKey sealed = crypto::ecies_seal(key.pubkey, content_key, model_id);
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

  // Recipients of envelopes for keys, sorted as the model stores them.
  std::vector<std::string> sorted(std::initializer_list<size_t> keys) {
    std::vector<std::string> out;
    for (size_t key : keys) out.push_back(raw(chain_.address(key)));
    std::sort(out.begin(), out.end());
    return out;
  }

  // Opens the envelope of key i, or nullopt when it has none.
  std::optional<Bytes> open_key(const std::string& id, size_t i) {
    std::string recipient = raw(chain_.address(i));
    v1::ModelNft nft = body(id);
    for (const v1::KeyEnvelope& envelope : nft.envelopes()) {
      if (envelope.recipient() != recipient) continue;
      return crypto::ecies_open(chain_.key(i).secret, as_view(envelope.ephemeral_pubkey()),
                                as_view(envelope.sealed_key()), as_view(id));
    }
    return std::nullopt;
  }

  // Seller offers id for 1000 gold and buyer accepts; returns the code of
  // the accept.
  ResultCode sell(const std::string& id, size_t seller, size_t buyer) {
    Outcome offer = chain_.run(seller, {offer_op(id, "gold", 1'000)});
    EXPECT_EQ(offer.code, ResultCode::kOk) << offer.log;
    Outcome accept = chain_.run(buyer, {accept_op(offer.created("offer"))});
    EXPECT_EQ(accept.code, ResultCode::kOk) << accept.log;
    return accept.code;
  }

  v1::Op deliver_op(const std::string& id, size_t to) {
    v1::Op op;
    op.mutable_model_deliver_key()->set_model_id(id);
    *op.mutable_model_deliver_key()->mutable_envelope() = envelope_for(chain_.key(to), hash_of_id(id));
    return op;
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

TEST_F(ModelOps, SaleKeepsSellerKeyUntilDelivery) {
  std::string id = register_model(0);
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, chain_.height() + 100)}).code, ResultCode::kOk);
  ASSERT_EQ(sell(id, 0, 1), ResultCode::kOk);

  v1::ModelNft nft = body(id);
  EXPECT_EQ(chain_.object(id).owner(), raw(chain_.address(1)));
  EXPECT_EQ(nft.key_pending_from(), raw(chain_.address(0)));
  EXPECT_EQ(nft.epoch(), 1u);
  EXPECT_FALSE(nft.available());
  EXPECT_EQ(chain_.object(id).grants_size(), 1);
  // The seller keeps its envelope so it can still open the key and wrap it
  // to the buyer, however late it delivers.
  EXPECT_EQ(recipients(id), sorted({0, 2}));
  EXPECT_EQ(open_key(id, 0), std::optional<Bytes>(kContentKey));

  // Only the seller delivers, and only to the buyer.
  EXPECT_EQ(chain_.run(3, {deliver_op(id, 1)}).code, ResultCode::kNotOwner);
  Outcome wrong = chain_.run(0, {deliver_op(id, 3)});
  EXPECT_EQ(wrong.code, ResultCode::kWrongRecipient);
  EXPECT_EQ(recipients(id), sorted({0, 2}));

  Outcome delivered = chain_.run(0, {deliver_op(id, 1)});
  ASSERT_EQ(delivered.code, ResultCode::kOk) << delivered.log;
  EXPECT_TRUE(body(id).key_pending_from().empty());
  EXPECT_EQ(recipients(id), sorted({1, 2}));
  EXPECT_EQ(open_key(id, 1), std::optional<Bytes>(kContentKey));
  EXPECT_EQ(chain_.run(0, {deliver_op(id, 1)}).code, ResultCode::kNoPendingKey);
}

TEST_F(ModelOps, LateDeliveryAfterManyBlocks) {
  std::string id = register_model(0);
  ASSERT_EQ(sell(id, 0, 1), ResultCode::kOk);
  for (int i = 0; i < 20; ++i) chain_.skip_block();
  EXPECT_EQ(open_key(id, 0), std::optional<Bytes>(kContentKey));
  ASSERT_EQ(chain_.run(0, {deliver_op(id, 1)}).code, ResultCode::kOk);
  EXPECT_EQ(recipients(id), sorted({1}));
}

TEST_F(ModelOps, DeliveryKeepsSellerWithActiveLease) {
  std::string id = register_model(0);
  // The owner leases to itself, so it keeps reading after it sells.
  ASSERT_EQ(chain_.run(0, {lease_op(id, 0, chain_.height() + 100)}).code, ResultCode::kOk);
  ASSERT_EQ(sell(id, 0, 1), ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {deliver_op(id, 1)}).code, ResultCode::kOk);
  EXPECT_EQ(recipients(id), sorted({0, 1}));
}

TEST_F(ModelOps, PendingSellerSurvivesExpiredLeasePrune) {
  std::string id = register_model(0);
  uint64_t expiry = chain_.height() + 2;
  ASSERT_EQ(chain_.run(0, {lease_op(id, 0, expiry)}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, expiry)}).code, ResultCode::kOk);
  while (chain_.height() <= expiry) chain_.skip_block();

  // The sale prunes both expired leases and the lessee's envelope, but the
  // seller keeps its envelope because it now owes the buyer's.
  ASSERT_EQ(sell(id, 0, 1), ResultCode::kOk);
  EXPECT_EQ(chain_.object(id).grants_size(), 0);
  EXPECT_EQ(recipients(id), sorted({0}));
  ASSERT_EQ(chain_.run(1, {lease_op(id, 3, chain_.height() + 10)}).code, ResultCode::kOk);
  EXPECT_EQ(recipients(id), sorted({0, 3}));
  ASSERT_EQ(chain_.run(0, {deliver_op(id, 1)}).code, ResultCode::kOk);
  EXPECT_EQ(recipients(id), sorted({1, 3}));
}

TEST_F(ModelOps, TransferEndsPendingDelivery) {
  std::string id = register_model(0);
  ASSERT_EQ(sell(id, 0, 1), ResultCode::kOk);
  ASSERT_EQ(recipients(id), sorted({0}));

  ASSERT_EQ(chain_.run(1, {model_transfer_op(id, 2)}).code, ResultCode::kOk);
  EXPECT_TRUE(body(id).key_pending_from().empty());
  EXPECT_EQ(recipients(id), sorted({2}));
  EXPECT_EQ(chain_.run(0, {deliver_op(id, 2)}).code, ResultCode::kNoPendingKey);
}

TEST_F(ModelOps, ResaleBeforeDeliveryKeepsFirstSeller) {
  std::string id = register_model(0);
  ASSERT_EQ(sell(id, 0, 1), ResultCode::kOk);
  ASSERT_EQ(sell(id, 1, 2), ResultCode::kOk);

  // Key 1 never held the key, so key 0 still owes it, now to key 2.
  EXPECT_EQ(body(id).key_pending_from(), raw(chain_.address(0)));
  EXPECT_EQ(recipients(id), sorted({0}));
  EXPECT_EQ(chain_.run(1, {deliver_op(id, 2)}).code, ResultCode::kNotOwner);
  ASSERT_EQ(chain_.run(0, {deliver_op(id, 2)}).code, ResultCode::kOk);
  EXPECT_EQ(recipients(id), sorted({2}));
}

TEST_F(ModelOps, SaleBackToPendingSellerEndsDelivery) {
  std::string id = register_model(0);
  ASSERT_EQ(sell(id, 0, 1), ResultCode::kOk);
  ASSERT_EQ(sell(id, 1, 0), ResultCode::kOk);
  EXPECT_EQ(chain_.object(id).owner(), raw(chain_.address(0)));
  EXPECT_TRUE(body(id).key_pending_from().empty());
  EXPECT_EQ(recipients(id), sorted({0}));
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

// Reads the latest committed state of a CodeChain, so an op can run on an
// Overlay over it outside a block.
class CommittedState final : public StateReader {
 public:
  explicit CommittedState(CodeChain* chain) : chain_(chain) {}
  Status get(ByteView key, std::optional<Bytes>* value) override {
    *value = chain_->raw_state(Bytes(key.begin(), key.end()));
    return Status::ok();
  }

 private:
  CodeChain* chain_;
};

// The standalone model_rekey op. Its apply step runs on an Overlay over the
// committed state, as the executor runs an op, so each case can read the
// result and the stage 4 check before anything is committed.
class ModelRekeyOp : public ModelOps {
 protected:
  struct Applied {
    objects::OpResult result;
    v1::ObjectEnvelope object;
    v1::ModelNft body;
    std::string invariant_problem;
  };

  // A rekey of id to kFreshKey with the same plaintext, the owner's
  // envelope for key owner, and one lease envelope per key in lessees.
  v1::ModelRekey rekey_of(const std::string& id, size_t owner, const std::vector<size_t>& lessees) {
    v1::ModelRekey op;
    op.set_model_id(id);
    *op.mutable_manifest() = body(id).manifest();
    op.mutable_manifest()->set_fragments_root(std::string(32, 'n'));
    *op.mutable_owner_envelope() = envelope_for(chain_.key(owner), hash_of_id(id), kFreshKey);
    for (size_t lessee : lessees) {
      *op.add_lease_envelopes() = envelope_for(chain_.key(lessee), hash_of_id(id), kFreshKey);
    }
    return op;
  }

  // Applies op as key signer at the next height. On success, object and
  // body hold the stored model and invariant_problem the stage 4 result.
  Applied apply(size_t signer, const v1::ModelRekey& op) {
    CommittedState committed(&chain_);
    Overlay overlay(&committed);
    GasMeter gas(20'000'000);
    objects::ObjectContext context;
    context.state = &overlay;
    context.gas = &gas;
    context.signer = chain_.address(signer);
    context.height = chain_.height() + 1;

    Applied applied;
    Status status = model::apply_rekey(op, context, &applied.result);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    if (!applied.result.ok()) return applied;
    EXPECT_GT(gas.used(), 0u);

    std::optional<Bytes> stored;
    status = overlay.get(keys::object(as_view(op.model_id())), &stored);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    EXPECT_TRUE(stored.has_value());
    if (!stored) return applied;
    EXPECT_TRUE(applied.object.ParseFromArray(stored->data(), static_cast<int>(stored->size())));
    EXPECT_TRUE(applied.body.ParseFromString(applied.object.body()));
    status = model::check_model_invariants(overlay, &applied.invariant_problem);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return applied;
  }

  // Attests every fragment of id as the only validator, which makes the
  // model available.
  void make_available(const std::string& id) {
    const TestKey& validator = chain_.base().validator();
    Outcome funded = chain_.run(0, {transfer_op(validator.address, {coin("atm", 1'000'000'000)})});
    ASSERT_EQ(funded.code, ResultCode::kOk) << funded.log;
    v1::Op op;
    op.mutable_model_attest()->set_model_id(id);
    op.mutable_model_attest()->set_epoch(body(id).epoch());
    for (uint32_t i = 0; i < body(id).manifest().fragment_count(); ++i) op.mutable_model_attest()->add_indices(i);
    TxSpec spec;
    spec.ops = {op};
    spec.gas_limit = 20'000'000;
    spec.nonce = chain_.base().account(validator.address).nonce();
    Bytes tx = chain_.base().make_tx(validator, spec);
    TxCheck check = chain_.base().submit(tx);
    ASSERT_EQ(check.code, ResultCode::kOk) << check.log;
    ASSERT_TRUE(chain_.base().close_block().is_ok());
    ASSERT_EQ(static_cast<ResultCode>(chain_.base().result_of(tx).code()), ResultCode::kOk);
    ASSERT_TRUE(body(id).available());
  }

  static std::optional<Bytes> open_envelope(const v1::ModelNft& nft, const TestKey& key, const std::string& id) {
    std::string recipient = raw(key.address);
    for (const v1::KeyEnvelope& envelope : nft.envelopes()) {
      if (envelope.recipient() != recipient) continue;
      return crypto::ecies_open(key.secret, as_view(envelope.ephemeral_pubkey()), as_view(envelope.sealed_key()),
                                as_view(id));
    }
    return std::nullopt;
  }

  // Runs op as the only op of a tx from key 0 through check_tx.
  Outcome run_rekey(const v1::ModelRekey& op) {
    v1::Op wrapped;
    *wrapped.mutable_model_rekey() = op;
    return chain_.run(0, {wrapped});
  }
};

TEST_F(ModelRekeyOp, ReplacesKeyAndEnvelopes) {
  std::string id = register_model(0);
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, chain_.height() + 100)}).code, ResultCode::kOk);
  make_available(id);
  v1::ModelNft before = body(id);

  v1::ModelRekey op = rekey_of(id, 0, {2});
  Applied applied = apply(0, op);
  ASSERT_EQ(applied.result.code, ResultCode::kOk) << applied.result.log;
  EXPECT_EQ(applied.invariant_problem, "");

  const v1::ModelNft& after = applied.body;
  EXPECT_EQ(after.manifest().fragments_root(), std::string(32, 'n'));
  EXPECT_EQ(after.manifest().plaintext_sha256(), before.manifest().plaintext_sha256());
  EXPECT_EQ(after.manifest().total_size(), before.manifest().total_size());
  EXPECT_EQ(after.epoch(), before.epoch() + 1);
  EXPECT_FALSE(after.available());
  EXPECT_EQ(applied.object.owner(), raw(chain_.address(0)));
  EXPECT_EQ(applied.object.grants_size(), 1);

  // Exactly the owner and the lessee hold envelopes, sorted by recipient,
  // and both open to the fresh key.
  std::vector<std::string> expected = {raw(chain_.address(0)), raw(chain_.address(2))};
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(after.envelopes_size(), 2);
  EXPECT_EQ(after.envelopes(0).recipient(), expected[0]);
  EXPECT_EQ(after.envelopes(1).recipient(), expected[1]);
  EXPECT_EQ(open_envelope(after, chain_.key(0), id), std::optional<Bytes>(kFreshKey));
  EXPECT_EQ(open_envelope(after, chain_.key(2), id), std::optional<Bytes>(kFreshKey));
}

TEST_F(ModelRekeyOp, ClearsPendingKeyAfterSale) {
  std::string id = register_model(0);
  Outcome offer = chain_.run(0, {offer_op(id, "gold", 1'000)});
  ASSERT_EQ(offer.code, ResultCode::kOk) << offer.log;
  ASSERT_EQ(chain_.run(1, {accept_op(offer.created("offer"))}).code, ResultCode::kOk);
  ASSERT_EQ(body(id).key_pending_from(), raw(chain_.address(0)));

  // The seller no longer owns the model, so it cannot rekey it.
  EXPECT_EQ(apply(0, rekey_of(id, 1, {})).result.code, ResultCode::kNotOwner);

  Applied applied = apply(1, rekey_of(id, 1, {}));
  ASSERT_EQ(applied.result.code, ResultCode::kOk) << applied.result.log;
  EXPECT_TRUE(applied.body.key_pending_from().empty());
  EXPECT_EQ(open_envelope(applied.body, chain_.key(1), id), std::optional<Bytes>(kFreshKey));
}

TEST_F(ModelRekeyOp, RejectsNonOwnerAndUnknownModel) {
  std::string id = register_model(0);
  Applied stranger = apply(1, rekey_of(id, 1, {}));
  EXPECT_EQ(stranger.result.code, ResultCode::kNotOwner);

  v1::ModelRekey unknown = rekey_of(id, 0, {});
  unknown.set_model_id(std::string(32, 'u'));
  Applied missing = apply(0, unknown);
  EXPECT_EQ(missing.result.code, ResultCode::kObjectNotFound);
  EXPECT_NE(missing.result.log.find(to_hex(as_view(unknown.model_id()))), std::string::npos) << missing.result.log;
}

TEST_F(ModelRekeyOp, RejectsChangedPlaintext) {
  std::string id = register_model(0);

  v1::ModelRekey other_hash = rekey_of(id, 0, {});
  other_hash.mutable_manifest()->set_plaintext_sha256(raw(crypto::sha256(as_view(std::string("other weights")))));
  Applied hash_changed = apply(0, other_hash);
  EXPECT_EQ(hash_changed.result.code, ResultCode::kContentMismatch);
  EXPECT_NE(hash_changed.result.log.find("model_rekey.manifest has plaintext_sha256"), std::string::npos)
      << hash_changed.result.log;

  v1::ModelRekey other_size = rekey_of(id, 0, {});
  *other_size.mutable_manifest() = manifest(2 * 1024 * 1024);
  Applied size_changed = apply(0, other_size);
  EXPECT_EQ(size_changed.result.code, ResultCode::kContentMismatch);
  EXPECT_NE(size_changed.result.log.find("total_size 2097152"), std::string::npos) << size_changed.result.log;
}

TEST_F(ModelRekeyOp, RejectsOwnerEnvelopeForOther) {
  std::string id = register_model(0);
  v1::ModelRekey op = rekey_of(id, 0, {});
  *op.mutable_owner_envelope() = envelope_for(chain_.key(3), hash_of_id(id), kFreshKey);
  Applied applied = apply(0, op);
  EXPECT_EQ(applied.result.code, ResultCode::kWrongRecipient);
  EXPECT_NE(applied.result.log.find("model_rekey.owner_envelope"), std::string::npos) << applied.result.log;
}

TEST_F(ModelRekeyOp, RequiresOneEnvelopePerActiveLease) {
  std::string id = register_model(0);
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, chain_.height() + 100)}).code, ResultCode::kOk);

  Applied missing = apply(0, rekey_of(id, 0, {}));
  EXPECT_EQ(missing.result.code, ResultCode::kLeaseMismatch);
  EXPECT_NE(missing.result.log.find("0 recipients"), std::string::npos) << missing.result.log;
  EXPECT_NE(missing.result.log.find("1 active leases"), std::string::npos) << missing.result.log;

  Applied wrong = apply(0, rekey_of(id, 0, {3}));
  EXPECT_EQ(wrong.result.code, ResultCode::kLeaseMismatch) << wrong.result.log;

  Applied extra = apply(0, rekey_of(id, 0, {2, 3}));
  EXPECT_EQ(extra.result.code, ResultCode::kLeaseMismatch) << extra.result.log;

  EXPECT_EQ(apply(0, rekey_of(id, 0, {2})).result.code, ResultCode::kOk);
}

TEST_F(ModelRekeyOp, DropsExpiredLease) {
  std::string id = register_model(0);
  uint64_t expiry = chain_.height() + 2;
  ASSERT_EQ(chain_.run(0, {lease_op(id, 2, expiry)}).code, ResultCode::kOk);
  while (chain_.height() + 1 <= expiry) chain_.skip_block();

  // At the next height the lease has expired, so it needs no envelope and
  // an envelope for it is one too many.
  EXPECT_EQ(apply(0, rekey_of(id, 0, {2})).result.code, ResultCode::kLeaseMismatch);
  Applied applied = apply(0, rekey_of(id, 0, {}));
  ASSERT_EQ(applied.result.code, ResultCode::kOk) << applied.result.log;
  EXPECT_EQ(applied.object.grants_size(), 0);
  ASSERT_EQ(applied.body.envelopes_size(), 1);
  EXPECT_EQ(applied.body.envelopes(0).recipient(), raw(chain_.address(0)));
}

TEST_F(ModelRekeyOp, ShapeCheckAcceptsCompleteOp) {
  std::string id = register_model(0);
  std::string log;
  EXPECT_EQ(model::check_rekey(rekey_of(id, 0, {2}), &log), ResultCode::kOk) << log;
}

TEST_F(ModelRekeyOp, ShapeCheckRejectsBadOps) {
  std::string id = register_model(0);
  struct Case {
    std::string field;
    std::function<void(v1::ModelRekey*)> edit;
  };
  std::vector<Case> cases = {
      {"model_rekey.model_id is missing", [](v1::ModelRekey* r) { r->clear_model_id(); }},
      {"model_rekey.model_id is 5 bytes", [](v1::ModelRekey* r) { r->set_model_id("short"); }},
      {"model_rekey.manifest is missing", [](v1::ModelRekey* r) { r->clear_manifest(); }},
      {"model_rekey.manifest.fragment_count",
       [](v1::ModelRekey* r) { r->mutable_manifest()->set_fragment_count(9); }},
      {"model_rekey.owner_envelope is missing", [](v1::ModelRekey* r) { r->clear_owner_envelope(); }},
      {"model_rekey.owner_envelope.sealed_key",
       [](v1::ModelRekey* r) { r->mutable_owner_envelope()->set_sealed_key("x"); }},
      {"model_rekey.lease_envelopes[1].recipient repeats",
       [&](v1::ModelRekey* r) {
         *r->add_lease_envelopes() = envelope_for(chain_.key(2), hash_of_id(id), kFreshKey);
         *r->add_lease_envelopes() = envelope_for(chain_.key(2), hash_of_id(id), kFreshKey);
       }},
      {"model_rekey.lease_envelopes[0].recipient repeats",
       [&](v1::ModelRekey* r) { *r->add_lease_envelopes() = r->owner_envelope(); }},
  };
  for (const Case& c : cases) {
    v1::ModelRekey op = rekey_of(id, 0, {});
    c.edit(&op);
    Outcome outcome = run_rekey(op);
    EXPECT_FALSE(outcome.included) << c.field;
    EXPECT_EQ(outcome.code, ResultCode::kInvalidOp) << c.field;
    EXPECT_NE(outcome.log.find(c.field), std::string::npos) << c.field << ": " << outcome.log;
  }
}

TEST_F(ModelRekeyOp, EmbeddedContentRejectsModelId) {
  std::string id = register_model(0, ModelSpec().with_flags(true, true, true));

  v1::Op transfer = model_transfer_op(id, 1);
  *transfer.mutable_model_transfer()->mutable_rekey() = rekey_of(id, 1, {});
  Outcome with_id = chain_.run(0, {transfer});
  EXPECT_FALSE(with_id.included);
  EXPECT_EQ(with_id.code, ResultCode::kInvalidOp);
  EXPECT_NE(with_id.log.find("model_transfer.rekey.model_id is set"), std::string::npos) << with_id.log;

  v1::Op update;
  update.mutable_model_update()->set_model_id(id);
  update.mutable_model_update()->set_format("gguf");
  *update.mutable_model_update()->mutable_content() = rekey_of(id, 0, {});
  Outcome update_with_id = chain_.run(0, {update});
  EXPECT_FALSE(update_with_id.included);
  EXPECT_EQ(update_with_id.code, ResultCode::kInvalidOp);
  EXPECT_NE(update_with_id.log.find("model_update.content.model_id is set"), std::string::npos)
      << update_with_id.log;

  // Without the inner id, the same transfer with rekey goes through.
  transfer.mutable_model_transfer()->mutable_rekey()->clear_model_id();
  Outcome accepted = chain_.run(0, {transfer});
  ASSERT_EQ(accepted.code, ResultCode::kOk) << accepted.log;
  EXPECT_EQ(body(id).manifest().fragments_root(), std::string(32, 'n'));
  EXPECT_EQ(open_envelope(body(id), chain_.key(1), id), std::optional<Bytes>(kFreshKey));
}

}  // namespace
}  // namespace automata::execution::testing
