// genesis.json: the JSON form of execution::Genesis.
//
//   {"chain_id": "automata-dev", "genesis_time_ms": 1700000000000,
//    "params": {"max_tx_bytes": 32768, ...},
//    "validators": [{"pubkey": "<64 hex>", "power": 1, "name": "node0"}],
//    "accounts": [{"address": "atm1...",
//                  "balances": [{"denom": "atm", "amount": "1000"}]}]}
//
// Amounts are decimal strings, addresses bech32m "atm1...", public keys hex.
// "params" and each of its keys may be omitted (defaults apply); every other
// key is required. // and /* */ comments are accepted.
#pragma once

#include "automata/execution/genesis.h"
#include "automata/types/status.h"

#include <string>

namespace automata::node {

// Parses genesis JSON text. Returns invalid_argument naming the source and
// the JSON path (e.g. "accounts[0].balances[1].amount") and the rule for a
// syntax error, a missing or unknown key, or a value of the wrong type.
// Does not run execution::validate_genesis.
Status parse_genesis(const std::string& text, const std::string& source, execution::Genesis* genesis);

// Reads and parses a genesis file, then checks it with validate_genesis.
Status load_genesis(const std::string& path, execution::Genesis* genesis);

// Pretty-printed JSON of genesis, accepted by parse_genesis.
std::string render_genesis(const execution::Genesis& genesis);

}  // namespace automata::node
