#include "automata/cli/coins.h"

#include <gtest/gtest.h>

namespace automata::cli {
namespace {

TEST(ParseCoin, AcceptsTable) {
  struct Case {
    std::string text;
    std::string denom;
    std::string amount;  // decimal, written out independently of the parser
  };
  const std::vector<Case> cases = {
      {"1000atm", "atm", "1000"},
      {"1atm", "atm", "1"},
      {"5token/abc", "token/abc", "5"},
      {"007atm", "atm", "7"},
      {"42lp/pool-1.a_b", "lp/pool-1.a_b", "42"},
      {"340282366920938463463374607431768211455atm", "atm", "340282366920938463463374607431768211455"},
  };
  for (const auto& c : cases) {
    Coin coin;
    Status s = parse_coin(c.text, &coin);
    ASSERT_TRUE(s.is_ok()) << c.text << ": " << s.message();
    EXPECT_EQ(coin.denom, c.denom) << c.text;
    EXPECT_EQ(amount_to_string(coin.amount), c.amount) << c.text;
  }
}

TEST(ParseCoin, RejectsTable) {
  struct Case {
    std::string text;
    std::string rule;  // a phrase the message must contain
  };
  const std::vector<Case> cases = {
      {"10.5atm", "expected an integer followed by a denom"},
      {"atm", "expected an integer followed by a denom"},
      {"1000", "expected an integer followed by a denom"},
      {"", "expected an integer followed by a denom"},
      {"-5atm", "expected an integer followed by a denom"},
      {" 5atm", "expected an integer followed by a denom"},
      {"0atm", "greater than zero"},
      {"340282366920938463463374607431768211456atm", "exceeds 2^128 - 1"},
      {"99999999999999999999999999999999999999999999atm", "exceeds 2^128 - 1"},
      {"5Atm", "must start with a lowercase letter"},
      {"5ATM", "must start with a lowercase letter"},
      {"5/abc", "must start with a lowercase letter"},
      {"5at", "3 to 128 characters"},
      {"5" + std::string(129, 'a'), "3 to 128 characters"},
      {"5atm!", "may contain only"},
      {"5at m", "may contain only"},
      {"5tokEn", "may contain only"},
  };
  for (const auto& c : cases) {
    Coin coin;
    Status s = parse_coin(c.text, &coin);
    EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument) << c.text;
    EXPECT_NE(s.message().find("invalid amount '" + c.text + "'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.rule), std::string::npos) << c.text << ": " << s.message();
  }
}

TEST(ParseCoin, ZeroAllowedWhenAsked) {
  Coin coin;
  ASSERT_TRUE(parse_coin("0atm", &coin, /*allow_zero=*/true).is_ok());
  EXPECT_EQ(coin.amount, Amount{0});
  ASSERT_TRUE(parse_coin("000atm", &coin, /*allow_zero=*/true).is_ok());
  EXPECT_EQ(coin.amount, Amount{0});
}

TEST(ParseCoins, SortsByDenom) {
  std::vector<Coin> coins;
  ASSERT_TRUE(parse_coins("5zeta,10atm,3beta/x", &coins).is_ok());
  ASSERT_EQ(coins.size(), 3u);
  EXPECT_EQ(coins[0].denom, "atm");
  EXPECT_EQ(coins[1].denom, "beta/x");
  EXPECT_EQ(coins[2].denom, "zeta");
  EXPECT_EQ(format_coins(coins), "10atm,3beta/x,5zeta");
}

TEST(ParseCoins, RejectsTable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "expected an integer followed by a denom"},
      {"5atm,", "expected an integer followed by a denom"},
      {",5atm", "expected an integer followed by a denom"},
      {"5atm,,6atm", "expected an integer followed by a denom"},
      {"5atm,6atm", "denom 'atm' appears more than once"},
      {"5atm,1.5abc", "expected an integer followed by a denom"},
  };
  for (const auto& [text, rule] : cases) {
    std::vector<Coin> coins;
    Status s = parse_coins(text, &coins);
    EXPECT_EQ(s.kind(), Status::Kind::kInvalidArgument) << text;
    EXPECT_NE(s.message().find(rule), std::string::npos) << text << ": " << s.message();
  }
}

TEST(CheckDenom, Boundaries) {
  EXPECT_EQ(check_denom("abc"), "");
  EXPECT_EQ(check_denom(std::string(128, 'a')), "");
  EXPECT_NE(check_denom("ab"), "");
  EXPECT_NE(check_denom(std::string(129, 'a')), "");
  EXPECT_NE(check_denom("1abc"), "");
}

}  // namespace
}  // namespace automata::cli
