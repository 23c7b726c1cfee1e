#include "model_store.h"

#include "automata/types/state_keys.h"

#include <fmt/format.h>

#include <algorithm>

namespace automata::model {

using objects::fail;

Status load_model(ObjectContext& context, ByteView id, v1::ObjectEnvelope* object, v1::ModelNft* body,
                  OpResult* result) {
  Status status = objects::load_object(context, id, object, result);
  if (!status.is_ok() || !result->ok()) return status;
  if (object->type() != kTypeModel) {
    *result = fail(ResultCode::kWrongObjectKind,
                   fmt::format("object {} is a {}, not a {}", to_hex(id), object->type(), kTypeModel));
    return Status::ok();
  }
  if (!body->ParseFromString(object->body())) {
    return Status::corruption(fmt::format("body of model {} does not parse as automata.v1.ModelNft", to_hex(id)));
  }
  return Status::ok();
}

namespace detail {

OpResult store_model(ObjectContext& context, Model* model) {
  model->object.set_body(model->body.SerializeAsString());
  return objects::store_object(context, &model->object);
}

void put_envelope(v1::ModelNft* body, const v1::KeyEnvelope& envelope) {
  auto* envelopes = body->mutable_envelopes();
  auto it = std::lower_bound(envelopes->begin(), envelopes->end(), envelope.recipient(),
                             [](const v1::KeyEnvelope& entry, const std::string& recipient) {
                               return entry.recipient() < recipient;
                             });
  if (it != envelopes->end() && it->recipient() == envelope.recipient()) {
    *it = envelope;
    return;
  }
  int index = static_cast<int>(it - envelopes->begin());
  *body->add_envelopes() = envelope;
  for (int i = envelopes->size() - 1; i > index; --i) envelopes->SwapElements(i, i - 1);
}

void drop_envelope(v1::ModelNft* body, const std::string& recipient) {
  auto* envelopes = body->mutable_envelopes();
  for (int i = 0; i < envelopes->size(); ++i) {
    if ((*envelopes)[i].recipient() == recipient) {
      envelopes->DeleteSubrange(i, 1);
      return;
    }
  }
}

bool has_active_lease(const v1::ObjectEnvelope& object, const std::string& address, uint64_t height) {
  return std::any_of(object.grants().begin(), object.grants().end(), [&](const v1::UseGrant& grant) {
    return grant.grantee() == address && grant.expiry_height() >= height;
  });
}

std::set<std::string> active_grantees(const v1::ObjectEnvelope& object, uint64_t height, const std::string& except) {
  std::set<std::string> grantees;
  for (const v1::UseGrant& grant : object.grants()) {
    if (grant.expiry_height() >= height && grant.grantee() != except) grantees.insert(grant.grantee());
  }
  return grantees;
}

void prune_expired_leases(Model* model, uint64_t height) {
  auto* grants = model->object.mutable_grants();
  for (int i = grants->size() - 1; i >= 0; --i) {
    const v1::UseGrant& grant = (*grants)[i];
    if (grant.expiry_height() >= height) continue;
    if (grant.grantee() != model->object.owner() && grant.grantee() != model->body.key_pending_from()) {
      drop_envelope(&model->body, grant.grantee());
    }
    grants->DeleteSubrange(i, 1);
  }
}

void release_envelope(Model* model, const std::string& holder, uint64_t height) {
  if (holder == model->object.owner() || has_active_lease(model->object, holder, height)) return;
  drop_envelope(&model->body, holder);
}

void start_epoch(v1::ModelNft* body) {
  body->set_epoch(body->epoch() + 1);
  body->set_available(false);
}

OpResult require_recipient(const v1::KeyEnvelope& envelope, const std::string& expected, std::string_view field) {
  if (envelope.recipient() == expected) return {};
  return fail(ResultCode::kWrongRecipient,
              fmt::format("{}.recipient is {}, but the envelope must be addressed to {}", field,
                          objects::address_text(as_view(envelope.recipient())),
                          objects::address_text(as_view(expected))));
}

}  // namespace detail
}  // namespace automata::model
