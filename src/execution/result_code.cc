#include "automata/execution/result_code.h"

namespace automata::execution {

std::string_view result_code_name(ResultCode code) {
  switch (code) {
    case ResultCode::kOk: return "ok";

    case ResultCode::kTxTooLarge: return "tx_too_large";
    case ResultCode::kTxMalformed: return "tx_malformed";
    case ResultCode::kBodyMalformed: return "body_malformed";
    case ResultCode::kWrongChainId: return "wrong_chain_id";
    case ResultCode::kBadSignerKey: return "bad_signer_key";
    case ResultCode::kBadSignature: return "bad_signature";
    case ResultCode::kNoOps: return "no_ops";
    case ResultCode::kTooManyOps: return "too_many_ops";
    case ResultCode::kInvalidOp: return "invalid_op";
    case ResultCode::kInvalidAddress: return "invalid_address";
    case ResultCode::kInvalidAmount: return "invalid_amount";
    case ResultCode::kInvalidDenom: return "invalid_denom";
    case ResultCode::kInvalidFee: return "invalid_fee";
    case ResultCode::kMemoTooLong: return "memo_too_long";
    case ResultCode::kGasLimitTooLow: return "gas_limit_too_low";
    case ResultCode::kGasLimitTooHigh: return "gas_limit_too_high";

    case ResultCode::kNonceTooLow: return "nonce_too_low";
    case ResultCode::kNonceTooHigh: return "nonce_too_high";
    case ResultCode::kInsufficientFee: return "insufficient_fee";
    case ResultCode::kExpired: return "expired";
    case ResultCode::kFeeUnpayable: return "fee_unpayable";

    case ResultCode::kInsufficientFunds: return "insufficient_funds";
    case ResultCode::kOutOfGas: return "out_of_gas";
    case ResultCode::kAmountOverflow: return "amount_overflow";

    case ResultCode::kSupplyNotConserved: return "supply_not_conserved";

    case ResultCode::kMempoolFull: return "mempool_full";
    case ResultCode::kAlreadyInMempool: return "already_in_mempool";
    case ResultCode::kAlreadyCommitted: return "already_committed";
  }
  return "unknown";
}

}  // namespace automata::execution
