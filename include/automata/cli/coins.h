// Amounts as the CLI takes them: an integer followed by a denom ("1000atm",
// "5token/abc"), several separated by commas.
#pragma once

#include "automata/types/amount.h"
#include "automata/types/status.h"

#include <string>
#include <string_view>
#include <vector>

namespace automata::cli {

struct Coin {
  std::string denom;
  Amount amount = 0;

  bool operator==(const Coin&) const = default;
};

// Checks a denom: 3 to 128 characters, a lowercase letter first, then
// lowercase letters, digits, '/', '.', '_' or '-'. Returns an empty string
// when valid, else the rule it breaks.
// NOTE: the node's bank module is the authority on denoms; this check only
// catches typing mistakes before a tx is signed.
std::string check_denom(std::string_view denom);

// Parses one "<integer><denom>" amount. Leading zeros are accepted and the
// integer must be at most 2^128 - 1. Zero is rejected unless allow_zero.
// Returns invalid_argument naming the text and the rule on failure.
Status parse_coin(std::string_view text, Coin* out, bool allow_zero = false);

// Parses "<coin>[,<coin>...]" and sorts the result by denom. Rejects an empty
// list and a denom given twice.
Status parse_coins(std::string_view text, std::vector<Coin>* out);

// "1000atm,5token/abc".
std::string format_coins(const std::vector<Coin>& coins);

}  // namespace automata::cli
