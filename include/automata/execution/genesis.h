// The initial state of a chain, as read from genesis.json by the node.
#pragma once

#include "automata/types/amount.h"
#include "automata/types/bytes.h"

#include <string>
#include <utility>
#include <vector>

namespace automata::execution {

// The native denom that pays fees.
inline constexpr const char* kNativeDenom = "atm";

struct ChainParameters {
  // 1 MiB, so one tx can carry several blobs of max_blob_bytes.
  uint64_t max_tx_bytes = 1024 * 1024;
  uint64_t max_block_txs = 20000;
  uint64_t max_block_bytes = 16 * 1024 * 1024;
  uint64_t min_gas_price = 1;     // atm per unit of gas
  uint64_t max_ops_per_tx = 64;
  // NOTE: at 10 gas per tx byte this caps a tx near 1,000,000 bytes, a
  // little below max_tx_bytes, and an upload of new blobs (4 more gas per
  // byte) near 700 KB.
  uint64_t max_gas_per_tx = 10'000'000;
  // Bounds on code assets (docs/code-assets.md).
  uint64_t max_blob_bytes = 256 * 1024;
  uint64_t max_files_per_version = 10'000;
  uint64_t max_path_bytes = 512;
};

struct GenesisValidator {
  std::array<uint8_t, 32> pubkey{};  // x-only BIP-340 key
  uint64_t power = 1;
  std::string name;
};

struct GenesisAccount {
  Address address{};
  std::vector<std::pair<std::string, Amount>> balances;  // denom, amount
};

struct Genesis {
  std::string chain_id;
  uint64_t genesis_time_ms = 0;
  ChainParameters params;
  std::vector<GenesisValidator> validators;
  std::vector<GenesisAccount> accounts;
};

// Checks chain id shape (1-50 chars of [a-z0-9-]), at least one validator
// with power > 0, no duplicate account, canonical denoms, and total supply
// per denom within 2^128 - 1. Returns an empty string when valid, else a
// message naming the field and the rule.
std::string validate_genesis(const Genesis& genesis);

}  // namespace automata::execution
