#include "automata/execution/genesis.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/sha256.h"
#include "automata/modules/bank/bank.h"
#include "automata/types/state_keys.h"
#include "genesis_state.h"

#include <fmt/format.h>

#include <map>
#include <set>

namespace automata::execution {

namespace {

bool is_valid_chain_id(const std::string& id) {
  if (id.empty() || id.size() > 50) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

void append_u64(crypto::Sha256& hasher, uint64_t value) {
  uint8_t big_endian[8];
  for (int i = 0; i < 8; ++i) big_endian[i] = static_cast<uint8_t>(value >> (56 - 8 * i));
  hasher.update(ByteView(big_endian, 8));
}

void append_length_prefixed(crypto::Sha256& hasher, ByteView bytes) {
  append_u64(hasher, bytes.size());
  hasher.update(bytes);
}

}  // namespace

std::string validate_genesis(const Genesis& genesis) {
  if (!is_valid_chain_id(genesis.chain_id)) {
    return fmt::format("chain_id '{}' must be 1-50 characters of [a-z0-9-]", genesis.chain_id);
  }
  bool any_power = false;
  for (size_t i = 0; i < genesis.validators.size(); ++i) {
    if (genesis.validators[i].power > 0) any_power = true;
  }
  if (!any_power) return "validators: at least one validator with power > 0 is required";
  if (genesis.params.max_tx_bytes == 0 || genesis.params.max_ops_per_tx == 0 || genesis.params.max_block_txs == 0) {
    return "params: max_tx_bytes, max_ops_per_tx and max_block_txs must be positive";
  }
  if (genesis.params.max_blob_bytes == 0 || genesis.params.max_files_per_version == 0 ||
      genesis.params.max_path_bytes == 0) {
    return "params: max_blob_bytes, max_files_per_version and max_path_bytes must be positive";
  }

  std::set<Address> seen;
  std::map<std::string, Amount> supply;
  for (size_t i = 0; i < genesis.accounts.size(); ++i) {
    const GenesisAccount& account = genesis.accounts[i];
    if (!seen.insert(account.address).second) {
      return fmt::format("accounts[{}]: address {} appears more than once", i,
                         crypto::encode_address(account.address));
    }
    std::set<std::string> denoms;
    for (const auto& [denom, amount] : account.balances) {
      if (!bank::is_valid_denom(denom)) {
        return fmt::format("accounts[{}]: denom '{}' does not match [a-z][a-z0-9/]{{2,63}}", i, denom);
      }
      if (!denoms.insert(denom).second) {
        return fmt::format("accounts[{}]: denom '{}' appears more than once", i, denom);
      }
      Amount& total = supply[denom];
      if (!checked_add(total, amount, total)) {
        return fmt::format("accounts[{}]: total supply of '{}' exceeds 2^128 - 1", i, denom);
      }
    }
  }
  return "";
}

v1::ValidatorSet genesis_validator_set(const Genesis& genesis) {
  v1::ValidatorSet set;
  for (const GenesisValidator& validator : genesis.validators) {
    v1::Validator* entry = set.add_validators();
    entry->set_pubkey(std::string(validator.pubkey.begin(), validator.pubkey.end()));
    entry->set_power(validator.power);
    entry->set_name(validator.name);
  }
  return set;
}

state::ChangeSet genesis_state(const Genesis& genesis) {
  state::ChangeSet state;
  std::map<std::string, Amount> supply;
  for (const GenesisAccount& entry : genesis.accounts) {
    std::map<std::string, Amount> sorted;
    for (const auto& [denom, amount] : entry.balances) {
      if (amount != 0) sorted[denom] = amount;
    }
    if (sorted.empty()) continue;
    v1::Account account;
    for (const auto& [denom, amount] : sorted) {
      v1::Coin* coin = account.add_balances();
      coin->set_denom(denom);
      coin->set_amount(amount_to_string(amount));
      supply[denom] += amount;  // validate_genesis proved no overflow
    }
    state[keys::account(entry.address)] = to_bytes(account.SerializeAsString());
  }
  for (const auto& [denom, amount] : supply) {
    state[keys::supply(denom)] = to_bytes(amount_to_string(amount));
  }

  v1::ChainParams params;
  params.set_max_tx_bytes(genesis.params.max_tx_bytes);
  params.set_max_block_txs(genesis.params.max_block_txs);
  params.set_max_block_bytes(genesis.params.max_block_bytes);
  params.set_min_gas_price(genesis.params.min_gas_price);
  params.set_max_ops_per_tx(genesis.params.max_ops_per_tx);
  // NOTE: v1.ChainParams has no max_gas_per_tx field and no code asset
  // bounds, so those parameters are covered only by the genesis hash, not
  // by the state root.
  state[keys::params()] = to_bytes(params.SerializeAsString());
  state[keys::validators()] = to_bytes(genesis_validator_set(genesis).SerializeAsString());
  return state;
}

Hash32 genesis_hash(const Genesis& genesis, const state::ChangeSet& state) {
  crypto::Sha256 hasher;
  append_length_prefixed(hasher, as_view(genesis.chain_id));
  append_u64(hasher, genesis.genesis_time_ms);
  append_u64(hasher, genesis.params.max_gas_per_tx);
  append_u64(hasher, genesis.params.max_blob_bytes);
  append_u64(hasher, genesis.params.max_files_per_version);
  append_u64(hasher, genesis.params.max_path_bytes);
  for (const auto& [key, value] : state) {
    append_length_prefixed(hasher, key);
    append_length_prefixed(hasher, value ? ByteView(*value) : ByteView());
  }
  return hasher.finish();
}

}  // namespace automata::execution
