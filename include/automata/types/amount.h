// Token amounts: unsigned 128-bit integers, decimal strings at the edges.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace automata {

// __extension__ keeps -Wpedantic quiet about the GCC and Clang 128-bit type.
__extension__ typedef unsigned __int128 Amount;

inline constexpr Amount kMaxAmount = ~Amount{0};

// Parses a canonical decimal amount: digits only, no sign, no leading zero
// unless the value is "0", at most 2^128 - 1. Returns nullopt otherwise, so
// one value has exactly one encoding in signed bytes.
std::optional<Amount> parse_amount(std::string_view text);

// Decimal text of the amount, canonical as parse_amount requires.
std::string amount_to_string(Amount value);

// Checked arithmetic: return false (and leave out untouched) on overflow or
// underflow instead of wrapping.
inline bool checked_add(Amount a, Amount b, Amount& out) {
  if (a > kMaxAmount - b) return false;
  out = a + b;
  return true;
}
inline bool checked_sub(Amount a, Amount b, Amount& out) {
  if (b > a) return false;
  out = a - b;
  return true;
}
inline bool checked_mul(Amount a, Amount b, Amount& out) {
  if (a != 0 && b > kMaxAmount / a) return false;
  out = a * b;
  return true;
}

}  // namespace automata
