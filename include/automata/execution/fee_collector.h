// The account that receives every tx fee.
#pragma once

#include "automata/types/bytes.h"

#include <string_view>

namespace automata::execution {

// Its address is the first 20 bytes of SHA-256 of this string, so no one
// holds its key.
inline constexpr std::string_view kFeeCollectorSeed = "automata/fee_collector";

// The fee collector's address (computed once, then cached).
const Address& fee_collector_address();

}  // namespace automata::execution
