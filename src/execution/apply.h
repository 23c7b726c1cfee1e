// Stage 3, apply, and the stage 4 invariant check that follows it.
#pragma once

#include "automata/execution/overlay.h"
#include "automata/v1/block.pb.h"
#include "check.h"

#include <vector>

namespace automata::execution {

struct ApplyOutcome {
  ResultCode code = ResultCode::kOk;
  std::string log;
  uint64_t gas_used = 0;
  // Objects the ops created, in op order; empty unless code is kOk.
  std::vector<v1::CreatedObject> created;
};

// Applies a tx that passed check and precheck against block_state:
//  1. charges the fee to the fee collector, advances the nonce and sets the
//     signer's pubkey on first use; these stay even when an op fails;
//  2. runs the ops in order on an op overlay with a gas meter that starts
//     at the intrinsic gas; any failure discards every op's writes;
//  3. checks supply conservation and the object invariants over the tx's
//     writes. On a violation the op writes are discarded
//     (kSupplyNotConserved or kObjectInvariantViolated, logged at error);
//     if the fee step alone still violates one, the fee and nonce are
//     discarded too.
// Surviving writes are merged into block_state. A non-ok Status means the
// state could not be read and the block cannot be executed.
// height is the height of the block being executed.
Status apply_tx(const DecodedTx& tx, Overlay& block_state, uint64_t height, ApplyOutcome* outcome);

}  // namespace automata::execution
