// Register, transfer, lease, key delivery, burn, rekey and update of model
// NFTs.
#include "automata/crypto/bech32.h"
#include "automata/crypto/model_content.h"
#include "automata/modules/model/placement.h"
#include "automata/types/state_keys.h"
#include "model_store.h"

#include <fmt/format.h>

namespace automata::model {

using namespace detail;
using objects::charge;
using objects::fail;
namespace object_gas = objects::gas;

namespace {

std::string signer_text(const ObjectContext& context) { return crypto::encode_address(context.signer); }

// Checks that every base model is a registered model or code asset.
Status check_base_models(const v1::ModelRegister& op, ObjectContext& context, OpResult* result) {
  for (int i = 0; i < op.base_models_size(); ++i) {
    v1::ObjectEnvelope base;
    Status status = objects::load_object(context, as_view(op.base_models(i)), &base, result);
    if (!status.is_ok()) return status;
    if (!result->ok()) {
      result->log = fmt::format("model_register.base_models[{}]: {}", i, result->log);
      return Status::ok();
    }
    if (base.type() != kTypeModel && base.type() != objects::kTypeRepository &&
        base.type() != objects::kTypeComposite) {
      *result = fail(ResultCode::kWrongObjectKind,
                     fmt::format("model_register.base_models[{}] {} is a {}, not a model or code asset", i,
                                 to_hex(as_view(op.base_models(i))), base.type()));
      return Status::ok();
    }
  }
  return Status::ok();
}

// Replaces the content of model with content: manifest, owner envelope and
// one envelope per active lease. The owner is already the new owner.
// same_plaintext forbids a change of plaintext_sha256 or total_size.
OpResult replace_content(ObjectContext& context, Model* model, const v1::ModelRekey& content, bool same_plaintext,
                         std::string_view field) {
  std::string model_hex = to_hex(as_view(model->object.id()));
  const v1::ModelManifest& current = model->body.manifest();
  if (same_plaintext && (content.manifest().plaintext_sha256() != current.plaintext_sha256() ||
                         content.manifest().total_size() != current.total_size())) {
    return fail(ResultCode::kContentMismatch,
                fmt::format("{}.manifest has plaintext_sha256 {} and total_size {}, but model {} has {} and {}; a "
                            "rekey keeps the plaintext (use model_update to change it)",
                            field, to_hex(as_view(content.manifest().plaintext_sha256())),
                            content.manifest().total_size(), model_hex, to_hex(as_view(current.plaintext_sha256())),
                            current.total_size()));
  }
  OpResult result = require_recipient(content.owner_envelope(), model->object.owner(),
                                      fmt::format("{}.owner_envelope", field));
  if (!result.ok()) return result;

  prune_expired_leases(model, context.height);
  std::set<std::string> expected = active_grantees(model->object, context.height, model->object.owner());
  std::set<std::string> given;
  for (const v1::KeyEnvelope& envelope : content.lease_envelopes()) given.insert(envelope.recipient());
  if (given != expected) {
    return fail(ResultCode::kLeaseMismatch,
                fmt::format("{}.lease_envelopes name {} recipients, but model {} has {} active leases other than the "
                            "owner's; send exactly one envelope per active lease",
                            field, given.size(), model_hex, expected.size()));
  }

  result = charge(context, gas::kPerEnvelope * (1 + static_cast<uint64_t>(content.lease_envelopes_size())),
                  "storing key envelopes");
  if (!result.ok()) return result;
  *model->body.mutable_manifest() = content.manifest();
  model->body.clear_envelopes();
  put_envelope(&model->body, content.owner_envelope());
  for (const v1::KeyEnvelope& envelope : content.lease_envelopes()) put_envelope(&model->body, envelope);
  model->body.clear_key_pending_from();
  start_epoch(&model->body);
  return {};
}

}  // namespace

Status apply_register(const v1::ModelRegister& op, ObjectContext& context, OpResult* result) {
  Hash32 id = crypto::derive_model_id(context.signer, context.tx_nonce, context.op_index);
  std::string signer = to_string(context.signer);
  *result = require_recipient(op.owner_envelope(), signer, "model_register.owner_envelope");
  if (!result->ok()) return Status::ok();

  *result = charge(context, object_gas::kPerObjectRead, "checking the model id");
  if (!result->ok()) return Status::ok();
  std::optional<Bytes> existing;
  Status status = context.state->get(keys::object(id), &existing);
  if (!status.is_ok()) return status;
  if (existing) {
    *result = fail(ResultCode::kAlreadyExists,
                   fmt::format("model {} already exists; its id comes from signer {}, nonce {} and op index {}",
                               to_hex(id), signer_text(context), context.tx_nonce, context.op_index));
    return Status::ok();
  }
  status = check_base_models(op, context, result);
  if (!status.is_ok() || !result->ok()) return status;

  *result = charge(context, gas::kPerEnvelope + object_gas::kPerObjectWrite, "storing the envelope and indexes");
  if (!result->ok()) return Status::ok();
  Model model;
  v1::ModelNft& body = model.body;
  body.set_name(op.name());
  body.set_format(op.format());
  *body.mutable_metadata() = op.metadata();
  body.set_license(op.license());
  *body.mutable_base_models() = op.base_models();
  body.set_royalty_bps(op.royalty_bps());
  *body.mutable_flags() = op.flags();
  body.set_creator(signer);
  *body.mutable_manifest() = op.manifest();
  *body.add_envelopes() = op.owner_envelope();

  model.object.set_id(id.data(), id.size());
  model.object.set_type(std::string(kTypeModel));
  model.object.set_created_height(context.height);
  objects::set_owner(context, &model.object, context.signer);
  objects::put_index(*context.state, keys::model_index(id));
  objects::put_index(*context.state, keys::creator_index(context.signer, id));
  *result = store_model(context, &model);
  if (!result->ok()) return Status::ok();
  objects::record_created(context, "model", id);
  return Status::ok();
}

Status apply_transfer(const v1::ModelTransfer& op, ObjectContext& context, OpResult* result) {
  Model model;
  Status status = load_model(context, as_view(op.model_id()), &model.object, &model.body, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = objects::require_owner(context, model.object, "transfer it");
  if (!result->ok()) return Status::ok();
  if (!model.body.flags().transferable()) {
    *result = fail(ResultCode::kNotTransferable,
                   fmt::format("model {} was registered with flags.transferable false, so it cannot change owner",
                               to_hex(as_view(op.model_id()))));
    return Status::ok();
  }
  *result = require_recipient(op.new_owner_envelope(), op.to(), "model_transfer.new_owner_envelope");
  if (!result->ok()) return Status::ok();

  std::string previous_owner = model.object.owner();
  objects::set_owner(context, &model.object, as_view(op.to()));
  if (op.has_rekey()) {
    *result = replace_content(context, &model, op.rekey(), true, "model_transfer.rekey");
    if (!result->ok()) return Status::ok();
  } else {
    *result = charge(context, gas::kPerEnvelope, "storing the new owner's envelope");
    if (!result->ok()) return Status::ok();
    prune_expired_leases(&model, context.height);
    // A seller still owing a key delivery is released: the owner hands the
    // key over itself with this transfer.
    std::string pending_seller = model.body.key_pending_from();
    model.body.clear_key_pending_from();
    release_envelope(&model, previous_owner, context.height);
    if (!pending_seller.empty()) release_envelope(&model, pending_seller, context.height);
    put_envelope(&model.body, op.new_owner_envelope());
    start_epoch(&model.body);
  }
  *result = store_model(context, &model);
  return Status::ok();
}

Status apply_lease(const v1::ModelLease& op, ObjectContext& context, OpResult* result) {
  Model model;
  Status status = load_model(context, as_view(op.model_id()), &model.object, &model.body, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = objects::require_owner(context, model.object, "lease it");
  if (!result->ok()) return Status::ok();
  if (op.expiry_height() < context.height) {
    *result = fail(ResultCode::kExpiryInPast,
                   fmt::format("model_lease.expiry_height {} is below the current height {}", op.expiry_height(),
                               context.height));
    return Status::ok();
  }
  *result = require_recipient(op.envelope(), op.grantee(), "model_lease.envelope");
  if (!result->ok()) return Status::ok();
  *result = charge(context, gas::kPerEnvelope, "storing the lease envelope");
  if (!result->ok()) return Status::ok();

  auto* grants = model.object.mutable_grants();
  auto it = std::lower_bound(grants->begin(), grants->end(), op.grantee(),
                             [](const v1::UseGrant& grant, const std::string& grantee) {
                               return grant.grantee() < grantee;
                             });
  if (it != grants->end() && it->grantee() == op.grantee()) {
    it->set_expiry_height(op.expiry_height());
  } else {
    int index = static_cast<int>(it - grants->begin());
    v1::UseGrant* grant = model.object.add_grants();
    grant->set_grantee(op.grantee());
    grant->set_expiry_height(op.expiry_height());
    for (int i = grants->size() - 1; i > index; --i) grants->SwapElements(i, i - 1);
  }
  put_envelope(&model.body, op.envelope());
  *result = store_model(context, &model);
  return Status::ok();
}

Status apply_deliver_key(const v1::ModelDeliverKey& op, ObjectContext& context, OpResult* result) {
  Model model;
  Status status = load_model(context, as_view(op.model_id()), &model.object, &model.body, result);
  if (!status.is_ok() || !result->ok()) return status;
  std::string model_hex = to_hex(as_view(op.model_id()));
  if (model.body.key_pending_from().empty()) {
    *result = fail(ResultCode::kNoPendingKey,
                   fmt::format("model {} has no key delivery pending; only a sale by offer leaves one", model_hex));
    return Status::ok();
  }
  if (model.body.key_pending_from() != to_string(context.signer)) {
    *result = fail(ResultCode::kNotOwner,
                   fmt::format("signer {} is not the seller {} that owes the key of model {}", signer_text(context),
                               objects::address_text(as_view(model.body.key_pending_from())), model_hex));
    return Status::ok();
  }
  *result = require_recipient(op.envelope(), model.object.owner(), "model_deliver_key.envelope");
  if (!result->ok()) return Status::ok();
  *result = charge(context, gas::kPerEnvelope, "storing the buyer's envelope");
  if (!result->ok()) return Status::ok();
  put_envelope(&model.body, op.envelope());
  model.body.clear_key_pending_from();
  release_envelope(&model, to_string(context.signer), context.height);
  *result = store_model(context, &model);
  return Status::ok();
}

Status apply_burn(const v1::ModelBurn& op, ObjectContext& context, OpResult* result) {
  Model model;
  ByteView id = as_view(op.model_id());
  Status status = load_model(context, id, &model.object, &model.body, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = objects::require_owner(context, model.object, "burn it");
  if (!result->ok()) return Status::ok();
  if (!model.body.flags().burnable()) {
    *result = fail(ResultCode::kNotBurnable,
                   fmt::format("model {} was registered with flags.burnable false, so it cannot be burned",
                               to_hex(id)));
    return Status::ok();
  }

  std::vector<crypto::PublicKey> nodes;
  status = storage_nodes(*context.state, &nodes);
  if (!status.is_ok()) return status;
  *result = charge(context, object_gas::kPerObjectWrite * (2 + nodes.size()), "deleting the model and its holdings");
  if (!result->ok()) return Status::ok();
  context.state->erase(keys::object(id));
  context.state->erase(keys::owner_index(as_view(model.object.owner()), id));
  context.state->erase(keys::model_index(id));
  context.state->erase(keys::creator_index(as_view(model.body.creator()), id));
  // NOTE: only holdings of the current storage nodes are deleted; a node
  // that left the validator set keeps its record under the burned id.
  for (const crypto::PublicKey& node : nodes) context.state->erase(keys::holding(id, crypto::address_of(node)));
  return Status::ok();
}

Status apply_rekey(const v1::ModelRekey& op, ByteView model_id, ObjectContext& context, OpResult* result) {
  Model model;
  Status status = load_model(context, model_id, &model.object, &model.body, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = objects::require_owner(context, model.object, "rekey it");
  if (!result->ok()) return Status::ok();
  *result = replace_content(context, &model, op, true, "model_rekey");
  if (!result->ok()) return Status::ok();
  *result = store_model(context, &model);
  return Status::ok();
}

Status apply_rekey(const v1::ModelRekey& op, ObjectContext& context, OpResult* result) {
  return apply_rekey(op, as_view(op.model_id()), context, result);
}

Status apply_update(const v1::ModelUpdate& op, ObjectContext& context, OpResult* result) {
  Model model;
  Status status = load_model(context, as_view(op.model_id()), &model.object, &model.body, result);
  if (!status.is_ok() || !result->ok()) return status;
  *result = objects::require_owner(context, model.object, "update it");
  if (!result->ok()) return Status::ok();
  if (!model.body.flags().mutable_()) {
    *result = fail(ResultCode::kNotMutable,
                   fmt::format("model {} was registered with flags.mutable false, so its content cannot change",
                               to_hex(as_view(op.model_id()))));
    return Status::ok();
  }
  *result = replace_content(context, &model, op.content(), false, "model_update.content");
  if (!result->ok()) return Status::ok();
  model.body.set_format(op.format());
  *model.body.mutable_metadata() = op.metadata();
  *result = store_model(context, &model);
  return Status::ok();
}

}  // namespace automata::model
