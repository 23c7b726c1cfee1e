#include "automata/types/amount.h"

#include <algorithm>

namespace automata {

std::optional<Amount> parse_amount(std::string_view text) {
  if (text.empty() || text.size() > 39) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  Amount value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    Amount digit = static_cast<Amount>(c - '0');
    if (value > (kMaxAmount - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string amount_to_string(Amount value) {
  if (value == 0) return "0";
  std::string out;
  while (value != 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace automata
