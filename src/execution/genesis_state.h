// The state a genesis describes, and the hash that ties a database to it.
#pragma once

#include "automata/execution/genesis.h"
#include "automata/state/state_tree.h"
#include "automata/v1/state.pb.h"

namespace automata::execution {

// The validator set in genesis order, as stored at keys::validators().
v1::ValidatorSet genesis_validator_set(const Genesis& genesis);

// The state at version 0: every account with its sorted balances, a supply
// record per denom, the chain parameters and the validator set.
// REQUIRES: validate_genesis(genesis) is empty.
state::ChangeSet genesis_state(const Genesis& genesis);

// SHA-256 over the chain id, the genesis time and every genesis state
// entry in key order, each length-prefixed. Stored on first open and
// compared on every later open.
Hash32 genesis_hash(const Genesis& genesis, const state::ChangeSet& state);

}  // namespace automata::execution
