// Stable transaction result codes. The number of a code never changes once
// released; new codes take unused numbers. Families:
//   0        ok
//   1xx      check (stateless): the tx is rejected, never included, no fee
//   2xx      precheck (read-only): rejected, or held by the mempool when the
//            nonce is in the future
//   3xx      apply: the tx is included as failed; fee and nonce are kept
//   4xx      invariant violation after apply: included as failed, changes
//            discarded, logged at error level
//   5xx      mempool admission (not a property of the tx itself)
#pragma once

#include <cstdint>
#include <string_view>

namespace automata::execution {

enum class ResultCode : uint32_t {
  kOk = 0,

  kTxTooLarge = 101,
  kTxMalformed = 102,
  kBodyMalformed = 103,
  kWrongChainId = 104,
  kBadSignerKey = 105,
  kBadSignature = 106,
  kNoOps = 107,
  kTooManyOps = 108,
  kInvalidOp = 109,
  kInvalidAddress = 110,
  kInvalidAmount = 111,
  kInvalidDenom = 112,
  kInvalidFee = 113,
  kMemoTooLong = 114,
  kGasLimitTooLow = 115,
  kGasLimitTooHigh = 116,
  kInvalidPath = 117,
  kBlobTooLarge = 118,
  kTooManyFiles = 119,

  kNonceTooLow = 201,
  kNonceTooHigh = 202,
  kInsufficientFee = 203,
  kExpired = 204,
  kFeeUnpayable = 205,

  kInsufficientFunds = 301,
  kOutOfGas = 302,
  kAmountOverflow = 303,
  kObjectNotFound = 310,
  kNotOwner = 311,
  kObjectWrapped = 312,
  kCompositionCycle = 313,
  kBranchProtected = 314,
  kBranchNotFound = 315,
  kBranchExists = 316,
  kHeadMismatch = 317,
  kBlobMissing = 318,
  kOfferMismatch = 319,
  kOfferExpired = 320,
  kNotReservedBuyer = 321,
  kRoyaltyExceedsPrice = 322,
  kNotReviewer = 323,
  kProposalClosed = 324,
  kLicenseNotAllowed = 325,
  kChangeTooLarge = 326,
  kWrongObjectKind = 327,
  kExpiryInPast = 328,
  kBranchNotProtected = 329,
  kNotTransferable = 330,
  kNotBurnable = 331,
  kNotMutable = 332,
  kNotStorageNode = 333,
  kWrongEpoch = 334,
  kNotPlaced = 335,
  kNoPendingKey = 336,
  kAlreadyExists = 337,
  kWrongRecipient = 338,
  kLeaseMismatch = 339,
  kContentMismatch = 340,

  kSupplyNotConserved = 401,
  kObjectInvariantViolated = 402,

  kMempoolFull = 501,
  kAlreadyInMempool = 502,
  kAlreadyCommitted = 503,
};

// Stable snake_case name of a code, e.g. "insufficient_funds"; "unknown"
// for a number no release has used.
std::string_view result_code_name(ResultCode code);

// True for codes that reject a tx before inclusion (1xx, 2xx, 5xx).
inline bool is_rejection(ResultCode code) {
  auto n = static_cast<uint32_t>(code);
  return (n >= 100 && n < 300) || n >= 500;
}

}  // namespace automata::execution
