// automata tx send | multi-send
#include "automata/cli/tx_builder.h"
#include "automata/crypto/bech32.h"
#include "cli/context.h"
#include "cli/tx_common.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <thread>

namespace automata::cli {

namespace {

using nlohmann::json;

constexpr uint64_t kDefaultGas = 50000;
constexpr uint64_t kDefaultWaitSeconds = 30;
constexpr std::chrono::milliseconds kPollInterval{500};

// Options shared by every tx command.
struct TxFlags {
  std::string fee;
  uint64_t gas = kDefaultGas;
  std::string memo;
  std::optional<uint64_t> nonce;
  uint64_t expiry_height = 0;
  std::string chain_id;
  bool wait = false;
  uint64_t timeout_seconds = kDefaultWaitSeconds;
};

void add_tx_flags(CLI::App* cmd, TxFlags& flags) {
  cmd->add_option("--fee", flags.fee, "Fee in atm, as 500 or 500atm (default: gas * min_gas_price of the node)");
  cmd->add_option("--gas", flags.gas, "Gas limit")->capture_default_str();
  cmd->add_option("--memo", flags.memo, "Memo stored with the tx");
  cmd->add_option("--nonce", flags.nonce, "Account nonce (default: the next nonce from account_get)");
  cmd->add_option("--expiry-height", flags.expiry_height, "Last height at which the tx may be included; 0: none")
      ->capture_default_str();
  cmd->add_option("--chain-id", flags.chain_id, "Chain id (default: from node_status)");
  cmd->add_flag("--wait", flags.wait, "Wait until the tx is committed, then print its height and result code");
  cmd->add_option("--timeout", flags.timeout_seconds, "Seconds --wait waits before giving up")
      ->check(CLI::Range(uint64_t{0}, kMaxWaitSeconds))
      ->capture_default_str();
}

// Polls tx_get until the tx is committed or the timeout passes.
Status wait_for_commit(Context& ctx, const std::string& hash, uint64_t timeout_seconds, json* committed) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (true) {
    json result;
    Status s = ctx.call("tx_get", {{"hash", hash}}, &result);
    // The node may not have indexed a just-submitted tx yet; not_found
    // counts as still pending.
    if (!s.is_ok() && !s.is_not_found()) return s;
    if (s.is_ok() && result.value("status", std::string()) == "committed") {
      *committed = std::move(result);
      return Status::ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::unavailable("tx " + hash + " was not committed within " + std::to_string(timeout_seconds) +
                                 " s; it may still be included later: check with 'automata query tx " + hash + "'");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status sign_and_submit(Context& ctx, const std::string& from, TxKind kind, std::vector<TxOutput> outputs,
                       const TxFlags& flags) {
  std::optional<crypto::PrivateKey> key;
  Status s = ctx.load_key(from, &key);
  if (!s.is_ok()) return s;
  Address signer = crypto::address_of(key->public_key());

  TxRequest request;
  request.kind = kind;
  request.outputs = std::move(outputs);
  request.gas_limit = flags.gas;
  request.memo = flags.memo;
  request.expiry_height = flags.expiry_height;
  request.chain_id = flags.chain_id;

  bool fee_given = !flags.fee.empty();
  if (fee_given) {
    s = parse_fee(flags.fee, &request.fee);
    if (!s.is_ok()) return s;
  }
  if (request.chain_id.empty() || !fee_given) {
    json status;
    s = ctx.call("node_status", json::object(), &status);
    if (!s.is_ok()) return s;
    if (request.chain_id.empty()) request.chain_id = status.value("chain_id", std::string());
    if (!fee_given) {
      uint64_t min_gas_price = 0;
      s = json_uint(status, "min_gas_price", &min_gas_price);
      if (!s.is_ok()) return s;
      if (!checked_mul(flags.gas, min_gas_price, request.fee)) {
        return Status::invalid_argument("gas * min_gas_price overflows; pass --fee");
      }
    }
  }
  if (flags.nonce) {
    request.nonce = *flags.nonce;
  } else {
    json account;
    s = ctx.call("account_get", {{"address", crypto::encode_address(signer)}}, &account);
    if (s.is_ok()) {
      // pending_nonce counts the account's txs still in the mempool; nodes
      // before it report only the committed nonce.
      s = json_uint(account, account.contains("pending_nonce") ? "pending_nonce" : "nonce", &request.nonce);
      if (!s.is_ok()) return s;
    } else if (!s.is_not_found()) {
      return s;
    }
    // An account the node has never seen starts at nonce 0.
  }

  SignedTx tx;
  s = build_signed_tx(request, *key, &tx);
  if (!s.is_ok()) return s;

  json submitted;
  RpcError error;
  s = ctx.call("tx_submit", {{"tx", to_hex(tx.tx_bytes)}}, &submitted, &error);
  if (!s.is_ok()) {
    if (error.code == -32002) return Status::invalid_argument(rejection_text(error));
    return s;
  }
  std::string hash = submitted.value("hash", to_hex(tx.hash));
  if (!flags.wait) {
    if (ctx.json_output()) {
      *ctx.out << submitted.dump(2) << "\n";
    } else {
      *ctx.out << "pending: tx " << hash << " accepted into the mempool; run with --wait to see the result\n";
    }
    return Status::ok();
  }

  if (!ctx.json_output()) *ctx.out << "pending: tx " << hash << std::endl;
  json committed;
  s = wait_for_commit(ctx, hash, flags.timeout_seconds, &committed);
  if (!s.is_ok()) return s;
  uint64_t code = 0;
  json_uint(committed, "code", &code);
  if (ctx.json_output()) {
    *ctx.out << committed.dump(2) << "\n";
  } else {
    *ctx.out << "committed: height " << committed.value("height", json(0)).dump() << ", code " << code << " ("
             << committed.value("name", std::string("unknown")) << ")";
    std::string log = committed.value("log", std::string());
    if (!log.empty()) *ctx.out << ": " << log;
    *ctx.out << "\n";
  }
  if (code != 0) {
    *ctx.err << "error: tx " << hash << " was included but failed with code " << code << " ("
             << committed.value("name", std::string("unknown")) << "); its fee was charged\n";
    ctx.failure_exit_code = 1;
  }
  return Status::ok();
}

}  // namespace

Status parse_fee(const std::string& text, Amount* out) {
  std::string with_denom = text;
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) with_denom += kFeeDenom;
  Coin coin;
  Status s = parse_coin(with_denom, &coin, /*allow_zero=*/true);
  if (!s.is_ok()) return Status::invalid_argument("invalid --fee '" + text + "': " + s.message());
  if (coin.denom != kFeeDenom) {
    return Status::invalid_argument("invalid --fee '" + text + "': fees are paid in " + std::string(kFeeDenom));
  }
  *out = coin.amount;
  return Status::ok();
}

// Describes a -32002 rejection from its data object.
std::string rejection_text(const RpcError& error) {
  json data = json::parse(error.data, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) return "tx rejected: " + error.message;
  std::string text = "tx rejected: " + data.value("name", std::string("unknown"));
  if (data.contains("code")) text += " (code " + data["code"].dump() + ")";
  std::string log = data.value("log", std::string());
  if (!log.empty()) text += ": " + log;
  return text;
}

void add_tx_commands(CLI::App& app, Context& ctx) {
  CLI::App* tx = app.add_subcommand("tx", "Sign and submit transactions");
  tx->require_subcommand(1);

  {
    auto flags = std::make_shared<TxFlags>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto amount = std::make_shared<std::string>();
    CLI::App* send = tx->add_subcommand("send", "Send coins from a key to one recipient");
    send->add_option("FROM", *from, "Name of the signing key")->required();
    send->add_option("TO", *to, "Recipient: an atm1 address or a key name")->required();
    send->add_option("AMOUNT", *amount, "Amount such as 1000atm or 5token/abc; several separated by commas")
        ->required();
    add_tx_flags(send, *flags);
    send->callback([&ctx, flags, from, to, amount] {
      ctx.action = [&ctx, flags, from, to, amount]() -> Status {
        TxOutput output;
        Status s = parse_coins(*amount, &output.amount);
        if (!s.is_ok()) return s;
        s = ctx.resolve_address(*to, &output.to);
        if (!s.is_ok()) return s;
        return sign_and_submit(ctx, *from, TxKind::kTransfer, {output}, *flags);
      };
    });
  }
  {
    auto flags = std::make_shared<TxFlags>();
    auto from = std::make_shared<std::string>();
    auto pairs = std::make_shared<std::vector<std::string>>();
    CLI::App* multi = tx->add_subcommand("multi-send", "Send coins from a key to several recipients in one op");
    multi->add_option("FROM", *from, "Name of the signing key")->required();
    multi->add_option("OUTPUTS", *pairs, "TO=AMOUNT pairs, for example atm1...=10atm bob=5atm,2token/abc")
        ->required();
    add_tx_flags(multi, *flags);
    multi->callback([&ctx, flags, from, pairs] {
      ctx.action = [&ctx, flags, from, pairs]() -> Status {
        std::vector<TxOutput> outputs;
        for (const auto& pair : *pairs) {
          size_t eq = pair.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
            return Status::invalid_argument("invalid output '" + pair + "': expected TO=AMOUNT, e.g. bob=10atm");
          }
          TxOutput output;
          Status s = ctx.resolve_address(pair.substr(0, eq), &output.to);
          if (!s.is_ok()) return s;
          s = parse_coins(pair.substr(eq + 1), &output.amount);
          if (!s.is_ok()) return s;
          outputs.push_back(std::move(output));
        }
        return sign_and_submit(ctx, *from, TxKind::kMultiSend, std::move(outputs), *flags);
      };
    });
  }
}

}  // namespace automata::cli
