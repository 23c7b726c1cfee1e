#include "automata/node/genesis_file.h"

#include "automata/crypto/bech32.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>

namespace automata::node {

using nlohmann::json;

namespace {

// A genesis error at a JSON path; caught in parse_genesis.
class GenesisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& path, const std::string& rule) { throw GenesisError(path + ": " + rule); }

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

void require_object(const json& value, const std::string& path, std::initializer_list<std::string_view> allowed) {
  if (!value.is_object()) fail(path.empty() ? "(top level)" : path, std::string("expected an object, got ") + value.type_name());
  for (const auto& [key, unused] : value.items()) {
    bool known = false;
    for (auto name : allowed) known = known || key == name;
    if (!known) fail(join(path, key), "unknown key");
  }
}

const json& member(const json& object, const std::string& path, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end()) fail(join(path, key), "missing required key");
  return *it;
}

uint64_t read_uint(const json& value, const std::string& path) {
  if (!value.is_number_unsigned()) fail(path, std::string("expected a non-negative integer, got ") + value.type_name());
  return value.get<uint64_t>();
}

std::string read_string(const json& value, const std::string& path) {
  if (!value.is_string()) fail(path, std::string("expected a string, got ") + value.type_name());
  return value.get<std::string>();
}

const json& read_array(const json& value, const std::string& path) {
  if (!value.is_array()) fail(path, std::string("expected an array, got ") + value.type_name());
  return value;
}

void read_params(const json& value, const std::string& path, execution::ChainParameters* params) {
  require_object(value, path,
                 {"max_tx_bytes", "max_block_txs", "max_block_bytes", "min_gas_price", "max_ops_per_tx", "max_gas_per_tx",
                  "max_blob_bytes", "max_files_per_version", "max_path_bytes"});
  auto optional = [&](std::string_view key, uint64_t* out) {
    auto it = value.find(key);
    if (it != value.end()) *out = read_uint(*it, join(path, key));
  };
  optional("max_tx_bytes", &params->max_tx_bytes);
  optional("max_block_txs", &params->max_block_txs);
  optional("max_block_bytes", &params->max_block_bytes);
  optional("min_gas_price", &params->min_gas_price);
  optional("max_ops_per_tx", &params->max_ops_per_tx);
  optional("max_gas_per_tx", &params->max_gas_per_tx);
  optional("max_blob_bytes", &params->max_blob_bytes);
  optional("max_files_per_version", &params->max_files_per_version);
  optional("max_path_bytes", &params->max_path_bytes);
}

execution::GenesisValidator read_validator(const json& value, const std::string& path) {
  require_object(value, path, {"pubkey", "power", "name"});
  execution::GenesisValidator validator;
  std::string pubkey_path = join(path, "pubkey");
  auto bytes = from_hex(read_string(member(value, path, "pubkey"), pubkey_path));
  if (!bytes || bytes->size() != 32) fail(pubkey_path, "expected 64 hex digits (a 32-byte x-only public key)");
  validator.pubkey = *to_array<32>(*bytes);
  validator.power = read_uint(member(value, path, "power"), join(path, "power"));
  validator.name = read_string(member(value, path, "name"), join(path, "name"));
  return validator;
}

execution::GenesisAccount read_account(const json& value, const std::string& path) {
  require_object(value, path, {"address", "balances"});
  execution::GenesisAccount account;
  std::string address_path = join(path, "address");
  std::string error;
  auto address = crypto::decode_address(read_string(member(value, path, "address"), address_path), &error);
  if (!address) fail(address_path, "invalid address: " + error);
  account.address = *address;

  std::string balances_path = join(path, "balances");
  const json& balances = read_array(member(value, path, "balances"), balances_path);
  for (size_t i = 0; i < balances.size(); ++i) {
    std::string coin_path = fmt::format("{}[{}]", balances_path, i);
    require_object(balances[i], coin_path, {"denom", "amount"});
    std::string denom = read_string(member(balances[i], coin_path, "denom"), join(coin_path, "denom"));
    std::string amount_path = join(coin_path, "amount");
    std::string amount_text = read_string(member(balances[i], coin_path, "amount"), amount_path);
    auto amount = parse_amount(amount_text);
    if (!amount) {
      fail(amount_path, fmt::format("\"{}\" is not a canonical decimal amount (digits only, no leading zeros, "
                                    "at most 2^128-1)", amount_text));
    }
    account.balances.emplace_back(std::move(denom), *amount);
  }
  return account;
}

}  // namespace

Status parse_genesis(const std::string& text, const std::string& source, execution::Genesis* genesis) {
  json root;
  try {
    root = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& error) {
    return Status::invalid_argument(fmt::format("{}: invalid JSON at byte {}: {}", source, error.byte, error.what()));
  }

  execution::Genesis parsed;
  try {
    require_object(root, "", {"chain_id", "genesis_time_ms", "params", "validators", "accounts"});
    parsed.chain_id = read_string(member(root, "", "chain_id"), "chain_id");
    parsed.genesis_time_ms = read_uint(member(root, "", "genesis_time_ms"), "genesis_time_ms");
    if (auto params = root.find("params"); params != root.end()) read_params(*params, "params", &parsed.params);

    const json& validators = read_array(member(root, "", "validators"), "validators");
    for (size_t i = 0; i < validators.size(); ++i) {
      parsed.validators.push_back(read_validator(validators[i], fmt::format("validators[{}]", i)));
    }
    const json& accounts = read_array(member(root, "", "accounts"), "accounts");
    for (size_t i = 0; i < accounts.size(); ++i) {
      parsed.accounts.push_back(read_account(accounts[i], fmt::format("accounts[{}]", i)));
    }
  } catch (const GenesisError& error) {
    return Status::invalid_argument(fmt::format("{}: {}", source, error.what()));
  }
  *genesis = std::move(parsed);
  return Status::ok();
}

Status load_genesis(const std::string& path, execution::Genesis* genesis) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(fmt::format("cannot read genesis file {}", path));
  std::stringstream text;
  text << in.rdbuf();
  execution::Genesis parsed;
  Status status = parse_genesis(text.str(), path, &parsed);
  if (!status.is_ok()) return status;
  std::string invalid = execution::validate_genesis(parsed);
  if (!invalid.empty()) return Status::invalid_argument(fmt::format("{}: {}", path, invalid));
  *genesis = std::move(parsed);
  return Status::ok();
}

// nlohmann::ordered_json keeps the keys in the order written here.
std::string render_genesis(const execution::Genesis& genesis) {
  nlohmann::ordered_json validators = nlohmann::ordered_json::array();
  for (const auto& validator : genesis.validators) {
    validators.push_back({{"pubkey", to_hex(validator.pubkey)}, {"power", validator.power}, {"name", validator.name}});
  }
  nlohmann::ordered_json accounts = nlohmann::ordered_json::array();
  for (const auto& account : genesis.accounts) {
    nlohmann::ordered_json balances = nlohmann::ordered_json::array();
    for (const auto& [denom, amount] : account.balances) {
      balances.push_back({{"denom", denom}, {"amount", amount_to_string(amount)}});
    }
    accounts.push_back({{"address", crypto::encode_address(account.address)}, {"balances", balances}});
  }
  const auto& params = genesis.params;
  nlohmann::ordered_json out;
  out["chain_id"] = genesis.chain_id;
  out["genesis_time_ms"] = genesis.genesis_time_ms;
  out["params"] = {{"max_tx_bytes", params.max_tx_bytes},     {"max_block_txs", params.max_block_txs},
                   {"max_block_bytes", params.max_block_bytes}, {"min_gas_price", params.min_gas_price},
                   {"max_ops_per_tx", params.max_ops_per_tx}, {"max_gas_per_tx", params.max_gas_per_tx},
                   {"max_blob_bytes", params.max_blob_bytes}, {"max_files_per_version", params.max_files_per_version},
                   {"max_path_bytes", params.max_path_bytes}};
  out["validators"] = validators;
  out["accounts"] = accounts;
  return out.dump(2) + "\n";
}

}  // namespace automata::node
