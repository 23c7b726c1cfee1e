#include "rpc/fragment_methods.h"

#include "automata/crypto/bech32.h"
#include "automata/rpc/fragment_service.h"
#include "automata/rpc/handler.h"
#include "rpc/params.h"

#include <fmt/format.h>

#include <array>
#include <optional>

namespace automata::rpc {

using nlohmann::json;

namespace {

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode_base64(ByteView data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t triple = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | uint32_t{data[i + 2]};
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kBase64Alphabet[(triple >> shift) & 0x3F]);
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t triple = uint32_t{data[i]} << 16;
    if (rest == 2) triple |= uint32_t{data[i + 1]} << 8;
    out.push_back(kBase64Alphabet[(triple >> 18) & 0x3F]);
    out.push_back(kBase64Alphabet[(triple >> 12) & 0x3F]);
    out.push_back(rest == 2 ? kBase64Alphabet[(triple >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  return out;
}

// Decodes standard base64 with padding (RFC 4648 section 4). Returns false
// for any other character, a length that is not a multiple of 4, or
// misplaced padding.
bool decode_base64(const std::string& text, Bytes* out) {
  static const std::array<int8_t, 256> values = [] {
    std::array<int8_t, 256> table{};
    table.fill(-1);
    for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
    return table;
  }();
  if (text.size() % 4 != 0) return false;
  out->clear();
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int padding = 0;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        ++padding;
        group <<= 6;
        continue;
      }
      const int8_t value = values[static_cast<uint8_t>(c)];
      if (value < 0 || padding > 0) return false;
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    out->push_back(static_cast<uint8_t>(group >> 16));
    if (padding < 2) out->push_back(static_cast<uint8_t>(group >> 8));
    if (padding < 1) out->push_back(static_cast<uint8_t>(group));
  }
  return true;
}

[[noreturn]] void raise_status(const Status& status) {
  if (status.kind() == Status::Kind::kInvalidArgument) throw RpcError(kInvalidParams, status.message());
  if (status.is_not_found()) throw RpcError(kNotFound, status.message());
  throw RpcError(kInternalError, status.to_string());
}

void check(const Status& status) {
  if (!status.is_ok()) raise_status(status);
}

uint64_t required_index(const Params& params, std::string_view method) {
  auto index = params.optional_uint("index");
  if (!index) throw RpcError(kInvalidParams, fmt::format("params.index: missing; {} needs a fragment index", method));
  return *index;
}

const json& required_member(const json& params, const char* name, std::string_view method) {
  if (!params.is_object() || !params.contains(name)) {
    throw RpcError(kInvalidParams, fmt::format("params.{}: missing; {} needs it", name, method));
  }
  return params.at(name);
}

Bytes read_data(const json& params) {
  const json& value = required_member(params, "data", "model_fragment_put");
  if (!value.is_string()) {
    throw RpcError(kInvalidParams, "params.data: expected a base64 string, got " + describe_json(value));
  }
  Bytes data;
  if (!decode_base64(value.get<std::string>(), &data)) {
    throw RpcError(kInvalidParams, "params.data: expected standard base64 with padding (RFC 4648)");
  }
  return data;
}

std::vector<Hash32> read_proof(const json& params) {
  const json& value = required_member(params, "proof", "model_fragment_put");
  if (!value.is_array()) {
    throw RpcError(kInvalidParams, "params.proof: expected an array of 32-byte hex hashes, got " + describe_json(value));
  }
  std::vector<Hash32> proof;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    std::string text = item.is_string() ? item.get<std::string>() : "";
    if (text.rfind("0x", 0) == 0) text = text.substr(2);
    std::optional<Bytes> bytes = text.size() == 64 ? from_hex(text) : std::nullopt;
    if (!bytes || bytes->size() != 32) {
      throw RpcError(kInvalidParams,
                     fmt::format("params.proof[{}]: expected a 32-byte hash as 64 hex characters, got {}", i,
                                 describe_json(item)));
    }
    Hash32 hash{};
    std::copy(bytes->begin(), bytes->end(), hash.begin());
    proof.push_back(hash);
  }
  return proof;
}

json addresses(const std::vector<Address>& list) {
  json out = json::array();
  for (const auto& address : list) out.push_back(crypto::encode_address(address));
  return out;
}

json fragment(FragmentService& service, const json& raw) {
  Params params(raw, "model_fragment", {"id", "index"});
  Hash32 id = params.required_hash("id");
  uint64_t index = required_index(params, "model_fragment");
  FragmentReply reply;
  check(service.fragment(id, index, &reply));
  json proof = json::array();
  for (const auto& hash : reply.proof) proof.push_back(to_hex(hash));
  return {{"id", to_hex(id)},         {"index", index},         {"data", encode_base64(reply.data)},
          {"proof", proof},           {"root", to_hex(reply.root)}, {"count", reply.count}};
}

json fragment_put(FragmentService& service, const json& raw) {
  Params params(raw, "model_fragment_put", {"id", "index", "data", "proof"});
  Hash32 id = params.required_hash("id");
  uint64_t index = required_index(params, "model_fragment_put");
  Bytes data = read_data(raw);
  std::vector<Hash32> proof = read_proof(raw);
  bool stored = false;
  check(service.put_fragment(id, index, std::move(data), std::move(proof), &stored));
  return {{"index", index}, {"stored", stored}};
}

json fragments_held(FragmentService& service, const json& raw) {
  Params params(raw, "model_fragments_held", {"id"});
  Hash32 id = params.required_hash("id");
  uint64_t count = 0;
  std::vector<uint32_t> indices;
  check(service.held(id, &count, &indices));
  return {{"id", to_hex(id)}, {"count", count}, {"held", indices}};
}

json placement(FragmentService& service, const json& raw) {
  Params params(raw, "model_placement", {"id"});
  Hash32 id = params.required_hash("id");
  PlacementReport report;
  check(service.placement(id, &report));
  json fragments = json::array();
  for (const auto& item : report.fragments) {
    fragments.push_back(
        {{"index", item.index}, {"holders", addresses(item.holders)}, {"attested", addresses(item.attested)}});
  }
  return {{"id", to_hex(id)},
          {"epoch", report.epoch},
          {"replication", report.replication},
          {"available", report.available},
          {"fragments", fragments}};
}

}  // namespace

bool is_fragment_method(std::string_view method) {
  return method == "model_fragment" || method == "model_fragment_put" || method == "model_fragments_held" ||
         method == "model_placement";
}

json fragment_method(FragmentService* service, const std::string& method, const json& params) {
  if (service == nullptr) {
    throw RpcError(kInternalError, fmt::format("{}: this node runs without a fragment store", method));
  }
  if (method == "model_fragment") return fragment(*service, params);
  if (method == "model_fragment_put") return fragment_put(*service, params);
  if (method == "model_fragments_held") return fragments_held(*service, params);
  if (method == "model_placement") return placement(*service, params);
  throw RpcError(kMethodNotFound, fmt::format("method not found: {}", method));
}

}  // namespace automata::rpc
