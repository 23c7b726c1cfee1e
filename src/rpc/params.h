// Type checks for JSON-RPC parameters. Every failure raises RpcError with
// kInvalidParams and a message naming the parameter and the rule, such as
// "params.height: expected a non-negative integer, got string".
#pragma once

#include "automata/types/bytes.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace automata::rpc {

// A JSON-RPC error raised inside a method and turned into an error response
// by the handler. data is null or the error's "data" member.
class RpcError : public std::runtime_error {
 public:
  RpcError(int code, const std::string& message, nlohmann::json data = nullptr)
      : std::runtime_error(message), code_(code), data_(std::move(data)) {}
  int code() const { return code_; }
  const nlohmann::json& data() const { return data_; }

 private:
  int code_;
  nlohmann::json data_;
};

// Reads named parameters from a request's params object.
class Params {
 public:
  // params must be an object or null (no parameters). allowed lists every
  // parameter the method accepts; any other name is rejected.
  Params(const nlohmann::json& params, std::string_view method, std::initializer_list<std::string_view> allowed);

  bool has(std::string_view name) const;

  std::optional<uint64_t> optional_uint(std::string_view name) const;
  // Bytes from hex text (either case, optional 0x). expected_size 0 means
  // any length; empty_ok false rejects "".
  std::optional<Bytes> optional_hex(std::string_view name, size_t expected_size = 0, bool empty_ok = false) const;
  std::optional<Hash32> optional_hash(std::string_view name) const;
  std::optional<Address> optional_address(std::string_view name) const;

  Bytes required_hex(std::string_view name) const;
  Hash32 required_hash(std::string_view name) const;
  Address required_address(std::string_view name) const;

 private:
  const nlohmann::json* find(std::string_view name) const;
  const nlohmann::json& required(std::string_view name) const;
  [[noreturn]] void fail(std::string_view name, const std::string& rule) const;

  const nlohmann::json& params_;
};

// Describes a JSON value for an error message: its type, or the value
// itself when it is a short number or string.
std::string describe_json(const nlohmann::json& value);

}  // namespace automata::rpc
