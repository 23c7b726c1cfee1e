// The bank module: balances of any denom inside automata.v1.Account, and
// the Transfer and MultiSend ops. Balances are kept sorted by denom with
// zero entries removed; all arithmetic is checked 128-bit (no wrapping).
#pragma once

#include "automata/execution/gas.h"
#include "automata/execution/overlay.h"
#include "automata/execution/result_code.h"
#include "automata/types/amount.h"
#include "automata/types/bytes.h"

#include <string>
#include <string_view>

namespace automata::v1 {
class Account;
class MultiSend;
class Transfer;
}  // namespace automata::v1

namespace automata::bank {

using execution::ResultCode;

// True for denoms matching [a-z][a-z0-9/]{2,63}.
bool is_valid_denom(std::string_view denom);

// Reads the account at keys::account(address); an absent key yields an
// empty account. Returns corruption when the stored value does not parse.
Status load_account(execution::StateReader& state, const Address& address, v1::Account* account);

// Writes the account, or deletes its key when it is empty (nonce 0, no
// pubkey, no balances) so that an untouched account costs no state.
void store_account(execution::Overlay& state, const Address& address, const v1::Account& account);

// Balance of denom in account, 0 when absent. Returns false when the stored
// amount is not a canonical decimal (corrupt state).
bool balance_of(const v1::Account& account, std::string_view denom, Amount* balance);

// Adds amount of denom. kAmountOverflow when the balance would pass
// 2^128 - 1; log names the values.
ResultCode credit(v1::Account* account, std::string_view denom, Amount amount, std::string* log);

// Subtracts amount of denom. kInsufficientFunds when the balance is lower;
// log names the balance and the amount. holder names the account in the log.
ResultCode debit(v1::Account* account, const Address& holder, std::string_view denom, Amount amount,
                 std::string* log);

// Stateless shape checks (stage 1): 20-byte addresses, valid denoms,
// canonical non-zero amounts, no denom twice in one coin list, at least one
// coin (and one output). Returns kOk or the code of the first problem, with
// log naming the field, the value and the rule.
ResultCode check_transfer(const v1::Transfer& op, std::string* log);
ResultCode check_multi_send(const v1::MultiSend& op, std::string* log);

// What an op may touch while it runs.
struct OpContext {
  execution::Overlay* state = nullptr;  // the op's overlay; discarded on failure
  execution::GasMeter* gas = nullptr;
  Address signer{};
};

// Moves the coins from the signer to the recipient(s). Sets code to kOk,
// kInsufficientFunds, kAmountOverflow or kOutOfGas, with log naming the
// values. On a failed code the overlay holds partial writes and the caller
// must discard it. A non-ok Status means the state could not be read
// (storage failure or corrupt account) and the block cannot be executed.
// REQUIRES: the op passed its shape check.
Status apply_transfer(const v1::Transfer& op, OpContext& context, ResultCode* code, std::string* log);
Status apply_multi_send(const v1::MultiSend& op, OpContext& context, ResultCode* code, std::string* log);

}  // namespace automata::bank
