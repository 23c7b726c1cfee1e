// The bank's balance arithmetic and the supply invariant, on overlays over
// an in-memory state.
#include "automata/modules/bank/bank.h"
#include "automata/types/state_keys.h"
#include "automata/v1/state.pb.h"
#include "execution/invariants.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace automata::execution {
namespace {

using ::testing::HasSubstr;

class MapReader final : public StateReader {
 public:
  Status get(ByteView key, std::optional<Bytes>* value) override {
    auto it = values.find(Bytes(key.begin(), key.end()));
    *value = it == values.end() ? std::nullopt : std::optional<Bytes>(it->second);
    return Status::ok();
  }
  std::map<Bytes, Bytes> values;
};

Address address(uint8_t tag) {
  Address out{};
  out.fill(tag);
  return out;
}

v1::Account account_with(std::initializer_list<std::pair<const char*, Amount>> balances) {
  v1::Account account;
  std::string log;
  for (const auto& [denom, amount] : balances) {
    EXPECT_EQ(bank::credit(&account, denom, amount, &log), ResultCode::kOk) << log;
  }
  return account;
}

TEST(Bank, CreditKeepsDenomsSorted) {
  v1::Account account = account_with({{"zeta", 1}, {"atm", 2}, {"mid", 3}, {"beta", 4}});
  ASSERT_EQ(account.balances_size(), 4);
  EXPECT_EQ(account.balances(0).denom(), "atm");
  EXPECT_EQ(account.balances(1).denom(), "beta");
  EXPECT_EQ(account.balances(2).denom(), "mid");
  EXPECT_EQ(account.balances(3).denom(), "zeta");
}

TEST(Bank, DebitToZeroRemovesEntry) {
  v1::Account account = account_with({{"atm", 5}, {"gold", 7}});
  std::string log;
  ASSERT_EQ(bank::debit(&account, address(1), "atm", 5, &log), ResultCode::kOk);
  ASSERT_EQ(account.balances_size(), 1);
  EXPECT_EQ(account.balances(0).denom(), "gold");
  EXPECT_EQ(bank::debit(&account, address(1), "gold", 8, &log), ResultCode::kInsufficientFunds);
  EXPECT_THAT(log, HasSubstr("balance 7gold"));
  EXPECT_EQ(account.balances(0).amount(), "7");
}

TEST(Bank, CreditOverflowIsAnError) {
  v1::Account account = account_with({{"atm", kMaxAmount}});
  std::string log;
  EXPECT_EQ(bank::credit(&account, "atm", 1, &log), ResultCode::kAmountOverflow);
  EXPECT_THAT(log, HasSubstr("overflows"));
  EXPECT_EQ(account.balances(0).amount(), amount_to_string(kMaxAmount));
}

TEST(Bank, ValidDenoms) {
  const std::vector<std::string> good_denoms = {"atm", "gold", "lp/1/2", "a00", std::string(64, 'a')};
  for (const std::string& good : good_denoms) {
    EXPECT_TRUE(bank::is_valid_denom(good)) << good;
  }
  const std::vector<std::string> bad_denoms = {"", "at", "Atm", "9atm", "/atm", "at m", "atm-1", std::string(65, 'a')};
  for (const std::string& bad : bad_denoms) {
    EXPECT_FALSE(bank::is_valid_denom(bad)) << bad;
  }
}

TEST(Bank, StoreEmptyAccountDeletesKey) {
  MapReader base;
  Overlay overlay(&base);
  bank::store_account(overlay, address(3), v1::Account{});
  ASSERT_EQ(overlay.writes().size(), 1u);
  EXPECT_FALSE(overlay.writes().begin()->second.has_value());
}

TEST(Overlay, LayersReadThroughAndMerge) {
  MapReader base;
  base.values[to_bytes("a")] = to_bytes("1");
  Overlay block(&base);
  Overlay tx(&block);
  tx.put(to_bytes("a"), to_bytes("2"));
  tx.erase(to_bytes("b"));
  std::optional<Bytes> value;
  ASSERT_TRUE(block.get(as_view("a"), &value).is_ok());
  EXPECT_EQ(value, to_bytes("1"));
  ASSERT_TRUE(tx.get(as_view("a"), &value).is_ok());
  EXPECT_EQ(value, to_bytes("2"));
  tx.merge_into(&block);
  EXPECT_TRUE(tx.writes().empty());
  ASSERT_TRUE(block.get(as_view("a"), &value).is_ok());
  EXPECT_EQ(value, to_bytes("2"));
  ASSERT_EQ(block.writes().size(), 2u);
  EXPECT_FALSE(block.writes().at(to_bytes("b")).has_value());
}

class SupplyInvariant : public ::testing::Test {
 protected:
  void SetUp() override {
    base_.values[keys::account(address(1))] = to_bytes(account_with({{"atm", 100}, {"gold", 10}}).SerializeAsString());
    base_.values[keys::account(address(2))] = to_bytes(account_with({{"atm", 50}}).SerializeAsString());
  }

  StageResult check(Overlay& overlay) {
    StageResult result;
    Status status = check_supply_conserved(overlay, &result);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return result;
  }

  MapReader base_;
};

TEST_F(SupplyInvariant, AcceptsMovedCoins) {
  Overlay overlay(&base_);
  bank::store_account(overlay, address(1), account_with({{"atm", 70}, {"gold", 4}}));
  bank::store_account(overlay, address(2), account_with({{"atm", 60}}));
  bank::store_account(overlay, address(3), account_with({{"atm", 20}, {"gold", 6}}));
  EXPECT_TRUE(check(overlay).ok());
}

TEST_F(SupplyInvariant, RejectsMintedCoins) {
  Overlay overlay(&base_);
  bank::store_account(overlay, address(2), account_with({{"atm", 50}, {"gold", 1}}));
  StageResult result = check(overlay);
  EXPECT_EQ(result.code, ResultCode::kSupplyNotConserved);
  EXPECT_THAT(result.log, HasSubstr("denom 'gold' summed 0 before the tx and 1 after"));
}

TEST_F(SupplyInvariant, RejectsBurnedCoins) {
  Overlay overlay(&base_);
  overlay.erase(keys::account(address(2)));
  StageResult result = check(overlay);
  EXPECT_EQ(result.code, ResultCode::kSupplyNotConserved);
  EXPECT_THAT(result.log, HasSubstr("denom 'atm' summed 50 before the tx and 0 after"));
}

TEST_F(SupplyInvariant, RejectsChangedSupplyRecord) {
  Overlay overlay(&base_);
  overlay.put(keys::supply("atm"), to_bytes("1"));
  StageResult result = check(overlay);
  EXPECT_EQ(result.code, ResultCode::kSupplyNotConserved);
  EXPECT_THAT(result.log, HasSubstr("supply record of denom 'atm' changed"));
}

TEST(ResultCodes, NamesAreStable) {
  EXPECT_EQ(result_code_name(ResultCode::kOk), "ok");
  EXPECT_EQ(result_code_name(ResultCode::kNonceTooLow), "nonce_too_low");
  EXPECT_EQ(result_code_name(ResultCode::kSupplyNotConserved), "supply_not_conserved");
  EXPECT_EQ(result_code_name(static_cast<ResultCode>(999)), "unknown");
  for (uint32_t n = 0; n < 600; ++n) {
    auto name = result_code_name(static_cast<ResultCode>(n));
    if (name != "unknown") {
      EXPECT_FALSE(name.empty()) << n;
    }
  }
}

}  // namespace
}  // namespace automata::execution
