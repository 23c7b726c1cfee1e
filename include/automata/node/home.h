// The node home directory:
//   DIR/config.toml         node settings (see config.h)
//   DIR/genesis.json        the chain's initial state (see genesis_file.h)
//   DIR/validator_key.json  the key that signs blocks, mode 0600
//   DIR/node_key.json       the P2P identity key, mode 0600
//   DIR/data/               RocksDB of the chain
//   DIR/consensus/          signer state, WAL and decided blocks (see
//                           consensus_driver.h)
#pragma once

#include "automata/crypto/keys.h"
#include "automata/execution/genesis.h"
#include "automata/node/config.h"
#include "automata/types/status.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace automata::node {

struct HomePaths {
  std::string root;
  std::string config;
  std::string genesis;
  std::string validator_key;
  std::string node_key;
  std::string data;
  std::string consensus;

  static HomePaths of(const std::string& dir);
};

struct InitOptions {
  std::string home;
  std::string chain_id = "automata-local";
  std::string moniker = "node0";
  // Overwrite an initialized home; its data directory is deleted, since a
  // chain database belongs to one genesis.
  bool force = false;
  std::vector<execution::GenesisAccount> funded;  // genesis balances
  uint64_t genesis_time_ms = 0;                   // 0: the current time
  NodeConfig config;
};

// True when DIR/config.toml exists.
bool home_initialized(const std::string& dir);

// Writes every file of a new home with a fresh validator key that is the
// only validator (power 1) in genesis. Returns invalid_argument when the
// home is already initialized and force is false, or when the resulting
// genesis fails validate_genesis. Returns io_error naming the path when a
// write fails. On success validator_key (when non-null) receives the key.
Status init_home(const InitOptions& options, std::optional<crypto::PrivateKey>* validator_key = nullptr);

// Deletes the files and the data directory init_home writes, and nothing
// else in dir.
Status remove_home_files(const std::string& dir);

// Key files: {"type":"bip340-secp256k1","secret_key":"hex","pubkey":"hex",
// "address":"atm1..."}, written with mode 0600.
Status write_key_file(const std::string& path, const crypto::PrivateKey& key);
Status read_key_file(const std::string& path, std::optional<crypto::PrivateKey>* key);

// Parses a --fund value "ADDRESS=AMOUNT", where AMOUNT is a decimal number
// of atm with an optional "atm" suffix, and merges it into accounts.
// Returns invalid_argument naming the text and the rule.
Status add_fund_flag(std::string_view text, std::vector<execution::GenesisAccount>* accounts);

}  // namespace automata::node
