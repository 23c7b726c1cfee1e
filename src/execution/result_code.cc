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
    case ResultCode::kInvalidPath: return "invalid_path";
    case ResultCode::kBlobTooLarge: return "blob_too_large";
    case ResultCode::kTooManyFiles: return "too_many_files";

    case ResultCode::kNonceTooLow: return "nonce_too_low";
    case ResultCode::kNonceTooHigh: return "nonce_too_high";
    case ResultCode::kInsufficientFee: return "insufficient_fee";
    case ResultCode::kExpired: return "expired";
    case ResultCode::kFeeUnpayable: return "fee_unpayable";

    case ResultCode::kInsufficientFunds: return "insufficient_funds";
    case ResultCode::kOutOfGas: return "out_of_gas";
    case ResultCode::kAmountOverflow: return "amount_overflow";
    case ResultCode::kObjectNotFound: return "object_not_found";
    case ResultCode::kNotOwner: return "not_owner";
    case ResultCode::kObjectWrapped: return "object_wrapped";
    case ResultCode::kCompositionCycle: return "composition_cycle";
    case ResultCode::kBranchProtected: return "branch_protected";
    case ResultCode::kBranchNotFound: return "branch_not_found";
    case ResultCode::kBranchExists: return "branch_exists";
    case ResultCode::kHeadMismatch: return "head_mismatch";
    case ResultCode::kBlobMissing: return "blob_missing";
    case ResultCode::kOfferMismatch: return "offer_mismatch";
    case ResultCode::kOfferExpired: return "offer_expired";
    case ResultCode::kNotReservedBuyer: return "not_reserved_buyer";
    case ResultCode::kRoyaltyExceedsPrice: return "royalty_exceeds_price";
    case ResultCode::kNotReviewer: return "not_reviewer";
    case ResultCode::kProposalClosed: return "proposal_closed";
    case ResultCode::kLicenseNotAllowed: return "license_not_allowed";
    case ResultCode::kChangeTooLarge: return "change_too_large";
    case ResultCode::kWrongObjectKind: return "wrong_object_kind";
    case ResultCode::kExpiryInPast: return "expiry_in_past";
    case ResultCode::kBranchNotProtected: return "branch_not_protected";
    case ResultCode::kNotTransferable: return "not_transferable";
    case ResultCode::kNotBurnable: return "not_burnable";
    case ResultCode::kNotMutable: return "not_mutable";
    case ResultCode::kNotStorageNode: return "not_storage_node";
    case ResultCode::kWrongEpoch: return "wrong_epoch";
    case ResultCode::kNotPlaced: return "not_placed";
    case ResultCode::kNoPendingKey: return "no_pending_key";
    case ResultCode::kAlreadyExists: return "already_exists";
    case ResultCode::kWrongRecipient: return "wrong_recipient";
    case ResultCode::kLeaseMismatch: return "lease_mismatch";
    case ResultCode::kContentMismatch: return "content_mismatch";

    case ResultCode::kSupplyNotConserved: return "supply_not_conserved";
    case ResultCode::kObjectInvariantViolated: return "object_invariant_violated";

    case ResultCode::kMempoolFull: return "mempool_full";
    case ResultCode::kAlreadyInMempool: return "already_in_mempool";
    case ResultCode::kAlreadyCommitted: return "already_committed";
  }
  return "unknown";
}

}  // namespace automata::execution
