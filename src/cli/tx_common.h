// Helpers shared by the commands that sign and submit txs (tx and code).
#pragma once

#include "automata/cli/rpc_client.h"
#include "automata/types/amount.h"
#include "automata/types/status.h"

#include <string>

namespace automata::cli {

// Parses a --fee value: an integer (taken as atm) or an integer plus "atm".
// Returns invalid_argument naming the value for any other text or denom.
Status parse_fee(const std::string& text, Amount* out);

// Describes a -32002 tx rejection from its data object (name, code, log).
std::string rejection_text(const RpcError& error);

}  // namespace automata::cli
