#include "rpc/params.h"

#include "automata/crypto/bech32.h"
#include "automata/rpc/handler.h"

#include <fmt/format.h>

namespace automata::rpc {

using nlohmann::json;

std::string describe_json(const json& value) {
  if (value.is_number_float()) return fmt::format("number {}", value.dump());
  if (value.is_number_integer() && value.get<int64_t>() < 0) return fmt::format("negative number {}", value.dump());
  return value.type_name();
}

Params::Params(const json& params, std::string_view method, std::initializer_list<std::string_view> allowed)
    : params_(params) {
  if (params.is_null()) return;
  if (!params.is_object()) {
    throw RpcError(kInvalidParams,
                   fmt::format("params: expected an object of named parameters, got {}", params.type_name()));
  }
  for (const auto& [key, value] : params.items()) {
    bool known = false;
    for (auto name : allowed) known = known || key == name;
    if (!known) {
      std::string names;
      for (auto name : allowed) names += names.empty() ? std::string(name) : ", " + std::string(name);
      throw RpcError(kInvalidParams, fmt::format("params.{}: unknown parameter for {} (accepted: {})", key, method,
                                                 names.empty() ? "none" : names));
    }
  }
}

const json* Params::find(std::string_view name) const {
  if (!params_.is_object()) return nullptr;
  auto it = params_.find(name);
  if (it == params_.end()) return nullptr;
  return &*it;
}

const json& Params::required(std::string_view name) const {
  const json* value = find(name);
  if (value == nullptr) fail(name, "missing required parameter");
  return *value;
}

void Params::fail(std::string_view name, const std::string& rule) const {
  throw RpcError(kInvalidParams, fmt::format("params.{}: {}", name, rule));
}

bool Params::has(std::string_view name) const { return find(name) != nullptr; }

std::optional<uint64_t> Params::optional_uint(std::string_view name) const {
  const json* value = find(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_unsigned()) {
    fail(name, "expected a non-negative integer, got " + describe_json(*value));
  }
  return value->get<uint64_t>();
}

std::optional<Bytes> Params::optional_hex(std::string_view name, size_t expected_size, bool empty_ok) const {
  const json* value = find(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) fail(name, "expected a hex string, got " + describe_json(*value));
  const auto& text = value->get_ref<const std::string&>();
  auto bytes = from_hex(text);
  if (!bytes) fail(name, "expected hex digits with an even length (optional 0x prefix)");
  if (!empty_ok && bytes->empty()) fail(name, "expected a non-empty hex string");
  if (expected_size != 0 && bytes->size() != expected_size) {
    fail(name, fmt::format("expected {} bytes ({} hex digits), got {} bytes", expected_size, expected_size * 2,
                           bytes->size()));
  }
  return bytes;
}

std::optional<Hash32> Params::optional_hash(std::string_view name) const {
  auto bytes = optional_hex(name, 32);
  if (!bytes) return std::nullopt;
  return to_array<32>(*bytes);
}

std::optional<Address> Params::optional_address(std::string_view name) const {
  const json* value = find(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) fail(name, "expected an atm1... address string, got " + describe_json(*value));
  std::string error;
  auto address = crypto::decode_address(value->get_ref<const std::string&>(), &error);
  if (!address) fail(name, "invalid address: " + error);
  return address;
}

Bytes Params::required_hex(std::string_view name) const {
  required(name);
  return *optional_hex(name);
}

Hash32 Params::required_hash(std::string_view name) const {
  required(name);
  return *optional_hash(name);
}

Address Params::required_address(std::string_view name) const {
  required(name);
  return *optional_address(name);
}

}  // namespace automata::rpc
