#include "invariants.h"

#include "automata/modules/model/model.h"
#include "automata/modules/objects/object_invariants.h"
#include "automata/types/state_keys.h"
#include "automata/v1/state.pb.h"

#include <fmt/format.h>

#include <map>

namespace automata::execution {

namespace {

using DenomSums = std::map<std::string, Amount, std::less<>>;

// Adds the account's balances to sums. Returns false on a value that does
// not parse or a sum past 2^128 - 1, either of which breaks the invariant.
bool add_balances(const std::optional<Bytes>& value, DenomSums* sums, std::string* problem) {
  if (!value) return true;
  v1::Account account;
  if (!account.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    *problem = "an account value does not parse as automata.v1.Account";
    return false;
  }
  for (const v1::Coin& coin : account.balances()) {
    auto amount = parse_amount(coin.amount());
    Amount& sum = (*sums)[coin.denom()];
    if (!amount || !checked_add(sum, *amount, sum)) {
      *problem = fmt::format("balance '{}{}' is not canonical or overflows the sum", coin.amount(), coin.denom());
      return false;
    }
  }
  return true;
}

}  // namespace

Status check_supply_conserved(Overlay& changes, StageResult* result) {
  *result = {};
  DenomSums before;
  DenomSums after;
  std::string problem;
  for (const auto& [key, value] : changes.writes()) {
    if (key.empty()) continue;
    std::optional<Bytes> previous;
    Status status = changes.parent()->get(key, &previous);
    if (!status.is_ok()) return status;

    if (key[0] == keys::kSupplyTag) {
      if (previous != value) {
        *result = {ResultCode::kSupplyNotConserved,
                   fmt::format("supply record of denom '{}' changed, but bank ops never mint or burn",
                               to_string(ByteView(key).subspan(1)))};
        return Status::ok();
      }
      continue;
    }
    if (key[0] != keys::kAccountTag) continue;
    if (!add_balances(previous, &before, &problem) || !add_balances(value, &after, &problem)) {
      *result = {ResultCode::kSupplyNotConserved, problem};
      return Status::ok();
    }
  }

  // Walk both ordered maps together; a denom missing on one side sums to 0.
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    std::string_view denom;
    Amount sum_before = 0;
    Amount sum_after = 0;
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      denom = b->first;
      sum_before = (b++)->second;
    } else if (b == before.end() || a->first < b->first) {
      denom = a->first;
      sum_after = (a++)->second;
    } else {
      denom = a->first;
      sum_before = (b++)->second;
      sum_after = (a++)->second;
    }
    if (sum_before != sum_after) {
      *result = {ResultCode::kSupplyNotConserved,
                 fmt::format("balances of denom '{}' summed {} before the tx and {} after", denom,
                             amount_to_string(sum_before), amount_to_string(sum_after))};
      return Status::ok();
    }
  }
  return Status::ok();
}

Status check_objects_consistent(Overlay& changes, StageResult* result) {
  *result = {};
  std::string problem;
  Status status = objects::check_object_invariants(changes, &problem);
  if (!status.is_ok()) return status;
  if (problem.empty()) {
    status = model::check_model_invariants(changes, &problem);
    if (!status.is_ok()) return status;
  }
  if (!problem.empty()) *result = {ResultCode::kObjectInvariantViolated, std::move(problem)};
  return Status::ok();
}

}  // namespace automata::execution
