#include "automata/types/amount.h"
#include "automata/types/bytes.h"

#include <gtest/gtest.h>

namespace automata {
namespace {

TEST(Amount, ParsesCanonicalDecimal) {
  EXPECT_EQ(parse_amount("0"), Amount{0});
  EXPECT_EQ(parse_amount("1000000"), Amount{1000000});
  auto max = parse_amount("340282366920938463463374607431768211455");
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(*max, kMaxAmount);
}

TEST(Amount, RejectsNonCanonicalText) {
  for (const char* bad : {"", "-1", "+1", "01", "00", "1e3", "1.5", " 1", "1 ",
                          "340282366920938463463374607431768211456", "0x10"}) {
    EXPECT_FALSE(parse_amount(bad).has_value()) << "accepted: '" << bad << "'";
  }
}

TEST(Amount, RoundTripsThroughText) {
  for (Amount v : {Amount{0}, Amount{7}, Amount{1} << 64, kMaxAmount, kMaxAmount - 1}) {
    auto text = amount_to_string(v);
    auto back = parse_amount(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, v) << text;
  }
}

TEST(Amount, CheckedMathDetectsOverflow) {
  Amount out = 5;
  EXPECT_FALSE(checked_add(kMaxAmount, 1, out));
  EXPECT_EQ(out, Amount{5});
  EXPECT_TRUE(checked_add(kMaxAmount - 1, 1, out));
  EXPECT_EQ(out, kMaxAmount);
  EXPECT_FALSE(checked_sub(1, 2, out));
  EXPECT_TRUE(checked_sub(2, 2, out));
  EXPECT_EQ(out, Amount{0});
  EXPECT_FALSE(checked_mul(Amount{1} << 64, Amount{1} << 64, out));
  EXPECT_TRUE(checked_mul(Amount{1} << 63, 2, out));
  EXPECT_EQ(out, Amount{1} << 64);
}

TEST(Hex, RoundTripAndRejects) {
  Bytes data{0x00, 0xab, 0xff, 0x10};
  EXPECT_EQ(to_hex(data), "00abff10");
  EXPECT_EQ(from_hex("00ABff10"), data);
  EXPECT_EQ(from_hex("0x00abff10"), data);
  EXPECT_FALSE(from_hex("abc").has_value());
  EXPECT_FALSE(from_hex("zz").has_value());
}

}  // namespace
}  // namespace automata
