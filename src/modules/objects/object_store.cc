#include "automata/modules/objects/object_store.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/sha256.h"
#include "automata/types/state_keys.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/code_state.pb.h"

#include <fmt/format.h>

#include <algorithm>

namespace automata::objects {

namespace {

constexpr std::string_view kObjectIdDomain = "automata/object";
const Bytes kIndexPresent{0x01};

}  // namespace

Hash32 derive_object_id(const Hash32& tx_hash, uint32_t op_index) {
  uint8_t index_bytes[4] = {static_cast<uint8_t>(op_index >> 24), static_cast<uint8_t>(op_index >> 16),
                            static_cast<uint8_t>(op_index >> 8), static_cast<uint8_t>(op_index)};
  return crypto::sha256_concat({as_view(kObjectIdDomain), tx_hash, ByteView(index_bytes, 4)});
}

void record_created(ObjectContext& context, std::string_view kind, ByteView id) {
  if (context.created == nullptr) return;
  v1::CreatedObject& created = context.created->emplace_back();
  created.set_op_index(context.op_index);
  created.set_kind(std::string(kind));
  created.set_id(id.data(), id.size());
}

void put_index(execution::Overlay& state, Bytes key) { state.put(std::move(key), kIndexPresent); }

OpResult charge(ObjectContext& context, uint64_t amount, std::string_view what) {
  if (context.gas->consume(amount)) return {};
  return fail(ResultCode::kOutOfGas, fmt::format("out of gas {} (limit {})", what, context.gas->limit()));
}

Status load_object(ObjectContext& context, ByteView id, v1::ObjectEnvelope* object, OpResult* result) {
  *result = charge(context, gas::kPerObjectRead, "reading an object");
  if (!result->ok()) return Status::ok();
  bool found = false;
  Status status = read_record(*context.state, keys::object(id), object, &found);
  if (!status.is_ok()) return status;
  if (!found) *result = fail(ResultCode::kObjectNotFound, fmt::format("object {} not found", to_hex(id)));
  return Status::ok();
}

OpResult store_object(ObjectContext& context, v1::ObjectEnvelope* object) {
  OpResult result = charge(context, gas::kPerObjectWrite, "writing an object");
  if (!result.ok()) return result;
  object->set_version(object->version() + 1);
  object->set_updated_height(context.height);
  write_record(*context.state, keys::object(as_view(object->id())), *object);
  return {};
}

OpResult require_owner(const ObjectContext& context, const v1::ObjectEnvelope& object, std::string_view action) {
  if (!object.wrapped_by().empty()) {
    return fail(ResultCode::kObjectWrapped,
                fmt::format("object {} is wrapped in composite {}, so no one may {} on its own; "
                            "decompose the composite first",
                            to_hex(as_view(object.id())), to_hex(as_view(object.wrapped_by())), action));
  }
  if (object.owner() != to_string(context.signer)) {
    return fail(ResultCode::kNotOwner,
                fmt::format("signer {} is not the owner {} of object {}; only the owner may {}",
                            crypto::encode_address(context.signer), address_text(as_view(object.owner())),
                            to_hex(as_view(object.id())), action));
  }
  return {};
}

void set_owner(ObjectContext& context, v1::ObjectEnvelope* object, ByteView new_owner) {
  ByteView id = as_view(object->id());
  if (!object->owner().empty()) context.state->erase(keys::owner_index(as_view(object->owner()), id));
  if (!new_owner.empty()) context.state->put(keys::owner_index(new_owner, id), kIndexPresent);
  object->set_owner(new_owner.data(), new_owner.size());
}

std::string address_text(ByteView raw) {
  auto address = to_array<20>(raw);
  if (!address) return to_hex(raw);
  return crypto::encode_address(*address);
}

Address to_address(ByteView raw) {
  Address address{};
  std::copy_n(raw.begin(), std::min(raw.size(), address.size()), address.begin());
  return address;
}

}  // namespace automata::objects
