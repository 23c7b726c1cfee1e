#include "automata/cli/proof.h"

#include "automata/crypto/sha256.h"
#include "automata/state/state_tree.h"
#include "automata/v1/block.pb.h"

#include <nlohmann/json.hpp>

namespace automata::cli {

namespace {

using nlohmann::json;

Status invalid(const std::string& what) { return Status::invalid_argument("proof rejected: " + what); }

// Reads a hex string member of exactly N bytes.
template <size_t N>
Status read_hash(const json& object, const char* field, const char* where, std::array<uint8_t, N>* out) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) {
    return invalid(std::string(where) + "." + field + " is missing or not a string");
  }
  auto bytes = from_hex(it->get<std::string>());
  if (!bytes || bytes->size() != N) {
    return invalid(std::string(where) + "." + field + " must be " + std::to_string(N * 2) + " hex digits");
  }
  *out = *to_array<N>(*bytes);
  return Status::ok();
}

// Reads a hex string member that may be null.
Status read_optional_hex(const json& object, const char* field, const char* where, std::optional<Bytes>* out) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    out->reset();
    return Status::ok();
  }
  if (!it->is_string()) return invalid(std::string(where) + "." + field + " must be a hex string or null");
  auto bytes = from_hex(it->get<std::string>());
  if (!bytes) return invalid(std::string(where) + "." + field + " is not hex");
  *out = std::move(*bytes);
  return Status::ok();
}

Status read_optional_hash(const json& object, const char* field, std::optional<Hash32>* out) {
  std::optional<Bytes> bytes;
  Status s = read_optional_hex(object, field, "proof", &bytes);
  if (!s.is_ok()) return s;
  if (!bytes) {
    out->reset();
    return Status::ok();
  }
  auto hash = to_array<32>(*bytes);
  if (!hash) return invalid(std::string("proof.") + field + " must be 64 hex digits");
  *out = *hash;
  return Status::ok();
}

Status read_state_proof(const json& proof_json, state::StateProof* out) {
  if (!proof_json.is_object()) return invalid("\"proof\" is missing or not an object");
  Status s = read_hash<32>(proof_json, "key_hash", "proof", &out->key_hash);
  if (!s.is_ok()) return s;
  if (!(s = read_optional_hash(proof_json, "leaf_key_hash", &out->leaf_key_hash)).is_ok()) return s;
  if (!(s = read_optional_hash(proof_json, "leaf_value_hash", &out->leaf_value_hash)).is_ok()) return s;
  auto siblings = proof_json.find("siblings");
  if (siblings == proof_json.end() || !siblings->is_array()) return invalid("proof.siblings must be an array");
  out->siblings.clear();
  for (const auto& sibling : *siblings) {
    auto bytes = sibling.is_string() ? from_hex(sibling.get<std::string>()) : std::nullopt;
    auto hash = bytes ? to_array<32>(*bytes) : std::nullopt;
    if (!hash) return invalid("proof.siblings[" + std::to_string(out->siblings.size()) + "] must be 64 hex digits");
    out->siblings.push_back(*hash);
  }
  return Status::ok();
}

Status read_height(const json& object, const char* where, uint64_t* out) {
  auto it = object.find("height");
  if (it == object.end() || !it->is_number_unsigned()) {
    return invalid(std::string(where) + ".height is missing or not a non-negative integer");
  }
  *out = it->get<uint64_t>();
  return Status::ok();
}

}  // namespace

Status verify_proof_response(const json& proof_result, const json& block_result, ByteView expected_key,
                             VerifiedProof* out) {
  if (!proof_result.is_object()) return invalid("the state_proof result is not an object");
  if (!block_result.is_object()) return invalid("the block_get result is not an object");

  // 1. The header bytes hash to the block hash.
  Status s = read_hash<32>(block_result, "hash", "block", &out->block_hash);
  if (!s.is_ok()) return s;
  std::optional<Bytes> header_bytes;
  if (!(s = read_optional_hex(block_result, "header_bytes", "block", &header_bytes)).is_ok()) return s;
  if (!header_bytes) return invalid("block.header_bytes is missing");
  Hash32 computed = crypto::sha256(*header_bytes);
  if (computed != out->block_hash) {
    return invalid("SHA-256(header_bytes) is " + to_hex(computed) + " but the node gave block hash " +
                   to_hex(out->block_hash));
  }

  // 2. The header decodes and is at the proof's height.
  v1::BlockHeader header;
  if (!header.ParseFromArray(header_bytes->data(), static_cast<int>(header_bytes->size()))) {
    return invalid("block.header_bytes is not a serialized BlockHeader");
  }
  if (!(s = read_height(proof_result, "proof result", &out->height)).is_ok()) return s;
  if (header.height() != out->height) {
    return invalid("the proof is at height " + std::to_string(out->height) + " but the header is at height " +
                   std::to_string(header.height()));
  }
  auto root = to_array<32>(as_view(header.state_root()));
  if (!root) return invalid("header.state_root is not 32 bytes");
  out->state_root = *root;

  // 3. The proof is for the key that was requested.
  std::optional<Bytes> key;
  if (!(s = read_optional_hex(proof_result, "key", "proof result", &key)).is_ok()) return s;
  if (!key) return invalid("proof result.key is missing");
  if (!std::equal(key->begin(), key->end(), expected_key.begin(), expected_key.end())) {
    return invalid("the node proved key " + to_hex(*key) + " instead of " + to_hex(expected_key));
  }
  out->key = std::move(*key);

  // 4. value and exists agree.
  if (!(s = read_optional_hex(proof_result, "value", "proof result", &out->value)).is_ok()) return s;
  auto exists = proof_result.find("exists");
  if (exists == proof_result.end() || !exists->is_boolean()) return invalid("proof result.exists is not a boolean");
  if (exists->get<bool>() != out->value.has_value()) {
    return invalid("proof result.exists is " + std::string(exists->get<bool>() ? "true" : "false") +
                   " but value is " + (out->value ? "present" : "null"));
  }

  // 5. The Merkle path leads to the header's state root.
  state::StateProof proof;
  auto proof_json = proof_result.find("proof");
  if (proof_json == proof_result.end()) return invalid("proof result.proof is missing");
  if (!(s = read_state_proof(*proof_json, &proof)).is_ok()) return s;
  if (!state::verify_state_proof(out->state_root, out->key, out->value, proof)) {
    return invalid("the proof does not lead to state root " + to_hex(out->state_root) + " of block " +
                   std::to_string(out->height));
  }
  return Status::ok();
}

}  // namespace automata::cli
