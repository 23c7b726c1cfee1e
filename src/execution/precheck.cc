#include "precheck.h"

#include "automata/crypto/bech32.h"
#include "automata/modules/bank/bank.h"
#include "automata/v1/state.pb.h"

#include <fmt/format.h>

namespace automata::execution {

Status precheck_tx(const DecodedTx& tx, StateReader& state, uint64_t height, const ChainParameters& params,
                   StageResult* result, uint64_t* expected_nonce) {
  *result = {};
  v1::Account account;
  Status status = bank::load_account(state, tx.sender, &account);
  if (!status.is_ok()) return status;
  *expected_nonce = account.nonce();

  const v1::TxBody& body = tx.body;
  if (body.nonce() < account.nonce()) {
    *result = {ResultCode::kNonceTooLow,
               fmt::format("nonce {} is below the account's next nonce {}", body.nonce(), account.nonce())};
    return Status::ok();
  }
  if (body.nonce() > account.nonce()) {
    *result = {ResultCode::kNonceTooHigh,
               fmt::format("nonce {} is above the account's next nonce {}", body.nonce(), account.nonce())};
    return Status::ok();
  }
  if (body.expiry_height() != 0 && body.expiry_height() < height) {
    *result = {ResultCode::kExpired,
               fmt::format("expiry height {} is below the block height {}", body.expiry_height(), height)};
    return Status::ok();
  }
  // gas_limit and min_gas_price are 64-bit, so the product fits 128 bits.
  Amount required = Amount{body.gas_limit()} * Amount{params.min_gas_price};
  if (tx.fee < required) {
    *result = {ResultCode::kInsufficientFee,
               fmt::format("fee {}atm is below gas limit {} times the minimum gas price {} = {}atm",
                           amount_to_string(tx.fee), body.gas_limit(), params.min_gas_price,
                           amount_to_string(required))};
    return Status::ok();
  }
  Amount balance = 0;
  if (!bank::balance_of(account, kNativeDenom, &balance)) {
    return Status::corruption(fmt::format("account {} holds a non-canonical atm balance",
                                          crypto::encode_address(tx.sender)));
  }
  if (balance < tx.fee) {
    *result = {ResultCode::kFeeUnpayable,
               fmt::format("atm balance {} of {} is below the fee {}atm", amount_to_string(balance),
                           crypto::encode_address(tx.sender), amount_to_string(tx.fee))};
  }
  return Status::ok();
}

}  // namespace automata::execution
