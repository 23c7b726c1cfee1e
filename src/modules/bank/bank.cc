#include "automata/modules/bank/bank.h"

#include "automata/crypto/bech32.h"
#include "automata/types/state_keys.h"
#include "automata/v1/state.pb.h"
#include "automata/v1/tx.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace automata::bank {

namespace {

using google::protobuf::RepeatedPtrField;

bool is_empty(const v1::Account& account) {
  return account.nonce() == 0 && account.pubkey().empty() && account.balances_size() == 0;
}

// Position of denom in the sorted balance list, or of where it would go.
int lower_bound_denom(const v1::Account& account, std::string_view denom) {
  const auto& balances = account.balances();
  auto it = std::lower_bound(balances.begin(), balances.end(), denom,
                             [](const v1::Coin& coin, std::string_view d) { return coin.denom() < d; });
  return static_cast<int>(it - balances.begin());
}

ResultCode check_coins(const RepeatedPtrField<v1::Coin>& coins, std::string_view field, std::string* log) {
  if (coins.empty()) {
    *log = fmt::format("{} is empty; at least one coin is required", field);
    return ResultCode::kInvalidAmount;
  }
  std::set<std::string_view> seen;
  for (int i = 0; i < coins.size(); ++i) {
    const v1::Coin& coin = coins[i];
    if (!is_valid_denom(coin.denom())) {
      *log = fmt::format("{}[{}].denom '{}' does not match [a-z][a-z0-9/]{{2,63}}", field, i, coin.denom());
      return ResultCode::kInvalidDenom;
    }
    auto amount = parse_amount(coin.amount());
    if (!amount) {
      *log = fmt::format("{}[{}].amount '{}' is not a canonical decimal below 2^128", field, i, coin.amount());
      return ResultCode::kInvalidAmount;
    }
    if (*amount == 0) {
      *log = fmt::format("{}[{}].amount is 0; amounts must be positive", field, i);
      return ResultCode::kInvalidAmount;
    }
    if (!seen.insert(coin.denom()).second) {
      *log = fmt::format("{}[{}].denom '{}' appears more than once in the coin list", field, i, coin.denom());
      return ResultCode::kInvalidDenom;
    }
  }
  return ResultCode::kOk;
}

ResultCode check_recipient(const std::string& to, std::string_view field, std::string* log) {
  if (to.size() != std::tuple_size_v<Address>) {
    *log = fmt::format("{} is {} bytes; an address is 20 bytes", field, to.size());
    return ResultCode::kInvalidAddress;
  }
  return ResultCode::kOk;
}

Address to_address(const std::string& bytes) {
  Address address{};
  std::copy_n(bytes.begin(), address.size(), address.begin());
  return address;
}

// Debits coins from sender (already loaded) and credits them to the account
// at `to`, charging gas for the recipient's read and write and each coin.
Status send_coins(const Address& to, const RepeatedPtrField<v1::Coin>& coins, v1::Account* sender,
                  OpContext& context, ResultCode* code, std::string* log) {
  const uint64_t coin_gas = execution::gas::kPerCoinMoved * static_cast<uint64_t>(coins.size());
  if (!context.gas->consume(coin_gas)) {
    *code = ResultCode::kOutOfGas;
    *log = fmt::format("out of gas moving {} coins (limit {})", coins.size(), context.gas->limit());
    return Status::ok();
  }
  for (const v1::Coin& coin : coins) {
    // Shape checks already guaranteed a canonical amount.
    Amount amount = *parse_amount(coin.amount());
    *code = debit(sender, context.signer, coin.denom(), amount, log);
    if (*code != ResultCode::kOk) return Status::ok();
  }
  if (to == context.signer) {
    // A transfer to oneself leaves balances as they were once the debit
    // above proved the funds exist.
    for (const v1::Coin& coin : coins) {
      *code = credit(sender, coin.denom(), *parse_amount(coin.amount()), log);
      if (*code != ResultCode::kOk) return Status::ok();
    }
    return Status::ok();
  }

  if (!context.gas->consume(execution::gas::kPerAccountRead + execution::gas::kPerAccountWrite)) {
    *code = ResultCode::kOutOfGas;
    *log = fmt::format("out of gas writing recipient {} (limit {})", crypto::encode_address(to),
                       context.gas->limit());
    return Status::ok();
  }
  v1::Account recipient;
  Status status = load_account(*context.state, to, &recipient);
  if (!status.is_ok()) return status;
  for (const v1::Coin& coin : coins) {
    *code = credit(&recipient, coin.denom(), *parse_amount(coin.amount()), log);
    if (*code != ResultCode::kOk) return Status::ok();
  }
  store_account(*context.state, to, recipient);
  return Status::ok();
}

// Loads the signer, charging its read and write.
Status load_signer(OpContext& context, v1::Account* sender, ResultCode* code, std::string* log) {
  if (!context.gas->consume(execution::gas::kPerAccountRead + execution::gas::kPerAccountWrite)) {
    *code = ResultCode::kOutOfGas;
    *log = fmt::format("out of gas reading the signer (limit {})", context.gas->limit());
    return Status::ok();
  }
  *code = ResultCode::kOk;
  return load_account(*context.state, context.signer, sender);
}

}  // namespace

bool is_valid_denom(std::string_view denom) {
  if (denom.size() < 3 || denom.size() > 64) return false;
  if (denom[0] < 'a' || denom[0] > 'z') return false;
  for (char c : denom.substr(1)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/';
    if (!ok) return false;
  }
  return true;
}

Status load_account(execution::StateReader& state, const Address& address, v1::Account* account) {
  account->Clear();
  std::optional<Bytes> value;
  Status status = state.get(keys::account(address), &value);
  if (!status.is_ok()) return status;
  if (!value) return Status::ok();
  if (!account->ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    return Status::corruption(fmt::format("account {} holds {} bytes that do not parse as automata.v1.Account",
                                          crypto::encode_address(address), value->size()));
  }
  return Status::ok();
}

void store_account(execution::Overlay& state, const Address& address, const v1::Account& account) {
  if (is_empty(account)) {
    state.erase(keys::account(address));
    return;
  }
  Bytes value(account.ByteSizeLong());
  account.SerializeWithCachedSizesToArray(value.data());
  state.put(keys::account(address), std::move(value));
}

bool balance_of(const v1::Account& account, std::string_view denom, Amount* balance) {
  int index = lower_bound_denom(account, denom);
  if (index == account.balances_size() || account.balances(index).denom() != denom) {
    *balance = 0;
    return true;
  }
  auto parsed = parse_amount(account.balances(index).amount());
  if (!parsed) return false;
  *balance = *parsed;
  return true;
}

ResultCode credit(v1::Account* account, std::string_view denom, Amount amount, std::string* log) {
  if (amount == 0) return ResultCode::kOk;
  int index = lower_bound_denom(*account, denom);
  if (index == account->balances_size() || account->balances(index).denom() != denom) {
    v1::Coin* coin = account->add_balances();
    coin->set_denom(std::string(denom));
    coin->set_amount(amount_to_string(amount));
    // add_balances appends; rotate the new entry into its sorted place.
    auto* balances = account->mutable_balances();
    for (int i = balances->size() - 1; i > index; --i) balances->SwapElements(i, i - 1);
    return ResultCode::kOk;
  }
  v1::Coin* coin = account->mutable_balances(index);
  auto current = parse_amount(coin->amount());
  Amount sum = 0;
  if (!current || !checked_add(*current, amount, sum)) {
    *log = fmt::format("balance {}{} plus {} overflows 2^128 - 1", coin->amount(), denom, amount_to_string(amount));
    return ResultCode::kAmountOverflow;
  }
  coin->set_amount(amount_to_string(sum));
  return ResultCode::kOk;
}

ResultCode debit(v1::Account* account, const Address& holder, std::string_view denom, Amount amount,
                 std::string* log) {
  if (amount == 0) return ResultCode::kOk;
  int index = lower_bound_denom(*account, denom);
  Amount balance = 0;
  if (index < account->balances_size() && account->balances(index).denom() == denom) {
    auto parsed = parse_amount(account->balances(index).amount());
    if (parsed) balance = *parsed;
  }
  Amount rest = 0;
  if (!checked_sub(balance, amount, rest)) {
    *log = fmt::format("balance {}{} of {} is below the {}{} to send", amount_to_string(balance), denom,
                       crypto::encode_address(holder), amount_to_string(amount), denom);
    return ResultCode::kInsufficientFunds;
  }
  if (rest == 0) {
    account->mutable_balances()->DeleteSubrange(index, 1);
  } else {
    account->mutable_balances(index)->set_amount(amount_to_string(rest));
  }
  return ResultCode::kOk;
}

ResultCode check_transfer(const v1::Transfer& op, std::string* log) {
  ResultCode code = check_recipient(op.to(), "transfer.to", log);
  if (code != ResultCode::kOk) return code;
  return check_coins(op.amount(), "transfer.amount", log);
}

ResultCode check_multi_send(const v1::MultiSend& op, std::string* log) {
  if (op.outputs().empty()) {
    *log = "multi_send.outputs is empty; at least one output is required";
    return ResultCode::kInvalidOp;
  }
  for (int i = 0; i < op.outputs_size(); ++i) {
    const v1::Output& output = op.outputs(i);
    ResultCode code = check_recipient(output.to(), fmt::format("multi_send.outputs[{}].to", i), log);
    if (code != ResultCode::kOk) return code;
    code = check_coins(output.amount(), fmt::format("multi_send.outputs[{}].amount", i), log);
    if (code != ResultCode::kOk) return code;
  }
  return ResultCode::kOk;
}

Status apply_transfer(const v1::Transfer& op, OpContext& context, ResultCode* code, std::string* log) {
  v1::Account sender;
  Status status = load_signer(context, &sender, code, log);
  if (!status.is_ok() || *code != ResultCode::kOk) return status;
  status = send_coins(to_address(op.to()), op.amount(), &sender, context, code, log);
  if (!status.is_ok() || *code != ResultCode::kOk) return status;
  // The recipient was written first; a self-transfer updated `sender` in
  // place, so storing it last is right in both cases.
  store_account(*context.state, context.signer, sender);
  return Status::ok();
}

Status apply_multi_send(const v1::MultiSend& op, OpContext& context, ResultCode* code, std::string* log) {
  v1::Account sender;
  Status status = load_signer(context, &sender, code, log);
  if (!status.is_ok() || *code != ResultCode::kOk) return status;
  for (const v1::Output& output : op.outputs()) {
    status = send_coins(to_address(output.to()), output.amount(), &sender, context, code, log);
    if (!status.is_ok() || *code != ResultCode::kOk) return status;
  }
  store_account(*context.state, context.signer, sender);
  return Status::ok();
}

}  // namespace automata::bank
