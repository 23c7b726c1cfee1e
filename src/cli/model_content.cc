// Model records from model_get and the content key envelopes in them.
#include "automata/cli/model_content.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/ecies.h"
#include "automata/v1/model.pb.h"
#include "cli/context.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace automata::cli {

using nlohmann::json;

ModelRecord::ModelRecord() : raw(std::make_unique<json>()), nft_(std::make_unique<v1::ModelNft>()) {}
ModelRecord::~ModelRecord() = default;
ModelRecord::ModelRecord(ModelRecord&&) noexcept = default;
ModelRecord& ModelRecord::operator=(ModelRecord&&) noexcept = default;

namespace {

std::string bytes_of(ByteView bytes) { return to_string(bytes); }

Status field_error(const std::string& field, const std::string& rule) {
  return Status::invalid_argument("model_get result: field '" + field + "' " + rule);
}

Status get_string(const json& object, const std::string& field, std::string* out) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) return field_error(field, "is missing or not a string");
  *out = it->get<std::string>();
  return Status::ok();
}

// A string field that may be absent (older nodes) or null.
std::string optional_string(const json& object, const std::string& field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

Status get_hex(const json& object, const std::string& field, size_t expected_size, Bytes* out) {
  std::string text;
  Status s = get_string(object, field, &text);
  if (!s.is_ok()) return s;
  auto bytes = from_hex(text);
  if (!bytes) return field_error(field, "is not hex: '" + text + "'");
  if (expected_size != 0 && bytes->size() != expected_size) {
    return field_error(field, "has " + std::to_string(bytes->size()) + " bytes, expected " +
                                  std::to_string(expected_size));
  }
  *out = std::move(*bytes);
  return Status::ok();
}

Status get_address(const json& object, const std::string& field, Address* out) {
  std::string text;
  Status s = get_string(object, field, &text);
  if (!s.is_ok()) return s;
  std::string error;
  auto address = crypto::decode_address(text, &error);
  if (!address) return field_error(field, "is not an atm1 address: " + error);
  *out = *address;
  return Status::ok();
}

Status get_uint(const json& object, const std::string& field, uint64_t* out) {
  if (!object.is_object() || !object.contains(field)) return field_error(field, "is missing");
  // JSON built in process (not parsed) holds small literals as signed.
  const json& value = object.at(field);
  if (value.is_number_integer() && !value.is_number_unsigned() && value.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(value.get<int64_t>());
    return Status::ok();
  }
  Status s = json_uint(object, field.c_str(), out);
  if (!s.is_ok()) return field_error(field, "is not an unsigned integer");
  return Status::ok();
}

int64_t optional_int(const json& object, const std::string& field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_number_integer()) return 0;
  return it->get<int64_t>();
}

uint64_t optional_uint(const json& object, const std::string& field) {
  uint64_t value = 0;
  if (object.is_object() && object.contains(field)) get_uint(object, field, &value);
  return value;
}

void parse_tensors(const json& list, google::protobuf::RepeatedPtrField<v1::TensorInfo>* out) {
  if (!list.is_array()) return;
  for (const auto& item : list) {
    v1::TensorInfo* tensor = out->Add();
    tensor->set_name(optional_string(item, "name"));
    tensor->set_elem_type(optional_string(item, "elem_type"));
    for (const auto& dim : item.value("dims", json::array())) {
      tensor->add_dims(dim.is_string() ? dim.get<std::string>() : dim.dump());
    }
  }
}

void parse_metadata(const json& object, v1::ModelMetadata* out) {
  if (!object.is_object()) return;
  out->set_parameter_count(optional_uint(object, "parameter_count"));
  out->set_tensor_count(optional_uint(object, "tensor_count"));
  out->set_ir_version(optional_int(object, "ir_version"));
  for (const auto& item : object.value("opsets", json::array())) {
    v1::OpsetImport* opset = out->add_opsets();
    opset->set_domain(optional_string(item, "domain"));
    opset->set_version(optional_int(item, "version"));
  }
  out->set_producer_name(optional_string(object, "producer_name"));
  out->set_producer_version(optional_string(object, "producer_version"));
  parse_tensors(object.value("inputs", json::array()), out->mutable_inputs());
  parse_tensors(object.value("outputs", json::array()), out->mutable_outputs());
  for (const auto& dtype : object.value("dtypes", json::array())) {
    if (dtype.is_string()) out->add_dtypes(dtype.get<std::string>());
  }
  out->set_gguf_version(static_cast<uint32_t>(optional_uint(object, "gguf_version")));
  out->set_architecture(optional_string(object, "architecture"));
  out->set_model_name(optional_string(object, "model_name"));
}

Status parse_manifest(const json& object, v1::ModelManifest* out) {
  if (!object.is_object()) return field_error("manifest", "is missing or not an object");
  uint64_t value = 0;
  Status s = get_uint(object, "fragment_size", &value);
  if (!s.is_ok()) return s;
  out->set_fragment_size(value);
  s = get_uint(object, "fragment_count", &value);
  if (!s.is_ok()) return s;
  out->set_fragment_count(value);
  s = get_uint(object, "total_size", &value);
  if (!s.is_ok()) return s;
  out->set_total_size(value);
  Bytes bytes;
  s = get_hex(object, "fragments_root", 32, &bytes);
  if (!s.is_ok()) return s;
  out->set_fragments_root(bytes_of(bytes));
  s = get_hex(object, "plaintext_sha256", 32, &bytes);
  if (!s.is_ok()) return s;
  out->set_plaintext_sha256(bytes_of(bytes));
  out->set_cipher_suite(optional_string(object, "cipher_suite"));
  return Status::ok();
}

Status parse_envelope(const json& object, v1::KeyEnvelope* out) {
  Address recipient{};
  Status s = get_address(object, "recipient", &recipient);
  if (!s.is_ok()) return s;
  out->set_recipient(bytes_of(recipient));
  Bytes bytes;
  s = get_hex(object, "ephemeral_pubkey", crypto::kEphemeralPubkeySize, &bytes);
  if (!s.is_ok()) return s;
  out->set_ephemeral_pubkey(bytes_of(bytes));
  s = get_hex(object, "sealed_key", crypto::kSealedKeySize, &bytes);
  if (!s.is_ok()) return s;
  out->set_sealed_key(bytes_of(bytes));
  return Status::ok();
}

}  // namespace

Status parse_model_id(const std::string& text, Hash32* out) {
  auto bytes = from_hex(text);
  if (!bytes || bytes->size() != 32) {
    return Status::invalid_argument("invalid model id '" + text + "': expected 64 hex digits");
  }
  *out = *to_array<32>(*bytes);
  return Status::ok();
}

Status parse_model_record(const json& result, ModelRecord* out) {
  if (!result.is_object()) return Status::invalid_argument("model_get result is not a JSON object");
  *out->raw = result;
  Bytes bytes;
  Status s = get_hex(result, "id", 32, &bytes);
  if (!s.is_ok()) return s;
  out->id = *to_array<32>(bytes);
  s = get_address(result, "owner", &out->owner);
  if (!s.is_ok()) return s;

  v1::ModelNft& nft = out->nft();
  nft.Clear();
  Address creator{};
  s = get_address(result, "creator", &creator);
  if (!s.is_ok()) return s;
  nft.set_creator(bytes_of(creator));
  nft.set_name(optional_string(result, "name"));
  nft.set_format(optional_string(result, "format"));
  parse_metadata(result.value("metadata", json::object()), nft.mutable_metadata());
  nft.set_license(optional_string(result, "license"));
  for (const auto& base : result.value("base_models", json::array())) {
    auto base_bytes = base.is_string() ? from_hex(base.get<std::string>()) : std::nullopt;
    if (!base_bytes || base_bytes->size() != 32) return field_error("base_models", "has an entry that is not a 32-byte hex id");
    nft.add_base_models(bytes_of(*base_bytes));
  }
  nft.set_royalty_bps(static_cast<uint32_t>(optional_uint(result, "royalty_bps")));
  const json flags = result.value("flags", json::object());
  nft.mutable_flags()->set_transferable(flags.value("transferable", false));
  nft.mutable_flags()->set_burnable(flags.value("burnable", false));
  nft.mutable_flags()->set_mutable_(flags.value("mutable", false));

  s = parse_manifest(result.value("manifest", json()), nft.mutable_manifest());
  if (!s.is_ok()) return s;
  for (const auto& item : result.value("envelopes", json::array())) {
    s = parse_envelope(item, nft.add_envelopes());
    if (!s.is_ok()) return s;
  }

  out->leases.clear();
  for (const auto& item : result.value("leases", json::array())) {
    ModelLeaseInfo lease;
    s = get_address(item, "grantee", &lease.grantee);
    if (!s.is_ok()) return s;
    s = get_uint(item, "expiry_height", &lease.expiry_height);
    if (!s.is_ok()) return s;
    out->leases.push_back(lease);
  }

  nft.set_epoch(optional_uint(result, "epoch"));
  nft.set_available(result.value("available", false));
  std::string pending = optional_string(result, "key_pending_from");
  if (!pending.empty()) {
    Address pending_from{};
    s = get_address(result, "key_pending_from", &pending_from);
    if (!s.is_ok()) return s;
    nft.set_key_pending_from(bytes_of(pending_from));
  }
  out->version = optional_uint(result, "version");
  out->created_height = optional_uint(result, "created_height");
  out->updated_height = optional_uint(result, "updated_height");
  return Status::ok();
}

Status load_model(Context& ctx, const Hash32& id, ModelRecord* out) {
  json result;
  Status s = ctx.call("model_get", {{"id", to_hex(id)}}, &result);
  if (s.is_not_found()) return Status::not_found("model " + to_hex(id) + " not found on the node");
  if (!s.is_ok()) return s;
  return parse_model_record(result, out);
}

Status find_envelope(const ModelRecord& model, const Address& holder, uint64_t current_height,
                     const v1::KeyEnvelope** out) {
  const std::string holder_bytes = bytes_of(holder);
  const std::string holder_text = crypto::encode_address(holder);
  const v1::KeyEnvelope* found = nullptr;
  for (const v1::KeyEnvelope& envelope : model.nft().envelopes()) {
    if (envelope.recipient() == holder_bytes) found = &envelope;
  }
  if (found == nullptr) {
    std::string message = "no key for this model: " + holder_text + " holds no key envelope for model " +
                          to_hex(model.id);
    if (holder == model.owner && !model.nft().key_pending_from().empty()) {
      message += "; the seller " + crypto::encode_address(*to_array<20>(as_view(model.nft().key_pending_from()))) +
                 " has not delivered it yet";
    }
    return Status::not_found(message);
  }
  // Besides the owner, only two holders may use an envelope: the seller
  // that owes a key delivery (its envelope stays until it delivers) and a
  // lessee whose lease is active. model_get omits expired leases, while
  // their envelopes stay until the next write of the model prunes them.
  const bool pending_seller = model.nft().key_pending_from() == holder_bytes;
  if (holder != model.owner && !pending_seller) {
    const ModelLeaseInfo* lease = nullptr;
    for (const ModelLeaseInfo& entry : model.leases) {
      if (entry.grantee == holder) lease = &entry;
    }
    if (lease == nullptr) {
      return Status::not_found("no key for this model: " + holder_text + " is not the owner of model " +
                               to_hex(model.id) + " and holds no active lease on it");
    }
    if (current_height != 0 && lease->expiry_height < current_height) {
      return Status::not_found("no key for this model: the lease of " + holder_text + " on model " +
                               to_hex(model.id) + " expired at height " + std::to_string(lease->expiry_height));
    }
  }
  *out = found;
  return Status::ok();
}

Status open_content_key(const ModelRecord& model, const crypto::PrivateKey& key, uint64_t current_height,
                        Bytes* content_key) {
  const Address holder = crypto::address_of(key.public_key());
  const v1::KeyEnvelope* envelope = nullptr;
  Status s = find_envelope(model, holder, current_height, &envelope);
  if (!s.is_ok()) return s;
  auto opened = crypto::ecies_open(key, as_view(envelope->ephemeral_pubkey()), as_view(envelope->sealed_key()),
                                   ByteView(model.id));
  if (!opened || opened->size() != kContentKeySize) {
    return Status::invalid_argument("the key envelope of " + crypto::encode_address(holder) + " for model " +
                                    to_hex(model.id) + " does not open with this key");
  }
  *content_key = std::move(*opened);
  return Status::ok();
}

Status wrap_content_key(const crypto::PublicKey& recipient_xonly, ByteView content_key, const Hash32& model_id,
                        v1::KeyEnvelope* out) {
  crypto::SealedKey sealed;
  try {
    sealed = crypto::ecies_seal(recipient_xonly, content_key, ByteView(model_id));
  } catch (const std::invalid_argument& e) {
    return Status::invalid_argument("cannot wrap the content key to public key " + to_hex(recipient_xonly) + ": " +
                                    e.what());
  }
  Address recipient = crypto::address_of(recipient_xonly);
  out->set_recipient(bytes_of(recipient));
  out->set_ephemeral_pubkey(bytes_of(sealed.ephemeral_pubkey));
  out->set_sealed_key(bytes_of(sealed.sealed));
  return Status::ok();
}

Status recipient_pubkey(Context& ctx, const Address& recipient, const std::string& pubkey_hex,
                        crypto::PublicKey* out) {
  const std::string recipient_text = crypto::encode_address(recipient);
  if (!pubkey_hex.empty()) {
    auto bytes = from_hex(pubkey_hex);
    if (!bytes || bytes->size() != 32) {
      return Status::invalid_argument("invalid --to-pubkey '" + pubkey_hex + "': expected 64 hex digits (x-only key)");
    }
    crypto::PublicKey pubkey = *to_array<32>(*bytes);
    if (crypto::address_of(pubkey) != recipient) {
      return Status::invalid_argument("--to-pubkey " + pubkey_hex + " is the key of " +
                                      crypto::encode_address(crypto::address_of(pubkey)) + ", not of " +
                                      recipient_text);
    }
    *out = pubkey;
    return Status::ok();
  }

  const std::string no_key = "recipient " + recipient_text +
                             " has no public key on chain yet; it must send a transaction first, or pass "
                             "--to-pubkey HEX";
  json account;
  Status s = ctx.call("account_get", {{"address", recipient_text}}, &account);
  if (s.is_not_found()) return Status::not_found(no_key);
  if (!s.is_ok()) return s;
  auto bytes = from_hex(account.value("pubkey", std::string()));
  if (!bytes || bytes->empty()) return Status::not_found(no_key);
  if (bytes->size() != 32) {
    return Status::io_error("account_get returned a public key of " + std::to_string(bytes->size()) + " bytes for " +
                            recipient_text + ", expected 32");
  }
  *out = *to_array<32>(*bytes);
  return Status::ok();
}

}  // namespace automata::cli
