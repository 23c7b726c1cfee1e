#include "automata/cli/coins.h"

#include <algorithm>

namespace automata::cli {

namespace {

constexpr size_t kMinDenomLength = 3;
constexpr size_t kMaxDenomLength = 128;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

Status invalid_amount(std::string_view text, const std::string& rule) {
  return Status::invalid_argument("invalid amount '" + std::string(text) + "': " + rule);
}

}  // namespace

std::string check_denom(std::string_view denom) {
  if (denom.size() < kMinDenomLength || denom.size() > kMaxDenomLength) {
    return "denom '" + std::string(denom) + "' must be 3 to 128 characters long";
  }
  if (!is_lower(denom[0])) return "denom '" + std::string(denom) + "' must start with a lowercase letter";
  for (char c : denom) {
    if (!is_lower(c) && !is_digit(c) && c != '/' && c != '.' && c != '_' && c != '-') {
      return "denom '" + std::string(denom) + "' may contain only a-z, 0-9, '/', '.', '_' and '-'";
    }
  }
  return "";
}

Status parse_coin(std::string_view text, Coin* out, bool allow_zero) {
  size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  if (digits == 0 || digits == text.size() || text[digits] == '.' || text[digits] == ',') {
    return invalid_amount(text, "expected an integer followed by a denom");
  }
  std::string_view integer = text.substr(0, digits);
  std::string_view denom = text.substr(digits);

  // Leading zeros are harmless on the command line; the canonical decimal
  // form that goes into the tx has none.
  size_t first_nonzero = integer.find_first_not_of('0');
  std::string_view canonical = first_nonzero == std::string_view::npos ? "0" : integer.substr(first_nonzero);
  auto amount = parse_amount(canonical);
  if (!amount) return invalid_amount(text, "the integer exceeds 2^128 - 1");
  if (*amount == 0 && !allow_zero) return invalid_amount(text, "the amount must be greater than zero");

  std::string denom_error = check_denom(denom);
  if (!denom_error.empty()) return invalid_amount(text, denom_error);

  out->denom = std::string(denom);
  out->amount = *amount;
  return Status::ok();
}

Status parse_coins(std::string_view text, std::vector<Coin>* out) {
  out->clear();
  if (text.empty()) return invalid_amount(text, "expected an integer followed by a denom");
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    Coin coin;
    Status s = parse_coin(part, &coin);
    if (!s.is_ok()) return s;
    out->push_back(std::move(coin));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(out->begin(), out->end(), [](const Coin& a, const Coin& b) { return a.denom < b.denom; });
  for (size_t i = 1; i < out->size(); ++i) {
    if ((*out)[i].denom == (*out)[i - 1].denom) {
      return invalid_amount(text, "denom '" + (*out)[i].denom + "' appears more than once");
    }
  }
  return Status::ok();
}

std::string format_coins(const std::vector<Coin>& coins) {
  std::string out;
  for (const auto& coin : coins) {
    if (!out.empty()) out += ',';
    out += amount_to_string(coin.amount) + coin.denom;
  }
  return out;
}

}  // namespace automata::cli
