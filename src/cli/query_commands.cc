// automata query account | tx | block, automata status, automata proof verify
#include "automata/cli/proof.h"
#include "automata/crypto/bech32.h"
#include "automata/types/state_keys.h"
#include "automata/v1/state.pb.h"
#include "cli/context.h"

#include <CLI/CLI.hpp>

#include <algorithm>

namespace automata::cli {

namespace {

using nlohmann::json;

// Prints "key: value" lines for the scalar members of an object, and the
// compact JSON of nested members.
void print_fields(std::ostream& out, const json& object, const std::string& indent = "") {
  for (const auto& [name, value] : object.items()) {
    out << indent << name << ": ";
    if (value.is_string()) {
      out << value.get<std::string>();
    } else {
      out << value.dump();
    }
    out << "\n";
  }
}

void print_result(Context& ctx, const json& result) {
  if (ctx.json_output()) {
    *ctx.out << result.dump(2) << "\n";
  } else {
    print_fields(*ctx.out, result);
  }
}

void print_account(Context& ctx, const json& account) {
  if (ctx.json_output()) {
    *ctx.out << account.dump(2) << "\n";
    return;
  }
  json scalars = account;
  scalars.erase("balances");
  print_fields(*ctx.out, scalars);
  *ctx.out << "balances:";
  const json balances = account.value("balances", json::array());
  if (balances.empty()) *ctx.out << " none";
  *ctx.out << "\n";
  for (const auto& coin : balances) {
    *ctx.out << "  " << coin.value("amount", std::string("?")) << coin.value("denom", std::string("?")) << "\n";
  }
}

void print_block(Context& ctx, const json& block) {
  if (ctx.json_output()) {
    *ctx.out << block.dump(2) << "\n";
    return;
  }
  *ctx.out << "hash: " << block.value("hash", std::string()) << "\n";
  print_fields(*ctx.out, block.value("header", json::object()));
  *ctx.out << "proposer_signature: " << block.value("proposer_signature", std::string()) << "\n";
  const json results = block.value("results", json::array());
  *ctx.out << "txs:" << (results.empty() ? " none" : "") << "\n";
  for (const auto& r : results) {
    *ctx.out << "  " << r.value("hash", std::string()) << " code " << r.value("code", json(0)).dump() << " ("
             << r.value("name", std::string()) << ") gas_used " << r.value("gas_used", json(0)).dump() << "\n";
  }
}

bool is_decimal(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Text of a proven value: an account's fields when the key is an account
// key, else the hex bytes.
std::string describe_value(ByteView key, const Bytes& value) {
  if (!key.empty() && key[0] == keys::kAccountTag) {
    v1::Account account;
    if (account.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      std::string text = "nonce " + std::to_string(account.nonce()) + ", pubkey " +
                         (account.pubkey().empty() ? std::string("none") : to_hex(as_view(account.pubkey()))) +
                         ", balances ";
      if (account.balances().empty()) text += "none";
      for (int i = 0; i < account.balances_size(); ++i) {
        if (i > 0) text += ",";
        text += account.balances(i).amount() + account.balances(i).denom();
      }
      return text;
    }
  }
  return to_hex(value);
}

Status run_proof_verify(Context& ctx, const std::string& target, const std::string& key_hex,
                        std::optional<uint64_t> height) {
  json params = json::object();
  Bytes key;
  std::string label;
  if (!key_hex.empty()) {
    if (!target.empty()) return Status::invalid_argument("give either ADDRESS|KEY or --key HEX, not both");
    auto bytes = from_hex(key_hex);
    if (!bytes || bytes->empty()) {
      return Status::invalid_argument("invalid --key '" + key_hex + "': expected a non-empty hex string");
    }
    key = *bytes;
    label = "key " + to_hex(key);
    params["key"] = to_hex(key);
  } else {
    if (target.empty()) return Status::invalid_argument("missing ADDRESS|KEY or --key HEX");
    Address address{};
    Status s = ctx.resolve_address(target, &address);
    if (!s.is_ok()) return s;
    key = keys::account(address);
    label = crypto::encode_address(address);
    params["address"] = label;
  }
  if (height) params["height"] = *height;

  json proof;
  Status s = ctx.call("state_proof", params, &proof);
  if (!s.is_ok()) return s;
  uint64_t proof_height = 0;
  s = json_uint(proof, "height", &proof_height);
  if (!s.is_ok()) return s;
  if (height && proof_height != *height) {
    return Status::invalid_argument("proof rejected: requested height " + std::to_string(*height) +
                                    " but the node proved height " + std::to_string(proof_height));
  }
  json block;
  s = ctx.call("block_get", {{"height", proof_height}}, &block);
  if (!s.is_ok()) return s;

  VerifiedProof verified;
  s = verify_proof_response(proof, block, key, &verified);
  if (!s.is_ok()) return s;

  if (ctx.json_output()) {
    json out = {{"valid", true},
                {"subject", label},
                {"height", verified.height},
                {"block_hash", to_hex(verified.block_hash)},
                {"root", to_hex(verified.state_root)},
                {"key", to_hex(verified.key)},
                {"value", verified.value ? json(to_hex(*verified.value)) : json(nullptr)}};
    *ctx.out << out.dump(2) << "\n";
    return Status::ok();
  }
  *ctx.out << "proof valid: " << label << " at height " << verified.height << ", root "
           << to_hex(verified.state_root) << "\n";
  if (verified.value) {
    *ctx.out << "value: " << describe_value(verified.key, *verified.value) << "\n";
  } else {
    *ctx.out << "value: absent (the proof shows the key is not in the state)\n";
  }
  return Status::ok();
}

}  // namespace

void add_query_commands(CLI::App& app, Context& ctx) {
  CLI::App* query = app.add_subcommand("query", "Read chain state from the node");
  query->require_subcommand(1);

  {
    auto target = std::make_shared<std::string>();
    auto height = std::make_shared<std::optional<uint64_t>>();
    CLI::App* account = query->add_subcommand("account", "Show an account's nonce, public key and balances");
    account->add_option("ADDRESS", *target, "An atm1 address or a key name")->required();
    account->add_option("--height", *height, "Read the state after this block (default: latest)");
    account->callback([&ctx, target, height] {
      ctx.action = [&ctx, target, height]() -> Status {
        Address address{};
        Status s = ctx.resolve_address(*target, &address);
        if (!s.is_ok()) return s;
        json params = {{"address", crypto::encode_address(address)}};
        if (*height) params["height"] = **height;
        json result;
        s = ctx.call("account_get", params, &result);
        if (!s.is_ok()) return s;
        print_account(ctx, result);
        return Status::ok();
      };
    });
  }
  {
    auto hash = std::make_shared<std::string>();
    CLI::App* tx = query->add_subcommand("tx", "Show a transaction's status and result");
    tx->add_option("HASH", *hash, "Tx hash in hex")->required();
    tx->callback([&ctx, hash] {
      ctx.action = [&ctx, hash]() -> Status {
        auto bytes = from_hex(*hash);
        if (!bytes || bytes->size() != 32) {
          return Status::invalid_argument("invalid tx hash '" + *hash + "': expected 64 hex digits");
        }
        json result;
        Status s = ctx.call("tx_get", {{"hash", to_hex(*bytes)}}, &result);
        if (!s.is_ok()) return s;
        print_result(ctx, result);
        return Status::ok();
      };
    });
  }
  {
    auto block_id = std::make_shared<std::string>();
    CLI::App* block = query->add_subcommand("block", "Show a block by height or hash (latest when omitted)");
    block->add_option("HEIGHT|HASH", *block_id, "Block height, or block hash in hex");
    block->callback([&ctx, block_id] {
      ctx.action = [&ctx, block_id]() -> Status {
        json params = json::object();
        if (is_decimal(*block_id) && block_id->size() <= 19) {
          params["height"] = std::stoull(*block_id);
        } else if (!block_id->empty()) {
          auto bytes = from_hex(*block_id);
          if (!bytes || bytes->size() != 32) {
            return Status::invalid_argument("invalid block '" + *block_id +
                                            "': expected a height or a 64-hex-digit block hash");
          }
          params["hash"] = to_hex(*bytes);
        }
        json result;
        Status s = ctx.call("block_get", params, &result);
        if (!s.is_ok()) return s;
        print_block(ctx, result);
        return Status::ok();
      };
    });
  }
  {
    CLI::App* status = app.add_subcommand("status", "Show the node's chain id, height and mempool");
    status->callback([&ctx] {
      ctx.action = [&ctx]() -> Status {
        json result;
        Status s = ctx.call("node_status", json::object(), &result);
        if (!s.is_ok()) return s;
        print_result(ctx, result);
        return Status::ok();
      };
    });
  }
  {
    auto target = std::make_shared<std::string>();
    auto key_hex = std::make_shared<std::string>();
    auto height = std::make_shared<std::optional<uint64_t>>();
    CLI::App* proof = app.add_subcommand("proof", "Verify state proofs against block headers");
    proof->require_subcommand(1);
    CLI::App* verify = proof->add_subcommand(
        "verify", "Fetch a state proof and check it against the state root in the block header at that height");
    verify->add_option("ADDRESS", *target, "An atm1 address or a key name");
    verify->add_option("--key", *key_hex, "A raw state key in hex, instead of an account");
    verify->add_option("--height", *height, "Prove the state after this block (default: latest)");
    verify->callback([&ctx, target, key_hex, height] {
      ctx.action = [&ctx, target, key_hex, height] { return run_proof_verify(ctx, *target, *key_hex, *height); };
    });
  }
}

}  // namespace automata::cli
