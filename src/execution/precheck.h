// Stage 2, precheck: read-only checks of a checked tx against a state.
// A failure rejects the tx; the mempool may hold one whose nonce is in the
// future (kNonceTooHigh).
#pragma once

#include "automata/execution/overlay.h"
#include "check.h"

namespace automata::execution {

// Checks, in order: nonce == the account's next nonce (kNonceTooLow,
// kNonceTooHigh), expiry_height (0 = none) >= height (kExpired), fee >=
// gas_limit * min_gas_price (kInsufficientFee), and the atm balance covers
// the fee (kFeeUnpayable). expected_nonce receives the account's next
// nonce. A non-ok Status means the state could not be read.
Status precheck_tx(const DecodedTx& tx, StateReader& state, uint64_t height, const ChainParameters& params,
                   StageResult* result, uint64_t* expected_nonce);

}  // namespace automata::execution
